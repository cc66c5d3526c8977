"""The tables a release publishes, as Arrow tables with their Table Schemas.

Each sourced resource is published as it is in data/, plus what an analyst needs and the
CSV cannot say without a convention: for every partial date ``x``, the real dates
``x_start`` and ``x_end`` it covers and its ``x_precision``; and, for every field whose
schema gives a ``releaseDefault``, that value in place of an empty cell (``preferred`` is
true on a claim without a rival). The extra fields are derived from the schema, so the
release descriptor declares them like any other.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from .package import Package
from .schema import arrow_type, is_partial_date, to_arrow
from .spans import PRECISIONS, spans

_SPAN_WORDS = {
    "start": ("first day", "起", "The first day {name} covers: 2016 gives 2016-01-01, 2016-02 gives 2016-02-01."),
    "end": ("last day", "止", "The last day {name} covers: 2016 gives 2016-12-31, 2016-02 gives 2016-02-29."),
}


@dataclass
class Table:
    """One published table: its name, release schema, rows, and what the descriptor says of it."""

    name: str
    schema: dict
    rows: pa.Table
    meta: dict = field(default_factory=dict)

    @property
    def fields(self) -> list[dict]:
        return self.schema["fields"]


def span_fields(spec: dict) -> list[dict]:
    """The three fields a release adds beside a partial-date field."""
    name = spec["name"]
    title, title_zh = spec.get("title", name), spec.get("title_zh", "")
    required = {"constraints": {"required": True}} if spec.get("constraints", {}).get("required") else {}
    out = []
    for part, (words, zh, description) in _SPAN_WORDS.items():
        out.append(
            {
                "name": f"{name}_{part}",
                "type": "date",
                "title": f"{title}: {words}",
                "title_zh": f"{title_zh}（{zh}）" if title_zh else "",
                "description": description.format(name=name),
                "derivedFrom": name,
                **copy.deepcopy(required),
            }
        )
    constraints = {**required.get("constraints", {}), "enum": list(PRECISIONS)}
    out.append(
        {
            "name": f"{name}_precision",
            "type": "string",
            "title": f"{title}: precision",
            "title_zh": f"{title_zh}（精度）" if title_zh else "",
            "description": f"How precise {name} is: year (YYYY), month (YYYY-MM) or day (YYYY-MM-DD).",
            "derivedFrom": name,
            "constraints": constraints,
        }
    )
    return out


def release_schema(schema: dict) -> dict:
    """A resource's Table Schema as a release publishes it: the span fields (marked
    ``derivedFrom``) after each partial date. A field with a ``releaseDefault`` keeps it: the
    release has that value in every cell that is empty in data/."""
    out = copy.deepcopy(schema)
    fields = []
    for spec in out["fields"]:
        fields.append(spec)
        if is_partial_date(spec):
            fields += span_fields(spec)
    out["fields"] = fields
    return out


def release_rows(schema: dict, typed: dict[str, pa.Array], name: str = "") -> pa.Table:
    """The typed columns of a resource with the span fields added and defaults filled in."""
    columns: dict[str, pa.Array] = {}
    for spec in schema["fields"]:
        field = spec["name"]
        column = typed[field]
        if "releaseDefault" in spec:
            column = pc.fill_null(column, pa.scalar(spec["releaseDefault"], column.type))
        columns[field] = column
        if is_partial_date(spec):
            start, end, precision = spans(column)
            columns[f"{field}_start"], columns[f"{field}_end"] = start, end
            columns[f"{field}_precision"] = precision
    return arrow_table(release_schema(schema), columns, name)


def arrow_table(schema: dict, columns: dict[str, pa.Array], name: str = "") -> pa.Table:
    """Columns as an Arrow table of the schema's types, each field keeping its description
    and title, the table its primary key and Table Schema (Parquet carries them)."""
    fields, arrays = [], []
    for spec in schema["fields"]:
        column = columns[spec["name"]]
        # an integer column beyond 64 bits is held as decimals: its own type, not the default
        target = column.type if pa.types.is_decimal(column.type) else arrow_type(spec)
        if column.type != target:
            column = column.cast(target)
        meta = {"description": spec.get("description", ""), "title": spec.get("title", "")}
        fields.append(pa.field(spec["name"], target, nullable=True, metadata=meta))
        arrays.append(column)
    key = schema.get("primaryKey", [])
    meta = {
        "primary_key": json.dumps([key] if isinstance(key, str) else key),
        "table_schema": json.dumps(schema, ensure_ascii=False, sort_keys=True),
    }
    if name:
        meta = {"name": name, **meta}
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))


def sourced_table(name: str, schema: dict, raw: dict[str, pa.Array], meta: dict | None = None) -> Table:
    """A resource's raw cells (strings, null where missing) as the table a release publishes."""
    typed = {spec["name"]: to_arrow(raw[spec["name"]], spec) for spec in schema["fields"]}
    return Table(name, release_schema(schema), release_rows(schema, typed, name), meta or {})


def release_tables(package: Package, frames: dict) -> list[Table]:
    """Every table a release of the package publishes, from its raw cells (``read_package``):
    the sourced resources, then the tables derived from them."""
    from .derived import derived_tables

    out = []
    for resource in package.resources:
        frame = frames[resource.name]
        # a field the file lacks (its schema's fieldsMatch allows that) is published empty
        raw = {
            spec["name"]: _strings(frame[spec["name"]]) if spec["name"] in frame else pa.nulls(len(frame), pa.string())
            for spec in resource.fields
        }
        entry = next(r for r in package.descriptor["resources"] if r["name"] == resource.name)
        meta = {k: entry[k] for k in ("title", "description") if k in entry}
        out.append(sourced_table(resource.name, resource.schema, raw, meta))
    return out + derived_tables(package.root, {table.name: table for table in out})


def _strings(series: object) -> pa.Array:
    array = pa.array(series.array) if len(series) else pa.array([], pa.string())
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return array if array.type == pa.string() else array.cast(pa.string())
