"""Strict CSV reading that knows the physical line of every row.

The structure of a file (records, quotes, line endings) is found with vectorised scans of
its bytes, so each parsed row keeps the line it starts on even when an earlier quoted cell
spans several lines. pyarrow parses the cells. Nothing is guessed: UTF-8 only, no
byte-order mark, LF line endings, RFC 4180 quoting.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .files import csv_rows, read_regular, read_regular_buffer
from .report import Problem

BOM = b"\xef\xbb\xbf"
_BLOCK, _MAX_BLOCK = 1 << 20, (1 << 31) - 1
NL, CR, QUOTE, COMMA = 10, 13, 34, 44


@dataclass
class RawTable:
    """A CSV file's header and cells, all as strings, with the line each row starts on."""

    header: list[str]
    table: pa.Table  # columns by position: c0, c1, ...
    lines: np.ndarray  # physical line of each row of ``table``
    nfc: bool  # the whole file is already in Unicode NFC
    suspects: frozenset[str]  # "control" when a byte scan cannot rule out a control character in a cell
    short: dict[int, int] = field(default_factory=dict)  # line of each row with too few cells: its cells judged
    ragged: dict[int, list[str]] = field(default_factory=dict)  # line of each row of another width: its cells
    data: bytes | None = None  # the file's bytes as read (a byte-order mark included), when asked for


_CHUNK = 1 << 20  # bytes scanned at a time: the temporary arrays stay small and are reused


def _where(buf: np.ndarray, byte: int) -> np.ndarray:
    """Positions of one byte value, found a chunk at a time: a file-sized temporary array
    would be fresh memory, zeroed by the system page by page, for every scan."""
    found = [np.flatnonzero(buf[start : start + _CHUNK] == byte) + start for start in range(0, len(buf), _CHUNK)]
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def _line_of(newlines: np.ndarray, positions: np.ndarray | int) -> np.ndarray | int:
    """1-based physical line of byte positions, given the positions of every LF."""
    return np.searchsorted(newlines, positions, side="left") + 1


def _column_of(buf: np.ndarray, start: int, position: int) -> int:
    """1-based cell number of a byte position in the record starting at ``start``."""
    segment = buf[start:position]
    quotes = np.flatnonzero(segment == QUOTE)
    commas = np.flatnonzero(segment == COMMA)
    outside = (np.searchsorted(quotes, commas) % 2) == 0
    return int(outside.sum()) + 1


