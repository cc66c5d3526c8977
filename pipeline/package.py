"""Read ``datapackage.json`` and its Table Schemas, and check them before any data is read.

Every resource path is resolved inside the package root: absolute paths, ``..`` and URLs
are refused, so validation never reads outside the package or touches the network.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .files import read_regular
from .properties import BY_SCOPE, REFUSED, RULE_SETS, refusals
from .report import Problem

DESCRIPTOR = "datapackage.json"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
URL_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

#: Table Schema types this validator checks, and the constraints each accepts.
ORDERED_TYPES = {"integer", "number", "date", "datetime", "time", "year", "yearmonth"}
SUPPORTED_TYPES = {"string", "boolean", "any"} | ORDERED_TYPES
KNOWN_TYPES = SUPPORTED_TYPES | {"object", "array", "list", "duration", "geopoint", "geojson"}
COMMON_CONSTRAINTS = {"required", "unique", "enum"}
LENGTH_CONSTRAINTS = {"minLength", "maxLength"}
BOUND_CONSTRAINTS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
STRING_FORMATS = {"default", "uri", "email", "uuid"}
HASH_PATTERN = re.compile(
    r"^(?:(?:md5:)?[0-9a-fA-F]{32}|sha1:[0-9a-fA-F]{40}|sha256:[0-9a-fA-F]{64}|sha512:[0-9a-fA-F]{128})$"
)
FIELDS_MATCH = ("exact", "equal", "subset", "superset", "partial")
#: Resource properties whose values ``_load_resource`` judges itself.
_JUDGED_HERE = frozenset({"name", "path", "type", "format", "mediatype", "schema", "dialect", "bytes", "hash"})


@dataclass
class Resource:
    """One tabular resource: where its CSV lies and the schema that describes it."""

    name: str
    path: str
    file: Path
    schema: dict
    schema_path: str
    bytes: int | None = None  # the file's declared size
    hash: str | None = None  # the file's declared digest: md5 hex, or "algorithm:hex"
    schema_text: str = field(default="", repr=False, compare=False)  # the JSON it was read from, to point into

    @property
    def fields(self) -> list[dict]:
        return self.schema["fields"]

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def primary_key(self) -> list[str]:
        key = self.schema.get("primaryKey", [])
        return [key] if isinstance(key, str) else list(key)

    @property
    def missing_values(self) -> list[str]:
        return list(self.schema.get("missingValues", [""]))

    @property
    def fields_match(self) -> str:
        return self.schema.get("fieldsMatch", "exact")

    def columns_of(self, header: list[str]) -> list[tuple[int, dict]]:
        """(position in the file, field) of each column read: by position when the schema's
        ``fieldsMatch`` is ``exact`` (the default), else by name."""
        if self.fields_match == "exact":
            return list(enumerate(self.fields[: len(header)]))
        by_name = {f["name"]: f for f in self.fields}
        seen: set[str] = set()
        out = []
        for index, label in enumerate(header):
            if label in by_name and label not in seen:
                seen.add(label)
                out.append((index, by_name[label]))
        return out

    def missing_values_of(self, spec: dict) -> list[str]:
        """The texts read as missing in one field: its own list (v2), else the schema's."""
        return list(spec.get("missingValues", self.missing_values))

    def foreign_keys(self) -> list[tuple[list[str], str, list[str]]]:
        """Each foreign key as (fields, referenced resource name, referenced fields)."""
        keys = []
        for fk in self.schema.get("foreignKeys", []):
            fields = _as_list(fk["fields"])
            ref = fk["reference"]
            keys.append((fields, ref.get("resource") or self.name, _as_list(ref["fields"])))
        return keys


@dataclass
class Package:
    """The descriptor with its resources resolved; only built when the descriptor is sound."""

    root: Path
    descriptor: dict
    resources: list[Resource] = field(default_factory=list)

    def resource(self, name: str) -> Resource:
        return next(r for r in self.resources if r.name == name)


