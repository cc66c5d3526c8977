"""The error model: one record per problem, and the three ways of printing a report.

The record is a contract with CI tools and users, so its keys and codes are stable.
Codes reuse the Frictionless error catalog where one fits; the others are ours and are
listed in ``CODES`` (and in the README) with what they mean.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

from .text import shown

CODES: dict[str, str] = {
    # Frictionless error catalog
    "package-error": "The descriptor is missing, is not valid JSON or is not a valid Data Package.",
    "resource-error": "A resource is malformed, or its path is absolute or leads outside the package.",
    "schema-error": "A Table Schema is missing, malformed or refers to something that does not exist.",
    "source-error": "A data file cannot be read.",
    "scheme-error": "A resource path is a URL: validation reads only files inside the package.",
    "format-error": "A resource is not a CSV file, the only format this package uses.",
    "encoding-error": "A data file is not valid UTF-8.",
    "blank-label": "A header cell is empty.",
    "duplicate-label": "Two header cells have the same name.",
    "incorrect-label": "A header cell differs from the schema's field name at that position.",
    "missing-label": "The header has fewer columns than the schema has fields.",
    "extra-label": "The header has more columns than the schema has fields.",
    "blank-row": "A row is empty.",
    "extra-cell": "A row has more cells than the header.",
    "missing-cell": "A row has fewer cells than the header.",
    "type-error": "A cell cannot be read as its field's type.",
    "constraint-error": "A cell breaks a constraint of its field (required, enum, pattern, length, bounds, format).",
    "unique-error": "A value repeats in a field that must be unique.",
    "primary-key": "A primary key is missing or repeats.",
    "foreign-key": "A value refers to a row that does not exist.",
    "hash-count": "A data file's digest differs from the resource's declared 'hash'.",
    "byte-count": "A data file's size differs from the resource's declared 'bytes'.",
    # Our own codes
    "byte-order-mark": "A data file starts with a byte-order mark; files must be UTF-8 without one.",
    "line-ending": "A data file uses CR or CRLF line endings; files must use LF.",
    "final-newline": "A data file does not end with a line break.",
    "quote-error": "A double quote is misplaced or a quoted cell is never closed.",
    "whitespace": "A cell starts or ends with white space.",
    "control-character": "A cell holds a control character (tab, carriage return, NUL, ...).",
    "unicode-normalization": "A cell's text is not in Unicode normalisation form NFC.",
    "formula-injection": "A text cell starts with =, +, - or @, which a spreadsheet would run as a formula.",
    "row-order": "Rows are not sorted by the primary key.",
    "closed-before-launched": "A platform's closure is dated before its launch.",
    "closure-undated": "A defunct or replaced platform neither gives a closure date nor says it is unknown.",
    "closure-on-active": "An active platform has a closure date or is marked closure unknown.",
    "status-mismatch": "A platform is active, or of unknown status, though an event shuts it down or replaces it.",
    "date-mismatch": "A platform's launch or closure is not backed by an event with the same date.",
    "event-before-launch": "An event or figure is dated before its platform launched or its organisation was founded.",
    "event-subject": "An event names neither a platform nor an organisation.",
    "listing-detail": "A listing or delisting lacks its exchange, or another kind of event has an exchange or ticker.",
    "event-after-closure": "A platform is seen in service, blocked or given a new release after the date it closed.",
    "status-unsourced": "A platform's known status lacks its source or the date it holds for.",
    "name-source-unused": "A platform cites a source for its Chinese name but has neither a Chinese name nor a pinyin.",
    "preferred-claims": (
        "Sources disagree on an event or figure but not exactly one claim is marked preferred, "
        "or, for a kind of event that recurs, the claims marked preferred and not preferred do not pair up."
    ),
    "future-date": "A date lies after the day the source was read or after the status was checked.",
    "self-reference": "A row names itself as its own parent or counterparty.",
    "uncited-source": "A source is cited by no fact in the package.",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem at one place: the unit of every report."""

    code: str
    path: str
    line: int | None
    column: int | None
    field: str | None
    value: str | None
    message: str

    def sort_key(self) -> tuple:
        return (self.path, self.line or 0, self.column or 0, self.code, self.message)

    @property
    def place(self) -> str:
        """Where it is, as an editor takes it: the path, then the line and column when known."""
        return ":".join(str(n) for n in (self.path, self.line, self.column) if n)


@dataclass(frozen=True)
class Report:
    """The outcome of validating a package: valid when there is no problem."""

    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return not self.problems

    def sorted(self) -> Report:
        return Report(sorted(self.problems, key=Problem.sort_key))


