"""Where a row with too many or too few cells goes wrong.

A row with an extra cell most often holds a comma in an unquoted cell; a row with a cell
too few, a cell left out. Either way its cells are shifted from some field on, and only
the cells before that field sit under their own fields. That field is found by trying
each place the shift could start and keeping the one under which the fewest cells break
their field's type, pattern, enum or format: the cells before it are then judged as any
other, and the row's problem names it.
"""

from __future__ import annotations

from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from .package import Resource
from .read import RawTable
from .report import Problem
from .schema import FORMATS, anchored, is_text, lexically_valid


def shift_starts(resource: Resource, header: list[str], rows: dict[int, list[str]]) -> dict[int, int]:
    """For each line of a ragged row (its cells as read), the 0-based column where its
    cells stop matching their fields: every cell before it is where it belongs."""
    width = len(header)
    specs: list[dict | None] = [None] * width
    for position, spec in resource.columns_of(header):
        specs[position] = spec
    hypotheses = {line: _hypotheses(cells, width) for line, cells in rows.items()}
    # every text each column could receive, judged once per column
    wanted: list[set[str]] = [set() for _ in range(width)]
    for options in hypotheses.values():
        for _, placed, _ in options:
            for position, text in enumerate(placed):
                if text is not None:
                    wanted[position].add(text)
    fits = [_fits(resource, specs[position], sorted(texts)) for position, texts in enumerate(wanted)]
    keys = {name for fields, _, _ in resource.foreign_keys() for name in fields}
    free = [spec is not None and is_text(spec) and spec["name"] not in keys for spec in specs]
    needed = [spec is not None and _required(resource, spec) for spec in specs]
    out = {}
    for line, options in hypotheses.items():
        out[line] = min(options, key=partial(_score, fits, free, needed, len(rows[line])))[0]
    return out


def _score(fits: list[dict[str, bool]], free: list[bool], needed: list[bool], count: int, option: tuple) -> tuple:
    """How well a place for the shift explains the row: fewer broken cells first (a comma
    beside an empty piece counts as one: text is rarely split there; a cell left out under a
    field that requires a value counts as one); then, for an extra
    cell, a free-text field that is no key (where commas are) and the earlier one; for a cell
    too few, a row cut short rather than a cell left out inside it, which must explain more:
    every cell in its place, or one broken cell fewer."""
    start, placed, odd = option
    broken = sum(1 for p, text in enumerate(placed) if (needed[p] if text is None else not fits[p][text])) + odd
    if count > len(placed):  # free text first, then cells added past the last field, then the rest
        return (broken, 1 if start == len(placed) else 2 * (not free[start]), start)
    return (broken + (start < count and broken > 0), -start)


def _hypotheses(cells: list[str], width: int) -> list[tuple[int, list[str | None], bool]]:
    """Each place the shift could start, with the cells as they would then lie in the columns
    (and, for a split cell, whether one of its pieces is empty)."""
    k = len(cells) - width
    if k > 0:  # the cells from `start` to `start + k` were one cell, split at its commas
        out = []
        for start in range(width):
            pieces = cells[start : start + k + 1]
            placed = [*cells[:start], ",".join(pieces), *cells[start + k + 1 :]]
            out.append((start, placed, any(not piece.strip() for piece in pieces)))
        out.append((width, cells[:width], False))  # or cells were added after the last field
        return out
    k = -k  # k cells were left out at `start`
    return [(start, [*cells[:start], *([None] * k), *cells[start:]], False) for start in range(len(cells) + 1)]


def _fits(resource: Resource, spec: dict | None, texts: list[str]) -> dict[str, bool]:
    """Whether each text is a valid cell of the field: missing (when allowed), or of its
    type, pattern, enum and format."""
    if spec is None or not texts:
        return dict.fromkeys(texts, True)
    arr = pa.array(texts, pa.string())
    missing = pc.is_in(arr, pa.array(resource.missing_values_of(spec), pa.string()))
    constraints = spec.get("constraints", {})
    ok = pc.fill_null(lexically_valid(arr, spec), False)
    if "pattern" in constraints:
        ok = pc.and_(ok, pc.match_substring_regex(arr, anchored(constraints["pattern"])))
    if spec.get("format", "default") in FORMATS and spec.get("type", "string") == "string":
        ok = pc.and_(ok, pc.match_substring_regex(arr, anchored(FORMATS[spec["format"]])))
    enum = constraints.get("enum")
    if enum and spec.get("type", "string") in ("string", "any") and all(isinstance(v, str) for v in enum):
        ok = pc.and_(ok, pc.is_in(arr, pa.array(enum, pa.string())))
    ok = pc.if_else(missing, pa.scalar(not _required(resource, spec)), ok)
    return dict(zip(texts, ok.to_pylist(), strict=True))


def _required(resource: Resource, spec: dict) -> bool:
    return bool(spec.get("constraints", {}).get("required")) or spec["name"] in resource.primary_key


def name_shifts(resource: Resource, table: RawTable, problems: list[Problem]) -> list[Problem]:
    """The extra-cell and missing-cell problems of a file, each at the column where its row's
    cells start to shift and naming that field; a short row's cells from there on are left
    unjudged (``table.short``), as an extra-cell row's are by ``validation.root_causes``."""
    lines = {p.line for p in problems if p.code in ("extra-cell", "missing-cell") and p.line in table.ragged}
    if not lines:
        return problems
    starts = shift_starts(resource, table.header, {line: table.ragged[line] for line in lines})
    names = {position: spec["name"] for position, spec in resource.columns_of(table.header)}
    out = []
    for p in problems:
        start = starts.get(p.line) if p.code in ("extra-cell", "missing-cell") else None
        if start is None:
            out.append(p)
            continue
        name = names.get(start)
        where = f"{name} (column {start + 1})" if name else f"column {start + 1}"
        if p.code == "extra-cell" and start == len(table.header):
            message = (
                f"{p.message}: a cell too many after the last field, or a comma inside a cell? Its cells match "
                'their fields up to the last; quote a cell that holds a comma ("like, this")'
            )
        elif p.code == "extra-cell":
            message = (
                f'{p.message}: a comma inside a cell? Quote the cell ("like, this"). The cells stop matching '
                f"their fields at {where}, where the shift starts; the cells from there on are not judged "
                "until it is fixed"
            )
        else:
            table.short[p.line] = start
            if start == len(table.ragged[p.line]):  # the row is cut short: its cells all stand
                out.append(p)
                continue
            message = (
                f"{p.message}: a cell left out? The cells stop matching their fields at {where}, where the "
                "shift starts: add the cell there (an empty one is two commas side by side, ,,); the cells from "
                "there on are not judged until it is fixed"
            )
        out.append(Problem(p.code, p.path, p.line, start + 1, name, p.value, message))
    return out
