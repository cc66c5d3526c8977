"""Derived tables: answers to the first questions analysts ask, computed from the sourced tables.

Each is computed in code when a release is built, never edited by hand, and published like
a resource (marked ``derived`` in the release descriptor). Its Table Schema lives in
``schemas/derived/``; a field written ``{"from": "metrics.value"}`` is that field of the
published table, so types, vocabularies and descriptions are never written twice.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .errors import PackageError
from .package import read_json
from .schema import to_arrow
from .tables import Table, arrow_table

DERIVED_DIR = Path("schemas") / "derived"


def resolve_schema(schema: dict, published: dict[str, list[dict]]) -> dict:
    """A derived schema with each ``from`` field replaced by the field it names (its
    uniqueness and requiredness dropped: a copied column may repeat or be empty here)."""
    out = copy.deepcopy(schema)
    fields = []
    for spec in out["fields"]:
        if "from" in spec:
            resource, _, name = spec.pop("from").partition(".")
            source = next(f for f in published[resource] if f["name"] == name)
            base = copy.deepcopy(source)
            base.pop("derivedFrom", None)
            base.pop("releaseDefault", None)
            constraints = {k: v for k, v in base.get("constraints", {}).items() if k not in ("required", "unique")}
            base["constraints"] = constraints
            spec = {**base, **spec}
            if not spec["constraints"]:
                spec.pop("constraints")
        fields.append(spec)
    for spec in fields:
        if spec["name"] in out.get("primaryKey", []):
            spec.setdefault("constraints", {})["required"] = True
    out["fields"] = fields
    return out


def _frame(table: Table) -> pd.DataFrame:
    return table.rows.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)


def latest_figures(published: dict[str, Table]) -> pd.DataFrame:
    """For each platform and measure, the latest preferred observation and how many there are."""
    metrics = _frame(published["metrics"])
    for column in ("measure", "segment", "qualifier", "scope", "as_of_precision"):
        metrics[column] = metrics[column].astype("string")
    preferred = metrics[metrics["preferred"]].copy()
    preferred["all_users"] = preferred["segment"].isna()
    ordered = preferred.sort_values(
        ["platform_id", "measure", "as_of_end", "as_of_start", "all_users", "metric_id"],
        ascending=[True, True, False, False, False, True],
        kind="mergesort",
    )
    latest = ordered.drop_duplicates(["platform_id", "measure"], keep="first").copy()
    counts = preferred.groupby(["platform_id", "measure"]).size().rename("observations").reset_index()
    latest = latest.merge(counts, on=["platform_id", "measure"], how="left")
    platforms = _frame(published["platforms"])[["platform_id", "name_en", "name_zh"]]
    return latest.merge(platforms, on="platform_id", how="left")


def _ultimate(organizations: pd.DataFrame) -> dict[str, str]:
    """Each organisation's topmost parent (itself without one); a loop stops where it closes."""
    parent = dict(zip(organizations["organization_id"], organizations["parent_organization_id"], strict=True))
    top = {}
    for start in parent:
        seen, current = {start}, start
        while isinstance(parent.get(current), str) and parent[current] in parent and parent[current] not in seen:
            current = parent[current]
            seen.add(current)
        top[start] = current
    return top


def platform_summary(published: dict[str, Table]) -> pd.DataFrame:
    """One row per platform: names, status, spans, operator and the operator's ultimate parent."""
    platforms = _frame(published["platforms"])
    organizations = _frame(published["organizations"])
    names = organizations.set_index("organization_id")[["name_en", "name_zh"]]
    top = _ultimate(organizations)
    out = platforms.copy()
    operator = out["organization_id"]
    out["operator_name_en"] = operator.map(names["name_en"])
    out["operator_name_zh"] = operator.map(names["name_zh"])
    out["ultimate_organization_id"] = operator.map(top)
    out["ultimate_name_en"] = out["ultimate_organization_id"].map(names["name_en"])
    out["ultimate_name_zh"] = out["ultimate_organization_id"].map(names["name_zh"])
    return out


DERIVED: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Table]], pd.DataFrame]]] = {
    "latest_figures": (("metrics", "platforms"), latest_figures),
    "platform_summary": (("platforms", "organizations"), platform_summary),
}


def _column(values: pd.Series, spec: dict) -> pa.Array:
    """A computed column in the field's Arrow type (through text for dates and vocabularies)."""
    if spec.get("type") == "date":
        text = [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in values]
        return to_arrow(pa.array(text, pa.string()), spec)
    if spec.get("type") in ("integer", "boolean"):
        return pa.array([None if pd.isna(v) else v for v in values], pa.int64() if spec["type"] == "integer" else None)
    text = [None if pd.isna(v) else str(v) for v in values]
    return to_arrow(pa.array(text, pa.string()), spec)


def derived_schemas(root: Path, published: dict[str, list[dict]]) -> list[tuple[str, dict, dict]]:
    """(name, descriptor text, resolved schema) of each derived table the package defines,
    given the published fields of its resources."""
    out = []
    for name, (needs, _) in DERIVED.items():
        file = root / DERIVED_DIR / f"{name}.json"
        if file.is_file() and all(n in published for n in needs):
            raw, _, problems = read_json(file, f"{DERIVED_DIR}/{name}.json", "schema-error")
            if problems:  # read as every schema is: strict UTF-8 JSON, each key once
                first = problems[0]
                raise PackageError(f"{first.place}: {first.message}")
            if not isinstance(raw, dict):
                raise PackageError(f"{DERIVED_DIR}/{name}.json: a derived table's schema must be a JSON object")
            out.append((name, raw, resolve_schema(raw, published)))
    return out


def derived_tables(root: Path, published: dict[str, Table]) -> list[Table]:
    """Every derived table whose schema the package has and whose sources it publishes."""
    out = []
    for name, raw, schema in derived_schemas(root, {n: t.fields for n, t in published.items()}):
        frame = DERIVED[name][1](published).reset_index(drop=True)
        columns = {spec["name"]: _column(frame[spec["name"]], spec) for spec in schema["fields"]}
        meta = {"title": raw.get("title", name), "description": raw.get("description", ""), "derived": True}
        out.append(Table(name, schema, arrow_table(schema, columns, name), meta))
    return out
