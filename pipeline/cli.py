"""The command line: each command parses its arguments, calls one library function and
prints the result. Exit codes: 0 success, 1 problems found, 2 wrong usage or input that
cannot be used (a ``PackageError``: one line on stderr)."""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

# One command is one short computation that never multiplies matrices: numpy's BLAS need
# not start a thread of its own, which would spin beside the readers for nothing. Set
# before numpy is first imported; a value the user gives is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    import typer
except ImportError:  # the loader-only install (no [pipeline] extra) has no command line
    sys.stderr.write("guanxi: the command line needs the [pipeline] extra: pip install '.[pipeline]'\n")
    raise SystemExit(2) from None

from .errors import PackageError
from .text import escape_controls

app = typer.Typer(
    name="pipeline",
    help="Validate, format, release, verify and compare the guanxi data package.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


Command = TypeVar("Command", bound=Callable[..., None])


def _print(text: str) -> None:
    if not text:
        return
    if sys.stdout is None:  # started with its standard output closed
        _fail("cannot print the result: standard output is closed")
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        _fail(f"cannot print the result: {exc.strerror or exc}")


def _fail(message: str) -> None:
    """One line on stderr, control characters escaped, and exit code 2."""
    if sys.stderr is not None:
        sys.stderr.write(escape_controls(message) + "\n")
    raise typer.Exit(2)


def _require(descriptor: Path, prefix: str = "") -> None:
    """One line and exit 2 when the path given names no package to work on."""
    from .package import usage_error

    if (why := usage_error(descriptor)) is not None:
        _fail(prefix + why)


def expected_failures(prefix: str, collect: bool = True) -> Callable[[Command], Command]:
    """A command whose ``PackageError`` becomes one line on stderr (``prefix: message``) and
    exit code 2; the problems it carries, if any, are printed first as a report. With
    ``collect`` false the cyclic garbage collector stays off for the command too: a
    validation makes few cycles, and loading pyarrow, pandas and pandera would have it walk
    their objects again and again."""

    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args: object, **kwargs: object) -> None:
            collecting = gc.isenabled()
            gc.enable() if collect else gc.disable()
            try:
                command(*args, **kwargs)
            except PackageError as error:
                if error.problems:
                    from .report import Report, to_text

                    _print(to_text(Report(list(error.problems))))
                _fail(f"{prefix}: {error}")
            finally:
                gc.enable() if collecting else gc.disable()

        return run  # type: ignore[return-value]

    return wrap


@app.command(short_help="Check the package and report every problem where it is.")
@expected_failures("validate failed", collect=False)
def validate(
    descriptor: Descriptor = Path("datapackage.json"),
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="How to print the report.")
    ] = ReportFormat.text,
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Also append every problem, as Markdown tables grouped by file, to this file "
            "(in a GitHub workflow: $GITHUB_STEP_SUMMARY)."
        ),
    ] = None,
) -> None:
    """Check the package and report every problem with its file, line and column."""
    from .report import FORMATTERS, to_summary
    from .validation import validate as run

    _require(descriptor)
    report = run(descriptor)
    _print(FORMATTERS[format.value](report))
    if summary is not None:
        try:
            with summary.open("a", encoding="utf-8") as stream:
                stream.write(to_summary(report))
        except OSError as exc:
            _fail(f"cannot write the summary to {summary}: {exc.strerror or exc}")
    raise typer.Exit(0 if report.valid else 1)


@app.command(short_help="Rewrite the CSV files in canonical form.")
@expected_failures("fmt failed")
def fmt(
    descriptor: Descriptor = Path("datapackage.json"),
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; list the files fmt would change and exit 1 if any.")
    ] = False,
) -> None:
    """Rewrite the CSV files in canonical form (sorted, trimmed, NFC, LF, minimal quoting,
    canonical numbers and booleans). A file that cannot be read with confidence is left as it
    is, with the reason; the others are formatted all the same."""
    from .fmt import describe, format_package

    _require(descriptor)
    changed, problems = format_package(descriptor, check=check)
    _print(describe(changed, problems, check))
    raise typer.Exit(1 if problems or (check and changed) else 0)


@app.command(short_help="Validate, then build the release in dist/<version>/.")
@expected_failures("release refused")
def release(
    descriptor: Descriptor = Path("datapackage.json"),
    version: Annotated[str | None, typer.Option(help="Version to build; defaults to the descriptor's.")] = None,
    out: Annotated[Path, typer.Option(help="Folder that receives <version>/.")] = Path("dist"),
) -> None:
    """Validate, then build dist/<version>/ with CSV, JSON, Parquet, checksums and a zip."""
    from .publish import build, built_message

    _require(descriptor, "release refused: ")
    _print(built_message(descriptor, build(descriptor, version=version, out=out)))


