"""CHANGELOG.md: one ``## X.Y.Z`` section per release, newest first.

The section of a version is the release's notes: ``make bump`` writes it from the diff
against the previous tag, the maintainer may edit it, and the release carries it as written.
"""

from __future__ import annotations

import re

HEADING = re.compile(r"^## (\S+)[ \t]*$", re.MULTILINE)


def entry(text: str, version: str) -> str | None:
    """The section of ``version`` (its heading included), or None when there is none."""
    headings = list(HEADING.finditer(text))
    for number, heading in enumerate(headings):
        if heading.group(1) == version:
            end = headings[number + 1].start() if number + 1 < len(headings) else len(text)
            return text[heading.start() : end].rstrip() + "\n"
    return None


def with_entry(text: str, section: str) -> str:
    """``text`` with ``section`` placed above the newest entry (after any preamble)."""
    first = HEADING.search(text)
    section = section.rstrip() + "\n\n"
    if first is None:
        return (text.rstrip() + "\n\n" if text.strip() else "# Changelog\n\n") + section.rstrip() + "\n"
    return text[: first.start()] + section + text[first.start() :]
