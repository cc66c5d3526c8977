"""The command line: each command parses its arguments, calls one library function and
prints the result. Exit codes: 0 success, 1 problems found, 2 wrong usage."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="pipeline",
    help="Validate, format, release, verify and compare the guanxi data package.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Descriptor = Annotated[Path, typer.Argument(help="The package's datapackage.json (or its folder).", show_default=True)]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def _print(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def validate(
    descriptor: Descriptor = Path("datapackage.json"),
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="How to print the report.")
    ] = ReportFormat.text,
) -> None:
    """Check the package and report every problem with its file, line and column."""
    from .report import FORMATTERS
    from .validation import validate as run

    report = run(descriptor)
    _print(FORMATTERS[format.value](report))
    raise typer.Exit(0 if report.valid else 1)


@app.command()
def fmt(descriptor: Descriptor = Path("datapackage.json")) -> None:
    """Rewrite the CSV files in canonical form (sorted, trimmed, NFC, LF, minimal quoting)."""
    from .fmt import format_package

    changed, problems = format_package(descriptor)
    if problems:
        from .report import Report, to_text

        _print(to_text(Report(problems)))
        raise typer.Exit(1)
    _print("\n".join(f"formatted {path}" for path in changed) or "already canonical")


@app.command()
def release(
    descriptor: Descriptor = Path("datapackage.json"),
    version: Annotated[str | None, typer.Option(help="Version to build; defaults to the descriptor's.")] = None,
    out: Annotated[Path, typer.Option(help="Folder that receives <version>/.")] = Path("dist"),
) -> None:
    """Validate, then build dist/<version>/ with CSV, JSON, Parquet, checksums and a zip."""
    from .publish import ReleaseError, build

    try:
        result = build(descriptor, version=version, out=out)
    except ReleaseError as error:
        sys.stderr.write(f"release refused: {error}\n")
        raise typer.Exit(1) from None
    _print(f"built {result}")


@app.command()
def verify(directory: Annotated[Path, typer.Argument(help="A release folder, dist/X.Y.Z.")]) -> None:
    """Check every file of a release against its descriptor and SHA256SUMS."""
    from .publish import verify as run

    problems = run(directory)
    _print("\n".join(problems) or f"verified {directory}")
    raise typer.Exit(1 if problems else 0)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The older release folder (or descriptor).")],
    new: Annotated[Path, typer.Argument(help="The newer release folder, or a working package.")],
    format: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.text,
) -> None:
    """Rows added, removed and changed, schema changes, and the semver bump they call for."""
    from .compare import DiffError, render
    from .compare import diff as run

    try:
        result = run(old, new)
    except DiffError as error:
        sys.stderr.write(f"diff failed: {error}\n")
        raise typer.Exit(1) from None
    _print(render(result, format.value))


@app.command()
def docs(descriptor: Descriptor = Path("datapackage.json")) -> None:
    """Regenerate the data dictionary and the timeline picture from schemas and data."""
    from .docs import DocsError, build_docs

    try:
        written = build_docs(descriptor)
    except DocsError as error:
        sys.stderr.write(f"docs not built: {error}\n")
        raise typer.Exit(1) from None
    _print("\n".join(f"wrote {path}" for path in written))


def main() -> None:
    """Entry point that keeps usage errors at exit code 2 and never shows a traceback."""
    try:
        app()
    except SystemExit as done:
        _leave(done.code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: say what it was without a traceback
        sys.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
        sys.exit(1)


def _leave(code: object) -> None:
    """Exit at once, skipping the interpreter's teardown: freeing a large package's objects
    one by one takes longer than the exit itself. Output is flushed first."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # the descriptor was closed before Python started
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)
