"""Shared fixtures: a small valid package built from the project's schemas."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DATA = Path(__file__).resolve().parent / "fixtures" / "data"


def make_package(target: Path, data: Path = FIXTURE_DATA) -> Path:
    """Copy the real descriptor and schemas beside the given CSV files; return the descriptor."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    shutil.copytree(data, target / "data")
    return target / "datapackage.json"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A valid package of a few rows per resource, free to break."""
    return make_package(tmp_path / "package")


@pytest.fixture
def real_package(tmp_path: Path) -> Path:
    """A copy of the real package, free to break."""
    return make_package(tmp_path / "real", ROOT / "data")


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the real package, built once for the whole run; read it, never change it."""
    from pipeline.publish import build

    return build(ROOT / "datapackage.json", out=tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def fixture_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the fixture package (a few rows whose every answer is known by hand)."""
    from pipeline.publish import build

    descriptor = make_package(tmp_path_factory.mktemp("fixture") / "package")
    return build(descriptor, out=tmp_path_factory.mktemp("fixture-dist"))
