"""How a report shows a value: whole, escaped, cut only past a stated length."""

from __future__ import annotations

from pipeline.text import SHOWN_LENGTH, shown


def test_a_value_is_shown_whole_with_its_control_characters_escaped() -> None:
    assert shown("First\treport, then\na second line") == "First\\treport, then\\na second line"


def test_a_value_is_cut_only_past_the_stated_length_and_says_how_long_it_is() -> None:
    assert shown("x" * SHOWN_LENGTH) == "x" * SHOWN_LENGTH
    assert shown("y" * (SHOWN_LENGTH + 5)) == "y" * SHOWN_LENGTH + f"… ({SHOWN_LENGTH + 5} characters in all)"
