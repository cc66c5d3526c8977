"""Table Schema semantics: what each property means here, typed values, the spec's lexical
forms, and the package's own rules applying to this package alone."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pipeline.properties import BY_SCOPE, PROPERTIES, REFUSED, refusals
from pipeline.validation import validate
from tests.tables import build, one_field
from tests.test_validate_corpus import E, F, P, edit_json, replace, write

pytestmark = pytest.mark.fixtures_only


def problems_of(package: Path) -> list[tuple]:
    return [(p.code, p.path, p.line, p.column, p.field) for p in validate(package).problems]


def test_a_package_that_names_no_rule_set_gets_no_rules(package: Path) -> None:
    # A foreign package with resources called events and platforms: this package's rules
    # are not its rules, so a closure before the launch is no problem of it.
    edit_json("datapackage.json", lambda d: d.pop("rules"))(package.parent)
    replace(P, "2012-05,2015-11-30,", "2012-05,2011,")(package.parent)
    assert problems_of(package) == []


def test_the_same_edit_breaks_a_rule_of_the_package_that_asks_for_them(package: Path) -> None:
    replace(P, "2012-05,2015-11-30,", "2012-05,2011,")(package.parent)
    assert ("closed-before-launched", P, 3, 12, "closed") in problems_of(package)


def test_a_missing_column_of_the_rules_is_one_schema_error_and_its_rules_do_not_run(package: Path) -> None:
    # The events lack "preferred": one schema-error, no failure inside a rule, no other problem.
    edit_json("schemas/events.json", lambda s: s["fields"].__setitem__(9, {**s["fields"][9], "name": "chosen"}))(
        package.parent
    )
    replace(E, ",ticker,other_organization_id,preferred,", ",ticker,other_organization_id,chosen,")(package.parent)
    assert problems_of(package) == [("schema-error", "schemas/events.json", None, None, "preferred")]


def test_fields_match_equal_reads_columns_by_name(package: Path) -> None:
    edit_json("schemas/features.json", lambda s: s.__setitem__("fieldsMatch", "equal"))(package.parent)
    write(F, b"note,source_id,feature,platform_id\n,s-one,job-listings,alpha\n,s-two,messaging,beta\n")(package.parent)
    assert problems_of(package) == []


@pytest.mark.parametrize(
    ("match", "header", "valid"),
    [
        ("subset", "platform_id,feature,note,source_id,extra", True),
        ("subset", "platform_id,feature,source_id", False),
        ("superset", "platform_id,feature,source_id", True),
        ("superset", "platform_id,feature,note,source_id,extra", False),
        ("partial", "platform_id,extra", True),
        ("partial", "other,extra", False),
    ],
)
def test_fields_match_by_name(package: Path, match: str, header: str, valid: bool) -> None:
    edit_json("schemas/features.json", lambda s: s.__setitem__("fieldsMatch", match))(package.parent)
    names = header.split(",")
    values = {
        "platform_id": ["alpha", "beta"],
        "feature": ["job-listings", "messaging"],
        "source_id": ["s-one", "s-two"],
    }
    rows = [",".join(values.get(n, ["", ""])[i] if n in values else "x" for n in names) for i in range(2)]
    write(F, ("\n".join([header, *rows]) + "\n").encode())(package.parent)
    problems = problems_of(package)
    assert (problems == []) is valid, problems


@pytest.mark.parametrize(
    ("match", "header", "rows"),
    [
        ("equal", "note,source_id,feature,platform_id", [",s-two,messaging,beta", ",s-one,job-listings,alpha"]),
        ("subset", "platform_id,feature,note,source_id,x", ["beta,messaging,,s-two,y", "alpha,job-listings,,s-one,x"]),
        ("superset", "feature,platform_id,source_id", ["messaging,beta,s-two", "job-listings,alpha,s-one"]),
        ("partial", "source_id,platform_id,feature,extra", ["s-two,beta,messaging,y", "s-one,alpha,job-listings,x"]),
    ],
)
def test_a_header_matched_by_name_is_formatted_in_its_own_order_and_released_in_the_schemas(
    package: Path, tmp_path: Path, match: str, header: str, rows: list[str]
) -> None:
    from pipeline.fmt import format_package
    from pipeline.publish import build as release

    edit_json("schemas/features.json", lambda s: s.__setitem__("fieldsMatch", match))(package.parent)
    write(F, ("\n".join([header, *rows]) + "\n").encode())(package.parent)
    # unsorted (beta before alpha): row-order, which fmt fixes keeping the file's columns
    assert [p[0] for p in problems_of(package)] == ["row-order"]
    assert format_package(package) == ([F], [])
    text = (package.parent / F).read_text(encoding="utf-8")
    assert text == "\n".join([header, *reversed(rows)]) + "\n"
    assert problems_of(package) == []
    published = release(package, out=tmp_path / "dist") / "features.csv"
    assert published.read_text(encoding="utf-8") == (
        "platform_id,feature,note,source_id\nalpha,job-listings,,s-one\nbeta,messaging,,s-two\n"
    )


def test_field_missing_values_replace_the_schemas_for_that_field(package: Path) -> None:
    # "n/a" is missing in name_zh only: in name_en it stays text.
    edit_json(
        "schemas/platforms.json",
        lambda s: next(f for f in s["fields"] if f["name"] == "name_zh").update(missingValues=["", "n/a"]),
    )(package.parent)
    replace(P, "alpha,Alpha,阿尔法,", "alpha,n/a,n/a,")(package.parent)
    assert problems_of(package) == []


def test_every_refusal_names_the_property_and_what_to_do() -> None:
    for prop in PROPERTIES:
        if prop.status != REFUSED:
            continue
        found = refusals(prop.scope, {prop.name: object()})
        assert len(found) == 1 and found[0][0] == prop.name
        assert repr(prop.name) in found[0][1] and len(found[0][1]) > len(prop.name) + 40


def test_a_refused_property_with_the_value_read_anyway_is_accepted() -> None:
    assert refusals("dialect", {"delimiter": ",", "header": True, "doubleQuote": True}) == []
    assert refusals("resource", {"encoding": "UTF-8"}) == []
    assert [k for k, _ in refusals("dialect", {"delimiter": "\t"})] == ["delimiter"]


def test_unknown_properties_are_reported_as_unknown() -> None:
    found = refusals("field", {"name": "x", "colour": "blue"})
    assert [k for k, _ in found] == ["colour"] and "unknown property 'colour'" in found[0][1]


def test_the_properties_table_covers_the_specifications() -> None:
    # A sample of each specification's properties, so that a row dropped by mistake is noticed.
    expected = {
        "package": {"name", "id", "licenses", "profile", "$schema", "resources", "contributors", "sources", "image"},
        "resource": {"path", "data", "schema", "dialect", "encoding", "bytes", "hash", "format", "mediatype", "type"},
        "dialect": {
            "delimiter",
            "header",
            "commentChar",
            "quoteChar",
            "doubleQuote",
            "escapeChar",
            "nullSequence",
            "skipInitialSpace",
            "lineTerminator",
            "headerRows",
            "commentRows",
            "headerJoin",
        },
        "schema": {"fields", "missingValues", "primaryKey", "foreignKeys", "uniqueKeys", "fieldsMatch"},
        "field": {
            "name",
            "type",
            "format",
            "constraints",
            "missingValues",
            "categories",
            "categoriesOrdered",
            "trueValues",
            "falseValues",
            "decimalChar",
            "groupChar",
            "bareNumber",
            "itemType",
            "delimiter",
            "rdfType",
            "example",
        },
        "constraint": {
            "required",
            "unique",
            "enum",
            "pattern",
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "jsonSchema",
        },
    }
    for scope, names in expected.items():
        assert names <= set(BY_SCOPE[scope]), names - set(BY_SCOPE[scope])


def test_the_real_schemas_use_only_known_properties() -> None:
    root = Path(__file__).resolve().parent.parent
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    assert refusals("package", descriptor) == []
    for entry in descriptor["resources"]:
        assert refusals("resource", entry) == []
        schema = json.loads((root / entry["schema"]).read_text(encoding="utf-8"))
        assert refusals("schema", schema) == []
        for spec in schema["fields"]:
            assert refusals("field", spec, skip=frozenset({"format"})) == []


# ---------------------------------------------------------------- typed values


def found(descriptor: Path) -> list[tuple]:
    return [(p.code, p.path, p.line, p.column, p.field) for p in validate(descriptor).problems]


def test_integer_primary_keys_compare_as_integers(tmp_path: Path) -> None:
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "x"}], "primaryKey": ["id"]}
    descriptor = build(tmp_path, {"t": (schema, "id,x\n01,a\n1,b\n")})
    [problem] = validate(descriptor).problems
    assert (problem.code, problem.line, problem.column, problem.field) == ("primary-key", 3, 1, "id")
    assert problem.value == "1" and "first at line 2" in problem.message


# A repeated key is found whether the rows are sorted (neighbours compared) or not (hashed).
KEY_CASES = [
    ("id,x\na,1\nb,2\nb,3\nc,4\n", [("primary-key", 4)]),  # sorted: the repeat is the row above
    ("id,x\nb,1\na,2\nb,3\n", [("row-order", 3), ("primary-key", 4)]),  # unsorted: found by hashing
    ("id,y,x\na,1,p\na,2,q\na,2,r\nb,1,s\n", [("primary-key", 4)]),  # two fields, sorted
    ("id,y,x\na,2,p\na,1,q\na,2,r\n", [("row-order", 3), ("primary-key", 4)]),
]


@pytest.mark.parametrize(("text", "expected"), KEY_CASES)
def test_a_repeated_primary_key_is_found_in_sorted_and_unsorted_rows(tmp_path: Path, text: str, expected) -> None:
    fields = text.split("\n", 1)[0].split(",")
    key = [f for f in fields if f != "x"]
    schema = {"fields": [{"name": f, "type": "integer" if f == "y" else "string"} for f in fields], "primaryKey": key}
    descriptor = build(tmp_path, {"t": (schema, text)})
    assert sorted((p.code, p.line) for p in validate(descriptor).problems) == sorted(expected)


# Lengths count characters, not bytes: a Chinese character is three bytes of UTF-8.
LENGTH_CASES = [
    ({"maxLength": 2}, ["领英", "赤兔网", "ab"], [3]),
    ({"maxLength": 6}, ["领英中国赤兔", "ab"], []),
    ({"minLength": 3}, ["领英", "abc", "脉脉网"], [2]),
    ({"minLength": 2}, ["a", "领", "ab"], [2, 3]),
    ({"minLength": 1, "maxLength": 1}, ["领", "英国"], [3]),
]


@pytest.mark.parametrize(("constraints", "cells", "failing"), LENGTH_CASES)
def test_lengths_count_characters(tmp_path: Path, constraints: dict, cells: list[str], failing: list[int]) -> None:
    descriptor = build(tmp_path, {"t": one_field("string", cells, constraints=constraints)})
    assert [p.line for p in validate(descriptor).problems] == failing


def test_a_foreign_key_finds_the_same_integer_written_otherwise(tmp_path: Path) -> None:
    parent = ({"fields": [{"name": "id", "type": "integer"}], "primaryKey": ["id"]}, "id\n1\n2\n")
    child_schema = {
        "fields": [{"name": "ref", "type": "integer"}],
        "foreignKeys": [{"fields": ["ref"], "reference": {"resource": "parent", "fields": ["id"]}}],
    }
    descriptor = build(tmp_path, {"parent": parent, "child": (child_schema, "ref\n01\n+2\n3\n")})
    assert found(descriptor) == [("foreign-key", "data/child.csv", 4, 1, "ref")]


def test_unique_keys_compare_typed_values(tmp_path: Path) -> None:
    schema = {"fields": [{"name": "a", "type": "number"}, {"name": "b", "type": "date"}], "uniqueKeys": [["a", "b"]]}
    descriptor = build(tmp_path, {"t": (schema, "a,b\n1.0,2020-01-01\n1,2020-01-01\n1,2020-01-02\n")})
    assert found(descriptor) == [("unique-error", "data/t.csv", 3, 1, "a")]


def test_a_unique_number_compares_typed_values(tmp_path: Path) -> None:
    descriptor = build(tmp_path, {"t": one_field("number", ["0.5", ".5", "5e-1"], constraints={"unique": True})})
    assert found(descriptor) == [("unique-error", "data/t.csv", 3, 1, "v"), ("unique-error", "data/t.csv", 4, 1, "v")]


@pytest.mark.parametrize(
    ("kind", "enum", "cell"),
    [
        ("number", [1], "1.0"),
        ("integer", [1], "+1"),
        ("boolean", [True], "true"),
        ("date", ["2020-01-01"], "2020-01-01"),
        ("time", ["10:00:00Z"], "12:00:00+02:00"),
        ("datetime", ["2020-01-01T00:00:00Z"], "2020-01-01T01:00:00+01:00"),
    ],
)
def test_enum_members_are_typed_values(tmp_path: Path, kind: str, enum: list, cell: str) -> None:
    descriptor = build(tmp_path, {"t": one_field(kind, [cell], constraints={"enum": enum})})
    assert found(descriptor) == []


def test_an_enum_failure_shows_the_raw_text(tmp_path: Path) -> None:
    descriptor = build(tmp_path, {"t": one_field("number", ["1.0", "2.50"], constraints={"enum": [1]})})
    [problem] = validate(descriptor).problems
    assert (problem.code, problem.line, problem.column, problem.field, problem.value) == (
        "constraint-error",
        3,
        1,
        "v",
        "2.50",
    )


def test_integers_beyond_64_bits_are_values_and_bounds(tmp_path: Path) -> None:
    big = ["99999999999999999999", "-99999999999999999999", "1"]
    descriptor = build(
        tmp_path,
        {
            "t": one_field(
                "integer", [*big, "100000000000000000001"], constraints={"maximum": 10**20, "minimum": -(10**20)}
            )
        },
    )
    assert found(descriptor) == [("constraint-error", "data/t.csv", 5, 1, "v")]


def test_an_integer_of_more_than_76_digits_is_a_type_error_not_a_crash(tmp_path: Path) -> None:
    descriptor = build(tmp_path, {"t": one_field("integer", ["9" * 77])})
    assert found(descriptor) == [("type-error", "data/t.csv", 2, 1, "v")]


SCHEMA_VALUES = [
    *[("integer", v) for v in (0, -7, 10**20, -(10**75), 10**76, 1.5, "7", True)],
    *[("year", v) for v in (2014, -2014, 999, 10000, 0, "2014")],
    *[("number", v) for v in (0, -1.5, 1e300, float("inf"), float("nan"), 10**299, 10**400, "1", False)],
    *[
        ("date", v)
        for v in (
            "2000-01-01",
            "0001-01-01",
            "9999-12-31",
            "2024-02-29",
            "2023-02-29",
            "20000101",
            "2000-1-01",
            "２０００-01-01",
            "2000-01-01T00:00:00",
            20000101,
        )
    ],
]


@pytest.mark.parametrize(("kind", "value"), SCHEMA_VALUES)
def test_a_schema_value_python_calls_valid_is_valid_to_arrow(kind: str, value: object) -> None:
    from pipeline.schema import plainly_valid, schema_values

    spec = {"name": "v", "type": kind}
    assert not plainly_valid(value, spec) or schema_values([value], spec) is not None


def test_checking_the_descriptor_does_not_load_pandas() -> None:
    """The files are read while pandas loads: a descriptor check that loaded it would hold
    the reading up (the real schemas have integer and date bounds)."""
    import subprocess
    import sys

    script = (
        "import sys; from pipeline.package import load_package; "
        "package, problems = load_package('datapackage.json'); "
        "print(package is not None, problems, 'pandas' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "[]", "False"]


ACCEPTED = {
    "number": ["1", "-1", "+1", ".5", "1.", "-.5", "1e5", "1E-5", "+1.5e+3", "NaN", "INF", "-INF", "0"],
    "integer": ["0", "-7", "+7", "007", "99999999999999999999"],
    "datetime": [
        "2020-01-01T10:00:00",
        "2020-01-01T10:00:00Z",
        "2020-01-01T10:00:00+08:00",
        "2020-01-01T10:00:00-14:00",
        "2020-01-01T10:00:00.5Z",
        "2020-01-01T23:59:59.123456+14:00",
    ],
    "time": ["10:00:00", "00:00:00Z", "23:59:59.999999", "10:00:00+05:30", "10:00:00.25-03:00"],
    "year": ["2020", "0999", "-0044"],
    "yearmonth": ["2020-01", "1999-12"],
    "date": ["2020-02-29", "1900-01-01"],
    "boolean": ["true", "false", "True", "FALSE", "1", "0"],
}
REJECTED = {
    "number": ["1,5", "1.2.3", "inf", "nan", "Infinity", "e5", ".", "1e", "0x10", "1 000", "--1"],
    "integer": ["1.0", "1e3", "+-1", "0x1", "1 000", "9" * 77],
    "datetime": [
        "2020-01-01T10:00:00+99:99",
        "2020-01-01T10:00:00+14:30",
        "2020-01-01T25:00:00",
        "2020-01-01 10:00:00",
        "2020-01-01T10:00",
        "2020-02-30T10:00:00Z",
        "2020-01-01T10:00:00.1234567Z",
    ],
    "time": ["10:00", "24:00:00", "10:60:00", "10:00:00+15:00", "10:00:00.1234567"],
    "year": ["20", "20201", "2020-01"],
    "yearmonth": ["2020-13", "2020-1", "2020"],
    "date": ["2020-02-30", "2020-1-1", "20200101"],
    "boolean": ["yes", "t", "TRUE "],
}


@pytest.mark.parametrize(("kind", "cell"), [(k, c) for k, cells in ACCEPTED.items() for c in cells])
def test_each_lexical_form_of_the_spec_is_accepted(tmp_path: Path, kind: str, cell: str) -> None:
    assert found(build(tmp_path, {"t": one_field(kind, [cell])})) == []


@pytest.mark.parametrize(("kind", "cell"), [(k, c) for k, cells in REJECTED.items() for c in cells])
def test_each_form_the_spec_rejects_is_a_type_error(tmp_path: Path, kind: str, cell: str) -> None:
    problems = found(build(tmp_path, {"t": one_field(kind, ["" if kind == "boolean" else ACCEPTED[kind][0], cell])}))
    assert ("type-error", "data/t.csv", 3, 1, "v") in problems


def _same(a: object, b: object) -> bool:
    import pandas as pd

    def nan(x: object) -> bool:
        return isinstance(x, float) and x != x

    if pd.isna(a) or pd.isna(b):  # NaN stays NaN, missing stays missing
        return bool(pd.isna(a) and pd.isna(b)) and nan(a) == nan(b)
    return bool(a == b)


def test_every_valid_value_survives_the_release(tmp_path: Path) -> None:
    """Each accepted value, released and loaded back from CSV, JSON and Parquet, is the value
    the working package holds."""
    import pipeline
    from pipeline.loader import load_package_frames
    from pipeline.package import load_package

    tables = {kind: one_field(kind, cells) for kind, cells in ACCEPTED.items()}
    descriptor = build(tmp_path / "package", tables)
    assert found(descriptor) == []
    package, _ = load_package(descriptor)
    expected = load_package_frames(package)
    for kind, cells in ACCEPTED.items():  # every value typed, none lost on the way in
        assert expected[kind]["v"].notna().sum() == len(cells), kind
    release = pipeline.release(str(descriptor), out=str(tmp_path / "dist"))
    for fmt in ("csv", "json", "parquet"):
        loaded = pipeline.load(str(release), format=fmt)
        for kind in ACCEPTED:
            mine, theirs = expected[kind]["v"].tolist(), loaded[kind]["v"].tolist()
            assert [_same(a, b) for a, b in zip(mine, theirs, strict=True)] == [True] * len(mine), (fmt, kind)
            assert str(expected[kind]["v"].dtype) == str(loaded[kind]["v"].dtype), (fmt, kind)
    database = next(release.rglob("*.sqlite"))
    with closing(sqlite3.connect(database)) as connection:
        for kind in ACCEPTED:
            stored = [_from_sqlite(kind, v) for (v,) in connection.execute(f'SELECT "v" FROM "{kind}" ORDER BY rowid')]
            mine = expected[kind]["v"].tolist()
            assert [_same(a, b) for a, b in zip(mine, stored, strict=True)] == [True] * len(mine), ("sqlite", kind)


def _from_sqlite(kind: str, value: object) -> object:
    """A value read from the release's database as the loader would type it."""
    import pandas as pd

    if value is None:
        return None
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float("nan") if value == "NaN" else float(value)
    if kind == "boolean":
        return bool(value)
    if kind in ("date", "datetime"):
        return pd.Timestamp(value)
    return value


