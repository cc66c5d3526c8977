"""Hostile inputs: no file outside the package read or written, no hang, bounded memory,
nothing lost, and every failure a clear message rather than an internal error.

Each case builds its own package or release in a temporary folder, and checks what it
says (the report or the exception) and that nothing outside that folder changed. Servers
listen on 127.0.0.1 only and stop with their test.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

import pipeline
from pipeline import fetch
from pipeline.publish import build
from pipeline.report import CODES

pytestmark = pytest.mark.fixtures_only

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "data"

# ------------------------------------------------------------------ servers on 127.0.0.1

Route = Callable[[http.server.BaseHTTPRequestHandler], None]


class Server:
    """An HTTP server on the loopback address, in a thread, serving a folder and routes;
    it counts what it was asked and what it sent."""

    def __init__(self, folder: Path | None = None, routes: dict[str, Route] | None = None) -> None:
        self.folder, self.routes = folder, routes or {}
        self.requests: list[str] = []
        self.sent = 0
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(owner.folder or "/nonexistent"), **kwargs)

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                route = owner.routes.get(self.path)
                if route is not None:
                    route(self)
                elif owner.folder is None:
                    self.send_error(404)
                else:
                    super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def version_of(package: Path) -> str:
    """The version a build of the package is named by: its descriptor's."""
    return json.loads(package.read_text(encoding="utf-8"))["version"]


def redirect(location: str) -> Route:
    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def stream(server: Server, chunk: bytes, pause: float, most: int, length: int | None = None) -> Route:
    """A body of ``chunk`` repeated, a pause after each, until ``most`` bytes or the client leaves."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        if length is not None:
            handler.send_header("Content-Length", str(length))
        handler.end_headers()
        try:
            while server.sent < most:
                handler.wfile.write(chunk)
                handler.wfile.flush()
                server.sent += len(chunk)
                time.sleep(pause)
        except OSError:
            pass  # the client hung up, as it should

    return route


# ------------------------------------------------------------------ releases to attack


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the small fixture package, never modified (copies are)."""
    from conftest import make_package

    package = make_package(tmp_path_factory.mktemp("package") / "package")
    return build(package, out=tmp_path_factory.mktemp("dist"))


@pytest.fixture
def served(release: Path, tmp_path: Path) -> Path:
    """A copy of the release inside tmp_path/site, to be edited and served."""
    site = tmp_path / "site" / release.name
    shutil.copytree(release, site)
    return site


def edit_entry(site: Path, name: str, **changes: object) -> dict:
    descriptor = json.loads((site / "datapackage.json").read_text(encoding="utf-8"))
    entry = next(r for r in descriptor["resources"] if r["name"] == name)
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    (site / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return entry


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under root with its mode and bytes, to show nothing outside changed."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = (path.stat().st_mode, path.read_bytes())
    return out


def stamps(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under root with its mode, size and modification time: a write shows without
    reading the files (the working package's data is not read by tests of fixtures)."""
    return {str(p.relative_to(root)): (s.st_mode, s.st_size, s.st_mtime_ns) for p in root.rglob("*") if (s := p.stat())}


@contextmanager
def untouched(*roots: Path) -> Iterator[None]:
    before = [stamps(root) for root in roots]
    yield
    assert [stamps(root) for root in roots] == before, "a file of the working package was written"


@contextmanager
def unchanged(*roots: Path) -> Iterator[None]:
    before = [snapshot(root) for root in roots]
    yield
    assert [snapshot(root) for root in roots] == before, "a file outside the package changed"


# ------------------------------------------------------------------ remote loads


def test_a_remote_release_loads_when_it_stays_in_its_origin(served: Path) -> None:
    with Server(served.parent) as server:
        frames = pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert set(frames) >= {"platforms", "sources"} and len(frames["platforms"]) > 0


def test_a_url_whose_scheme_and_host_are_in_capitals_loads(served: Path) -> None:
    with Server(served.parent) as server:
        url = server.url.replace("http://", "HTTP://") + f"/{served.name}/"
        frames = pipeline.load(url, format="csv", timeout=30)
    assert len(frames["platforms"]) > 0


@pytest.mark.parametrize("where", ["folder", "zip"])
def test_a_key_given_twice_in_a_release_descriptor_is_a_load_error_where_it_is(served: Path, where: str) -> None:
    import zipfile

    descriptor = served / "datapackage.json"
    text = descriptor.read_text(encoding="utf-8")
    twice = text.replace('"version":', '"version": "9.9.9", "version":', 1)
    second = twice.index('"version":', twice.index('"version":') + 1)  # the key met again is the one named
    line, column = twice.count("\n", 0, second) + 1, second - twice.rfind("\n", 0, second)
    descriptor.write_text(twice, encoding="utf-8")
    source, shown = served, descriptor
    if where == "zip":
        source = served.parent / "release.zip"
        with zipfile.ZipFile(source, "w") as archive:
            archive.write(descriptor, f"{served.name}/datapackage.json")
        shown = f"{source}: datapackage.json"
    with pytest.raises(pipeline.LoadError) as refused:
        pipeline.load(source)
    assert str(refused.value) == (
        f"{shown}: line {line}, column {column}: the key 'version' appears twice in one object; expected each key once"
    )


def test_a_remote_path_to_a_local_file_is_refused(served: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("platform_id\nsecret\n", encoding="utf-8")
    edit_entry(served, "platforms", path=secret.as_uri())
    with Server(served.parent) as server, pytest.raises(pipeline.LoadError, match="is a URL"):
        pipeline.load(f"{server.url}/{served.name}/datapackage.json", format="csv", timeout=30)


@pytest.mark.parametrize("where", ["other-port", "absolute-path", "parent"])
def test_a_remote_path_outside_the_release_is_never_fetched(served: Path, where: str) -> None:
    with Server(routes={}) as other, Server(served.parent) as server:
        path = {
            "other-port": f"{other.url}/platforms.csv",
            "absolute-path": "/platforms.csv",
            "parent": "../platforms.csv",
        }[where]
        edit_entry(served, "platforms", path=path)
        with pytest.raises(pipeline.LoadError, match=r"URL|relative"):
            pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert other.requests == []
    assert not any("platforms" in r for r in server.requests)


def test_a_redirect_to_another_port_is_not_followed(served: Path) -> None:
    with Server(routes={}) as other:
        routes = {f"/{served.name}/platforms.csv": redirect(f"{other.url}/platforms.csv")}
        with Server(served.parent, routes) as server, pytest.raises(pipeline.LoadError, match="redirected"):
            pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert other.requests == []


def test_a_zip_redirected_to_another_port_is_not_fetched(served: Path) -> None:
    archive = next(served.glob("guanxi-*.zip")).name
    with Server(routes={}) as other:
        routes = {f"/{served.name}/{archive}": redirect(f"{other.url}/{archive}")}
        with Server(served.parent, routes) as server, pytest.raises(pipeline.LoadError, match="redirected"):
            pipeline.load(f"{server.url}/{served.name}/{archive}", timeout=30)
    assert other.requests == []


def test_a_redirect_within_the_origin_is_followed(served: Path) -> None:
    (served / "moved").mkdir()
    shutil.copy(served / "platforms.csv", served / "moved" / "platforms.csv")
    routes = {f"/{served.name}/platforms.csv": redirect(f"/{served.name}/moved/platforms.csv")}
    with Server(served.parent, routes) as server:
        frames = pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert len(frames["platforms"]) > 0
    assert f"/{served.name}/moved/platforms.csv" in server.requests


def test_a_remote_file_without_a_hash_is_not_loaded(served: Path) -> None:
    edit_entry(served, "platforms", hash=None)
    with Server(served.parent) as server, pytest.raises(pipeline.LoadError, match="no sha256"):
        pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert not any("platforms" in r for r in server.requests)


def test_a_body_larger_than_its_bytes_is_cut_off(served: Path) -> None:
    # a 3 GB body announced by nobody: the loader stops at the size the descriptor gives
    entry = edit_entry(served, "platforms")
    with Server(served.parent) as server:
        server.routes[f"/{served.name}/platforms.csv"] = stream(server, b"x" * 65536, 0, 3 << 30)
        with pytest.raises(pipeline.LoadError, match="more than the"):
            pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert server.sent < entry["bytes"] + (4 << 20)


def test_a_body_without_bytes_is_cut_off_at_the_ceiling(served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "MAX_BYTES", 1 << 20)
    edit_entry(served, "platforms", bytes=None)
    with Server(served.parent) as server:
        server.routes[f"/{served.name}/platforms.csv"] = stream(server, b"x" * 65536, 0, 3 << 30)
        with pytest.raises(pipeline.LoadError, match="more than the 1048576 bytes"):
            pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)
    assert server.sent < 8 << 20


def test_an_announced_body_too_large_is_not_read(served: Path) -> None:
    with Server(served.parent) as server:
        server.routes[f"/{served.name}/platforms.csv"] = stream(server, b"x", 0, 1, length=3 << 30)
        with pytest.raises(pipeline.LoadError, match="announces 3221225472 bytes"):
            pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=30)


def test_a_trickling_server_is_given_up_at_the_deadline(served: Path) -> None:
    with Server(served.parent) as server:
        server.routes[f"/{served.name}/platforms.csv"] = stream(server, b"x", 0.2, 100)
        started = time.monotonic()
        with pytest.raises(pipeline.LoadError, match="deadline"):
            pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=1.5)
    assert time.monotonic() - started < 6


def trickle_headers(released: threading.Event) -> Route:
    """A status line, then one byte of a header every 0.2 s, never ending the headers until
    ``released`` is set: each byte comes well within the stall allowance."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not released.is_set():
                handler.wfile.write(b"a")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client hung up, as it should

    return route


def given_up(served: Path, member: str, route: Route, released: threading.Event, timeout: float, match: str) -> float:
    """Load the release while ``route`` serves ``member``: the load fails saying ``match``;
    the seconds it took are returned (the route is released either way)."""
    with Server(served.parent) as server:
        server.routes[f"/{served.name}/{member}"] = route
        started = time.monotonic()
        try:
            with pytest.raises(pipeline.LoadError, match=match):
                pipeline.load(f"{server.url}/{served.name}/", format="csv", timeout=timeout)
        finally:
            released.set()
    return time.monotonic() - started


@pytest.mark.parametrize("member", ["datapackage.json", "platforms.csv"])
def test_headers_that_trickle_are_given_up_at_the_deadline(served: Path, member: str) -> None:
    released = threading.Event()
    took = given_up(served, member, trickle_headers(released), released, 1.5, "deadline")
    assert took < 10  # a bound against hanging, not a measure of speed


def fall_silent(after: float, released: threading.Event) -> Route:
    """A body that trickles for ``after`` seconds, then nothing until ``released`` is set."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        ends = time.monotonic() + after
        try:
            while time.monotonic() < ends:
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.1)
            released.wait(60)
        except OSError:
            pass

    return route