def _as_list(value: str | list) -> list:
    return [value] if isinstance(value, str) else list(value)


_NAME_MEMBER = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')


@functools.lru_cache(maxsize=8)
def _name_lines(text: str) -> dict[str, int]:
    """The line of the first ``"name": "..."`` member of each name in a JSON text, found in
    one pass over it (a search per name would take time quadratic in a large schema)."""
    lines: dict[str, int] = {}
    line, position = 1, 0
    for match in _NAME_MEMBER.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        try:
            name = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        lines.setdefault(name, line)
    return lines


def _locate(text: str, name: str) -> int | None:
    """The line of the object whose ``"name"`` is ``name`` in a JSON text, to point at it."""
    return _name_lines(text).get(name)


@functools.lru_cache(maxsize=8)
def _line_starts(text: str) -> list[int]:
    """The offset at which each line of a JSON text starts, found once per text (searching
    from the top for each problem would take time quadratic in a large descriptor)."""
    return [0, *(match.end() for match in re.finditer("\n", text))]


def _locate_key(text: str, key: str, after: int | None = None) -> int | None:
    """The line of the first ``"key":`` in a JSON text (from line ``after`` on), to point at it."""
    starts = _line_starts(text)
    start = starts[min(after, len(starts)) - 1] if after else 0
    match = re.compile(r'"' + re.escape(key) + r'"\s*:').search(text, start)
    return bisect.bisect_right(starts, match.start()) if match else after


class DuplicateKey(json.JSONDecodeError):
    """A key given twice in one JSON object: parsers keep one of the two silently, so which
    value was meant cannot be known."""

    def __init__(self, key: str, doc: str, pos: int) -> None:
        super().__init__(f"the key {key!r} appears twice in one object; expected each key once", doc, pos)
        self.key = key


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _duplicate_key(text: str) -> tuple[str, int] | None:
    """The first key repeated within one object of a JSON text, with its offset: found only
    once a parse has met one, by one pass over the strings and brackets."""
    keys: list[set[str] | None] = []  # one entry per open object (its keys) or array (None)
    string: re.Match[str] | None = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == ":" and string is not None and keys and keys[-1] is not None:
            key = json.loads(string.group())
            if key in keys[-1]:
                return key, string.start()
            keys[-1].add(key)
        elif token in "{[":
            keys.append(set() if token == "{" else None)
        elif token in "}]" and keys:
            keys.pop()
        string = match if token.startswith('"') else None
    return None


class _Repeated(Exception):
    """Raised from inside the parser, which cannot say where it was."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Repeated
    return out


def parse_json(text: str | bytes) -> object:
    """A JSON text parsed strictly: no NaN or Infinity (JSON has no such token) and no key
    twice in one object (a ``DuplicateKey``, a ``json.JSONDecodeError`` that says where)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except _Repeated:
        doc = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        found = _duplicate_key(doc)
        key, pos = found if found is not None else ("?", 0)
        raise DuplicateKey(key, doc, pos) from None


