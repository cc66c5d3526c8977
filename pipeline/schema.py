"""Everything derived from a Table Schema field: lexical checks, Arrow and pandas types.

The Table Schemas are the one description of the data. This module turns a field into
the regular expression its cells must match, the Arrow type of its typed column (used by
validation, Parquet and JSON alike) and the pandas dtype users get from ``load``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd

_DEFAULT_TRUE = ["true", "True", "TRUE", "1"]
_DEFAULT_FALSE = ["false", "False", "FALSE", "0"]

# The spec's lexical forms (XML Schema's), anchored at both ends by the caller. A time of
# day is 00:00:00 to 23:59:59 with up to six digits of fraction (microseconds, what the
# release keeps) and an optional zone: Z or an offset within ±14:00.
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_ZONE = r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)?"
#: Integers of up to 76 digits: int64 where they fit, else Arrow decimals.
MAX_DIGITS = 76
LEXICAL: dict[str, str] = {
    "integer": rf"[+-]?[0-9]{{1,{MAX_DIGITS}}}",
    "number": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|NaN|INF|-INF",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "datetime": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _CLOCK + _ZONE,
    "time": _CLOCK + _ZONE,
    "year": r"-?[0-9]{4}",
    "yearmonth": r"[0-9]{4}-(0[1-9]|1[0-2])",
}
FORMATS: dict[str, str] = {
    "uri": r"(?i:https?)://[^\s/?#]+[^\s]*",  # a scheme's case is not significant
    "email": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
}
EXPECTED: dict[str, str] = {
    "integer": f"a whole number such as 42 (at most {MAX_DIGITS} digits)",
    "number": "a number such as 3.14, 1e-5, NaN, INF or -INF",
    "boolean": "one of {values}",
    "date": "a date as YYYY-MM-DD",
    "datetime": (
        "a date and time as YYYY-MM-DDThh:mm:ss, with up to 6 decimals and Z or an offset up to ±14:00, "
        "falling within the years 0001 to 9999 once in UTC"
    ),
    "time": "a time as hh:mm:ss, with up to 6 decimals and Z or an offset up to ±14:00",
    "year": "a year as YYYY",
    "yearmonth": "a month as YYYY-MM",
}
FORMAT_EXPECTED = {"uri": "an http:// or https:// URL", "email": "an e-mail address", "uuid": "a UUID"}


def canonical_text(text: str, spec: dict) -> str:
    """A cell in the canonical form of its field's type, with the same logical value:
    ``+7``, ``007`` become ``7``; ``.5`` becomes ``0.5``, ``1.`` becomes ``1`` and ``1E+05``
    becomes ``1e5`` (the digits after the point are kept: they are the source's precision);
    a boolean is its side's first value, also when only its capitalisation differs from one
    of the schema's values (``TRUE`` for ``true``). Any other text is returned as it is."""
    kind = spec.get("type", "string")
    if kind == "boolean":
        return _canonical_boolean(text, *boolean_values(spec))
    if kind == "integer" and re.fullmatch(LEXICAL["integer"], text):
        return str(int(text))
    if kind == "number" and re.fullmatch(LEXICAL["number"], text) and text not in ("NaN", "INF", "-INF"):
        match = re.fullmatch(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?", text)
        sign, whole, fraction, exp_sign, exponent = match.groups()
        out = ("-" if sign == "-" else "") + (whole.lstrip("0") or "0")
        if fraction:
            out += "." + fraction
        if exponent is not None and exponent.lstrip("0"):
            out += "e" + ("-" if exp_sign == "-" else "") + exponent.lstrip("0")
        return out
    return text


def _canonical_boolean(text: str, true: list[str], false: list[str]) -> str:
    for values in (true, false):
        if values and text in values:
            return values[0]
    sides = {v.lower(): values[0] for values in (true, false) if values for v in values}
    clash = {v.lower() for v in true} & {v.lower() for v in false}
    return sides[text.lower()] if text.lower() in sides and text.lower() not in clash else text


def anchored(pattern: str) -> str:
    """Table Schema patterns match the whole cell; RE2 needs the anchors said."""
    return f"^(?:{pattern})$"


def boolean_values(spec: dict) -> tuple[list[str], list[str]]:
    return spec.get("trueValues", _DEFAULT_TRUE), spec.get("falseValues", _DEFAULT_FALSE)


def is_partial_date(spec: dict) -> bool:
    """A string field holding ISO dates of mixed precision: YYYY, YYYY-MM or YYYY-MM-DD."""
    return spec.get("type", "string") == "string" and spec.get("partialDate") is True


def is_text(spec: dict) -> bool:
    """Free text: a string with no enum, pattern or format to constrain its first character."""
    constraints = spec.get("constraints", {})
    return (
        spec.get("type", "string") in ("string", "any")
        and "enum" not in constraints
        and "pattern" not in constraints
        and spec.get("format", "default") == "default"
    )


def pattern_expected(spec: dict) -> str:
    """What a field's ``pattern`` asks for, in the schema's own words: its
    ``patternDescription`` and its ``example``. A schema that gives neither is quoted."""
    words, example = spec.get("patternDescription"), spec.get("example")
    pattern = spec.get("constraints", {}).get("pattern")
    if words and example is not None and str(example) not in words:
        return f"{words}, such as {example}"
    if words:
        return words
    if example is not None:
        return f"text shaped like {example} (the schema's pattern for it is {pattern})"
    return f"text matching the pattern {pattern}"


def expected(spec: dict) -> str:
    kind = spec.get("type", "string")
    if kind == "boolean":
        true, false = boolean_values(spec)
        return EXPECTED[kind].format(values=", ".join(true + false))
    if is_partial_date(spec):
        words = spec.get("patternDescription")
        return f"{words} (a real calendar date)" if words else "a real calendar date as YYYY, YYYY-MM or YYYY-MM-DD"
    return EXPECTED.get(kind, "text")


# ---------------------------------------------------------------- typed values


def _valid_calendar(arr: pa.Array, shape: str | None = None) -> pa.Array:
    """True where a YYYY-MM-DD string (or a YYYY / YYYY-MM prefix) is a real calendar day,
    and matches the regular expression ``shape`` when one is given (false where missing).

    Dates repeat, so each distinct value is judged once and the verdicts mapped back.
    """
    distinct = pc.unique(arr).drop_null()
    if shape is not None:
        distinct = distinct.filter(pc.match_substring_regex(distinct, shape))
    length = pc.utf8_length(distinct)
    full = pc.if_else(
        pc.equal(length, 4),
        pc.binary_join_element_wise(distinct, "-01-01", ""),
        pc.if_else(pc.equal(length, 7), pc.binary_join_element_wise(distinct, "-01", ""), distinct),
    )
    parsed = pc.strptime(full, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2026-02-30 over to March; a real day prints back as it was written.
    real = pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), full), False)
    # Arrow knows a year 0000, which no calendar (and no writer of a release) has
    real = pc.and_(real, pc.not_equal(pc.utf8_slice_codeunits(full, 0, 4), "0000"))
    return pc.is_in(arr, distinct.filter(real))