def test_a_read_never_waits_past_the_deadline_of_the_load(served: Path) -> None:
    # the server goes silent near the deadline: the read then waiting is given the time
    # left, not the whole stall allowance the connection was opened with
    released = threading.Event()
    route, message = fall_silent(1.0, released), "did not arrive before the load's deadline"
    assert given_up(served, "platforms.csv", route, released, 3, message) < 20  # a bound against hanging


def test_a_server_silent_for_the_stall_allowance_is_given_up(served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "STALL", 0.5)
    released = threading.Event()
    given_up(served, "platforms.csv", fall_silent(0.2, released), released, 60, r"the server sent nothing for 0\.5 s")


@pytest.mark.parametrize("source", ["file:///etc/passwd", "ftp://127.0.0.1/x/", "data:,{}"])
def test_other_schemes_are_refused(source: str) -> None:
    with pytest.raises(pipeline.LoadError, match="URLs are not loaded"):
        pipeline.load(source)


# ------------------------------------------------------------------ files that match their checksums


def republish(site: Path, name: str, content: bytes) -> None:
    """Replace a file of the release, with its size and sha256 in the descriptor to match."""
    resources = json.loads((site / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    entry = next(r for r in resources if r["name"] == name)
    (site / entry["path"]).write_bytes(content)
    edit_entry(site, name, bytes=len(content), hash=f"sha256:{hashlib.sha256(content).hexdigest()}")


def features_parquet(site: Path, feature: str) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(site / "features.parquet")
    values = table.column("feature").cast(pa.string()).to_pylist()
    column = pa.array([feature, *values[1:]], pa.string()).dictionary_encode()
    sink = io.BytesIO()
    pq.write_table(table.set_column(table.column_names.index("feature"), "feature", column), sink)
    return sink.getvalue()


def edited(rel: str, old: bytes, new: bytes) -> Callable[[Path], bytes]:
    return lambda site: (site / rel).read_bytes().replace(old, new, 1)


NOT_IN_VOCABULARY = "row {row}, field feature: 'NOT-A-FEATURE' is not one of the field's values"
UNREADABLE = {
    "csv-not-utf-8": (
        "csv",
        edited("features.csv", b"beta,", b"be\xfft,"),
        "features.csv: line 3, column 1: a byte that is not UTF-8 (0xff); expected UTF-8 text",
    ),
    "csv-unclosed": (
        "csv",
        edited("features.csv", b"beta,", b'"beta,'),
        "features.csv: line 3: a quoted cell is not closed, or a quote inside it is not doubled",
    ),
    "csv-ragged": (
        "csv",
        edited("features.csv", b"beta,", b"beta,x,"),
        "features.csv: line 3: 5 cells; expected 4, as many as the header has",
    ),
    "csv-vocabulary": (
        "csv",
        edited("features.csv", b",messaging,", b",NOT-A-FEATURE,"),
        "features.csv: " + NOT_IN_VOCABULARY.format(row=2),
    ),
    "json-vocabulary": (
        "json",
        edited("features.json", b'"messaging"', b'"NOT-A-FEATURE"'),
        "features.json: " + NOT_IN_VOCABULARY.format(row=2),
    ),
    "parquet-vocabulary": (
        "parquet",
        lambda site: features_parquet(site, "NOT-A-FEATURE"),
        "features.parquet: " + NOT_IN_VOCABULARY.format(row=1),
    ),
    "json-not-text": (
        "json",
        edited("features.json", b'"messaging"', b"5"),
        "features.json: row 2, field feature: 5 is not text",
    ),
    "json-broken": ("json", lambda site: (site / "features.json").read_bytes()[:-5], "features.json: line "),
    "parquet-cut": (
        "parquet",
        lambda site: (site / "features.parquet").read_bytes()[:-50],
        "features.parquet: not a Parquet file that can be read: it is damaged, cut short or not Parquet",
    ),
}


@pytest.mark.parametrize("breakage", sorted(UNREADABLE))
def test_a_file_that_matches_its_checksum_but_cannot_be_read_is_said_where(served: Path, breakage: str) -> None:
    format, content, message = UNREADABLE[breakage]
    republish(served, "features" if format == "csv" else f"features-{format}", content(served))
    with pytest.raises(pipeline.LoadError) as refused:
        pipeline.load(served, format=format)
    assert str(refused.value).startswith(message), refused.value


def test_a_date_a_release_cannot_hold_is_refused_not_made_missing(served: Path) -> None:
    content = (served / "sources.csv").read_bytes().replace(b",2026-11-26,", b",2026-13-26,", 1)
    republish(served, "sources", content)
    with pytest.raises(pipeline.LoadError) as refused:
        pipeline.load(served, format="csv")
    assert str(refused.value) == "sources.csv: row 1, field accessed: '2026-13-26' is not a date as YYYY-MM-DD"


# ------------------------------------------------------------------ bounded reads

CHILD_LIMITS = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
sys.argv = ["pipeline", *{args!r}]
from pipeline.cli import main
main()
"""


def run_bounded(args: list[str], memory: int = 3 << 30, timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI in a child process that may use at most ``memory`` bytes of address space and
    ``timeout`` seconds: a blow-up fails the test instead of the machine."""
    code = CHILD_LIMITS.format(memory=memory, args=args)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def run_python(code: str, memory: int, timeout: float) -> subprocess.CompletedProcess:
    """Python code in a child process limited to ``memory`` bytes of address space."""
    limited = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n{code}"
    return subprocess.run([sys.executable, "-c", limited], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_a_20_mb_one_line_header_is_one_problem_in_bounded_memory(package: Path) -> None:
    features = package.parent / "data" / "features.csv"
    features.write_bytes(b"x," * 10_000_000 + b"x\n" + features.read_bytes().split(b"\n", 1)[1])
    with unchanged(package.parent):
        result = run_bounded(["validate", str(package), "--format", "json"])
    assert result.returncode == 1, result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert [(e["code"], e["path"], e["line"], e["column"]) for e in errors] == [
        ("extra-label", "data/features.csv", 1, 5)
    ]
    assert "10000001 cells" in errors[0]["message"]


def test_a_schema_of_40000_fields_is_read_in_linear_time(package: Path) -> None:
    schema = package.parent / "schemas" / "features.json"
    fields = [{"name": f"f{i}", "type": "string", "description": "x"} for i in range(40_000)]
    schema.write_text(json.dumps({"fields": fields}, indent=2), encoding="utf-8")
    code = f"from pipeline.package import load_package; p, e = load_package({str(package)!r}); print(p is None, e)"
    # a search of the whole text per field took over a minute of CPU here
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert result.stdout.strip() == "False []", result.stderr


def test_a_refused_property_in_each_of_20000_resources_is_located_in_linear_time(tmp_path: Path) -> None:
    resources = [{"name": f"r{i}", "path": f"data/r{i}.csv", "x-note": "kept"} for i in range(20_000)]
    descriptor = tmp_path / "datapackage.json"
    descriptor.write_text(json.dumps({"resources": resources}, indent=2), encoding="utf-8")
    code = (
        "from pipeline.package import load_package\n"
        f"p, e = load_package({str(descriptor)!r})\n"
        "print(len(e), sorted({(q.line - 1) % 5 for q in e}), e[0].line, e[-1].line)"
    )
    # the line of each key was found by splitting the whole text again: 5,000 took 21 s of CPU
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert result.stdout.split() == ["20000", "[0]", "6", str(6 + 5 * 19_999)], result.stderr


@contextmanager
def released_after(fifo: Path, seconds: float = 8) -> Iterator[None]:
    """Should a reader block on the pipe, a writer opens and closes it after ``seconds``, so
    that the test fails instead of hanging."""
    done = threading.Event()

    def release() -> None:
        if not done.wait(seconds):
            with suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        yield
    finally:
        done.set()
        thread.join()
    assert time.monotonic() - started < seconds, "a reader waited on the named pipe"


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 7])
def test_a_file_read_into_arrow_memory_holds_its_bytes_and_refuses_what_is_not_a_file(
    tmp_path: Path, size: int
) -> None:
    from pipeline.files import read_regular, read_regular_buffer

    file = tmp_path / "data.csv"
    file.write_bytes(random.Random(size).randbytes(size))
    assert read_regular_buffer(file).to_pybytes() == read_regular(file) == file.read_bytes()
    os.mkfifo(tmp_path / "pipe.csv")
    for other in (tmp_path, tmp_path / "pipe.csv"):
        with pytest.raises(OSError, match="not a regular file"):
            read_regular_buffer(other)


@pytest.mark.parametrize(
    ("victim", "code"),
    [
        ("data/features.csv", "source-error"),
        ("schemas/features.json", "schema-error"),
        ("datapackage.json", "package-error"),
    ],
)
def test_a_named_pipe_is_refused_without_waiting(package: Path, victim: str, code: str) -> None:
    from pipeline.validation import validate

    target = package.parent / victim
    target.unlink()
    os.mkfifo(target)
    with released_after(target), unchanged(package.parent):
        problems = validate(package).problems
        assert [(p.code, p.path) for p in problems] == [(code, victim)]
        assert "named pipe" in problems[0].message
        if victim != "datapackage.json":
            with pytest.raises(pipeline.PackageError):
                pipeline.diff(package, package)
            from pipeline.fmt import format_package

            assert format_package(package)[1]


@pytest.mark.parametrize("victim", ["datapackage.json", "CHANGELOG.md"])
@pytest.mark.parametrize("check", [False, True], ids=["bump", "bump-check"])
def test_bump_refuses_a_named_pipe_without_waiting(package: Path, victim: str, check: bool) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    target = package.parent / victim
    target.unlink()
    os.mkfifo(target)
    with released_after(target), unchanged(package.parent):
        result = CliRunner().invoke(app, ["bump", str(package), *(["--check"] if check else [])])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("bump refused: ")
    assert f"cannot read {target if victim == 'CHANGELOG.md' else victim}: a named pipe" in result.stderr


def test_a_folder_or_a_device_in_place_of_a_data_file_is_a_source_error(package: Path) -> None:
    from pipeline.validation import validate

    features = package.parent / "data" / "features.csv"
    features.unlink()
    features.mkdir()
    problems = validate(package).problems
    assert [(p.code, p.path) for p in problems] == [("source-error", "data/features.csv")]
    assert "a folder, not a regular file" in problems[0].message
    features.rmdir()
    try:
        os.mknod(features, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: endless
    except PermissionError:
        pytest.skip("making a device node needs privileges this run lacks; the folder case ran")
    problems = validate(package).problems
    assert [(p.code, p.path) for p in problems] == [("source-error", "data/features.csv")]
    assert "a device" in problems[0].message


@pytest.mark.parametrize("victim", ["data/features.csv", "schemas/features.json"])
def test_a_link_out_of_the_package_is_not_read(package: Path, tmp_path: Path, victim: str) -> None:
    from pipeline.validation import validate

    outside = tmp_path / "outside"
    outside.mkdir()
    target = package.parent / victim
    (outside / target.name).write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(outside / target.name)
    with unchanged(outside):
        problems = validate(package).problems
    assert len(problems) == 1 and "leads outside the package" in problems[0].message


# ------------------------------------------------------------------ writes: atomic and faithful


def schema_of(package: Path, name: str, change: Callable[[dict], None]) -> None:
    file = package.parent / "schemas" / f"{name}.json"
    schema = json.loads(file.read_text(encoding="utf-8"))
    change(schema)
    file.write_text(json.dumps(schema, indent=2), encoding="utf-8")


@pytest.mark.parametrize("mode", [0o644, 0o664])
def test_fmt_keeps_the_files_mode(package: Path, mode: int) -> None:
    from pipeline.fmt import format_package

    features = package.parent / "data" / "features.csv"
    features.write_text(features.read_text(encoding="utf-8").replace("alpha,", " alpha,"), encoding="utf-8")
    features.chmod(mode)
    assert format_package(package) == (["data/features.csv"], [])
    assert stat.S_IMODE(features.stat().st_mode) == mode


def test_fmt_drops_only_rows_blank_under_the_schemas_missing_values(package: Path) -> None:
    from pipeline.fmt import format_package

    schema_of(package, "features", lambda s: s.update(missingValues=["NA"]))
    features = package.parent / "data" / "features.csv"
    features.write_bytes(features.read_bytes() + b",,,\nNA,NA,NA,NA\n")
    changed, problems = format_package(package)
    assert problems == [] and changed == ["data/features.csv"]
    lines = features.read_text(encoding="utf-8").splitlines()
    assert '""' not in lines and "NA,NA,NA,NA" not in lines
    assert len(lines) == 4 and ",,," in lines, lines  # empty strings are values under this schema: kept


def test_fmt_leaves_no_temporary_file_when_interrupted_and_removes_a_killed_runs(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import files
    from pipeline.fmt import format_package

    data = package.parent / "data"
    features = data / "features.csv"
    before = features.read_bytes()
    features.write_bytes(before.replace(b"alpha,", b" alpha,"))
    broken = features.read_bytes()

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(files.os, "replace", interrupted)
        with pytest.raises(KeyboardInterrupt):
            format_package(package)
    assert features.read_bytes() == broken
    assert sorted(p.name for p in data.iterdir()) == sorted(p.name for p in FIXTURE.iterdir())
    leftover = data / f".features.csv.k1ll3d{files.TEMP_SUFFIX}"
    leftover.write_bytes(b"half a file")
    ignored = subprocess.run(["git", "check-ignore", "-q", f"data/{leftover.name}"], cwd=ROOT)
    assert ignored.returncode == 0, "git would offer the leftover for commit"
    assert format_package(package) == (["data/features.csv"], [])
    assert not leftover.exists() and features.read_bytes() == before


def test_fmt_never_rewrites_an_unchanged_file(package: Path) -> None:
    from pipeline.fmt import format_package

    data = package.parent / "data"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in data.iterdir()}
    for _ in range(2):
        assert format_package(package) == ([], [])
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in data.iterdir()} == before


def test_two_resources_cannot_share_a_file(package: Path) -> None:
    from pipeline.fmt import format_package
    from pipeline.validation import validate

    descriptor = json.loads(package.read_text(encoding="utf-8"))
    twin = dict(next(r for r in descriptor["resources"] if r["name"] == "features"), name="features-again")
    descriptor["resources"].append(twin)
    package.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    with unchanged(package.parent):
        problems = validate(package).problems
        assert [(p.code, p.message) for p in problems] == [
            ("resource-error", "resource features-again: its file is already the file of resource features")
        ]
        assert format_package(package)[1] == problems


def test_a_crlf_inside_a_quoted_cell_is_the_cells_control_character_not_a_line_ending(package: Path) -> None:
    from pipeline.fmt import format_package
    from pipeline.validation import validate

    features = package.parent / "data" / "features.csv"
    crlf = features.read_bytes().replace(b"\n", b"\r\n")  # saved with CRLF, as on Windows
    features.write_bytes(crlf.replace(b"alpha,job-listings,,", b'alpha,job-listings,"a\r\nb",'))
    lines = crlf.count(b"\n")
    found = [(p.code, p.line, p.column, p.message) for p in validate(package).problems]
    cell = ("control-character", 2, 3)
    assert [f[:3] for f in found] == [("line-ending", 1, None), cell]
    assert found[0][3] == f"{lines} line(s) end with CRLF, the first here; expected LF (run make fmt)"
    changed, problems = format_package(package)  # what validate says to run does what it says
    assert changed == ["data/features.csv"] and problems == []
    assert b'alpha,job-listings,"a\r\nb",' in features.read_bytes() and features.read_bytes().count(b"\r") == 1
    assert [(p.code, p.line, p.column) for p in validate(package).problems] == [cell]  # left to be fixed by hand


def test_release_publishes_the_bytes_it_validated(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.publish as publish

    features = package.parent / "data" / "features.csv"
    validated = features.read_bytes()
    checked = publish.read_package

    def then_tampered(*args: object):  # the file changes after the validation pass
        result = checked(*args)
        features.write_bytes(validated.replace(b"alpha", b" ALPHA "))
        return result

    monkeypatch.setattr(publish, "read_package", then_tampered)
    release = build(package, out=tmp_path / "dist")
    assert (release / "features.csv").read_bytes() == validated


@pytest.mark.parametrize("victim", ["CHANGELOG.md", "data/features.csv"])
def test_release_notes_and_data_are_the_commits_even_when_edited_mid_build(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    from workflow import git

    import pipeline.publish as publish

    root = package.parent
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "package")
    version = version_of(package)
    assert build(package, out=tmp_path / "clean").name == version  # the commit itself releases
    committed = (root / victim).read_bytes()
    edited = committed.replace(b"alpha,job-listings,", b"alpha,job-listings,edited")
    edited = edited if victim.endswith(".csv") else committed + b"\nA line nobody reviewed.\n"
    assert edited != committed
    checked = publish.check_committed

    def then_edited(*args: object) -> None:  # the file changes once the tree was found committed
        checked(*args)
        (root / victim).write_bytes(edited)

    monkeypatch.setattr(publish, "check_committed", then_edited)
    with pytest.raises(pipeline.ReleaseError, match=f"{victim} changed while the release was being built"):
        build(package, out=tmp_path / "dist")
    assert not (tmp_path / "dist" / version_of(package)).exists()


def tagged_then_changed(package: Path, code: str | None = None) -> Path:
    """The package committed and tagged with its version (with ``code`` as its pipeline, if
    given), then one more commit: a main that moved on since its release."""
    from workflow import git

    root = package.parent
    if code is not None:
        (root / "pipeline").mkdir()
        (root / "pipeline" / "__init__.py").write_text(code, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "package")
    git(root, "tag", "-a", f"v{version_of(package)}", "-m", "release")
    (root / "README.md").write_text("Later.\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "later")
    return root


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (None, "holds no pipeline/ to build it with"),
        ("raise SystemExit('cannot build here')", "failed: cannot build here"),
    ],
)
def test_a_release_whose_tag_cannot_build_itself_is_refused_and_writes_nothing(
    package: Path, tmp_path: Path, code: str | None, said: str
) -> None:
    tagged_then_changed(package, code)
    out = tmp_path / "dist"
    with pytest.raises(pipeline.ReleaseError, match=f"from its tag|{said}") as raised:
        build(package, out=out)
    assert said in str(raised.value)
    assert list(out.iterdir()) == []  # neither the release nor the tag's files are left


def test_release_removes_a_staging_folder_left_by_a_killed_build(package: Path, tmp_path: Path) -> None:
    from pipeline.publish import STAGING

    out = tmp_path / "dist"
    leftover = out / f"{STAGING}0.0.9-killed"
    (leftover / "csv").mkdir(parents=True)
    (leftover / "csv" / "half.csv").write_bytes(b"half")
    release = build(package, out=out)
    assert sorted(p.name for p in out.iterdir()) == [release.name]


@pytest.mark.parametrize("link", ["docs", "CONTRIBUTING.md"])
def test_docs_writes_nothing_through_a_link_out_of_the_package(package: Path, tmp_path: Path, link: str) -> None:
    from pipeline.docs import build_docs

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "CONTRIBUTING.md").write_text("<!-- codes:start -->\n<!-- codes:end -->\n", encoding="utf-8")
    (package.parent / link).symlink_to(outside / link if link != "docs" else outside)
    with unchanged(outside), pytest.raises(pipeline.DocsError, match="outside the package"):
        build_docs(package)
    assert not (package.parent / "docs").exists() or (package.parent / "docs").is_symlink()


