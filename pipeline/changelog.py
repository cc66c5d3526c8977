"""CHANGELOG.md: one ``## X.Y.Z`` section per release, newest first.

The section of a version is the release's notes: ``make bump`` writes it from the diff
against the previous tag, with what ``## Unreleased`` explains, the maintainer may edit it,
and the release carries it as written.
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


def without_entry(text: str, version: str) -> str:
    """``text`` without the section of ``version`` (unchanged when there is none)."""
    section = entry(text, version)
    if section is None:
        return text
    start = text.index(section.rstrip())
    rest = text[start + len(section.rstrip()) :].lstrip("\n")
    return text[:start] + rest if rest else text[:start].rstrip("\n") + "\n"


#: The section, above the releases, where a change waiting for the next release is
#: explained (why a row was removed or renamed): ``make bump`` moves it into that release.
UNRELEASED = "Unreleased"
#: The heading those lines are given in the release's entry, after the rows the diff lists.
EXPLAINED = "### Removed or renamed, and why"


def with_entry(text: str, section: str) -> str:
    """``text`` with ``section`` placed above the newest entry (after any preamble), the
    lines of the ``## Unreleased`` section, if any, moved to the end of ``section`` under a
    heading of their own."""
    pending = entry(text, UNRELEASED)
    if pending is not None:
        start = text.index(pending.rstrip())
        text = text[:start] + text[start + len(pending.rstrip()) :].lstrip("\n")
        body = pending.split("\n", 1)[1].strip()
        section = section.rstrip() + (f"\n\n{EXPLAINED}\n\n{body}" if body else "")
    first = HEADING.search(text)
    section = section.rstrip() + "\n\n"
    if first is None:
        return (text.rstrip() + "\n\n" if text.strip() else "# Changelog\n\n") + section.rstrip() + "\n"
    return text[: first.start()] + section + text[first.start() :]
