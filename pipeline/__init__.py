"""guanxi's pipeline: validate the data package, publish releases and load them.

The heavy libraries (pandas, pyarrow, pandera) load only when a function needs them, so
the command line starts quickly.

Every failure that bad input can cause raises ``PackageError`` (or one of its subclasses
``LoadError``, ``ReleaseError``, ``DiffError``, ``DocsError``) with a message saying what was
found and what was expected; any other exception is a bug.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DiffError, DocsError, LoadError, PackageError, ReleaseError

if TYPE_CHECKING:
    from .report import Report

__all__ = [
    "DiffError",
    "DocsError",
    "LoadError",
    "PackageError",
    "ReleaseError",
    "diff",
    "load",
    "release",
    "validate",
    "verify",
]


def validate(descriptor: str = "datapackage.json") -> Report:
    """Check a package and return its report (see ``pipeline.report``)."""
    from .validation import validate as run

    return run(descriptor)


def load(source: str, format: str = "parquet", timeout: float = 600.0) -> dict[str, Any]:
    """Load a release (directory, descriptor or URL of either) as typed pandas DataFrames.

    From a URL, only the release's own files are fetched (same scheme, host and port), each
    checked against its sha256 as it streams in, within ``timeout`` seconds in all."""
    from .loader import load as run

    return run(source, format=format, timeout=timeout)


def release(descriptor: str = "datapackage.json", version: str | None = None, out: str = "dist") -> Any:
    """Validate, then build a release of the package into ``out/<version>``."""
    from .publish import build

    return build(descriptor, version=version, out=out)


def verify(directory: str) -> list[str]:
    """Check every file of a release against its descriptor and SHA256SUMS."""
    from .publish import verify as run

    return run(directory)


def diff(old: str, new: str) -> Any:
    """Compare two releases, or a release and a working package."""
    from .compare import diff as run

    return run(old, new)
