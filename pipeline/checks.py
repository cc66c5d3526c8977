"""Generate a resource's pandera schema from its Table Schema.

The checks run on the raw cells (Arrow-backed strings, missing values already null) of a
DataFrame whose index is the physical line of each row, so every failure pandera reports
already carries its place in the file. Each check is one vectorised Arrow operation.
Every check is named, and ``Finding`` says which error code and message it stands for.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pandera.pandas as pdr
import pyarrow as pa
import pyarrow.compute as pc

from .cells import Cells, ParsedPackage, key_codes, same_type
from .package import Resource
from .phases import phase
from .schema import (
    FORMAT_EXPECTED,
    FORMATS,
    anchored,
    expected,
    is_text,
    pattern_expected,
    schema_values,
)
from .text import CONTROL, FORMULA_START, WHITESPACE

_WS = "[" + re.escape(WHITESPACE) + "]"
_WS_PATTERN = f"^{_WS}|{_WS}$"
_FORMULA_PATTERN = "^[" + re.escape(FORMULA_START) + "]"
_HYGIENE_PATTERN = f"{_WS_PATTERN}|{CONTROL}"


@dataclass(frozen=True)
class Finding:
    """What a failed check means: its error code, the field it concerns and the message."""

    code: str
    message: str
    field: str | None = None


def arrow_of(series: pd.Series) -> pa.Array:
    return pa.array(series.array) if len(series) else pa.array([], pa.string())


def _passes(series: pd.Series, raw: pa.Array, result: pa.Array | pa.ChunkedArray) -> pd.Series:
    """A pandera check result: missing cells pass, as Table Schema constraints skip them."""
    ok = pc.or_(pc.fill_null(result, True), pc.is_null(raw))
    return pd.Series(ok.to_numpy(zero_copy_only=False), index=series.index)


def _distinct(fn: Callable[[pa.Array], pa.Array]) -> Callable[[pa.Array], pa.Array]:
    """The same predicate, judged once per distinct value: for columns whose values repeat
    (foreign keys, vocabularies), far fewer evaluations; all pass unless a value fails."""

    def check(arr: pa.Array) -> pa.Array:
        distinct = pc.unique(arr).drop_null()
        failing = distinct.filter(pc.invert(pc.fill_null(fn(distinct), True)))
        if not len(failing):
            return pa.nulls(len(arr), pa.bool_())  # null: passes
        return pc.invert(pc.is_in(arr, failing))

    return check


def _vector(fn: Callable[[pa.Array], pa.Array]) -> Callable[[pd.Series], pd.Series]:
    def check(series: pd.Series) -> pd.Series:
        raw = arrow_of(series)
        return _passes(series, raw, fn(raw))

    return check


def _any_match(arr: pa.Array, pattern: str) -> bool:
    return bool(pc.any(pc.match_substring_regex(arr, pattern)).as_py())


def _is_nfc(series: pd.Series) -> pd.Series:
    # Only the file's non-ASCII cells can fail; they are few, so Python may look at them.
    arr = arrow_of(series)
    ascii_ = pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False)
    ok = ascii_.copy()
    for i in np.flatnonzero(~ascii_):
        ok[i] = unicodedata.is_normalized("NFC", series.iloc[i])
    return pd.Series(ok, index=series.index)


def _bound_check(cells: Cells, key: str, bound: object, spec: dict) -> Callable[[pa.Array], pa.Array]:
    """Cells against a bound, both as logical values of the field's type (an integer bound
    beyond 64 bits is compared as a decimal)."""
    compare = {
        "minimum": pc.greater_equal,
        "maximum": pc.less_equal,
        "exclusiveMinimum": pc.greater,
        "exclusiveMaximum": pc.less,
    }[key]
    typed = cells.comparable()
    value = schema_values([bound], spec)[0]
    return lambda _raw: compare(typed, value)


def _one_of(cells: Cells, values: list, spec: dict) -> Callable[[pa.Array], pa.Array]:
    """Cells compared with the schema's values as typed values: ``1.0`` is in ``[1]`` for a
    number. A cell that is not of the field's type is left to the type check."""
    allowed = schema_values(values, spec)
    typed = cells.key()

    def check(_raw: pa.Array) -> pa.Array:
        found = pc.is_in(typed, value_set=allowed)
        if typed is cells.raw:  # text: a null is a missing cell, which passes anyway
            return found
        return pc.if_else(pc.is_null(typed), pa.scalar(None, pa.bool_()), found)

    return check


