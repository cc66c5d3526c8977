"""Prepare the next release: the version the changes since the last tag call for, written
wherever the version appears, with the changelog entry drafted from the diff.

The package is validated first: a row misread from a broken file would be drafted as a
change. The previous release is the latest ``vX.Y.Z`` tag; the bump due follows
compare.py's rules (major, minor, patch). A version set by hand is kept when it is at
least the one due; a lower one, or no change at all since the tag, is refused. The
release-time docs (the README's counts, the timeline) are made with the new version, so
that they describe the package as it is about to be released, and only once every file
is made is any written. Before the first tag,
an unedited draft of the first release's entry, from an earlier state of the package, is
drafted again; an edited one is the maintainer's and is kept.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import about, changelog
from .errors import ReleaseError, not_valid_first
from .files import inside, read_regular, regular_or_absent, write_atomic
from .history import latest_tag, version_key
from .package import descriptor_path
from .text import NotUTF8, utf8

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
CHANGELOG = "CHANGELOG.md"
PYPROJECT = "pyproject.toml"
README = "README.md"


class NothingToRelease(ReleaseError):
    """Nothing changed since the latest tag: a bump is refused, and a check says so."""


@dataclass
class Bump:
    """What ``make bump`` found due, and what it wrote."""

    tag: str | None
    """The previous release's tag; None before the first release."""
    level: str
    """``major``, ``minor`` or ``patch``; ``first`` for the first release."""
    previous: str | None
    """The version at that tag."""
    version: str
    """The version of the release being prepared."""
    entry: str
    """Its CHANGELOG.md section."""
    replaces: str | None = None
    """Before the first release: the earlier draft of its entry that ``entry`` replaces."""
    written: list[Path] = field(default_factory=list)


def _next(version: str, level: str) -> str:
    major, minor, patch = version_key(version)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def plan(descriptor: str | Path = "datapackage.json") -> Bump:
    """The bump due for the working package against the latest tag; nothing is written.
    Raises ``ReleaseError`` when the package is not valid (a misread row would be drafted
    as a change), when there is nothing to release or when the version set is too low."""
    from .compare import changelog_entry, diff, initial_entry, is_initial_draft

    path = descriptor_path(descriptor)
    _refuse_invalid(path)
    try:
        current = json.loads(_read(path)).get("version")
    except (ValueError, AttributeError) as exc:
        raise ReleaseError(f"cannot read the version in {path}: {exc}") from None
    if not isinstance(current, str) or not SEMVER.match(current):
        raise ReleaseError(f"{path}: version {current!r} is not MAJOR.MINOR.PATCH")
    root = path.parent
    notes = _read(root / CHANGELOG)
    tag = latest_tag(root)
    if tag is None:
        drafted, existing = initial_entry(path, current), changelog.entry(notes, current)
        if existing == drafted:
            raise ReleaseError(
                f"nothing to bump: no vX.Y.Z tag yet, and {CHANGELOG} already has the entry of the first "
                f"release {current}, as `make bump` drafts it from the package now: commit, then "
                f"`git tag -a v{current} -m \"guanxi {current}\"`, `make release` and `make verify`"
            )
        if existing is not None and not is_initial_draft(existing):
            raise ReleaseError(
                f"nothing to bump: no vX.Y.Z tag yet, and {CHANGELOG} already has the entry of the first "
                f"release {current}, not as `make bump` drafts it (edited, or with notes added); if it describes the "
                f"package, commit, then `git tag -a v{current} -m \"guanxi {current}\"` and `make release`; if not, "
                "delete it and run `make bump` again to draft it, and the docs, from the package as it is"
            )
        # an earlier draft, unedited, of a package that has changed since: drafted again
        return Bump(None, "first", None, current, drafted, replaces=existing)
    previous = tag[1:]
    result = diff(tag, path, repo=root)
    if result.bump == "none":
        raise NothingToRelease(f"nothing to release: the data, schemas and metadata are as they were at {tag}")
    due = _next(previous, result.bump)
    if current == previous:
        version = due
    elif version_key(current) < version_key(due):
        raise ReleaseError(
            f"{path.name} says {current}, lower than the {result.bump} bump due since {tag} ({due} at least): "
            f"set it to {due} or higher, or back to {previous} to let `make bump` choose"
        )
    else:
        version = current  # set by hand, at least what is due: the maintainer's choice stands
    if changelog.entry(notes, version):
        raise ReleaseError(
            f"{CHANGELOG} already has an entry for {version} (`make bump` ran already): review and commit it, "
            f"or undo it with `git checkout -- {CHANGELOG}` to draft it again"
        )
    return Bump(tag, result.bump, previous, version, changelog_entry(result, version))


