"""guanxi.sqlite: every published table, typed and keyed, readable by SQLite tools as it is."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest


def _connect(release: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{release / 'guanxi.sqlite'}?mode=ro", uri=True)


def _csv_tables(release: Path) -> dict[str, int]:
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    counts = {}
    for entry in descriptor["resources"]:
        if entry.get("format") == "csv":
            rows = list(csv.reader(io.StringIO((release / entry["path"]).read_text(encoding="utf-8"))))
            counts[entry["name"]] = len(rows) - 1
    return counts


def test_the_database_has_every_table_with_the_rows_of_its_csv(released: Path) -> None:
    counts = _csv_tables(released)
    assert {"metrics", "platforms", "latest_figures", "platform_summary"} <= set(counts)
    with _connect(released) as db:
        for name, rows in counts.items():
            assert db.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0] == rows, name


def test_the_database_keeps_its_foreign_keys(released: Path) -> None:
    with _connect(released) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        keys = {(row[3], row[2], row[4]) for row in db.execute("PRAGMA foreign_key_list(metrics)")}
        assert keys == {("platform_id", "platforms", "platform_id"), ("source_id", "sources", "source_id")}
        pk = [row[1] for row in sorted(db.execute("PRAGMA table_info(features)"), key=lambda r: r[5]) if row[5]]
        assert pk == ["platform_id", "feature"]


def test_columns_are_declared_with_their_types_and_described(released: Path) -> None:
    with _connect(released) as db:
        types = {row[1]: (row[2], row[3]) for row in db.execute("PRAGMA table_info(metrics)")}
        assert types["value"] == ("INTEGER", 1)
        assert types["as_of_start"] == ("DATE", 1) and types["preferred"] == ("BOOLEAN", 1)
        assert types["segment"] == ("TEXT", 0)
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'metrics'").fetchall()[0][0]
        assert "-- The figure as a whole number" in sql
        described = db.execute(
            "SELECT title_zh, description FROM dictionary WHERE table_name = 'metrics' AND field = 'as_of_end'"
        ).fetchall()
        text = "The last day as_of covers: 2016 gives 2016-12-31, 2016-02 gives 2016-02-29."
        assert described == [("统计时间（止）", text)]
        assert db.execute("SELECT derived FROM tables WHERE name = 'latest_figures'").fetchall() == [(1,)]
        assert db.execute("SELECT typeof(preferred), typeof(as_of_end) FROM metrics LIMIT 1").fetchall() == [
            ("integer", "text")
        ]


def test_a_bad_value_is_refused_by_the_database(released: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes((released / "guanxi.sqlite").read_bytes())
    with sqlite3.connect(copy) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE metrics SET measure = 'likes' WHERE rowid = 1")


def test_sqlite_utils_opens_the_database_as_it_is(released: Path) -> None:
    sqlite_utils = pytest.importorskip("sqlite_utils")
    db = sqlite_utils.Database(released / "guanxi.sqlite")
    assert db["metrics"].pks == ["metric_id"]
    assert {fk.other_table for fk in db["events"].foreign_keys} == {"platforms", "organizations", "sources"}
    assert db["platforms"].count == _csv_tables(released)["platforms"]
    wechat = next(db["platforms"].rows_where("platform_id = ?", ["wechat"]))
    assert wechat["name_zh"] == "微信"


def test_duckdb_reads_the_database(released: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    try:
        rows = duckdb.sql(f"SELECT count(*) FROM sqlite_scan('{released / 'guanxi.sqlite'}', 'metrics')").fetchall()
    except duckdb.Error as exc:
        pytest.skip(f"DuckDB's sqlite extension is not installed and cannot be fetched here: {str(exc)[:80]}")
    assert rows[0][0] == _csv_tables(released)["metrics"]