def _length_check(n: int, at_least: bool) -> Callable[[pa.Array], pa.Array]:
    """Cells against a length in characters. A UTF-8 cell has at most as many characters as
    bytes and at least a quarter as many, so the byte lengths (read off the offsets) decide
    most columns without the characters being counted."""

    def check(arr: pa.Array) -> pa.Array:
        size = pc.min_max(pc.binary_length(arr))
        low, high = size["min"].as_py(), size["max"].as_py()
        if low is None or (at_least and (low + 3) // 4 >= n) or (not at_least and high <= n):
            return pa.nulls(len(arr), pa.bool_())  # null: passes
        length = pc.utf8_length(arr)
        return pc.greater_equal(length, n) if at_least else pc.less_equal(length, n)

    return check


def _shown(values: list) -> str:
    texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
    return ", ".join(texts) if len(texts) <= 20 else ", ".join(texts[:20]) + ", …"


_BOUND_WORDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
}


def field_checks(spec: dict, cells: Cells, nfc: bool, suspects: frozenset[str]) -> list[tuple[pdr.Check, Finding]]:
    """The checks of one field, each with what its failure means.

    The column was parsed once (``cells``); the type and bound checks read that parse. The
    hygiene checks are made only on a column that may fail them: ``suspects`` (of the file,
    from its bytes) and the column's own edges.
    """
    name = spec["name"]
    kind = spec.get("type", "string")
    constraints = spec.get("constraints", {})
    checks: list[tuple[pdr.Check, Finding]] = []

    def add(check_name: str, fn: Callable[[pd.Series], pd.Series], code: str, message: str) -> None:
        checks.append((pdr.Check(fn, name=check_name, ignore_na=False), Finding(code, message, name)))

    if kind in ("string", "any"):
        # One pass finds whether any cell is unclean; only then is each cause looked for.
        text = is_text(spec)
        patterns = []
        suspects = suspects | cells.edges
        if suspects & {"control", "whitespace"}:
            patterns.append(_HYGIENE_PATTERN)
        if text and "formula" in suspects:
            patterns.append(_FORMULA_PATTERN)
        if patterns and _any_match(cells.raw, "|".join(patterns)):
            add(
                "whitespace",
                _vector(lambda a: pc.invert(pc.match_substring_regex(a, _WS_PATTERN))),
                "whitespace",
                "the cell starts or ends with white space; expected it trimmed (run make fmt)",
            )
            add(
                "control",
                _vector(lambda a: pc.invert(pc.match_substring_regex(a, CONTROL))),
                "control-character",
                "the cell holds a control character (tab, line break, ...); expected none",
            )
            if text:
                add(
                    "formula",
                    _vector(lambda a: pc.invert(pc.match_substring_regex(a, _FORMULA_PATTERN))),
                    "formula-injection",
                    "the text starts with =, +, - or @, which a spreadsheet would run as a formula; "
                    "expected another first character",
                )
        if not nfc:
            add("nfc", _is_nfc, "unicode-normalization", "the text is not in Unicode NFC; expected NFC (run make fmt)")
    if kind not in ("string", "any") or spec.get("partialDate"):
        add("type", _vector(lambda _raw: cells.valid), "type-error", f"expected {expected(spec)}")
    fmt = spec.get("format", "default")
    repeats = not constraints.get("unique")
    each = _distinct if repeats else (lambda fn: fn)
    if kind == "string" and fmt in FORMATS:
        pattern = anchored(FORMATS[fmt])
        add(
            "format",
            _vector(each(lambda a: pc.match_substring_regex(a, pattern))),
            "type-error",
            f"expected {FORMAT_EXPECTED[fmt]}",
        )
    if "enum" in constraints:
        add(
            "enum",
            _vector(_one_of(cells, constraints["enum"], spec)),
            "constraint-error",
            f"expected one of: {_shown(constraints['enum'])}",
        )
    if "categories" in spec:
        values = [c["value"] if isinstance(c, dict) else c for c in spec["categories"]]
        add(
            "categories",
            _vector(_one_of(cells, values, spec)),
            "constraint-error",
            f"expected one of the categories: {_shown(values)}",
        )
    if "pattern" in constraints:
        pattern = anchored(constraints["pattern"])
        add(
            "pattern",
            _vector(each(lambda a: pc.match_substring_regex(a, pattern))),
            "constraint-error",
            f"expected {pattern_expected(spec)}",
        )
    for key, words in (("minLength", "at least"), ("maxLength", "at most")):
        if key in constraints:
            n = constraints[key]
            add(
                key,
                _vector(_length_check(n, at_least=key == "minLength")),
                "constraint-error",
                f"expected {words} {n} characters",
            )
    for key, word in _BOUND_WORDS.items():
        if key in constraints:
            add(
                key,
                _vector(_bound_check(cells, key, constraints[key], spec)),
                "constraint-error",
                f"expected a value {word} {constraints[key]}",
            )
    return checks


