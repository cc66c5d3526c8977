"""fmt writes canonical CSV, agrees with validate on what canonical means, and is idempotent."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from test_validate_corpus import M, P, edit_json, field, replace

from pipeline.fmt import describe, format_package
from pipeline.schema import canonical_text, lexically_valid, to_arrow
from pipeline.validation import validate

MECHANICAL = {
    "byte-order-mark",
    "line-ending",
    "final-newline",
    "blank-row",
    "whitespace",
    "unicode-normalization",
    "row-order",
}


def test_fmt_on_canonical_files_changes_nothing(package: Path) -> None:
    before = {p: p.read_bytes() for p in (package.parent / "data").iterdir()}
    changed, problems = format_package(package)
    assert (changed, problems) == ([], [])
    assert {p: p.read_bytes() for p in (package.parent / "data").iterdir()} == before


def test_the_real_data_is_canonical(real_package: Path) -> None:
    assert format_package(real_package) == ([], [])


def test_fmt_fixes_every_mechanical_problem_validate_reports(package: Path) -> None:
    data = package.parent / "data"
    features = data / "features.csv"
    features.write_bytes(
        b"\xef\xbb\xbfplatform_id,feature,note,source_id\r\n"
        b"beta,messaging, chat ,s-two\r\n\r\nalpha,job-listings,,s-one"
    )
    platforms = data / "platforms.csv"
    platforms.write_text(
        platforms.read_text(encoding="utf-8").replace("alpha,Alpha,", "alpha,Alpha\u3000,"), encoding="utf-8"
    )
    organizations = data / "organizations.csv"
    organizations.write_text(
        organizations.read_text(encoding="utf-8").replace("Alpha Holdings", "Alpha Holdinge\u0301"), encoding="utf-8"
    )
    before = {p.code for p in validate(package).problems}
    assert before >= MECHANICAL
    changed, problems = format_package(package)
    assert problems == [] and set(changed) == {"data/features.csv", "data/platforms.csv", "data/organizations.csv"}
    assert validate(package).problems == []
    assert features.read_bytes() == (
        b"platform_id,feature,note,source_id\nalpha,job-listings,,s-one\nbeta,messaging,chat,s-two\n"
    )
    assert format_package(package) == ([], [])


def test_fmt_quotes_only_what_needs_quotes(package: Path) -> None:
    features = package.parent / "data" / "features.csv"
    features.write_text(
        '"platform_id","feature","note","source_id"\n"alpha","job-listings","a, b","s-one"\n'
        '"beta","messaging","say ""hi""","s-two"\n',
        encoding="utf-8",
    )
    format_package(package)
    assert features.read_text(encoding="utf-8") == (
        'platform_id,feature,note,source_id\nalpha,job-listings,"a, b",s-one\nbeta,messaging,"say ""hi""",s-two\n'
    )


def test_fmt_formats_the_other_files_and_says_which_file_it_left_and_why(package: Path) -> None:
    data = package.parent / "data"
    broken = b"platform_id,feature,note,source_id\nalpha,job-listings\n"
    (data / "features.csv").write_bytes(broken)
    platforms = data / "platforms.csv"
    replace(P, "alpha,Alpha,", "alpha, Alpha,")(package.parent)
    changed, problems = format_package(package)
    assert changed == ["data/platforms.csv"]
    assert [(p.code, p.path, p.line, p.column) for p in problems] == [("missing-cell", "data/features.csv", 2, 3)]
    assert (data / "features.csv").read_bytes() == broken
    assert "alpha,Alpha," in platforms.read_text(encoding="utf-8")
    assert describe(changed, problems) == (
        "formatted data/platforms.csv\n"
        "skipped data/features.csv: left as it was; fix this by hand, then run make fmt again\n"
        "  data/features.csv:2:3: missing-cell: the row has 2 cells; expected 4 as in the header"
    )


def test_fmt_leaves_a_file_whose_header_is_not_the_schemas_and_names_the_column(package: Path) -> None:
    features = package.parent / "data" / "features.csv"
    before = features.read_bytes().replace(b"platform_id,feature,", b"platform_id,features,")
    features.write_bytes(before)
    changed, problems = format_package(package)
    assert changed == [] and features.read_bytes() == before
    assert [(p.code, p.path, p.line, p.column, p.field, p.value) for p in problems] == [
        ("incorrect-label", "data/features.csv", 1, 2, "feature", "features")
    ]


