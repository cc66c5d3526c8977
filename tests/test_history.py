"""The previous release comes from git: tags vX.Y.Z, and diff against a tag or commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from workflow import git

from pipeline.cli import app
from pipeline.compare import diff
from pipeline.errors import PackageError
from pipeline.history import changed_files, files_at, latest_tag, release_tags

runner = CliRunner()


@pytest.fixture
def repo(package: Path) -> Path:
    """The fixture package committed once in a new git repository."""
    root = package.parent
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The package")
    return root


def edit_metric(root: Path) -> None:
    file = root / "data" / "metrics.csv"
    text = file.read_text(encoding="utf-8")
    assert ",250000," in text
    file.write_text(text.replace(",250000,", ",260000,"), encoding="utf-8")


def test_the_latest_tag_is_the_highest_version_and_other_tags_are_ignored(repo: Path) -> None:
    assert latest_tag(repo) is None
    for tag in ("v0.9.0", "v0.10.0", "v0.2.0", "release-1", "v1.0", "v2.0.0-rc1"):
        git(repo, "tag", tag)
    assert release_tags(repo) == ["v0.2.0", "v0.9.0", "v0.10.0"]
    assert latest_tag(repo) == "v0.10.0"


def test_outside_a_repository_there_is_no_tag(package: Path) -> None:
    assert latest_tag(package.parent) is None and changed_files(package.parent, ["data"]) == []


def test_diff_against_a_tag_reads_the_tagged_package_from_git(repo: Path) -> None:
    git(repo, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    edit_metric(repo)
    result = diff("v1.0.0", repo)
    [change] = next(r for r in result.resources if r.name == "metrics").changed
    assert (change.key, change.old, change.new) == ("beta-users-2013", "250000", "260000")
    assert result.bump == "patch"
    assert git(repo, "status", "--porcelain").stdout == " M data/metrics.csv\n"  # the work tree untouched
    assert git(repo, "worktree", "list").stdout.count("\n") == 1


def test_either_side_may_be_a_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    edit_metric(repo)
    git(repo, "commit", "-q", "-am", "A fixed figure")
    assert diff(first, "HEAD", repo=repo).bump == "patch"
    assert diff("HEAD", first[:10], repo=repo).bump == "patch"
    assert diff("HEAD", repo).bump == "none"


def test_files_at_a_tag_are_gone_afterwards(repo: Path) -> None:
    git(repo, "tag", "v1.0.0")
    with files_at(repo, "v1.0.0") as folder:
        assert json.loads((folder / "datapackage.json").read_text())["name"] == "guanxi"
    assert not folder.exists()


def test_diff_without_an_older_side_compares_with_the_latest_tag(repo: Path, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["diff"])
    assert result.exit_code == 2
    assert result.stderr == (
        "diff failed: no vX.Y.Z tag yet, so no release to compare with: name a release folder, tag or commit\n"
    )
    git(repo, "tag", "v1.0.0")
    edit_metric(repo)
    result = runner.invoke(app, ["diff"])
    assert result.exit_code == 0 and "'250000' -> '260000'" in result.stdout
    assert runner.invoke(app, ["diff", "v1.0.0", "."]).stdout == result.stdout


def test_an_unknown_reference_is_one_line_and_exit_2(repo: Path, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["diff", "v9.9.9", "."])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "diff failed: unknown reference 'v9.9.9': no such folder or descriptor, "
        f"nor a tag or commit of {repo.resolve()}\n"
    )
    assert runner.invoke(app, ["diff", "--", "--output=x", "."]).exit_code == 2
    monkeypatch.chdir(repo.parent)  # a tag is looked up in the current folder's repository: none here
    with pytest.raises(PackageError, match="not a git repository"):
        diff("v1.0.0", repo.parent)
    assert not (repo / "x").exists()


def test_a_tag_compares_with_a_release_folder_or_zip_inside_or_outside_the_clone(
    repo: Path, tmp_path: Path, monkeypatch
) -> None:
    import shutil

    from pipeline.publish import build

    git(repo, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    edit_metric(repo)
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git"))
    downloaded = build(copy / "datapackage.json", out=tmp_path / "downloads")  # no part of any repository
    in_dist = repo / "dist" / downloaded.name  # where make release puts it: never committed
    shutil.copytree(downloaded, in_dist)
    monkeypatch.chdir(repo)
    zips = sorted(in_dist.glob("*.zip"))
    for release in [downloaded, in_dist.relative_to(repo), *zips]:
        for sides in (["v1.0.0", str(release)], [str(release), "v1.0.0"]):
            result = runner.invoke(app, ["diff", *sides])
            assert result.exit_code == 0, (sides, result.output)
            assert "beta-users-2013" in result.output and "250000" in result.output
