"""Partial dates as the days they cover: the one definition the rules and the releases share.

A partial date is kept at its source's precision: "2016" covers 2016-01-01 to 2016-12-31,
"2016-02" covers 2016-02-01 to 2016-02-29 and "2016-02-25" is that day alone. The rules
compare claims by these spans; a release publishes them as real dates beside the value.
Everything is computed with numpy from the Arrow string buffer, so a million dates take
milliseconds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PRECISIONS = ("year", "month", "day")
_LENGTHS = (4, 7, 10)  # characters of YYYY, YYYY-MM and YYYY-MM-DD, in the order of PRECISIONS


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    if values.type != pa.string():
        values = values.cast(pa.string())  # a date32 column prints as YYYY-MM-DD
    return values


def day_numbers(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each partial date: its first day and its last day (days since 1970-01-01) and its
    precision (0 year, 1 month, 2 day); -1 precision where the value is missing.

    The values must already have their shape checked (the schema does): the digits are read
    straight from the string buffer.
    """
    text = _text(values)
    n = len(text)
    first = np.zeros(n, np.int64)
    last = np.zeros(n, np.int64)
    precision = np.full(n, -1, np.int8)
    _, offsets, data = text.buffers()
    if not n or data is None or not data.size:
        return first, last, precision
    offsets = np.frombuffer(offsets, np.int32, n + 1, text.offset * 4)
    chars = np.frombuffer(data, np.uint8)
    start, length = offsets[:-1], np.diff(offsets)
    valid = text.is_valid().to_numpy(zero_copy_only=False) & np.isin(length, _LENGTHS)

    def digit(k: int) -> np.ndarray:
        return chars[np.minimum(start + k, len(chars) - 1)].astype(np.int64) - 48

    year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
    has_month, has_day = length >= 7, length >= 10
    month = np.where(has_month, digit(5) * 10 + digit(6), 1)
    day = np.where(has_day, digit(8) * 10 + digit(9), 1)
    first = days_from_civil(year, month, day)
    # The day before the next period begins: the next year, the next month or the next day.
    next_year = np.where(has_month, year + (month == 12), year + 1)
    next_month = np.where(has_month, month % 12 + 1, 1)
    last = np.where(has_day, first, days_from_civil(next_year, next_month, np.ones(n, np.int64)) - 1)
    precision = np.select([length == n for n in _LENGTHS], [0, 1, 2], -1)
    first, last = np.where(valid, first, 0), np.where(valid, last, 0)
    precision = np.where(valid, precision, -1).astype(np.int8)
    return first, last, precision


def spans(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The first day, the last day (``date32``) and the precision (year, month or day) of each
    partial date, null where the value is missing."""
    first, last, precision = day_numbers(values)
    missing = precision < 0
    start = pa.array(first.astype(np.int32), pa.int32(), mask=missing).cast(pa.date32())
    end = pa.array(last.astype(np.int32), pa.int32(), mask=missing).cast(pa.date32())
    words = pa.DictionaryArray.from_arrays(
        pa.array(precision.astype(np.int32), pa.int32(), mask=missing), pa.array(PRECISIONS, pa.string())
    )
    return start, end, words


def day_keys(values: pa.Array | pa.ChunkedArray, last: bool = False) -> np.ndarray:
    """The first (or last) day of each partial date as a float (NaN where missing), for the
    rules' comparisons: a comparison with a missing day is false. Dates repeat, so each
    distinct one is read once."""
    encoded = pc.dictionary_encode(_text(values))
    first, final, precision = day_numbers(encoded.dictionary)
    keys = np.append((final if last else first).astype(np.float64), np.nan)  # the last: missing
    keys[:-1][precision < 0] = np.nan
    return keys[pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)]
