"""guanxi.xlsx: a README sheet and a sheet per published table, read back with pandas."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("openpyxl")  # pandas reads xlsx through it


@pytest.fixture(scope="module")
def sheets(released: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(released / "guanxi.xlsx", sheet_name=None)


def test_every_table_is_a_sheet_with_the_rows_of_its_csv(released: Path, sheets: dict[str, pd.DataFrame]) -> None:
    descriptor = json.loads((released / "datapackage.json").read_text(encoding="utf-8"))
    tables = [r["name"] for r in descriptor["resources"] if r.get("format") == "csv"]
    assert list(sheets) == ["README", *tables]
    for name in tables:
        from_csv = pd.read_csv(released / f"{name}.csv", dtype=str, keep_default_na=False)
        sheet = sheets[name]
        assert list(sheet.columns) == list(from_csv.columns), name
        assert len(sheet) == len(from_csv), name
        key = from_csv.columns[0]
        assert list(sheet[key].astype(str)) == list(from_csv[key]), name


def test_chinese_text_is_intact(released: Path, sheets: dict[str, pd.DataFrame]) -> None:
    platforms = sheets["platforms"].set_index("platform_id")
    assert platforms.loc["wechat", "name_zh"] == "微信"
    assert platforms.loc["linkedin-china", "name_zh"] == "领英"
    from_csv = pd.read_csv(released / "platforms.csv", dtype=str).set_index("platform_id")
    assert platforms["name_zh"].dropna().to_dict() == from_csv["name_zh"].dropna().to_dict()


def test_exact_dates_are_excel_dates_and_partial_dates_stay_text(sheets: dict[str, pd.DataFrame]) -> None:
    metrics = sheets["metrics"].set_index("metric_id")
    assert str(metrics["as_of_start"].dtype).startswith("datetime64")
    assert str(sheets["sources"]["accessed"].dtype).startswith("datetime64")
    row = metrics.loc["51job-mau-2016-07-bigdata"]
    assert (row["as_of"], row["as_of_end"]) == ("2016-07", pd.Timestamp("2016-07-31"))
    assert metrics["preferred"].dtype == bool
    assert metrics["value"].dtype == "int64"


def test_the_readme_sheet_says_what_each_sheet_is_the_licence_and_the_citation(
    sheets: dict[str, pd.DataFrame],
) -> None:
    text = " ".join(str(v) for v in sheets["README"].to_numpy().ravel().tolist() + list(sheets["README"].columns))
    assert "CC-BY-4.0" in text and "Cite as: guanxi contributors" in text
    for name in ("metrics", "latest_figures", "platform_summary"):
        assert name in text
