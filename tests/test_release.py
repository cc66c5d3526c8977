"""Releases: reproducible, verifiable, atomic and immutable; loadable from every format."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline.publish import SUMS, ReleaseError, build, verify

ROOT = Path(__file__).resolve().parent.parent

VERSION = json.loads((Path(__file__).resolve().parent.parent / "datapackage.json").read_text())["version"]


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_release_holds_every_format_the_descriptor_checksums_and_the_zip(released: Path) -> None:
    names = set(files_of(released))
    for resource in ("platforms", "metrics", "sources"):
        assert {f"{resource}.csv", f"{resource}.json", f"{resource}.parquet"} <= names
    assert {"datapackage.json", "SHA256SUMS", f"guanxi-{VERSION}.zip", "DATA-DICTIONARY.md", "CHANGELOG.md"} <= names
    assert {"README.md", "CITATION.cff", "LICENSE-DATA"} <= names
    assert all("/" not in name for name in names)  # one flat folder


def test_two_builds_are_byte_identical(released: Path, real_copy: Path, tmp_path: Path) -> None:
    again = build(real_copy, out=tmp_path)
    assert files_of(again) == files_of(released)


def test_verify_passes_on_a_fresh_build(released: Path) -> None:
    assert verify(released) == []


@pytest.mark.parametrize(
    "victim",
    [
        *("platforms.csv", "metrics.json", "events.parquet", "guanxi.sqlite", "guanxi.xlsx"),
        *("DATA-DICTIONARY.md", "README.md", "CITATION.cff", SUMS),
    ],
)
def test_verify_names_the_file_when_one_byte_changes(released: Path, tmp_path: Path, victim: str) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(released), str(copy)], check=True)
    file = copy / victim
    content = bytearray(file.read_bytes())
    content[len(content) // 2] ^= 0x01
    file.write_bytes(bytes(content))
    problems = verify(copy)
    assert problems and any(victim in p for p in problems), problems


def test_sha256sum_accepts_the_checksums(released: Path) -> None:
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=released, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_release_descriptor_passes_frictionless(released: Path) -> None:
    from frictionless import validate

    report = validate(str(released / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])


def test_a_second_build_of_the_same_version_is_refused_and_changes_nothing(released: Path, real_copy: Path) -> None:
    before = files_of(released)
    with pytest.raises(ReleaseError, match="already exists"):
        build(real_copy, out=released.parent)
    assert files_of(released) == before


def test_invalid_data_produces_no_release_directory(package: Path, tmp_path: Path) -> None:
    platforms = package.parent / "data" / "platforms.csv"
    platforms.write_text(platforms.read_text().replace("professional-network", "social"))
    out = tmp_path / "dist"
    with pytest.raises(ReleaseError, match="not valid"):
        build(package, out=out)
    assert not out.exists() or not any(out.iterdir())


def test_an_untracked_file_blocks_a_release_only_when_it_is_part_of_the_package(package: Path, tmp_path: Path) -> None:
    from workflow import git

    root = package.parent
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "rm", "-q", "--cached", "LICENSE-DATA")  # a file the release copies, never committed
    git(root, "commit", "-q", "-m", "The package")
    (root / "notes-to-self.txt").write_text("Ask about the 2014 figure.\n", encoding="utf-8")
    (root / "data" / "scratch.csv").write_text("platform_id\nzeta\n", encoding="utf-8")  # in no resource
    with pytest.raises(ReleaseError) as refused:
        build(package, out=tmp_path / "refused")
    assert str(refused.value) == (
        "LICENSE-DATA, part of the package, is not committed: a release is built from a commit; "
        "commit it, or remove it"
    )
    assert not (tmp_path / "refused").exists()
    git(root, "add", "LICENSE-DATA")
    git(root, "commit", "-q", "-m", "The data licence")  # as the message says
    built = build(package, out=tmp_path / "dist")
    assert "notes-to-self.txt" not in {p.name for p in built.iterdir()}


def test_the_cli_refuses_a_second_build_with_exit_2(released: Path, real_copy: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "release", str(real_copy), "--out", str(released.parent)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("release refused: ") and result.stderr.count("\n") == 1
    assert "already exists" in result.stderr and "Traceback" not in result.stderr


def test_the_three_formats_load_to_equal_typed_frames(released: Path) -> None:
    frames = {fmt: pipeline.load(released, format=fmt) for fmt in ("parquet", "csv", "json")}
    assert set(frames["csv"]) == {
        "sources",
        "organizations",
        "platforms",
        "events",
        "metrics",
        "features",
        "comparisons",
        "latest_figures",
        "platform_summary",
    }
    for name, frame in frames["csv"].items():
        pd.testing.assert_frame_equal(frame, frames["parquet"][name], check_exact=True)
        pd.testing.assert_frame_equal(frame, frames["json"][name], check_exact=True)


def test_loaded_columns_have_the_schema_types(released: Path) -> None:
    frames = pipeline.load(released / "datapackage.json", format="parquet")
    assert str(frames["sources"]["accessed"].dtype) == "datetime64[s]"
    assert str(frames["metrics"]["value"].dtype) == "Int64"
    assert str(frames["platforms"]["closed_unknown"].dtype) == "boolean"
    assert isinstance(frames["platforms"]["category"].dtype, pd.CategoricalDtype)
    assert str(frames["platforms"]["name_zh"].dtype) == "string"


@pytest.fixture
def served(released: Path) -> Iterator[str]:
    """The release folder served over HTTP on the loopback address by this test alone."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(released.parent))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{released.name}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_load_by_url_gives_the_same_frames(served: str, released: Path, fmt: str) -> None:
    local = pipeline.load(released, format=fmt)
    for source in (served, served + "/datapackage.json"):
        remote = pipeline.load(source, format=fmt)
        for name in local:
            pd.testing.assert_frame_equal(local[name], remote[name])


