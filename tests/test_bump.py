"""make bump: the version due since the latest tag, written everywhere, with its changelog
entry drafted; refused, with nothing written, when there is nothing to release or the
version set by hand is lower than due."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner
from workflow import git

from pipeline.bump import bump, plan
from pipeline.changelog import entry
from pipeline.cli import app
from pipeline.errors import ReleaseError

runner = CliRunner()
OLD = "2.3.4"  # the fixture's own version


@pytest.fixture
def repo(package: Path) -> Path:
    """The fixture package at version 2.3.4, with a README, pyproject.toml and CITATION.cff,
    committed and tagged v2.3.4 in a new git repository."""
    root = package.parent
    data = json.loads(package.read_text(encoding="utf-8"))
    data["version"] = OLD
    package.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("README.md", "pyproject.toml", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, root / name)
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n## {OLD}\n\nThe first fixture release.\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The package")
    git(root, "tag", "-a", f"v{OLD}", "-m", f"v{OLD}")
    return root


def edit(root: Path, name: str, old: str, new: str) -> None:
    file = root / "data" / f"{name}.csv"
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")


def version_of(root: Path) -> str:
    return json.loads((root / "datapackage.json").read_text(encoding="utf-8"))["version"]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def test_a_fixed_value_is_a_patch_written_everywhere_with_its_entry(repo: Path) -> None:
    edit(repo, "metrics", ",250000,", ",260000,")
    result = bump(repo / "datapackage.json")
    assert (result.tag, result.level, result.previous, result.version) == ("v2.3.4", "patch", OLD, "2.3.5")
    assert version_of(repo) == "2.3.5"
    assert 'version = "2.3.5"' in (repo / "pyproject.toml").read_text(encoding="utf-8")
    assert yaml.safe_load((repo / "CITATION.cff").read_text(encoding="utf-8"))["version"] == "2.3.5"
    notes = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert notes.index("## 2.3.5") < notes.index(f"## {OLD}")
    assert "`beta-users-2013` value: `250000` → `260000`" in entry(notes, "2.3.5")
    assert "(version 2.3.5)" in (repo / "README.md").read_text(encoding="utf-8")
    assert {str(p.relative_to(repo)) for p in result.written} >= {
        "datapackage.json",
        "pyproject.toml",
        "CITATION.cff",
        "CHANGELOG.md",
        "README.md",
    }


def test_an_added_row_is_a_minor_bump(repo: Path) -> None:
    edit(repo, "features", "beta,messaging,,s-two\n", "beta,messaging,,s-two\nbeta,video-calls,,s-two\n")
    assert plan(repo / "datapackage.json").version == "2.4.0"


def test_a_removed_field_is_a_major_bump(repo: Path) -> None:
    schema_file = repo / "schemas" / "features.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "note"]
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    lines = (repo / "data" / "features.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("note")
    rows = [",".join(cell for i, cell in enumerate(line.split(",")) if i != at) for line in lines]
    (repo / "data" / "features.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert plan(repo / "datapackage.json").version == "3.0.0"


def test_the_unreleased_notes_go_into_the_next_entry(repo: Path) -> None:
    note = "- metrics `alpha-users-2011` renamed: its figure is of registered users."
    changelog = f"# Changelog\n\n## Unreleased\n\n{note}\n\n## {OLD}\n\nThe first fixture release.\n"
    (repo / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    git(repo, "commit", "-qam", "A note")
    edit(repo, "metrics", ",250000,", ",260000,")
    result = bump(repo / "datapackage.json")
    text = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Unreleased" not in text
    assert entry(text, result.version).rstrip().endswith(f"\n\n### Removed or renamed, and why\n\n{note}")
    assert entry(text, OLD) == f"## {OLD}\n\nThe first fixture release.\n"


def test_a_version_set_by_hand_at_least_as_high_as_due_is_kept(repo: Path) -> None:
    edit(repo, "metrics", ",250000,", ",260000,")
    set_descriptor_version(repo, "3.0.0")
    assert bump(repo / "datapackage.json").version == "3.0.0"
    assert entry((repo / "CHANGELOG.md").read_text(encoding="utf-8"), "3.0.0")


def set_descriptor_version(root: Path, version: str) -> None:
    file = root / "datapackage.json"
    file.write_text(file.read_text(encoding="utf-8").replace(f'"version": "{OLD}"', f'"version": "{version}"'))


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda root: None, "nothing to release: the data, schemas and metadata are as they were at v2.3.4"),
        (
            lambda root: (
                edit(root, "features", "beta,messaging,,s-two\n", "beta,messaging,,s-two\nbeta,video-calls,,s-two\n"),
                set_descriptor_version(root, "2.3.5"),
            ),
            "datapackage.json says 2.3.5, lower than the minor bump due since v2.3.4 (2.4.0 at least): "
            "set it to 2.4.0 or higher, or back to 2.3.4 to let `make bump` choose",
        ),
    ],
    ids=["nothing-changed", "lower-than-due"],
)
def test_a_refused_bump_is_one_line_exit_2_and_writes_nothing(repo: Path, monkeypatch, prepare, message) -> None:
    prepare(repo)
    before = snapshot(repo)
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["bump"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"bump refused: {message}\n"
    assert snapshot(repo) == before


def test_a_second_bump_is_refused_until_the_first_is_committed_or_undone(repo: Path) -> None:
    edit(repo, "metrics", ",250000,", ",260000,")
    bump(repo / "datapackage.json")
    before = snapshot(repo)
    with pytest.raises(ReleaseError, match=r"already has an entry for 2\.3\.5"):
        bump(repo / "datapackage.json")
    assert snapshot(repo) == before


def test_check_says_what_is_due_and_writes_nothing(repo: Path, monkeypatch) -> None:
    edit(repo, "metrics", ",250000,", ",260000,")
    before = snapshot(repo)
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["bump", "--check"])
    assert result.exit_code == 0
    assert result.stdout == "2.3.4 -> 2.3.5: a patch bump is due since v2.3.4\n"
    assert snapshot(repo) == before


def test_check_says_when_nothing_is_due_and_exits_0(repo: Path, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["bump", "--check"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "nothing to release: the data, schemas and metadata are as they were at v2.3.4\n"


def test_before_any_tag_the_first_release_says_so(package: Path) -> None:
    root = package.parent
    git(root, "init", "-q", "-b", "main")
    (root / "CHANGELOG.md").write_text("# Changelog\n", encoding="utf-8")
    result = plan(package)
    version = version_of(root)
    assert (result.tag, result.level, result.version) == (None, "first", version)
    assert result.entry.startswith(f"## {version}\n\nFirst release. It holds:\n\n- sources: ")
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n{result.entry}", encoding="utf-8")
    with pytest.raises(ReleaseError, match=f"no vX.Y.Z tag yet, and CHANGELOG.md already has the entry .* {version}"):
        plan(package)


def untagged(package: Path, first_entry: str) -> Path:
    """The fixture package in a new git repository with no tag, its CHANGELOG holding
    ``first_entry`` below a ``## Unreleased`` note."""
    root = package.parent
    notes = f"# Changelog\n\n## Unreleased\n\n- metrics `old-row` removed: a duplicate.\n\n{first_entry}"
    (root / "CHANGELOG.md").write_text(notes, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    return root


def test_before_any_tag_an_unedited_draft_of_an_earlier_package_is_drafted_again(package: Path) -> None:
    version = version_of(package.parent)
    stale = f"## {version}\n\nFirst release. It holds:\n\n- sources: 1 rows\n- platforms: 1 rows\n"
    root = untagged(package, stale)
    result = bump(package)
    assert result.replaces == stale
    notes = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    first = entry(notes, version)
    assert notes.count(f"## {version}\n") == 1 and "- sources: 1 rows" not in notes
    assert first.startswith(result.entry.rstrip()) and "`old-row` removed: a duplicate." in first
    assert "## Unreleased" not in notes
    said = runner.invoke(app, ["bump", str(package)])  # now as drafted: the next step is to commit and tag
    assert said.exit_code == 2 and "not as `make bump` drafts it" in said.stderr


def test_before_any_tag_an_edited_first_entry_is_kept_and_nothing_is_written(package: Path) -> None:
    version = version_of(package.parent)
    edited = f"## {version}\n\nFirst release, reviewed. It holds:\n\n- sources: 1 rows\n"
    root = untagged(package, edited)
    before = snapshot(root)
    with pytest.raises(ReleaseError, match=r"not as `make bump` drafts it \(edited, or with notes added\)"):
        bump(package)
    assert snapshot(root) == before


BROKEN_FEATURES = {
    "empty": lambda text: "",
    "one-cell-too-many": lambda text: text.replace("beta,messaging,,s-two\n", "beta,messaging,extra,,s-two\n"),
    "nul-byte": lambda text: text.replace("beta,messaging,,s-two\n", "beta,messaging,\x00,s-two\n"),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN_FEATURES))
