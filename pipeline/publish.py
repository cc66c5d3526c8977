"""Build, and verify, a versioned release: CSV, JSON and Parquet with checksums and a zip.

A release is one flat folder of files, each listed with its sha256 in SHA256SUMS (and the
data files in datapackage.json too), and the same files in ``guanxi-X.Y.Z.zip``: the
folder, the unpacked zip and the files downloaded one by one from a release page are the
same thing, and ``sha256sum -c SHA256SUMS`` passes in each. It stands alone: a short
README, CITATION.cff and the data licence travel with the data.

A release is built from a commit (a work tree with uncommitted changes is refused; a
version tagged on an earlier commit is built from its tag, by the tag's own code), is
reproducible (the same commit gives the same bytes: no wall-clock time inside; the one
timestamp comes from SOURCE_DATE_EPOCH or the data), atomic (built in a temporary folder
and renamed into place) and immutable (an existing version is never overwritten). Its
notes are the version's entry in the repository's CHANGELOG.md, as reviewed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ReleaseError, not_valid
from .files import ReleaseZip, file_sha256, read_regular
from .fmt import plan
from .history import differ_from_commit
from .package import (
    DuplicateKey,
    Package,
    descriptor_path,
    load_package,
    parse_json,
    path_problem,
    resolve_inside,
)
from .schema import boolean_values
from .tables import Table, release_tables
from .text import NotUTF8, escape_controls, utf8
from .validation import read_package, root_causes

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
ZIP_MODE = 0o644 << 16
FORMATS = ("csv", "json", "parquet")
MEDIATYPES = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet"}
DICTIONARY = "DATA-DICTIONARY.md"
CHANGES = "CHANGELOG.md"
SUMS = "SHA256SUMS"
MAX_VERIFIED_TEXT = 64 << 20  # the most a release descriptor or SHA256SUMS may hold
STAGING = ".staging-"  # a release is written into out/.staging-<version>-<random>/ first
README = "README.md"
DESCRIPTOR = "datapackage.json"
MAX_EPOCH = 4102444800  # 2100-01-01: a zip stores years up to 2107


def archive_name(version: str) -> str:
    return f"guanxi-{version}.zip"


def source_date_epoch() -> dt.datetime | None:
    """SOURCE_DATE_EPOCH as a UTC time; None when unset or empty; a ``ReleaseError`` when it
    is not a whole number of seconds from 1980 (the first year a zip can store) to 2100."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    if not epoch.isascii() or not epoch.isdigit() or not 315532800 <= int(epoch) < MAX_EPOCH:
        raise ReleaseError(
            f"SOURCE_DATE_EPOCH={epoch[:40]!r} is not a whole number of seconds since 1970 "
            "between 1980 and 2100; set it so (e.g. `git log -1 --format=%ct`) or unset it"
        )
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


def _sqlite(tables: list[Table], descriptor: dict) -> bytes:
    from .database import sqlite_bytes

    return sqlite_bytes(tables)


def _xlsx(tables: list[Table], descriptor: dict) -> bytes:
    from .workbook import workbook_bytes

    return workbook_bytes(tables, descriptor)


def _figures(tables: list[Table], descriptor: dict) -> bytes | None:
    from .figures import figures_png

    return figures_png(tables, descriptor)


class Bundle(NamedTuple):
    """A file that holds every published table at once; it is checksummed and described
    like every file of the release."""

    path: str
    name: str
    """Its name in the release's descriptor."""
    format: str
    mediatype: str
    title: str
    """What it holds, as its descriptor entry (and the release's README) says."""
    write: Callable[[list[Table], dict], bytes | None]
    """Its bytes from the tables and the release's descriptor metadata; None when the
    package has nothing for it."""


