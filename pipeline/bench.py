"""Benchmark: validate a deterministic synthetic package of the project's own schemas.

``python -m pipeline.bench --rows 1000000`` writes the package, then measures in one run:
our validator (a fresh process, start-up included, with its peak memory), ``frictionless
validate`` on the same package, and pyarrow's raw CSV read of the same files as the floor.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str]) -> tuple[float, float, int, str]:
    """Wall time, CPU time, exit code and the last output line of a command in a fresh process."""
    start, cpu = time.perf_counter(), _cpu()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed, used = time.perf_counter() - start, _cpu() - cpu
    lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
    return elapsed, used, result.returncode, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--skip-frictionless", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="runs of our validator; the median is reported")
    args = parser.parse_args()

    descriptor = write_package(args.rows, args.out / "package")
    files = sorted((args.out / "package" / "data").glob("*.csv"))
    total = sum(max(0, f.read_bytes().count(b"\n") - 1) for f in files)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"synthetic package: {total:,} rows in {len(files)} files, {size:.0f} MB")

    start = time.perf_counter()
    for file in files:
        pacsv.read_csv(file)
    floor = time.perf_counter() - start

    # A shared machine's timings drift from run to run: several fresh runs, the median reported.
    runs = [_run([sys.executable, "-m", "pipeline", "validate", str(descriptor)]) for _ in range(max(1, args.repeat))]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    walls = sorted(run[0] for run in runs)
    ours, ours_cpu = statistics.median(walls), statistics.median(run[1] for run in runs)
    code, last = runs[-1][2], runs[-1][3]
    if code != 0:
        print(f"our validator did not pass the synthetic package: {last}")
    results = {
        "rows": total,
        "megabytes": round(size, 1),
        "pipeline_validate_s": round(ours, 2),
        "pipeline_validate_runs_s": [round(w, 2) for w in walls],
        "pipeline_peak_mb": round(peak),
        "pyarrow_read_s": round(floor, 2),
    }
    spread = f"  (median of {len(walls)}: {walls[0]:.2f} to {walls[-1]:.2f} s)" if len(walls) > 1 else ""
    print(f"pipeline validate      {ours:7.2f} s  cpu {ours_cpu:6.2f} s  peak {peak:,.0f} MB  ({last}){spread}")
    print(f"pyarrow read (floor)   {floor:7.2f} s")
    if not args.skip_frictionless:
        binary = Path(sys.executable).with_name("frictionless")
        theirs, theirs_cpu, code_theirs, _ = _run([str(binary), "validate", str(descriptor)])
        results |= {
            "frictionless_validate_s": round(theirs, 2),
            "frictionless_cpu_s": round(theirs_cpu, 2),
            "speedup": round(theirs / ours, 1),
        }
        verdict = "valid" if code_theirs == 0 else f"exit {code_theirs}"
        print(f"frictionless validate  {theirs:7.2f} s  cpu {theirs_cpu:6.2f} s  ({verdict})")
        print(f"speed-up over frictionless: {theirs / ours:.1f}x")
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