def test_the_zip_loads_by_its_url_as_it_does_from_disk(served: str, released: Path) -> None:
    archive = f"guanxi-{VERSION}.zip"
    local = pipeline.load(released / archive, format="parquet")
    remote = pipeline.load(f"{served}/{archive}", format="parquet")
    assert set(remote) == set(local)
    for name in local:
        pd.testing.assert_frame_equal(local[name], remote[name])


def test_a_zip_url_that_is_not_there_is_refused_with_the_servers_answer(served: str) -> None:
    from pipeline.loader import LoadError

    with pytest.raises(LoadError, match=r"cannot fetch .*/platforms\.csv\.zip: HTTP Error 404"):
        pipeline.load(f"{served}/platforms.csv.zip")


def test_load_refuses_a_file_whose_checksum_does_not_match(released: Path, tmp_path: Path) -> None:
    from pipeline.loader import LoadError

    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(released), str(copy)], check=True)
    (copy / "platforms.csv").write_text("platform_id\n", encoding="utf-8")
    with pytest.raises(LoadError, match="sha256"):
        pipeline.load(copy, format="csv")


def test_parquet_keeps_descriptions_and_the_primary_key(released: Path) -> None:
    import pyarrow.parquet as pq

    schema = pq.read_schema(released / "platforms.parquet")
    assert json.loads(schema.metadata[b"primary_key"]) == ["platform_id"]
    assert schema.field("launched").metadata[b"description"].startswith(b"When the platform launched")
    assert str(schema.field("category").type).startswith("dictionary")


def test_each_parquet_file_names_its_own_table(released: Path) -> None:
    import pyarrow.parquet as pq

    files = sorted(released.glob("*.parquet"))
    assert len(files) >= 9
    for file in files:
        assert pq.read_schema(file).metadata[b"name"].decode() == file.stem


def test_an_interrupted_build_leaves_no_partial_version(package: Path, tmp_path: Path, monkeypatch) -> None:
    import pipeline.publish as publish

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(publish.os, "rename", interrupted)
    out = tmp_path / "dist"
    with pytest.raises(KeyboardInterrupt):
        build(package, out=out)
    assert list(out.iterdir()) == []


