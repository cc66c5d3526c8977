"""Shared fixtures: a small valid package built from the project's schemas."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflow import NESTED

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DATA = Path(__file__).resolve().parent / "fixtures" / "data"
RELEASED_BESIDE = ("CHANGELOG.md", "LICENSE-DATA")  # what a release takes from beside the descriptor


def make_package(target: Path, data: Path = FIXTURE_DATA) -> Path:
    """Copy the real descriptor and schemas beside the given CSV files; return the descriptor."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    shutil.copytree(data, target / "data")
    for name in RELEASED_BESIDE:
        shutil.copy(ROOT / name, target / name)
    return target / "datapackage.json"


def set_version(descriptor: Path, version: str, notes: str = "Changes.") -> None:
    """Give a package its own version, with the CHANGELOG.md entry a release of it needs."""
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["version"] = version
    descriptor.write_text(json.dumps(data, indent=2), encoding="utf-8")
    changelog = descriptor.parent / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8") if changelog.exists() else "# Changelog\n"
    changelog.write_text(text.replace("\n## ", f"\n## {version}\n\n{notes}\n\n## ", 1), encoding="utf-8")


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A valid package of a few rows per resource, free to break."""
    return make_package(tmp_path / "package")


@pytest.fixture
def real_package(tmp_path: Path) -> Path:
    """A copy of the real package, free to break."""
    return make_package(tmp_path / "real", ROOT / "data")


@pytest.fixture(scope="session")
def real_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the real package outside git (a release is built from a commit, and a work
    tree in progress is not one); read it, never change it."""
    return make_package(tmp_path_factory.mktemp("real"), ROOT / "data")


@pytest.fixture(scope="session")
def released(real_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the real package, built once for the whole run; read it, never change it."""
    from pipeline.publish import build

    return build(real_copy, out=tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def fixture_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the fixture package (a few rows whose every answer is known by hand)."""
    from pipeline.publish import build

    descriptor = make_package(tmp_path_factory.mktemp("fixture") / "package")
    return build(descriptor, out=tmp_path_factory.mktemp("fixture-dist"))


# Tests marked `fixtures_only` check the code against packages built from tests/fixtures.
# A workflow's inner `make test` (a contributor's new row, a maintainer's bump) changes the
# working package's data and generated docs, which such a test never reads, so its verdict
# there is the outer run's: the inner run skips it. The outer run holds the marker to that
# promise: a marked test that opens a file of the working package fails.
WORKING_PACKAGE = tuple(str(ROOT / name) for name in ("data", "docs", "dist", "README.md", "CONTRIBUTING.md"))
_watching: list[str] | None = None


def _watch_opens(event: str, args: tuple) -> None:
    if _watching is None or event != "open" or not isinstance(args[0], str | bytes | os.PathLike):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if any(path == place or path.startswith(place + os.sep) for place in WORKING_PACKAGE) and not _removing():
        _watching.append(path)


def _removing() -> bool:
    """Whether shutil.rmtree is the opener: it opens each entry by its bare name inside the
    folder it removes (a temporary one), which only looks like a path of the working package."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "_rmtree_safe_fd":
            return True
        frame = frame.f_back
    return False


sys.addaudithook(_watch_opens)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not NESTED:
        return
    skip = pytest.mark.skip(
        reason="fixtures only: this workflow's edits to data/ and the generated docs cannot change its verdict; "
        "the outer run made it"
    )
    for item in items:
        if item.get_closest_marker("fixtures_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fixtures_only_reads_no_working_file(request: pytest.FixtureRequest) -> Iterator[None]:
    global _watching
    if request.node.get_closest_marker("fixtures_only") is None:
        yield
        return
    _watching = []
    try:
        yield
        opened = sorted(set(_watching))
    finally:
        _watching = None
    assert not opened, f"marked fixtures_only but opened {len(opened)} file(s) of the working package: {opened[:3]}"