def lexically_valid(arr: pa.Array, spec: dict) -> pa.Array:
    """A boolean array: true where a non-missing cell has its type's lexical form."""
    kind = spec.get("type", "string")
    if kind == "boolean":
        true, false = boolean_values(spec)
        return pc.is_in(arr, pa.array(true + false))
    if kind in ("string", "any"):
        if is_partial_date(spec):
            return _valid_calendar(arr, anchored(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?"))
        return pc.is_valid(arr)
    if kind in ("date", "yearmonth"):  # the form and the day, judged once per distinct value
        return _valid_calendar(arr, anchored(LEXICAL[kind]))
    ok = pc.match_substring_regex(arr, anchored(LEXICAL[kind]))
    if kind == "datetime":
        ok = pc.and_kleene(ok, _valid_calendar(pc.utf8_slice_codeunits(arr, 0, 10)))
        ok = pc.and_kleene(ok, _within_utc_years(arr, ok))
    return ok


#: The first and last instants a release can write: every writer (and Python's datetime,
#: which the SQLite and xlsx writers use) stops at the years 0001 and 9999 in UTC.
_FIRST_INSTANT = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_LAST_INSTANT = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)


def _within_utc_years(arr: pa.Array, shaped: pa.Array) -> pa.Array:
    """True where a well-formed date-time (``shaped``) stays within the years 0001 to 9999
    once its offset is applied: 9999-12-31T23:00:00-05:00 is in the year 10000 in UTC."""
    return _in_utc_years(_instants(pc.if_else(pc.fill_null(shaped, False), arr, pa.scalar(None, pa.string()))))


def _in_utc_years(instants: pa.Array) -> pa.Array:
    stamp = pa.timestamp("us", tz="UTC")
    return pc.and_kleene(
        pc.greater_equal(instants, pa.scalar(_FIRST_INSTANT, stamp)),
        pc.less_equal(instants, pa.scalar(_LAST_INSTANT, stamp)),
    )


def first_outside_utc_years(instants: pa.Array) -> int | None:
    """The position of the first instant before the year 0001 or after 9999 in UTC (which
    no cell that validates can give), or None."""
    index = pc.index(pc.invert(pc.fill_null(_in_utc_years(instants), True)), True).as_py()
    return None if index < 0 else index


def arrow_type(spec: dict) -> pa.DataType:
    """The Arrow type of a field's typed column: Parquet and JSON output use it too."""
    kind = spec.get("type", "string")
    if kind in ("string", "any", "time", "yearmonth"):
        if "enum" in spec.get("constraints", {}):
            return pa.dictionary(pa.int32(), pa.string())
        return pa.string()
    return {
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "year": pa.int32(),
    }[kind]


def to_arrow(arr: pa.Array, spec: dict, valid: pa.Array | None = None) -> pa.Array:
    """Typed values from raw strings; missing or invalid cells (``valid`` false) become null."""
    kind = spec.get("type", "string")
    if valid is None:
        valid = lexically_valid(arr, spec)
    # (a missing cell is not valid either, but it is null already)
    if pc.any(pc.and_(pc.invert(pc.fill_null(valid, True)), pc.is_valid(arr))).as_py():
        clean = pc.if_else(pc.fill_null(valid, False), arr, pa.scalar(None, pa.string()))
    else:  # every cell present is valid: no copy
        clean = arr
    target = arrow_type(spec)
    if kind == "boolean":
        true, _ = boolean_values(spec)
        return pc.if_else(pc.is_null(clean), pa.scalar(None, pa.bool_()), pc.is_in(clean, pa.array(true)))
    if kind == "date":
        stamp = pc.strptime(clean, format="%Y-%m-%d", unit="s", error_is_null=True)
        return pc.cast(stamp, pa.date32())
    if kind == "datetime":
        return _instants(clean)
    if kind == "number":
        text = pc.replace_substring(pc.replace_substring(clean, "INF", "inf"), "NaN", "nan")
        return pc.cast(text, pa.float64())
    if kind == "integer":
        return integers(clean)
    if kind == "year":
        return pc.cast(clean, target)
    if pa.types.is_dictionary(target):
        return pc.dictionary_encode(clean).cast(target)
    return clean


def _instants(text: pa.Array) -> pa.Array:
    """ISO 8601 date-times (lexically valid or null) as UTC instants; no zone means UTC."""
    text = pc.replace_substring_regex(text, r"Z$", "+00:00")
    zoned = pc.match_substring_regex(text, r"[+-][0-9]{2}:[0-9]{2}$")
    text = pc.if_else(zoned, text, pc.binary_join_element_wise(text, "+00:00", ""))
    return pc.cast(text, pa.timestamp("us", tz="UTC"))


def integers(text: pa.Array) -> pa.Array:
    """Lexically valid integers (or nulls) as int64, or as Arrow decimals of scale 0 when
    one of them does not fit in 64 bits: every integer of up to 76 digits keeps its value."""
    if pc.any(pc.starts_with(text, "+")).as_py():  # else no copy of the column
        text = pc.replace_substring_regex(text, r"^\+", "")
    try:
        return pc.cast(text, pa.int64())
    except pa.ArrowInvalid:
        digits = pc.max(pc.utf8_length(pc.replace_substring_regex(text, r"^-?0*", ""))).as_py() or 1
        return pc.cast(text, pa.decimal128(38, 0) if digits <= 38 else pa.decimal256(MAX_DIGITS, 0))


def comparable(typed: pa.Array, spec: dict) -> pa.Array:
    """Typed values as Arrow compares them: the logical values of the field's type. Times
    of day become instants on one day (so 10:00:00+02:00 equals 08:00:00Z); vocabularies
    are plain text."""
    if pa.types.is_dictionary(typed.type):
        typed = typed.cast(pa.string())
    if spec.get("type") == "time":
        return _instants(pc.binary_join_element_wise("1970-01-01T", typed, ""))
    return typed


def _as_text(value: object, spec: dict) -> str | None:
    """A value written in a schema (an enum member, a category) as the text of a cell."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        if spec.get("type") != "boolean":
            return None
        true, false = boolean_values(spec)
        return (true if value else false)[0] if (true if value else false) else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "INF" if value > 0 else "-INF"
        return repr(value)
    return None


def plainly_valid(value: object, spec: dict) -> bool:
    """Whether a value written in a schema (a bound, an enum member) is surely a valid value
    of the field's type, told by Python alone: an integer, year or number written as a JSON
    number, or a date in its lexical form that is a real day. False means only "not sure":
    ``schema_values`` decides then, as for every other type."""
    kind = spec.get("type", "string")
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) and len(str(abs(value))) <= MAX_DIGITS
    if kind == "year":
        return isinstance(value, int) and 1000 <= abs(value) <= 9999
    if kind == "number":
        return isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**300)
    if kind == "date" and isinstance(value, str) and re.fullmatch(LEXICAL["date"], value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def schema_values(values: list, spec: dict) -> pa.Array | None:
    """Values written in a schema as typed values of the field, to compare cells with; None
    when one of them is not a valid value of the field's type."""
    plain = {k: v for k, v in spec.items() if k != "constraints"}
    texts = [_as_text(v, plain) for v in values]
    if any(t is None for t in texts):
        return None
    arr = pa.array(texts, pa.string())
    valid = lexically_valid(arr, plain)
    if not pc.all(valid).as_py():
        return None
    return comparable(to_arrow(arr, plain, valid), plain)


def parse_bound(kind: str, value: object) -> object | None:
    """A constraint bound as a Python value of the field's type, or None when it is invalid."""
    try:
        if kind in ("integer", "year"):
            return value if isinstance(value, int) and not isinstance(value, bool) else None
        if kind == "number":
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        if kind == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind == "datetime" and isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind in ("time", "yearmonth") and isinstance(value, str):
            return value
    except ValueError:
        return None
    return None


def pandas_dtype(spec: dict) -> object:
    """The dtype ``load`` gives a field, whatever the release format it reads."""
    import pandas as pd  # here, not at the top: parsing with pyarrow must not wait for pandas

    kind = spec.get("type", "string")
    enum = spec.get("constraints", {}).get("enum")
    if kind in ("string", "any", "time", "yearmonth"):
        return pd.CategoricalDtype(enum) if enum else pd.StringDtype()
    return {
        "integer": pd.Int64Dtype(),
        "number": pd.Float64Dtype(),
        "boolean": pd.BooleanDtype(),
        "date": "datetime64[s]",
        "datetime": pd.DatetimeTZDtype("us", "UTC"),
        "year": pd.Int32Dtype(),
    }[kind]


def to_pandas(arr: pa.Array | pa.ChunkedArray, spec: dict, index: object = None) -> pd.Series:
    """A typed Arrow column as a pandas Series of the field's dtype."""
    import pandas as pd

    for_arrow = {
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.string(): pd.StringDtype(),
    }
    dtype = pandas_dtype(spec)
    if arr.type == pa.float64():  # NaN is a number, not a missing value: both are kept apart
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        values = pc.fill_null(arr, 0.0).to_numpy(zero_copy_only=False)
        mask = arr.is_null().to_numpy(zero_copy_only=False)
        return pd.Series(pd.arrays.FloatingArray(values, mask), index=index, dtype=dtype)
    if pa.types.is_decimal(arr.type):  # integers beyond 64 bits: Python ints
        return pd.Series([None if v is None else int(v) for v in arr.to_pylist()], index=index, dtype=object)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_date(arr.type):
        arr = pc.cast(arr, pa.timestamp("s"))
    series = arr.to_pandas(types_mapper=for_arrow.get)
    if index is not None:
        series.index = index
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.where(series.isin(dtype.categories))  # values outside the enum are invalid: missing
    return series.astype(dtype)