def bump(descriptor: str | Path = "datapackage.json") -> Bump:
    """Write the version due into datapackage.json, pyproject.toml and CITATION.cff, put its
    entry at the top of CHANGELOG.md, and regenerate the docs that describe the release.

    The package is validated, then every file is made, then written: a refusal at any step
    writes nothing, and a write that fails puts back the files written before it."""
    from .docs import generated_docs

    path = descriptor_path(descriptor)
    result = plan(path)
    root = path.parent
    package = _with_version(_read(path), result.version)
    descriptor_data = json.loads(package)
    updates = {path: package.encode("utf-8")}
    updates[root / about.CITATION] = about.citation_cff(descriptor_data).encode("utf-8")
    notes = _read(root / CHANGELOG)
    if result.replaces is not None:
        notes = changelog.without_entry(notes, result.version)
    updates[root / CHANGELOG] = changelog.with_entry(notes, result.entry).encode("utf-8")
    if regular_or_absent_file(root / PYPROJECT):
        updates[root / PYPROJECT] = _pyproject_with_version(_read(root / PYPROJECT), result.version).encode("utf-8")
    docs = generated_docs(path, release=True, metadata=descriptor_data)
    readme = root / README
    if readme in docs:  # the docs rewrite other parts of it
        try:
            docs[readme] = about.readme_with_citation(docs[readme].decode("utf-8"), descriptor_data, README).encode()
        except about.MarkerError as exc:
            raise ReleaseError(str(exc)) from None
    result.written = _write_all(root, {**updates, **docs})
    return result


def describe(result: Bump) -> str:
    """What ``make bump`` says: the bump, what it wrote, and the next steps."""
    if result.tag is None:
        head = f"first release: {result.version} (no vX.Y.Z tag yet)"
        if result.replaces is not None:
            head += f"; its {CHANGELOG} entry, an unedited draft from an earlier state of the package, drafted again"
    else:
        head = f"{result.previous} -> {result.version}: a {result.level} bump is due since {result.tag}"
    if not result.written:
        return head
    lines = [head, "wrote " + ", ".join(str(p) for p in result.written)]
    lines.append(
        f"next: review the {CHANGELOG} entry, then `git commit -am 'Release {result.version}'`, "
        f"`git tag -a v{result.version} -m \"guanxi {result.version}\"`, `make release`, `make verify`, and push "
        "the branch and the tag, as the README's Cut a release says"
    )
    return "\n".join(lines)


def _refuse_invalid(path: Path) -> None:
    """Refuse a package the validator finds problems in, with its report and the first of them."""
    from .validation import validate

    problems = validate(path).problems
    if problems:
        raise ReleaseError(not_valid_first(problems), problems)


def regular_or_absent_file(file: Path) -> bool:
    """Whether ``file`` is a regular file (False when absent); a ``ReleaseError`` for a
    folder, pipe, device or socket in its place."""
    try:
        return regular_or_absent(file)
    except OSError as exc:
        raise ReleaseError(f"cannot read {file}: {exc.strerror or exc}") from None


def _read(file: Path) -> str:
    """A text file of the package, read as the other commands read files (a regular file,
    never blocking on a pipe); empty when absent."""
    try:
        return utf8(read_regular(file), file)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ReleaseError(f"cannot read {file}: {exc.strerror or exc}") from None
    except NotUTF8 as exc:
        raise ReleaseError(f"cannot read {exc}") from None


def _write_all(root: Path, contents: dict[Path, bytes]) -> list[Path]:
    """Write each file whose content differs from what it holds, each replaced whole; when a
    write fails, the files written before it are put back as they were. The files written."""
    before: dict[Path, bytes | None] = {}
    for file in contents:
        try:
            before[file] = read_regular(file) if regular_or_absent(file) else None
        except OSError as exc:
            raise ReleaseError(f"cannot read {file}: {exc.strerror or exc}") from None
    changed = [file for file, content in contents.items() if content != before[file]]
    written: list[Path] = []
    try:
        for file in changed:
            inside(root, file.parent).mkdir(parents=True, exist_ok=True)
            write_atomic(file, contents[file], root)
            written.append(file)
    except OSError as exc:
        for file in reversed(written):
            previous = before[file]
            with contextlib.suppress(OSError):
                write_atomic(file, previous, root) if previous is not None else file.unlink()
        raise ReleaseError(f"cannot write {exc.filename or file}: {exc.strerror or exc}; nothing was changed") from None
    return written


def _with_version(text: str, version: str) -> str:
    """The descriptor's text with its version replaced, its layout kept."""
    data = json.loads(text)
    wanted = {**data, "version": version}
    edited, count = re.subn(r'("version"\s*:\s*)"[^"\\]*"', rf'\g<1>"{version}"', text, count=1)
    if count and json.loads(edited) == wanted:
        return edited
    return json.dumps(wanted, ensure_ascii=False, indent=2) + "\n"


def _pyproject_with_version(text: str, version: str) -> str:
    """pyproject.toml with the version of its [project] table replaced."""
    start = re.search(r"^\[project\][ \t]*$", text, re.MULTILINE)
    if start is None:
        return text
    end = re.search(r"^\[", text[start.end() :], re.MULTILINE)
    stop = start.end() + end.start() if end else len(text)
    section = re.sub(r'^(version\s*=\s*)"[^"]*"', rf'\g<1>"{version}"', text[start.end() : stop], count=1, flags=re.M)
    return text[: start.end()] + section + text[stop:]
