"""Prepare the next release: the version the changes since the last tag call for, written
wherever the version appears, with the changelog entry drafted from the diff.

The previous release is the latest ``vX.Y.Z`` tag; the bump due follows compare.py's
rules (major, minor, patch). A version set by hand is kept when it is at least the one
due; a lower one, or no change at all since the tag, is refused before anything is
written. Then the release-time docs are regenerated (the README's counts, the timeline),
so that they describe the package as it is about to be released. Before the first tag,
an unedited draft of the first release's entry, from an earlier state of the package, is
drafted again; an edited one is the maintainer's and is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import about, changelog
from .errors import ReleaseError
from .files import write_atomic
from .history import latest_tag, version_key
from .package import descriptor_path

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
    Raises ``ReleaseError`` when there is nothing to release or the version set is too low."""
    from .compare import changelog_entry, diff, initial_entry, is_initial_draft

    path = descriptor_path(descriptor)
    try:
        current = json.loads(path.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError) as exc:
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
    entry at the top of CHANGELOG.md, and regenerate the docs that describe the release."""
    from .docs import CONTRIBUTING_PATH, DICTIONARY_PATH, README_PATH, TIMELINE_PATH, build_docs

    path = descriptor_path(descriptor)
    result = plan(path)
    root = path.parent
    text = path.read_text(encoding="utf-8")
    package = _with_version(text, result.version)
    descriptor_data = json.loads(package)
    updates = {path: package, root / about.CITATION: about.citation_cff(descriptor_data)}
    notes = _read(root / CHANGELOG)
    if result.replaces is not None:
        notes = changelog.without_entry(notes, result.version)
    updates[root / CHANGELOG] = changelog.with_entry(notes, result.entry)
    if (root / PYPROJECT).exists():
        updates[root / PYPROJECT] = _pyproject_with_version(_read(root / PYPROJECT), result.version)

    candidates = [*updates, *(root / p for p in (README_PATH, DICTIONARY_PATH, TIMELINE_PATH, CONTRIBUTING_PATH))]
    before = {file: file.read_bytes() if file.is_file() else None for file in candidates}
    for file, content in updates.items():
        _write(file, content)
    docs = build_docs(path, release=True)
    readme = root / README
    if readme.exists():  # after the docs, which rewrite other parts of the README
        _write(readme, about.readme_with_citation(_read(readme), descriptor_data))
    written = []
    for file in [*candidates, *docs]:
        if file not in written and file.is_file() and file.read_bytes() != before.get(file):
            written.append(file)
    result.written = written
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


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"cannot read {file}: {exc}") from None


def _write(file: Path, content: str) -> None:
    """Replace ``file`` whole or not at all."""
    try:
        write_atomic(file, content.encode("utf-8"), file.parent)
    except OSError as exc:
        raise ReleaseError(f"cannot write {file}: {exc.strerror or exc}") from None


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