def to_json(report: Report) -> str:
    """The stable machine format: ``{"valid": bool, "errors": [record, ...]}``."""
    body = {"valid": report.valid, "errors": [asdict(p) for p in report.sorted().problems]}
    return json.dumps(body, ensure_ascii=False, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


#: The order in which problems are causes rather than consequences: the descriptor and the
#: schemas, then a file's bytes and shape, its header, its cells, its keys, and last the
#: package rules (which read several files and so follow from problems in any of them).
_STAGES = [
    {"package-error", "resource-error", "schema-error", "scheme-error", "format-error", "source-error"},
    {"encoding-error", "byte-order-mark", "line-ending", "final-newline", "quote-error"},
    {"blank-label", "duplicate-label", "incorrect-label", "missing-label", "extra-label"},
    {"blank-row", "extra-cell", "missing-cell"},
    {"type-error", "constraint-error", "whitespace", "control-character", "unicode-normalization",
     "formula-injection"},
    {"primary-key", "unique-error", "foreign-key", "row-order"},
]
#: GitHub shows at most this many error annotations of one step on a pull request.
GITHUB_SHOWN = 10


def _stage(problem: Problem) -> int:
    return next((i for i, codes in enumerate(_STAGES) if problem.code in codes), len(_STAGES))


def causes_first(report: Report) -> list[Problem]:
    """Every problem, the likeliest causes first: the first of each kind (file, code, field)
    in the order of ``_STAGES``, then all the others in file order."""
    problems = report.sorted().problems
    firsts: dict[tuple, int] = {}
    for index, p in enumerate(problems):
        firsts.setdefault((p.path, p.code, p.field), index)
    lead = sorted(firsts.values(), key=lambda i: (_stage(problems[i]), i))
    chosen = set(lead)
    return [problems[i] for i in lead] + [p for i, p in enumerate(problems) if i not in chosen]


def _with_value(p: Problem) -> str:
    return p.message if p.value is None else f'{p.message}; found "{shown(p.value)}"'


def _summary_line(report: Report) -> str:
    counts = Counter(p.code for p in report.problems)
    total = len(report.problems)
    summary = ", ".join(f"{n} {code}" for code, n in sorted(counts.items()))
    return f"{total} problem{'s' if total != 1 else ''} ({summary})"


def to_github(report: Report) -> str:
    """One workflow command per problem, so a pull request shows it on the offending line,
    with the value found. GitHub shows only the first ten errors of a step, so those are the
    likeliest causes (``causes_first``); a final notice gives the count of all of them."""
    if report.valid:
        return "::notice title=valid::no problems found"
    lines = []
    for p in causes_first(report):
        props = [f"file={_escape_property(p.path)}"]
        if p.line:
            props.append(f"line={p.line}")
        if p.column:
            props.append(f"col={p.column}")
        title = p.code + (f" in {p.field}" if p.field else "")
        props.append(f"title={_escape_property(title)}")
        lines.append(f"::error {','.join(props)}::{_escape_data(_with_value(p))}")
    total = len(report.problems)
    more = (
        f"; the pull request shows the first {GITHUB_SHOWN}, the job summary lists them all"
        if total > GITHUB_SHOWN
        else ""
    )
    lines.append(f"::notice title=invalid::{_escape_data(_summary_line(report) + more)}")
    return "\n".join(lines)


#: The job summary holds at most this many bytes of problems (GitHub takes 1 MiB a step).
SUMMARY_BYTES = 900_000


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("<", "&lt;")


def to_summary(report: Report) -> str:
    """Every problem as Markdown tables grouped by file, for a CI job's summary page."""
    if report.valid:
        return "### Validation: valid, no problems found\n"
    out = [f"### Validation: {_summary_line(report)}", ""]
    size = 0
    problems = report.sorted().problems
    by_path: dict[str, list[Problem]] = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p)
    written = 0
    for path, found in by_path.items():
        out += [f"#### {_md(path)} ({len(found)} problem{'s' if len(found) != 1 else ''})", ""]
        out += ["| line | column | code | field | value | message |", "|---:|---:|---|---|---|---|"]
        for p in found:
            value = "" if p.value is None else _md(shown(p.value))
            row = (
                f"| {p.line or ''} | {p.column or ''} | `{p.code}` | {_md(p.field or '')} | {value} | "
                f"{_md(p.message)} |"
            )
            size += len(row.encode("utf-8")) + 1
            if size > SUMMARY_BYTES:
                out += ["", f"{len(problems) - written} more problems are not listed here; run `make validate`."]
                return "\n".join(out) + "\n"
            out.append(row)
            written += 1
        out.append("")
    return "\n".join(out)


def to_text(report: Report) -> str:
    """A readable table grouped by file, ending with a count of problems by code."""
    if report.valid:
        return "valid: no problems found"
    out: list[str] = []
    by_path: dict[str, list[Problem]] = {}
    for p in report.sorted().problems:
        by_path.setdefault(p.path, []).append(p)
    for path, problems in by_path.items():
        out.append(f"{path}  ({len(problems)} problem{'s' if len(problems) != 1 else ''})")
        for p in problems:
            where = f"{p.line or '-'}:{p.column or '-'}"
            field = p.field or ""
            value = f" [{shown(p.value)}]" if p.value is not None else ""
            out.append(f"  {where:>9}  {p.code:<22} {field:<22} {p.message}{value}")
        out.append("")
    counts = Counter(p.code for p in report.problems)
    summary = ", ".join(f"{n} {code}" for code, n in sorted(counts.items()))
    total = len(report.problems)
    out.append(f"invalid: {total} problem{'s' if total != 1 else ''} ({summary})")
    return "\n".join(out)


FORMATTERS = {"text": to_text, "json": to_json, "github": to_github}
