"""The broken-input corpus: each case breaks one thing in a valid package and pins the
code, path, line, column and field that validation must report for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.validation import validate

pytestmark = pytest.mark.fixtures_only


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    """Replace one occurrence of ``old`` in a package file."""

    def edit(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {path}"
        file.write_bytes(text.replace(old, new).encode("utf-8"))

    return edit


def write(path: str, content: bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / path).write_bytes(content)

    return edit


def transform(path: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        file = root / path
        file.write_bytes(fn(file.read_bytes()))

    return edit


def edit_json(path: str, fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        file = root / path
        data = json.loads(file.read_text(encoding="utf-8"))
        fn(data)
        file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    return edit


def field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def set_resource(index: int, key: str, value: object) -> Callable[[dict], None]:
    return lambda d: d["resources"][index].__setitem__(key, value)


def set_constraint(name: str, key: str, value: object) -> Callable[[dict], None]:
    return lambda s: field(s, name).setdefault("constraints", {}).__setitem__(key, value)


@dataclass
class Case:
    id: str
    edits: list[Callable[[Path], None]]
    code: str
    path: str
    line: int | str | None  # a str is a needle: the line of the file where it first appears
    column: int | None
    field: str | None


P, E, M, S, ORG, F, C = (
    f"data/{n}.csv" for n in ("platforms", "events", "metrics", "sources", "organizations", "features", "comparisons")
)
LONG = "A" * 101

# fmt: off
CASES = [
    # ---- the descriptor and the schemas
    Case("descriptor-invalid-json", [write("datapackage.json", b'{"name": "x",\n  "resources": [\n}')],
         "package-error", "datapackage.json", 3, 1, None),
    Case("descriptor-not-object", [write("datapackage.json", b"[]")], "package-error", "datapackage.json", 1, 1, None),
    Case("descriptor-no-resources", [edit_json("datapackage.json", lambda d: d.__setitem__("resources", []))],
         "package-error", "datapackage.json", None, None, None),
    Case("descriptor-bad-version", [edit_json("datapackage.json", lambda d: d.__setitem__("version", "one"))],
         "package-error", "datapackage.json", None, None, None),
    Case("path-absolute", [edit_json("datapackage.json", set_resource(0, "path", "/etc/sources.csv"))],
         "resource-error", "datapackage.json", '"name": "sources"', None, None),
    Case("path-parent", [edit_json("datapackage.json", set_resource(0, "path", "../sources.csv"))],
         "resource-error", "datapackage.json", '"name": "sources"', None, None),
    Case("path-url", [edit_json("datapackage.json", set_resource(0, "path", "https://example.org/sources.csv"))],
         "scheme-error", "datapackage.json", '"name": "sources"', None, None),
    Case("path-not-csv", [edit_json("datapackage.json", set_resource(0, "path", "data/sources.json"))],
         "format-error", "datapackage.json", '"name": "sources"', None, None),
    Case("resource-name-repeated", [edit_json("datapackage.json", set_resource(1, "name", "sources"))],
         "resource-error", "datapackage.json", '"name": "sources"', None, None),
    Case("data-file-missing", [edit_json("datapackage.json", set_resource(0, "path", "data/nowhere.csv"))],
         "source-error", "data/nowhere.csv", None, None, None),
    Case("schema-file-missing", [edit_json("datapackage.json", set_resource(0, "schema", "schemas/nowhere.json"))],
         "schema-error", "schemas/nowhere.json", None, None, None),
    Case("schema-invalid-json", [write("schemas/features.json", b'{\n  "fields": [,]\n}')],
         "schema-error", "schemas/features.json", 2, 14, None),
    Case("schema-unknown-type", [
        edit_json("schemas/platforms.json", lambda s: field(s, "launched").update(type="when")),
    ], "schema-error", "schemas/platforms.json", '"name": "launched"', None, "launched"),
    Case("schema-pattern-does-not-compile", [
        edit_json("schemas/sources.json", set_constraint("source_id", "pattern", "[a-z")),
    ], "schema-error", "schemas/sources.json", '"name": "source_id"', None, "source_id"),
    Case("schema-pattern-not-re2", [
        edit_json("schemas/sources.json", set_constraint("source_id", "pattern", "(?=a)a")),
    ], "schema-error", "schemas/sources.json", '"name": "source_id"', None, "source_id"),
    Case("schema-constraint-wrong-type", [edit_json("schemas/metrics.json", set_constraint("value", "minLength", 1))],
         "schema-error", "schemas/metrics.json", '"name": "value"', None, "value"),
    Case("schema-bound-not-a-date", [edit_json("schemas/sources.json", set_constraint("accessed", "minimum", "soon"))],
         "schema-error", "schemas/sources.json", '"name": "accessed"', None, "accessed"),
    Case("schema-field-repeated", [edit_json("schemas/features.json", lambda s: s["fields"].append({"name": "note"}))],
         "schema-error", "schemas/features.json", '"name": "note"', None, "note"),
    Case("schema-primary-key-unknown", [
        edit_json("schemas/features.json", lambda s: s.__setitem__("primaryKey", ["nope"])),
    ], "schema-error", "schemas/features.json", '"primaryKey"', None, None),
    Case("schema-foreign-key-unknown-resource", [
        edit_json("schemas/features.json", lambda s: s["foreignKeys"][0]["reference"].update(resource="nope")),
    ], "schema-error", "schemas/features.json", '"foreignKeys"', None, None),
    Case("schema-foreign-key-unknown-field", [
        edit_json("schemas/features.json", lambda s: s["foreignKeys"][0]["reference"].update(fields=["nope"])),
    ], "schema-error", "schemas/features.json", '"foreignKeys"', None, None),
    # ---- the files
    Case("year-zero", [replace(S, "2015-06,2026-11-26", "0000,2026-11-26")], "type-error", S, 2, 6, "published"),
    Case("accessed-in-the-future", [replace(S, "2015-06,2026-11-26", "2015-06,2999-01-01")],
         "future-date", S, 2, 7, "accessed"),
    Case("byte-order-mark", [transform(S, lambda b: b"\xef\xbb\xbf" + b)], "byte-order-mark", S, 1, 1, None),
    Case("not-utf8", [transform(S, lambda b: b.replace(b"First report", b"First \xff report"))],
         "encoding-error", S, 2, 2, "title"),
    Case("crlf", [transform(S, lambda b: b.replace(b"\n", b"\r\n"))], "line-ending", S, 1, None, None),
    Case("lone-cr", [transform(S, lambda b: b.replace(b"First report", b"First\rreport"))],
         "line-ending", S, 2, None, None),
    Case("no-final-newline", [transform(S, lambda b: b.rstrip(b"\n"))], "final-newline", S, 3, None, None),
    Case("empty-file", [write(F, b"")], "source-error", F, 1, None, None),
    Case("blank-line", [replace(F, "alpha,job-listings,,s-one\n", "alpha,job-listings,,s-one\n\n")],
         "blank-row", F, 3, None, None),
    Case("row-of-empty-cells", [replace(F, "alpha,job-listings,,s-one\n", "alpha,job-listings,,s-one\n,,,\n")],
         "blank-row", F, 3, None, None),
    Case("extra-cell", [replace(F, "alpha,job-listings,,s-one", "alpha,job-listings,,s-one,more")],
         "extra-cell", F, 2, 5, None),
    Case("missing-cell", [replace(F, "beta,messaging,,s-two", "beta,messaging,")],
         "missing-cell", F, 3, 4, "source_id"),
    Case("stray-quote", [replace(ORG, "Alpha Holdings", 'Alpha "Holdings')], "quote-error", ORG, 2, 2, "name_en"),
    Case("quote-not-closed", [replace(C, "Beta works much like Alpha.,s-two", '"Beta works much like Alpha.,s-two')],
         "quote-error", C, 2, 5, "note"),
    Case("text-after-closing-quote", [replace(P, '"A note, with a comma"', '"A note, with a comma"x')],
         "quote-error", P, 3, 22, "note"),
    Case("incorrect-label", [replace(F, "platform_id,feature", "platform,feature")],
         "incorrect-label", F, 1, 1, "platform_id"),
    Case("missing-label", [write(F, b"platform_id,feature,note\nalpha,job-listings,\nbeta,messaging,\n")],
         "missing-label", F, 1, 4, "source_id"),
    Case("extra-label", [
        write(F, b"platform_id,feature,note,source_id,x\nalpha,job-listings,,s-one,1\nbeta,messaging,,s-two,2\n"),
    ], "extra-label", F, 1, 5, None),
    Case("duplicate-label", [replace(F, "platform_id,feature,note,source_id", "platform_id,feature,note,note")],
         "duplicate-label", F, 1, 4, "source_id"),
    Case("blank-label", [replace(F, "platform_id,feature,note,source_id", "platform_id,feature,,source_id")],
         "blank-label", F, 1, 3, "note"),
    # ---- the cells
    Case("integer-type", [replace(M, ",1000000,", ",1e6,")], "type-error", M, 2, 5, "value"),
    Case("date-not-in-calendar", [replace(S, "2015-06,2026-11-26", "2015-06,2026-02-30")],
         "type-error", S, 2, 7, "accessed"),
    Case("date-shape", [replace(S, "2015-06,2026-11-26", "2015-06,26/11/2026")], "type-error", S, 2, 7, "accessed"),
    # types the package does not use yet, checked through a changed schema
    Case("number-type", [
        edit_json("schemas/metrics.json", lambda s: field(s, "value").update(type="number")),
        replace(M, ",250000,", ",2.5e5.1,"),
    ], "type-error", M, 3, 5, "value"),
    Case("year-type", [
        edit_json("schemas/organizations.json", lambda s: field(s, "founded").update(type="year", constraints={})),
        replace(ORG, "Shanghai,CN,2009-03,", "Shanghai,CN,2009-03x,"),
    ], "type-error", ORG, 3, 7, "founded"),
    Case("yearmonth-type", [
        edit_json("schemas/organizations.json", lambda s: field(s, "founded").update(type="yearmonth", constraints={})),
        replace(ORG, "Shanghai,CN,2009-03,", "Shanghai,CN,2009-13,"),
    ], "type-error", ORG, 3, 7, "founded"),
    Case("datetime-type", [
        edit_json("schemas/sources.json", lambda s: field(s, "accessed").update(type="datetime", constraints={})),
        replace(S, "2016,2026-11-26", "2016,2026-11-26T25:00:00Z"),
        replace(S, "2015-06,2026-11-26", "2015-06,2026-11-26T10:00:00Z"),
    ], "type-error", S, 3, 7, "accessed"),
    Case("boolean-type", [replace(P, "2012-05,2015-11-30,,defunct", "2012-05,2015-11-30,no,defunct")],
         "type-error", P, 3, 13, "closed_unknown"),
    Case("partial-date-month", [replace(P, "young professionals,2010,", "young professionals,2010-13,")],
         "type-error", P, 2, 11, "launched"),
    Case("partial-date-day", [replace(M, "2013-07,", "2013-02-30,")], "type-error", M, 3, 8, "as_of"),
    Case("required", [replace(S, "https://example.org/one", "")], "constraint-error", S, 2, 5, "url"),
    Case("enum", [replace(P, "professional-network", "social")], "constraint-error", P, 2, 6, "category"),
    Case("pattern", [replace(ORG, "Beijing,CN", "Beijing,China")], "constraint-error", ORG, 2, 6, "country"),
    Case("max-length", [replace(P, "alpha,Alpha,", f"alpha,{LONG},")], "constraint-error", P, 2, 2, "name_en"),
    Case("min-length", [
        edit_json("schemas/platforms.json", set_constraint("name_en", "minLength", 5)),
        replace(P, "beta,Beta,", "beta,Be,"),
    ], "constraint-error", P, 3, 2, "name_en"),
    Case("minimum", [replace(M, ",250000,", ",-5,")], "constraint-error", M, 3, 5, "value"),
    Case("maximum", [replace(M, ",250000,", ",20000000000,")], "constraint-error", M, 3, 5, "value"),
    Case("exclusive-minimum", [edit_json("schemas/metrics.json", set_constraint("value", "exclusiveMinimum", 250000))],
         "constraint-error", M, 3, 5, "value"),
    Case("exclusive-maximum", [edit_json("schemas/metrics.json", set_constraint("value", "exclusiveMaximum", 1000000))],
         "constraint-error", M, 2, 5, "value"),
    Case("date-minimum", [replace(S, "2016,2026-11-26", "2016,1999-12-31")], "constraint-error", S, 3, 7, "accessed"),
    Case("uri-format", [replace(S, "https://example.org/one", "ftp://example.org/one")], "type-error", S, 2, 5, "url"),
    Case("uri-without-scheme", [replace(S, "https://example.org/one", "example.org/one")],
         "type-error", S, 2, 5, "url"),
    Case("missing-values", [
        edit_json("schemas/platforms.json", lambda s: s.__setitem__("missingValues", ["", "n/a"])),
        replace(P, "alpha,Alpha,", "alpha,n/a,"),
    ], "constraint-error", P, 2, 2, "name_en"),
    Case("leading-space", [replace(P, "alpha,Alpha,", "alpha, Alpha,")], "whitespace", P, 2, 2, "name_en"),
    Case("trailing-ideographic-space", [replace(P, "阿尔法,", "阿尔法\u3000,")], "whitespace", P, 2, 3, "name_zh"),
    Case("space-inside-quotes", [replace(P, '"A note, with a comma"', '" A note, with a comma"')],
         "whitespace", P, 3, 22, "note"),
    Case("trailing-no-break-space", [replace(P, '"A note, with a comma"', '"A note, with a comma\u00a0"')],
         "whitespace", P, 3, 22, "note"),
    Case("control-character", [replace(S, "First report", "First\treport")], "control-character", S, 2, 2, "title"),
    Case("not-nfc", [replace(P, "alpha,Alpha,", "alpha,Alphe\u0301,")], "unicode-normalization", P, 2, 2, "name_en"),
    Case("formula-equals", [replace(P, "young professionals", "=1+1")], "formula-injection", P, 2, 10, "audience"),
    Case("formula-at", [replace(P, "young professionals", "@SUM(A1)")], "formula-injection", P, 2, 10, "audience"),
    Case("formula-minus", [replace(P, "job seekers", "-job seekers")], "formula-injection", P, 3, 10, "audience"),
    # ---- the keys
    Case("primary-key-repeated", [
        replace(F, "beta,messaging,,s-two", "beta,job-listings,,s-two"),
        replace(F, "alpha,job-listings,,s-one", "beta,job-listings,,s-one"),
    ], "primary-key", F, 3, 1, "platform_id"),
    Case("primary-key-empty", [replace(S, "s-two,", ",")], "primary-key", S, 3, 1, "source_id"),
    Case("unique", [replace(S, "https://example.org/two", "https://example.org/one")], "unique-error", S, 3, 5, "url"),
    Case("unique-keys", [
        edit_json("schemas/sources.json", lambda s: s.__setitem__("uniqueKeys", [["kind", "language"]])),
        replace(S, "original-reporting,zh", "original-reporting,en"),
    ], "unique-error", S, 3, 8, "kind"),
    Case("foreign-key", [replace(M, "beta-users-2013,beta,", "beta-users-2013,gamma,")],
         "foreign-key", M, 3, 2, "platform_id"),
    Case("foreign-key-same-resource", [replace(P, "org-b,alpha,", "org-b,zeta,")],
         "foreign-key", P, 3, 9, "parent_platform_id"),
    Case("foreign-key-to-sources", [replace(F, "beta,messaging,,s-two", "beta,messaging,,s-nine")],
         "foreign-key", F, 3, 4, "source_id"),
    # ---- the package rules
    Case("row-order", [
        write(F, b"platform_id,feature,note,source_id\nbeta,messaging,,s-two\nalpha,job-listings,,s-one\n"),
    ], "row-order", F, 3, 1, "platform_id"),
    Case("closed-before-launched", [
        replace(P, "2012-05,2015-11-30,", "2012-05,2011,"),
        replace(E, "shut-down,2015-11-30", "shut-down,2011"),
    ], "closed-before-launched", P, 3, 12, "closed"),
    Case("defunct-without-closure", [replace(P, "2012-05,2015-11-30,", "2012-05,,")],
         "closure-undated", P, 3, 14, "status"),
    Case("active-with-closure", [replace(P, "2010,,,active", "2010,,true,active")],
         "closure-on-active", P, 2, 14, "status"),
    Case("closure-dated-and-unknown", [replace(P, "2015-11-30,,defunct", "2015-11-30,true,defunct")],
         "closure-on-active", P, 3, 13, "closed_unknown"),
    Case("launch-without-event", [replace(P, "young professionals,2010,", "young professionals,2009,")],
         "date-mismatch", P, 2, 11, "launched"),
    Case("closure-without-event", [replace(E, "shut-down,2015-11-30", "shut-down,2015-11")],
         "date-mismatch", P, 3, 12, "closed"),
    Case("status-contradicts-events", [replace(P, "2012-05,2015-11-30,,defunct", "2012-05,,,active")],
         "status-mismatch", P, 3, 14, "status"),
    Case("unknown-status-of-a-closed-platform", [replace(P, "2012-05,2015-11-30,,defunct", "2012-05,,,unknown")],
         "status-mismatch", P, 3, 14, "status"),
    Case("name-source-unused", [
        replace(P, "beta,Beta,贝塔,Beita,", "beta,Beta,,,"),
        replace(P, "s-two,,\"A note", "s-two,s-one,\"A note"),
    ],
         "name-source-unused", P, 3, 21, "name_source_id"),
    Case("status-unsourced", [replace(P, "Shanghai,s-one,s-two,", "Shanghai,s-one,,")],
         "status-unsourced", P, 2, 20, "status_source_id"),
    Case("event-without-subject", [replace(E, "org-b-listed,,org-b,", "org-b-listed,,,")],
         "event-subject", E, 5, 2, "platform_id"),
    Case("exchange-on-other-event", [replace(E, "Alpha opened to users.,,", "Alpha opened to users.,NYSE,")],
         "listing-detail", E, 2, 7, "exchange"),
    Case("renamed-before-launch", [
        replace(E, "beta-shut-down,", "beta-renamed,beta,,renamed,2011,Renamed.,,,,,s-one\nbeta-shut-down,"),
    ], "event-before-launch", E, 4, 5, "date"),
    Case("in-service-before-launch", [
        replace(E, "beta-launched,", "beta-in-service,beta,,in-service,2011,Seen.,,,,,s-one\nbeta-launched,"),
    ], "event-before-launch", E, 3, 5, "date"),
    Case("in-service-after-closure", [
        replace(E, "beta-launched,", "beta-in-service,beta,,in-service,2016-01,Seen.,,,,,s-one\nbeta-launched,"),
    ], "event-after-closure", E, 3, 5, "date"),
    Case("listed-before-founding", [replace(E, "listed,2014-06-01", "listed,2008")],
         "event-before-launch", E, 5, 5, "date"),
    Case("figure-before-launch", [replace(M, "china,2011,", "china,2009,")], "event-before-launch", M, 2, 8, "as_of"),
    Case("disputed-event-unmarked", [
        replace(E, "beta-launched,",
                "alpha-launched-later,alpha,,launched,2011,Another claim.,,,,,s-two\nbeta-launched,"),
    ], "preferred-claims", E, 3, 10, "preferred"),
    Case("two-preferred-claims", [
        replace(E, "beta-launched,",
                "alpha-launched-later,alpha,,launched,2011,Another claim.,,,,true,s-two\nbeta-launched,"),
        replace(E, "Alpha opened to users.,,,,,", "Alpha opened to users.,,,,true,"),
    ], "preferred-claims", E, 2, 10, "preferred"),
    Case("disputed-figure-unmarked", [
        replace(M, "beta-users-2013,",
                "alpha-users-2011-other,alpha,registered-users,,900000,exact,china,2011,,,s-two\nbeta-users-2013,"),
    ], "preferred-claims", M, 3, 9, "preferred"),
    Case("figure-after-access", [replace(M, "china,2011,", "china,2027,")], "future-date", M, 2, 8, "as_of"),
    Case("published-after-access", [replace(S, "2016,2026-11-26", "2027,2026-11-26")],
         "future-date", S, 3, 6, "published"),
    Case("own-parent-organization", [replace(ORG, "Alpha Networks,,org-a", "Alpha Networks,,org-b")],
         "self-reference", ORG, 3, 4, "parent_organization_id"),
    Case("own-parent-platform", [replace(P, "org-b,alpha,", "org-b,beta,")],
         "self-reference", P, 3, 9, "parent_platform_id"),
    Case("uncited-source", [
        transform(S, lambda b: b + b"s-three,Unused,,,https://example.org/three,,2026-11-26,news,repost,en,\n"),
    ], "uncited-source", S, 4, 1, "source_id"),
    # ---- every property is implemented, refused by name or reported as unknown
    Case("dialect-delimiter-refused", [edit_json("datapackage.json", set_resource(0, "dialect", {"delimiter": ";"}))],
         "resource-error", "datapackage.json", '"delimiter"', None, None),
    Case("dialect-no-header-refused", [edit_json("datapackage.json", set_resource(0, "dialect", {"header": False}))],
         "resource-error", "datapackage.json", '"header"', None, None),
    Case("dialect-comment-char-refused", [
        edit_json("datapackage.json", set_resource(0, "dialect", {"delimiter": ",", "commentChar": "#"})),
    ], "resource-error", "datapackage.json", '"commentChar"', None, None),
    Case("dialect-unknown-option", [edit_json("datapackage.json", set_resource(0, "dialect", {"separator": ";"}))],
         "resource-error", "datapackage.json", '"separator"', None, None),
    Case("encoding-refused", [edit_json("datapackage.json", set_resource(1, "encoding", "latin-1"))],
         "resource-error", "datapackage.json", '"encoding": "latin-1"', None, None),
    Case("inline-data-refused", [edit_json("datapackage.json", set_resource(0, "data", [{"source_id": "s-one"}]))],
         "resource-error", "datapackage.json", '"data"', None, None),
    Case("path-list-refused", [
        edit_json("datapackage.json", set_resource(0, "path", ["data/sources.csv", "data/more.csv"])),
    ], "resource-error", "datapackage.json", '"name": "sources"', None, None),
    Case("resource-unknown-property", [edit_json("datapackage.json", set_resource(0, "colour", "blue"))],
         "resource-error", "datapackage.json", '"colour"', None, None),
    Case("package-unknown-property", [edit_json("datapackage.json", lambda d: d.__setitem__("colour", "blue"))],
         "package-error", "datapackage.json", '"colour"', None, None),
    Case("package-unknown-rule-set", [edit_json("datapackage.json", lambda d: d.__setitem__("rules", "other"))],
         "package-error", "datapackage.json", '"rules"', None, None),
    Case("date-format-pattern-refused", [
        edit_json("schemas/sources.json", lambda s: field(s, "accessed").update(format="%d/%m/%Y")),
    ], "schema-error", "schemas/sources.json", '"name": "accessed"', None, "accessed"),
    Case("decimal-char-refused", [
        edit_json("schemas/metrics.json", lambda s: field(s, "value").update(decimalChar=",")),
    ], "schema-error", "schemas/metrics.json", '"name": "value"', None, "value"),
    Case("group-char-refused", [edit_json("schemas/metrics.json", lambda s: field(s, "value").update(groupChar=","))],
         "schema-error", "schemas/metrics.json", '"name": "value"', None, "value"),
    Case("bare-number-refused", [
        edit_json("schemas/metrics.json", lambda s: field(s, "value").update(bareNumber=False)),
    ], "schema-error", "schemas/metrics.json", '"name": "value"', None, "value"),
    Case("list-item-type-refused", [edit_json("schemas/metrics.json", lambda s: field(s, "note").update(itemType="x"))],
         "schema-error", "schemas/metrics.json", '"name": "note"', None, "note"),
    Case("field-unknown-property", [edit_json("schemas/metrics.json", lambda s: field(s, "note").update(colour="x"))],
         "schema-error", "schemas/metrics.json", '"name": "note"', None, "note"),
    Case("constraint-unknown", [edit_json("schemas/metrics.json", set_constraint("value", "minimun", 0))],
         "schema-error", "schemas/metrics.json", '"name": "value"', None, "value"),
    Case("constraint-json-schema-refused", [
        edit_json("schemas/metrics.json", set_constraint("note", "jsonSchema", {})),
    ], "schema-error", "schemas/metrics.json", '"name": "note"', None, "note"),
    Case("schema-unknown-property", [edit_json("schemas/metrics.json", lambda s: s.__setitem__("colour", "x"))],
         "schema-error", "schemas/metrics.json", '"colour"', None, None),
    Case("fields-match-unknown", [edit_json("schemas/metrics.json", lambda s: s.__setitem__("fieldsMatch", "some"))],
         "schema-error", "schemas/metrics.json", '"fieldsMatch"', None, None),
    Case("enum-value-not-of-the-type", [edit_json("schemas/metrics.json", set_constraint("value", "enum", ["many"]))],
         "schema-error", "schemas/metrics.json", '"name": "value"', None, "value"),
    # ---- the package's rules are declared by it and need their columns
    Case("rules-need-a-missing-column", [
        edit_json("schemas/platforms.json", lambda s: field(s, "pinyin").update(name="pinyin_name")),
        replace(P, ",name_zh,pinyin,", ",name_zh,pinyin_name,"),
    ], "schema-error", "schemas/platforms.json", None, None, "pinyin"),
    Case("rules-need-a-boolean", [
        # a string field has no release default: that is dropped too, so only the rules object
        edit_json("schemas/platforms.json", lambda s: field(s, "closed_unknown").pop("releaseDefault")),
        edit_json("schemas/platforms.json", lambda s: field(s, "closed_unknown").update(type="string")),
    ], "schema-error", "schemas/platforms.json", None, None, "closed_unknown"),
    # ---- fieldsMatch, field-level missingValues and categories
    Case("fields-match-equal-lacks-a-field", [
        edit_json("schemas/features.json", lambda s: s.__setitem__("fieldsMatch", "equal")),
        write(F, b"feature,platform_id,source_id\njob-listings,alpha,s-one\nmessaging,beta,s-two\n"),
    ], "missing-label", F, 1, 4, "note"),
    Case("fields-match-equal-cell-by-name", [
        edit_json("schemas/features.json", lambda s: s.__setitem__("fieldsMatch", "equal")),
        write(F, b"feature,platform_id,source_id,note\njob-listings,alpha,s-one,\nbogus,beta,s-two,\n"),
    ], "constraint-error", F, 3, 1, "feature"),
    Case("fields-match-superset-extra-label", [
        edit_json("schemas/features.json", lambda s: s.__setitem__("fieldsMatch", "superset")),
        write(F, b"platform_id,feature,extra,source_id\nalpha,job-listings,x,s-one\nbeta,messaging,y,s-two\n"),
    ], "extra-label", F, 1, 3, None),
    Case("field-missing-values", [
        edit_json("schemas/platforms.json", lambda s: field(s, "name_en").update(missingValues=["", "n/a"])),
        replace(P, "alpha,Alpha,", "alpha,n/a,"),
    ], "constraint-error", P, 2, 2, "name_en"),
    Case("categories", [
        edit_json("schemas/features.json", lambda s: field(s, "feature").update(categories=["job-listings"])),
    ], "constraint-error", F, 3, 2, "feature"),
    Case("categories-as-objects", [
        edit_json("schemas/features.json",
                  lambda s: field(s, "feature").update(categories=[{"value": "messaging", "label": "Messaging"}])),
    ], "constraint-error", F, 2, 2, "feature"),
    # ---- every cell of a ragged row is checked; hash and bytes; a first label on two lines
    Case("extra-cell-row-cause", [replace(F, "alpha,job-listings,,s-one", "alpha,bogus,,s-one,more")],
         "extra-cell", F, 2, 5, None),
    Case("extra-cell-row-cells-before-the-shift-checked",
         [replace(F, "alpha,job-listings,,s-one", "alpha,bogus,,s-one,more")], "constraint-error", F, 2, 2, "feature"),
    Case("missing-cell-row-cells-checked", [replace(F, "beta,messaging,,s-two", "beta,bogus")],
         "constraint-error", F, 3, 2, "feature"),
    Case("hash-mismatch", [edit_json("datapackage.json", set_resource(0, "hash", "md5:" + "0" * 32))],
         "hash-count", S, None, None, None),
    Case("sha256-mismatch", [edit_json("datapackage.json", set_resource(0, "hash", "sha256:" + "0" * 64))],
         "hash-count", S, None, None, None),
    Case("bytes-mismatch", [edit_json("datapackage.json", set_resource(0, "bytes", 1))],
         "byte-count", S, None, None, None),
    Case("hash-malformed", [edit_json("datapackage.json", set_resource(0, "hash", "crc32:abc"))],
         "resource-error", "datapackage.json", '"name": "sources"', None, None),
    Case("multiline-first-label", [
        transform(F, lambda b: b.replace(b"platform_id,feature", b'"platform\nid",feature', 1)),
    ], "incorrect-label", F, 1, 1, "platform_id"),
    Case("multiline-first-label-then-a-bad-cell", [
        transform(F, lambda b: b.replace(b"platform_id,feature", b'"platform\nid",feature', 1)),
        replace(F, "beta,messaging,,s-two", "beta,bogus,,s-two"),
    ], "constraint-error", F, 4, 2, "feature"),
    # ---- positions survive a quoted cell that spans lines
    Case("line-after-multiline-cell", [
        replace(P, "Shanghai,s-one,s-two,,\n", 'Shanghai,s-one,s-two,,"first line\nsecond line"\n'),
        replace(P, "beta,Beta,贝塔,Beita,,recruitment", "beta,Beta,贝塔,Beita,,bogus"),
    ], "constraint-error", P, 4, 6, "category"),
    Case("multiline-cell-is-a-control-character", [
        replace(P, "Shanghai,s-one,s-two,,\n", 'Shanghai,s-one,s-two,,"first line\nsecond line"\n'),
    ], "control-character", P, 2, 22, "note"),
    Case("multiline-cell-without-final-newline", [
        replace(P, "Shanghai,s-one,s-two,,\n", 'Shanghai,s-one,s-two,,"first line\nsecond line"\n'),
        transform(P, lambda b: b.rstrip(b"\n")),
    ], "control-character", P, 2, 22, "note"),
    Case("ragged-row-after-multiline-cell", [
        replace(P, "Shanghai,s-one,s-two,,\n", 'Shanghai,s-one,s-two,,"first\nsecond"\n'),
        replace(P, '"A note, with a comma"', '"A note, with a comma",extra'),
    ], "extra-cell", P, 4, 22, "note"),
]
# fmt: on


def resolve_line(root: Path, path: str, line: int | str | None) -> int | None:
    if not isinstance(line, str):
        return line
    text = (root / path).read_text(encoding="utf-8")
    return text[: text.index(line)].count("\n") + 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_broken_input_is_reported_where_it_is(case: Case, package: Path) -> None:
    root = package.parent
    for edit in case.edits:
        edit(root)
    if case.id == "descriptor-missing":
        package.unlink()
    report = validate(package)
    expected = (case.code, case.path, resolve_line(root, case.path, case.line), case.column, case.field)
    found = [(p.code, p.path, p.line, p.column, p.field) for p in report.problems]
    assert expected in found, f"expected {expected}, found {found}"
    assert not report.valid


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_broken_input_produces_a_traceback(case: Case, package: Path) -> None:
    root = package.parent
    for edit in case.edits:
        edit(root)
    result = CliRunner().invoke(app, ["validate", str(package), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    body = json.loads(result.output)
    assert body["valid"] is False and body["errors"]


def test_the_fixture_package_is_valid(package: Path) -> None:
    assert validate(package).problems == []


def test_a_missing_descriptor_is_a_package_error(tmp_path: Path) -> None:
    report = validate(tmp_path / "datapackage.json")
    assert [(p.code, p.path) for p in report.problems] == [("package-error", "datapackage.json")]


def test_every_problem_in_a_file_is_reported_in_one_run(package: Path) -> None:
    replace(P, "alpha,Alpha,", "alpha, Alpha,")(package.parent)
    replace(M, ",250000,", ",-5,")(package.parent)
    replace(S, "https://example.org/one", "ftp://example.org/one")(package.parent)
    codes = sorted(p.code for p in validate(package).problems)
    assert codes == ["constraint-error", "type-error", "whitespace"]


def test_validation_never_writes_to_the_package(package: Path) -> None:
    replace(P, "alpha,Alpha,", "alpha, Alpha,")(package.parent)
    before = {p: p.read_bytes() for p in package.parent.rglob("*") if p.is_file()}
    validate(package)
    after = {p: p.read_bytes() for p in package.parent.rglob("*") if p.is_file()}
    assert before == after


def test_validation_does_not_read_outside_the_package(tmp_path: Path, package: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("source_id\nx\n")
    edit_json("datapackage.json", set_resource(0, "path", "data/../../secret.csv"))(package.parent)
    problems = validate(package).problems
    assert [p.code for p in problems] == ["resource-error"]
    assert "inside the package" in problems[0].message


@pytest.mark.parametrize("seed", range(40))
def test_random_damage_never_raises(seed: int, package: Path) -> None:
    """Bytes flipped, dropped or inserted anywhere in the descriptor, a schema or a data file:
    always a report, never an exception."""
    import random

    rng = random.Random(seed)
    root = package.parent
    targets = [package, *sorted((root / "data").glob("*.csv")), *sorted((root / "schemas").glob("*.json"))]
    target = rng.choice(targets)
    content = bytearray(target.read_bytes())
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(content))
        action = rng.choice(["flip", "drop", "insert"])
        if action == "flip":
            content[at] = rng.randrange(256)
        elif action == "drop":
            del content[at]
        else:
            content.insert(at, rng.choice(b'",\n\r\x00\xff =-'))
    target.write_bytes(bytes(content))
    report = validate(package)
    for problem in report.problems:
        assert problem.code and problem.path and problem.message


def test_a_repeated_source_id_is_a_key_problem_not_an_uncited_source(package: Path) -> None:
    # Both rows carry an id that facts cite: the repeat is reported once, as a primary-key problem.
    replace(S, "s-two,第二份报告", "s-one,第二份报告")(package.parent)
    codes = {p.code for p in validate(package).problems}
    assert "primary-key" in codes and "uncited-source" not in codes


def test_a_header_without_rows_or_final_newline_is_reported_not_a_crash(package: Path) -> None:
    write(F, b"platform_id,feature,note,source_id")(package.parent)
    problems = validate(package).problems
    assert [(p.code, p.path, p.line) for p in problems] == [("final-newline", F, 1)]


def test_a_missing_citing_column_is_one_missing_label(package: Path) -> None:
    # The rules pass where their inputs are missing: no uncited sources, no dates judged.
    transform(E, lambda b: b"\n".join(line.rsplit(b",", 1)[0] for line in b.split(b"\n")))(package.parent)
    problems = validate(package).problems
    assert [(p.code, p.path, p.line, p.column, p.field) for p in problems] == [("missing-label", E, 1, 11, "source_id")]


def test_a_figure_with_no_measure_is_not_also_judged_against_the_launch(package: Path) -> None:
    replace(M, "alpha,registered-users,,1000000,more-than,china,2011,", "alpha,,,1000000,more-than,china,2009,")(
        package.parent
    )
    codes = [p.code for p in validate(package).problems]
    assert codes == ["constraint-error"]


def test_validations_in_two_threads_restore_the_switch_interval_and_the_collector(package: Path) -> None:
    import gc
    import sys
    from concurrent.futures import ThreadPoolExecutor

    before = sys.getswitchinterval()
    for enabled in (True, False):
        gc.enable() if enabled else gc.disable()
        with ThreadPoolExecutor(2) as pool:
            reports = list(pool.map(validate, [package] * 4))
        assert all(r.valid for r in reports) and sys.getswitchinterval() == before
        assert gc.isenabled() is enabled
    gc.enable()


@pytest.mark.parametrize("url", ["HTTPS://EXAMPLE.ORG/one", "Http://example.org/one"])
def test_a_url_scheme_in_capitals_is_an_http_url(package: Path, url: str) -> None:
    import pipeline

    replace(S, "https://example.org/one", url)(package.parent)
    assert validate(package).problems == []
    assert url in set(pipeline.load(package, format="csv")["sources"]["url"])


def test_a_key_given_twice_in_the_descriptor_or_a_schema_is_refused_where_it_is(package: Path) -> None:
    root = package.parent
    descriptor = (root / "datapackage.json").read_text(encoding="utf-8")
    line = descriptor[: descriptor.index('"version":')].count("\n") + 1
    twice = descriptor.replace('"version":', '"version": "9.9.9", "version":', 1)
    (root / "datapackage.json").write_text(twice, encoding="utf-8")
    schema = (root / "schemas" / "features.json").read_text(encoding="utf-8")
    twice = schema.replace('"type": "string",', '"type": "integer", "type": "string",', 1)
    (root / "schemas" / "features.json").write_text(twice, encoding="utf-8")
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line) == ("package-error", "datapackage.json", line)
    assert problem.message == "the key 'version' appears twice in one object; expected each key once"
    (root / "datapackage.json").write_text(descriptor, encoding="utf-8")
    [problem] = validate(package).problems
    where = (problem.code, problem.path, problem.line, problem.column)
    assert where == ("schema-error", "schemas/features.json", 6, 26)
    assert problem.message == "the key 'type' appears twice in one object; expected each key once"


@pytest.mark.parametrize(
    ("path", "code"), [("datapackage.json", "package-error"), ("schemas/features.json", "schema-error")]
)
def test_a_json_file_saved_with_a_byte_order_mark_is_told_so(package: Path, path: str, code: str) -> None:
    file = package.parent / path
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.line, problem.column) == (code, path, 1, 1)
    assert problem.message.startswith("the file starts with a byte-order mark; expected UTF-8 JSON without one")


def test_a_resource_entry_that_is_not_an_object_is_its_one_problem(package: Path) -> None:
    descriptor = package.parent / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    index = [r["name"] for r in data["resources"]].index("organizations")
    data["resources"][index] = "organizations"
    descriptor.write_text(json.dumps(data, indent=2), encoding="utf-8")
    problems = [(p.code, p.path, p.message) for p in validate(package).problems]
    assert problems == [("resource-error", "datapackage.json", f"resource {index + 1} must be an object")]


def test_a_foreign_key_to_a_resource_the_package_lacks_names_its_fields(package: Path) -> None:
    descriptor = package.parent / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["resources"] = [r for r in data["resources"] if r["name"] != "organizations"]
    descriptor.write_text(json.dumps(data, indent=2), encoding="utf-8")
    messages = {(p.path, p.message) for p in validate(package).problems}
    lacking = "refers to resource 'organizations', which the package does not have"
    assert ("schemas/events.json", f"the foreign key on other_organization_id {lacking}") in messages
    assert ("schemas/platforms.json", f"the foreign key on organization_id {lacking}") in messages


@pytest.mark.parametrize(
    ("key", "value"),
    [("primaryKey", ["nope"]), ("foreignKeys", [{"fields": "nope", "reference": {"resource": "", "fields": "x"}}]),
     ("uniqueKeys", 3), ("uniqueKeys", [["nope"]]), ("missingValues", "x"), ("fields", {})],
)
def test_a_schema_property_that_is_wrong_is_reported_on_its_line(package: Path, key: str, value: object) -> None:
    schema = package.parent / "schemas" / "features.json"
    data = json.loads(schema.read_text(encoding="utf-8"))
    data[key] = value
    text = json.dumps(data, indent=2)
    schema.write_text(text, encoding="utf-8")
    line = text[: text.index(f'"{key}":')].count("\n") + 1
    found = [(p.code, p.path, p.line) for p in validate(package).problems]
    assert found and set(found) == {("schema-error", "schemas/features.json", line)}
