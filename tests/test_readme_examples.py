"""Every Python and SQL example in the README runs against a fresh release and prints the
right answer, worked out here from the observations themselves."""

from __future__ import annotations

import functools
import http.server
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import pipeline

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```(python|sql)\n(.*?)```", re.S)


def examples(kind: str) -> list[str]:
    return [code for lang, code in BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8")) if lang == kind]


@pytest.fixture(scope="module")
def served(released: Path) -> Iterator[str]:
    """The release's folder served on the loopback address while these tests run."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(released.parent))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{released.name}/"
    server.shutdown()
    server.server_close()


def localised(code: str, released: Path, served: str) -> str:
    code = re.sub(r"dist/\d+\.\d+\.\d+", str(released), code)
    return re.sub(r"https://example\.org/guanxi/\d+\.\d+\.\d+/", served, code)


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def latest_monthly_actives(released: Path, all_users_only: bool = False) -> dict[str, int]:
    """Each platform's preferred monthly-active figure whose span ends last (of two ending
    together, the one that starts last, then one for all users, then the first metric_id)."""
    metrics = pipeline.load(released)["metrics"]
    mau = metrics[(metrics["measure"] == "monthly-active-users") & metrics["preferred"]]
    if all_users_only:
        mau = mau[mau["segment"].isna()]
    out = {}
    for platform, rows in mau.groupby("platform_id", observed=True):
        best = max(
            rows.itertuples(),
            key=lambda r: (r.as_of_end, r.as_of_start, pd.isna(r.segment), [-ord(c) for c in r.metric_id]),
        )
        out[str(platform)] = int(best.value)
    return out


def lines_with(output: str, platform: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(rf"(^|[\s│|]){re.escape(platform)}([\s│|]|$)", line)]


def test_the_readme_has_the_examples_it_promises() -> None:
    assert len(examples("python")) == 2 and len(examples("sql")) == 1
    for code in examples("python") + examples("sql"):
        assert "monthly-active-users" in code or "load(" in code  # figures are compared within a measure


def test_the_plain_reader_examples_print_the_latest_monthly_actives(released: Path, served: str) -> None:
    output = run(localised(examples("python")[0], released, served))
    expected = latest_monthly_actives(released)
    assert len(expected) >= 10
    for platform, value in expected.items():
        found = lines_with(output, platform)
        # pandas and DuckDB on the derived table
        assert sum(str(value) in line for line in found) >= 2, (platform, value, found)
    for platform, value in latest_monthly_actives(released, all_users_only=True).items():
        # pandas on the observations, figures for all users only
        assert any(str(value) in line for line in lines_with(output, platform)), (platform, value)
    # the README names the platform whose monthly actives count one side only
    one_sided = set(expected) - set(latest_monthly_actives(released, all_users_only=True))
    assert "kuaizhaogong" in one_sided and "Kuaizhaogong" in (ROOT / "README.md").read_text(encoding="utf-8")
    defunct = pipeline.load(released)["platform_summary"].query("status == 'defunct'")["platform_id"]
    assert all(lines_with(output, str(p)) for p in defunct)


def test_the_sql_example_gives_the_latest_monthly_actives(released: Path) -> None:
    with sqlite3.connect(released / "guanxi.sqlite") as db:
        rows = db.execute(examples("sql")[0]).fetchall()
    assert {platform: value for platform, value, _ in rows} == latest_monthly_actives(released)
    assert [value for _, value, _ in rows] == sorted((value for _, value, _ in rows), reverse=True)


def test_the_loader_example_runs_from_a_folder_a_url_and_a_clone(released: Path, served: str) -> None:
    output = run(localised(examples("python")[1], released, served))
    expected = latest_monthly_actives(released, all_users_only=True)["wechat"]
    wechat, count = output.strip().splitlines()[-2:]
    assert wechat.split()[-1] == str(expected)
    working = pipeline.load(ROOT, format="csv")["latest_figures"]
    assert count == f"{len(working)} latest figures"
    assert pd.api.types.is_bool_dtype(pipeline.load(released)["metrics"]["preferred"])