@app.command(short_help="Prepare the next release: its version and changelog entry.")
@expected_failures("bump refused")
def bump(
    descriptor: Descriptor = Path("datapackage.json"),
    check: Annotated[bool, typer.Option("--check", help="Only say which bump is due; write nothing.")] = False,
) -> None:
    """Prepare the next release: the version due since the latest vX.Y.Z tag, written into
    datapackage.json, pyproject.toml and CITATION.cff, its entry drafted in CHANGELOG.md."""
    from .bump import NothingToRelease, describe, plan
    from .bump import bump as run

    _require(descriptor, "bump refused: ")
    if not check:
        _print(describe(run(descriptor)))
        return
    try:
        _print(describe(plan(descriptor)))
    except NothingToRelease as answer:  # an answer to the question, not a refusal
        _print(str(answer))


@app.command(short_help="Print a version's changelog entry: its release notes.")
@expected_failures("no notes")
def notes(
    version: Annotated[
        str | None, typer.Argument(help="The version. [default: the descriptor's]", show_default=False)
    ] = None,
    descriptor: Annotated[Path, typer.Option(help="The package's datapackage.json.")] = Path("datapackage.json"),
) -> None:
    """Print the CHANGELOG.md entry of a version: the notes of its release."""
    from .publish import notes_of

    _print(notes_of(descriptor, version))


@app.command(short_help="Check a release's files against its descriptor and checksums.")
@expected_failures("verify failed")
def verify(
    directory: Annotated[
        Path, typer.Argument(help="A release: its folder (dist/X.Y.Z), its zip, or the folder its files were saved to.")
    ],
) -> None:
    """Check every file of a release against its descriptor and SHA256SUMS (and the zip beside them)."""
    from .publish import verify as run

    problems = run(directory)
    _print("\n".join(problems) or f"verified {directory}")
    raise typer.Exit(1 if problems else 0)


@app.command(short_help="What changed between two versions, and the bump it calls for.")
@expected_failures("diff failed")
def diff(
    old: Annotated[
        str | None,
        typer.Argument(
            help="The older side: a release folder or zip, a descriptor, or a git tag or commit. "
            "[default: the latest vX.Y.Z tag]",
            show_default=False,
        ),
    ] = None,
    new: Annotated[str, typer.Argument(help="The newer side, the same kinds; the working package by default.")] = ".",
    format: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.text,
) -> None:
    """Rows added, removed and changed, schema changes, and the semver bump they call for."""
    from .compare import diff as run
    from .compare import render, since_last_release

    _print(render(run(old or since_last_release(), new), format.value))


@app.command(short_help="Regenerate the data dictionary and the codes table.")
@expected_failures("docs not built")
def docs(
    descriptor: Descriptor = Path("datapackage.json"),
    release: Annotated[
        bool,
        typer.Option(
            "--release", help="Also redraw what describes the data: the README's counts and the timeline picture."
        ),
    ] = False,
) -> None:
    """Regenerate the data dictionary and the codes table from the schemas (and, with
    --release, the README's counts and the timeline from the data, as a release does)."""
    from .docs import build_docs

    written = build_docs(descriptor, release=release)
    _print("\n".join(f"wrote {path}" for path in written) or "docs already fresh")


def main() -> None:
    """Entry point that keeps usage errors at exit code 2 and never shows a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            # a terminal or a pipe that cannot encode a character gets an escape, not a crash
            stream.reconfigure(errors="backslashreplace")
    # While the command line parses its arguments, the cyclic garbage collector would walk
    # the objects of every library loaded for the few cycles they leave; each command says
    # whether it runs with it (see expected_failures).
    gc.disable()
    if threading.current_thread() is threading.main_thread():
        # a termination request unwinds like an interrupt, so that no temporary file or
        # staging folder outlives it
        signal.signal(signal.SIGTERM, _terminated)
    try:
        # the bare command shows its help; a usage error is one line, like every other failure
        code = typer.main.get_command(app).main(sys.argv[1:] or ["--help"], standalone_mode=False)
    except typer.TyperException as error:  # click's usage and parameter errors
        where = getattr(error, "ctx", None)
        where = where.command_path if where is not None else "guanxi"
        message = error.format_message().rstrip(".")
        sys.stderr.write(escape_controls(f"{where}: {message} (see {where} --help)") + "\n")
        _leave(2)
    except SystemExit as done:
        _leave(done.code)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("interrupted\n")
        _leave(130)
    except Exception as exc:  # a bug, not bad input: say what it was without a traceback
        if sys.stderr is not None:
            message = f"internal error: {type(exc).__name__}: {exc} (a bug in the pipeline; please report it)"
            sys.stderr.write(escape_controls(message) + "\n")
        _leave(3)
    else:
        _leave(code if isinstance(code, int) else 0)


def _terminated(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


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
