"""Load a release into pandas: the same typed DataFrames from CSV, JSON or Parquet.

The dtypes come from the Table Schemas carried in the release descriptor, so a date
column is a date column whichever file it was read from, and every file is checked
against the sha256 the descriptor gives before it is parsed.
"""

from __future__ import annotations

import hashlib
import io
import json
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import LoadError, not_valid
from .package import Package, descriptor_path, resolve_inside
from .schema import arrow_type, to_arrow, to_pandas

FORMATS = ("parquet", "csv", "json")


def _is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except OSError as exc:
        raise LoadError(f"cannot fetch {url}: {exc}") from None


class _Release:
    """Where a release's files are, on disk or behind a URL."""

    def __init__(self, source: str | Path) -> None:
        text = str(source)
        if _is_url(text):
            self.url = text if text.endswith(".json") else text.rstrip("/") + "/datapackage.json"
            self.root: Path | None = None
            self.path: Path | None = None
            raw = _fetch(self.url)
        else:
            path = Path(source)
            path = descriptor_path(path)
            self.url, self.root, self.path = None, path.parent, path
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise LoadError(f"cannot read {path}: {exc}") from None
        try:
            self.descriptor = json.loads(raw)
        except ValueError as exc:
            raise LoadError(f"the release descriptor is not valid JSON: {exc}") from None

    def read(self, entry: dict) -> bytes:
        rel = entry.get("path", "")
        if self.url is not None:
            content = _fetch(urllib.parse.urljoin(self.url, rel))
        else:
            file, why = resolve_inside(self.root, rel)
            if file is None:
                raise LoadError(why or "bad path")
            content = file.read_bytes()
        expected = entry.get("hash")
        if expected and f"sha256:{hashlib.sha256(content).hexdigest()}" != expected:
            raise LoadError(f"{rel}: the file does not match the sha256 in datapackage.json")
        return content


def _from_csv(content: bytes, fields: list[dict], missing: list[str]) -> dict[str, pa.Array]:
    names = [f["name"] for f in fields]
    table = pacsv.read_csv(
        io.BytesIO(content),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    nulls = pa.array(missing, pa.string())
    out = {}
    for spec in fields:
        column = table.column(spec["name"]).combine_chunks()
        column = pa.compute.if_else(pa.compute.is_in(column, nulls), pa.scalar(None, pa.string()), column)
        out[spec["name"]] = to_arrow(column, spec)
    return out


def _from_json(content: bytes, fields: list[dict]) -> dict[str, pa.Array]:
    records = json.loads(content)
    out = {}
    for spec in fields:
        values = [record.get(spec["name"]) for record in records]
        target = arrow_type(spec)
        if spec.get("type") in ("date", "datetime") or pa.types.is_dictionary(target):
            out[spec["name"]] = to_arrow(pa.array(values, pa.string()), spec)
        else:
            out[spec["name"]] = pa.array(values, target)
    return out


def _from_parquet(content: bytes, fields: list[dict]) -> dict[str, pa.Array]:
    table = pq.read_table(io.BytesIO(content))
    return {spec["name"]: table.column(spec["name"]).combine_chunks() for spec in fields}


def load(source: str | Path, format: str = "parquet") -> dict[str, pd.DataFrame]:
    """Every resource of a release (or, as CSV, of a working package) as a DataFrame with the
    dtypes its schema implies."""
    if format not in FORMATS:
        raise LoadError(f"format must be one of {', '.join(FORMATS)}")
    release = _Release(source)
    entries = release.descriptor.get("resources", [])
    tables = [e for e in entries if e.get("format") == "csv" and isinstance(e.get("schema"), dict)]
    if not tables:
        return _load_working_package(release, format)
    frames = {}
    for table in tables:
        name = table["name"]
        wanted = name if format == "csv" else f"{name}-{format}"
        entry = next((e for e in entries if e.get("name") == wanted), None)
        if entry is None:
            raise LoadError(f"the release has no {format} file for {name}")
        fields = table["schema"]["fields"]
        content = release.read(entry)
        if format == "csv":
            columns = _from_csv(content, fields, table["schema"].get("missingValues", [""]))
        elif format == "json":
            columns = _from_json(content, fields)
        else:
            columns = _from_parquet(content, fields)
        frames[name] = pd.DataFrame({spec["name"]: to_pandas(columns[spec["name"]], spec) for spec in fields})
    return frames


def _load_working_package(release: _Release, format: str) -> dict[str, pd.DataFrame]:
    """A package checked out from the repository: its CSV, typed the same way as a release."""
    from .package import load_package

    if release.root is None or format != "csv":
        raise LoadError("only a release can be loaded from a URL or as JSON or Parquet; a working package is CSV")
    package, problems = load_package(release.path)
    if package is None:
        raise LoadError(not_valid(problems), problems)
    return load_package_frames(package)


def load_package_frames(package: Package) -> dict[str, pd.DataFrame]:
    """The working package (not a release) as typed DataFrames, for docs and tools."""
    from .frames import typed_frames
    from .validation import read_package

    frames, _ = read_package(package)
    return {name: frame.reset_index(drop=True) for name, frame in typed_frames(package, frames).items()}
