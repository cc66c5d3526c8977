"""The data dictionary, the README's resource table and the timeline are generated from
the schemas and the data; these tests fail when they are stale (run `make docs`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.docs import (
    DICTIONARY_PATH,
    TIMELINE_PATH,
    contributing_with_codes,
    data_digest,
    dictionary_markdown,
    png_digest,
    readme_with_resources,
)
from pipeline.package import load_package

ROOT = Path(__file__).resolve().parent.parent


def real():
    package, problems = load_package(ROOT / "datapackage.json")
    assert problems == []
    return package


def test_the_data_dictionary_is_fresh() -> None:
    assert (ROOT / DICTIONARY_PATH).read_text(encoding="utf-8") == dictionary_markdown(real()), "run make docs"


def test_the_readme_resource_table_is_fresh() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_resources(readme, real()) == readme, "run make docs"


def test_the_error_codes_in_contributing_are_fresh() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert contributing_with_codes(text) == text, "run make docs"


def test_every_reported_code_is_documented() -> None:
    import re

    from pipeline.report import CODES

    used = set()
    for path in (ROOT / "pipeline").glob("*.py"):
        used |= set(re.findall(r'(?:Problem|Finding)\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'@rule\(\s*"[a-z]+",\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(CODES), used - set(CODES)


def test_the_timeline_was_drawn_from_the_current_data() -> None:
    assert png_digest(ROOT / TIMELINE_PATH) == data_digest(real()), "run make docs"


def test_the_dictionary_describes_every_field_with_its_chinese_title() -> None:
    text = dictionary_markdown(real())
    for resource in real().resources:
        assert f"## {resource.name}" in text
        for spec in resource.fields:
            assert f"| `{spec['name']}` | {spec['title_zh']} |" in text


def test_a_schema_change_makes_the_dictionary_stale(package: Path) -> None:
    package_before, _ = load_package(package)
    schema = package.parent / "schemas" / "platforms.json"
    schema.write_text(
        schema.read_text(encoding="utf-8").replace("The platform's main kind of service.", "The kind of service."),
        encoding="utf-8",
    )
    package_after, _ = load_package(package)
    assert dictionary_markdown(package_after) != dictionary_markdown(package_before)


def test_the_timeline_digest_follows_the_data(package: Path) -> None:
    package_before, _ = load_package(package)
    before = data_digest(package_before)
    metrics = package.parent / "data" / "metrics.csv"
    metrics.write_text(metrics.read_text(encoding="utf-8").replace(",250000,", ",260000,"), encoding="utf-8")
    assert data_digest(package_before) != before


def _coverage(package: Path) -> str:
    from pipeline.docs import coverage_summary

    loaded, problems = load_package(package)
    assert problems == []
    return coverage_summary(loaded)


def test_the_coverage_counts_every_citation_of_a_source_by_provenance(package: Path) -> None:
    # The fixture cites s-one 9 times and s-two 6 times, across every table with a source column.
    assert "**15 citations** by fact rows (15 original-reporting); **0.0%** (0)" in _coverage(package)


def test_a_repost_counts_as_a_weak_citation_each_time_it_is_cited(package: Path) -> None:
    sources = package.parent / "data" / "sources.csv"
    sources.write_text(
        sources.read_text(encoding="utf-8").replace(
            "2016,2026-11-26,news,original-reporting", "2016,2026-11-26,news,repost"
        ),
        encoding="utf-8",
    )
    assert "(9 original-reporting, 6 repost); **40.0%** (6) rest on a repost" in _coverage(package)


def test_a_blog_is_weak_whatever_its_provenance(package: Path) -> None:
    sources = package.parent / "data" / "sources.csv"
    sources.write_text(
        sources.read_text(encoding="utf-8").replace("2015-06,2026-11-26,news,", "2015-06,2026-11-26,blog,"),
        encoding="utf-8",
    )
    assert "**60.0%** (9)" in _coverage(package)
