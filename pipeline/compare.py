"""Compare two versions of the package: rows, cells, schemas, and the semver bump due.

Either side may be a release folder (its ``datapackage.json`` carries inline schemas and
canonical CSV), a working package, or a tag or commit of the git repository, read from git
into a temporary folder. Rows are matched by primary key. The bump follows
the Data Package version recipe: MAJOR when a field or resource is removed, renamed or
retyped or a constraint tightens; MINOR when data is added or a constraint loosens;
PATCH when values are fixed, rows withdrawn or only metadata changes.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
from dataclasses import asdict, dataclass, field
from hashlib import sha256
from pathlib import Path

from .errors import DiffError
from .files import csv_rows, read_regular
from .history import files_at, prefix, tracked
from .package import descriptor_path, read_json, resolve_inside
from .tables import release_schema

LEVELS = ["none", "patch", "minor", "major"]


@dataclass
class Change:
    key: str
    field: str
    old: str
    new: str


@dataclass
class ResourceDiff:
    name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)


@dataclass
class SchemaChange:
    resource: str
    field: str | None
    description: str
    level: str


@dataclass
class Diff:
    old_version: str | None
    new_version: str | None
    resources: list[ResourceDiff]
    schema: list[SchemaChange]
    metadata: list[str]
    bump: str
    suggested_version: str | None
    version_ok: bool | None


@dataclass
class Side:
    version: str | None
    descriptor: dict
    tables: dict[str, tuple[dict, list[str], list[list[str]]]]  # name -> (schema, header, rows)


def _read_side(source: str | Path) -> Side:
    """One side's descriptor and CSV tables; a ``DiffError`` for anything that cannot be
    compared (not a package, a broken schema, a file that cannot be read)."""
    path = descriptor_path(source)
    descriptor, _, problems = read_json(path, path.name, "package-error")
    if problems:
        raise DiffError(f"cannot read {path}: {problems[0].message}")
    if not isinstance(descriptor, dict):
        raise DiffError(f"{path}: the descriptor must be a JSON object")
    resources = descriptor.get("resources", [])
    if not isinstance(resources, list):
        raise DiffError(f"{path}: 'resources' must be a list")
    root = path.parent
    tables = {}
    for index, resource in enumerate(resources, start=1):
        if not isinstance(resource, dict):
            raise DiffError(f"{path}: resource {index} must be an object")
        if resource.get("format", "csv") != "csv" or not str(resource.get("path", "")).endswith(".csv"):
            continue
        if resource.get("derived"):
            continue  # computed from the sourced tables: it changes when they do
        name = resource.get("name")
        if not isinstance(name, str) or name in tables:
            raise DiffError(f"{path}: resource {index} needs a name of its own")
        tables[name] = _read_table(root, f"{path}: resource {name}", resource)
    return Side(descriptor.get("version"), descriptor, tables)


def _read_table(root: Path, where: str, resource: dict) -> tuple[dict, list[str], list[list[str]]]:
    file, why = resolve_inside(root, resource.get("path"))
    if file is None:
        raise DiffError(f"{where}: {why}")
    schema, schema_rel = resource.get("schema"), "datapackage.json"
    if isinstance(schema, str):
        schema_file, why = resolve_inside(root, schema)
        if schema_file is None:
            raise DiffError(f"{where}: schema {why}")
        schema_rel = schema
        schema, _, problems = read_json(schema_file, schema, "schema-error")
        if problems:
            raise DiffError(f"{where}: {schema_rel}: {problems[0].message}")
    why = _shape_problem(schema)
    if why:
        raise DiffError(f"{where}: {schema_rel}: {why}")
    if schema_rel != "datapackage.json":
        schema = release_schema(schema)  # a working package is compared as its release publishes it
    rel = str(resource.get("path"))
    try:
        content = read_regular(file)
    except OSError as exc:
        raise DiffError(f"cannot read {file}: {exc.strerror or exc}") from None
    digest = resource.get("hash")
    if isinstance(digest, str) and digest.startswith("sha256:") and digest != f"sha256:{sha256(content).hexdigest()}":
        raise DiffError(f"{where}: {rel} does not match the sha256 its descriptor gives; compare an intact release")
    _refuse_misread(file, rel, where, len(schema.get("fields", [])))
    try:
        rows = csv_rows(content.decode("utf-8"))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DiffError(f"cannot read {file}: {exc}") from None
    return schema, rows[0] if rows else [], rows[1:]


def _refuse_misread(file: Path, rel: str, where: str, width: int) -> None:
    """A ``DiffError`` when the file's rows cannot be read cell for cell (a quote left open,
    bytes that are not UTF-8, a row of another width): its cells would be compared shifted."""
    from .read import read_table

    raw, problems = read_table(file, rel, width or None)
    if raw is not None and not raw.ragged:
        return
    first = next((p for p in problems if raw is None or p.code in ("extra-cell", "missing-cell")), None)
    if first is None:  # a ragged row the reader kept: name its line
        line, cells = next(iter(raw.ragged.items()))
        message = f"{rel}:{line}: the row has {len(cells)} cells; expected {len(raw.header)} as in the header"
    elif first.code in ("extra-cell", "missing-cell"):  # the row, not the cell where the reader lost count
        message = f"{rel}:{first.line}: {first.code}: {first.message}"
    else:
        message = f"{first.place}: {first.code}: {first.message}"
    raise DiffError(f"{where}: cannot be compared cell for cell: {message} (`make validate` lists every problem)")


def _shape_problem(schema: object) -> str | None:
    """What keeps a Table Schema from being compared (its validity is validate's concern)."""
    if not isinstance(schema, dict):
        return "a Table Schema must be a JSON object"
    fields = schema.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields):
        return "'fields' must be a list of objects, each with a name"
    if not all(isinstance(f.get("constraints", {}), dict) for f in fields):
        return "a field's 'constraints' must be an object"
    key = schema.get("primaryKey", [])
    if not (isinstance(key, str) or (isinstance(key, list) and all(isinstance(k, str) for k in key))):
        return "'primaryKey' must be a field name or a list of them"
    return None