# ------------------------------------------------------------------ sizes read


def test_a_data_file_larger_than_is_read_is_refused_before_it_is_read(package: Path) -> None:
    from pipeline.files import MAX_FILE_BYTES

    features = package.parent / "data" / "features.csv"
    with features.open("r+b") as stream:  # sparse: no disk, and no memory unless it is read
        stream.truncate(MAX_FILE_BYTES + 1)
    said = f"{MAX_FILE_BYTES + 1} bytes, more than the 1 GiB ({MAX_FILE_BYTES} bytes) a file may hold to be read"
    with unchanged(package.parent):
        checked = run_bounded(["validate", str(package), "--format", "json"], memory=2 << 30)
        formatted = run_bounded(["fmt", "--check", str(package)], memory=2 << 30)
    assert checked.returncode == 1, checked.stderr
    [error] = json.loads(checked.stdout)["errors"]
    assert (error["code"], error["path"]) == ("source-error", "data/features.csv")
    assert error["message"] == f"cannot read the file: {said}"
    assert formatted.returncode == 1 and "Traceback" not in formatted.stderr, formatted.stderr
    assert f"data/features.csv: source-error: cannot read the file: {said}" in formatted.stdout


def declared(archive: Path, sizes: dict[str, int], extra: dict[str, bytes] | None = None) -> None:
    """Rewrite a zip so that its listing declares ``sizes`` for the members so named (the
    bytes stay as they are: nothing can unpack them to that size) and holds ``extra``."""
    import zipfile

    if extra:
        with zipfile.ZipFile(archive, "a") as zipped:
            for name, content in extra.items():
                zipped.writestr(f"{archive.stem}/{name}", content)
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x01\x02")  # the central directory: 46 bytes, then the name
    while data[start : start + 4] == b"PK\x01\x02":
        length, more, comment = (int.from_bytes(data[start + at : start + at + 2], "little") for at in (28, 30, 32))
        name = data[start + 46 : start + 46 + length].decode("utf-8").split("/", 1)[-1]
        if name in sizes:
            data[start + 24 : start + 28] = sizes[name].to_bytes(4, "little")
        start += 46 + length + more + comment
    archive.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["member", "total"])
