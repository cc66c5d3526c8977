"""The maintainer's cycle, played in fresh git repositories as the README writes it: tag,
change a cell, `make bump`, commit, tag, `make release` in two clones."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
from workflow import NESTED, ROOT, _env, clone, fresh_repo, git, make

from pipeline.changelog import entry

VERSION = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]


def files_of(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def change_one_cell(repo: Path) -> tuple[str, str, str]:
    """Raise the first user figure by one; return its metric_id and the old and new values."""
    file = repo / "data" / "metrics.csv"
    lines = file.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[1].split(",")
    at = header.index("value")
    old = cells[at]
    cells[at] = str(int(old) + 1)
    lines[1] = ",".join(cells)
    file.write_text("\n".join(lines), encoding="utf-8")
    return cells[0], old, cells[at]


def patch_of(version: str) -> str:
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain").stdout


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The whole cycle once: a repository tagged at the current version, one cell changed and
    committed (where a clone's `make release` builds the tagged release), `make bump`, commit,
    tag, then `make release` in a clone without dist/ and in one that built the previous
    release first."""
    base = tmp_path_factory.mktemp("cycle")
    repo = fresh_repo(base / "guanxi", tag=f"v{VERSION}")
    key, old, new = change_one_cell(repo)
    git(repo, "commit", "-q", "-am", "A corrected user figure")
    ahead = clone(repo, base / "ahead")
    built_ahead = make(ahead, "release").stdout
    bumped = make(repo, "bump")
    version = patch_of(VERSION)
    git(repo, "commit", "-q", "-am", f"Release {version}")
    git(repo, "tag", "-a", f"v{version}", "-m", f"v{version}")
    plain = clone(repo, base / "plain")
    make(plain, "release")
    older = clone(repo, base / "older")
    git(older, "checkout", "-q", f"v{VERSION}")
    make(older, "release")
    git(older, "checkout", "-q", f"v{version}")
    make(older, "release")
    return {
        "repo": repo,
        "version": version,
        "key": key,
        "old": old,
        "new": new,
        "bump": bumped.stdout,
        "plain": plain / "dist" / version,
        "older": older / "dist" / version,
        "previous": older / "dist" / VERSION,
        "ahead": ahead / "dist" / VERSION,
        "built ahead": built_ahead,
    }


