"""Partial dates become real dates in a release, and booleans have no missing values, so that
plain pandas, polars and DuckDB give right answers without knowing the package's conventions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline.spans import spans

D = dt.date


@pytest.mark.parametrize(
    ("value", "start", "end", "precision"),
    [
        ("2016", D(2016, 1, 1), D(2016, 12, 31), "year"),
        ("1900", D(1900, 1, 1), D(1900, 12, 31), "year"),
        ("2016-02", D(2016, 2, 1), D(2016, 2, 29), "month"),  # a leap year
        ("2015-02", D(2015, 2, 1), D(2015, 2, 28), "month"),
        ("2000-02", D(2000, 2, 1), D(2000, 2, 29), "month"),  # divisible by 400: leap
        ("1900-02", D(1900, 2, 1), D(1900, 2, 28), "month"),  # divisible by 100: not leap
        ("2021-04", D(2021, 4, 1), D(2021, 4, 30), "month"),
        ("2021-12", D(2021, 12, 1), D(2021, 12, 31), "month"),  # the month after is next year's
        ("2016-02-29", D(2016, 2, 29), D(2016, 2, 29), "day"),
        ("1999-12-31", D(1999, 12, 31), D(1999, 12, 31), "day"),
        ("1970-01-01", D(1970, 1, 1), D(1970, 1, 1), "day"),
        ("1969-12-31", D(1969, 12, 31), D(1969, 12, 31), "day"),
    ],
)
def test_a_partial_date_spans_the_days_it_covers(value: str, start: D, end: D, precision: str) -> None:
    first, last, words = spans(pa.array([value, None]))
    assert first.to_pylist() == [start, None]
    assert last.to_pylist() == [end, None]
    assert words.to_pylist() == [precision, None]
    assert first.type == pa.date32() and last.type == pa.date32()


def test_every_day_of_a_span_lies_between_its_start_and_end() -> None:
    days = [D(1999, 1, 1) + dt.timedelta(n) for n in range(366 * 3)]
    values = [d.isoformat()[:7] for d in days] + [d.isoformat()[:4] for d in days]
    first, last, _ = spans(pa.array(values))
    for day, start, end in zip(days + days, first.to_pylist(), last.to_pylist(), strict=True):
        assert start <= day <= end
        assert (end + dt.timedelta(1)).day == 1  # a span ends on the last day of its month


# The fixture package's partial dates and the spans a release must give them.
EXPECTED = {
    ("metrics", "alpha-users-2011", "as_of"): ("2011-01-01", "2011-12-31", "year"),
    ("metrics", "beta-users-2013", "as_of"): ("2013-07-01", "2013-07-31", "month"),
    ("platforms", "beta", "launched"): ("2012-05-01", "2012-05-31", "month"),
    ("platforms", "beta", "closed"): ("2015-11-30", "2015-11-30", "day"),
    ("platforms", "alpha", "closed"): (None, None, None),
    ("organizations", "org-b", "founded"): ("2009-03-01", "2009-03-31", "month"),
    ("sources", "s-two", "published"): ("2016-01-01", "2016-12-31", "year"),
}
KEYS = {"metrics": "metric_id", "platforms": "platform_id", "organizations": "organization_id", "sources": "source_id"}


def _iso(value: object) -> str | None:
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.date().isoformat() if isinstance(value, pd.Timestamp | dt.datetime) else str(value)


def _read_spans(root: Path, fmt: str) -> dict[tuple[str, str, str], tuple]:
    """The spans of EXPECTED as each format gives them, read with nothing but the format's reader."""
    out = {}
    for resource, key in KEYS.items():
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO((root / f"{resource}.csv").read_text(encoding="utf-8"))))
        elif fmt == "json":
            rows = json.loads((root / f"{resource}.json").read_text(encoding="utf-8"))
        elif fmt == "parquet":
            rows = pq.read_table(root / f"{resource}.parquet").to_pylist()
        elif fmt == "xlsx":
            rows = pd.read_excel(root / "guanxi.xlsx", sheet_name=resource).to_dict("records")
        elif fmt == "sqlite":
            with sqlite3.connect(root / "guanxi.sqlite") as db:
                db.row_factory = sqlite3.Row
                rows = [dict(r) for r in db.execute(f'SELECT * FROM "{resource}"')]
        else:
            rows = pipeline.load(root, format=fmt.split(":")[1])[resource].to_dict("records")
        for row in rows:
            for (name, ident, field), _ in EXPECTED.items():
                if name == resource and row[key] == ident:
                    precision = row[f"{field}_precision"]
                    out[(name, ident, field)] = (
                        _iso(row[f"{field}_start"]),
                        _iso(row[f"{field}_end"]),
                        None if precision is None or precision == "" or pd.isna(precision) else str(precision),
                    )
    return out


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "sqlite", "xlsx", "load:parquet", "load:csv", "load:json"])
def test_every_format_gives_the_same_spans(fixture_release: Path, fmt: str) -> None:
    assert _read_spans(fixture_release, fmt) == EXPECTED


