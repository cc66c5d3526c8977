"""Benchmark: validate two deterministic packages of the project's own schemas.

``python -m pipeline.bench --rows 1000000`` writes a synthetic package (short generated
cells) and a realistic one (the real rows of ``data/`` repeated as whole copies, keys made
unique per copy: long notes, Chinese text, URLs), each of about that many rows, then
measures for each in one run: our validator (fresh processes, start-up included, the
median, with CPU time and peak memory), the time of each phase of one more validation,
and pyarrow's raw CSV read of the same files, the floor. ``frictionless validate`` is
timed beside ours on smaller packages of both kinds (``--frictionless-rows``).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow.csv as pacsv

from .fmt import canonical_csv

ROOT = Path(__file__).resolve().parent.parent
SHARES = {
    "sources": 0.10,
    "organizations": 0.05,
    "platforms": 0.10,
    "events": 0.25,
    "metrics": 0.35,
    "features": 0.10,
    "comparisons": 0.05,
}


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), 8))


def _pick(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return values[rng.integers(0, len(values), n)]


def _years(n: int, rng: np.random.Generator, low: int = 2005, high: int = 2015) -> np.ndarray:
    return rng.integers(low, high, n).astype(str)


def synthetic_tables(rows: int, seed: int = 20170301) -> dict[str, dict[str, np.ndarray]]:
    """Valid rows for every resource, sorted by primary key, citing every source."""
    rng = np.random.default_rng(seed)
    n = {name: max(2, int(rows * share)) for name, share in SHARES.items()}
    n["features"] = min(n["features"], n["platforms"] * 3)
    empty = lambda k: np.full(k, "", dtype=object)  # noqa: E731
    sources = _ids("s-", n["sources"])
    organizations = _ids("o-", n["organizations"])
    platforms = _ids("p-", n["platforms"])
    launched = _years(n["platforms"], rng)
    tables: dict[str, dict[str, np.ndarray]] = {}
    tables["sources"] = {
        "source_id": sources,
        "title": np.char.add("Report on networking ", sources),
        "author": empty(n["sources"]),
        "publisher": _pick(np.array(["Daily Example", "示例日报", "Tech Review"]), n["sources"], rng),
        "url": np.char.add("https://example.org/articles/", sources),
        "published": _years(n["sources"], rng),
        "accessed": np.full(n["sources"], "2026-11-26"),
        "kind": _pick(np.array(["news", "filing", "blog"]), n["sources"], rng),
        # cycled, not drawn: the other columns keep the draws they had before this one existed
        "provenance": np.resize(np.array(["original-reporting", "primary", "secondary-reporting"]), n["sources"]),
        "language": _pick(np.array(["en", "zh"]), n["sources"], rng),
        "note": empty(n["sources"]),
    }
    tables["organizations"] = {
        "organization_id": organizations,
        "name_en": np.char.add("Company ", organizations),
        "name_zh": np.full(n["organizations"], "公司"),
        "parent_organization_id": empty(n["organizations"]),
        "headquarters": _pick(np.array(["Beijing", "Shanghai", "Shenzhen"]), n["organizations"], rng),
        "country": np.full(n["organizations"], "CN"),
        "founded": np.full(n["organizations"], "2000"),
        "domain": np.char.add(organizations, ".example.org"),
        "source_id": _pick(sources, n["organizations"], rng),
        "note": empty(n["organizations"]),
    }
    k = n["platforms"]
    tables["platforms"] = {
        "platform_id": platforms,
        "name_en": np.char.add("Platform ", platforms),
        "name_zh": np.full(k, "平台"),
        "pinyin": np.full(k, "Pingtai"),
        "name_meaning": np.full(k, "platform"),
        "category": _pick(np.array(["professional-network", "recruitment", "messaging"]), k, rng),
        "origin": _pick(np.array(["domestic", "foreign"]), k, rng),
        "organization_id": _pick(organizations, k, rng),
        "parent_platform_id": empty(k),
        "audience": np.full(k, "professionals in China"),
        "launched": launched,
        "closed": empty(k),
        "closed_unknown": empty(k),
        "status": np.full(k, "active"),
        "status_as_of": np.full(k, "2025"),
        "domain": np.char.add(platforms, ".example.org"),
        "founders": empty(k),
        "headquarters": np.full(k, "Beijing"),
        "source_id": _pick(sources, k, rng),
        "status_source_id": _pick(sources, k, rng),
        "name_source_id": empty(k),
        "note": empty(k),
    }
    k = n["events"]
    subject = np.concatenate([np.arange(n["platforms"]), rng.integers(0, n["platforms"], k - n["platforms"])])
    kind = np.where(np.arange(k) < n["platforms"], "launched", _pick(np.array(["announced", "funded"]), k, rng))
    tables["events"] = {
        "event_id": _ids("e-", k),
        "platform_id": platforms[subject],
        "organization_id": empty(k),
        "event": kind,
        "date": np.where(kind == "launched", launched[subject], _years(k, rng, 2015, 2025)),
        "detail": np.full(k, "Something happened, as the source says."),
        "exchange": empty(k),
        "ticker": empty(k),
        "other_organization_id": empty(k),
        "preferred": empty(k),
        "source_id": _pick(sources, k, rng),
    }
    k = n["metrics"]
    cited = np.concatenate([sources, _pick(sources, k - len(sources), rng)]) if k >= len(sources) else sources[:k]
    tables["metrics"] = {
        # one figure per platform, measure and date, so that no two claims disagree
        "metric_id": _ids("m-", k),
        "platform_id": platforms[np.arange(k) % n["platforms"]],
        "measure": _pick(np.array(["registered-users", "monthly-active-users"]), k, rng),
        "segment": empty(k),
        "value": rng.integers(1000, 10**9, k).astype(str),
        "qualifier": np.full(k, "exact"),
        "scope": np.full(k, "china"),
        "as_of": np.char.add(
            (2016 + (np.arange(k) // n["platforms"]) // 9).astype(str),
            np.char.add("-0", (1 + (np.arange(k) // n["platforms"]) % 9).astype(str)),
        ),
        "preferred": empty(k),
        "note": empty(k),
        "source_id": cited,
    }
    k = n["features"]
    combos = np.arange(k)
    feature_names = np.array(["job-listings", "messaging", "status-updates"])
    tables["features"] = {
        "platform_id": platforms[combos // 3],
        "feature": feature_names[combos % 3],
        "note": empty(k),
        "source_id": _pick(sources, k, rng),
    }
    k = n["comparisons"]
    tables["comparisons"] = {
        "platform_id": platforms[np.arange(k) % n["platforms"]],
        "relation": np.where(np.arange(k) < n["platforms"], "resembles", "competes-with"),
        "compared_with": np.full(k, "LinkedIn"),
        "compared_platform_id": empty(k),
        "note": empty(k),
        "source_id": _pick(sources, k, rng),
    }
    order = np.lexsort((tables["comparisons"]["relation"], tables["comparisons"]["platform_id"]))
    tables["comparisons"] = {c: v[order] for c, v in tables["comparisons"].items()}
    return tables


def write_package(rows: int, target: Path) -> Path:
    """The synthetic package beside copies of the real descriptor and schemas."""
    if target.exists():
        shutil.rmtree(target)
    (target / "data").mkdir(parents=True)
    shutil.copy(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    for name, columns in synthetic_tables(rows).items():
        schema = json.loads((ROOT / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
        names = [f["name"] for f in schema["fields"]]
        rows_of = zip(*(columns[c].astype(str).tolist() for c in names), strict=True)
        (target / "data" / f"{name}.csv").write_bytes(canonical_csv(names, list(rows_of)))
    return target / "datapackage.json"


def _key_fields(schemas: dict[str, dict]) -> dict[str, set[str]]:
    """Per resource, the fields that hold keys: single-field primary keys, foreign keys and
    the fields they refer to (a composite key is unique through its foreign-key field)."""
    keyed: dict[str, set[str]] = {name: set() for name in schemas}
    for name, schema in schemas.items():
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else pk
        if len(pk) == 1:
            keyed[name].add(pk[0])
        for fk in schema.get("foreignKeys", []):
            fields = fk["fields"] if isinstance(fk["fields"], list) else [fk["fields"]]
            reference = fk["reference"]
            target = reference.get("resource") or name
            refs = reference["fields"] if isinstance(reference["fields"], list) else [reference["fields"]]
            keyed[name].update(fields)
            keyed[target].update(refs)
    for name, schema in schemas.items():
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else pk
        if pk and not set(pk) & keyed[name]:
            raise ValueError(f"{name}: no field of its primary key can be made unique per copy")
    return keyed


def realistic_tables(rows: int, root: Path = ROOT) -> tuple[dict[str, tuple[list[str], list[list[str]]]], int]:
    """The real package's rows repeated as whole copies until about ``rows`` rows, and the
    number of copies. Each copy's key cells start with its own prefix (``r0001-``) and each
    unique URL gets the copy as a fragment, so keys stay unique and every foreign key points
    inside its copy; the prefix is of fixed width, so the rows stay sorted by primary key."""
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    schemas, real = {}, {}
    for entry in descriptor["resources"]:
        name = entry["name"]
        schemas[name] = json.loads((root / entry["schema"]).read_text(encoding="utf-8"))
        with (root / entry["path"]).open(encoding="utf-8", newline="") as stream:
            header, *body = list(csv.reader(stream))
        real[name] = (header, body)
    keyed = _key_fields(schemas)
    copies = max(1, round(rows / max(1, sum(len(body) for _, body in real.values()))))
    width = len(str(copies))
    tables = {}
    for name, (header, body) in real.items():
        specs = {f["name"]: f for f in schemas[name]["fields"]}
        keys = [i for i, c in enumerate(header) if c in keyed[name]]
        urls = [
            i
            for i, c in enumerate(header)
            if c not in keyed[name] and specs.get(c, {}).get("constraints", {}).get("unique")
        ]
        out = []
        for copy in range(1, copies + 1):
            prefix = f"r{copy:0{width}d}-"
            fragment = f"#r{copy:0{width}d}"
            for row in body:
                new = list(row)
                for i in keys:
                    if new[i]:
                        new[i] = prefix + new[i]
                for i in urls:
                    if new[i]:
                        new[i] += fragment
                out.append(new)
        tables[name] = (header, out)
    return tables, copies


def write_realistic(rows: int, target: Path) -> tuple[Path, int]:
    """The realistic package beside copies of the real descriptor and schemas."""
    if target.exists():
        shutil.rmtree(target)
    (target / "data").mkdir(parents=True)
    shutil.copy(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    tables, copies = realistic_tables(rows)
    for name, (header, body) in tables.items():
        (target / "data" / f"{name}.csv").write_bytes(canonical_csv(header, body))
    return target / "datapackage.json", copies


# Run by a small Python of its own, which starts the command and reports on it: Linux counts,
# in a process's peak memory, the memory of the process it was forked from up to the moment
# it starts the command, and this benchmark holds the packages it wrote. The small process
# imports nothing heavy, so the command's peak is its own.
_MEASURE = """
import json, os, subprocess, sys, tempfile, time
with tempfile.TemporaryFile() as out:
    start = time.perf_counter()
    child = subprocess.Popen(sys.argv[1:], stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    out.seek(0)
    lines = out.read().decode("utf-8", "replace").strip().splitlines()
print(json.dumps([elapsed, usage.ru_utime + usage.ru_stime, usage.ru_stime, usage.ru_maxrss / 1024,
                  os.waitstatus_to_exitcode(status), lines[-1] if lines else ""]))
"""


class Timed(NamedTuple):
    """What one run of a command in a fresh process took and said."""

    elapsed: float  # wall seconds
    cpu: float  # processor seconds, the system's included
    system: float  # processor seconds in the kernel: on this benchmark, mostly memory used for the first time
    peak: float  # MB
    code: int
    last: str  # the last line of its output


def _run(command: list[str]) -> Timed:
    """Run a command in a fresh process and time it."""
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, cwd=ROOT)
    return Timed(*json.loads(result.stdout))


def _floor(files: list[Path], repeat: int = 3) -> float:
    """pyarrow's raw read of the files (every cell a string, its own threads): the median."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for file in files:
            pacsv.read_csv(file)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def phases(descriptor: Path) -> dict[str, list[float]]:
    """One validation in this process with its phases recorded: {phase: [wall s, CPU s]}."""
    from . import phases as recorder
    from .validation import validate

    with recorder.recording() as totals:
        validate(descriptor)
    return dict(totals)


def _validator(descriptor: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline", "validate", str(descriptor)]


def _describe(files: list[Path]) -> tuple[int, float]:
    rows = sum(max(0, f.read_bytes().count(b"\n") - 1) for f in files)
    return rows, sum(f.stat().st_size for f in files) / 1e6


PHASE_ORDER = ["descriptor", "imports", "reading", "parsing", "cell checks", "keys", "rules", "report"]


def measure(kind: str, descriptor: Path, repeat: int) -> dict:
    """Time our validator (fresh processes, the median), its phases and pyarrow's floor."""
    files = sorted((descriptor.parent / "data").glob("*.csv"))
    rows, size = _describe(files)
    print(f"\n{kind} package: {rows:,} rows in {len(files)} files, {size:.0f} MB")
    floor = _floor(files)
    # A shared machine's timings drift from run to run: several fresh runs, the median reported.
    runs = [_run(_validator(descriptor)) for _ in range(max(1, repeat))]
    walls = sorted(run.elapsed for run in runs)
    ours, cpu = statistics.median(walls), statistics.median(run.cpu for run in runs)
    system = statistics.median(run.system for run in runs)
    peak = max(run.peak for run in runs)
    code, last = runs[-1].code, runs[-1].last
    if code != 0:
        print(f"our validator did not pass the {kind} package: {last}")
    spread = f"  (median of {len(walls)}: {walls[0]:.2f} to {walls[-1]:.2f} s)" if len(walls) > 1 else ""
    print(
        f"pipeline validate      {ours:7.2f} s  cpu {cpu:6.2f} s (system {system:.2f})  peak {peak:,.0f} MB"
        f"  ({last}){spread}"
    )
    print(f"pyarrow read (floor)   {floor:7.2f} s  (ratio {ours / floor:.1f}x)")
    split = json.loads(_run_json([sys.executable, "-m", "pipeline.bench", "--phases-of", str(descriptor)]))
    names = [n for n in PHASE_ORDER if n in split] + sorted(set(split) - set(PHASE_ORDER))
    print("phases (one more run; seconds summed over threads, wall / CPU):")
    print("  " + "  ".join(f"{n} {split[n][0]:.2f}/{split[n][1]:.2f}" for n in names))
    return {
        "rows": rows,
        "megabytes": round(size, 1),
        "pipeline_validate_s": round(ours, 2),
        "pipeline_validate_runs_s": [round(w, 2) for w in walls],
        "pipeline_cpu_s": round(cpu, 2),
        "pipeline_system_s": round(system, 2),
        "pipeline_peak_mb": round(peak),
        "pyarrow_read_s": round(floor, 2),
        "ratio_to_pyarrow": round(ours / floor, 1),
        "phases_s": {n: [round(v, 3) for v in split[n]] for n in names},
    }


def _run_json(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return result.stdout


def versus_frictionless(kind: str, descriptor: Path) -> dict:
    """``frictionless validate`` and ours on the same (smaller) package, in the same run."""
    files = sorted((descriptor.parent / "data").glob("*.csv"))
    rows, size = _describe(files)
    binary = Path(sys.executable).with_name("frictionless")
    ours = statistics.median(_run(_validator(descriptor)).elapsed for _ in range(3))
    run = _run([str(binary), "validate", str(descriptor)])
    theirs, theirs_cpu, code_theirs = run.elapsed, run.cpu, run.code
    verdict = "valid" if code_theirs == 0 else f"exit {code_theirs}"
    print(f"{kind} package of {rows:,} rows ({size:.0f} MB):")
    print(f"  frictionless validate  {theirs:7.2f} s  cpu {theirs_cpu:6.2f} s  ({verdict})")
    print(f"  pipeline validate      {ours:7.2f} s  (median of 3): {theirs / ours:.1f}x faster")
    return {
        "rows": rows,
        "frictionless_validate_s": round(theirs, 2),
        "frictionless_cpu_s": round(theirs_cpu, 2),
        "pipeline_validate_s": round(ours, 2),
        "speedup": round(theirs / ours, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--skip-frictionless", action="store_true")
    parser.add_argument(
        "--frictionless-rows", type=int, default=100_000, help="the size of the packages frictionless is timed on"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of our validator; the median is reported")
    parser.add_argument("--phases-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phases_of:
        print(json.dumps(phases(args.phases_of)))
        return

    packages = {
        "synthetic": lambda rows, target: write_package(rows, target),
        "realistic": lambda rows, target: write_realistic(rows, target)[0],
    }
    results: dict[str, dict] = {}
    for kind, write in packages.items():
        results[kind] = measure(kind, write(args.rows, args.out / kind), args.repeat)
    if not args.skip_frictionless:
        print()
        for kind, write in packages.items():
            small = write(args.frictionless_rows, args.out / f"{kind}-small")
            results[kind]["frictionless"] = versus_frictionless(kind, small)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
