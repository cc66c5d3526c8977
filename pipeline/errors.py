"""The library's one family of expected failures.

Every error that bad input can cause (a broken package, a release that cannot be built,
a release that cannot be loaded or compared, docs that cannot be generated) is a
``PackageError``: catching it catches them all, and the command line turns it into one
line on stderr and exit code 2. Any other exception escaping the library is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import Problem


class PackageError(Exception):
    """The input cannot be used as asked: the message says what was found and what was
    expected; ``problems`` holds the validation problems behind it, when there are any."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)


class LoadError(PackageError):
    """A release (or working package) cannot be loaded as asked."""


class ReleaseError(PackageError):
    """A release cannot be built, or a release folder cannot be read; nothing was written."""


class DiffError(PackageError):
    """One side of a comparison cannot be read as a package."""


class HistoryError(PackageError):
    """A tag or commit cannot be found or read, or the repository is not in the state a
    step of the release cycle needs (a clean tree, an untagged version)."""


class DocsError(PackageError):
    """The docs cannot be generated from this package; nothing was written."""


def not_valid(problems: Iterable[Problem]) -> str:
    """The one-line reason for refusing an invalid package: how many problems, of which codes."""
    codes: dict[str, int] = {}
    for problem in problems:
        codes[problem.code] = codes.get(problem.code, 0) + 1
    total = sum(codes.values())
    summary = ", ".join(f"{n} {code}" for code, n in sorted(codes.items()))
    return f"the package is not valid: {total} problem{'s' if total != 1 else ''} ({summary})"


def not_valid_first(problems: list[Problem]) -> str:
    """``not_valid`` with the first problem in full, where it is, for a refusal that cannot
    print the whole report."""
    first = problems[0]
    named = f" {first.field}" if first.field else ""
    shown = f" [{first.value}]" if first.value is not None else ""
    return (
        f"{not_valid(problems)}; the first, {first.place}{named}: {first.code}: {first.message}{shown} "
        "(`make validate` lists every one)"
    )
