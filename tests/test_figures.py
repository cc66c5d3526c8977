"""figures.png: the chart of user figures shipped in every release."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import figures

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_release_ships_the_chart(released: Path) -> None:
    content = (released / "figures.png").read_bytes()
    assert content.startswith(PNG) and len(content) > 20_000
    assert b"Software" not in content  # no version of the drawing library inside: same bytes each build


def test_the_chinese_names_use_the_bundled_font() -> None:
    pytest.importorskip("noto_cjk_sans_otc")
    assert figures._cjk_font() == "Noto Sans CJK SC"
    from matplotlib import font_manager

    found = font_manager.findfont(font_manager.FontProperties(family="Noto Sans CJK SC"), fallback_to_default=False)
    assert found.endswith(".ttc")


def test_without_the_font_the_chart_is_drawn_with_english_names(package: Path, monkeypatch) -> None:
    from pipeline.package import load_package
    from pipeline.tables import release_tables
    from pipeline.validation import read_package

    loaded, _ = load_package(package)
    frames, _ = read_package(loaded)
    monkeypatch.setattr(figures, "_cjk_font", lambda: None)
    assert figures.figures_png(release_tables(loaded, frames), {"version": "9.9.9"}).startswith(PNG)