def read_json(file: Path, rel: str, code: str) -> tuple[object | None, str, list[Problem]]:
    """Parse a JSON file, turning every failure into a problem with its line and column."""
    try:
        raw = read_regular(file)
    except FileNotFoundError:
        return None, "", [Problem(code, rel, None, None, None, None, f"file not found: {rel}")]
    except OSError as exc:
        return None, "", [Problem(code, rel, None, None, None, None, f"cannot read {rel}: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        msg = f"not valid UTF-8 at byte {exc.start}; expected a UTF-8 JSON file"
        return None, "", [Problem(code, rel, line, None, None, None, msg)]
    if text.startswith("\ufeff"):
        msg = "the file starts with a byte-order mark; expected UTF-8 JSON without one (save it again without it)"
        return None, text, [Problem(code, rel, 1, 1, None, None, msg)]
    try:
        return parse_json(text), text, []
    except json.JSONDecodeError as exc:
        msg = exc.msg if isinstance(exc, DuplicateKey) else f"not valid JSON: {exc.msg}"
        return None, text, [Problem(code, rel, exc.lineno, exc.colno, None, None, msg)]
    except ValueError as exc:  # NaN or Infinity, which JSON does not have, or a huge number
        most = sys.get_int_max_str_digits()
        if most and "digits" in str(exc) and (long := re.search(rf"[0-9]{{{most + 1},}}", text)):
            line = text.count("\n", 0, long.start()) + 1
            column = long.start() - text.rfind("\n", 0, long.start())
            msg = f"not usable JSON: a number of {len(long.group())} digits; expected at most {most}"
            return None, text, [Problem(code, rel, line, column, None, None, msg)]
        return None, text, [Problem(code, rel, None, None, None, None, f"not valid JSON: {exc}")]
    except RecursionError:
        msg = "not usable JSON: nested too deeply to be read"
        return None, text, [Problem(code, rel, None, None, None, None, msg)]


def _refuse_constant(token: str) -> None:
    raise ValueError(f"{token} is not a JSON value")


def path_problem(path: object) -> str | None:
    """Why a descriptor path is refused (not a relative path that stays below its folder),
    or None. The same rule holds on disk and behind a URL."""
    if not isinstance(path, str) or not path:
        return "a path must be a non-empty string"
    if "\x00" in path:
        return f"path {path!r} holds a NUL character"
    if URL_PATTERN.match(path):
        return f"path {path!r} is a URL; only files inside the package are read"
    posix = PurePosixPath(path)
    if posix.is_absolute() or "\\" in path or ".." in posix.parts:
        return f"path {path!r} must be relative and stay inside the package"
    return None


def resolve_inside(root: Path, path: object) -> tuple[Path | None, str | None]:
    """Resolve a descriptor path inside the root, or say why it is refused."""
    why = path_problem(path)
    if why is not None:
        return None, why
    posix = PurePosixPath(str(path))
    try:
        file = (root / posix).resolve()
        outside = not file.is_relative_to(root.resolve())
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links
        return None, f"path {path!r} cannot be resolved: {exc}"
    if outside:
        return None, f"path {path!r} leads outside the package"
    return file, None


def descriptor_path(source: str | Path) -> Path:
    """A package's descriptor, given it or the folder that holds it."""
    path = Path(source)
    return path / DESCRIPTOR if path.is_dir() else path


def usage_error(source: str | Path) -> str | None:
    """Why ``source`` cannot be a package's descriptor, in one line, or None when it may be:
    a folder without a descriptor, a data file given in its place, a path that does not exist."""
    path = Path(source)
    if path.is_dir():
        if not (path / DESCRIPTOR).is_file():
            return f"the folder {path} holds no {DESCRIPTOR}; give a package's folder or its {DESCRIPTOR}"
        return None
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return f"{path} is a data file, not a descriptor; give the package's {DESCRIPTOR} (or its folder)"
    if not path.exists():
        return f"{path} does not exist; give a package's {DESCRIPTOR} (or its folder)"
    return None


def load_package(source: str | Path) -> tuple[Package | None, list[Problem]]:
    """Read and check the descriptor (or the folder holding it) and every schema; the package
    is None when unusable."""
    descriptor = descriptor_path(source)
    root = descriptor.parent
    rel = descriptor.name
    data, text, problems = read_json(descriptor, rel, "package-error")
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem("package-error", rel, 1, 1, None, None, "the descriptor must be a JSON object")]
    problems = _check_package_metadata(data, rel, text)
    entries = data.get("resources")
    if not isinstance(entries, list) or not entries:
        problems.append(Problem("package-error", rel, None, None, None, None, "'resources' must be a non-empty list"))
        return None, problems

    resources: list[Resource] = []
    seen: set[str] = set()
    files: dict[Path, str] = {}
    for index, entry in enumerate(entries, start=1):
        resource, found = _load_resource(root, rel, text, index, entry, seen)
        problems += found
        if resource is not None and resource.file in files:
            # fmt could not make one file canonical for two schemas, nor release name it twice
            message = f"resource {resource.name}: its file is already the file of resource {files[resource.file]}"
            problems.append(Problem("resource-error", rel, _locate(text, resource.name), None, None, None, message))
        elif resource is not None:
            files[resource.file] = resource.name
            resources.append(resource)
    by_name = {r.name: r for r in resources}
    broken = {p.path for p in problems if p.code == "schema-error"}
    # An entry with no name may be the resource a foreign key refers to: no key is judged
    # against the names then, as the entry's own problem is the one to fix.
    nameless = any(not (isinstance(e, dict) and isinstance(e.get("name"), str)) for e in entries)
    for resource in resources:
        if resource.schema_path not in broken:
            problems += check_keys(resource, by_name, declared=seen, nameless=nameless)
    if problems:
        return None, problems
    return Package(root=root, descriptor=data, resources=resources), []


def _check_package_metadata(data: dict, rel: str, text: str = "") -> list[Problem]:
    problems = []

    def bad(message: str, line: int | None = None) -> None:
        problems.append(Problem("package-error", rel, line, None, None, None, message))

    for key, message in refusals("package", data):
        bad(message, _locate_key(text, key))
    rules = data.get("rules")
    if rules is not None and rules not in RULE_SETS:
        where = _locate_key(text, "rules")
        bad(f"'rules' names the rule set {rules!r}, which is unknown; expected one of {sorted(RULE_SETS)}", where)

    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
        bad("'name' must be lowercase letters, digits, '.', '-' or '_'")
    version = data.get("version")
    if version is not None and not (isinstance(version, str) and re.match(r"^\d+\.\d+\.\d+$", version)):
        bad(f"'version' must be MAJOR.MINOR.PATCH, found {version!r}")
    for key in ("licenses", "contributors", "sources", "keywords"):
        if key in data and not isinstance(data[key], list):
            bad(f"'{key}' must be a list")
    for lic in data.get("licenses", []) if isinstance(data.get("licenses"), list) else []:
        if not isinstance(lic, dict) or not (lic.get("name") or lic.get("path")):
            bad("each license must be an object with a 'name' or a 'path'")
    return problems


def _load_resource(
    root: Path, rel: str, text: str, index: int, entry: object, seen: set[str]
) -> tuple[Resource | None, list[Problem]]:
    if not isinstance(entry, dict):
        return None, [Problem("resource-error", rel, None, None, None, None, f"resource {index} must be an object")]
    name = entry.get("name")
    line = _locate(text, name) if isinstance(name, str) else None

    def bad(message: str, code: str = "resource-error") -> tuple[None, list[Problem]]:
        return None, [Problem(code, rel, line, None, None, None, f"resource {name or index}: {message}")]

    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return bad("'name' must be lowercase letters, digits, '.', '-' or '_'")
    if name in seen:
        return bad("the name is used by another resource")
    seen.add(name)
    refused = refusals("resource", entry, skip=_JUDGED_HERE)
    if refused:
        return None, _refusal_problems(refused, rel, text, line, f"resource {name}: ")
    path = entry.get("path")
    if isinstance(path, list):
        return bad("a list of paths is not supported: join the chunks into one CSV file and give its path")
    if entry.get("type", "table") != "table":
        return bad(f"'type' {entry['type']!r} is not read; expected 'table' (a tabular CSV resource)", "format-error")
    if entry.get("mediatype", "text/csv") != "text/csv":
        return bad(f"'mediatype' {entry['mediatype']!r} is not read; expected 'text/csv'", "format-error")
    dialect = entry.get("dialect", {})
    if not isinstance(dialect, dict):
        return bad("'dialect' must be an object (a path to a dialect file is not read: write it inline)")
    refused = refusals("dialect", dialect)
    if refused:
        return None, _refusal_problems(refused, rel, text, line, f"resource {name}: dialect ")
    size, digest = entry.get("bytes"), entry.get("hash")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        return bad(f"'bytes' must be a non-negative integer, found {size!r}")
    if digest is not None and not (isinstance(digest, str) and HASH_PATTERN.match(digest)):
        return bad(f"'hash' must be an md5 digest or 'sha1:', 'sha256:' or 'sha512:' and a digest, found {digest!r}")
    if isinstance(path, str) and URL_PATTERN.match(path):
        return bad(f"path {path!r} is a URL; validation reads only files inside the package", "scheme-error")
    file, why = resolve_inside(root, path)
    if file is None:
        return bad(why or "")
    if entry.get("format", "csv") != "csv" or not str(path).endswith(".csv"):
        return bad("only CSV resources (format 'csv', a .csv path) are supported", "format-error")
    schema_ref = entry.get("schema")
    if isinstance(schema_ref, dict):
        schema, schema_text, schema_rel = schema_ref, text, rel
    elif isinstance(schema_ref, str):
        schema_file, why = resolve_inside(root, schema_ref)
        if schema_file is None:
            return bad(f"schema {why}", "schema-error")
        schema_rel = schema_ref
        schema, schema_text, found = read_json(schema_file, schema_rel, "schema-error")
        if found:
            return None, found
    else:
        return bad("'schema' must be an inline Table Schema or the path of one", "schema-error")
    found = check_schema(schema, schema_rel, schema_text)
    resource = Resource(
        name, entry["path"], file, schema if isinstance(schema, dict) else {}, schema_rel, size, digest,
        schema_text if isinstance(schema_ref, str) else "",
    )
    return (None if found else resource), found


def check_schema(schema: object, rel: str, text: str) -> list[Problem]:
    """Check one Table Schema on its own: fields, types, constraints, formats, missing values."""
    if not isinstance(schema, dict):
        return [Problem("schema-error", rel, 1, 1, None, None, "a Table Schema must be a JSON object")]
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        line = _locate_key(text, "fields")
        return [Problem("schema-error", rel, line, None, None, None, "'fields' must be a non-empty list")]
    problems: list[Problem] = [
        Problem("schema-error", rel, _locate_key(text, key), None, None, None, message)
        for key, message in refusals("schema", schema)
    ]
    match = schema.get("fieldsMatch", "exact")
    if match not in FIELDS_MATCH:
        problems.append(
            Problem(
                "schema-error",
                rel,
                _locate_key(text, "fieldsMatch"),
                None,
                None,
                None,
                f"'fieldsMatch' must be one of {', '.join(FIELDS_MATCH)}, found {match!r}",
            )
        )
    for fk in schema.get("foreignKeys", []) if isinstance(schema.get("foreignKeys"), list) else []:
        if isinstance(fk, dict):
            for key, message in refusals("foreign key", fk):
                problems.append(Problem("schema-error", rel, _locate_key(text, key), None, None, None, message))
    names: set[str] = set()
    for index, spec in enumerate(fields, start=1):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            problems.append(Problem("schema-error", rel, None, None, None, None, f"field {index} needs a name"))
            continue
        name = spec["name"]
        line = _locate(text, name)
        found = [message for key, message in refusals("field", spec, skip=frozenset({"format"}))]
        for message in found or _field_problems(spec):
            problems.append(Problem("schema-error", rel, line, None, name, None, message))
        if name in names:
            problems.append(Problem("schema-error", rel, line, None, name, None, "field name used twice"))
        names.add(name)
    missing = schema.get("missingValues", [""])
    if not _strings(missing):
        problems.append(
            Problem(
                "schema-error", rel, _locate_key(text, "missingValues"), None, None, None,
                "'missingValues' must be a list of strings",
            )
        )
    return problems


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _field_problems(spec: dict) -> list[str]:
    from .schema import parse_bound  # the type parsers live with the types

    kind = spec.get("type", "string")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:
        return [f"unknown type {kind!r}; expected one of {sorted(SUPPORTED_TYPES)}"]
    if kind not in SUPPORTED_TYPES:
        return [f"type {kind!r} is not supported in CSV resources of this package"]
    problems = []
    fmt = spec.get("format", "default")
    if not isinstance(fmt, str):
        problems.append(f"'format' must be a string, found {fmt!r}")
    elif kind == "string" and fmt not in STRING_FORMATS:
        problems.append(f"string format {fmt!r} is not supported; expected one of {sorted(STRING_FORMATS)}")
    elif kind != "string" and fmt != "default":
        problems.append(
            f"format {fmt!r} is not supported for {kind} fields: only the default (ISO 8601, the spec's lexical "
            "forms) is read; rewrite the cells in that form and drop 'format'"
        )
    if "missingValues" in spec and not _strings(spec["missingValues"]):
        problems.append("'missingValues' must be a list of strings")
    if "releaseDefault" in spec and not (kind == "boolean" and isinstance(spec["releaseDefault"], bool)):
        problems.append("'releaseDefault' must be true or false, on a boolean field")
    if "categories" in spec:
        problems += _categories_problems(spec)
    constraints = spec.get("constraints", {})
    for key in constraints if isinstance(constraints, dict) else []:
        if key not in BY_SCOPE["constraint"]:
            problems.append(f"unknown constraint {key!r}; expected one of those listed in CONTRIBUTING.md")
        elif BY_SCOPE["constraint"][key].status == REFUSED:
            problems.append(f"constraint {key!r} is not supported: {BY_SCOPE['constraint'][key].note}")
    if problems:
        return problems
    if kind == "boolean":
        for key in ("trueValues", "falseValues"):
            values = spec.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                problems.append(f"'{key}' must be a list of strings")
    constraints = spec.get("constraints", {})
    if not isinstance(constraints, dict):
        return [*problems, "'constraints' must be an object"]
    allowed = set(COMMON_CONSTRAINTS)
    if kind == "string":
        allowed |= LENGTH_CONSTRAINTS | {"pattern"}
    if kind in ORDERED_TYPES:
        allowed |= BOUND_CONSTRAINTS
    for key, value in constraints.items():
        if key not in allowed:
            problems.append(f"constraint {key!r} does not apply to type {kind!r}")
        elif key in ("required", "unique") and not isinstance(value, bool):
            problems.append(f"constraint {key!r} must be true or false")
        elif key == "enum" and (
            not isinstance(value, list) or not value or not all(isinstance(v, str | int | float) for v in value)
        ):
            problems.append("constraint 'enum' must be a non-empty list of values")
        elif key == "enum" and not _valid_values(value, spec):
            problems.append(f"constraint 'enum' holds a value that is not a valid {kind}: {value!r}")
        elif key in LENGTH_CONSTRAINTS and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"constraint {key!r} must be a non-negative integer")
        elif key == "pattern":
            problems += _pattern_problems(value)
        elif key in BOUND_CONSTRAINTS and (parse_bound(kind, value) is None or not _valid_values([value], spec)):
            # a bound is compared as a cell of the field would be: it must be one
            problems.append(f"constraint {key!r} value {value!r} is not a valid {kind}")
    return problems


