"""From raw CSV tables to DataFrames, through pandera, and back to file lines.

The cells are checked by pandera schemas generated from the Table Schemas and the package
rules run over the typed tables; pandera's failure cases come back as problems that name
the physical line, since every frame is indexed by the line its row starts on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pandera.pandas as pdr
import pyarrow as pa

from .cells import Cells, ParsedPackage, ParsedTable, key_codes
from .checks import Finding, arrow_of, resource_schema, row_check
from .package import Package, Resource
from .phases import phase
from .read import RawTable
from .report import Problem
from .rules import Frames, rule_set
from .schema import to_pandas

BLANK_ROW = "the row is empty; expected no blank rows (run make fmt)"


def frame_of(resource: Resource, parsed: ParsedTable) -> tuple[pd.DataFrame, list[Problem]]:
    """The parsed rows as a frame of Arrow-backed strings indexed by line, and a problem for
    each blank row (whose every cell is empty, as in Frictionless)."""
    columns = parsed.columns
    frame = pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype) if columns else pd.DataFrame()
    frame.index = pd.Index(parsed.lines, name="line")
    problems = [
        Problem("blank-row", resource.path, int(line), None, None, None, BLANK_ROW)
        for line in parsed.blank_lines
    ]
    return frame, problems


def parse_cells(resource: Resource, frame: pd.DataFrame) -> dict[str, Cells]:
    """Each column of a frame parsed once (for frames not read through ``parse_table``)."""
    return {
        spec["name"]: Cells.parse(arrow_of(frame[spec["name"]]), spec)
        for spec in resource.fields
        if spec["name"] in frame
    }


def _problems_from(
    resource: Resource,
    error: pdr.errors.SchemaErrors,
    findings: dict,
    raw: pd.DataFrame,
    positions: dict[str, int] | None = None,
    raw_cells: bool = False,
) -> list[Problem]:
    """Turn pandera's failure cases into problems; the index is already the line. Every
    check is a column's (``checks.row_check`` for whole rows); with ``raw_cells`` (the rules,
    which judge typed values) a problem shows the cell's raw text, not the typed value."""
    cases = error.failure_cases
    columns = positions or {name: i + 1 for i, name in enumerate(resource.field_names)}
    problems = []
    raw_value = _RawValues(raw)
    for field, check, value, line in zip(
        cases["column"], cases["check"], cases["failure_case"], cases["index"], strict=True
    ):
        line = None if pd.isna(line) else int(line)
        finding = findings.get((field, check)) or Finding("constraint-error", f"failed check {check}", field)
        if raw_cells:
            text = raw_value(field, line)
        else:
            text = None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        problems.append(Problem(finding.code, resource.path, line, columns.get(field), field, text, finding.message))
    return problems


def check_cells(
    resource: Resource, frames: dict[str, pd.DataFrame], parsed: ParsedPackage, table: RawTable
) -> list[Problem]:
    """Every cell against its field, and the keys, through one pandera schema per resource."""
    with phase("cell checks"):
        return _check_cells(resource, frames, parsed, table)


def _check_cells(
    resource: Resource, frames: dict[str, pd.DataFrame], parsed: ParsedPackage, table: RawTable
) -> list[Problem]:
    frame = frames[resource.name]
    schema, findings = resource_schema(resource, frame, frames, table.nfc, parsed, table.suspects)
    try:
        schema.validate(frame, lazy=True)
    except pdr.errors.SchemaErrors as error:
        found = _problems_from(resource, error, findings, frame, parsed.columns.get(resource.name))
        return _with_first_lines(found, frame, resource, parsed[resource.name])
    return []


def _with_first_lines(problems: list[Problem], frame: pd.DataFrame, resource: Resource, cells: dict) -> list[Problem]:
    """Say where a repeated key first appeared, as Frictionless does: the first row with the
    same typed values (``1`` repeats ``01`` in an integer key)."""
    lines = frame.index.to_numpy()
    firsts: dict[tuple[str, ...], np.ndarray] = {}
    out = []
    for p in problems:
        fields: tuple[str, ...] = ()
        if p.code == "primary-key" and p.value is not None:
            fields = tuple(resource.primary_key)
        elif p.code == "unique-error" and p.message.startswith("the value repeats") and p.field:
            fields = (p.field,)
        if fields and all(f in cells for f in fields) and p.line is not None:
            if fields not in firsts:
                codes = key_codes([cells[f].key() for f in fields])
                _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
                firsts[fields] = lines[first[inverse]]
            at = int(np.searchsorted(lines, p.line))
            first = int(firsts[fields][at]) if at < len(lines) and lines[at] == p.line else None
            if first is not None and first != p.line:
                p = Problem(p.code, p.path, p.line, p.column, p.field, p.value, f"{p.message} (first at line {first})")
        out.append(p)
    return out


