"""The workflows the README and CONTRIBUTING describe, played in fresh repositories."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from workflow import NESTED, clone, fresh_repo, git, make, release_docs


def test_make_validate_in_a_fresh_repository_passes_and_writes_nothing(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "guanxi")
    result = make(repo, "validate")
    assert "valid: no problems found" in result.stdout
    assert git(repo, "status", "--porcelain").stdout == ""


def append(file: Path, line: str) -> None:
    with file.open("a", encoding="utf-8", newline="") as stream:
        stream.write(line + "\n")


@pytest.mark.skipif(NESTED, reason="plays a whole `make test`; not again inside one")
def test_a_contributor_adds_a_sourced_fact_and_only_data_changes(tmp_path: Path) -> None:
    # Upstream as a contributor finds it: released once, so its README describes a tag.
    upstream = fresh_repo(tmp_path / "upstream")
    release_docs(upstream)
    repo = clone(upstream, tmp_path / "guanxi")
    # README, "Contribute a fact": 1. a source, with today's date as accessed; 2. the fact,
    # citing it (each appended at the end of its file, as an editor would); 3. make fmt,
    # then make test.
    today = dt.date.today().isoformat()
    source = {
        "source_id": "handelsblatt-2012-xing-messages",
        "title": "Xing: Nachrichten unter Mitgliedern",
        "publisher": "Handelsblatt",
        "url": "https://www.handelsblatt.com/xing-nachrichten",
        "published": "2012-03",
        "accessed": today,
        "kind": "news",
        "provenance": "original-reporting",
        "language": "de",
    }
    sources = repo / "data" / "sources.csv"
    header = sources.read_text(encoding="utf-8").splitlines()[0].split(",")
    append(sources, ",".join(source.get(name, "") for name in header))
    # a feature XING has no row for yet, so that the row is new whatever the data holds
    schema = json.loads((repo / "schemas" / "features.json").read_text(encoding="utf-8"))
    [vocabulary] = [f["constraints"]["enum"] for f in schema["fields"] if f["name"] == "feature"]
    with (repo / "data" / "features.csv").open(encoding="utf-8") as stream:
        present = {row["feature"] for row in csv.DictReader(stream) if row["platform_id"] == "xing"}
    feature = next(term for term in vocabulary if term not in present)
    row = f"xing,{feature},members write to each other,handelsblatt-2012-xing-messages"
    append(repo / "data" / "features.csv", row)
    fmt = make(repo, "fmt")
    assert sorted(fmt.stdout.splitlines()[-2:]) == ["formatted data/features.csv", "formatted data/sources.csv"]
    make(repo, "test")
    assert sorted(git(repo, "status", "--porcelain").stdout.splitlines()) == [
        " M data/features.csv",
        " M data/sources.csv",
    ]
    # text, not binary: git counts the lines (a binary file shows "-")
    numstat = [line.split("\t") for line in git(repo, "diff", "--numstat").stdout.splitlines()]
    assert numstat == [["1", "0", "data/features.csv"], ["1", "0", "data/sources.csv"]]