def _valid_values(values: list, spec: dict) -> bool:
    """Whether every value is one of the field's type. Told without Arrow where Python can
    be sure: Arrow loads pandas on its first conversion of a Python value, and the
    descriptor is checked before any file is read, so that load would hold up the reading."""
    from .schema import plainly_valid, schema_values

    if spec.get("type", "string") in ("string", "any"):
        return all(isinstance(v, str) for v in values)
    return all(plainly_valid(v, spec) for v in values) or schema_values(values, spec) is not None


def _categories_problems(spec: dict) -> list[str]:
    """Categories (v2): a list of values, or of objects with a ``value`` (and a ``label``)."""
    kind = spec.get("type", "string")
    categories = spec["categories"]
    if kind not in ("string", "integer"):
        return [f"'categories' applies to string and integer fields, not to {kind!r}"]
    if not isinstance(categories, list) or not categories:
        return ["'categories' must be a non-empty list"]
    want = str if kind == "string" else int
    for item in categories:
        value = item.get("value") if isinstance(item, dict) else item
        if not isinstance(value, want) or isinstance(value, bool):
            return [f"each category must be a {kind} (or an object with such a 'value'), found {item!r}"]
    return []


def _pattern_problems(pattern: object) -> list[str]:
    """A pattern must compile in Python and in RE2, the engine that checks the cells."""
    if not isinstance(pattern, str):
        return ["constraint 'pattern' must be a string"]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"pattern {pattern!r} does not compile: {exc}"]
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        # on a null cell, so that no Python value is converted (that would load pandas)
        pc.match_substring_regex(pa.nulls(1, pa.string()), f"^(?:{pattern})$")
    except pa.ArrowInvalid as exc:
        return [f"pattern {pattern!r} is not supported by RE2: {exc}"]
    return []