BUNDLES = (
    Bundle("guanxi.sqlite", "guanxi-sqlite", "sqlite", "application/vnd.sqlite3",
           "Every published table, with declared types, primary and foreign keys and column comments", _sqlite),
    Bundle("guanxi.xlsx", "guanxi-xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "Every published table as a sheet, after a README sheet (licence, citation)", _xlsx),
    Bundle("figures.png", "figures-chart", "png", "image/png",
           "Monthly actives and registered users per platform over time (log scale)", _figures),
)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def release_timestamp(typed_sources: object | None = None) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set, else the last day a source was read: never the clock."""
    epoch = source_date_epoch()
    if epoch is not None:
        return epoch
    if typed_sources is not None and len(typed_sources):
        last = max(typed_sources)
        return dt.datetime(last.year, last.month, last.day, tzinfo=dt.UTC)
    return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def csv_bytes(table: Table) -> bytes:
    """A published table as canonical CSV: the source's cells as they are, booleans as the
    schema's true and false values, dates as YYYY-MM-DD, empty for missing."""
    from .fmt import canonical_csv

    columns = []
    for spec in table.fields:
        column = table.rows.column(spec["name"])
        if spec.get("type") == "boolean":
            true, false = boolean_values(spec)
            values = ["" if v is None else true[0] if v else false[0] for v in column.to_pylist()]
        elif spec.get("type") == "year":  # four digits at least, as the lexical form has them
            values = ["" if v is None else ("-" if v < 0 else "") + f"{abs(v):04d}" for v in column.to_pylist()]
        else:
            values = ["" if v is None else str(_json_value(v)) for v in column.to_pylist()]
        columns.append(values)
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else []
    return canonical_csv([spec["name"] for spec in table.fields], rows)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):  # an integer beyond 64 bits: JSON numbers have no limit
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no token: Table Schema's words
        return "NaN" if value != value else ("INF" if value > 0 else "-INF")
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def json_records(table: pa.Table) -> bytes:
    """An array of records, one per line: UTF-8, ISO dates, null for missing, numbers as numbers."""
    names = table.column_names
    columns = [table.column(n).to_pylist() for n in names]
    lines = [
        json.dumps(dict(zip(names, (_json_value(v) for v in row), strict=True)), ensure_ascii=False)
        for row in zip(*columns, strict=True)
    ]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", use_dictionary=True, write_statistics=True)
    return sink.getvalue()


def _file_entry(name: str, path: str, content: bytes, **extra: object) -> dict:
    return {"name": name, "path": path, **extra, "bytes": len(content), "hash": f"sha256:{sha256(content)}"}


