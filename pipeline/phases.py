"""Where a validation spends its time, phase by phase, for ``make bench``.

Recording is off unless ``recording()`` is active, and then costs two clock reads per
phase entered. Phases nest: the time of an inner phase (a key look-up inside a cell check)
is its own, not its caller's. Times are summed over the threads that ran them, so on
several cores they add up to more than the wall time.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_local = threading.local()
_totals: dict[str, list[float]] | None = None  # name -> [wall seconds, thread CPU seconds]


def _add(name: str, wall: float, cpu: float) -> None:
    with _lock:
        if _totals is not None:
            total = _totals[name]
            total[0] += wall
            total[1] += cpu


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Count the time spent inside the block (its inner phases excepted) towards ``name``."""
    if _totals is None:
        yield
        return
    stack = _local.__dict__.setdefault("stack", [])
    now, cpu = time.perf_counter(), time.thread_time()
    if stack:
        outer = stack[-1]
        _add(outer[0], now - outer[1], cpu - outer[2])
    stack.append([name, now, cpu])
    try:
        yield
    finally:
        now, cpu = time.perf_counter(), time.thread_time()
        _, start, start_cpu = stack.pop()
        _add(name, now - start, cpu - start_cpu)
        if stack:
            stack[-1][1], stack[-1][2] = now, cpu


@contextmanager
def recording() -> Iterator[dict[str, list[float]]]:
    """Record phases while the block runs; yields {phase: [wall s, thread CPU s]}."""
    global _totals
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    with _lock:
        _totals = totals
    try:
        yield totals
    finally:
        with _lock:
            _totals = None
