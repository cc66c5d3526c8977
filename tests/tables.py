"""Small generic packages built in a test: one or two tables with inline Table Schemas."""

from __future__ import annotations

import json
from pathlib import Path


def build(root: Path, tables: dict[str, tuple[dict, str]], **descriptor: object) -> Path:
    """A package of the given tables (name: (Table Schema, CSV text)); return its descriptor."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    resources = []
    for name, (schema, text) in tables.items():
        (root / "data" / f"{name}.csv").write_text(text, encoding="utf-8")
        resources.append({"name": name, "path": f"data/{name}.csv", "format": "csv", "schema": schema})
    body = {"name": "probe", "version": "1.0.0", **descriptor, "resources": resources}
    (root / "datapackage.json").write_text(json.dumps(body, indent=2), encoding="utf-8")
    # a release carries the CHANGELOG.md entry of its version
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n## {body['version']}\n\nBuilt by a test.\n", encoding="utf-8")
    return root / "datapackage.json"


def one_field(kind: str, cells: list[str], **spec: object) -> tuple[dict, str]:
    """A table of one field ``v`` of the given type, one cell per row."""
    schema = {"fields": [{"name": "v", "type": kind, **spec}]}
    return schema, "v\n" + "".join(f"{quoted(c)}\n" for c in cells)


def quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n') else cell