def _cell_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _keyed(schema: dict, header: list[str], rows: list[list[str]]) -> dict[str, dict[str, str]]:
    key = schema.get("primaryKey") or header
    key = [key] if isinstance(key, str) else key
    out = {}
    for row in rows:
        record = dict(zip(header, row, strict=False))
        out["|".join(record.get(k, "") for k in key)] = record
    return out


def _constraint_level(name: str, old: object, new: object) -> str:
    """How a change of one constraint affects users: tighter is major, looser minor."""
    if old == new:
        return "none"
    try:
        return _level(name, old, new)
    except TypeError:  # values that do not compare (a bound that changed kind): assume tighter
        return "major"


def _level(name: str, old: object, new: object) -> str:
    if name == "enum":
        old_set, new_set = set(old or []), set(new or [])
        if old is None:
            return "major"
        if new is None:
            return "minor"
        return "major" if old_set - new_set else "minor"
    if name in ("required", "unique"):
        return "major" if new else "minor"
    if name in ("minimum", "minLength", "exclusiveMinimum"):
        if old is None:
            return "major"
        if new is None:
            return "minor"
        return "major" if new > old else "minor"
    if name in ("maximum", "maxLength", "exclusiveMaximum"):
        if old is None:
            return "major"
        if new is None:
            return "minor"
        return "major" if new < old else "minor"
    return "major"  # a changed pattern may refuse values that passed before


def _schema_changes(name: str, old: dict, new: dict) -> list[SchemaChange]:
    changes = []
    old_fields = {f["name"]: f for f in old.get("fields", [])}
    new_fields = {f["name"]: f for f in new.get("fields", [])}
    for fname in old_fields.keys() - new_fields.keys():
        changes.append(SchemaChange(name, fname, "field removed or renamed", "major"))
    for fname in new_fields.keys() - old_fields.keys():
        required = new_fields[fname].get("constraints", {}).get("required")
        changes.append(SchemaChange(name, fname, "field added" + (" (required)" if required else ""), "minor"))
    for fname in old_fields.keys() & new_fields.keys():
        a, b = old_fields[fname], new_fields[fname]
        if a.get("type", "string") != b.get("type", "string"):
            changes.append(SchemaChange(name, fname, f"type {a.get('type')} -> {b.get('type')}", "major"))
        if a.get("format", "default") != b.get("format", "default"):
            changes.append(SchemaChange(name, fname, f"format {a.get('format')} -> {b.get('format')}", "major"))
        ca, cb = a.get("constraints", {}), b.get("constraints", {})
        for cname in sorted(set(ca) | set(cb)):
            level = _constraint_level(cname, ca.get(cname), cb.get(cname))
            if level != "none":
                word = "tightened" if level == "major" else "loosened"
                changes.append(SchemaChange(name, fname, f"constraint {cname} {word}", level))
        for meta in ("title", "description"):
            if a.get(meta) != b.get(meta):
                changes.append(SchemaChange(name, fname, f"{meta} changed", "patch"))
    old_order = [f for f in old_fields if f in new_fields]
    new_order = [f for f in new_fields if f in old_fields]
    if old_order != new_order:
        changes.append(SchemaChange(name, None, "fields reordered", "major"))
    if old.get("primaryKey") != new.get("primaryKey"):
        changes.append(SchemaChange(name, None, "primary key changed", "major"))
    if old.get("foreignKeys", []) != new.get("foreignKeys", []):
        changes.append(SchemaChange(name, None, "foreign keys changed", "major"))
    return changes