def release_files(package: Package, version: str, changes: str) -> dict[str, bytes]:
    """Every file of the release by name, the descriptor included (no zip, no sums)."""
    from .about import CITATION, LICENSE_TEXT, citation_cff, release_readme
    from .docs import dictionary_markdown

    tables: dict = {}
    frames, problems = read_package(package, tables)
    if problems:  # reported as validate reports them: each mistake once, at its cause
        problems = root_causes(package, problems, frames)
        raise ReleaseError(not_valid(problems), problems)
    _, problems = plan(package, tables)  # the tables validated, not a second read
    if problems:
        raise ReleaseError(not_valid(problems), problems)
    _refuse_changed_since_commit(package, tables, changes)
    files: dict[str, bytes] = {}
    resources: list[dict] = []
    tables = release_tables(package, frames)
    for table in tables:
        outputs = {"csv": csv_bytes(table), "json": json_records(table.rows), "parquet": parquet_bytes(table.rows)}
        for fmt, content in outputs.items():
            path = f"{table.name}.{fmt}"
            files[path] = content
            name = table.name if fmt == "csv" else f"{table.name}-{fmt}"
            # CSV and JSON carry the schema; Parquet carries its own types and is described as a file.
            extra: dict = {**table.meta, "format": fmt, "mediatype": MEDIATYPES[fmt]}
            extra |= {"type": "file"} if fmt == "parquet" else {"encoding": "utf-8", "schema": table.schema}
            resources.append(_file_entry(name, path, content, **extra))
    accessed = frames["sources"]["accessed"].dropna() if "sources" in frames else None
    when = release_timestamp([dt.date.fromisoformat(v) for v in accessed.astype(str)] if accessed is not None else None)
    meta = {k: v for k, v in package.descriptor.items() if k != "resources"}
    meta["version"] = version
    meta["created"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    for bundle in BUNDLES:
        content = bundle.write(tables, meta)
        if content is None:
            continue
        files[bundle.path] = content
        resources.append(_file_entry(
            bundle.name, bundle.path, content,
            title=bundle.title, type="file", format=bundle.format, mediatype=bundle.mediatype,
        ))
    files[DICTIONARY] = dictionary_markdown(package).encode("utf-8")
    files[CHANGES] = changes.encode("utf-8")
    documents = (
        (DICTIONARY, "The data dictionary: every field of every table, its type, constraints and meaning"),
        (CHANGES, "What changed in each release, this one's entry first"),
    )
    for path, title in documents:
        name, content = path.split(".")[0].lower(), files[path]
        resources.append(
            _file_entry(name, path, content, title=title, format="md", mediatype="text/markdown", encoding="utf-8")
        )
    _refuse_collisions(resources)
    meta["resources"] = resources
    files[DESCRIPTOR] = (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    # Beside the data, not in the descriptor (the README lists the descriptor's files):
    files[README] = release_readme(meta).encode("utf-8")
    files[CITATION] = citation_cff(meta).encode("utf-8")
    licence = package.root / LICENSE_TEXT
    if licence.is_file():
        files[LICENSE_TEXT] = licence.read_bytes()
    return files


def _refuse_changed_since_commit(package: Package, tables: dict, changes: str) -> None:
    """In a git work tree, the bytes validated and the notes read must be the commit's: a
    file changed after the check for uncommitted changes would otherwise be released (or
    quoted as the notes) as if committed."""
    root = package.root.resolve()
    read = {str(r.file.relative_to(root)): tables[r.name].data for r in package.resources if r.name in tables}
    read[CHANGES] = changes.encode("utf-8")
    changed = differ_from_commit(root, {path: data for path, data in read.items() if data is not None})
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise ReleaseError(
            f"{changed[0]}{more} changed while the release was being built: a release is built from a "
            "commit; nothing was written, build again once the tree is committed"
        )


def check_layout(names: list[str], version: str) -> None:
    """A release is one flat folder: every name a plain file name, none twice, none that the
    checksums or the archive take."""
    seen: set[str] = set()
    for name in names:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ReleaseError(f"release file {name!r}: a release is one flat folder of plain file names")
        if name in seen or name in (SUMS, archive_name(version)):
            raise ReleaseError(f"two files of the release would be named {name!r}")
        seen.add(name)


def sums_file(files: dict[str, bytes]) -> bytes:
    """``sha256sum -c`` format: digest, two spaces, path; sorted by path."""
    return "".join(f"{sha256(files[p])}  {p}\n" for p in sorted(files)).encode("utf-8")


def zip_bytes(files: dict[str, bytes], root: str, when: dt.datetime) -> bytes:
    """A zip whose bytes depend only on the files: sorted entries, fixed times and modes."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{root}/{path}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ZIP_MODE
            info.create_system = 3
            archive.writestr(info, files[path], compresslevel=9)
    return sink.getvalue()


def release_notes(root: Path, version: str) -> str:
    """The repository's CHANGELOG.md, which a release carries as it is; it must hold the
    entry of ``version``, the release's notes."""
    from .changelog import entry

    try:
        text = utf8(read_regular(root / CHANGES), CHANGES)  # as committed: no newline translated
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ReleaseError(f"cannot read {CHANGES}: {exc.strerror or exc}") from None
    except NotUTF8 as exc:
        raise ReleaseError(f"cannot read {exc}") from None
    if entry(text, version) is None:
        raise ReleaseError(f"{CHANGES} has no entry for {version} (a '## {version}' section): `make bump` drafts it")
    return text


def notes_of(descriptor: str | Path = DESCRIPTOR, version: str | None = None) -> str:
    """The CHANGELOG.md entry of ``version`` (the descriptor's by default): a release's notes."""
    from .changelog import entry

    path = descriptor_path(descriptor)
    if version is None:
        try:
            version = json.loads(utf8(read_regular(path), path))["version"]
        except OSError as exc:
            raise ReleaseError(f"cannot read the version in {path}: {exc.strerror or exc}") from None
        except NotUTF8 as exc:
            raise ReleaseError(f"cannot read the version in {exc}") from None
        except json.JSONDecodeError as exc:
            raise ReleaseError(f"cannot read the version in {path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
        except (ValueError, KeyError, TypeError):
            raise ReleaseError(f"cannot read the version in {path}: expected an object with a version") from None
    version = str(version)
    if re.fullmatch(r"v\d+\.\d+\.\d+", version):
        version = version[1:]  # the tag's name: the notes of the version it tags
    return entry(release_notes(path.parent, version), version) or ""


def tag_behind(root: Path, version: str) -> str | None:
    """The tag of ``version`` when it is on an earlier commit than the one checked out:
    main has moved on since that release, which is then built from its tag."""
    from .history import commit_of

    tagged = commit_of(root, f"v{version}")
    return f"v{version}" if tagged is not None and tagged != commit_of(root, "HEAD") else None


def built_message(descriptor: str | Path, target: Path) -> str:
    """What ``build`` did, in a line: which release it built, and from what."""
    from .history import commits_since

    root = descriptor_path(descriptor).parent
    tag = tag_behind(root, target.name)
    if tag is None:
        return f"built {target}"
    ahead = commits_since(root, tag)
    since = f"{ahead} commit since is" if ahead == 1 else f"{ahead} commits since are"
    return (
        f"built {target} from its tag {tag}, as released ({since} in no release: `make bump-check` says "
        "whether they call for one)"
    )


def check_committed(package: Package, version: str, descriptor: str = DESCRIPTOR) -> None:
    """In a git work tree, a release is built from a commit: no change to a tracked file, no
    file of the package that is not committed (the descriptor, a schema, a data file, or a
    file the release takes from beside them; any other untracked file is no part of the
    release and is let be), and a shallow clone without the version's tag is refused (it
    cannot tell whether the tag is on an earlier commit, and then this would not be that
    release)."""
    from .history import changed_files, commit_of, in_repository, is_shallow, untracked_files

    root = package.root
    if not in_repository(root):
        return
    dirty = changed_files(root, ["."], untracked=False)
    if dirty:
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        raise ReleaseError(
            f"uncommitted changes in {dirty[0]}{more}: a release is built from a commit; commit or stash them first"
        )
    new = untracked_files(root, package_files(package, descriptor))
    if new:
        more = f" and {len(new) - 1} more" if len(new) > 1 else ""
        raise ReleaseError(
            f"{new[0]}{more}, part of the package, {'are' if more else 'is'} not committed: a release is built "
            f"from a commit; commit {'them' if more else 'it'}, or remove {'them' if more else 'it'}"
        )
    if commit_of(root, f"v{version}") is None and is_shallow(root):
        raise ReleaseError(
            f"this clone is shallow: it may lack the tag v{version} on an earlier commit, and then this "
            f"would not be release {version}; fetch the history and the tags (`git fetch --unshallow --tags`) first"
        )


def package_files(package: Package, descriptor: str = DESCRIPTOR) -> list[str]:
    """What a release is built from, relative to the package's folder: the descriptor, the
    schemas (the resources' and the derived tables'), the data files, and the files the
    release takes from beside them."""
    from .about import LICENSE_TEXT
    from .derived import DERIVED, DERIVED_DIR

    files = {descriptor, CHANGES, LICENSE_TEXT, *((DERIVED_DIR / f"{name}.json").as_posix() for name in DERIVED)}
    for resource in package.resources:
        files |= {resource.path, resource.schema_path}
    return sorted(files)


def build_from_tag(root: Path, tag: str, out: Path) -> Path:
    """Build the release of ``tag`` as the tagged commit built it: its files and its own code
    (git archive, inside ``out``), run by this interpreter, so the bytes are the release's
    whatever changed since; the result is renamed into ``out`` like any build."""
    from .history import files_at, prefix

    version = tag.removeprefix("v")
    target = out / version
    out.mkdir(parents=True, exist_ok=True)
    with _building(out):
        staging = Path(tempfile.mkdtemp(dir=out, prefix=f"{STAGING}{version}-")).resolve()
        try:
            with files_at(root, tag, within=staging) as package:
                top = package
                for _ in Path(prefix(root)).parts:  # the code sits at the top of the repository
                    top = top.parent
                _run_release(top, package, tag, staging / "built")
                if target.exists():
                    raise ReleaseError(f"{target} appeared while building; nothing was changed")
                os.rename(staging / "built" / version, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _run_release(top: Path, package: Path, tag: str, out: Path) -> None:
    """`python -m pipeline release` of the tree at ``top`` on its package, into ``out``."""
    import subprocess
    import sys

    if not (top / "pipeline" / "__init__.py").is_file():
        raise ReleaseError(f"{tag} holds no pipeline/ to build it with: build it there (`git checkout {tag}`)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PYTHONSAFEPATH"}
    env["GIT_CEILING_DIRECTORIES"] = str(top.parent)  # git takes the tree for no repository
    env["PYTHONPATH"] = str(top)  # its own code, not this checkout's
    command = [sys.executable, "-m", "pipeline", "release", DESCRIPTOR, "--out", str(out)]
    done = subprocess.run(command, cwd=package, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise ReleaseError(f"building {tag.removeprefix('v')} from its tag {tag} failed: {said}")
    if not (out / tag.removeprefix("v")).is_dir():
        raise ReleaseError(f"{tag} names another version in its {DESCRIPTOR}: nothing was built")


def build(descriptor: str | Path = "datapackage.json", version: str | None = None, out: str | Path = "dist") -> Path:
    """Validate, then write ``out/<version>/``; refuse to overwrite an existing version."""
    source_date_epoch()  # a malformed one is refused before anything is read
    path = descriptor_path(descriptor)
    package, problems = load_package(path)
    if package is None:
        raise ReleaseError(not_valid(problems), problems)
    version = version or package.descriptor.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    out = Path(out)
    target = out / version
    if target.exists():
        raise ReleaseError(
            f"{target} already exists and a release is never rebuilt in place: check it with "
            f"`guanxi verify {target}` (`make verify`), build into another folder with --out, "
            "or prepare a new version with `make bump`"
        )
    check_committed(package, version, path.name)
    if (tag := tag_behind(package.root, version)) is not None:
        try:
            return build_from_tag(package.root, tag, out)
        except OSError as exc:
            raise ReleaseError(f"cannot write the release into {out}: {exc.strerror or exc}") from None
    files = release_files(package, version, release_notes(package.root, version))
    check_layout(list(files), version)
    files[SUMS] = sums_file(files)
    created = json.loads(files[DESCRIPTOR])["created"]
    when = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    archive = archive_name(version)
    zipped = zip_bytes(files, archive.removesuffix(".zip"), when)

    try:
        out.mkdir(parents=True, exist_ok=True)
        with _building(out):
            staging = Path(tempfile.mkdtemp(dir=out, prefix=f"{STAGING}{version}-"))
            try:
                for rel, content in {**files, archive: zipped}.items():
                    file = staging / rel
                    file.parent.mkdir(parents=True, exist_ok=True)
                    file.write_bytes(content)
                if target.exists():
                    raise ReleaseError(f"{target} appeared while building; nothing was changed")
                staging.chmod(0o755)
                os.rename(staging, target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    except OSError as exc:
        raise ReleaseError(f"cannot write the release into {out}: {exc.strerror or exc}") from None
    return target


@contextlib.contextmanager
def _building(out: Path) -> Iterator[None]:
    """One build at a time in ``out``; under that lock, a staging folder is a leftover of a
    build that was killed, and is removed."""
    lock = os.open(out, os.O_RDONLY)  # the folder itself is the lock: nothing is left behind
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for leftover in out.glob(f"{STAGING}*"):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
        yield
    finally:
        os.close(lock)


def verify(source: str | Path) -> list[str]:
    """Every problem found checking a release (its folder, the folder its files were saved to
    one by one, or its zip as downloaded) against SHA256SUMS, its descriptor and the zip
    beside the files, if it is there."""
    path = Path(source)
    if not path.exists():
        raise ReleaseError(
            f"{path} does not exist; give a release's folder, its {DESCRIPTOR} or its zip "
            "(`make release` builds the folder)"
        )
    if path.name == DESCRIPTOR and path.is_file():
        path = path.parent
    if not path.is_file():
        return _verify_folder(path)
    try:
        archive = ReleaseZip(path)
    except OSError as exc:
        if exc.errno == errno.EFBIG:  # a zip, but one that would unpack to more than is read
            raise ReleaseError(f"{path}: {exc.strerror}") from None
        raise ReleaseError(f"{path}: not a release folder, descriptor or zip: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="guanxi-verify-") as tmp:
        try:
            # the descriptor and SHA256SUMS first: they say which members are the release's
            for rel in (DESCRIPTOR, SUMS):
                if rel in archive.members:
                    archive.extract(rel, Path(tmp) / rel)
            descriptor, sums = _read_listing(Path(tmp), f"{path}: ")
            wanted = _listed_paths(descriptor, sums)
            for rel in archive.members:
                if rel in wanted and path_problem(rel) is None and not (Path(tmp) / rel).exists():
                    archive.extract(rel, Path(tmp) / rel)
        except OSError as exc:
            raise ReleaseError(f"{path}: {exc.strerror or exc}") from None
        # each problem is one of a file inside the zip, named as such, never by the scratch folder
        problems = _verify_folder(Path(tmp), shown=f"{path}: ")
        problems += [
            escape_controls(f"{rel}: in the zip but listed in neither {SUMS} nor {DESCRIPTOR} (not unpacked)")
            for rel in sorted(archive.members)
            if rel not in wanted and rel not in (DESCRIPTOR, SUMS)
        ]
        return [f"{path.name}: {problem.replace(tmp + ': ', '').replace(tmp + '/', '')}" for problem in problems]


def _listed_paths(descriptor: object, sums: str) -> set[str]:
    """Every path SHA256SUMS or the descriptor names: the files of the release."""
    paths = {line.partition("  ")[2] for line in sums.splitlines()}
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            paths.add(resource["path"])
    return paths


def _read_listing(root: Path, shown: str) -> tuple[object, str]:
    """The release descriptor, parsed, and SHA256SUMS, or a ``ReleaseError`` naming the file
    (with the line and column of a JSON fault) when either cannot be read: nothing can be
    checked without them. ``shown`` names the folder (or zip) in that message."""
    rel = DESCRIPTOR
    try:
        descriptor = parse_json(read_regular(root / DESCRIPTOR, MAX_VERIFIED_TEXT).decode("utf-8"))
        rel = SUMS
        sums = read_regular(root / SUMS, MAX_VERIFIED_TEXT).decode("utf-8")
    except DuplicateKey as exc:
        raise ReleaseError(f"{shown}{rel}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ReleaseError(f"{shown}{rel}: {where}: not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ReleaseError(f"{shown}{rel}: not valid UTF-8 at byte {exc.start}; expected UTF-8 text") from None
    except FileNotFoundError:
        raise ReleaseError(f"{shown}{rel}: missing, so the release cannot be checked") from None
    except OSError as exc:
        raise ReleaseError(f"{shown}{rel}: cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # NaN or Infinity, or a number of too many digits
        raise ReleaseError(f"{shown}{rel}: not usable JSON: {exc}") from None
    except RecursionError:
        raise ReleaseError(f"{shown}{rel}: not usable JSON: nested too deeply to be read") from None
    return descriptor, sums


def _verify_folder(directory: Path, shown: str | None = None) -> list[str]:
    """Every problem found checking a release folder against its descriptor, SHA256SUMS and zip.

    Every path is resolved inside the release folder (an absolute path, a ``..`` or a link
    out is refused, never read), a file present but listed nowhere is reported, and each
    file and zip member is hashed as it streams, a member no larger than the file it copies.
    """
    root = Path(directory)
    descriptor, sums = _read_listing(root, f"{root}/" if shown is None else shown)
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    version = descriptor.get("version") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list) or not isinstance(version, str) or not SEMVER.match(version):
        return [f"{root}: the release descriptor must be an object with a MAJOR.MINOR.PATCH version and resources"]
    problems: list[str] = []

    refused: set[str] = set()  # listed, but where no file of the release may be read
    digests: dict[str, tuple[int, str] | None] = {}  # each file read once, its fault said once
    unreadable: set[str] = set()

    def locate(rel: object, where: str) -> Path | None:
        file, why = resolve_inside(root, rel)
        if file is None and str(rel) not in refused:  # said once, however many lists name it
            refused.add(str(rel))
            problems.append(escape_controls(f"{rel!r} in {where}: {str(why).replace('package', 'release')} (not read)"))
        return file

    def digest_of(rel: str, file: Path) -> tuple[int, str] | None:
        """The size and sha256 of a file; None when it is missing or cannot be read (which
        is said here, once, however many lists name the file)."""
        if rel not in digests:
            try:
                digests[rel] = file_sha256(file)
            except FileNotFoundError:
                digests[rel] = None
            except OSError as exc:
                problems.append(escape_controls(f"{rel}: cannot be read: {exc.strerror or exc}"))
                digests[rel] = None
                unreadable.add(rel)
        return digests[rel]

    listed: dict[str, str] = {}
    for number, line in enumerate(sums.splitlines(), start=1):
        digest, separator, rel = line.partition("  ")
        if not separator or not re.fullmatch(r"[0-9a-f]{64}", digest):
            problems.append(escape_controls(f"{SUMS} line {number}: expected '<sha256>  <path>', found {line[:80]!r}"))
            continue
        file = locate(rel, SUMS)
        if file is None:
            continue
        listed[rel] = digest
        found = digest_of(rel, file)
        if found is None:
            if rel not in unreadable:
                problems.append(escape_controls(f"{rel}: listed in {SUMS} but missing"))
        elif found[1] != digest:
            problems.append(escape_controls(f"{rel}: sha256 differs from {SUMS}"))
    described: set[str] = set()
    for index, resource in enumerate(resources, start=1):
        if not isinstance(resource, dict):
            problems.append(f"resource {index} of datapackage.json is not an object")
            continue
        rel = resource.get("path")
        file = locate(rel, "datapackage.json")
        if file is None:
            continue
        described.add(str(rel))
        found = digest_of(str(rel), file)
        if found is None:
            if str(rel) not in unreadable:
                problems.append(escape_controls(f"{rel}: described in datapackage.json but missing"))
            continue
        if found[0] != resource.get("bytes"):
            problems.append(escape_controls(f"{rel}: {found[0]} bytes, datapackage.json says {resource.get('bytes')}"))
        if f"sha256:{found[1]}" != resource.get("hash"):
            problems.append(escape_controls(f"{rel}: sha256 differs from datapackage.json"))
    archive = f"guanxi-{version}.zip"
    known = set(listed) | described | refused | {SUMS, "datapackage.json", archive}
    for rel in _files_under(root):
        if rel not in known:
            unlisted = f"{rel}: in the release folder but listed in neither {SUMS} nor datapackage.json"
            problems.append(escape_controls(unlisted))
    if not (root / archive).exists():  # an unpacked zip, or the files saved without it
        return problems
    return problems + _verify_archive(root, archive, version, listed, refused, sums.encode("utf-8"))


def _refuse_collisions(resources: list[dict]) -> None:
    """Two files of a release may not share a name or a path: the loader would read the
    wrong one (a resource 'a-json' beside a resource 'a' whose JSON file is named so)."""
    for key in ("name", "path"):
        seen: set[str] = set()
        for entry in resources:
            if entry[key] in seen:
                raise ReleaseError(
                    f"two files of the release would both have the {key} {entry[key]!r}; rename the resource "
                    "whose name ends like a generated one (-json, -parquet) or matches a published table"
                )
            seen.add(entry[key])


def _no_constant(token: str) -> None:
    raise ValueError(f"{token} is not a JSON value")


def _files_under(root: Path) -> list[str]:
    """Every file and link below ``root``, relative, without following links."""
    found = []
    for folder, folders, names in os.walk(root, followlinks=False):
        base = Path(folder)
        found += [str((base / name).relative_to(root)) for name in names]
        found += [str((base / name).relative_to(root)) for name in folders if (base / name).is_symlink()]
    return sorted(found)


def _verify_archive(
    root: Path, archive: str, version: str, listed: dict[str, str], refused: set[str], sums: bytes
) -> list[str]:
    """The zip holds exactly the listed files and SHA256SUMS, each the same as beside it (a
    file listed where none may be read, a link out of the release, is not compared)."""
    problems: list[str] = []
    expected = {**listed, SUMS: sha256(sums)}
    prefix = f"guanxi-{version}/"
    try:
        with zipfile.ZipFile(root / archive) as zipped:
            members: dict[str, zipfile.ZipInfo] = {}
            for info in zipped.infolist():
                rel = info.filename[len(prefix) :] if info.filename.startswith(prefix) else ""
                if info.is_dir():
                    continue
                if path_problem(rel) is not None:
                    problems.append(escape_controls(f"{archive}: member {info.filename!r} lies outside {prefix}"))
                elif rel in refused:
                    continue
                elif rel not in expected:
                    problems.append(escape_controls(f"{archive}: holds {rel}, which {SUMS} does not list"))
                else:
                    members[rel] = info
            for rel in sorted(expected):
                info = members.get(rel)
                if info is None:
                    problems.append(escape_controls(f"{archive}: lacks {rel}"))
                    continue
                beside = root / rel
                if rel != SUMS and not beside.is_file():
                    continue  # reported as missing from the folder: there is nothing beside to compare
                limit = len(sums) if rel == SUMS else beside.stat().st_size
                if not _member_matches(zipped, info, limit, expected[rel]):
                    problems.append(escape_controls(f"{archive}: {rel} differs from the file beside it"))
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, EOFError) as exc:
        problems.append(f"{archive}: cannot read the archive: {exc}")
    return problems


def _member_matches(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, digest: str) -> bool:
    """Whether a member holds the bytes of the given sha256, read in chunks and never past
    ``limit`` bytes (a small archive may unpack to gigabytes)."""
    if info.file_size > limit:
        return False
    hasher, size = hashlib.sha256(), 0
    with zipped.open(info) as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                return False
            hasher.update(chunk)
    return hasher.hexdigest() == digest