def test_fmt_check_lists_what_it_would_change_and_writes_nothing(package: Path) -> None:
    data = package.parent / "data"
    replace(P, "alpha,Alpha,", "alpha, Alpha,")(package.parent)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.iterdir()}
    changed, problems = format_package(package, check=True)
    assert (changed, problems) == (["data/platforms.csv"], [])
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.iterdir()} == before
    assert describe(changed, problems, check=True) == (
        "would format data/platforms.csv, from line 2\n1 file not in canonical form: run make fmt"
    )
    assert format_package(package) == (["data/platforms.csv"], [])
    assert format_package(package, check=True) == ([], [])


def test_fmt_writes_numbers_and_booleans_in_canonical_form(package: Path) -> None:
    root = package.parent
    replace(M, ",250000,", ",+0250000,")(root)
    replace(M, "alpha-users-2011,alpha,registered-users,,1000000,more-than,china,2011,,",
            "alpha-users-2011,alpha,registered-users,,1000000,more-than,china,2011,TRUE,")(root)
    # +0250000 is an integer as the spec writes them; TRUE is not one of this schema's booleans
    found = [(p.code, p.line, p.column, p.field, p.value, p.message) for p in validate(package).problems]
    assert found == [
        ("type-error", 2, 9, "preferred", "TRUE", "expected one of true, false: write true (run make fmt)"),
    ]
    assert format_package(package, check=True) == ([M], [])
    assert format_package(package) == ([M], [])
    text = (root / M).read_text(encoding="utf-8")
    assert ",250000," in text and "2011,true," in text
    assert validate(package).problems == []


def test_fmt_canonicalises_a_boolean_of_the_specs_default_values(package: Path) -> None:
    root = package.parent
    edit_json("schemas/metrics.json", lambda s: [field(s, "preferred").pop(k) for k in ("trueValues", "falseValues")])(
        root
    )
    replace(M, "alpha-users-2011,alpha,registered-users,,1000000,more-than,china,2011,,",
            "alpha-users-2011,alpha,registered-users,,1000000,more-than,china,2011,True,")(root)
    assert validate(package).problems == []  # True is one of the spec's default true values
    assert format_package(package, check=True) == ([M], [])  # no longer "already canonical"
    assert format_package(package) == ([M], [])
    assert "2011,true," in (root / M).read_text(encoding="utf-8")
    assert validate(package).problems == []


INTEGERS = ["7", "+7", "007", "-007", "-0", "+0", "0", "12345678901234567890123", "+0012345678901234567890123"]
NUMBERS = [
    "0.5", ".5", "-.5", "+.5", "1.", "1.e5", "1E+05", "1e0", "1e-05", "1e10", "00.50", "0.50", "-0", "-00", "10",
    "1.0e5", "NaN", "INF", "-INF", "+1.5", "0e5", "3.14",
]


@pytest.mark.parametrize(
    ("kind", "text"), [("integer", t) for t in INTEGERS] + [("number", t) for t in NUMBERS]
)
def test_the_canonical_form_keeps_the_logical_value(kind: str, text: str) -> None:
    spec = {"name": "x", "type": kind}
    fixed = canonical_text(text, spec)
    both = pa.array([text, fixed], pa.string())
    assert pc.all(lexically_valid(both, spec)).as_py()
    typed = to_arrow(both, spec).to_pylist()
    assert typed[0] == typed[1] or (typed[0] != typed[0] and typed[1] != typed[1])  # NaN is NaN
    assert canonical_text(fixed, spec) == fixed


@pytest.mark.parametrize(
    ("text", "fixed"),
    [("+7", "7"), ("007", "7"), ("-0", "0"), (".5", "0.5"), ("1.", "1"), ("1E+05", "1e5"), ("00.50", "0.50")],
)
def test_the_canonical_form_of_a_number(text: str, fixed: str) -> None:
    kind = "integer" if "." not in text and "E" not in text else "number"
    assert canonical_text(text, {"type": kind}) == fixed


def test_fmt_check_names_the_first_line_it_would_change(package: Path) -> None:
    metrics = package.parent / "data" / "metrics.csv"
    lines = metrics.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if ",250000," in line)
    lines[at] = lines[at].replace(",250000,", ",+0250000,")  # valid, but not the canonical integer
    metrics.write_text("\n".join(lines), encoding="utf-8")
    assert validate(package).problems == []
    changed, problems = format_package(package, check=True)
    said = describe(changed, problems, check=True).splitlines()
    assert said[0] == f"would format data/metrics.csv, from line {at + 1}"