def read_table(
    file: Path, rel: str, width: int | None = None, keep_bytes: bool = False
) -> tuple[RawTable | None, list[Problem]]:
    """Read one CSV file; the table is None when its structure cannot be trusted.

    ``width`` is the number of fields its schema has: a header of more than twice as many
    cells is reported without reading the rows, so that the work stays in proportion to
    what a file of that schema needs (each header cell becomes a column). With
    ``keep_bytes`` the table holds the bytes it was read from.
    """
    problems: list[Problem] = []
    header: list[str] = []  # the header's cells, to name the field of a cell below it

    def problem(code: str, line: int | None, column: int | None, message: str, value: str | None = None) -> None:
        below = column is not None and line is not None and line > 1 and 0 < column <= len(header)
        named = (header[column - 1] or None) if below else None
        problems.append(Problem(code, rel, line, column, named, value, message))

    try:
        # Kept, the bytes are Python's; else in Arrow's memory, freed once the rows are parsed.
        original = read_regular(file) if keep_bytes else None
        data = pa.py_buffer(original) if keep_bytes else read_regular_buffer(file)
    except FileNotFoundError:
        problem("source-error", None, None, f"file not found: {rel}")
        return None, problems
    except OSError as exc:
        problem("source-error", None, None, f"cannot read the file: {exc.strerror}")
        return None, problems
    if data[: len(BOM)].to_pybytes() == BOM:
        message = "the file starts with a byte-order mark; expected UTF-8 without one (run make fmt)"
        problem("byte-order-mark", 1, 1, message)
        data = data[len(BOM) :]
    header[:] = _header_cells(data)
    buf = np.frombuffer(data, np.uint8)
    scan = _scan(buf)
    wide_text = scan.wide_text
    if wide_text is None:
        text = data.to_pybytes()
        try:
            text.decode("utf-8")  # raises, with the exact position of the fault
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            line_start = text.rfind(b"\n", 0, exc.start) + 1
            column = _column_of(np.frombuffer(text, np.uint8), line_start, exc.start)
            bad = text[exc.start : exc.end].hex(" ")
            problem("encoding-error", line, column, f"bytes {bad} are not valid UTF-8; {resave_advice(text, rel)}")
            return None, problems
    if _blank(data):
        problem("source-error", 1, None, "the file is empty; expected a header row")
        return None, problems

    newlines, quotes = scan.newlines, scan.quotes
    # a carriage return is a byte below 32 that is not a line feed: looked for only if one is there
    unusual = scan.low > len(newlines)
    structural = unusual and _check_line_endings(buf, newlines, quotes, problem)
    structural = _check_quotes(buf, newlines, quotes, problem) or structural
    if structural:
        return None, problems

    # Records end at the newlines that lie outside quotes.
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0] if len(quotes) else newlines
    multiline = len(ends) < len(newlines)  # some quoted cell spans lines
    if buf[-1] == NL:
        starts = np.concatenate(([0], ends[:-1] + 1))
    else:
        message = "the file does not end with a line break; expected LF (run make fmt)"
        problem("final-newline", len(newlines) + 1, None, message)
        starts = np.concatenate(([0], ends + 1))
        ends = np.concatenate((ends, [len(buf)]))
    length = ends - starts
    crlf = length > 0
    crlf[crlf] = buf[ends[crlf] - 1] == CR
    blank = (length - crlf) == 0
    # with no line break inside a quoted cell, record i starts on line i + 1
    lines = _line_of(newlines, starts) if multiline else np.arange(1, len(starts) + 1)

    if blank[0]:
        problem("blank-label", 1, None, "the first line is empty; expected the header row")
        return None, problems
    if width is not None:
        head = int(ends[0]) + 1  # the header's bytes alone: the rest of the file has no say here
        first = _cells_per_record(buf[:head], quotes[: np.searchsorted(quotes, head)], ends[:1])[0]
        if first > 2 * width:
            message = (
                f"the header has {first} cells, far more than the schema's {width} fields; "
                "the rows are not checked until the header matches the schema"
            )
            problem("extra-label", 1, width + 1, message)
            return None, problems
    header_bytes = data[int(starts[0]) : int(ends[0])].to_pybytes().rstrip(b"\r")
    header = csv_rows(header_bytes.decode("utf-8"))[0]
    for line in lines[1:][blank[1:]]:
        problem("blank-row", int(line), None, "the row is empty; expected no blank lines (run make fmt)")

    fields, width = width, len(header)
    invalid = 0

    def skip(_row: object) -> str:
        nonlocal invalid
        invalid += 1
        return "skip"

    # a cell may hold a control character: a byte below 32 other than the line feeds that end
    # records (a quoted cell that spans lines holds one), or DEL
    suspects = frozenset({"control"}) if multiline or unusual or scan.delete else frozenset()
    names = [f"c{i}" for i in range(width)]
    if len(starts) == 1:  # the header alone: no rows to parse (pyarrow cannot skip the only line)
        table = pa.table({name: pa.nulls(0, pa.string()) for name in names})
    else:
        try:
            table = _parse(data, int(ends[0]) + 1, names, multiline, skip, int(length.max()))
        except (pa.ArrowInvalid, pa.ArrowException) as exc:  # a shape the byte scans did not foresee
            problem("source-error", None, None, f"the rows cannot be parsed: {exc}")
            return None, problems
    keep = ~blank
    keep[0] = False
    short: dict[int, int] = {}
    ragged = np.zeros(len(keep), bool)
    if invalid:
        cells = _cells_per_record(buf, quotes, ends)
        ragged = keep & (cells != width)
        for index in np.flatnonzero(ragged):
            line, count = int(lines[index]), int(cells[index])
            if count == fields:
                continue  # the row has the schema's cells: the header is at fault, and says so
            if count > width:
                message = f"the row has {count} cells; expected {width} as in the header"
                problem("extra-cell", line, width + 1, message)
            else:
                message = f"the row has {count} cells; expected {width} as in the header"
                problem("missing-cell", line, count + 1, message)
                short[line] = count
    if len(lines[keep & ~ragged]) != table.num_rows:
        problem("source-error", None, None, "the rows could not be matched to lines; check the quoting")
        return None, problems
    cells_of: dict[int, list[str]] = {}
    if ragged.any():
        table = _with_ragged_rows(data, table, starts, ends, lines, keep & ~ragged, ragged, width, cells_of)
    del buf, data  # the file's memory is free for the columns joined next (unless kept)
    table = _joined(table)
    row_lines = lines[keep]
    nfc = unicodedata.is_normalized("NFC", wide_text)
    raw = RawTable(header, table, row_lines, nfc, suspects, short, cells_of, original if keep_bytes else None)
    return raw, problems


