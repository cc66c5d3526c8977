"""What clean text is: how a report shows a value (whole, escaped, cut only past a stated
length), and which text columns may hold unclean cells."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.cells import edge_suspects
from pipeline.text import FORMULA_START, SHOWN_LENGTH, WHITESPACE, shown


def test_a_value_is_shown_whole_with_its_control_characters_escaped() -> None:
    assert shown("First\treport, then\na second line") == "First\\treport, then\\na second line"


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\xa0", "\u2060", "\xad", "\u3000"])
def test_a_character_that_shows_as_nothing_or_a_space_is_shown_as_an_escape(invisible: str) -> None:
    assert shown(f"job-listings{invisible}") == f"job-listings\\u{ord(invisible):04x}".replace("\\u00", "\\x")


def test_a_vocabulary_value_with_a_zero_width_space_is_reported_with_it_visible(package) -> None:
    from pipeline.report import to_text
    from pipeline.validation import validate

    features = package.parent / "data" / "features.csv"
    text = features.read_text(encoding="utf-8")
    features.write_text(text.replace("alpha,job-listings,", "alpha,job-listings\u200b,", 1), encoding="utf-8")
    text = to_text(validate(package))
    assert "[job-listings\\u200b]" in text and "job-listings\u200b" not in text


def test_a_value_is_cut_only_past_the_stated_length_and_says_how_long_it_is() -> None:
    assert shown("x" * SHOWN_LENGTH) == "x" * SHOWN_LENGTH
    assert shown("y" * (SHOWN_LENGTH + 5)) == "y" * SHOWN_LENGTH + f"… ({SHOWN_LENGTH + 5} characters in all)"


# Which text columns are checked cell by cell for white space and formulas: the scan of
# first and last bytes must flag every column a cell check would fail, and spare clean text.
EDGE_CELLS = ["领英中国", "LinkedIn 中国", "赤兔 — 职场社交", "a\u3000b", "2014-02-25", "“引号”", "100%"]


@pytest.mark.parametrize("space", list(WHITESPACE))
@pytest.mark.parametrize("where", ["start", "end"])
def test_a_column_with_white_space_at_an_edge_of_a_cell_is_flagged(space: str, where: str) -> None:
    cell = space + "赤兔" if where == "start" else "赤兔" + space
    column = pa.array(["领英", None, cell, "脉脉"])
    assert "whitespace" in edge_suspects(column)
    assert "whitespace" in edge_suspects(column.slice(1))


def test_clean_text_and_inner_white_space_are_not_flagged() -> None:
    assert edge_suspects(pa.array([*EDGE_CELLS, None, ""])) == frozenset()
    assert edge_suspects(pa.array([None, None], pa.string())) == frozenset()


@pytest.mark.parametrize("start", list(FORMULA_START))
def test_a_column_with_a_cell_starting_as_a_formula_is_flagged(start: str) -> None:
    assert edge_suspects(pa.array([*EDGE_CELLS, start + "SUM(A1)"])) == {"formula"}
    assert edge_suspects(pa.array(["a" + start + "b"])) == frozenset()


def test_a_missing_cell_is_not_judged_by_the_text_it_hides() -> None:
    # a missing value other than "" keeps its text under a null: it is not a cell's text
    column = pa.array([" NA ", "=x", "ok"])
    hidden = pa.Array.from_buffers(pa.string(), 3, [pa.array([False, False, True]).buffers()[1], *column.buffers()[1:]])
    assert edge_suspects(hidden) == frozenset()
