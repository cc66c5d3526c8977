"""The validator against Frictionless, the reference implementation, on small packages built
here: valid and invalid, across types, constraints, keys and file structure. The verdicts
agree, except where this package adds a hygiene check of its own (listed in ``HYGIENE``:
there Frictionless says valid and this validator reports exactly that code) and where
Frictionless does not implement a Table Schema v2 property (``NOT_IN_FRICTIONLESS``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.validation import validate
from tests.tables import build, one_field

pytestmark = pytest.mark.fixtures_only

frictionless = pytest.importorskip("frictionless")

#: The checks this package adds to the Table Schema's: Frictionless accepts what they refuse.
HYGIENE = {
    "whitespace",
    "formula-injection",
    "control-character",
    "unicode-normalization",
    "row-order",
    "final-newline",
    "line-ending",
    "byte-order-mark",
}


#: Table Schema v2 properties Frictionless does not implement: it accepts what they refuse.
NOT_IN_FRICTIONLESS = {"uniqueKeys"}


@dataclass
class Probe:
    id: str
    tables: dict[str, tuple[dict, str]]
    valid: bool  # this validator's verdict
    hygiene: set[str] = field(default_factory=set)  # our codes where Frictionless says valid
    unimplemented: str | None = None  # a property Frictionless ignores, so it says valid
    resource: dict = field(default_factory=dict)  # extra properties of the first resource


def keyed(kind: str, cells: list[str]) -> tuple[dict, str]:
    schema = {"fields": [{"name": "id", "type": kind}], "primaryKey": ["id"]}
    return schema, "id\n" + "".join(f"{c}\n" for c in cells)


def child(refs: list[str], kind: str = "integer") -> tuple[dict, str]:
    schema = {
        "fields": [{"name": "ref", "type": kind}],
        "foreignKeys": [{"fields": ["ref"], "reference": {"resource": "parent", "fields": ["id"]}}],
    }
    return schema, "ref\n" + "".join(f"{c}\n" for c in refs)


TWO = {"fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]}
PAIR = {
    "fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "date"}],
    "uniqueKeys": [["a", "b"]],
}
TEXT = "a,b\n1,x\n2,y\n"

# fmt: off
PROBES = [
    # ---- types: the spec's lexical forms
    Probe("integer-forms", {"t": one_field("integer", ["1", "-2", "+3", "007", "99999999999999999999"])}, True),
    Probe("integer-fraction", {"t": one_field("integer", ["1", "1.5"])}, False),
    Probe("number-forms", {"t": one_field("number", [".5", "1.", "+1", "1e5", "-1.5E-3", "NaN", "INF", "-INF"])},
          True),
    Probe("number-word", {"t": one_field("number", ["1", "one"])}, False),
    Probe("boolean-forms", {"t": one_field("boolean", ["true", "false", "True", "0"])}, True),
    Probe("boolean-yes", {"t": one_field("boolean", ["yes"])}, False),
    Probe("date-leap", {"t": one_field("date", ["2020-02-29"])}, True),
    Probe("date-not-a-day", {"t": one_field("date", ["2021-02-29"])}, False),
    Probe("datetime-zones", {"t": one_field("datetime", ["2020-01-01T10:00:00Z", "2020-01-01T10:00:00+08:00",
                                                         "2020-01-01T10:00:00.25-05:00"])}, True),
    Probe("datetime-bad-offset", {"t": one_field("datetime", ["2020-01-01T10:00:00+99:99"])}, False),
    Probe("time-forms", {"t": one_field("time", ["10:00:00", "23:59:59"])}, True),
    Probe("time-hour-25", {"t": one_field("time", ["25:00:00"])}, False),
    Probe("year", {"t": one_field("year", ["2020", "1999"])}, True),
    Probe("year-letters", {"t": one_field("year", ["20x0"])}, False),
    Probe("yearmonth", {"t": one_field("yearmonth", ["2020-01", "1999-12"])}, True),
    Probe("yearmonth-month-13", {"t": one_field("yearmonth", ["2020-13"])}, False),
    # ---- constraints
    Probe("required-missing", {"t": one_field("string", ["a", ""], constraints={"required": True})}, False),
    Probe("unique-typed", {"t": one_field("integer", ["1", "01"], constraints={"unique": True})}, False),
    Probe("enum-typed-number", {"t": one_field("number", ["1.0", "2"], constraints={"enum": [1, 2]})}, True),
    Probe("enum-typed-boolean", {"t": one_field("boolean", ["true"], constraints={"enum": [True]})}, True),
    Probe("enum-outside", {"t": one_field("string", ["a", "c"], constraints={"enum": ["a", "b"]})}, False),
    Probe("pattern", {"t": one_field("string", ["ab", "a1"], constraints={"pattern": "[a-z]+"})}, False),
    Probe("max-length", {"t": one_field("string", ["abcd"], constraints={"maxLength": 3})}, False),
    Probe("min-length", {"t": one_field("string", ["abc"], constraints={"minLength": 3})}, True),
    Probe("maximum-big", {"t": one_field("integer", ["99999999999999999999"], constraints={"maximum": 10**19})},
          False),
    Probe("minimum", {"t": one_field("integer", ["5", "-1"], constraints={"minimum": 0})}, False),
    Probe("exclusive-maximum", {"t": one_field("number", ["1.5", "2"], constraints={"exclusiveMaximum": 2})},
          False),
    Probe("date-minimum", {"t": one_field("date", ["2020-01-01"], constraints={"minimum": "2019-12-31"})}, True),
    # ---- keys
    Probe("primary-key", {"t": keyed("integer", ["1", "2", "3"])}, True),
    Probe("primary-key-typed-repeat", {"t": keyed("integer", ["01", "1"])}, False),
    Probe("foreign-key-typed", {"parent": keyed("integer", ["1", "2"]), "child": child(["01", "+2"])}, True),
    Probe("foreign-key-missing", {"parent": keyed("integer", ["1", "2"]), "child": child(["3"])}, False),
    Probe("unique-keys", {"t": (PAIR, "a,b\n1,2020-01-01\n01,2020-01-01\n")}, False, unimplemented="uniqueKeys"),
    Probe("unique-keys-distinct", {"t": (PAIR, "a,b\n1,2020-01-01\n1,2020-01-02\n")}, True),
    # ---- the file
    Probe("extra-cell", {"t": (TWO, "a,b\n1,x,z\n")}, False),
    Probe("missing-cell", {"t": (TWO, "a,b\n1\n")}, False),
    Probe("incorrect-label", {"t": (TWO, "a,c\n1,x\n")}, False),
    Probe("hash", {"t": (TWO, TEXT)}, True, resource={"hash": "md5:" + hashlib.md5(TEXT.encode()).hexdigest()}),
    Probe("hash-mismatch", {"t": (TWO, TEXT)}, False, resource={"hash": "md5:" + "0" * 32}),
    Probe("bytes-mismatch", {"t": (TWO, TEXT)}, False, resource={"bytes": 3}),
    # ---- this package's hygiene: valid to Frictionless
    Probe("leading-space", {"t": (TWO, "a,b\n1, x\n")}, False, {"whitespace"}),
    Probe("formula", {"t": (TWO, "a,b\n1,=SUM(A1)\n")}, False, {"formula-injection"}),
    Probe("unsorted-key", {"t": keyed("integer", ["2", "1"])}, False, {"row-order"}),
    Probe("no-final-newline", {"t": (TWO, "a,b\n1,x")}, False, {"final-newline"}),
]
# fmt: on


def _theirs(descriptor: Path) -> bool:
    return bool(frictionless.validate(str(descriptor)).valid)


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_the_verdict_agrees_with_frictionless(tmp_path: Path, probe: Probe) -> None:
    descriptor = build(tmp_path, probe.tables)
    if probe.resource:
        import json

        body = json.loads(descriptor.read_text(encoding="utf-8"))
        body["resources"][0].update(probe.resource)
        descriptor.write_text(json.dumps(body), encoding="utf-8")
    report = validate(descriptor)
    assert report.valid is probe.valid, report.problems
    if probe.unimplemented:
        assert probe.unimplemented in NOT_IN_FRICTIONLESS
        assert _theirs(descriptor) is True
    elif probe.hygiene:
        assert probe.hygiene <= HYGIENE
        assert {p.code for p in report.problems} == probe.hygiene
        assert _theirs(descriptor) is True
    else:
        assert _theirs(descriptor) is probe.valid
