"""The command line: exit codes, output formats, and no traceback on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = pytest.mark.fixtures_only

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def break_platforms(package: Path) -> None:
    file = package.parent / "data" / "platforms.csv"
    file.write_text(file.read_text(encoding="utf-8").replace("alpha,Alpha,", "alpha, Alpha,"), encoding="utf-8")


def test_validate_exits_0_on_a_valid_package(package: Path) -> None:
    result = runner.invoke(app, ["validate", str(package)])
    assert result.exit_code == 0
    assert result.output == "valid: no problems found\n"


def test_a_command_leaves_the_garbage_collector_as_it_found_it(package: Path) -> None:
    import gc

    assert gc.isenabled()
    for args in (["validate", str(package)], ["fmt", str(package), "--check"]):
        runner.invoke(app, args)
        assert gc.isenabled(), args


def test_validate_accepts_the_package_folder(package: Path) -> None:
    assert runner.invoke(app, ["validate", str(package.parent)]).exit_code == 0


def test_text_report_groups_by_file_and_counts(package: Path) -> None:
    break_platforms(package)
    result = runner.invoke(app, ["validate", str(package)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "data/platforms.csv  (1 problem)"
    assert lines[1].split() == [
        "2:2",
        "whitespace",
        "name_en",
        "the",
        "cell",
        "starts",
        "or",
        "ends",
        "with",
        "white",
        "space;",
        "expected",
        "it",
        "trimmed",
        "(run",
        "make",
        "fmt)",
        "[",
        "Alpha]",
    ]
    assert lines[-1] == "invalid: 1 problem (1 whitespace)"


def test_json_report_is_the_documented_format(package: Path) -> None:
    break_platforms(package)
    result = runner.invoke(app, ["validate", str(package), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "valid": False,
        "errors": [
            {
                "code": "whitespace",
                "path": "data/platforms.csv",
                "line": 2,
                "column": 2,
                "field": "name_en",
                "value": " Alpha",
                "message": "the cell starts or ends with white space; expected it trimmed (run make fmt)",
            }
        ],
    }


def test_github_report_is_one_annotation_per_problem_with_its_value_and_a_total(package: Path) -> None:
    break_platforms(package)
    result = runner.invoke(app, ["validate", str(package), "--format", "github"])
    assert result.exit_code == 1
    assert result.output == (
        "::error file=data/platforms.csv,line=2,col=2,title=whitespace in name_en::"
        'the cell starts or ends with white space; expected it trimmed (run make fmt); found " Alpha"\n'
        "::notice title=invalid::1 problem (1 whitespace)\n"
    )


def many_problems(package: Path) -> None:
    """Twelve sources with a URL that is not http(s) (one kind of problem, repeated), then a
    different first problem in each of two other files."""
    sources = package.parent / "data" / "sources.csv"
    lines = sources.read_text(encoding="utf-8").splitlines()
    bad = [f"zz-extra-{i:02},x,,,ftp://nowhere/{i},,2020-01-01,news,original-reporting,en," for i in range(12)]
    sources.write_text("\n".join(lines + bad) + "\n", encoding="utf-8")
    break_platforms(package)
    metrics = package.parent / "data" / "metrics.csv"
    metrics.write_text(metrics.read_text(encoding="utf-8").replace(",250000,", ",250 thousand,"), encoding="utf-8")


def test_github_report_puts_one_of_each_kind_of_problem_in_the_first_ten(package: Path, tmp_path: Path) -> None:
    many_problems(package)
    result = runner.invoke(app, ["validate", str(package), "--format", "github"])
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    codes = [line.split("title=")[1].split("::")[0] for line in errors]
    assert result.exit_code == 1 and len(errors) == 26  # 12 type-error and 12 uncited-source besides
    assert set(codes[:4]) == {
        "whitespace in name_en", "type-error in value", "type-error in url", "uncited-source in source_id"
    }
    assert codes[3] == "uncited-source in source_id"  # a rule follows from the cells: last of the causes
    assert 'found "250 thousand"' in errors[codes.index("type-error in value")]
    assert lines[-1] == (
        "::notice title=invalid::26 problems (13 type-error, 12 uncited-source, 1 whitespace); "
        "the pull request shows the first 10, the job summary lists them all"
    )


def test_the_job_summary_lists_every_problem_grouped_by_file(package: Path, tmp_path: Path) -> None:
    many_problems(package)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(package), "--format", "github", "--summary", str(summary)])
    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### Validation: 26 problems (13 type-error, 12 uncited-source, 1 whitespace)")
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == [
        "#### data/metrics.csv (1 problem)",
        "#### data/platforms.csv (1 problem)",
        "#### data/sources.csv (24 problems)",
    ]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 26
    assert "| 3 | 5 | `type-error` | value | 250 thousand |" in text


def test_a_valid_package_has_a_one_line_summary(package: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert runner.invoke(app, ["validate", str(package), "--summary", str(summary)]).exit_code == 0
    assert summary.read_text(encoding="utf-8") == "### Validation: valid, no problems found\n"


def test_a_folder_without_a_descriptor_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(tmp_path)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"the folder {tmp_path} holds no datapackage.json; give a package's folder or its datapackage.json\n"
    )


def test_a_csv_given_for_the_descriptor_is_a_usage_error_that_says_so(package: Path) -> None:
    csv = package.parent / "data" / "metrics.csv"
    result = runner.invoke(app, ["validate", str(csv)])
    assert result.exit_code == 2
    assert result.output == (
        f"{csv} is a data file, not a descriptor; give the package's datapackage.json (or its folder)\n"
    )


def test_a_missing_descriptor_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "datapackage.json")])
    assert result.exit_code == 2
    assert result.output == (
        f"{tmp_path / 'datapackage.json'} does not exist; give a package's datapackage.json (or its folder)\n"
    )


NO_PACKAGE = "does not exist; give a package's datapackage.json (or its folder)"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["fmt", "{missing}"], "{missing} " + NO_PACKAGE),
        (["fmt", "{missing}", "--check"], "{missing} " + NO_PACKAGE),
        (["release", "{missing}", "--out", "{out}"], "release refused: {missing} " + NO_PACKAGE),
        (["verify", "{missing}"], "verify failed: {missing} does not exist; give a release's folder, its "
         "datapackage.json or its zip (`make release` builds the folder)"),
    ],
)
def test_a_path_that_does_not_exist_is_one_line_and_exit_2_for_every_command(
    tmp_path: Path, args: list[str], said: str
) -> None:
    paths = {"missing": str(tmp_path / "nowhere" / "datapackage.json"), "out": str(tmp_path / "dist")}
    result = runner.invoke(app, [a.format(**paths) for a in args])
    assert result.exit_code == 2
    assert result.output == said.format(**paths) + "\n"
    assert not (tmp_path / "dist").exists()


def test_wrong_usage_exits_2(package: Path) -> None:
    assert runner.invoke(app, ["validate", str(package), "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_python_dash_m_reports_a_broken_package_without_a_traceback(package: Path) -> None:
    (package.parent / "data" / "events.csv").write_bytes(b"\xff\xfe broken")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(package)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1
    assert "encoding-error" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_fmt_command_reports_what_it_formatted(package: Path) -> None:
    break_platforms(package)
    result = runner.invoke(app, ["fmt", str(package)])
    assert result.exit_code == 0 and result.output == "formatted data/platforms.csv\n"
    assert runner.invoke(app, ["fmt", str(package)]).output == "already canonical\n"


def test_fmt_check_exits_1_listing_what_it_would_change_and_0_when_canonical(package: Path) -> None:
    break_platforms(package)
    before = (package.parent / "data" / "platforms.csv").read_bytes()
    result = runner.invoke(app, ["fmt", "--check", str(package)])
    assert result.exit_code == 1
    assert result.output == "would format data/platforms.csv, from line 2\n1 file not in canonical form: run make fmt\n"
    assert (package.parent / "data" / "platforms.csv").read_bytes() == before
    runner.invoke(app, ["fmt", str(package)])
    result = runner.invoke(app, ["fmt", "--check", str(package)])
    assert (result.exit_code, result.output) == (0, "already canonical\n")


def test_fmt_exits_1_when_it_leaves_a_file(package: Path) -> None:
    break_platforms(package)
    (package.parent / "data" / "features.csv").write_text("platform_id,feature,note,source_id\nalpha,job-listings\n")
    for args in (["fmt"], ["fmt", "--check"]):
        result = runner.invoke(app, [*args, str(package)])
        assert result.exit_code == 1
        assert "skipped data/features.csv: left as it was" in result.output
        assert "data/features.csv:2:3: missing-cell" in result.output


def version_of(package: Path) -> str:
    return json.loads(package.read_text(encoding="utf-8"))["version"]


def test_verify_command_exit_codes(package: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["release", str(package), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    release = tmp_path / version_of(package)
    assert runner.invoke(app, ["verify", str(release)]).exit_code == 0
    (release / "features.csv").write_text("tampered\n")
    result = runner.invoke(app, ["verify", str(release)])
    assert result.exit_code == 1 and "features.csv" in result.output


def test_diff_command_prints_the_bump(package: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["release", str(package), "--out", str(tmp_path)])
    result = runner.invoke(app, ["diff", str(tmp_path / version_of(package)), str(package)])
    assert result.exit_code == 0 and "no changes" in result.output


def test_python_dash_m_flushes_its_output_before_it_exits(package: Path) -> None:
    # The console entry leaves without the interpreter's teardown: its output must be whole,
    # a short line as well as a long report, even when Python buffers what it writes.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    short = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(package)], capture_output=True, text=True, env=env
    )
    assert short.returncode == 0 and short.stdout == "valid: no problems found\n"
    sources = package.parent / "data" / "sources.csv"
    lines = sources.read_text(encoding="utf-8").splitlines()
    bad = [f"extra-{i},x,,,ftp://nowhere/{i},,2020-01-01,news,repost,en," for i in range(3000)]
    sources.write_text("\n".join(lines + bad) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(package), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 1 and not report["valid"] and len(report["errors"]) >= 3000


def test_python_dash_m_usage_error_exits_2_with_its_message() -> None:
    result = subprocess.run([sys.executable, "-m", "pipeline", "no-such-command"], capture_output=True, text=True)
    assert result.returncode == 2 and "No such command" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "--bogus"], "python -m pipeline validate: No such option: --bogus"),
        (["verify"], "python -m pipeline verify: Missing argument 'directory'"),
        (["validate", "--format", "xml"], "python -m pipeline validate: Invalid value for '--format'"),
    ],
)
def test_a_usage_error_is_one_plain_line_naming_the_command_and_its_help(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.endswith(f"(see python -m pipeline {args[0]} --help)\n")


def test_help_is_plain_text_with_each_command_on_one_whole_line() -> None:
    bare = subprocess.run([sys.executable, "-m", "pipeline"], capture_output=True, text=True)
    helped = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True)
    assert bare.returncode == helped.returncode == 0 and bare.stdout == helped.stdout
    commands = helped.stdout.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in commands] == [command.callback.__name__ for command in app.registered_commands]
    assert all(not line.endswith("...") for line in commands), commands
    flags = subprocess.run([sys.executable, "-m", "pipeline", "bump", "--help"], capture_output=True, text=True)
    assert "--check  Only say which bump is due" in flags.stdout
    assert not any(mark in flags.stdout + helped.stdout for mark in ("<bool>", "\u256d", "\u2500"))


def test_python_dash_m_with_stdout_closed_exits_without_a_traceback() -> None:
    result = subprocess.run(
        f"'{sys.executable}' -m pipeline --help >&-", shell=True, capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr


def test_every_library_error_is_a_package_error() -> None:
    import pipeline

    for error in (pipeline.LoadError, pipeline.ReleaseError, pipeline.DiffError, pipeline.DocsError):
        assert issubclass(error, pipeline.PackageError)


def test_an_expected_failure_is_one_line_on_stderr_and_exit_2(package: Path, tmp_path: Path) -> None:
    (package.parent / "data" / "platforms.csv").write_text("platform_id\n\x1b[31mred\n", encoding="utf-8")
    for args in (
        ["release", str(package), "--out", str(tmp_path / "dist")],
        ["diff", str(tmp_path / "nowhere"), str(package)],
        ["docs", str(tmp_path / "nowhere")],
    ):
        result = subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_release_refuses_with_the_problems_validate_reports_at_their_cause(package: Path, tmp_path: Path) -> None:
    file = package.parent / "data" / "features.csv"
    file.write_text(file.read_text(encoding="utf-8").replace("alpha,job-listings,", "alpha,job-listings,extra,"))
    validated = runner.invoke(app, ["validate", str(package)])
    released = runner.invoke(app, ["release", str(package), "--out", str(tmp_path / "dist")])
    assert released.exit_code == 2 and validated.exit_code == 1
    assert released.stdout == validated.stdout and "1 problem (1 extra-cell)" in released.stdout
    assert released.stderr == "release refused: the package is not valid: 1 problem (1 extra-cell)\n"


def test_release_of_an_invalid_package_prints_the_report_then_one_line(package: Path, tmp_path: Path) -> None:
    break_platforms(package)
    result = runner.invoke(app, ["release", str(package), "--out", str(tmp_path / "dist")])
    assert result.exit_code == 2
    assert "2:2" in result.stdout and "whitespace" in result.stdout
    assert result.stderr == "release refused: the package is not valid: 1 problem (1 whitespace)\n"
