"""Load a release into pandas: the same typed DataFrames from CSV, JSON or Parquet.

The dtypes come from the Table Schemas carried in the release descriptor, so a date
column is a date column whichever file it was read from, and every file is checked
against the sha256 the descriptor gives before it is parsed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import urllib.parse
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import LoadError, not_valid, not_valid_first
from .fetch import DEADLINE, HASH, MAX_DESCRIPTOR_BYTES, SCHEMES, Remote
from .files import FIELD_SIZE_LIMIT, ReleaseZip, read_regular
from .package import (
    DESCRIPTOR,
    DuplicateKey,
    Package,
    Resource,
    check_keys,
    check_schema,
    descriptor_path,
    parse_json,
    path_problem,
    resolve_inside,
)
from .schema import arrow_type, expected, first_outside_utc_years, integers, to_arrow, to_pandas

FORMATS = ("parquet", "csv", "json")
#: How JSON releases write the numbers JSON has no token for (Table Schema's own words).
NUMBER_WORDS = {"NaN": float("nan"), "INF": float("inf"), "-INF": float("-inf")}


def _is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme.lower() in SCHEMES


def _refused_scheme(source: str) -> str | None:
    """A URL scheme other than http(s) (file:, ftp:, data: ...); a local path has none."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if len(scheme) > 1 and scheme not in SCHEMES and not Path(source).exists():
        return scheme
    return None


def _limit(entry: dict) -> int | None:
    size = entry.get("bytes")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


