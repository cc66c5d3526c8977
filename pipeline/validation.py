"""Validate a package: descriptor, files, cells, keys and the package's rules, in one run.

Every problem found is reported, not only the first; nothing is written. The files are
read (numpy and pyarrow) while pandas and pandera load, since both take about as long;
``frames`` then checks the cells and runs the rules.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .package import Package, Resource, load_package
from .read import RawTable, read_table
from .report import Problem, Report

if TYPE_CHECKING:
    import pandas as pd

    from .checks import Cells

WORKERS = min(4, os.cpu_count() or 1)


def validate(descriptor: str | Path = "datapackage.json") -> Report:
    """Check a whole package and return every problem found."""
    package, problems = load_package(descriptor)
    if package is None:
        return Report(problems).sorted()
    _, more = read_package(package)
    return Report(problems + more).sorted()


def read_package(package: Package) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read and check every resource; return the raw frames (index: line) and the problems."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        # Submitted at once: the reads run while the import below holds the main thread.
        reading = pool.map(lambda r: read_table(r.file, r.path), package.resources)
        from . import frames as f

        problems: list[Problem] = []
        tables: dict[str, RawTable] = {}
        for resource, (table, found) in zip(package.resources, reading, strict=True):
            problems += found
            if table is not None:
                problems += check_header(resource, table.header)
                tables[resource.name] = table
        readable = [r for r in package.resources if r.name in tables]
        frames: dict[str, pd.DataFrame] = {}
        parsed: dict[str, dict[str, Cells]] = {}
        for resource, (frame, cells, found) in zip(
            readable, pool.map(lambda r: f.frame_of(r, tables[r.name]), readable), strict=True
        ):
            frames[resource.name], parsed[resource.name] = frame, cells
            problems += found
        # The cell checks and the rules (which need every file) share the pool, longest first.
        jobs = [(len(frames[r.name]), partial(f.check_cells, r, frames, parsed, tables[r.name])) for r in readable]
        if len(frames) == len(package.resources):
            jobs += f.rule_jobs(package, frames, parsed)
        jobs.sort(key=lambda job: -job[0])
        for found in pool.map(lambda job: job[1](), jobs):
            problems += found
    return frames, problems


def check_header(resource: Resource, header: list[str]) -> list[Problem]:
    """The header must equal the schema's field names, in order."""
    problems = []
    names = resource.field_names

    def bad(code: str, column: int, field: str | None, value: str | None, message: str) -> None:
        problems.append(Problem(code, resource.path, 1, column, field, value, message))

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