def typed_frames(
    package: Package, frames: dict[str, pd.DataFrame], parsed: dict[str, dict[str, Cells]] | None = None
) -> dict[str, pd.DataFrame]:
    """Frames with the schema's dtypes; cells that fail their type become missing."""
    typed = {}
    for resource in package.resources:
        frame = frames[resource.name]
        cells = parsed[resource.name] if parsed else parse_cells(resource, frame)
        typed[resource.name] = pd.DataFrame(
            {
                spec["name"]: to_pandas(cells[spec["name"]].typed, spec, frame.index)
                for spec in resource.fields
                if spec["name"] in frame
            },
            index=frame.index,
        )
    return typed


def rule_frames(
    package: Package, frames: dict[str, pd.DataFrame], parsed: dict[str, dict[str, Cells]]
) -> dict[str, pd.DataFrame]:
    """Typed frames for the rules: Arrow-backed columns (no copy), vocabularies as plain text."""
    out = {}
    for resource in package.resources:
        cells = parsed[resource.name]
        rows = len(frames[resource.name])
        # A field the header lacks (reported already) is an empty column: rules pass on it.
        columns = {
            name: cells[name].comparable() if name in cells else pa.nulls(rows, pa.string())
            for name in resource.field_names
        }
        frame = pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype) if columns else pd.DataFrame()
        frame.index = frames[resource.name].index
        out[resource.name] = frame
    return out


def _source_references(package: Package) -> list[tuple[str, str]]:
    """Every (resource, field) that cites a source, read from the foreign keys."""
    refs = []
    for resource in package.resources:
        for fields, target, ref_fields in resource.foreign_keys():
            if target == "sources" and ref_fields == ["source_id"] and resource.name != "sources":
                refs.append((resource.name, fields[0]))
    return refs


def rule_jobs(
    package: Package, frames: dict[str, pd.DataFrame], parsed: ParsedPackage
) -> list[tuple[int, Callable[[], list[Problem]]]]:
    """The package rules of each resource as one job (its row count first, to schedule the
    longest first), each a pandera schema of checks over the typed frame."""
    rules, problems = rule_set(package)
    absent = frozenset(
        (r.name, name) for r in package.resources for name in r.field_names if name not in parsed[r.name]
    )
    with phase("rules"):
        typed = Frames(rule_frames(package, frames, parsed), _source_references(package), parsed, absent)

    def run(resource: Resource) -> list[Problem]:
        with phase("rules"):
            return _run(resource)

    def _run(resource: Resource) -> list[Problem]:
        # Each rule is a check of the column its problem is reported on (see checks.resource_schema),
        # judging the whole typed frame.
        checks: dict[str, list[pdr.Check]] = {}
        findings = {}
        frame = typed[resource.name]
        for index, rule in enumerate(r for r in rules if r.resource == resource.name):
            name = f"{rule.code}#{index}"
            checks.setdefault(rule.field, []).append(row_check(lambda _, fn=rule.check: fn(frame, typed), name))
            findings[(rule.field, name)] = Finding(rule.code, rule.message, rule.field)
        if not checks:
            return []
        columns = {field: pdr.Column(nullable=True, checks=found) for field, found in checks.items()}
        try:
            pdr.DataFrameSchema(columns, name=resource.name).validate(frame, lazy=True)
        except pdr.errors.SchemaErrors as error:
            positions = parsed.columns.get(resource.name)
            return _problems_from(resource, error, findings, frames[resource.name], positions, raw_cells=True)
        return []

    jobs = [
        (len(frames[r.name]), partial(run, r)) for r in package.resources if any(x.resource == r.name for x in rules)
    ]
    return [(0, lambda: problems), *jobs] if problems else jobs


class _RawValues:
    """The raw cell of a field on a line, looked up one by one for the first few and then
    from the whole column at once: a rule that fails on every row of a large file would
    otherwise look up each row's cell in the frame's index."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.asked: dict[str, int] = {}
        self.columns: dict[str, dict] = {}

    def __call__(self, field: str | None, line: int | None) -> str | None:
        if field is None or line is None or field not in self.frame:
            return None
        if field in self.columns:
            value = self.columns[field].get(line)
        else:
            self.asked[field] = self.asked.get(field, 0) + 1
            if self.asked[field] > 100:
                self.columns[field] = dict(zip(self.frame.index, self.frame[field].tolist(), strict=True))
            value = self.frame[field].get(line)
        return None if value is None or pd.isna(value) else str(value)