def test_the_working_package_loads_like_its_release(released: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    working = pipeline.load(root, format="csv")
    release = pipeline.load(released, format="csv")
    for name, frame in release.items():
        pd.testing.assert_frame_equal(working[name], frame)


def test_a_clone_whose_data_is_not_valid_is_refused_with_its_first_problem(real_package: Path) -> None:
    metrics = real_package.parent / "data" / "metrics.csv"
    rows = metrics.read_text(encoding="utf-8").count("\n")
    with metrics.open("a", encoding="utf-8") as stream:
        stream.write("zzz-mau-2016,maimai,monthly-actives,,12000000,approximately,china,2016-05,,about,nosuch\n")
    with pytest.raises(pipeline.LoadError) as refused:
        pipeline.load(real_package, format="csv")
    said = str(refused.value)
    assert said.startswith("the package is not valid: 2 problems (1 constraint-error, 1 foreign-key)")
    assert f"the first, data/metrics.csv:{rows + 1}:3 measure: constraint-error" in said
    assert {p.code for p in refused.value.problems} == {"constraint-error", "foreign-key"}


@pytest.mark.parametrize("fmt", ["parquet", "json"])
def test_loading_a_working_package_in_a_release_format_says_to_load_it_as_csv(real_copy: Path, fmt: str) -> None:
    with pytest.raises(pipeline.LoadError, match=f'only a release has {fmt}: load it with format="csv"'):
        pipeline.load(real_copy, format=fmt)


@pytest.mark.parametrize("victim", ["guanxi.sqlite", "guanxi.xlsx", "metrics.csv"])
def test_verify_names_a_truncated_file(released: Path, tmp_path: Path, victim: str) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(released), str(copy)], check=True)
    file = copy / victim
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    problems = verify(copy)
    assert any(victim in p and "bytes" in p for p in problems), problems
    assert any(victim in p and "sha256" in p for p in problems), problems


