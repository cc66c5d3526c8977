"""From a raw CSV table to parsed Arrow columns, with pyarrow alone.

Missing values become nulls, blank rows are found, and each column is parsed once (its
lexical validity and its typed values) for the cell checks, the keys and the rules. Nothing
here imports pandas or pandera, so it runs in the workers while the main thread loads them
(pyarrow itself loads pandas on its first conversion of a Python value; that import is then
done once, in whichever thread comes first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .package import Resource
from .read import RawTable
from .schema import lexically_valid, to_arrow


@dataclass(frozen=True)
class Cells:
    """One column parsed once: raw strings (null where missing), lexical validity, typed values."""

    raw: pa.Array
    valid: pa.Array
    typed: pa.Array

    @classmethod
    def parse(cls, raw: pa.Array, spec: dict) -> Cells:
        valid = lexically_valid(raw, spec)
        return cls(raw, valid, to_arrow(raw, spec, valid))

    def comparable(self) -> pa.Array:
        typed = self.typed
        return typed.cast(pa.string()) if pa.types.is_dictionary(typed.type) else typed


class ParsedPackage(dict[str, dict[str, Cells]]):
    """Each resource's parsed columns by name, and the row positions of key values in the
    table they refer to, hashed once and shared by the foreign-key checks and the rules."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: dict[str, dict[str, int]] = {}  # each field's 1-based column in its file
        self._positions: dict[tuple[str, str, str, str], np.ndarray] = {}

    def positions(self, resource: str, column: str, target: str, key: str) -> np.ndarray:
        """For each cell of ``resource.column``, the row of ``target`` whose ``key`` holds the
        same text; -1 where none does or the cell is empty."""
        index = (resource, column, target, key)
        if index not in self._positions:  # checks run in threads: at worst this is done twice
            cells, keys = self[resource].get(column), self[target].get(key)
            if cells is None or keys is None:  # a column the header lacks: nothing is found
                rows = len(next(iter(self[resource].values())).raw) if self[resource] else 0
                self._positions[index] = np.full(rows, -1, np.int64)
            else:
                found = pc.index_in(cells.raw, value_set=keys.raw, skip_nulls=True)
                self._positions[index] = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
        return self._positions[index]


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
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


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
            column = pc.if_else(is_missing, pa.scalar(None, pa.string()), column)
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
