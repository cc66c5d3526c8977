"""Canonical CSV: what ``fmt`` writes, what ``release`` publishes and what ``validate`` expects.

Canonical means UTF-8 without BOM, LF line endings, a final line break, cells in Unicode
NFC without white space at either end, no blank rows, rows sorted by primary key and
quotes only where a cell needs them. Formatting a canonical file changes nothing.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .package import Package, Resource, load_package
from .read import read_table
from .report import Problem
from .schema import to_arrow
from .text import WHITESPACE


def clean_cell(value: str) -> str:
    """A cell as fmt writes it: NFC, trimmed."""
    return unicodedata.normalize("NFC", value).strip(WHITESPACE)


def canonical_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """Serialise rows with minimal quoting and LF endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def sort_order(resource: Resource, frame: pd.DataFrame) -> list[int]:
    """Positions of the rows sorted by the typed primary key (stable; missing keys last)."""
    key = resource.primary_key
    if not key:
        return list(range(len(frame)))
    specs = {spec["name"]: spec for spec in resource.fields}
    typed = {}
    for name in key:
        values = to_arrow(pa.array(frame[name].tolist(), pa.string()), specs[name])
        if pa.types.is_dictionary(values.type):
            values = values.cast(pa.string())
        typed[name] = values.to_pandas()
    order = pd.DataFrame(typed).sort_values(key, kind="mergesort", na_position="last")
    return order.index.tolist()


def canonical_rows(resource: Resource, header: list[str], rows: list[list[str]]) -> list[list[str]]:
    rows = [[clean_cell(cell) for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    specs = {spec["name"]: spec for spec in resource.fields}
    for name in resource.primary_key:
        missing = set(resource.missing_values_of(specs[name]))
        frame[name] = frame[name].where(~frame[name].isin(missing), None)
    return [rows[i] for i in sort_order(resource, frame)]


def format_package(descriptor: str | Path) -> tuple[list[str], list[Problem]]:
    """Rewrite every CSV in canonical form; write nothing at all if any file cannot be read."""
    package, problems = load_package(descriptor)
    if package is None:
        return [], problems
    planned, problems = plan(package)
    if problems:
        return [], problems
    changed = []
    for resource, content in planned:
        if resource.file.read_bytes() != content:
            write_atomic(resource.file, content)
            changed.append(resource.path)
    return changed, []


def plan(package: Package) -> tuple[list[tuple[Resource, bytes]], list[Problem]]:
    """The canonical bytes of every resource, or the problems that stop formatting."""
    out: list[tuple[Resource, bytes]] = []
    problems: list[Problem] = []
    for resource in package.resources:
        table, found = read_table(resource.file, resource.path, len(resource.fields))
        fatal = [p for p in found if p.code in ("extra-cell", "missing-cell")]
        if table is None or fatal:
            problems += [
                p for p in found if p.code not in ("byte-order-mark", "line-ending", "final-newline", "blank-row")
            ]
            continue
        header = [clean_cell(label) for label in table.header]
        if header != resource.field_names:
            problems.append(
                Problem(
                    "incorrect-label",
                    resource.path,
                    1,
                    None,
                    None,
                    ",".join(table.header),
                    "fmt needs the header to equal the schema's field names; fix it by hand",
                )
            )
            continue
        rows = [list(row) for row in zip(*(table.table.column(i).to_pylist() for i in range(len(header))), strict=True)]
        out.append((resource, canonical_csv(header, canonical_rows(resource, header, rows))))
    return out, problems


def write_atomic(file: Path, content: bytes) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    handle, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temp, file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
