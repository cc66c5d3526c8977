"""From a raw CSV table to parsed Arrow columns, with pyarrow alone.

Missing values become nulls, blank rows are found, and each column is parsed once (its
lexical validity and its typed values) for the cell checks, the keys and the rules. Nothing
here imports pandas or pandera, so it runs in the workers while the main thread loads them
(pyarrow itself loads pandas on its first conversion of a Python value; that import is then
done once, in whichever thread comes first).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .package import Resource
from .phases import phase
from .read import RawTable
from .schema import comparable, lexically_valid, to_arrow
from .text import FORMULA_START, WHITESPACE


@dataclass(frozen=True)
class Cells:
    """One column parsed once: raw strings (null where missing), lexical validity, typed values."""

    raw: pa.Array
    valid: pa.Array
    typed: pa.Array
    spec: dict = field(default_factory=dict, repr=False)
    edges: frozenset[str] = frozenset()  # "whitespace", "formula": what some cell starts or ends with
    _comparable: pa.Array | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: pa.Array, spec: dict) -> Cells:
        valid = lexically_valid(raw, spec)
        edges = edge_suspects(raw) if spec.get("type", "string") in ("string", "any") else frozenset()
        return cls(raw, valid, to_arrow(raw, spec, valid), spec, edges)

    def key(self) -> pa.Array:
        """The values keys and enums compare: the text itself for a string field (no copy of a
        vocabulary's dictionary), the logical values otherwise."""
        if self.spec.get("type", "string") in ("string", "any"):
            return self.raw
        return self.comparable()

    def comparable(self) -> pa.Array:
        """The logical values cells are compared by (keys, enums, bounds, row order); null where
        a cell is missing or not of its type (that is a type problem, not a key problem)."""
        if self._comparable is None:
            if pa.types.is_dictionary(self.typed.type) and self.spec.get("type", "string") in ("string", "any"):
                # a vocabulary's typed values are its text, which every cell present passes as
                value = self.raw
            else:
                value = comparable(self.typed, self.spec)
            object.__setattr__(self, "_comparable", value)
        return self._comparable


# What a cell's first and last bytes may tell, one bit each, so that one table lookup per
# end classifies every cell: ASCII white space (control characters among it), a formula's
# first character, or a byte that starts (ends) a non-ASCII white space, whose UTF-8
# sequences are packed into integers (first byte highest) to be compared whole.
_SPACE, _FORMULA, _WIDE = 1, 2, 4
_WIDE_SEQUENCES = [c.encode("utf-8") for c in WHITESPACE if ord(c) > 127]
_HEAD = np.zeros(256, np.uint8)
_HEAD[[ord(c) for c in WHITESPACE if ord(c) < 128]] |= _SPACE
_HEAD[list(FORMULA_START.encode())] |= _FORMULA
_HEAD[[w[0] for w in _WIDE_SEQUENCES]] |= _WIDE
_TAIL = np.zeros(256, np.uint8)
_TAIL[[ord(c) for c in WHITESPACE if ord(c) < 128]] |= _SPACE
_TAIL[[w[-1] for w in _WIDE_SEQUENCES]] |= _WIDE
_WIDE_CODES = {n: np.array(sorted(int.from_bytes(w, "big") for w in _WIDE_SEQUENCES if len(w) == n)) for n in (2, 3)}


def edge_suspects(raw: pa.Array) -> frozenset[str]:
    """Whether some present cell of a text column starts or ends with white space
    ("whitespace") or starts with a character a spreadsheet runs as a formula ("formula").
    Read from the column's first and last bytes through its offsets, so the cost is per
    cell, not per byte; only a column found so is checked cell by cell."""
    if raw.type != pa.string() or not len(raw) or raw.null_count == len(raw):
        return frozenset()
    _, offsets, text = raw.buffers()
    if text is None:
        return frozenset()
    bounds = np.frombuffer(offsets, np.int32)[raw.offset : raw.offset + len(raw) + 1]
    data = np.frombuffer(text, np.uint8)
    keep = bounds[1:] > bounds[:-1]
    if raw.null_count:
        keep &= raw.is_valid().to_numpy(zero_copy_only=False)
    cells = np.flatnonzero(keep)
    starts, ends = bounds[cells], bounds[cells + 1]
    head, tail = _HEAD[data[starts]], _TAIL[data[ends - 1]]
    seen_head = int(np.bitwise_or.reduce(head)) if len(head) else 0
    seen = seen_head | (int(np.bitwise_or.reduce(tail)) if len(tail) else 0)
    found = {"formula"} if seen_head & _FORMULA else set()
    wide = bool(seen & _WIDE) and not seen & _SPACE and _wide_edge(data, starts, ends, head & _WIDE, tail & _WIDE)
    if seen & _SPACE or wide:
        found.add("whitespace")
    return frozenset(found)


def _wide_edge(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, head: np.ndarray, tail: np.ndarray) -> bool:
    """Whether a cell starts or ends with a non-ASCII white space (two or three bytes)."""
    lengths = ends - starts
    for n, codes in _WIDE_CODES.items():
        for at in (starts[(head > 0) & (lengths >= n)], ends[(tail > 0) & (lengths >= n)] - n):
            if not len(at):
                continue
            packed = np.zeros(len(at), np.int64)
            for k in range(n):
                packed = (packed << 8) | data[at + k]
            if np.isin(packed, codes).any():
                return True
    return False


class ParsedPackage(dict[str, dict[str, Cells]]):
    """Each resource's parsed columns by name, and the row positions of key values in the
    table they refer to, hashed once and shared by the foreign-key checks and the rules."""

    def __init__(self, references: list[tuple[str, str, str, str]] | None = None) -> None:
        super().__init__()
        self.columns: dict[str, dict[str, int]] = {}  # each field's 1-based column in its file
        # (resource, column, target, key) of each single-field foreign key: the columns that
        # refer to one key are hashed together with it, once
        self.references = list(references or [])
        self._positions: dict[tuple[str, str, str, str], np.ndarray] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}  # one per key referred to

    def positions(self, resource: str, column: str, target: str, key: str) -> np.ndarray:
        """For each cell of ``resource.column``, the row of ``target`` whose ``key`` holds the
        same text; -1 where none does or the cell is empty."""
        index = (resource, column, target, key)
        if index not in self._positions:
            # The checks run in threads: one of them hashes a key and what refers to it, while
            # another may hash another key.
            lock = self._locks.setdefault((target, key), threading.Lock())
            with lock, phase("keys"):
                if index not in self._positions:
                    self._look_up(index)
        return self._positions[index]

    def _look_up(self, index: tuple[str, str, str, str]) -> None:
        """Look up every column that refers to the target key (of its type) in one pass over
        one hash table of the key: a cell's row is the first target row holding its value."""
        resource, _, target, key = index
        keys = self[target].get(key)
        group = [r for r in self.references if r[2:] == (target, key) and r != index and r not in self._positions]
        arrays = []
        for member in [index, *group]:
            cells = self.get(member[0], {}).get(member[1])
            if cells is None or keys is None:  # a column the header lacks: nothing is found
                if member == index:
                    rows = len(next(iter(self[resource].values())).raw) if self[resource] else 0
                    self._positions[index] = np.full(rows, -1, np.int64)
                continue
            if cells.key().type != keys.key().type:
                if member == index:  # keys of two types: compared as one, on their own
                    mine, theirs = same_type(cells.key(), keys.key())
                    found = pc.index_in(mine, value_set=theirs, skip_nulls=True)
                    self._positions[index] = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
                continue
            arrays.append((member, cells.key()))
        if not arrays:
            return
        # The key's texts are hashed once, into a table of the key's size, and every cell that
        # refers to it is looked up there: the first row holding it, or null (found nowhere,
        # or missing). The cells are not added to the table, nor their texts copied.
        cells = pa.chunked_array([a for _, a in arrays], keys.key().type)
        found = pc.index_in(cells, value_set=keys.key(), skip_nulls=True)
        rows = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        bounds = np.cumsum([0] + [len(a) for _, a in arrays])
        for (member, _), start, end in zip(arrays, bounds[:-1], bounds[1:], strict=True):
            self._positions[member] = rows[start:end]


