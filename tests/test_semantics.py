"""Table Schema semantics: what each property means here, typed values, the spec's lexical
forms, and the package's own rules applying to this package alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.properties import BY_SCOPE, PROPERTIES, REFUSED, refusals
from pipeline.validation import validate
from tests.test_validate_corpus import E, F, P, edit_json, replace, write


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
