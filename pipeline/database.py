"""The release as one SQLite database: a table per published table, typed and keyed.

Each table is declared from its Table Schema: column types, NOT NULL, CHECKs for booleans
and vocabularies, the primary key and the foreign keys. SQLite keeps a table's CREATE
statement as written, so every column carries its description as a comment there; the
``dictionary`` table holds the same descriptions (with the Chinese titles) for tools that
do not read SQL, and ``tables`` says what each table is. The file is built the same way
every time (fixed order, no timestamps, then VACUUM), so two builds give the same bytes
with the same SQLite library.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from .errors import ReleaseError
from .tables import Table

SQL_TYPES = {
    "string": "TEXT",
    "any": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATETIME",
    "time": "TEXT",
    "year": "INTEGER",
    "yearmonth": "TEXT",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def create_table(table: Table) -> str:
    """The CREATE TABLE statement of a published table, a comment on every column."""
    key = table.schema.get("primaryKey", [])
    key = [key] if isinstance(key, str) else list(key)
    parts: list[tuple[str, str]] = []
    for spec in table.fields:
        name = quote(spec["name"])
        kind = spec.get("type", "string")
        constraints = spec.get("constraints", {})
        sql_type = SQL_TYPES.get(kind, "TEXT")
        if pa.types.is_decimal(table.rows.column(spec["name"]).type):
            sql_type = "TEXT"  # integers beyond 64 bits: SQLite would round them to a REAL
        column = f"{name} {sql_type}"
        if constraints.get("required") or spec["name"] in key or "releaseDefault" in spec:
            column += " NOT NULL"
        if kind == "boolean":
            column += f" CHECK ({name} IN (0, 1))"
        elif "enum" in constraints:
            column += f" CHECK ({name} IN ({', '.join(_literal(v) for v in constraints['enum'])}))"
        parts.append((column, _comment(spec.get("description", ""))))
    if key:
        parts.append((f"PRIMARY KEY ({', '.join(quote(k) for k in key)})", ""))
    for fk in table.schema.get("foreignKeys", []):
        fields = [fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"]
        ref = fk["reference"]
        target = ref.get("resource") or table.name
        ref_fields = [ref["fields"]] if isinstance(ref["fields"], str) else ref["fields"]
        parts.append(
            (
                f"FOREIGN KEY ({', '.join(quote(f) for f in fields)}) "
                f"REFERENCES {quote(target)} ({', '.join(quote(f) for f in ref_fields)})",
                "",
            )
        )
    lines = []
    for index, (text, comment) in enumerate(parts):
        comma = "," if index < len(parts) - 1 else ""
        lines.append(f"  {text}{comma}" + (f" -- {comment}" if comment else ""))
    title = _comment(table.meta.get("description", ""))
    head = f"CREATE TABLE {quote(table.name)} (" + (f" -- {title}" if title else "")
    return head + "\n" + "\n".join(lines) + "\n)"


def _value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value != value:  # SQLite stores NaN as NULL: keep the spec's word
        return "NaN"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_META = (
    'CREATE TABLE "tables" ( -- What each table is.\n'
    '  "name" TEXT NOT NULL PRIMARY KEY, -- The table.\n'
    '  "title" TEXT, -- Its title.\n'
    '  "description" TEXT, -- What a row is.\n'
    '  "derived" BOOLEAN NOT NULL CHECK ("derived" IN (0, 1)) -- 1 when computed from the other tables.\n'
    ")",
    'CREATE TABLE "dictionary" ( -- Every column of every table, described.\n'
    '  "table_name" TEXT NOT NULL, -- The table.\n'
    '  "field" TEXT NOT NULL, -- The column.\n'
    '  "position" INTEGER NOT NULL, -- Its place in the table, from 1.\n'
    '  "type" TEXT NOT NULL, -- Its Table Schema type.\n'
    '  "title" TEXT, -- Its title.\n'
    '  "title_zh" TEXT, -- Its title in Chinese.\n'
    '  "description" TEXT, -- What it holds.\n'
    '  PRIMARY KEY ("table_name", "field"),\n'
    '  FOREIGN KEY ("table_name") REFERENCES "tables" ("name")\n'
    ")",
)


def sqlite_bytes(tables: list[Table]) -> bytes:
    """The database of the published tables, as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "guanxi.sqlite"
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA page_size = 4096")
            for statement in _META:
                connection.execute(statement)
            for table in tables:
                connection.execute(create_table(table))
                names = [spec["name"] for spec in table.fields]
                columns = [table.rows.column(name).to_pylist() for name in names]
                marks = ", ".join("?" for _ in names)
                connection.executemany(
                    f"INSERT INTO {quote(table.name)} VALUES ({marks})",
                    ([_value(v) for v in row] for row in zip(*columns, strict=True)),
                )
                derived = int(bool(table.meta.get("derived")))
                connection.execute(
                    'INSERT INTO "tables" VALUES (?, ?, ?, ?)',
                    (table.name, table.meta.get("title"), table.meta.get("description"), derived),
                )
                connection.executemany(
                    'INSERT INTO "dictionary" VALUES (?, ?, ?, ?, ?, ?, ?)',
                    [
                        (
                            table.name,
                            spec["name"],
                            position,
                            spec.get("type", "string"),
                            spec.get("title"),
                            spec.get("title_zh") or None,
                            spec.get("description"),
                        )
                        for position, spec in enumerate(table.fields, start=1)
                    ],
                )
            connection.commit()
            problems = connection.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise ReleaseError(f"the database breaks its foreign keys: {problems[:5]}")
            connection.execute("VACUUM")
        finally:
            connection.close()
        return path.read_bytes()