def same_type(a: pa.Array, b: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Two key columns as one Arrow type: their own when they agree, else their typed values as
    text (an integer 1 then matches the string "1", as the canonical texts are equal)."""
    if a.type == b.type:
        return a, b
    numeric = [pa.types.is_integer(t) or pa.types.is_decimal(t) for t in (a.type, b.type)]
    if all(numeric) and (pa.types.is_decimal(a.type) or pa.types.is_decimal(b.type)):
        wide = pa.decimal256(76, 0)
        return a.cast(wide), b.cast(wide)
    return a.cast(pa.string()), b.cast(pa.string())


def key_codes(columns: list[pa.Array]) -> np.ndarray:
    """One integer per row that is equal exactly where the rows' typed key values are all
    equal; -1 where any of them is missing."""
    n = len(columns[0]) if columns else 0
    missing = np.zeros(n, bool)
    for column in columns:
        if column.null_count:
            missing |= column.is_null().to_numpy(zero_copy_only=False)
    codes = combined_codes([value_codes(column) for column in columns])
    codes[missing] = -1
    return codes


def value_codes(values: pa.Array) -> np.ndarray:
    """The values hashed to numbers from 0, equal where the values are; a missing value is
    the number after the last."""
    encoded = pc.dictionary_encode(values)
    return pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False).astype(np.int64)


def combined_codes(codes: list[np.ndarray]) -> np.ndarray:
    """One number per distinct combination of the columns' codes (each from 0), counted from
    0: the codes are combined by place value, renumbered whenever the next column's place
    would overflow."""
    combined = np.zeros(len(codes[0]) if codes else 0, np.int64)
    if not len(combined):
        return combined
    for column in codes:
        size = int(column.max()) + 1
        if int(combined.max()) >= (1 << 62) // size:
            combined = _renumbered(combined)
        combined = combined * size + column
    return _renumbered(combined)


def _renumbered(codes: np.ndarray) -> np.ndarray:
    return np.unique(codes, return_inverse=True)[1].astype(np.int64).reshape(-1)


@dataclass(frozen=True)
class ParsedTable:
    """A file's rows with blank rows set aside: raw columns by field name, the line of each
    row, the lines of the blank rows, and each column parsed."""

    columns: dict[str, pa.Array]
    lines: np.ndarray
    blank_lines: np.ndarray
    cells: dict[str, Cells]
    positions: dict[str, int]  # the 1-based column of the file each field is read from


def _as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array: a single chunk as it is (``combine_chunks`` would copy it)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _without(column: pa.Array, missing: pa.Array) -> pa.Array:
    """The column with its missing cells null: a new validity bitmap over the same text
    (no copy of the strings)."""
    keep = pc.fill_null(pc.invert(missing), False)
    if column.null_count:
        keep = pc.and_(keep, column.is_valid())
    if column.offset or keep.offset or keep.null_count or column.type != pa.string():
        return pc.if_else(missing, pa.scalar(None, column.type), column)
    _, offsets, data = column.buffers()
    return pa.Array.from_buffers(pa.string(), len(column), [keep.buffers()[1], offsets, data])


def parse_table(resource: Resource, table: RawTable) -> ParsedTable:
    """Name the columns by the schema, turn missing values into nulls, drop blank rows and
    parse every column."""
    columns: dict[str, pa.Array] = {}
    for index, spec in resource.columns_of(table.header):
        name = spec["name"]
        column = _as_array(table.table.column(index))
        missing = resource.missing_values_of(spec)
        is_missing = pc.equal(column, "") if missing == [""] else pc.is_in(column, pa.array(missing, pa.string()))
        if pc.any(is_missing).as_py():
            column = _without(column, is_missing)
        columns[name] = column
    blank = np.ones(table.table.num_rows, bool) if columns else np.zeros(table.table.num_rows, bool)
    for column in columns.values():
        if column.null_count == len(column):
            continue  # a wholly empty column leaves every row as it was
        blank &= column.is_null().to_numpy(zero_copy_only=False)
        if not blank.any():
            break
    lines = np.asarray(table.lines)
    if blank.any():
        keep = pa.array(~blank)
        columns = {name: column.filter(keep) for name, column in columns.items()}
    by_name = {spec["name"]: spec for spec in resource.fields}
    cells = {name: Cells.parse(column, by_name[name]) for name, column in columns.items()}
    positions = {spec["name"]: index + 1 for index, spec in resource.columns_of(table.header)}
    return ParsedTable(columns, lines[~blank], lines[blank], cells, positions)