def _foreign_key(own: list[Cells], target: list[Cells] | None, positions: Callable[[], np.ndarray]) -> Callable:
    """Rows whose typed key is found in the target's typed key; a single-field key uses the
    shared look-up. A key cell that is missing or not of its type is not looked up."""

    def check(frame: pd.DataFrame) -> pd.Series:
        with phase("keys"):
            return _check(frame)

    def _check(frame: pd.DataFrame) -> pd.Series:
        present = np.ones(len(frame), bool)
        for cells in own:
            present &= cells.key().is_valid().to_numpy(zero_copy_only=False)
        if target is None:
            return pd.Series(True, index=frame.index)
        if len(own) == 1:
            found = positions() >= 0
        else:
            pairs = [same_type(a.key(), b.key()) for a, b in zip(own, target, strict=True)]
            mine = pc.binary_join_element_wise(*[a.cast(pa.string()) for a, _ in pairs], "\x1f")
            theirs = pc.binary_join_element_wise(*[b.cast(pa.string()) for _, b in pairs], "\x1f")
            found = pc.is_in(mine, value_set=theirs.drop_null()).to_numpy(zero_copy_only=False)
        return pd.Series(found | ~present, index=frame.index)

    return check


def repeated(cells: list[Cells]) -> np.ndarray:
    """True on each row whose typed key values all equal those of an earlier row (none missing)."""
    keys = [c.key() for c in cells]
    if _all_distinct(keys):
        return np.zeros(len(keys[0]) if keys else 0, bool)
    frame = pd.DataFrame({i: pd.arrays.ArrowExtensionArray(k) for i, k in enumerate(keys)})
    present = np.ones(len(frame), bool)
    for k in keys:
        if k.null_count:
            present &= k.is_valid().to_numpy(zero_copy_only=False)
    return frame.duplicated(keep="first").to_numpy() & present


def _all_distinct(keys: list[pa.Array]) -> bool:
    """Whether no two rows share their key values (rows with a missing value aside), found
    by hashing alone; floating-point keys, whose NaN and -0.0 Arrow and pandas may hash
    apart, are left to pandas."""
    if not keys or any(pa.types.is_floating(k.type) for k in keys):
        return False
    if len(keys) == 1:
        key = keys[0]  # (unique() is several times faster than count_distinct here)
        return len(pc.unique(key)) - (key.null_count > 0) == len(key) - key.null_count
    codes = key_codes(keys)
    present = codes[codes >= 0]
    return len(np.unique(present)) == len(present)


class Neighbours:
    """Each row's primary key against the row above's, compared once. The row-order check
    reads which rows sort before the row above; and while the rows are sorted and no key
    cell is missing, a key repeats exactly where a row equals the row above, so its
    uniqueness needs no hashing."""

    def __init__(self, cells: list[Cells]) -> None:
        self.cells = cells
        self._compared: tuple[np.ndarray, np.ndarray] | None = None

    def compared(self) -> tuple[np.ndarray, np.ndarray]:
        """For each row from the second: whether it sorts before the row above, and whether
        no field told the two apart (equal, or a value missing)."""
        if self._compared is None:
            n = len(self.cells[0].raw) if self.cells else 0
            before, decided = np.zeros(max(n - 1, 0), bool), np.zeros(max(n - 1, 0), bool)
            for cells in self.cells if n > 1 else []:
                values = cells.comparable()
                prev, cur = values[:-1], values[1:]
                less = pc.fill_null(pc.less(cur, prev), False).to_numpy(zero_copy_only=False)
                greater = pc.fill_null(pc.greater(cur, prev), False).to_numpy(zero_copy_only=False)
                before |= less & ~decided
                decided |= less | greater
            self._compared = (before, ~decided)
        return self._compared

    def repeated(self) -> np.ndarray | None:
        """The rows whose key equals an earlier row's, when the neighbours tell; else None."""
        keys = [c.key() for c in self.cells]
        if not keys or any(k.null_count or pa.types.is_floating(k.type) for k in keys):
            return None
        before, same = self.compared()
        if before.any():
            return None
        return np.concatenate(([False], same)) if len(keys[0]) else np.zeros(0, bool)


def _unique_rows(cells: list[Cells], neighbours: Neighbours | None = None) -> Callable:
    def check(frame: pd.DataFrame) -> pd.Series:
        with phase("keys"):
            found = neighbours.repeated() if neighbours else None
            return pd.Series(~(repeated(cells) if found is None else found), index=frame.index)

    return check