def test_the_loader_gives_spans_as_datetime64(fixture_release: Path) -> None:
    metrics = pipeline.load(fixture_release)["metrics"]
    assert str(metrics["as_of_start"].dtype) == "datetime64[s]"
    assert str(metrics["as_of_end"].dtype) == "datetime64[s]"
    assert list(metrics["as_of_precision"].cat.categories) == ["year", "month", "day"]


def test_parquet_stores_spans_as_date32(released: Path) -> None:
    schema = pq.read_schema(released / "events.parquet")
    assert schema.field("date_start").type == pa.date32() and schema.field("date_end").type == pa.date32()
    assert schema.field("date").type == pa.string()  # the value itself keeps its source's precision


def test_polars_reads_spans_as_dates_without_a_cast(released: Path) -> None:
    pl = pytest.importorskip("polars")
    metrics = pl.read_parquet(released / "metrics.parquet")
    assert metrics.schema["as_of_start"] == pl.Date and metrics.schema["as_of_end"] == pl.Date
    assert metrics.schema["preferred"] == pl.Boolean
    from_csv = pl.read_csv(released / "metrics.csv", try_parse_dates=True)
    assert from_csv.schema["as_of_end"] == pl.Date and from_csv.schema["preferred"] == pl.Boolean


def test_duckdb_reads_spans_as_dates_without_a_cast(released: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    for path in ("metrics.parquet", "metrics.csv"):
        rows = duckdb.sql(f"DESCRIBE SELECT * FROM '{released / path}'").fetchall()
        types = {row[0]: row[1] for row in rows}
        assert types["as_of_start"] == "DATE" and types["as_of_end"] == "DATE", path
        assert types["preferred"] == "BOOLEAN", path
    parquet = released / "metrics.parquet"
    latest = duckdb.sql(f"SELECT max(as_of_end) FROM '{parquet}'").fetchall()[0][0]
    assert isinstance(latest, dt.date)


def test_preferred_is_never_missing_in_any_released_file(released: Path) -> None:
    for resource in ("events", "metrics"):
        assert pd.read_parquet(released / f"{resource}.parquet")["preferred"].dtype == bool
        assert pd.read_csv(released / f"{resource}.csv")["preferred"].dtype == bool
        assert pd.read_json(released / f"{resource}.json")["preferred"].dtype == bool
        loaded = pipeline.load(released)[resource]["preferred"]
        assert not loaded.isna().any()
    platforms = pd.read_parquet(released / "platforms.parquet")
    assert platforms["closed_unknown"].dtype == bool


def test_a_claim_without_a_rival_is_preferred_and_a_rejected_one_is_not(released: Path) -> None:
    source = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "metrics.csv", dtype=str)
    released_metrics = pd.read_parquet(released / "metrics.parquet").set_index("metric_id")
    marked = source.set_index("metric_id")["preferred"]
    assert (released_metrics.loc[marked.isna()[lambda s: s].index, "preferred"]).all()
    assert not released_metrics.loc[marked[marked == "false"].index, "preferred"].any()
    assert released_metrics.loc[marked[marked == "true"].index, "preferred"].all()
    # The question that went wrong: every claim that is not rejected.
    assert (released_metrics["preferred"] != False).sum() == (marked != "false").sum()  # noqa: E712


def test_the_release_descriptor_declares_the_span_fields(released: Path) -> None:
    descriptor = json.loads((released / "datapackage.json").read_text(encoding="utf-8"))
    metrics = next(r for r in descriptor["resources"] if r["name"] == "metrics")
    fields = {f["name"]: f for f in metrics["schema"]["fields"]}
    assert fields["as_of_start"]["type"] == "date" and fields["as_of_end"]["type"] == "date"
    assert fields["as_of_precision"]["constraints"]["enum"] == ["year", "month", "day"]
    assert fields["preferred"]["releaseDefault"] is True
    assert fields["as_of_end"]["derivedFrom"] == "as_of"
    dictionary = (released / "DATA-DICTIONARY.md").read_text(encoding="utf-8")
    assert "| `as_of_start` |" in dictionary and "| `as_of_precision` |" in dictionary


def test_a_release_default_must_be_a_boolean_on_a_boolean_field(package: Path) -> None:
    schema_file = package.parent / "schemas" / "metrics.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    for spec in schema["fields"]:
        if spec["name"] in ("preferred", "note"):
            spec["releaseDefault"] = "yes"
    schema_file.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    problems = pipeline.validate(str(package)).problems
    flagged = {p.field for p in problems if p.code == "schema-error" and "releaseDefault" in p.message}
    assert flagged == {"preferred", "note"}, problems