class _Release:
    """Where a release's files are, on disk or behind a URL."""

    def __init__(self, source: str | Path, timeout: float) -> None:
        text = str(source)
        self.remote: Remote | None = None
        self.root: Path | None = None
        self.path: Path | None = None
        self.members: ReleaseZip | None = None
        if _is_url(text) and urllib.parse.urlsplit(text).path.lower().endswith(".zip"):
            # a release's zip by URL: fetched whole from its origin, then read as a local zip is
            name = Path(urllib.parse.unquote(urllib.parse.urlsplit(text).path)).name
            content = Remote(text, timeout).fetch(text)
            self.path = Path(name)
            try:
                self.members = ReleaseZip(content, text)
                found = self.members.read(DESCRIPTOR)
            except OSError as exc:
                raise LoadError(f"{text}: {exc.strerror or exc}") from None
            if found is None:
                raise LoadError(f"{text}: the zip holds no {DESCRIPTOR}, so it is not a release")
            raw = found
        elif _is_url(text):
            url = text if text.endswith(".json") else text.rstrip("/") + "/datapackage.json"
            self.remote = Remote(url, timeout)
            raw = self.remote.descriptor()
        else:
            scheme = _refused_scheme(text)
            if scheme:
                raise LoadError(f"{text}: {scheme}: URLs are not loaded; give a folder, a descriptor or an http(s) URL")
            self.path = descriptor_path(Path(source))
            self.root = self.path.parent
            try:
                if self.path.name != DESCRIPTOR and self.path.is_file():  # a release's zip
                    self.members = ReleaseZip(self.path)
                    found = self.members.read(DESCRIPTOR)
                    if found is None:
                        raise LoadError(f"{self.path}: the zip holds no {DESCRIPTOR}, so it is not a release")
                    raw = found
                else:
                    raw = read_regular(self.path, MAX_DESCRIPTOR_BYTES)
            except OSError as exc:
                raise LoadError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        where = self.remote.url if self.remote is not None else str(self.path)
        if self.members is not None:
            where = f"{text if _is_url(text) else self.path}: {DESCRIPTOR}"
        try:
            self.descriptor = parse_json(raw)
        except DuplicateKey as exc:
            raise LoadError(f"{where}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except json.JSONDecodeError as exc:
            raise LoadError(f"{where}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
        except UnicodeDecodeError as exc:
            raise LoadError(f"{where}: not valid UTF-8 at byte {exc.start}; expected a UTF-8 JSON file") from None
        except ValueError as exc:
            raise LoadError(f"{where}: not valid JSON: {exc}") from None
        except RecursionError:
            raise LoadError(f"{where}: not usable JSON: nested too deeply to be read") from None
        if not isinstance(self.descriptor, dict):
            raise LoadError("the release descriptor must be a JSON object")

    def read(self, entry: dict) -> bytes:
        """A file of the release, checked against the sha256 and size its entry gives."""
        rel = entry.get("path")
        why = path_problem(rel)
        if why is not None:
            raise LoadError(f"resource {entry.get('name')!r}: {why}")
        digest = entry.get("hash")
        if not isinstance(digest, str) or not HASH.match(digest):
            raise LoadError(f"{rel}: the descriptor gives no sha256 ('hash': 'sha256:<64 hex digits>') to check it by")
        size = _limit(entry)
        if self.remote is not None:
            return self.remote.fetch(self.remote.member(str(rel)), None, digest, size)
        if self.members is not None:
            try:
                content = self.members.read(str(rel))
            except OSError as exc:
                raise LoadError(f"cannot read {rel} in {self.members.name}: {exc.strerror or exc}") from None
            if content is None:
                raise LoadError(f"{rel}: described in the release descriptor but not in {self.path.name}")
        else:
            file, why = resolve_inside(self.root, rel)
            if file is None:
                raise LoadError(why or "bad path")
            try:
                content = read_regular(file, size)
            except OSError as exc:
                raise LoadError(f"cannot read {rel}: {exc.strerror or exc}") from None
        if f"sha256:{hashlib.sha256(content).hexdigest()}" != digest:
            raise LoadError(f"{rel}: the file does not match the sha256 in datapackage.json")
        if size is not None and len(content) != size:
            raise LoadError(f"{rel}: {len(content)} bytes, datapackage.json says {size}")
        return content


def _columns(table: pa.Table, fields: list[dict], rel: str) -> None:
    missing = [f["name"] for f in fields if f["name"] not in table.column_names]
    if missing:
        raise LoadError(f"{rel}: no column {missing[0]!r}, which the schema describes")


def _from_csv(content: bytes, fields: list[dict], missing: list[str], rel: str) -> dict[str, pa.Array]:
    names = [f["name"] for f in fields]
    table = pacsv.read_csv(
        io.BytesIO(content),
        read_options=pacsv.ReadOptions(block_size=max(1 << 20, min(len(content) + 1, 1 << 30))),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    _columns(table, fields, rel)
    out = {}
    for spec in fields:
        column = table.column(spec["name"]).combine_chunks()
        nulls = pa.array(spec.get("missingValues", missing), pa.string())
        column = pa.compute.if_else(pa.compute.is_in(column, nulls), pa.scalar(None, pa.string()), column)
        out[spec["name"]] = _kept(column, to_arrow(column, spec), spec, rel)
    return out


def _kept(raw: pa.Array, typed: pa.Array, spec: dict, rel: str) -> pa.Array:
    """The typed column, once no cell present in the file was lost in typing it (a cell not
    of its field's type becomes missing): a release holds none, so one is refused."""
    lost = pc.and_(pc.is_valid(raw), pc.is_null(typed))
    if pc.any(lost).as_py():
        row = pc.index(lost, True).as_py()
        raise LoadError(f"{rel}: row {row + 1}, field {spec['name']}: {raw[row].as_py()!r} is not {expected(spec)}")
    return typed


def _in_vocabulary(column: pa.Array, spec: dict, rel: str) -> None:
    """A value outside its field's ``enum`` would load as missing: refused, with its row."""
    enum = spec.get("constraints", {}).get("enum")
    if not enum or not (pa.types.is_dictionary(column.type) or pa.types.is_string(column.type)):
        return
    text = column.cast(pa.string())
    outside = pc.and_(pc.is_valid(text), pc.invert(pc.is_in(text, pa.array([str(v) for v in enum], pa.string()))))
    if pc.any(outside).as_py():
        row = pc.index(outside, True).as_py()
        raise LoadError(
            f"{rel}: row {row + 1}, field {spec['name']}: {text[row].as_py()!r} is not one of the field's values "
            f"({', '.join(map(str, enum))})"
        )


#: The JSON values each type of field is written as (a number may be one of NUMBER_WORDS).
JSON_KINDS: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "year": (int,),
    "number": (int, float, str),
    "boolean": (bool,),
}


def _from_json(content: bytes, fields: list[dict], rel: str) -> dict[str, pa.Array]:
    try:
        records = parse_json(content)
    except json.JSONDecodeError as exc:
        said = exc.msg if isinstance(exc, DuplicateKey) else f"not valid JSON: {exc.msg}"
        raise LoadError(f"{rel}: line {exc.lineno}, column {exc.colno}: {said}") from None
    except UnicodeDecodeError as exc:
        raise LoadError(f"{rel}: not valid UTF-8 at byte {exc.start}; expected a UTF-8 JSON file") from None
    except ValueError as exc:  # NaN or Infinity, which JSON does not have, or a number of too many digits
        raise LoadError(f"{rel}: not usable JSON: {exc}") from None
    except RecursionError:
        raise LoadError(f"{rel}: not usable JSON: nested too deeply to be read") from None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise LoadError(f"{rel}: expected an array of records (JSON objects)")
    out = {}
    for spec in fields:
        values = [record.get(spec["name"]) for record in records]
        _json_values_fit(values, spec, rel)
        target = arrow_type(spec)
        if spec.get("type") == "number":
            # NaN and infinities are written as the strings Table Schema gives them
            out[spec["name"]] = pa.array([NUMBER_WORDS.get(v, v) if isinstance(v, str) else v for v in values], target)
        elif spec.get("type") == "integer":  # of any size: int64, or decimals beyond 64 bits
            text = pa.array([None if v is None else str(v) for v in values], pa.string())
            out[spec["name"]] = _kept(text, integers(text), spec, rel)
        elif pa.types.is_string(target) or pa.types.is_dictionary(target) or spec.get("type") in ("date", "datetime"):
            text = pa.array(values, pa.string())
            out[spec["name"]] = _kept(text, to_arrow(text, spec), spec, rel)
        else:
            out[spec["name"]] = pa.array(values, target)
    return out


def _json_values_fit(values: list, spec: dict, rel: str) -> None:
    """Each value is null or of the JSON kind its field is written as (text, unless said)."""
    kinds = JSON_KINDS.get(spec.get("type", "string"), (str,))
    for row, value in enumerate(values):
        fits = value is None or (isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds))
        if fits and isinstance(value, str) and spec.get("type") == "number":
            fits = value in NUMBER_WORDS
        if not fits:
            shown = json.dumps(value, ensure_ascii=False)[:80]
            raise LoadError(f"{rel}: row {row + 1}, field {spec['name']}: {shown} is not {expected(spec)}")


def _from_parquet(content: bytes, fields: list[dict], rel: str) -> dict[str, pa.Array]:
    table = pq.read_table(io.BytesIO(content))
    _columns(table, fields, rel)
    columns = {spec["name"]: table.column(spec["name"]).combine_chunks() for spec in fields}
    for spec in fields:
        if spec.get("type") == "datetime" and (row := first_outside_utc_years(columns[spec["name"]])) is not None:
            raise LoadError(f"{rel}: row {row + 1}, field {spec['name']}: an instant outside the years 0001 to 9999")
    return columns


READERS = {"csv": _from_csv, "json": _from_json, "parquet": _from_parquet}


def _tables(descriptor: dict) -> tuple[list[dict], dict[str, dict]]:
    """The release's tabular resources (CSV with an inline schema, checked) and every entry
    by name; a ``LoadError`` when the descriptor cannot be trusted to say what is where."""
    entries = descriptor.get("resources", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise LoadError("the release descriptor's 'resources' must be a list of objects")
    by_name: dict[str, dict] = {}
    for entry in entries:
        name = entry.get("name")
        if not isinstance(name, str):
            raise LoadError(f"a resource of the release has no name: {str(entry)[:80]}")
        if name in by_name:
            raise LoadError(f"two resources of the release are named {name!r}")
        by_name[name] = entry
    tables = [e for e in entries if e.get("format") == "csv" and isinstance(e.get("schema"), dict)]
    for entry in entries if tables else []:  # a release, not a working package: every CSV described inline
        if entry.get("format") == "csv" and not isinstance(entry.get("schema"), dict):
            raise LoadError(f"resource {entry['name']!r}: a release's CSV carries its Table Schema inline")
    problems = [p for t in tables for p in check_schema(t["schema"], f"datapackage.json ({t['name']})", "")]
    if not problems:  # keys name fields and resources of the release
        described = {
            t["name"]: Resource(t["name"], str(t.get("path")), Path(), t["schema"], f"datapackage.json ({t['name']})")
            for t in tables
        }
        problems = [p for r in described.values() for p in check_keys(r, described)]
    if problems:
        raise LoadError(not_valid(problems), problems)
    return tables, by_name


def load(source: str | Path, format: str = "parquet", timeout: float = DEADLINE) -> dict[str, pd.DataFrame]:
    """Every resource of a release (or, as CSV, of a working package) as a DataFrame with the
    dtypes its schema implies. ``timeout`` bounds, in seconds, a whole load from a URL."""
    if format not in FORMATS:
        raise LoadError(f"format must be one of {', '.join(FORMATS)}")
    release = _Release(source, timeout)
    tables, by_name = _tables(release.descriptor)
    if not tables:
        return _load_working_package(release, format)
    frames = {}
    for table in tables:
        name = table["name"]
        wanted = name if format == "csv" else f"{name}-{format}"
        entry = by_name.get(wanted)
        if entry is None or entry.get("format") != format:
            raise LoadError(f"the release has no {format} file for {name}")
        fields = table["schema"]["fields"]
        content = release.read(entry)
        rel = str(entry["path"])
        try:
            if format == "csv":
                columns = _from_csv(content, fields, table["schema"].get("missingValues", [""]), rel)
            else:
                columns = READERS[format](content, fields, rel)
            for spec in fields:
                _in_vocabulary(columns[spec["name"]], spec, rel)
            frames[name] = pd.DataFrame({spec["name"]: to_pandas(columns[spec["name"]], spec) for spec in fields})
        except (pa.ArrowException, ValueError, RecursionError):
            raise LoadError(_fault(format, content, rel)) from None
    return frames


def _fault(format: str, content: bytes, rel: str) -> str:
    """Why a file whose checksum matched cannot be parsed, said where it is when the format
    lets that be known (the parser's own words speak of its blocks and column numbers)."""
    if format == "csv":
        return _csv_fault(content, rel) or f"{rel}: cannot be read as CSV (comma-separated UTF-8, one header row)"
    if format == "parquet":
        return f"{rel}: not a Parquet file that can be read: it is damaged, cut short or not Parquet"
    return f"{rel}: the records cannot be read as the schema's types"


_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _csv_fault(content: bytes, rel: str) -> str | None:
    """The first line of a CSV file that is not UTF-8, not closed or not as wide as its
    header, with the cell (column) where that can be told; None when none is found."""
    try:
        content.decode("utf-8")
        offset = None
    except UnicodeDecodeError as exc:
        offset = exc.start
    text = content.decode("utf-8", "surrogateescape")  # a byte that is not UTF-8 stays findable
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width, start = None, 1
    try:
        for row in reader:
            bad = next((column for column, cell in enumerate(row, 1) if _NOT_UTF8.search(cell)), None)
            if bad is not None and offset is not None:
                line = content.count(b"\n", 0, offset) + 1
                byte = f"0x{content[offset]:02x}"
                return f"{rel}: line {line}, column {bad}: a byte that is not UTF-8 ({byte}); expected UTF-8 text"
            if width is None:
                width = len(row)
            elif len(row) != width and row:
                return f"{rel}: line {start}: {len(row)} cells; expected {width}, as many as the header has"
            start = reader.line_num + 1
    except csv.Error:
        return f"{rel}: line {start}: a quoted cell is not closed, or a quote inside it is not doubled (\"\")"
    return None


def _load_working_package(release: _Release, format: str) -> dict[str, pd.DataFrame]:
    """A package checked out from the repository: its CSV, typed the same way as a release."""
    from .package import load_package

    if release.root is None:
        raise LoadError("only a release can be loaded from a URL; a working package is read from its folder")
    if format != "csv":
        raise LoadError(
            f"a working package is CSV, and only a release has {format}: load it with format=\"csv\", "
            "or load a release (`make release` builds one in dist/)"
        )
    if not _has_validator():
        raise LoadError(
            "a working package (a clone) is validated as it is loaded, which needs the validator: install the "
            "[pipeline] extra (pip install '.[pipeline]'); a release needs only pandas and pyarrow"
        )
    package, problems = load_package(release.path)
    if package is None:
        raise LoadError(not_valid(problems), problems)
    return load_package_frames(package, strict=True)


def _has_validator() -> bool:
    """Whether pandera, the validator's library (the ``pipeline`` extra), can be imported."""
    import importlib.util

    try:
        return importlib.util.find_spec("pandera") is not None
    except ImportError:
        return False


def load_package_frames(package: Package, strict: bool = False) -> dict[str, pd.DataFrame]:
    """The working package (not a release) as the typed DataFrames its release would give.
    With ``strict``, as a user loads a clone, any problem validation finds is refused, with
    the report; otherwise only a file that cannot be read at all is (its wrong cells, if
    any, become missing)."""
    from .report import Report
    from .tables import release_tables
    from .validation import read_package, root_causes

    frames, problems = read_package(package)
    unread = [r.name for r in package.resources if r.name not in frames]
    if unread or (strict and problems):
        causes = Report(root_causes(package, problems, frames)).sorted().problems
        raise LoadError(not_valid_first(causes), causes)
    return {table.name: _frame(table.rows, table.fields) for table in release_tables(package, frames)}


def _frame(rows: pa.Table, fields: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({spec["name"]: to_pandas(rows.column(spec["name"]), spec) for spec in fields})