def resave_advice(data: bytes, rel: str) -> str:
    """What a file that is not UTF-8 seems to be, when a cheap check can tell, and how to
    save it again as UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        source, name = "UTF-16, what Excel calls Unicode Text", "UTF-16"
    elif _reads_as_chinese(data):
        source, name = "GBK/GB18030, the Chinese Windows encoding", "GB18030"
    else:
        source = name = None
    convert = f"; or run iconv -f {name} -t UTF-8 {rel} > {rel}.utf8 && mv {rel}.utf8 {rel}" if name else ""
    how = (
        'save it again as UTF-8 (in Excel: Save As, "CSV UTF-8 (Comma delimited)"; in a text editor: '
        f"the encoding UTF-8{convert}), then run make fmt"
    )
    return f"the file looks saved as {source}; expected UTF-8: {how}" if source else f"expected a UTF-8 file: {how}"


def _reads_as_chinese(data: bytes) -> bool:
    """The bytes decode as GB18030 and what is not ASCII in them is mostly Chinese."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 127]
    han = sum(1 for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return bool(wide) and han >= 0.9 * len(wide)


def _with_ragged_rows(
    data: pa.Buffer,
    table: pa.Table,
    starts: np.ndarray,
    ends: np.ndarray,
    lines: np.ndarray,
    regular: np.ndarray,
    ragged: np.ndarray,
    width: int,
    cells_of: dict[int, list[str]],
) -> pa.Table:
    """The table with the rows of too many or too few cells put back in their place, so that
    their cells can still be checked against the fields they fall under: cells past the
    header's width are dropped (the extra cell is reported) and missing ones are null. Each
    such row's cells, all of them, go into ``cells_of`` by line."""
    rows = []
    for index in np.flatnonzero(ragged):
        record = data[int(starts[index]) : int(ends[index])].to_pybytes().rstrip(b"\r").decode("utf-8")
        every = (csv_rows(record) or [[]])[0]
        cells_of[int(lines[index])] = every
        cells = every[:width]
        rows.append(cells + [None] * (width - len(cells)))
    extra = pa.table(
        {name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(table.column_names)}
    )
    merged = pa.concat_tables([table, extra])
    order = np.argsort(np.concatenate([lines[regular], lines[ragged]]), kind="stable")
    return merged.take(pa.array(order))


def _blank(data: pa.Buffer) -> bool:
    """Whether the file holds nothing but white space (read a block at a time: a file that
    holds anything else tells at once)."""
    return all(data[start : start + _CHUNK].to_pybytes().isspace() for start in range(0, len(data), _CHUNK))


@dataclass(frozen=True)
class _Scan:
    """What one pass over a file's bytes finds."""

    newlines: np.ndarray  # position of every LF
    quotes: np.ndarray  # position of every double quote
    low: int  # how many bytes are below 32 (LF among them)
    delete: bool  # whether some byte is DEL
    # The non-ASCII runs of bytes, each with the ASCII byte before it, decoded ("" for an
    # ASCII file); None when they are not valid UTF-8. Invalid UTF-8 lies only in such
    # runs, and normalization only joins a character to the one before it, so the file is
    # valid UTF-8 and in NFC exactly when this text is (no composition ends on an ASCII
    # character).
    wide_text: str | None


def _scan(buf: np.ndarray) -> _Scan:
    """The file's structure bytes, control bytes and non-ASCII text in one pass, a chunk at
    a time: each chunk is read from memory once and stays in the cache for every test."""
    newlines, quotes, pieces = [], [], []
    low, delete = 0, False
    for start in range(0, len(buf), _CHUNK):
        chunk = buf[start : start + _CHUNK]
        newlines.append(np.flatnonzero(chunk == NL) + start)
        quotes.append(np.flatnonzero(chunk == QUOTE) + start)
        low += int(np.count_nonzero(chunk < 32))
        delete = delete or bool(np.any(chunk == 127))
        if chunk.max() >= 0x80:
            part = buf[start : start + _CHUNK + 1]  # with the byte after, for the run that goes on
            keep = part >= 0x80
            keep[:-1] |= keep[1:]
            pieces.append(part[: _CHUNK][keep[: _CHUNK]].tobytes())
    try:
        wide_text: str | None = b"".join(pieces).decode("utf-8")
    except UnicodeDecodeError:
        wide_text = None
    return _Scan(_joined_positions(newlines), _joined_positions(quotes), low, delete, wide_text)


def _joined_positions(found: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def _cells_per_record(buf: np.ndarray, quotes: np.ndarray, ends: np.ndarray) -> np.ndarray:
    commas = _where(buf, COMMA)
    if len(quotes):
        commas = commas[(np.searchsorted(quotes, commas) % 2) == 0]
    record = np.searchsorted(ends, commas, side="left")
    return np.bincount(record, minlength=len(ends))[: len(ends)] + 1


def _check_line_endings(buf: np.ndarray, newlines: np.ndarray, quotes: np.ndarray, problem) -> bool:
    """Report CRLF and lone CR line endings; a lone CR makes the structure ambiguous. A
    carriage return inside a quoted cell ends no line: it is the cell's text, which the
    cell's check reports as a control character (fmt keeps it, and cannot tell which break
    was meant)."""
    returns = _where(buf, CR)
    if len(quotes) and len(returns):
        returns = returns[np.searchsorted(quotes, returns) % 2 == 0]
    if not len(returns):
        return False
    before_lf = returns[(returns + 1 < len(buf))]
    crlf = before_lf[buf[before_lf + 1] == NL]
    lone = np.setdiff1d(returns, crlf)
    if len(crlf):
        first = int(_line_of(newlines, crlf[0]))
        message = f"{len(crlf)} line(s) end with CRLF, the first here; expected LF (run make fmt)"
        problem("line-ending", first, None, message)
    if len(lone):
        first = int(_line_of(newlines, lone[0]))
        problem(
            "line-ending",
            first,
            None,
            f"{len(lone)} carriage return(s) without a line feed; expected LF line endings "
            "(the rest of this file is not checked until this is fixed)",
        )
        return True
    return False


def _header_cells(data: pa.Buffer) -> list[str]:
    """The names in the file's first line, as far as its first 64 KiB go."""
    head = data[: min(len(data), 1 << 16)].to_pybytes().split(b"\n", 1)[0].rstrip(b"\r")
    return [cell.strip('"') for cell in head.decode("utf-8", "replace").split(",")]


def _check_quotes(buf: np.ndarray, newlines: np.ndarray, quotes: np.ndarray, problem) -> bool:
    """Every quote must open a cell, close it, or be doubled inside it (RFC 4180)."""
    if not len(quotes):
        return False
    n = len(buf)
    index = np.arange(len(quotes))
    prev = np.where(quotes > 0, buf[np.maximum(quotes - 1, 0)], NL)
    nxt = np.where(quotes + 1 < n, buf[np.minimum(quotes + 1, n - 1)], NL)
    prev_is_quote = np.zeros(len(quotes), bool)
    prev_is_quote[1:] = quotes[1:] - 1 == quotes[:-1]
    next_is_quote = np.zeros(len(quotes), bool)
    next_is_quote[:-1] = quotes[:-1] + 1 == quotes[1:]
    opening = index % 2 == 0
    ok_open = (prev == COMMA) | (prev == NL) | prev_is_quote
    ok_close = (nxt == COMMA) | (nxt == NL) | (nxt == CR) | next_is_quote
    bad = np.flatnonzero(np.where(opening, ~ok_open, ~ok_close))
    if len(bad) or len(quotes) % 2:
        # The likely cause comes before the first quote out of place: a quote that opened a
        # cell and was not closed on its own line, so that it swallowed the line break.
        before = bad[0] if len(bad) else len(quotes)
        opens = index[opening & (index < before)]
        pairs = opens[opens + 1 < len(quotes)]
        spans = pairs[_line_of(newlines, quotes[pairs]) != _line_of(newlines, quotes[pairs + 1])]
        unclosed = opens[opens + 1 >= len(quotes)]
        first = spans[0] if len(spans) else (unclosed[0] if len(unclosed) else None)
        if first is not None:
            position = int(quotes[first])
            line = int(_line_of(newlines, position))
            start = int(newlines[line - 2]) + 1 if line > 1 else 0
            end = int(newlines[line - 1]) if line - 1 < len(newlines) else n
            around = _excerpt(buf, start, end, position)
            problem(
                "quote-error",
                line,
                _column_of(buf, start, position),
                "a quote opens this cell but the line ends before it closes, so the cell runs on "
                "into the lines below; close the quote, or remove it (the rest of this file is not "
                "checked until this is fixed)",
                around,
            )
            return True
    found = False
    if len(bad):
        position = int(quotes[bad[0]])
        line = int(_line_of(newlines, position))
        start = int(newlines[line - 2]) + 1 if line > 1 else 0
        column = _column_of(buf, start, position)
        problem(
            "quote-error",
            line,
            column,
            f"{len(bad)} misplaced double quote(s), the first here; a quote may only open or close a "
            'cell, or be doubled ("") inside a quoted cell (the rest of this file is not checked '
            "until this is fixed)",
        )
        found = True
    if len(quotes) % 2:
        position = int(quotes[-1])
        line = int(_line_of(newlines, position))
        problem(
            "quote-error",
            line,
            None,
            "a quoted cell opened here is never closed; expected a closing double quote "
            "(the rest of this file is not checked until this is fixed)",
        )
        found = True
    return found


def _excerpt(buf: np.ndarray, start: int, end: int, position: int, reach: int = 30) -> str:
    """The line's text within ``reach`` bytes of ``position``, cut between characters (never
    inside one's UTF-8 bytes), with an ellipsis where the line goes on."""
    low, high = max(start, position - reach), min(end, position + reach)
    while low > start and buf[low] & 0xC0 == 0x80:  # a continuation byte: back to its character's start
        low -= 1
    while high < end and buf[high] & 0xC0 == 0x80:
        high += 1
    text = bytes(buf[low:high]).decode("utf-8", "replace")
    return ("…" if low > start else "") + text + ("…" if high < end else "")


def _parse(
    data: pa.Buffer, body: int, names: list[str], multiline: bool, skip: Callable[[object], str], longest: int
) -> pa.Table:
    """Every record from byte ``body`` on (the header, even one spanning lines, lies before
    it) as string columns, in blocks; ragged rows go to ``skip``. The blocks are of 1 MiB
    (pyarrow's default; at least twice the longest record), which parse in half the time one
    file-sized block takes; pyarrow's own threads, which would parse blocks side by side,
    are not used: the files are read side by side already, and those threads cost more
    processor time."""
    block = min(max(_BLOCK, 2 * longest + 2), _MAX_BLOCK)
    return pacsv.read_csv(
        pa.BufferReader(data[body:]),
        read_options=pacsv.ReadOptions(column_names=names, block_size=block, use_threads=False),
        parse_options=pacsv.ParseOptions(
            newlines_in_values=multiline, ignore_empty_lines=True, invalid_row_handler=skip
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=False,  # the whole file was found valid UTF-8, and no cell splits a character
        ),
    )


def _joined(table: pa.Table) -> pa.Table:
    """Each column's blocks joined into one array, which the checks use as it is; one column
    at a time, its blocks freed once it is joined, so that the file is not held twice over."""
    names, columns = table.column_names, table.columns
    del table
    for index, column in enumerate(columns):
        columns[index] = column.combine_chunks()
        del column
    return pa.table(columns, names=names)
