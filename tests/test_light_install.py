"""The loader needs only pandas and pyarrow: the validator's and release builder's
libraries are the ``pipeline`` extra, which ``make install`` installs from the lock."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("frictionless", "pandera", "typer", "xlsxwriter", "matplotlib")

BLOCKED_LOAD = """
import sys
HEAVY = set(sys.argv[2].split(","))

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ImportError(f"{name} is not installed")
        return None

sys.meta_path.insert(0, Refuse())
import pipeline
for fmt in ("parquet", "csv", "json"):
    frames = pipeline.load(sys.argv[1], format=fmt)
    print(fmt, len(frames["metrics"]), str(frames["metrics"]["as_of_end"].dtype))
print(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY))
try:
    import pandera  # the refusal itself works
except ImportError:
    print("refused")
"""


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_install_requires_only_what_load_needs() -> None:
    names = {dep.split(">")[0].split("=")[0].strip() for dep in project()["dependencies"]}
    assert names == {"numpy", "pandas", "pyarrow"}
    assert all(">=" in dep for dep in project()["dependencies"])  # floors, not pins: no clash
    extra = {dep.split("==")[0] for dep in project()["optional-dependencies"]["pipeline"]}
    assert {"frictionless", "pandera", "typer"} <= extra


def test_every_pin_of_the_extras_is_in_the_lock() -> None:
    lock = set((ROOT / "requirements.lock").read_text(encoding="utf-8").lower().splitlines())
    for extra in ("pipeline", "dev"):
        for dep in project()["optional-dependencies"][extra]:
            assert dep.lower() in lock, dep


def test_load_works_without_the_pipeline_extra(released: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_LOAD, str(released), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["parquet", "csv", "json"]
    assert all(line.endswith("datetime64[s]") for line in lines[:3])
    assert lines[3:] == ["[]", "refused"]


WITHOUT_EXTRA = BLOCKED_LOAD.split("import pipeline\n")[0] + """
import pipeline
try:
    pipeline.load(sys.argv[1], format="csv")
except pipeline.LoadError as error:
    print("LoadError:", error)
sys.argv = ["guanxi", "validate"]
from pipeline.cli import main
main()
"""


def test_without_the_extra_a_clone_and_the_command_line_say_what_to_install() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, str(ROOT), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.startswith("LoadError: a working package (a clone) is validated as it is loaded")
    assert "pip install '.[pipeline]'" in result.stdout
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == "guanxi: the command line needs the [pipeline] extra: pip install '.[pipeline]'\n"
