"""Validate a package: descriptor, files, cells, keys and the package's rules, in one run.

Every problem found is reported, not only the first; nothing is written. The files are
read (numpy and pyarrow) while pandas and pandera load, since both take about as long;
``frames`` then checks the cells and runs the rules.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .cells import ParsedPackage, ParsedTable, parse_table
from .package import Package, Resource, load_package
from .phases import phase
from .read import RawTable, read_table
from .report import Problem, Report

if TYPE_CHECKING:
    import pandas as pd

WORKERS = min(4, os.cpu_count() or 1)
SWITCH_INTERVAL = 0.0001  # seconds; Python's default is 0.005


def validate(descriptor: str | Path = "datapackage.json") -> Report:
    """Check a whole package and return every problem found."""
    with _quick_switching():
        with phase("descriptor"):
            package, problems = load_package(descriptor)
        if package is None:
            return Report(problems).sorted()
        frames, more = read_package(package)
        with phase("report"):
            return Report(root_causes(package, problems + more, frames)).sorted()


_CELL_CODES = {
    "type-error", "constraint-error", "primary-key", "unique-error", "foreign-key", "whitespace",
    "control-character", "unicode-normalization", "formula-injection",
}
_FIRST_AT = re.compile(r"\(first at line (\d+)\)$")


def root_causes(
    package: Package, problems: list[Problem], frames: dict[str, pd.DataFrame] | None = None
) -> list[Problem]:
    """The problems with their consequences left out, so that each mistake is reported once,
    at its cause: a row with too many cells is that problem alone, its cause named (its
    cells are shifted; a short row's cells are still judged); a cell that is not of its type is not judged again by its
    constraints; no package rule is reported on a row whose cells or key are reported
    already (nor on the row a repeated key first appeared on), nor the preferred claim of
    a group in a file whose key repeats (a pasted claim is one mistake); no source is called
    uncited while a row that may cite it is unreadable or cites a source that does not exist;
    a row that refers to a key kept from matching by white space alone is counted in that
    key's report, not reported itself; and a cell that white space alone keeps from its
    pattern or from the key it refers to (in ``frames``) is that white space alone."""
    from .rules import RULES

    rule_codes = {r.code for r in RULES}
    resources = {r.path: r for r in package.resources}
    ragged = {(p.path, p.line): p.column or 1 for p in problems if p.code == "extra-cell"}
    mistyped = {(p.path, p.line, p.field) for p in problems if p.code == "type-error"}
    judged = {(p.path, p.line) for p in problems if p.code in _CELL_CODES}
    for p in problems:
        if p.code == "primary-key" and (match := _FIRST_AT.search(p.message)):
            judged.add((p.path, int(match.group(1))))
    # A repeated key is a claim made twice: a group of claims holding it is not judged again.
    repeated = {p.path for p in problems if p.code == "primary-key"}
    citing = {r.path for r in package.resources for _, target, _ in r.foreign_keys() if target == "sources"}
    unsure = any(
        p.path in citing
        and (p.code in ("extra-cell", "missing-cell") or (p.code == "foreign-key" and "source" in (p.field or "")))
        for p in problems
    )
    loose = _loose_keys(package, problems)
    padded = _padded_only(package, problems, frames or {})
    trimmable = _trimmed_valid(package, problems)
    referring: dict[int, int] = {}  # id of a loose key's problem -> rows referring to it
    out = []
    for p in problems:
        where = (p.path, p.line)
        cause = loose.get(_referred(resources, p)) if p.code == "foreign-key" else None
        if cause is not None:
            referring[id(cause)] = referring.get(id(cause), 0) + 1
            continue
        consequence = (
            (where in ragged and p.code != "extra-cell" and not _before(p, ragged[where]))
            or (p.code == "constraint-error" and (p.path, p.line, p.field) in mistyped)
            or id(p) in padded
            or (p.code in rule_codes and p.code != "uncited-source" and where in judged)
            or (p.code == "preferred-claims" and p.path in repeated)
            or (p.code == "uncited-source" and unsure)
        )
        if consequence:
            continue
        if id(p) in trimmable:
            message = f"{p.message}; it is one once the white space at its ends is trimmed (run make fmt)"
            p = Problem(p.code, p.path, p.line, p.column, p.field, p.value, message)
        elif p.code == "type-error" and p.path in resources and p.value is not None:
            p = _fixable(resources[p.path], p)
        out.append(p)
    return [_with_referring(p, referring[id(p)]) if id(p) in referring else p for p in out]


def _loose_keys(package: Package, problems: list[Problem]) -> dict[tuple[str, str, str], Problem]:
    """The cells of keys that foreign keys refer to which white space at an end alone keeps
    from matching: (resource, field, the text trimmed) -> the cell's white-space problem."""
    from .text import WHITESPACE

    referenced = {(target, key[0]) for r in package.resources for _, target, key in r.foreign_keys() if len(key) == 1}
    names = {r.path: r.name for r in package.resources}
    loose: dict[tuple[str, str, str], Problem] = {}
    for p in problems:
        if p.code == "whitespace" and p.value and p.field and (names.get(p.path), p.field) in referenced:
            loose.setdefault((names[p.path], p.field, p.value.strip(WHITESPACE)), p)
    return loose


def _padded_only(package: Package, problems: list[Problem], frames: dict[str, pd.DataFrame]) -> set[int]:
    """The type, constraint and foreign-key problems of text cells that white space at an
    end alone makes fail (the trimmed text passes every check of its field, and is a key of
    the table referred to): fmt trims the cell, and the white-space problem says so."""
    from .text import WHITESPACE

    resources = {r.path: r for r in package.resources}
    fields = {(r.path, f["name"]): f for r in package.resources for f in r.fields}
    trimmed = {
        (p.path, p.line, p.field): p.value.strip(WHITESPACE)
        for p in problems
        if p.code == "whitespace" and p.value and p.path in resources
    }
    texts: dict[tuple[str, str], list[tuple[str, Problem]]] = {}
    wanted: dict[tuple[str, str], list[tuple[str, Problem]]] = {}
    for p in problems:
        text = trimmed.get((p.path, p.line, p.field))
        if text is None or p.code not in ("type-error", "constraint-error", "foreign-key"):
            continue
        if p.code != "foreign-key":
            if fields.get((p.path, p.field or ""), {}).get("type", "string") == "string":
                texts.setdefault((p.path, p.field or ""), []).append((text, p))
        elif (target := _referred(resources, p)) is not None and target[0] in frames and target[1] in frames[target[0]]:
            wanted.setdefault(target[:2], []).append((text, p))
    found = _passing(texts, fields)
    for (target, key), cells in wanted.items():
        present = frames[target][key].isin([text for text, _ in cells])
        keys = set(frames[target][key][present].astype(str))
        found |= {id(p) for text, p in cells if text in keys}
    return found


def _passing(cells: dict[tuple[str, str], list[tuple[str, Problem]]], fields: dict[tuple[str, str], dict]) -> set[int]:
    """The problems whose trimmed text passes every check of its field (type, format,
    vocabulary, pattern, lengths): each field's own checks, run once on all its texts."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from .cells import Cells
    from .checks import field_checks

    found: set[int] = set()
    for where, pairs in cells.items():
        spec = fields.get(where, {})
        raw = pa.array([text for text, _ in pairs], pa.string())
        series = pd.Series(pd.arrays.ArrowExtensionArray(raw))
        ok = np.ones(len(pairs), bool)
        for check, _ in field_checks(spec, Cells.parse(raw, spec), True, frozenset()):
            ok &= np.asarray(check(series).check_output, bool)
        found |= {id(p) for (_, p), passed in zip(pairs, ok, strict=True) if passed}
    return found


def _trimmed_valid(package: Package, problems: list[Problem]) -> set[int]:
    """The type errors of cells (not text: a text field's white space is its own problem)
    that are of their type once the white space at their ends is trimmed, as fmt trims it."""
    from .text import WHITESPACE

    fields = {(r.path, f["name"]): f for r in package.resources for f in r.fields}
    cells: dict[tuple[str, str], list[tuple[str, Problem]]] = {}
    for p in problems:
        spec = fields.get((p.path, p.field or ""))
        if p.code != "type-error" or spec is None or spec.get("type", "string") in ("string", "any") or not p.value:
            continue
        if (text := p.value.strip(WHITESPACE)) not in ("", p.value):
            cells.setdefault((p.path, p.field or ""), []).append((text, p))
    return _passing(cells, fields)


def _referred(resources: dict[str, Resource], p: Problem) -> tuple[str, str, str] | None:
    """What a foreign-key problem's cell refers to: (resource, field, its text)."""
    resource = resources.get(p.path)
    for fields, target, key in resource.foreign_keys() if resource is not None and p.value is not None else []:
        if fields == [p.field] and len(key) == 1:
            return target, key[0], p.value
    return None


def _with_referring(p: Problem, count: int) -> Problem:
    from .text import WHITESPACE

    trimmed = p.value.strip(WHITESPACE) if p.value else ""
    rows = "row refers" if count == 1 else "rows refer"
    message = f"{p.message}; {count} {rows} to it as {trimmed!r}, and will find it once it is trimmed"
    return Problem(p.code, p.path, p.line, p.column, p.field, p.value, message)


def _fixable(resource: Resource, p: Problem) -> Problem:
    """A type error that fmt repairs (a boolean whose capitalisation alone differs from one
    of its field's values, such as TRUE for true) says what fmt will write."""
    from .schema import canonical_text

    spec = next((f for f in resource.fields if f["name"] == p.field), None)
    if spec is None or spec.get("type") != "boolean" or p.value is None:
        return p
    fixed = canonical_text(p.value, spec)
    if fixed == p.value:
        return p
    return Problem(p.code, p.path, p.line, p.column, p.field, p.value, f"{p.message}: write {fixed} (run make fmt)")


def _before(p: Problem, column: int) -> bool:
    """A problem of one cell that lies before the column where its row's cells start to shift."""
    return p.code in _CELL_CODES and p.column is not None and p.column < column


def _read_and_parse(
    resource: Resource, keep: bool = False
) -> tuple[RawTable | None, ParsedTable | None, list[Problem]]:
    """Read one file and parse its columns: numpy and pyarrow only."""
    with phase("reading"):
        table, problems = read_table(resource.file, resource.path, len(resource.fields), keep)
        if table is None:
            return None, None, problems
        if table.ragged:
            from .ragged import name_shifts

            problems = name_shifts(resource, table, problems)
        problems += check_integrity(resource)
        problems += check_header(resource, table.header)
    with phase("parsing"):
        return table, parse_table(resource, table), problems


def check_integrity(resource: Resource) -> list[Problem]:
    """The file's size and digest against the resource's ``bytes`` and ``hash``, when declared."""
    problems = []
    if resource.bytes is not None:
        size = resource.file.stat().st_size
        if size != resource.bytes:
            message = f"the file has {size} bytes; the descriptor's 'bytes' says {resource.bytes}"
            problems.append(Problem("byte-count", resource.path, None, None, None, str(size), message))
    if resource.hash is not None:
        algorithm, _, expected = resource.hash.rpartition(":")
        digest = hashlib.new(algorithm or "md5")
        with resource.file.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        found = digest.hexdigest()
        if found != expected.lower():
            message = f"the file's {algorithm or 'md5'} digest is {found}; the descriptor's 'hash' says {expected}"
            problems.append(Problem("hash-count", resource.path, None, None, None, found, message))
    return problems


def _size(resource: Resource) -> int:
    try:
        return resource.file.stat().st_size
    except OSError:
        return 0


def read_package(
    package: Package, tables: dict[str, RawTable] | None = None
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read and check every resource; return the raw frames (index: line) and the problems.
    The tables read, with their bytes, are put in ``tables`` when it is given, so that a
    caller can publish exactly what was checked."""
    # The threads hand the interpreter lock to each other often: a worker between two numpy
    # or Arrow calls would otherwise wait up to 5 ms for a thread running Python (an import,
    # a pandera check), and it makes hundreds of such calls. And the cyclic garbage collector
    # waits: loading pyarrow, pandas and pandera makes it walk their hundreds of thousands of
    # objects again and again, while a validation makes few cycles. Both restored on the way
    # out (``validate`` holds them from the descriptor on).
    with _quick_switching():
        return _read_package(package, tables)


_switching = threading.Lock()
_switching_users = 0
_switching_saved = 0.005
_collecting = False


@contextmanager
def _quick_switching() -> Iterator[None]:
    """The short switch interval and no cyclic collection while any validation runs; the
    caller's settings after the last."""
    global _switching_users, _switching_saved, _collecting
    with _switching:
        if _switching_users == 0:
            _switching_saved = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
            _collecting = gc.isenabled()
            gc.disable()
        _switching_users += 1
    try:
        yield
    finally:
        with _switching:
            _switching_users -= 1
            if _switching_users == 0:
                sys.setswitchinterval(_switching_saved)
                if _collecting:
                    gc.enable()


def _read_package(package: Package, kept: dict[str, RawTable] | None) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        # Submitted at once, largest files first so that the workers finish together: the
        # files are read and parsed while the import below holds the main thread (pandas and
        # pandera take most of a second to load).
        order = sorted(package.resources, key=_size, reverse=True)
        reading = pool.map(partial(_read_and_parse, keep=kept is not None), order)
        with phase("imports"):
            from . import frames as f

        done = dict(zip([r.name for r in order], reading, strict=True))

        problems: list[Problem] = []
        tables: dict[str, RawTable] = {}
        frames: dict[str, pd.DataFrame] = {}
        parsed = ParsedPackage(
            [(r.name, f[0], t, k[0]) for r in package.resources for f, t, k in r.foreign_keys() if len(f) == 1]
        )
        for resource in package.resources:
            table, columns, found = done[resource.name]
            problems += found
            if table is not None and columns is not None:
                tables[resource.name], parsed[resource.name] = table, columns.cells
                parsed.columns[resource.name] = columns.positions
                if kept is not None:
                    kept[resource.name] = table
                with phase("parsing"):
                    frames[resource.name], blank = f.frame_of(resource, columns)
                problems += blank
        readable = [r for r in package.resources if r.name in frames]
        # The key look-ups, the cell checks and the rules (which need every file) share the pool.
        checks = {r.name: partial(f.check_cells, r, frames, parsed, tables[r.name]) for r in readable}
        rules = f.rule_jobs(package, frames, parsed) if len(frames) == len(package.resources) else []
        jobs = _scheduled(checks, rules, readable, parsed, frames)
        # A cell that a short row lacks is reported as missing-cell alone, not checked again.
        short = {(r.path, line): count for r in readable for line, count in tables[r.name].short.items()}
        for found in pool.map(lambda job: job(), jobs):
            problems += [p for p in found if not p.column or p.column <= short.get((p.path, p.line), p.column)]
    return frames, problems


def _scheduled(
    checks: dict[str, Callable[[], list[Problem]]],
    rules: list[tuple[int, Callable[[], list[Problem]]]],
    readable: list[Resource],
    parsed: ParsedPackage,
    frames: dict[str, pd.DataFrame],
) -> list[Callable[[], list[Problem]]]:
    """The jobs in the order the workers take them. First the look-ups of the keys that
    foreign keys refer to, the largest first: the checks and the rules of most files wait for
    them. Then the cell checks of the files that refer to no key as large, the longest
    first, so that a worker is not left waiting while another hashes the largest key; then
    the other checks and the rules, the longest first."""
    targets: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for reference in parsed.references:
        if reference[0] in frames and reference[2] in frames:
            targets.setdefault(reference[2:], reference)
    order = sorted(targets, key=lambda target: -len(frames[target[0]]))
    largest = order[0][0] if order else None
    rows = {r.name: len(frames[r.name]) for r in readable}
    free = {r.name for r in readable if largest not in {t for _, t, _ in r.foreign_keys()}}
    first = sorted(free, key=lambda name: -rows[name])
    rest = [(rows[name], job) for name, job in checks.items() if name not in free] + rules
    rest.sort(key=lambda job: -job[0])
    lookups = [partial(_look_up, parsed, targets[target]) for target in order]
    return lookups + [checks[name] for name in first] + [job for _, job in rest]


def _look_up(parsed: ParsedPackage, reference: tuple[str, str, str, str]) -> list[Problem]:
    parsed.positions(*reference)
    return []


def check_header(resource: Resource, header: list[str]) -> list[Problem]:
    """The header must equal the schema's field names, in order (``fieldsMatch`` exact, the
    default), or match them by name as the schema's ``fieldsMatch`` says."""
    problems = []
    names = resource.field_names

    def bad(code: str, column: int, field: str | None, value: str | None, message: str) -> None:
        problems.append(Problem(code, resource.path, 1, column, field, value, message))

    match = resource.fields_match
    if match != "exact":
        _header_by_name(resource, header, match, bad)
        return problems

    seen: set[str] = set()
    for index, label in enumerate(header):
        column = index + 1
        if index >= len(names):
            bad("extra-label", column, None, label, f"the header has a column {label!r} the schema does not define")
            continue
        if not label:
            bad("blank-label", column, names[index], label, f"the header cell is empty; expected {names[index]!r}")
        elif label != names[index]:
            bad("incorrect-label", column, names[index], label, f"the header says {label!r}; expected {names[index]!r}")
        if label and label in seen:
            bad("duplicate-label", column, names[index], label, f"the label {label!r} appears twice in the header")
        seen.add(label)
    for index in range(len(header), len(names)):
        bad("missing-label", index + 1, names[index], None, f"the header lacks the field {names[index]!r}")
    return problems


def _header_by_name(resource: Resource, header: list[str], match: str, bad) -> None:
    """The header against the fields by name: ``equal`` (the same fields in any order),
    ``subset`` (every field, and perhaps more columns), ``superset`` (only fields, perhaps
    not all) or ``partial`` (at least one field)."""
    names = resource.field_names
    known = set(names)
    seen: set[str] = set()
    for index, label in enumerate(header):
        if not label:
            bad("blank-label", index + 1, None, label, "the header cell is empty; expected a field name")
        elif label in seen:
            bad("duplicate-label", index + 1, label, label, f"the label {label!r} appears twice in the header")
        elif label not in known and match in ("equal", "superset"):
            bad("extra-label", index + 1, None, label, f"the header has a column {label!r} the schema does not define")
        seen.add(label)
    if match in ("equal", "subset"):
        for name in names:
            if name not in seen:
                bad("missing-label", len(header) + 1, name, None, f"the header lacks the field {name!r}")
    if match == "partial" and not seen & known:
        bad("missing-label", 1, None, None, f"the header has none of the schema's fields; expected some of {names}")