def test_bump_says_what_is_due_and_writes_the_version_everywhere(released: dict) -> None:
    version, repo = released["version"], released["repo"]
    assert f"{VERSION} -> {version}: a patch bump is due since v{VERSION}" in released["bump"]
    assert f'`git tag -a v{version} -m "guanxi {version}"`, `make release`, `make verify`' in released["bump"]
    assert f'"version": "{version}"' in (repo / "datapackage.json").read_text(encoding="utf-8")
    assert f'\nversion = "{version}"\n' in (repo / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion: "{version}"\n' in (repo / "CITATION.cff").read_text(encoding="utf-8")


def test_two_clones_of_the_commit_build_the_same_bytes_with_or_without_an_older_dist(released: dict) -> None:
    assert files_of(released["plain"]) == files_of(released["older"])


def test_a_clone_past_a_release_builds_that_release_from_its_tag_as_released(released: dict) -> None:
    # the README's quick start on a main that moved on since its latest release
    assert f"built dist/{VERSION} from its tag v{VERSION}, as released" in released["built ahead"]
    assert "(1 commit since is in no release: `make bump-check` says whether" in released["built ahead"]
    assert files_of(released["ahead"]) == files_of(released["previous"])  # built at the tag itself
    figure = f"{released['key']},"
    row = next(line for line in (released["ahead"] / "metrics.csv").read_text(encoding="utf-8").splitlines()
               if line.startswith(figure))
    assert f",{released['old']}," in row and f",{released['new']}," not in row
    assert not any(p.name.startswith(".") for p in released["ahead"].parent.iterdir())  # no staging left
    make(released["ahead"].parent.parent, "verify")


def test_the_release_notes_are_the_changelog_entry_and_name_the_changed_row(released: dict) -> None:
    notes = (released["plain"] / "CHANGELOG.md").read_text(encoding="utf-8")
    assert notes == (released["repo"] / "CHANGELOG.md").read_text(encoding="utf-8")
    entry = notes.split(f"## {released['version']}\n", 1)[1].split("\n## ", 1)[0]
    assert f"`{released['key']}` value: `{released['old']}` → `{released['new']}`" in entry
    assert f"{VERSION} -> {released['version']}" in entry and "at least" not in entry  # the version, not a floor
    printed = make(released["repo"], "--silent", "version").stdout.strip()
    assert printed == released["version"]
    for name in (released["version"], f"v{released['version']}"):  # the version, or its tag's name
        said = run(released["repo"], f".venv/bin/guanxi notes {name}")
        assert said.returncode == 0 and said.stdout.startswith(f"## {released['version']}\n"), said.stderr
        assert said.stdout.strip() == f"## {released['version']}\n{entry}".strip()


def test_the_release_verifies_and_sha256sum_accepts_it(released: dict) -> None:
    make(released["repo"].parent / "plain", "verify")
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=released["plain"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.skipif(NESTED, reason="runs make test in a fresh repository; not again inside that run")
def test_make_test_is_green_after_the_bump(released: dict) -> None:
    make(released["repo"], "test", timeout=900)


def readme_steps() -> list[str]:
    """The commands of the README's "Cut a release" section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Cut a release\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def run(repo: Path, command: str) -> subprocess.CompletedProcess[str]:
    # make runs with the install stamp held, as in tests/workflow.py: it never reinstalls.
    shell = f"make() {{ command make -o .venv/.installed \"$@\"; }}; {command}"
    return subprocess.run(["bash", "-c", shell], cwd=repo, env=_env(), text=True, capture_output=True, timeout=600)


def test_the_readme_cut_a_release_steps_work_as_written(tmp_path: Path) -> None:
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, env=_env())
    repo = fresh_repo(tmp_path / "guanxi", tag=f"v{VERSION}")
    git(repo, "remote", "add", "origin", str(remote))
    key, _, _ = change_one_cell(repo)
    git(repo, "commit", "-q", "-am", "A corrected user figure")
    steps = readme_steps()
    assert steps[0] == "make bump" and steps[-1].startswith("git push")
    for step in steps:
        result = run(repo, step)
        assert result.returncode == 0, f"{step}\n{result.stdout}\n{result.stderr}"
    version = patch_of(VERSION)
    assert status(repo) == ""
    assert git(repo, "describe", "--exact-match").stdout.strip() == f"v{version}"
    assert git(remote, "tag", "--list", f"v{version}").stdout.strip() == f"v{version}"
    notes = (repo / "dist" / version / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {version}" in notes and f"`{key}` value:" in notes


def test_the_readme_cut_a_release_steps_cut_the_first_release_from_an_untagged_main(tmp_path: Path) -> None:
    """Before the first tag, main's CHANGELOG holds the first release's entry as `make bump`
    drafted it for an earlier state of the package (a fresh clone's `make release` needs
    one): the steps as written draft it again from the package as it is."""
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, env=_env())
    repo = fresh_repo(tmp_path / "guanxi", tag=None)
    git(repo, "remote", "add", "origin", str(remote))
    changelog = repo / "CHANGELOG.md"
    notes = changelog.read_text(encoding="utf-8")
    earlier = f"## {VERSION}\n\nFirst release. It holds:\n\n- sources: 1 rows\n- platforms: 1 rows\n"
    changelog.write_text(notes.replace(entry(notes, VERSION), earlier), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "The first release's entry, drafted for an earlier package")
    for step in readme_steps():
        result = run(repo, step)
        assert result.returncode == 0, f"{step}\n{result.stdout}\n{result.stderr}"
    assert git(repo, "describe", "--exact-match").stdout.strip() == f"v{VERSION}"
    assert git(remote, "tag", "--list", f"v{VERSION}").stdout.strip() == f"v{VERSION}"
    notes = (repo / "dist" / VERSION / "CHANGELOG.md").read_text(encoding="utf-8")
    with (repo / "data" / "sources.csv").open(encoding="utf-8", newline="") as file:
        sources = sum(1 for _ in csv.DictReader(file))
    assert notes.count(f"## {VERSION}\n") == 1 and f"First release. It holds:\n\n- sources: {sources} rows" in notes
    assert "- sources: 1 rows" not in notes


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi", tag=f"v{VERSION}")

    def refused(*args: str, env: dict | None = None) -> str:
        before = status(repo)
        result = make(repo, *args, env=env, check=False)
        assert result.returncode == 2, result.stdout + result.stderr
        [line] = [x for x in result.stderr.splitlines() if not x.startswith("make: ***")]
        assert status(repo) == before and not (repo / "dist").exists()
        return line

    assert refused("bump") == (
        f"bump refused: nothing to release: the data, schemas and metadata are as they were at v{VERSION}"
    )
    result = run(repo, ".venv/bin/guanxi diff v9.9.9 .")
    assert result.returncode == 2 and result.stderr.startswith("diff failed: unknown reference 'v9.9.9'")
    assert result.stderr.count("\n") == 1
    change_one_cell(repo)
    assert refused("release").startswith("release refused: uncommitted changes in data/metrics.csv: ")
    descriptor = repo / "datapackage.json"
    descriptor.write_text(descriptor.read_text().replace(f'"version": "{VERSION}"', '"version": "0.0.1"'))
    assert refused("bump").startswith("bump refused: datapackage.json says 0.0.1, lower than the patch bump due")
    git(repo, "checkout", "-q", ".")
    assert refused("release", env={"SOURCE_DATE_EPOCH": "abc"}) == (
        "release refused: SOURCE_DATE_EPOCH='abc' is not a whole number of seconds since 1970 between 1980 "
        "and 2100; set it so (e.g. `git log -1 --format=%ct`) or unset it"
    )


def test_the_readme_table_lists_every_make_target() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `make ([a-z-]+)` \|", readme, re.M))
    listed = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert table == set(re.findall(r"^  make (\S+)", listed, re.M))


def test_make_bump_check_says_what_is_due_and_writes_nothing(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi", tag=f"v{VERSION}")
    change_one_cell(repo)
    before = status(repo)
    said = make(repo, "bump-check")
    assert f"{VERSION} -> {patch_of(VERSION)}: a patch bump is due since v{VERSION}" in said.stdout
    assert status(repo) == before


def test_a_shallow_clone_without_the_tag_refuses_to_build_a_release_it_cannot_place(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi", tag=f"v{VERSION}")
    change_one_cell(repo)
    git(repo, "commit", "-q", "-am", "A corrected user figure, after the release")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True, env=_env())
    assert git(shallow, "tag", "--list").stdout == ""  # the tag is on a commit the clone lacks
    (shallow / ".venv").symlink_to(repo / ".venv")
    result = make(shallow, "release", check=False)
    assert result.returncode == 2 and not (shallow / "dist").exists()
    assert f"release refused: this clone is shallow: it may lack the tag v{VERSION}" in result.stderr
    assert "git fetch --unshallow --tags" in result.stderr