def test_the_bundled_files_are_in_the_sums_and_the_descriptor(released: Path) -> None:
    from pipeline.publish import BUNDLES

    sums = (released / "SHA256SUMS").read_text(encoding="utf-8")
    descriptor = json.loads((released / "datapackage.json").read_text(encoding="utf-8"))
    described = {r["path"]: r for r in descriptor["resources"]}
    assert BUNDLES and all(f"  {bundle.path}\n" in sums for bundle in BUNDLES)
    for bundle in BUNDLES:
        entry = described[bundle.path]
        assert (entry["format"], entry["mediatype"]) == (bundle.format, bundle.mediatype)
    readme = (released / "README.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in readme.splitlines() if line.startswith("| `")}
    for entry in descriptor["resources"]:  # each file says what it holds, in words, not by its name
        assert entry["name"] + ":" not in rows[entry["path"]], rows[entry["path"]]


def downloaded(released: Path, folder: Path, *, archive: bool = True) -> Path:
    """The release's files saved one by one into a folder, as from a release page."""
    folder.mkdir()
    for file in released.iterdir():
        if archive or file.suffix != ".zip":
            (folder / file.name).write_bytes(file.read_bytes())
    return folder


def unpacked(released: Path, folder: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(released / f"guanxi-{VERSION}.zip") as archive:
        archive.extractall(folder)
    return folder / f"guanxi-{VERSION}"


@pytest.mark.parametrize("where", ["download", "download-without-zip", "unpacked-zip"])
def test_what_a_user_saves_checks_out_with_sha256sum_verify_and_load(released: Path, tmp_path: Path, where) -> None:
    if where == "unpacked-zip":
        folder = unpacked(released, tmp_path)
    else:
        folder = downloaded(released, tmp_path / "Downloads", archive=where == "download")
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verify(folder) == []
    expected = pipeline.load(released, format="csv")
    for fmt in ("csv", "parquet", "json"):
        frames = pipeline.load(folder, format=fmt)
        for name, frame in expected.items():
            pd.testing.assert_frame_equal(frames[name], frame)


def test_the_zip_verifies_and_loads_as_it_is(released: Path) -> None:
    archive = released / f"guanxi-{VERSION}.zip"
    assert verify(archive) == []
    expected = pipeline.load(released, format="parquet")
    frames = pipeline.load(archive, format="parquet")
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(frames[name], frame)


def tamper(content: bytes) -> bytes:
    changed = bytearray(content)
    changed[len(changed) // 2] ^= 0x01
    return bytes(changed)


def test_a_tampered_file_in_a_download_folder_is_caught(released: Path, tmp_path: Path) -> None:
    from pipeline.loader import LoadError

    folder = downloaded(released, tmp_path / "Downloads", archive=False)
    (folder / "metrics.parquet").write_bytes(tamper((folder / "metrics.parquet").read_bytes()))
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True).returncode
    assert any(p.startswith("metrics.parquet:") for p in verify(folder))
    with pytest.raises(LoadError, match=r"metrics\.parquet"):
        pipeline.load(folder, format="parquet")


def test_a_file_missing_beside_the_zip_is_reported_once_as_missing(released: Path, tmp_path: Path) -> None:
    folder = downloaded(released, tmp_path / "Downloads")
    (folder / "events.csv").unlink()
    found = verify(folder)
    assert any("events.csv" in p for p in found)
    assert not any("differs from the file beside it" in p for p in found), found


def test_a_tampered_member_of_the_zip_is_caught(released: Path, tmp_path: Path) -> None:
    import zipfile

    from pipeline.loader import LoadError

    source = released / f"guanxi-{VERSION}.zip"
    target = tmp_path / source.name
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            content = old.read(info)
            new.writestr(info, tamper(content) if info.filename.endswith("/platforms.csv") else content)
    assert f"{source.name}: platforms.csv: sha256 differs from SHA256SUMS" in verify(target)
    with pytest.raises(LoadError, match=r"platforms\.csv"):
        pipeline.load(target, format="csv")
    copy = downloaded(released, tmp_path / "copy")
    (copy / source.name).write_bytes(target.read_bytes())  # the zip beside the files disagrees with them
    assert f"{source.name}: platforms.csv differs from the file beside it" in verify(copy)


def test_the_cli_verifies_a_zip_and_says_what_is_wrong(released: Path, tmp_path: Path) -> None:
    archive = released / f"guanxi-{VERSION}.zip"
    ok = subprocess.run([sys.executable, "-m", "pipeline", "verify", str(archive)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout == f"verified {archive}\n"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    bad = subprocess.run([sys.executable, "-m", "pipeline", "verify", str(junk)], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "not a release folder, descriptor or zip" in bad.stderr


def test_a_zip_without_its_descriptor_is_named_not_a_scratch_folder(released: Path, tmp_path: Path) -> None:
    import zipfile

    source = released / f"guanxi-{VERSION}.zip"
    target = tmp_path / "stripped.zip"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if not info.filename.endswith("/datapackage.json"):
                new.writestr(info, old.read(info))
    with pytest.raises(ReleaseError) as refused:  # nothing can be checked: input that cannot be used
        verify(target)
    assert str(refused.value) == f"{target}: datapackage.json: missing, so the release cannot be checked"


def test_the_release_stands_alone(released: Path) -> None:
    import yaml

    readme = (released / "README.md").read_text(encoding="utf-8")
    assert f"version {VERSION}" in readme and "sha256sum -c SHA256SUMS" in readme
    for entry in json.loads((released / "datapackage.json").read_text())["resources"]:
        assert f"| `{entry['path']}` |" in readme
    citation = yaml.safe_load((released / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["version"] == VERSION and citation["license"] == "CC-BY-4.0"
    assert (released / "LICENSE-DATA").read_bytes() == (ROOT / "LICENSE-DATA").read_bytes()
    assert (released / "CHANGELOG.md").read_bytes() == (ROOT / "CHANGELOG.md").read_bytes()