def check_keys(
    resource: Resource, by_name: dict[str, Resource], declared: set[str] = frozenset(), nameless: bool = False
) -> list[Problem]:
    """Primary, unique and foreign keys must name fields and resources that exist.

    A key to a resource that is declared but broken is not judged: that resource's own
    problem is already reported; nor, while some resource entry has no name (``nameless``),
    a key to a resource the package does not name.
    """
    rel = resource.schema_path
    schema = resource.schema
    names = set(resource.field_names)
    problems = []

    def bad(message: str, prop: str = "foreignKeys") -> None:
        """A problem on the line of the schema's property ``prop``."""
        line = _locate_key(resource.schema_text, prop) if resource.schema_text else None
        problems.append(Problem("schema-error", rel, line, None, None, None, message))

    def check_fields(value: object, what: str, prop: str) -> list[str] | None:
        if not (
            isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
        ):
            bad(f"{what} must be a field name or a non-empty list of them", prop)
            return None
        fields = _as_list(value)
        for name in fields:
            if name not in names:
                bad(f"{what} names field {name!r}, which the schema does not have", prop)
        return fields

    if "primaryKey" in schema:
        check_fields(schema["primaryKey"], "primaryKey", "primaryKey")
    unique = schema.get("uniqueKeys", [])
    if not isinstance(unique, list):
        bad("'uniqueKeys' must be a list", "uniqueKeys")
        unique = []
    for key in unique:
        check_fields(key, "a uniqueKey", "uniqueKeys")
    foreign = schema.get("foreignKeys", [])
    if not isinstance(foreign, list):
        bad("'foreignKeys' must be a list")
        return problems
    for fk in foreign:
        if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
            bad("each foreign key needs 'fields' and a 'reference' object")
            continue
        fields = check_fields(fk.get("fields"), "a foreign key", "foreignKeys")
        ref = fk["reference"]
        target_name = ref.get("resource") or resource.name
        if not isinstance(target_name, str):
            bad(f"a foreign key's reference 'resource' must be a resource name, found {target_name!r}")
            continue
        target = by_name.get(target_name)
        if target is None and (target_name in declared or nameless):
            continue
        if target is None:
            on = f" on {', '.join(fields)}" if fields else ""
            bad(f"the foreign key{on} refers to resource {target_name!r}, which the package does not have")
            continue
        ref_fields = ref.get("fields")
        listed = isinstance(ref_fields, list) and all(isinstance(f, str) for f in ref_fields)
        if not (isinstance(ref_fields, str) or listed):
            bad("a foreign key's reference needs 'fields': a field name or a list of them")
            continue
        for name in _as_list(ref_fields):
            if name not in target.field_names:
                bad(f"a foreign key refers to {target_name}.{name}, which does not exist")
        if fields and len(fields) != len(_as_list(ref_fields)):
            bad("a foreign key and its reference must have as many fields")
    return problems


def _refusal_problems(refused: list, rel: str, text: str, line: int, prefix: str) -> list[Problem]:
    """One resource-error per refused property, on the line where its key stands."""
    return [
        Problem("resource-error", rel, _locate_key(text, key, line) or line, None, None, None, prefix + message)
        for key, message in refused
    ]