def test_a_package_the_validator_refuses_is_not_bumped_and_nothing_is_written(
    repo: Path, monkeypatch, breakage: str
) -> None:
    edit(repo, "metrics", ",250000,", ",260000,")  # a change that is due a bump
    features = repo / "data" / "features.csv"
    features.write_text(BROKEN_FEATURES[breakage](features.read_text(encoding="utf-8")), encoding="utf-8")
    before = snapshot(repo)
    monkeypatch.chdir(repo)
    for command in (["bump"], ["bump", "--check"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.splitlines()
        assert line.startswith("bump refused: the package is not valid: ")
        assert "; the first, data/features.csv:" in line and line.endswith("(`make validate` lists every one)")
        assert snapshot(repo) == before


def test_a_failed_write_puts_back_every_file_written_before_it(repo: Path, monkeypatch) -> None:
    import pipeline.bump as bumping

    edit(repo, "metrics", ",250000,", ",260000,")
    before = snapshot(repo)
    wrote = []
    real_write = bumping.write_atomic

    def fail_on_the_third(file: Path, content: bytes, root: Path | None = None) -> None:
        wrote.append(file)
        if len(wrote) == 3:
            raise OSError(28, "No space left on device", str(file))
        real_write(file, content, root)

    monkeypatch.setattr(bumping, "write_atomic", fail_on_the_third)
    with pytest.raises(ReleaseError, match="No space left on device; nothing was changed"):
        bump(repo / "datapackage.json")
    assert len(wrote) > 3  # two written and put back
    assert snapshot(repo) == before


def test_a_changelog_that_is_not_utf8_is_named_with_its_line_and_column(repo: Path, monkeypatch) -> None:
    edit(repo, "metrics", ",250000,", ",260000,")
    changelog = repo / "CHANGELOG.md"
    changelog.write_bytes(changelog.read_bytes().replace(b"The first", b"The \xfffirst"))
    before = snapshot(repo)
    monkeypatch.chdir(repo)
    where = "CHANGELOG.md:5:5: bytes ff are not valid UTF-8; expected a UTF-8 text file"
    for command, refused in ((["bump"], "bump refused"), (["notes", OLD], "no notes")):
        result = runner.invoke(app, command)
        assert (result.exit_code, result.stderr) == (2, f"{refused}: cannot read {where}\n")
    assert snapshot(repo) == before


def test_a_readme_without_its_citation_marker_is_refused_and_nothing_is_written(repo: Path) -> None:
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("<!-- cite:end -->", ""), encoding="utf-8")
    edit(repo, "metrics", ",250000,", ",260000,")
    before = snapshot(repo)
    with pytest.raises(ReleaseError, match=r"^README\.md: no <!-- cite:end --> line after <!-- cite:start -->"):
        bump(repo / "datapackage.json")
    assert snapshot(repo) == before
