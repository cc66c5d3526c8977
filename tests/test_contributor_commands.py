"""The commands CONTRIBUTING describes for a contributor's edit, run through make in a fresh
repository exactly as written: what `make fmt`, `make fmt-check` and a failing `make validate`
print, and their exit status."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow import NESTED, fresh_repo, git, make

# Each test builds a fresh repository and runs make in it: done once, by the outer run.
pytestmark = pytest.mark.skipif(NESTED, reason="plays make in fresh repositories; the outer run did")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return fresh_repo(tmp_path / "guanxi")


def cut_row(file: Path, cells: int) -> bytes:
    """The first row of a CSV file cut to its first few cells, as a hasty edit leaves it."""
    lines = file.read_bytes().split(b"\n")
    lines[1] = b",".join(lines[1].split(b",")[:cells])
    file.write_bytes(b"\n".join(lines))
    return file.read_bytes()


def pad_first_cell(file: Path) -> None:
    lines = file.read_text(encoding="utf-8").split("\n")
    head, _, rest = lines[1].partition(",")
    lines[1] = f"{head} ,{rest}"
    file.write_text("\n".join(lines), encoding="utf-8")


def test_make_fmt_formats_the_other_files_and_names_the_one_it_left(repo: Path) -> None:
    features = repo / "data" / "features.csv"
    broken = cut_row(features, 2)
    pad_first_cell(repo / "data" / "platforms.csv")
    result = make(repo, "fmt", check=False)
    assert result.returncode != 0
    assert result.stdout.splitlines() == [
        "formatted data/platforms.csv",
        "skipped data/features.csv: left as it was; fix this by hand, then run make fmt again",
        "  data/features.csv:2:3: missing-cell: the row has 2 cells; expected 4 as in the header",
    ]
    assert result.stderr == ""  # nothing of make's own after fmt's words
    assert features.read_bytes() == broken
    # the padded cell was trimmed back: only the file fmt left differs from the commit
    assert git(repo, "status", "--porcelain").stdout.splitlines() == [" M data/features.csv"]
    git(repo, "checkout", "data/features.csv")
    assert make(repo, "fmt").stdout.splitlines() == ["already canonical"]


def test_make_fmt_check_lists_what_make_fmt_would_change_and_writes_nothing(repo: Path) -> None:
    pad_first_cell(repo / "data" / "platforms.csv")
    before = (repo / "data" / "platforms.csv").read_bytes()
    result = make(repo, "fmt-check", check=False)
    assert result.returncode != 0 and result.stderr == ""
    assert result.stdout.splitlines() == [
        "would format data/platforms.csv, from line 2",
        "1 file not in canonical form: run make fmt",
    ]
    assert (repo / "data" / "platforms.csv").read_bytes() == before
    make(repo, "fmt")
    assert make(repo, "fmt-check").stdout.splitlines()[-1] == "already canonical"


def test_a_failing_make_validate_ends_with_the_reports_count_not_makes_trailer(repo: Path) -> None:
    pad_first_cell(repo / "data" / "platforms.csv")
    result = make(repo, "validate", check=False)
    assert result.returncode != 0
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1].startswith("invalid: ")
    assert "whitespace" in result.stdout and "Error 1" not in result.stdout