def _next_version(version: str | None, bump: str) -> str | None:
    if not version or bump == "none":
        return version
    major, minor, patch = (int(x) for x in version.split("."))
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _at_least(old: str | None, new: str | None, bump: str) -> bool | None:
    """True when the new version number is at least the bump the changes call for."""
    if not old or not new:
        return None
    a = tuple(int(x) for x in old.split("."))
    b = tuple(int(x) for x in new.split("."))
    if bump == "none":
        return b >= a
    need = tuple(int(x) for x in (_next_version(old, bump) or old).split("."))
    return b >= need


@contextlib.contextmanager
def package_at(source: str | Path, repo: str | Path = "."):
    """The package a diff side names: a folder or descriptor when one exists by that name,
    else a tag or commit of the git repository holding ``repo``, read into a temporary folder."""
    if Path(source).is_file() and Path(source).suffix.lower() == ".zip":
        with _unzipped(Path(source)) as folder:
            yield folder
        return
    if Path(source).exists():
        yield Path(source)
        return
    with files_at(repo, str(source)) as folder:
        if not (folder / "datapackage.json").is_file():
            where = prefix(repo).rstrip("/")
            place = f"in {where}/ (the folder diff reads it at)" if where else "here"
            raise DiffError(
                f"{source} holds no datapackage.json {place}, so there is no package to compare; "
                "run diff from the folder of the package's datapackage.json"
            )
        yield folder


@contextlib.contextmanager
def _unzipped(archive: Path):
    """A release's zip unpacked into a temporary folder; problems name the zip, not the folder."""
    import tempfile

    from .files import ReleaseZip
    from .package import path_problem

    with tempfile.TemporaryDirectory(prefix="guanxi-diff-") as tmp:
        try:
            release = ReleaseZip(archive)
            for name in release.members:
                if path_problem(name) is None:
                    release.extract(name, Path(tmp) / name)
        except OSError as exc:
            raise DiffError(f"{archive}: {exc.strerror or exc}") from None
        try:
            yield Path(tmp)
        except DiffError as error:
            raise DiffError(str(error).replace(tmp, str(archive))) from None


def since_last_release(repo: str | Path = ".") -> str:
    """The latest ``vX.Y.Z`` tag, what a diff compares with when no older side is named."""
    from .history import latest_tag

    tag = latest_tag(repo)
    if tag is None:
        raise DiffError("no vX.Y.Z tag yet, so no release to compare with: name a release folder, tag or commit")
    return tag


def diff(old: str | Path, new: str | Path, repo: str | Path | None = None) -> Diff:
    """What changed from ``old`` to ``new``; either may be a tag or commit of ``repo``: by
    default the repository of the other side when git tracks its descriptor (a package in
    another clone), else of the current folder (a release folder or zip is in no commit)."""
    if repo is None:
        repo = next((side for side in (new, old) if _tracked_package(side)), ".")
    with package_at(old, repo) as old_path, package_at(new, repo) as new_path:
        return _diff(_read_side(old_path), _read_side(new_path))


def _tracked_package(side: str | Path) -> bool:
    path = Path(side)
    return path.exists() and path.suffix.lower() != ".zip" and tracked(descriptor_path(path))


def _diff(a: Side, b: Side) -> Diff:
    resources, schema = [], []
    levels = ["none"]
    for name in a.tables.keys() - b.tables.keys():
        schema.append(SchemaChange(name, None, "resource removed", "major"))
    for name in b.tables.keys() - a.tables.keys():
        schema.append(SchemaChange(name, None, "resource added", "minor"))
    for name in [n for n in b.tables if n in a.tables]:
        (sa, ha, ra), (sb, hb, rb) = a.tables[name], b.tables[name]
        schema += _schema_changes(name, sa, sb)
        ka, kb = _keyed(sa, ha, ra), _keyed(sb, hb, rb)
        result = ResourceDiff(name, sorted(kb.keys() - ka.keys()), sorted(ka.keys() - kb.keys()))
        specs = {f["name"]: f for f in [*sa.get("fields", []), *sb.get("fields", [])]}
        # Span fields follow their date; an empty cell and a release's default say the same.
        compared = [f for f in hb if f in ha and "derivedFrom" not in specs.get(f, {})]
        defaults = {f: _cell_text(specs[f]["releaseDefault"]) for f in compared if "releaseDefault" in specs.get(f, {})}
        for key in sorted(ka.keys() & kb.keys()):
            for fname in compared:
                old_value, new_value = ka[key].get(fname) or "", kb[key].get(fname) or ""
                if fname in defaults:
                    old_value, new_value = old_value or defaults[fname], new_value or defaults[fname]
                if old_value != new_value:
                    result.changed.append(Change(key, fname, old_value, new_value))
        resources.append(result)
        if result.added:
            levels.append("minor")
        if result.changed or result.removed:
            levels.append("patch")
    levels += [c.level for c in schema]
    ignore = {"resources", "version", "created"}
    metadata = sorted(
        k
        for k in set(a.descriptor) | set(b.descriptor)
        if k not in ignore and a.descriptor.get(k) != b.descriptor.get(k)
    )
    if metadata:
        levels.append("patch")
    bump = max(levels, key=LEVELS.index)
    return Diff(
        a.version,
        b.version,
        resources,
        schema,
        metadata,
        bump,
        _next_version(a.version, bump),
        _at_least(a.version, b.version, bump),
    )


