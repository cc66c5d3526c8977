"""The mistakes contributors make, each reported once, at its cause: the whole report is
pinned (code, file, line, column, field, value), so a consequence that creeps back in fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_validate_corpus import C, E, F, M, P, S, replace, transform

from pipeline.validation import validate

pytestmark = pytest.mark.fixtures_only


def duplicate_with_another_date(root: Path) -> None:
    """A new claim that reuses an existing id: the key repeats, and the dates differ."""
    claim = "alpha-launched,alpha,org-b,launched,2011,Another claim.,,,,,s-one\n"
    replace(E, "beta-launched,", claim + "beta-launched,")(root)


def gbk(root: Path) -> None:
    file = root / S
    file.write_bytes(file.read_text(encoding="utf-8").encode("gbk"))


# fmt: off
MISTAKES = [
    ("a column name added to the header alone",
     [replace(F, "platform_id,feature,note,source_id\n", "platform_id,feature,note,source_id,since\n")],
     [("extra-label", F, 1, 5, None, "since")]),
    ("a date written with slashes",
     [replace(P, "young professionals,2010,", "young professionals,2010/05/01,")],
     [("type-error", P, 2, 11, "launched", "2010/05/01")]),
    ("an id used twice, for a claim with another date",
     [duplicate_with_another_date],
     [("primary-key", E, 3, 1, "event_id", "alpha-launched")]),
    ("a comma inside an unquoted note",
     [replace(F, "alpha,job-listings,,s-one", "alpha,job-listings,listings, mostly,s-one")],
     [("extra-cell", F, 2, 3, "note", None)]),
    ("a quote opened in a note and never closed on its line",
     [replace(F, "alpha,job-listings,,s-one", 'alpha,job-listings,"listings,s-one')],
     [("quote-error", F, 2, 3, None, 'alpha,job-listings,"listings,s-one')]),
    ("a figure written in words",
     [replace(M, ",250000,", ",250 thousand,")],
     [("type-error", M, 3, 5, "value", "250 thousand")]),
    ("a tab pasted into a note",
     [replace(C, "Beta works much like Alpha.", "Beta works\tmuch like Alpha.")],
     [("control-character", C, 2, 5, "note", "Beta works\tmuch like Alpha.")]),
    ("a Windows editor's line endings",
     [transform(F, lambda b: b.replace(b"\n", b"\r\n"))],
     [("line-ending", F, 1, None, None, None)]),
]
# fmt: on


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m[0])
def test_each_mistake_is_one_problem_at_its_cause(mistake: tuple, package: Path) -> None:
    _, edits, expected = mistake
    for edit in edits:
        edit(package.parent)
    found = [(p.code, p.path, p.line, p.column, p.field, p.value) for p in validate(package).problems]
    assert found == expected


def test_a_publication_date_in_words_is_one_type_error(package: Path) -> None:
    replace(S, "https://example.org/one,2015-06,", "https://example.org/one,June 2015,")(package.parent)
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line, problem.field, problem.value) == (
        "type-error", S, 2, "published", "June 2015"
    )


def test_a_file_saved_as_gbk_is_one_encoding_error_on_its_line(package: Path) -> None:
    gbk(package.parent)
    text = (package.parent / S).read_bytes()
    first_wide = next(i for i, line in enumerate(text.split(b"\n"), start=1) if not line.isascii())
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line) == ("encoding-error", S, first_wide)
