"""Shared fixtures: a small valid package built from the project's schemas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

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
