"""Generated docs. What comes from the schemas (the data dictionary, the codes table) is
checked against schemas/ (run `make docs`); what comes from the data (the README's counts,
the timeline) describes the latest release and is checked against it, as git holds it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from workflow import fresh_repo, git, release_docs

from pipeline.docs import (
    COVERAGE_MARKERS,
    DICTIONARY_PATH,
    MARKERS,
    README_PATH,
    TIMELINE_PATH,
    build_docs,
    contributing_with_codes,
    data_digest,
    dictionary_markdown,
    release_docs_problems,
)
from pipeline.errors import DocsError
from pipeline.history import latest_tag
from pipeline.package import load_package

ROOT = Path(__file__).resolve().parent.parent


def real():
    package, problems = load_package(ROOT / "datapackage.json")
    assert problems == []
    return package


def test_the_data_dictionary_is_fresh() -> None:
    assert (ROOT / DICTIONARY_PATH).read_text(encoding="utf-8") == dictionary_markdown(real()), "run make docs"


def test_the_readme_counts_and_the_timeline_describe_the_latest_release() -> None:
    tag = latest_tag(ROOT)
    if tag is None:
        pytest.skip(
            "no vX.Y.Z tag in this repository (a clone without tags, or before the first release): "
            "the README's counts and the timeline describe the latest release, and there is none to compare with"
        )
    assert release_docs_problems(ROOT, tag) == []


def test_the_error_codes_in_contributing_are_fresh() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert contributing_with_codes(text) == text, "run make docs"


def test_every_reported_code_is_documented() -> None:
    from pipeline.report import CODES

    used = set()
    for path in (ROOT / "pipeline").glob("*.py"):
        used |= set(re.findall(r'(?:Problem|Finding)\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'@rule\(\s*"[a-z]+",\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(CODES), used - set(CODES)


def test_a_data_edit_after_a_release_keeps_the_generated_docs_fresh(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi")
    tag = release_docs(repo)
    assert release_docs_problems(repo, tag) == []
    features = repo / "data" / "features.csv"
    features.write_text(features.read_text(encoding="utf-8") + "xing,messaging,,srf-2023-10-xing\n", encoding="utf-8")
    git(repo, "commit", "-q", "-a", "-m", "A new fact")
    assert release_docs_problems(repo, tag) == []


def test_generated_docs_that_do_not_describe_the_release_are_stale(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi")
    tag = release_docs(repo)
    readme = repo / README_PATH
    text = readme.read_text(encoding="utf-8")
    readme.write_text(re.sub(r"\*\*(\d+) platforms\*\*", "**1000 platforms**", text, count=1), encoding="utf-8")
    (repo / TIMELINE_PATH).write_bytes(b"not the picture")
    assert release_docs_problems(repo, tag) == [
        f"README.md: the resource table, the coverage figures or the examples' release paths differ from {tag}",
        f"docs/timeline.png: the picture was not drawn from {tag}'s data",
    ]


def test_a_release_in_preparation_is_described_by_the_working_package(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi")
    tag = release_docs(repo)
    descriptor = repo / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    major, minor, _ = (int(n) for n in data["version"].split("."))
    data["version"] = f"{major}.{minor + 1}.0"
    descriptor.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    sources = repo / "data" / "sources.csv"
    lines = sources.read_text(encoding="utf-8").splitlines(keepends=True)
    sources.write_text("".join(lines[:-1]), encoding="utf-8")  # one row fewer than the release
    name = f"version {data['version']} (not yet tagged)"
    assert release_docs_problems(repo, tag) == [
        f"README.md: the resource table, the coverage figures or the examples' release paths differ from {name}",
        f"docs/timeline.png: the picture was not drawn from {name}'s data",
    ]
    build_docs(descriptor, release=True)
    assert release_docs_problems(repo, tag) == []
    readme = (repo / README_PATH).read_text(encoding="utf-8")  # its examples read the release make release builds
    assert f'read_parquet("dist/{data["version"]}/latest_figures.parquet")' in readme
    assert f"dist/{tag[1:]}" not in readme and f"/guanxi/{data['version']}/" in readme


def test_make_docs_leaves_what_describes_the_data_alone(package: Path) -> None:
    root = package.parent
    (root / README_PATH).write_text("<!-- resources:start -->\nold\n<!-- resources:end -->\n", encoding="utf-8")
    written = build_docs(package)
    assert written == [root / DICTIONARY_PATH]
    assert (root / README_PATH).read_text(encoding="utf-8") == "<!-- resources:start -->\nold\n<!-- resources:end -->\n"
    assert not (root / TIMELINE_PATH).exists()


def test_make_docs_again_writes_nothing_and_says_so(package: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    assert build_docs(package) != []
    dictionary = package.parent / DICTIONARY_PATH
    stamp = dictionary.stat().st_mtime_ns
    assert build_docs(package) == []
    said = CliRunner().invoke(app, ["docs", str(package)])
    assert (said.exit_code, said.stdout) == (0, "docs already fresh\n")
    assert dictionary.stat().st_mtime_ns == stamp


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


def set_languages(package: Path, one: str, two: str) -> None:
    sources = package.parent / "data" / "sources.csv"
    text = sources.read_text(encoding="utf-8")
    text = text.replace("original-reporting,en,", f"original-reporting,{one},").replace(
        "original-reporting,zh,", f"original-reporting,{two},"
    )
    sources.write_text(text, encoding="utf-8")


def test_every_language_of_the_sources_is_named_by_its_primary_tag(package: Path) -> None:
    set_languages(package, "id", "zh-Hant")
    assert "**2 sources** (1 in Chinese, 1 in Indonesian)" in _coverage(package)


def test_a_source_in_any_language_of_iso_639_1_is_counted_by_the_languages_name(package: Path) -> None:
    set_languages(package, "sw", "bn-IN")
    assert "**2 sources** (1 in Bengali, 1 in Swahili)" in _coverage(package)


def test_a_language_without_a_name_stops_the_release_docs_naming_the_tag(package: Path) -> None:
    set_languages(package, "en", "xx")
    with pytest.raises(DocsError, match=r"^data/sources\.csv: language 'xx' has no name for the README's"):
        _coverage(package)


README_MARKERS = [*MARKERS, *COVERAGE_MARKERS]


@pytest.mark.parametrize("marker", README_MARKERS)
def test_release_docs_refuse_a_readme_without_one_of_its_markers_and_write_nothing(package: Path, marker: str) -> None:
    root = package.parent
    readme = "# Package\n\n" + "".join(f"{start}\nold\n{end}\n\n" for start, end in (MARKERS, COVERAGE_MARKERS))
    (root / README_PATH).write_text(readme.replace(marker, ""), encoding="utf-8")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(DocsError, match=f"^README.md: no {marker} line"):
        build_docs(package, release=True)
    assert (root / README_PATH).read_text(encoding="utf-8") == readme.replace(marker, "")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # no dictionary, no timeline


def test_a_contributing_that_is_not_utf8_is_named_with_its_line_and_column(package: Path) -> None:
    root = package.parent
    (root / "CONTRIBUTING.md").write_bytes(b"# Contributing\n\nan \xff byte\n")
    with pytest.raises(DocsError, match=r"^CONTRIBUTING.md:3:4: bytes ff are not valid UTF-8; expected a UTF-8"):
        build_docs(package)
    assert not (root / DICTIONARY_PATH).exists()


def test_the_validation_examples_in_the_readme_and_contributing_are_what_validate_prints(real_package: Path) -> None:
    import csv
    import io

    from pipeline.report import FORMATTERS
    from pipeline.validation import validate

    metrics = real_package.parent / "data" / "metrics.csv"
    lines = metrics.read_text(encoding="utf-8").split("\n")
    row = next(csv.reader([lines[11]]))  # line 12, as the examples say
    row[4] = "20 million"  # column 5, value
    cell = io.StringIO()
    csv.writer(cell, lineterminator="").writerow(row)
    lines[11] = cell.getvalue()
    metrics.write_text("\n".join(lines), encoding="utf-8")
    report = validate(real_package)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lead = "A problem is reported on the line and column that cause it:\n\n```\n"
    shown = readme.split(lead, 1)[1].split("```", 1)[0]
    assert FORMATTERS["text"](report).strip() == shown.strip()
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", contributing, re.S).group(1))
    assert json.loads(FORMATTERS["json"](report)) == example
