"""The mistakes contributors make, each reported once, at its cause: the whole report is
pinned (code, file, line, column, field, value), so a consequence that creeps back in fails."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_validate_corpus import C, E, F, M, P, S, replace, transform
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.fmt import format_package
from pipeline.schema import pattern_expected
from pipeline.validation import validate

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.fixtures_only


def duplicate_with_another_date(root: Path) -> None:
    """A new claim that reuses an existing id: the key repeats, and the dates differ."""
    claim = "alpha-launched,alpha,org-b,launched,2011,Another claim.,,,,,s-one\n"
    replace(E, "beta-launched,", claim + "beta-launched,")(root)


def copy_a_preferred_claim(root: Path) -> None:
    """Beta's launch is disputed (2012-05 preferred, 2013 not); a contributor pastes the
    preferred claim a second time: one repeated key, and no group of claims is judged on it."""
    preferred = "beta-launched,beta,org-b,launched,2012-05,Beta opened to users.,,,,true,s-one\n"
    rival = "beta-launched-2013,beta,org-b,launched,2013,Another source's year.,,,,false,s-two\n"
    replace(E, "beta-launched,beta,org-b,launched,2012-05,Beta opened to users.,,,,,s-one\n",
            preferred + preferred + rival)(root)


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
    ("a preferred claim pasted twice",
     [copy_a_preferred_claim],
     [("primary-key", E, 4, 1, "event_id", "beta-launched")]),
    ("a comma inside an unquoted note",
     [replace(F, "alpha,job-listings,,s-one", "alpha,job-listings,listings, mostly,s-one")],
     [("extra-cell", F, 2, 3, "note", None)]),
    ("a quote opened in a note and never closed on its line",
     [replace(F, "alpha,job-listings,,s-one", 'alpha,job-listings,"listings,s-one')],
     [("quote-error", F, 2, 3, "note", 'alpha,job-listings,"listings,s-one')]),
    ("a figure written in words",
     [replace(M, ",250000,", ",250 thousand,")],
     [("type-error", M, 3, 5, "value", "250 thousand")]),
    ("a tab pasted into a note",
     [replace(C, "Beta works much like Alpha.", "Beta works\tmuch like Alpha.")],
     [("control-character", C, 2, 5, "note", "Beta works\tmuch like Alpha.")]),
    ("a comma inside an unquoted note, and a wrong feature before it",
     [replace(F, "alpha,job-listings,,s-one", "alpha,job-listing,listings, mostly,s-one")],
     [("constraint-error", F, 2, 2, "feature", "job-listing"), ("extra-cell", F, 2, 3, "note", None)]),
    ("a comma among the founders, far from the first free-text field, and a date with slashes before it",
     [replace(P, "2010,,,active,2016,alpha.example.org,Ann Founder; Bo Founder,",
              "2010/05/01,,,active,2016,alpha.example.org,Ann Founder, Bo Founder,")],
     [("type-error", P, 2, 11, "launched", "2010/05/01"), ("extra-cell", P, 2, 17, "founders", None)]),
    ("a cell left out inside a row, and a wrong measure before it",
     [replace(M, "beta-users-2013,beta,monthly-active-users,job-seekers,250000",
              "beta-users-2013,beta,monthly-actives,250000")],
     [("constraint-error", M, 3, 3, "measure", "monthly-actives"), ("missing-cell", M, 3, 4, "segment", None)]),
    ("an empty note left out, the row's source after it",
     [replace(F, "alpha,job-listings,,s-one", "alpha,job-listings,s-one")],
     [("missing-cell", F, 2, 3, "note", None)]),
    ("a row cut short after a wrong feature",
     [replace(F, "beta,messaging,,s-two", "beta,bogus")],
     [("constraint-error", F, 3, 2, "feature", "bogus"), ("missing-cell", F, 3, 3, "note", None)]),
    ("a space typed after the id of a source that nine rows cite",
     [replace(S, "s-one,First report,", "s-one ,First report,")],
     [("whitespace", S, 2, 1, "source_id", "s-one ")]),
    ("a space pasted after a source's address",
     [replace(S, "https://example.org/one,", "https://example.org/one ,")],
     [("whitespace", S, 2, 5, "url", "https://example.org/one ")]),
    ("a space pasted after the platform a figure is of",
     [replace(M, "beta-users-2013,beta,", "beta-users-2013,beta ,")],
     [("whitespace", M, 3, 2, "platform_id", "beta ")]),
    ("a platform written in capitals, with a space after it",
     [replace(M, "beta-users-2013,beta,", "beta-users-2013,Beta ,")],
     [("constraint-error", M, 3, 2, "platform_id", "Beta "), ("foreign-key", M, 3, 2, "platform_id", "Beta "),
      ("whitespace", M, 3, 2, "platform_id", "Beta ")]),
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


RAGGED = [m for m in MISTAKES if any(code in ("extra-cell", "missing-cell") for code, *_ in m[2])]


@pytest.mark.parametrize("mistake", RAGGED, ids=lambda m: m[0])
def test_fmt_names_a_ragged_row_where_validate_does(mistake: tuple, package: Path) -> None:
    _, edits, _ = mistake
    for edit in edits:
        edit(package.parent)
    said = {(p.code, p.line, p.column, p.message) for p in validate(package).problems}
    left = {(p.code, p.line, p.column, p.message) for p in format_package(package)[1]}
    assert left and left <= said


def test_a_key_kept_from_matching_by_white_space_says_how_many_rows_refer_to_it(package: Path) -> None:
    replace(S, "s-one,First report,", "s-one ,First report,")(package.parent)
    [problem] = [p for p in validate(package).problems if p.code == "whitespace"]
    assert problem.message.endswith("9 rows refer to it as 's-one', and will find it once it is trimmed")


def test_a_publication_date_in_words_is_one_type_error(package: Path) -> None:
    replace(S, "https://example.org/one,2015-06,", "https://example.org/one,June 2015,")(package.parent)
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line, problem.field, problem.value) == (
        "type-error", S, 2, "published", "June 2015"
    )


def test_a_number_or_a_date_typed_with_a_space_says_that_make_fmt_trims_it(package: Path) -> None:
    replace(M, ",250000,", ", 250000,")(package.parent)
    replace(S, "https://example.org/one,2015-06,2026-11-26,", "https://example.org/one,2015-06, 2026-11-26,")(
        package.parent
    )
    problems = validate(package).problems
    assert [(p.code, p.path, p.line, p.field) for p in problems] == [
        ("type-error", M, 3, "value"), ("type-error", S, 2, "accessed")
    ]
    assert all(p.message.endswith("once the white space at its ends is trimmed (run make fmt)") for p in problems)
    assert format_package(package)[1] == [] and validate(package).problems == []


def test_a_number_that_is_wrong_once_trimmed_gets_no_such_hint(package: Path) -> None:
    replace(M, ",250000,", ", 250 000,")(package.parent)
    [problem] = validate(package).problems
    assert problem.code == "type-error" and "trimmed" not in problem.message


def test_a_file_saved_as_gbk_is_one_encoding_error_on_its_line(package: Path) -> None:
    gbk(package.parent)
    text = (package.parent / S).read_bytes()
    first_wide = next(i for i, line in enumerate(text.split(b"\n"), start=1) if not line.isascii())
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line) == ("encoding-error", S, first_wide)


# ---------------------------------------------------------------- messages in plain words

ORG = "data/organizations.csv"


def test_a_pattern_failure_says_what_is_expected_in_the_schemas_words_with_its_example(package: Path) -> None:
    replace(ORG, "Beijing,CN,2005,", "Beijing,cn,2005,")(package.parent)
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line, problem.column, problem.field, problem.value) == (
        "constraint-error", ORG, 2, 6, "country", "cn"
    )
    assert problem.message == "expected a country as its two-letter code in capitals (ISO 3166-1), such as CN"


def test_a_slug_with_a_capital_letter_is_explained_without_the_regex(package: Path) -> None:
    replace(F, "alpha,job-listings,,s-one", "alpha,job-listings,,S-one")(package.parent)
    text = CliRunner().invoke(app, ["validate", str(package)]).output
    assert "[a-z0-9]" not in text


def pattern_fields() -> list[tuple[str, dict]]:
    out = []
    for file in sorted((ROOT / "schemas").glob("*.json")):
        for spec in json.loads(file.read_text(encoding="utf-8"))["fields"]:
            if "pattern" in spec.get("constraints", {}):
                out.append((f"{file.stem}.{spec['name']}", spec))
    return out


@pytest.mark.parametrize(("name", "spec"), pattern_fields(), ids=[n for n, _ in pattern_fields()])
def test_every_pattern_of_the_package_is_said_in_words_with_an_example_that_fits_it(name: str, spec: dict) -> None:
    pattern = spec["constraints"]["pattern"]
    words = pattern_expected(spec)
    assert pattern not in words and spec.get("patternDescription") and "example" in spec, name
    assert re.fullmatch(pattern, str(spec["example"])), f"{name}: its example does not match its own pattern"


def test_a_file_saved_as_gbk_says_so_and_how_to_save_it_as_utf8(package: Path) -> None:
    gbk(package.parent)
    [problem] = validate(package).problems
    assert "the file looks saved as GBK/GB18030" in problem.message
    assert '"CSV UTF-8 (Comma delimited)"' in problem.message
    assert f"iconv -f GB18030 -t UTF-8 {S} > {S}.utf8 && mv {S}.utf8 {S}" in problem.message
    assert problem.message.endswith("then run make fmt")


def test_a_file_saved_as_utf16_says_so(package: Path) -> None:
    file = package.parent / S
    file.write_bytes(file.read_text(encoding="utf-8").encode("utf-16"))
    [problem] = validate(package).problems
    assert (problem.code, problem.line) == ("encoding-error", 1)
    assert "the file looks saved as UTF-16" in problem.message and "iconv -f UTF-16" in problem.message


def test_a_latin1_file_is_not_called_chinese_but_still_told_how_to_resave(package: Path) -> None:
    file = package.parent / F
    file.write_bytes(file.read_bytes().replace(b"alpha,job-listings,,", b"alpha,job-listings,caf\xe9,"))
    [problem] = validate(package).problems
    assert problem.code == "encoding-error" and "GB18030" not in problem.message
    assert "expected a UTF-8 file: save it again as UTF-8" in problem.message


# fmt: off
FIXABLE = [
    ("byte-order-mark", transform(F, lambda b: b"\xef\xbb\xbf" + b)),
    ("line-ending", transform(F, lambda b: b.replace(b"\n", b"\r\n"))),
    ("final-newline", transform(F, lambda b: b.rstrip(b"\n"))),
    ("blank-row", transform(F, lambda b: b + b"\n")),
    ("whitespace", replace(F, "alpha,job-listings,,s-one", "alpha,job-listings, listings ,s-one")),
    ("unicode-normalization", replace(P, "阿尔法", "Cafe\u0301")),
    ("row-order", transform(F, lambda b: b"\n".join([*b.split(b"\n")[:1], *reversed(b.split(b"\n")[1:3]), b""]))),
    ("type-error", replace(M, "china,2011,,", "china,2011,TRUE,")),
]
# fmt: on


@pytest.mark.parametrize(("code", "edit"), FIXABLE, ids=[c for c, _ in FIXABLE])
def test_every_problem_fmt_fixes_says_run_make_fmt_and_fmt_fixes_it(code: str, edit, package: Path) -> None:
    edit(package.parent)
    problems = validate(package).problems
    assert [p.code for p in problems] == [code]
    assert problems[0].message.endswith("(run make fmt)"), problems[0].message
    assert format_package(package)[1] == []
    assert validate(package).problems == []


def test_a_control_character_is_shown_whole_and_visible(package: Path) -> None:
    replace(C, "Beta works much like Alpha.", "Beta works\tmuch like Alpha.")(package.parent)
    text = CliRunner().invoke(app, ["validate", str(package)]).output
    assert "[Beta works\\tmuch like Alpha.]" in text
    github = CliRunner().invoke(app, ["validate", str(package), "--format", "github"]).output
    assert 'found "Beta works\\tmuch like Alpha."' in github


def test_a_date_with_slashes_is_told_the_forms_a_date_takes_from_the_schema(package: Path) -> None:
    replace(P, "young professionals,2010,", "young professionals,2010/05/01,")(package.parent)
    [problem] = validate(package).problems
    assert problem.message == (
        "expected a date as 2014, 2014-02 or 2014-02-25, to the precision the source gives (a real calendar date)"
    )


def test_a_row_with_an_extra_cell_names_where_its_cells_start_to_shift(package: Path) -> None:
    replace(P, "alpha.example.org,Ann Founder; Bo Founder,", "alpha.example.org,Ann Founder, Bo Founder,")(
        package.parent
    )
    [problem] = validate(package).problems
    assert problem.message == (
        'the row has 23 cells; expected 22 as in the header: a comma inside a cell? Quote the cell ("like, this"). '
        "The cells stop matching their fields at founders (column 17), where the shift starts; the cells from "
        "there on are not judged until it is fixed"
    )


def test_a_row_with_a_cell_left_out_names_where_its_cells_start_to_shift(package: Path) -> None:
    replace(M, "beta,monthly-active-users,job-seekers,250000", "beta,monthly-active-users,250000")(package.parent)
    [problem] = validate(package).problems
    assert (problem.code, problem.column, problem.field) == ("missing-cell", 4, "segment")
    assert problem.message.endswith(
        "a cell left out? The cells stop matching their fields at segment (column 4), where the shift starts: "
        "add the cell there (an empty one is two commas side by side, ,,); the cells from there on are not "
        "judged until it is fixed"
    )


def test_a_cell_added_after_the_last_field_is_told_so_and_every_other_cell_is_judged(package: Path) -> None:
    replace(F, "alpha,job-listings,,s-one", "alpha,job-listing,,s-one,more")(package.parent)
    found = [(p.code, p.line, p.column, p.field, p.value) for p in validate(package).problems]
    assert found == [("constraint-error", 2, 2, "feature", "job-listing"), ("extra-cell", 2, 5, None, None)]
    assert "a cell too many after the last field, or a comma inside a cell?" in validate(package).problems[1].message