# ---------------------------------------------------------------- files


def test_a_short_row_is_one_missing_cell_not_also_a_required_value(package: Path) -> None:
    replace(F, "beta,messaging,,s-two", "beta,bogus")(package.parent)
    assert problems_of(package) == [("constraint-error", F, 3, 2, "feature"), ("missing-cell", F, 3, 3, "note")]


def test_a_declared_hash_and_size_that_match_pass(package: Path) -> None:
    import hashlib

    content = (package.parent / "data" / "sources.csv").read_bytes()
    for key, value in [("hash", hashlib.md5(content).hexdigest()), ("bytes", len(content))]:
        edit_json("datapackage.json", lambda d, k=key, v=value: d["resources"][0].__setitem__(k, v))(package.parent)
    edit_json(
        "datapackage.json",
        lambda d: d["resources"][1].__setitem__(
            "hash", "sha256:" + hashlib.sha256((package.parent / "data" / "organizations.csv").read_bytes()).hexdigest()
        ),
    )(package.parent)
    assert problems_of(package) == []


REFUSED_PROPERTIES = [p for p in PROPERTIES if p.status == REFUSED]


@pytest.mark.parametrize("prop", REFUSED_PROPERTIES, ids=[f"{p.scope}-{p.name}" for p in REFUSED_PROPERTIES])
def test_each_refused_property_is_reported_by_name_where_it_is(package: Path, prop) -> None:
    from tests.test_validate_corpus import field, resolve_line, set_constraint

    root = package.parent
    if prop.scope == "resource":
        edit_json("datapackage.json", lambda d: d["resources"][2].__setitem__(prop.name, "refused-value"))(root)
        expected = ("resource-error", "datapackage.json", resolve_line(root, "datapackage.json", '"refused-value"'))
        where = (None, None)
    elif prop.scope == "dialect":
        edit_json("datapackage.json", lambda d: d["resources"][2].__setitem__("dialect", {prop.name: "refused-value"}))(
            root
        )
        expected = ("resource-error", "datapackage.json", resolve_line(root, "datapackage.json", '"refused-value"'))
        where = (None, None)
    else:
        edit = (
            set_constraint("note", prop.name, "refused-value")
            if prop.scope == "constraint"
            else (lambda s: field(s, "note").__setitem__(prop.name, "refused-value"))
        )
        edit_json("schemas/metrics.json", edit)(root)
        expected = (
            "schema-error",
            "schemas/metrics.json",
            resolve_line(root, "schemas/metrics.json", '"name": "note"'),
        )
        where = (None, "note")
    problems = validate(package).problems
    assert [(p.code, p.path, p.line, p.column, p.field) for p in problems] == [(*expected, *where)]
    assert repr(prop.name) in problems[0].message
