"""The benchmark's packages: the realistic one is the real rows, repeated, and still valid."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline import phases
from pipeline.bench import realistic_tables, write_realistic
from pipeline.validation import validate

ROOT = Path(__file__).resolve().parent.parent


def _real_rows() -> dict[str, int]:
    rows = {}
    for file in (ROOT / "data").glob("*.csv"):
        with file.open(encoding="utf-8", newline="") as stream:
            rows[file.stem] = sum(1 for _ in csv.reader(stream)) - 1
    return rows


def test_realistic_package_repeats_the_real_rows_in_their_proportions() -> None:
    real = _real_rows()
    tables, copies = realistic_tables(3 * sum(real.values()))
    assert copies == 3
    assert {name: len(body) for name, (_, body) in tables.items()} == {n: 3 * k for n, k in real.items()}


def test_realistic_package_keeps_keys_unique_and_foreign_keys_valid(tmp_path: Path) -> None:
    descriptor, copies = write_realistic(2 * sum(_real_rows().values()), tmp_path / "realistic")
    assert copies == 2
    report = validate(descriptor)
    assert not report.problems, report.problems[:5]


def test_realistic_package_is_deterministic(tmp_path: Path) -> None:
    first, _ = write_realistic(1, tmp_path / "a")
    second, _ = write_realistic(1, tmp_path / "b")
    for file in sorted((first.parent / "data").glob("*.csv")):
        assert file.read_bytes() == (second.parent / "data" / file.name).read_bytes()


@pytest.mark.fixtures_only
def test_phases_are_recorded_only_while_asked(package: Path) -> None:
    with phases.recording() as totals:
        validate(package)
    assert {"reading", "parsing", "cell checks", "keys", "rules"} <= set(totals)
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in totals.values())
    seen = dict(totals)
    validate(package)
    assert dict(totals) == seen


def test_a_timed_command_reports_its_own_peak_memory_not_the_benchmarks() -> None:
    import sys

    from pipeline.bench import _run

    held = b"x" * (300 << 20)  # the benchmark holding the packages it wrote
    elapsed, cpu, system, peak, code, last = _run([sys.executable, "-c", "print('small')"])
    assert (code, last) == (0, "small") and elapsed > 0 and cpu > 0 and 0 <= system <= cpu
    assert peak < 150, f"{peak:.0f} MB: the benchmark's own {len(held) >> 20} MB were counted"
