"""fmt writes canonical CSV, agrees with validate on what canonical means, and is idempotent."""

from __future__ import annotations

from pathlib import Path

from pipeline.fmt import format_package
from pipeline.validation import validate

MECHANICAL = {
    "byte-order-mark",
    "line-ending",
    "final-newline",
    "blank-row",
    "whitespace",
    "unicode-normalization",
    "row-order",
}


def test_fmt_on_canonical_files_changes_nothing(package: Path) -> None:
    before = {p: p.read_bytes() for p in (package.parent / "data").iterdir()}
    changed, problems = format_package(package)
    assert (changed, problems) == ([], [])
    assert {p: p.read_bytes() for p in (package.parent / "data").iterdir()} == before


def test_the_real_data_is_canonical(real_package: Path) -> None:
    assert format_package(real_package) == ([], [])


def test_fmt_fixes_every_mechanical_problem_validate_reports(package: Path) -> None:
    data = package.parent / "data"
    features = data / "features.csv"
    features.write_bytes(
        b"\xef\xbb\xbfplatform_id,feature,note,source_id\r\n"
        b"beta,messaging, chat ,s-two\r\n\r\nalpha,job-listings,,s-one"
    )
    platforms = data / "platforms.csv"
    platforms.write_text(
        platforms.read_text(encoding="utf-8").replace("alpha,Alpha,", "alpha,Alpha\u3000,"), encoding="utf-8"
    )
    organizations = data / "organizations.csv"
    organizations.write_text(
        organizations.read_text(encoding="utf-8").replace("Alpha Holdings", "Alpha Holdinge\u0301"), encoding="utf-8"
    )
    before = {p.code for p in validate(package).problems}
    assert before >= MECHANICAL
    changed, problems = format_package(package)
    assert problems == [] and set(changed) == {"data/features.csv", "data/platforms.csv", "data/organizations.csv"}
    assert validate(package).problems == []
    assert features.read_bytes() == (
        b"platform_id,feature,note,source_id\nalpha,job-listings,,s-one\nbeta,messaging,chat,s-two\n"
    )
    assert format_package(package) == ([], [])


def test_fmt_quotes_only_what_needs_quotes(package: Path) -> None:
    features = package.parent / "data" / "features.csv"
    features.write_text(
        '"platform_id","feature","note","source_id"\n"alpha","job-listings","a, b","s-one"\n'
        '"beta","messaging","say ""hi""","s-two"\n',
        encoding="utf-8",
    )
    format_package(package)
    assert features.read_text(encoding="utf-8") == (
        'platform_id,feature,note,source_id\nalpha,job-listings,"a, b",s-one\nbeta,messaging,"say ""hi""",s-two\n'
    )


def test_fmt_refuses_a_file_it_cannot_read_and_writes_nothing(package: Path) -> None:
    data = package.parent / "data"
    (data / "features.csv").write_text("platform_id,feature,note,source_id\nalpha,job-listings\n", encoding="utf-8")
    (data / "platforms.csv").write_text((data / "platforms.csv").read_text().replace("alpha,Alpha,", "alpha, Alpha,"))
    before = {p: p.read_bytes() for p in data.iterdir()}
    changed, problems = format_package(package)
    assert changed == [] and [p.code for p in problems] == ["missing-cell"]
    assert {p: p.read_bytes() for p in data.iterdir()} == before