def render(result: Diff, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(asdict(result), ensure_ascii=False, indent=2)
    if fmt == "markdown":
        return _markdown(result)
    return _text(result)


def _verdict(result: Diff) -> str:
    line = f"changes call for a {result.bump} bump" if result.bump != "none" else "no changes"
    if result.suggested_version and result.bump != "none":
        # a version already set to the one due (a release's notes) is that version, not a floor
        floor = "" if result.new_version == result.suggested_version else " at least"
        line += f": {result.old_version} -> {result.suggested_version}{floor}"
    if result.version_ok is False and result.new_version != result.old_version:
        line += f" (the new version {result.new_version} is too low)"
    return line


def _text(result: Diff) -> str:
    versions = f"{result.old_version} -> {result.new_version}"
    if result.new_version == result.old_version:  # a pull request, before any bump
        versions = f"{result.old_version} (version not changed)"
    out = [f"{versions}: {_verdict(result)}"]
    for change in result.schema:
        where = f"{change.resource}.{change.field}" if change.field else change.resource
        out.append(f"  schema {where}: {change.description} [{change.level}]")
    for key in result.metadata:
        out.append(f"  metadata {key} changed [patch]")
    for r in result.resources:
        if not (r.added or r.removed or r.changed):
            continue
        out.append(f"  {r.name}: {len(r.added)} added, {len(r.removed)} removed, {len(r.changed)} cells changed")
        out += [f"    + {k}" for k in r.added]
        out += [f"    - {k}" for k in r.removed]
        out += [f"    ~ {c.key} {c.field}: {c.old!r} -> {c.new!r}" for c in r.changed]
    return "\n".join(out)


def _markdown(result: Diff) -> str:
    # a release's entry is headed by its version; a diff before any bump, by what it compares with
    heading = result.new_version if result.new_version != result.old_version else f"Changes since {result.old_version}"
    out = [f"## {heading}", "", f"Compared with {result.old_version}: {_verdict(result)}.", ""]
    if result.schema or result.metadata:
        out.append("### Schema and metadata")
        out += [
            f"- `{c.resource}{'.' + c.field if c.field else ''}`: {c.description} ({c.level})" for c in result.schema
        ]
        out += [f"- package `{k}` changed (patch)" for k in result.metadata]
        out.append("")
    rows = [r for r in result.resources if r.added or r.removed or r.changed]
    if rows:
        out += ["### Data", "", "| resource | added | removed | cells changed |", "|---|---:|---:|---:|"]
        out += [f"| {r.name} | {len(r.added)} | {len(r.removed)} | {len(r.changed)} |" for r in rows]
        out.append("")
        for r in rows:
            details = [f"- added `{k}`" for k in r.added] + [f"- removed `{k}`" for k in r.removed]
            details += [f"- `{c.key}` {c.field}: `{c.old}` → `{c.new}`" for c in r.changed]
            if details:
                out += [f"#### {r.name}", "", *details, ""]
    return "\n".join(out).rstrip() + "\n"


FIRST_RELEASE = "First release. It holds:"


def initial_entry(descriptor: Path, version: str) -> str:
    """The changelog entry of a first release: what it holds."""
    side = _read_side(descriptor)
    lines = [f"## {version}", "", FIRST_RELEASE, ""]
    lines += [f"- {name}: {len(rows)} rows" for name, (_, _, rows) in side.tables.items()]
    return "\n".join(lines) + "\n"


def is_initial_draft(entry: str) -> bool:
    """Whether an entry is a first release's as ``initial_entry`` drafts it, of whatever
    package and version, and not edited since."""
    drafted = rf"## \S+\n\n{re.escape(FIRST_RELEASE)}\n\n(?:- [\w-]+: \d+ rows\n)+"
    return re.fullmatch(drafted, entry) is not None


def changelog_entry(result: Diff, version: str) -> str:
    """The CHANGELOG.md section of ``version``, drafted from its diff against the previous release."""
    result = Diff(**{**result.__dict__, "new_version": version})
    result.version_ok = _at_least(result.old_version, version, result.bump)
    return _markdown(result)
