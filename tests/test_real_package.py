"""The real package: valid by our validator and by Frictionless, every fact sourced."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.loader import load_package_frames
from pipeline.package import load_package
from pipeline.validation import validate

ROOT = Path(__file__).resolve().parent.parent


def test_the_real_package_is_valid() -> None:
    report = validate(ROOT / "datapackage.json")
    assert report.problems == []


def test_frictionless_finds_the_real_package_valid() -> None:
    from frictionless import Package, system

    with system.use_context(trusted=False):
        report = Package(str(ROOT / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "note"])


def test_the_landscape_is_covered() -> None:
    package, _ = load_package(ROOT / "datapackage.json")
    frames = load_package_frames(package)
    platforms, metrics = frames["platforms"], frames["metrics"]
    assert len(platforms) >= 25
    assert len(metrics) >= 60
    assert platforms["status"].notna().all()
    assert (metrics.groupby("platform_id").size() >= 2).sum() >= 15


def test_validation_restores_the_thread_switch_interval() -> None:
    before = sys.getswitchinterval()
    validate(ROOT / "datapackage.json")
    assert sys.getswitchinterval() == before