def test_a_zip_that_would_unpack_to_more_than_is_read_is_refused_from_its_listing(
    release: Path, tmp_path: Path, where: str
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.files import MAX_FILE_BYTES

    archive = tmp_path / next(release.glob("*.zip")).name
    shutil.copy(next(release.glob("*.zip")), archive)
    if where == "member":
        declared(archive, {"features.csv": MAX_FILE_BYTES * 2 - 1})
        said = f"{archive.stem}/features.csv unpacks to {MAX_FILE_BYTES * 2 - 1} bytes, more than the 1 GiB"
    else:
        names = ("features.csv", "features.json", "features.parquet", "metrics.csv", "metrics.json")
        declared(archive, dict.fromkeys(names, MAX_FILE_BYTES - 1))
        said = "its members unpack to "
    with pytest.raises(pipeline.LoadError) as refused:
        pipeline.load(archive)
    assert str(refused.value).startswith(f"cannot read {archive}: {said}"), refused.value
    result = CliRunner().invoke(app, ["verify", str(archive)])
    assert result.exit_code == 2 and result.stderr.startswith(f"verify failed: {archive}: {said}"), result.stderr
    assert result.stderr.count("\n") == 1


def test_a_member_no_list_names_is_never_unpacked(release: Path, tmp_path: Path) -> None:
    from pipeline.publish import verify

    archive = tmp_path / next(release.glob("*.zip")).name
    shutil.copy(next(release.glob("*.zip")), archive)
    declared(archive, {"junk.bin": (1 << 30) - 1}, extra={"junk.bin": b"x" * 1000})  # it cannot be unpacked
    assert verify(archive) == [
        f"{archive.name}: junk.bin: in the zip but listed in neither SHA256SUMS nor datapackage.json (not unpacked)"
    ]
    assert len(pipeline.load(archive, format="csv")["features"]) > 0


# ------------------------------------------------------------------ verify stays inside the release


def copy_of(release: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy" / release.name
    shutil.copytree(release, copy, symlinks=True)
    return copy


@pytest.mark.parametrize("where", ["sums-parent", "sums-absolute", "descriptor-parent", "link-out"])
def test_verify_refuses_a_path_that_leaves_the_release(release: Path, tmp_path: Path, where: str) -> None:
    from pipeline.publish import verify

    copy = copy_of(release, tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("never read\n", encoding="utf-8")
    if where.startswith("sums"):
        rel = "../../secret.csv" if where == "sums-parent" else str(secret)
        digest = hashlib.sha256(secret.read_bytes()).hexdigest()
        with (copy / "SHA256SUMS").open("a", encoding="utf-8") as sums:
            sums.write(f"{digest}  {rel}\n")
    elif where == "descriptor-parent":
        edit_entry(copy, "platforms", path="../../secret.csv")
    else:
        target = copy / "platforms.csv"
        target.unlink()
        target.symlink_to(secret)
    with unchanged(tmp_path / "copy"):
        problems = verify(copy)
    assert problems and any("(not read)" in p for p in problems), problems


def test_verify_reports_files_no_list_names_in_the_folder_and_the_zip(release: Path, tmp_path: Path) -> None:
    import zipfile

    from pipeline.publish import verify

    copy = copy_of(release, tmp_path)
    (copy / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    archive = next(copy.glob("*.zip"))
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.writestr(f"{archive.stem}/extra.txt", "smuggled")
    problems = verify(copy)
    assert any(p.startswith("extra.csv: in the release folder but listed in neither") for p in problems)
    assert f"{archive.name}: holds extra.txt, which SHA256SUMS does not list" in problems


def test_verify_streams_a_zip_member_that_unpacks_to_far_more_than_its_file(release: Path, tmp_path: Path) -> None:
    import zipfile

    copy = copy_of(release, tmp_path)
    archive = next(copy.glob("*.zip"))
    rebuilt = tmp_path / "rebuilt.zip"
    with zipfile.ZipFile(archive) as old, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename.endswith("/platforms.csv"):
                with new.open(info.filename, "w", force_zip64=True) as member:  # 256 MiB of zeros, ~250 kB zipped
                    for _ in range(256):
                        member.write(bytes(1 << 20))
            else:
                new.writestr(info, old.read(info))
    shutil.move(rebuilt, archive)
    code = f"from pipeline.publish import verify; print(verify({str(copy)!r}))"
    result = run_python(code, memory=1 << 30, timeout=60)
    assert "platforms.csv differs from the file beside it" in result.stdout, result.stderr


def test_a_link_out_of_the_release_is_one_problem_in_verify(release: Path, tmp_path: Path) -> None:
    from pipeline.publish import verify

    copy = copy_of(release, tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("never read\n", encoding="utf-8")
    (copy / "platforms.csv").unlink()
    (copy / "platforms.csv").symlink_to(secret)
    assert verify(copy) == ["'platforms.csv' in SHA256SUMS: path 'platforms.csv' leads outside the release (not read)"]


def test_a_named_pipe_in_a_release_is_one_problem_in_verify(release: Path, tmp_path: Path) -> None:
    from pipeline.publish import verify

    copy = copy_of(release, tmp_path)
    (copy / "platforms.csv").unlink()
    os.mkfifo(copy / "platforms.csv")
    assert verify(copy) == ["platforms.csv: cannot be read: a named pipe, not a regular file"]


UNUSABLE_LISTINGS = {
    "not-json": ("datapackage.json", '{"version": "1.0.0",\n  x}', "datapackage.json: line 2, column 3: not valid"),
    "twice": (
        "datapackage.json",
        '{"version": "1.0.0",\n  "version": "9.9.9", "resources": []}',
        "datapackage.json: line 2, column 3: the key 'version' appears twice in one object",
    ),
    "nan": ("datapackage.json", "NaN", "datapackage.json: not usable JSON: NaN is not a JSON value"),
    "deep": ("datapackage.json", "[" * 100_000 + "]" * 100_000, "datapackage.json: not usable JSON: nested too deeply"),
    "sums-not-utf-8": ("SHA256SUMS", "\udcff", "SHA256SUMS: not valid UTF-8 at byte 0"),
}


@pytest.mark.parametrize("breakage", sorted(UNUSABLE_LISTINGS))
def test_verify_of_a_release_whose_listing_cannot_be_read_names_the_file_and_exits_2(
    release: Path, tmp_path: Path, breakage: str
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    rel, content, message = UNUSABLE_LISTINGS[breakage]
    copy = copy_of(release, tmp_path)
    (copy / rel).write_bytes(content.encode("utf-8", "surrogateescape"))
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"verify failed: {copy}/{message}"), result.stderr


@pytest.mark.parametrize("descriptor", ["[]", '{"version": "1.0.0", "resources": [5, {"path": 7}]}'])
def test_verify_reports_a_malformed_descriptor(release: Path, tmp_path: Path, descriptor: str) -> None:
    from pipeline.publish import verify

    copy = copy_of(release, tmp_path)
    (copy / "datapackage.json").write_text(descriptor, encoding="utf-8")
    problems = verify(copy)
    assert problems and all(isinstance(p, str) for p in problems)


# ------------------------------------------------------------------ what validates, releases


def test_a_cell_over_128_kib_and_a_row_over_8_mb_validate_and_release(package: Path, tmp_path: Path) -> None:
    from pipeline.validation import validate

    schema_of(package, "features", lambda s: [f.pop("constraints", None) for f in s["fields"] if f["name"] == "note"])
    features = package.parent / "data" / "features.csv"
    long = "x" * (9 << 20)
    features.write_text(
        features.read_text(encoding="utf-8").replace("alpha,job-listings,,", f"alpha,job-listings,{long},"),
        encoding="utf-8",
    )
    assert validate(package).problems == []
    release = build(package, out=tmp_path / "dist")
    assert long in (release / "features.csv").read_text(encoding="utf-8")


def test_the_release_json_has_no_token_json_lacks(release: Path) -> None:
    def refuse(token: str) -> None:
        raise ValueError(token)

    for file in [release / "datapackage.json", *(release / "json").glob("*.json")]:
        json.loads(file.read_text(encoding="utf-8"), parse_constant=refuse)


@pytest.mark.parametrize("epoch", ["1e9", "99999999999999999999", "-99999999999999"])
def test_a_malformed_source_date_epoch_is_a_release_error(
    package: Path, tmp_path: Path, epoch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    with pytest.raises(pipeline.ReleaseError, match="SOURCE_DATE_EPOCH"):
        build(package, out=tmp_path / "dist")
    assert not (tmp_path / "dist" / version_of(package)).exists()


def test_a_source_date_epoch_of_letters_is_one_line_and_exit_2(package: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "release", str(package), "--out", str(tmp_path / "dist")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "SOURCE_DATE_EPOCH" in result.stderr
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


def test_a_resource_named_like_a_generated_file_is_refused(package: Path, tmp_path: Path) -> None:
    root = package.parent
    shutil.copy(root / "data" / "features.csv", root / "data" / "features-json.csv")
    descriptor = json.loads(package.read_text(encoding="utf-8"))
    twin = dict(next(r for r in descriptor["resources"] if r["name"] == "features"))
    twin.update(name="features-json", path="data/features-json.csv")
    descriptor["resources"].append(twin)
    package.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    with pytest.raises(pipeline.ReleaseError, match="'features-json'"):
        build(package, out=tmp_path / "dist")
    assert not (tmp_path / "dist" / version_of(package)).exists()


def with_datetimes(package: Path, cells: list[str], **constraints: str) -> None:
    """The fixture's features with a datetime field ``seen`` holding ``cells``, one a row."""
    field = {"name": "seen", "type": "datetime", **({"constraints": constraints} if constraints else {})}
    schema_of(package, "features", lambda s: s["fields"].append(field))
    features = package.parent / "data" / "features.csv"
    header, *rows = features.read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(cells)
    lines = [f"{header},seen", *(f"{row},{cell}" for row, cell in zip(rows, cells, strict=True))]
    features.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("cell", ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00"])
def test_a_datetime_past_the_calendar_once_in_utc_is_one_type_error(
    package: Path, tmp_path: Path, cell: str
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    with_datetimes(package, [cell, "2020-01-01T00:00:00Z"])
    result = CliRunner().invoke(app, ["validate", str(package), "--format", "json"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    [error] = json.loads(result.stdout)["errors"]
    assert (error["code"], error["path"], error["line"], error["column"], error["value"]) == (
        "type-error", "data/features.csv", 2, 5, cell
    )
    assert "0001 to 9999 once in UTC" in error["message"]
    with pytest.raises(pipeline.ReleaseError, match="1 type-error"):
        build(package, out=tmp_path / "dist")
    assert not (tmp_path / "dist" / version_of(package)).exists()


@pytest.mark.parametrize("bound", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00", "2020-01-01"])
def test_a_datetime_bound_no_cell_could_equal_is_a_schema_error(package: Path, bound: str) -> None:
    from pipeline.validation import validate

    with_datetimes(package, ["2020-01-01T00:00:00Z"] * 2, maximum=bound)
    [problem] = validate(package).problems
    assert (problem.code, problem.path, problem.field) == ("schema-error", "schemas/features.json", "seen")
    assert problem.message == f"constraint 'maximum' value {bound!r} is not a valid datetime"


def test_datetimes_at_both_ends_of_the_calendar_release_and_load_in_every_format(
    package: Path, tmp_path: Path
) -> None:
    import sqlite3

    import pandas as pd

    cells = ["9999-12-31T23:59:59.999999-00:00", "0001-01-01T05:00:00+05:00"]
    with_datetimes(package, cells)
    release = build(package, out=tmp_path / "dist")
    expected = [pd.Timestamp("9999-12-31T23:59:59.999999Z"), pd.Timestamp("0001-01-01T00:00:00Z")]
    for fmt in ("csv", "json", "parquet"):
        assert pipeline.load(release, format=fmt)["features"]["seen"].tolist() == expected, fmt
    with sqlite3.connect(release / "guanxi.sqlite") as db:
        stored = [v for (v,) in db.execute("SELECT seen FROM features ORDER BY platform_id")]
    assert stored == ["9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z"]
    assert (release / "guanxi.xlsx").stat().st_size > 0
    assert pipeline.verify(release) == []


def test_a_release_holding_an_instant_past_the_calendar_is_a_load_error(package: Path, tmp_path: Path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    with_datetimes(package, ["9999-12-31T23:59:59Z", "2020-01-01T00:00:00Z"])
    release = build(package, out=tmp_path / "dist")
    table = pq.read_table(release / "features.parquet")
    year_10000 = pa.array([253402318800 * 10**6, None], pa.timestamp("us", tz="UTC"))  # 10000-01-01T04:00Z
    table = table.set_column(table.column_names.index("seen"), "seen", year_10000)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    (release / "features.parquet").write_bytes(sink.getvalue())
    digest = hashlib.sha256(sink.getvalue()).hexdigest()
    edit_entry(release, "features-parquet", bytes=len(sink.getvalue()), hash=f"sha256:{digest}")
    with pytest.raises(pipeline.LoadError, match=r"features.parquet: row 1, field seen: .* 0001 to 9999"):
        pipeline.load(release, format="parquet")


# ------------------------------------------------------------------ internal errors become messages


def test_closed_stdout_and_an_ascii_terminal_are_not_internal_errors(package: Path) -> None:
    platforms = package.parent / "data" / "platforms.csv"
    platforms.write_text(platforms.read_text(encoding="utf-8").replace("alpha,Alpha,", "alpha, Alpha 甲,"), "utf-8")
    closed = subprocess.run(
        f"'{sys.executable}' -m pipeline validate '{package}' >&-", shell=True, capture_output=True, text=True, cwd=ROOT
    )
    assert closed.returncode == 2
    assert closed.stderr == "cannot print the result: standard output is closed\n"
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    ascii_only = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(package)], capture_output=True, env=env, cwd=ROOT
    )
    assert ascii_only.returncode == 1 and b"\\u7532" in ascii_only.stdout, ascii_only.stderr


def test_a_terminal_escape_in_a_cell_is_printed_escaped(package: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    platforms = package.parent / "data" / "platforms.csv"
    text = platforms.read_text(encoding="utf-8").replace("alpha,Alpha,", "alpha,Alpha\x1b[2J\x1b]0;owned\x07,")
    platforms.write_text(text, encoding="utf-8")
    for fmt in ("text", "github"):
        result = CliRunner().invoke(app, ["validate", str(package), "--format", fmt])
        assert result.exit_code == 1 and "control-character" in result.output + fmt * (fmt == "github")
        assert "\x1b" not in result.output and "\x07" not in result.output


DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000  # more digits than Python converts to an integer by default


def _reference(schema: dict, resource: object) -> None:
    schema["foreignKeys"][0]["reference"]["resource"] = resource


#: Malformed descriptors and schemas once met with an internal error: (the breakage, the
#: one problem validate reports as (code, path, the start of its message)).
MALFORMED = {
    "field-type-a-list": (
        lambda root: schema_of(root / "x.json", "features", lambda s: s["fields"][0].update(type=["string"])),
        ("schema-error", "schemas/features.json", "unknown type ['string']"),
    ),
    "unique-keys-a-number": (
        lambda root: schema_of(root / "x.json", "features", lambda s: s.update(uniqueKeys=5)),
        ("schema-error", "schemas/features.json", "'uniqueKeys' must be a list"),
    ),
    "foreign-key-resource-a-list": (
        lambda root: schema_of(root / "x.json", "features", lambda s: _reference(s, ["platforms"])),
        ("schema-error", "schemas/features.json", "a foreign key's reference 'resource' must be a resource name"),
    ),
    "nul-in-a-data-path": (
        lambda root: edit_descriptor(root, lambda d: d["resources"][0].update(path="data/sour\x00ces.csv")),
        ("resource-error", "datapackage.json", "resource sources: path 'data/sour\\x00ces.csv' holds a NUL"),
    ),
    "nul-in-a-schema-path": (
        lambda root: edit_descriptor(root, lambda d: d["resources"][0].update(schema="schemas/s\x00.json")),
        ("schema-error", "datapackage.json", "resource sources: schema path 'schemas/s\\x00.json' holds a NUL"),
    ),
    "descriptor-nested-100000-deep": (
        lambda root: (root / "datapackage.json").write_text(f'{{"resources": {DEEP}}}', encoding="utf-8"),
        ("package-error", "datapackage.json", "not usable JSON: nested too deeply"),
    ),
    "descriptor-number-of-5000-digits": (
        lambda root: (root / "datapackage.json").write_text(f'{{"resources": [], "x": {HUGE}}}', encoding="utf-8"),
        ("package-error", "datapackage.json", "not usable JSON: a number of 5000 digits; expected at most 4300"),
    ),
    "schema-nested-100000-deep": (
        lambda root: (root / "schemas" / "features.json").write_text(f'{{"fields": {DEEP}}}', encoding="utf-8"),
        ("schema-error", "schemas/features.json", "not usable JSON: nested too deeply"),
    ),
}


@pytest.mark.parametrize("breakage", sorted(MALFORMED))
def test_a_malformed_descriptor_or_schema_is_one_problem_in_every_command(
    package: Path, tmp_path: Path, breakage: str
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    change, (code, path, message) = MALFORMED[breakage]
    change(package.parent)
    runner = CliRunner()
    with unchanged(package.parent):
        checked = runner.invoke(app, ["validate", str(package), "--format", "json"])
        formatted = runner.invoke(app, ["fmt", str(package)])
        released = runner.invoke(app, ["release", str(package), "--out", str(tmp_path / "dist")])
        docs = runner.invoke(app, ["docs", str(package)])
        with pytest.raises(pipeline.LoadError, match=r"not valid: 1 problem|nested too deeply|digits"):
            pipeline.load(package, format="csv")
    for result in (checked, formatted, released, docs):  # an exit, never an exception escaping
        assert isinstance(result.exception, SystemExit), result.exception
    [error] = json.loads(checked.stdout)["errors"]
    assert (error["code"], error["path"]) == (code, path) and error["message"].startswith(message), error
    assert checked.exit_code == 1 and formatted.exit_code == 1
    refused = f"release refused: the package is not valid: 1 problem (1 {code})\n"
    assert released.exit_code == 2 and released.stderr == refused
    assert docs.exit_code == 2 and docs.stderr.count("\n") == 1
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


#: The same mistakes in a release's own descriptor: (the change, what the load error says).
MALFORMED_RELEASE = {
    "field-type-a-list": (lambda s: s["fields"][0].update(type=["string"]), "1 schema-error"),
    "unique-keys-a-number": (lambda s: s.update(uniqueKeys=5), "1 schema-error"),
    "foreign-key-resource-a-list": (lambda s: _reference(s, ["platforms"]), "1 schema-error"),
}


@pytest.mark.parametrize("breakage", sorted(MALFORMED_RELEASE))
def test_a_release_descriptor_with_a_malformed_schema_is_a_load_error(served: Path, breakage: str) -> None:
    change, message = MALFORMED_RELEASE[breakage]
    descriptor = json.loads((served / "datapackage.json").read_text(encoding="utf-8"))
    change(next(r for r in descriptor["resources"] if r["name"] == "features")["schema"])
    (served / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    for fmt in ("csv", "parquet"):
        with pytest.raises(pipeline.LoadError, match=message):
            pipeline.load(served, format=fmt)


@pytest.mark.parametrize("schema", ["schemas/features.json", "x\x00.json"])
def test_a_release_csv_without_its_schema_inline_is_a_load_error(served: Path, schema: str) -> None:
    edit_entry(served, "features", schema=schema)
    with pytest.raises(pipeline.LoadError, match="'features': a release's CSV carries its Table Schema inline"):
        pipeline.load(served, format="parquet")


@pytest.mark.parametrize("descriptor", ["[]", '{"resources": [{"path": "x\\u0000.csv"}]}'])
def test_verify_of_a_descriptor_that_is_a_list_or_holds_a_nul_is_one_line_and_exit_1(
    release: Path, tmp_path: Path, descriptor: str
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    copy = copy_of(release, tmp_path)
    (copy / "datapackage.json").write_text(descriptor, encoding="utf-8")
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.stdout.count("\n") == 1 and "the release descriptor" in result.stdout


DIFF_BREAKAGES = {
    "descriptor-a-list": lambda root: (root / "datapackage.json").write_text("[]"),
    "resources-an-object": lambda root: edit_descriptor(root, lambda d: d.update(resources={})),
    "resource-a-number": lambda root: edit_descriptor(root, lambda d: d["resources"].append(5)),
    "schema-fields-a-string": lambda root: (root / "schemas" / "features.json").write_text('{"fields": "x"}'),
    "primary-key-a-number": lambda root: schema_of(root / "x.json", "features", lambda s: s.update(primaryKey=5)),
    "schema-path-outside": lambda root: edit_descriptor(root, lambda d: d["resources"][0].update(schema="/etc/passwd")),
    "data-not-utf8": lambda root: (root / "data" / "features.csv").write_bytes(b"\xff\xfe"),
}


def edit_descriptor(root: Path, change: Callable[[dict], None]) -> None:
    file = root / "datapackage.json"
    descriptor = json.loads(file.read_text(encoding="utf-8"))
    change(descriptor)
    file.write_text(json.dumps(descriptor), encoding="utf-8")


@pytest.mark.parametrize("breakage", sorted(DIFF_BREAKAGES))
def test_diff_of_a_malformed_package_is_a_diff_error(package: Path, tmp_path: Path, breakage: str) -> None:
    other = tmp_path / "other"
    shutil.copytree(package.parent, other)
    DIFF_BREAKAGES[breakage](other)
    with unchanged(package.parent), pytest.raises(pipeline.DiffError):
        pipeline.diff(package, other / "datapackage.json")


def test_docs_of_a_package_without_the_timelines_resources_is_a_docs_error(package: Path) -> None:
    from pipeline.docs import build_docs

    edit_descriptor(package.parent, lambda d: d.update(resources=[r for r in d["resources"] if r["name"] != "metrics"]))
    with unchanged(package.parent), pytest.raises(pipeline.DocsError, match="lacks metrics"):
        build_docs(package, release=True)


@pytest.mark.parametrize(
    "breakage",
    ["not-json", "a-list", "resources-a-string", "no-such-column", "not-a-parquet-file", "json-nan"],
)
def test_every_failure_of_load_is_a_load_error(served: Path, breakage: str) -> None:
    descriptor = served / "datapackage.json"
    fmt = "parquet"
    if breakage == "not-json":
        descriptor.write_text("{", encoding="utf-8")
    elif breakage == "a-list":
        descriptor.write_text("[]", encoding="utf-8")
    elif breakage == "resources-a-string":
        descriptor.write_text('{"resources": "x"}', encoding="utf-8")
    elif breakage == "no-such-column":
        edit_descriptor(served, lambda d: d["resources"][0]["schema"]["fields"].append({"name": "ghost"}))
    else:
        fmt = "json" if breakage == "json-nan" else "parquet"
        entry = edit_entry(served, f"platforms-{fmt}")
        body = b'[{"platform_id": NaN}]' if fmt == "json" else b"PAR1 not really"
        (served / entry["path"]).write_bytes(body)
        edit_entry(served, f"platforms-{fmt}", bytes=len(body), hash=f"sha256:{hashlib.sha256(body).hexdigest()}")
    with pytest.raises(pipeline.LoadError):
        pipeline.load(served, format=fmt)


# ------------------------------------------------------------------ fuzz


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """One random edit of a file's bytes: a byte flipped, a span cut, repeated or replaced by
    something a hostile file holds."""
    if not data:
        return rng.choice([b"", b"\n", b"\x00"])
    i, j = sorted(rng.randrange(len(data) + 1) for _ in range(2))
    pieces = [b'"', b",", b"\r", b"\n", b"\x00", b"\x1b[2J", b"NaN", b"[" * 64, b"{}", b"\xff", b"../", "é".encode()]
    choice = rng.randrange(4)
    if choice == 0:
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
    if choice == 1:
        return data[:i] + data[j:]
    if choice == 2:
        return data[:j] + data[i:j] * rng.randrange(1, 4) + data[j:]
    return data[:i] + rng.choice(pieces) + data[j:]


def test_fuzzed_descriptors_schemas_and_csvs_give_reports_not_crashes(package: Path, tmp_path: Path) -> None:
    """Seeded and bounded in time: every mutated package is validated, formatted and diffed;
    each run must end in seconds with a report or a PackageError, and write nothing outside."""
    from pipeline.fmt import format_package
    from pipeline.validation import validate

    rng = random.Random(20261201)
    pristine = {p.relative_to(package.parent): p.read_bytes() for p in package.parent.rglob("*") if p.is_file()}
    targets = sorted(pristine)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "bait.csv").write_text("platform_id\nbait\n", encoding="utf-8")

    def too_long(signum: int, frame: object) -> None:
        raise TimeoutError("one fuzzed run took more than 10 s")

    previous = signal.signal(signal.SIGALRM, too_long)
    deadline = time.monotonic() + 6
    runs = 0
    try:
        with unchanged(outside), untouched(ROOT / "data", ROOT / "schemas"):
            while time.monotonic() < deadline:
                for rel, content in pristine.items():
                    (package.parent / rel).write_bytes(content)
                for rel in rng.sample(targets, rng.randrange(1, 3)):
                    (package.parent / rel).write_bytes(_mutate(rng, pristine[rel]))
                signal.alarm(10)
                report = validate(package)
                assert all(p.code in CODES for p in report.problems), report.problems
                changed, problems = format_package(package)
                assert not (changed and problems)
                with suppress(pipeline.PackageError):
                    pipeline.diff(package, package)
                signal.alarm(0)
                runs += 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert runs >= 5
