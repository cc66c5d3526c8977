"""Canonical CSV: what ``fmt`` writes, what ``release`` publishes and what ``validate`` expects.

Canonical means UTF-8 without BOM, LF line endings, a final line break, cells in Unicode
NFC without white space at either end, numbers and booleans in their canonical form, no
blank rows, rows sorted by primary key and quotes only where a cell needs them.
Formatting a canonical file changes nothing. A file fmt cannot read with confidence is
left as it is, and said so, while the others are formatted.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .files import remove_leftovers, write_atomic
from .package import Package, Resource, load_package
from .ragged import name_shifts
from .read import RawTable, read_table
from .report import Problem
from .schema import canonical_text, to_arrow
from .text import WHITESPACE, shown

#: What fmt repairs itself while reading a file; any other problem found then leaves the file as it is.
MECHANICAL = ("byte-order-mark", "line-ending", "final-newline", "blank-row")
#: The types whose cells fmt writes in canonical form.
_CANONICAL_TYPES = ("boolean", "integer", "number")


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
    """Cells cleaned, blank rows dropped (every cell one of its field's missing values, as
    validate judges them), rows sorted by the primary key."""
    specs = {spec["name"]: spec for _, spec in resource.columns_of(header)}
    blanks = [set(resource.missing_values_of(specs[name])) if name in specs else {""} for name in header]
    rows = [[clean_cell(cell) for cell in row] for row in rows]
    rows = [row for row in rows if not all(cell in blank for cell, blank in zip(row, blanks, strict=True))]
    for index, name in enumerate(header):
        spec = specs.get(name)
        if spec is not None and spec.get("type") in _CANONICAL_TYPES:
            blank = blanks[index]
            for row in rows:
                if row[index] not in blank:
                    row[index] = canonical_text(row[index], spec)
    if not all(name in specs for name in resource.primary_key):
        return rows  # the key is not in this file (the schema's fieldsMatch allows that): order kept
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    for name in resource.primary_key:
        missing = set(resource.missing_values_of(specs[name]))
        frame[name] = frame[name].where(~frame[name].isin(missing), None)
    return [rows[i] for i in sort_order(resource, frame)]


class Changed(str):
    """The path of a file fmt changes (or would), with the first physical line that changes,
    so that a check in CI points at the row to look at."""

    line: int

    def __new__(cls, path: str, original: bytes, content: bytes) -> Changed:
        changed = super().__new__(cls, path)
        before, after = original.split(b"\n"), content.split(b"\n")
        pairs = enumerate(zip(before, after, strict=False))
        changed.line = next((i + 1 for i, (a, b) in pairs if a != b), min(len(before), len(after)))
        return changed


def format_package(descriptor: str | Path, check: bool = False) -> tuple[list[str], list[Problem]]:
    """Rewrite every CSV that is not in canonical form (with ``check``, write nothing and only
    say which would change). Returns the files changed, and the problems of the files left
    as they were (each one a file fmt cannot read with confidence, and why) or of the
    descriptor. The other files are formatted all the same: each write is atomic."""
    package, problems = load_package(descriptor)
    if package is None:
        return [], problems
    planned, skipped = plan(package)
    changed = []
    for resource, content, original in planned:
        if original == content:
            continue
        if not check:
            remove_leftovers(resource.file.parent)
            write_atomic(resource.file, content, package.root)
        changed.append(Changed(resource.path, original, content))
    return changed, problems + skipped


def plan(
    package: Package, tables: dict[str, RawTable] | None = None
) -> tuple[list[tuple[Resource, bytes, bytes]], list[Problem]]:
    """The canonical bytes of every resource with the bytes they were made from, or the
    problems that stop formatting. Each file is read once, here or (``tables``) by the
    validation whose verdict the caller acts on, so that what was judged is what is written."""
    out: list[tuple[Resource, bytes, bytes]] = []
    problems: list[Problem] = []
    for resource in package.resources:
        if tables is not None:
            table, found = tables.get(resource.name), []
            if table is None:
                raise ValueError(f"resource {resource.name} was not read")
        else:
            table, found = read_table(resource.file, resource.path, len(resource.fields), keep_bytes=True)
        fatal = [p for p in found if p.code in ("extra-cell", "missing-cell")]
        if table is None:  # a structure fmt cannot trust: what stopped it, else every problem
            problems += [p for p in found if p.code not in MECHANICAL] or found
            continue
        if fatal:  # reported as validate reports them: where the row's cells start to shift
            problems += [p for p in name_shifts(resource, table, found) if p.code not in MECHANICAL]
            continue
        header = [clean_cell(label) for label in table.header]
        labels = _header_problems(resource, header)
        if labels:
            problems += labels
            continue
        rows = [list(row) for row in zip(*(table.table.column(i).to_pylist() for i in range(len(header))), strict=True)]
        out.append((resource, canonical_csv(header, canonical_rows(resource, header, rows)), table.data))
    return out, problems


def _header_problems(resource: Resource, header: list[str]) -> list[Problem]:
    """The header (trimmed, NFC) against the schema, as validate judges it: fmt does not guess
    which column a label that is not the schema's was meant to be."""
    from .validation import check_header

    return check_header(resource, header)


def describe(changed: list[str], problems: list[Problem], check: bool = False) -> str:
    """What fmt did (or, checking, would do), file by file: each file formatted, then each
    file left as it was with the problems that stopped it, at their line and column."""
    if check:
        where = {path: f", from line {path.line}" if isinstance(path, Changed) else "" for path in changed}
        out = [f"would format {path}{where[path]}" for path in changed]
    else:
        out = [f"formatted {path}" for path in changed]
    by_path: dict[str, list[Problem]] = {}
    for p in sorted(problems, key=Problem.sort_key):
        by_path.setdefault(p.path, []).append(p)
    for path, found in by_path.items():
        these = "this" if len(found) == 1 else "these"
        out.append(f"skipped {path}: left as it was; fix {these} by hand, then run make fmt again")
        for p in found:
            value = f' (found "{shown(p.value)}")' if p.value is not None and p.code != "quote-error" else ""
            out.append(f"  {p.place}: {p.code}: {p.message}{value}")
    if not out:
        return "already canonical"
    if check and not problems:
        out.append(f"{len(changed)} file{'s' if len(changed) != 1 else ''} not in canonical form: run make fmt")
    return "\n".join(out)
