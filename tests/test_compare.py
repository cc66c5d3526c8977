"""diff: rows added, removed and changed by primary key, schema changes and the semver bump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import set_version

from pipeline.compare import changelog_entry, diff, render
from pipeline.errors import DiffError
from pipeline.publish import build

pytestmark = pytest.mark.fixtures_only

OLD = "1.4.2"  # the fixture's own version, so that the expected numbers read plainly


@pytest.fixture
def old_release(package: Path, tmp_path: Path) -> Path:
    set_version(package, OLD)
    return build(package, out=tmp_path / "dist")


def edit(package: Path, name: str, old: str, new: str) -> None:
    file = package.parent / "data" / f"{name}.csv"
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")


def test_a_planted_added_removed_and_changed_row_is_reported(old_release: Path, package: Path) -> None:
    edit(package, "features", "beta,messaging,,s-two\n", "beta,messaging,,s-two\nbeta,video-calls,,s-two\n")
    edit(package, "features", "alpha,job-listings,,s-one\n", "")
    edit(package, "metrics", ",250000,", ",260000,")
    result = diff(old_release, package)
    by_name = {r.name: r for r in result.resources}
    assert by_name["features"].added == ["beta|video-calls"]
    assert by_name["features"].removed == ["alpha|job-listings"]
    [change] = by_name["metrics"].changed
    assert (change.key, change.field, change.old, change.new) == ("beta-users-2013", "value", "250000", "260000")
    assert result.bump == "minor"
    text = render(result, "text")
    assert "+ beta|video-calls" in text and "- alpha|job-listings" in text and "'250000' -> '260000'" in text


def test_a_fixed_value_alone_is_a_patch(old_release: Path, package: Path) -> None:
    edit(package, "metrics", ",250000,", ",260000,")
    assert diff(old_release, package).bump == "patch"


def schema_edit(package: Path, name: str, fn) -> None:
    file = package.parent / "schemas" / f"{name}.json"
    schema = json.loads(file.read_text(encoding="utf-8"))
    fn(schema)
    file.write_text(json.dumps(schema), encoding="utf-8")


def field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


@pytest.mark.parametrize(
    ("change", "bump"),
    [
        (lambda s: field(s, "note").update(name="remark"), "major"),
        (lambda s: field(s, "note").update(type="integer"), "major"),
        (lambda s: field(s, "note")["constraints"].update(maxLength=100), "major"),
        (lambda s: field(s, "note")["constraints"].update(maxLength=5000), "minor"),
        (lambda s: field(s, "feature")["constraints"]["enum"].append("podcasts"), "minor"),
        (lambda s: field(s, "feature")["constraints"]["enum"].remove("video-calls"), "major"),
        (lambda s: field(s, "note").update(description="Said differently."), "patch"),
    ],
    ids=["renamed", "retyped", "tightened", "loosened", "enum-grown", "enum-shrunk", "described"],
)
def test_a_planted_schema_change_gets_the_right_bump(old_release: Path, package: Path, change, bump: str) -> None:
    schema_edit(package, "features", change)
    if bump == "major" and "remark" in (package.parent / "schemas" / "features.json").read_text():
        edit(package, "features", "platform_id,feature,note,source_id", "platform_id,feature,remark,source_id")
    result = diff(old_release, package)
    assert result.bump == bump
    assert result.suggested_version == {"major": "2.0.0", "minor": "1.5.0", "patch": "1.4.3"}[bump]


def test_an_unchanged_package_needs_no_bump(old_release: Path, package: Path) -> None:
    result = diff(old_release, package)
    assert result.bump == "none"
    assert all(not (r.added or r.removed or r.changed) for r in result.resources)


def test_the_version_is_checked_against_the_bump(old_release: Path, package: Path) -> None:
    edit(package, "features", "beta,messaging,,s-two\n", "beta,messaging,,s-two\nbeta,video-calls,,s-two\n")
    result = diff(old_release, package)
    assert result.version_ok is False  # the working package still says 1.4.2
    set_version(package, "1.4.3")
    assert diff(old_release, package).version_ok is False
    set_version(package, "1.5.0")
    assert diff(old_release, package).version_ok is True


def test_markdown_and_json_renderings(old_release: Path, package: Path) -> None:
    edit(package, "metrics", ",250000,", ",260000,")
    result = diff(old_release, package)
    assert "| metrics | 0 | 0 | 1 |" in render(result, "markdown")
    assert json.loads(render(result, "json"))["bump"] == "patch"


def test_a_diff_before_any_bump_does_not_read_as_a_version_against_itself(old_release: Path, package: Path) -> None:
    edit(package, "metrics", ",250000,", ",260000,")  # a pull request: the version is the release's still
    result = diff(old_release, package)
    version = result.old_version
    assert result.new_version == version
    assert render(result, "text").startswith(f"{version} (version not changed): changes call for a patch bump")
    assert render(result, "markdown").startswith(f"## Changes since {version}\n\nCompared with {version}: ")
    assert changelog_entry(result, "9.9.9").startswith("## 9.9.9\n")  # a release's entry keeps its version


def test_a_release_carries_the_changelog_as_written_not_a_diff_of_dist(old_release: Path, package: Path) -> None:
    edit(package, "features", "beta,messaging,,s-two\n", "beta,messaging,,s-two\nbeta,video-calls,,s-two\n")
    set_version(package, "1.5.0", "A video-calls feature for beta.")
    newer = build(package, out=old_release.parent)
    entry = (newer / "CHANGELOG.md").read_text(encoding="utf-8")
    assert entry.startswith("# Changelog") and "## 1.5.0\n\nA video-calls feature for beta.\n" in entry


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("alpha,job-listings,,s-one", "alpha,job-listings,,s-one,more", r"data/features\.csv:2: extra-cell"),
        ("beta,messaging,,s-two", 'beta,"messaging,,s-two', r"data/features\.csv:3:2: quote-error"),
    ],
)
def test_a_side_whose_rows_cannot_be_read_cell_for_cell_is_refused(
    old_release: Path, package: Path, old: str, new: str, expected: str
) -> None:
    edit(package, "features", old, new)
    with pytest.raises(DiffError, match=f"resource features: cannot be compared cell for cell: {expected}"):
        diff(old_release, package)


def test_a_release_file_that_does_not_match_its_sha256_is_refused(old_release: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(old_release, copy)
    file = copy / "features.csv"
    file.write_text(file.read_text(encoding="utf-8").replace("alpha,", "Alpha,", 1), encoding="utf-8")
    with pytest.raises(DiffError, match=r"features\.csv does not match the sha256 its descriptor gives"):
        diff(old_release, copy)


def test_a_release_zip_compares_as_its_folder(old_release: Path, package: Path) -> None:
    archive = next(old_release.glob("guanxi-*.zip"))
    assert render(diff(archive, old_release), "text") == render(diff(old_release, old_release), "text")
    assert diff(archive, package).resources == diff(old_release, package).resources
