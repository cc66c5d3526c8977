"""The derived tables: computed from the sourced tables when a release is built, marked
derived, and right on the fixture package, whose answers are worked out by hand here."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline.publish import build

D = dt.date


def test_latest_figures_on_the_fixture(fixture_release: Path) -> None:
    rows = json.loads((fixture_release / "latest_figures.json").read_text(encoding="utf-8"))
    assert rows == [
        {
            "platform_id": "alpha", "name_en": "Alpha", "name_zh": "阿尔法", "measure": "registered-users",
            "value": 1000000, "qualifier": "more-than", "scope": "china", "segment": None, "as_of": "2011",
            "as_of_start": "2011-01-01", "as_of_end": "2011-12-31", "as_of_precision": "year",
            "metric_id": "alpha-users-2011", "source_id": "s-one", "observations": 1,
        },
        {
            "platform_id": "beta", "name_en": "Beta", "name_zh": "贝塔", "measure": "monthly-active-users",
            "value": 250000, "qualifier": "approximately", "scope": "china", "segment": "job-seekers",
            "as_of": "2013-07", "as_of_start": "2013-07-01", "as_of_end": "2013-07-31", "as_of_precision": "month",
            "metric_id": "beta-users-2013", "source_id": "s-two", "observations": 1,
        },
    ]  # fmt: skip


def test_platform_summary_on_the_fixture(fixture_release: Path) -> None:
    frame = pipeline.load(fixture_release)["platform_summary"].set_index("platform_id")
    alpha, beta = frame.loc["alpha"], frame.loc["beta"]
    # Alpha is run by Alpha Networks (org-b), whose parent is Alpha Holdings (org-a).
    assert (alpha["organization_id"], alpha["operator_name_en"]) == ("org-b", "Alpha Networks")
    assert pd.isna(alpha["operator_name_zh"])
    assert (alpha["ultimate_organization_id"], alpha["ultimate_name_en"], alpha["ultimate_name_zh"]) == (
        "org-a", "Alpha Holdings", "阿尔法控股",
    )  # fmt: skip
    assert alpha["launched_start"] == pd.Timestamp("2010-01-01") and alpha["launched_end"] == pd.Timestamp(
        "2010-12-31"
    )
    assert pd.isna(alpha["closed_start"]) and not alpha["closed_unknown"]
    assert (beta["status"], beta["closed"], beta["closed_precision"]) == ("defunct", "2015-11-30", "day")
    assert beta["launched_end"] == pd.Timestamp("2012-05-31")
    assert (beta["name_zh"], beta["pinyin"]) == ("贝塔", "Beita")


# Rows added to the fixture's metrics to exercise the choice of the latest figure.
MORE_METRICS = """\
metric_id,platform_id,measure,segment,value,qualifier,scope,as_of,preferred,note,source_id
alpha-users-2011,alpha,registered-users,,1000000,more-than,china,2011,,,s-one
alpha-users-2012,alpha,registered-users,,1400000,approximately,china,2012,,,s-one
alpha-users-2012-03,alpha,registered-users,,1500000,exact,china,2012-03,,,s-two
alpha-users-2013-a,alpha,registered-users,,2000000,exact,china,2013,false,rejected,s-one
alpha-users-2013-b,alpha,registered-users,,2100000,exact,china,2013,true,followed,s-two
beta-mau-2013-07-all,beta,monthly-active-users,,300000,approximately,china,2013-07,,,s-two
beta-users-2013,beta,monthly-active-users,job-seekers,250000,approximately,china,2013-07,,,s-two
"""


@pytest.fixture(scope="module")
def richer_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import make_package

    descriptor = make_package(tmp_path_factory.mktemp("richer") / "package")
    (descriptor.parent / "data" / "metrics.csv").write_text(MORE_METRICS, encoding="utf-8")
    assert pipeline.validate(str(descriptor)).problems == []
    return build(descriptor, out=tmp_path_factory.mktemp("richer-dist"))


def test_the_latest_figure_is_the_preferred_one_whose_span_ends_last(richer_release: Path) -> None:
    latest = pd.read_csv(richer_release / "latest_figures.csv").set_index(["platform_id", "measure"])
    alpha = latest.loc[("alpha", "registered-users")]
    # 2013 ends last; of its two claims the rejected one is left out; 2012 ends after 2012-03.
    assert (alpha["metric_id"], alpha["value"], alpha["observations"]) == ("alpha-users-2013-b", 2100000, 4)
    beta = latest.loc[("beta", "monthly-active-users")]
    # Two figures of the same month: the one that counts all users comes first.
    assert (beta["metric_id"], beta["value"], beta["observations"]) == ("beta-mau-2013-07-all", 300000, 2)
    assert len(latest) == 2


def test_derived_tables_are_marked_in_the_descriptor_and_load_from_every_format(fixture_release: Path) -> None:
    descriptor = json.loads((fixture_release / "datapackage.json").read_text(encoding="utf-8"))
    entries = {r["name"]: r for r in descriptor["resources"]}
    for name in ("latest_figures", "platform_summary"):
        for entry in (entries[name], entries[f"{name}-json"], entries[f"{name}-parquet"]):
            assert entry["derived"] is True and entry["description"].startswith("Derived")
    assert not any(entries[n].get("derived") for n in ("metrics", "platforms"))
    frames = {fmt: pipeline.load(fixture_release, format=fmt) for fmt in ("parquet", "csv", "json")}
    for name in ("latest_figures", "platform_summary"):
        pd.testing.assert_frame_equal(frames["csv"][name], frames["parquet"][name], check_exact=True)
        pd.testing.assert_frame_equal(frames["csv"][name], frames["json"][name], check_exact=True)


def test_the_real_latest_figures_have_one_row_per_platform_and_measure(released: Path) -> None:
    frames = pipeline.load(released)
    latest, metrics = frames["latest_figures"], frames["metrics"]
    assert not latest.duplicated(["platform_id", "measure"]).any()
    preferred = metrics[metrics["preferred"]]
    assert len(latest) == len(preferred.groupby(["platform_id", "measure"], observed=True))
    assert latest["observations"].sum() == len(preferred)
    joined = latest.merge(metrics, on="metric_id", suffixes=("", "_m"))
    assert (joined["value"] == joined["value_m"]).all() and joined["preferred"].all()
    summary = frames["platform_summary"]
    assert list(summary["platform_id"]) == list(frames["platforms"]["platform_id"])


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"{\xff", "schemas/derived/latest_figures.json:1: not valid UTF-8 at byte 1"),
        (b'{"title": "a",\n "title": "b"}', "schemas/derived/latest_figures.json:2:2: the key 'title' appears twice"),
        (b"[]", "schemas/derived/latest_figures.json: a derived table's schema must be a JSON object"),
    ],
)
def test_a_derived_schema_that_cannot_be_read_is_one_line_not_a_crash(package: Path, content: bytes, said: str) -> None:
    from pipeline.derived import derived_schemas

    (package.parent / "schemas" / "derived" / "latest_figures.json").write_bytes(content)
    with pytest.raises(pipeline.PackageError) as refused:
        derived_schemas(package.parent, {name: [] for name in ("metrics", "platforms", "organizations")})
    assert str(refused.value).startswith(said), refused.value
