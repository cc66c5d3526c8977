"""The workflows the README and CONTRIBUTING describe, played in fresh repositories."""

from __future__ import annotations

from pathlib import Path

from workflow import fresh_repo, git, make


def test_make_validate_in_a_fresh_repository_passes_and_writes_nothing(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi")
    result = make(repo, "validate")
    assert "valid: no problems found" in result.stdout
    assert git(repo, "status", "--porcelain").stdout == ""