def _sorted(neighbours: Neighbours) -> Callable:
    """True on rows that do not sort before the row above them (by primary key)."""

    def check(frame: pd.DataFrame) -> pd.Series:
        with phase("keys"):
            ok = np.ones(len(frame), bool)
            if len(frame) > 1:
                ok[1:] = ~neighbours.compared()[0]
            return pd.Series(ok, index=frame.index)

    return check


def row_check(fn: Callable[[pd.Series], pd.Series], name: str) -> pdr.Check:
    """A check that judges whole rows (a key, the row order, a rule), set on the column its
    problem is reported on: every row judged, a missing cell included, since the check
    itself says what a missing value means. (pandera gathers each failing row of a check
    of the whole frame as every cell of it, which took seconds when every row failed.)"""
    return pdr.Check(fn, name=name, ignore_na=False)


def resource_schema(
    resource: Resource,
    frame: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    nfc: bool,
    parsed: ParsedPackage,
    suspects: frozenset[str] = frozenset({"control", "whitespace", "formula"}),
) -> tuple[pdr.DataFrameSchema, dict[tuple[str | None, str], Finding]]:
    """The pandera schema of one resource's raw cells, keys and row order. The checks of
    whole rows (keys, row order) are checks of the column their problem is reported on:
    pandera gathers a failing row of a frame-wide check as every cell of it, which took
    seconds for a file whose every row failed."""
    cells = parsed[resource.name]
    findings: dict[tuple[str | None, str], Finding] = {}
    pk = resource.primary_key
    column_checks: dict[str, list[pdr.Check]] = {}
    nullable: dict[str, bool] = {}
    for spec in resource.fields:
        name = spec["name"]
        if name not in frame:
            continue
        constraints = spec.get("constraints", {})
        checks = []
        for check, finding in field_checks(spec, cells[name], nfc, suspects):
            checks.append(check)
            findings[(name, check.name)] = finding
        in_pk = name in pk
        findings[(name, "not_nullable")] = (
            Finding("primary-key", "the primary key is empty; expected a value", name)
            if in_pk
            else Finding("constraint-error", "a value is required", name)
        )
        if constraints.get("unique") and pk != [name]:
            unique = _unique_rows([cells[name]])
            checks.append(pdr.Check(unique, name="field_uniqueness", ignore_na=False))
            findings[(name, "field_uniqueness")] = Finding(
                "unique-error", "the value repeats; expected unique values", name
            )
        column_checks[name], nullable[name] = checks, not (constraints.get("required") or in_pk)

    def add_row_check(fn: Callable, check_name: str, finding: Finding) -> None:
        column_checks[finding.field].append(row_check(fn, check_name))
        findings[(finding.field, check_name)] = finding

    present_pk = [f for f in pk if f in frame]
    if present_pk == pk and pk:
        neighbours = Neighbours([cells[f] for f in pk])
        keys = ", ".join(pk)
        add_row_check(
            _unique_rows([cells[f] for f in pk], neighbours),
            "multiple_fields_uniqueness",
            Finding("primary-key", f"the primary key ({keys}) repeats; expected each row to have its own", pk[0]),
        )
        add_row_check(
            _sorted(neighbours),
            "row-order",
            Finding(
                "row-order",
                f"the row sorts before the row above it; expected rows sorted by {keys} (run make fmt)",
                pk[0],
            ),
        )
    for key in resource.schema.get("uniqueKeys", []):
        fields = [key] if isinstance(key, str) else list(key)
        if all(f in frame for f in fields):
            message = f"the values of ({', '.join(fields)}) repeat; expected them unique"
            add_row_check(
                _unique_rows([cells[f] for f in fields]),
                "unique-key:" + ",".join(fields),
                Finding("unique-error", message, fields[0]),
            )
    for fields, target_name, ref_fields in resource.foreign_keys():
        if target_name not in parsed or not all(f in frame for f in fields):
            continue
        theirs = parsed[target_name]
        target = [theirs[f] for f in ref_fields] if all(f in theirs for f in ref_fields) else None
        lookup = partial(parsed.positions, resource.name, fields[0], target_name, ref_fields[0])
        message = f"no row of {target_name} has {', '.join(ref_fields)} equal to this value; expected an existing one"
        add_row_check(
            _foreign_key([cells[f] for f in fields], target, lookup),
            f"foreign-key:{','.join(fields)}",
            Finding("foreign-key", message, fields[0]),
        )
    columns = {name: pdr.Column(nullable=nullable[name], checks=checks) for name, checks in column_checks.items()}
    schema = pdr.DataFrameSchema(columns, name=resource.name)
    return schema, findings
