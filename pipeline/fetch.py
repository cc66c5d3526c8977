"""Fetch a release's files over HTTP(S) without leaving the release.

A remote descriptor is trusted to describe its own files and nothing else: a path must be
relative and is fetched from the descriptor's own scheme, host and port (a redirect may
not leave them either), so a descriptor cannot make the loader read a local file or reach
another host. Each file must carry a sha256, is hashed while it streams in, may not grow
past the size its descriptor gives (or a hard ceiling) and must arrive before a deadline
that covers the whole load.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import NamedTuple

from .errors import LoadError

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The most any one fetched file may hold, whatever its descriptor says.
MAX_BYTES = 4 << 30
#: The most a remote descriptor may hold.
MAX_DESCRIPTOR_BYTES = 64 << 20
#: Seconds a whole load may take, and seconds the server may stay silent (never past the
#: deadline: each read is given at most the time left).
DEADLINE = 600.0
STALL = 30.0
HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
CHUNK = 1 << 16


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def origin_of(url: str) -> Origin:
    """The scheme, host and port a URL reaches (default ports said), or a ``LoadError``."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise LoadError(f"{url}: only http and https URLs are fetched")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise LoadError(f"{url}: the port is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise LoadError(f"{url}: the URL names no host")
    return Origin(scheme, parts.hostname.lower(), port)


class _StayInOrigin(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same scheme, host and port."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        target = urllib.parse.urljoin(req.full_url, newurl)
        if urllib.parse.urlsplit(target).scheme.lower() not in SCHEMES or origin_of(target) != self.origin:
            raise LoadError(f"{req.full_url}: redirected to {target}, outside the release at {self.origin}")
        return super().redirect_request(req, fp, code, msg, headers, target)


def _cut(connection: socket.socket) -> None:
    """Shut a connection down from another thread: the plain socket's shutdown, which wakes a
    read blocked on it (a TLS socket's own shutdown would tear its state from under it)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(connection, socket.SHUT_RDWR)


def _socket_of(response: object) -> socket.socket | None:
    """The connection a response is read from (``http.client`` keeps it as ``fp.raw._sock``),
    so that each read can be given the time left; None should that ever change."""
    connection = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    return connection if isinstance(connection, socket.socket) else None


class _Watched:
    """A handler mixin: the socket of each connection it opens is handed to ``watch``, so that
    a load can cut a connection still open at its deadline. A read's own timeout cannot
    bound the status line and headers, which ``http.client`` reads line by line: a server
    that sends a byte at a time could hold them open for ever."""

    watch: Callable[[socket.socket], None]

    def do_open(self, http_class, req, **kwargs):  # type: ignore[no-untyped-def]
        return super().do_open(_watched(http_class), req, watch=self.watch, **kwargs)  # type: ignore[misc]


@functools.cache
def _watched(http_class: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
    class Watched(http_class):  # type: ignore[valid-type, misc]
        def __init__(self, *args: object, watch: Callable[[socket.socket], None], **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.watch = watch

        def connect(self) -> None:
            super().connect()
            self.watch(self.sock)

    return Watched


class _WatchedHTTP(_Watched, urllib.request.HTTPHandler):
    pass


class _WatchedHTTPS(_Watched, urllib.request.HTTPSHandler):
    pass


class Remote:
    """One release behind a URL: its origin, its folder and the deadline of the load."""

    def __init__(self, descriptor_url: str, timeout: float = DEADLINE) -> None:
        self.url = descriptor_url
        self.origin = origin_of(descriptor_url)
        self.folder = urllib.parse.urljoin(descriptor_url, ".")
        self.deadline = time.monotonic() + timeout
        self.expired = False  # set when the deadline cut the connections still open
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self.opener = urllib.request.OpenerDirector()
        # http and https only: no file:, ftp: or data: handler, and redirects checked
        plain, secure = _WatchedHTTP(), _WatchedHTTPS()
        plain.watch = secure.watch = self._watch
        for handler in (
            urllib.request.ProxyHandler(),
            plain,
            secure,
            urllib.request.HTTPDefaultErrorHandler(),
            _StayInOrigin(self.origin),
            urllib.request.HTTPErrorProcessor(),
        ):
            self.opener.add_handler(handler)

    def _watch(self, connection: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _cut(connection)
            else:
                self._open.append(connection)

    def _expire(self) -> None:
        """At the deadline: every connection still open is shut, so a read waiting on one
        (for a header byte, say) returns at once."""
        with self._lock:
            self.expired = True
            for connection in self._open:
                _cut(connection)
            self._open.clear()

    def member(self, rel: str) -> str:
        """The URL of a path of the release (already checked to be relative and inside)."""
        url = urllib.parse.urljoin(self.folder, urllib.parse.quote(rel))
        if origin_of(url) != self.origin or not url.startswith(self.folder):
            raise LoadError(f"path {rel!r} leads outside the release at {self.folder}")
        return url

    def descriptor(self) -> bytes:
        return self.fetch(self.url, MAX_DESCRIPTOR_BYTES)

    def fetch(self, url: str, limit: int | None = None, digest: str | None = None, size: int | None = None) -> bytes:
        """The body at ``url``, refused when larger than ``limit`` (``MAX_BYTES`` unless
        given), than ``size`` or when its sha256 is not ``digest``."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise LoadError(f"{url}: the load took longer than its deadline")
        request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
        hasher = hashlib.sha256()
        chunks: list[bytes] = []
        received = 0
        limit = MAX_BYTES if limit is None else limit
        limit = min(limit, size) if size is not None else limit
        alarm = threading.Timer(remaining, self._expire)
        alarm.daemon = True
        alarm.start()
        try:
            with self.opener.open(request, timeout=min(remaining, STALL)) as response:
                announced = response.headers.get("Content-Length")
                if announced and announced.isdigit() and int(announced) > limit:
                    raise LoadError(f"{url}: the server announces {announced} bytes, more than the {limit} expected")
                connection = _socket_of(response)
                while True:
                    left = self.deadline - time.monotonic()
                    if left <= 0:
                        raise LoadError(f"{url}: the file did not arrive before the load's deadline")
                    if connection is not None:  # no read may outlast the deadline
                        connection.settimeout(min(STALL, left))
                    try:
                        chunk = response.read1(CHUNK)
                    except TimeoutError:
                        if time.monotonic() >= self.deadline - 0.05:
                            raise LoadError(f"{url}: the file did not arrive before the load's deadline") from None
                        raise LoadError(f"{url}: the server sent nothing for {min(STALL, left):g} s") from None
                    if not chunk:
                        break
                    received += len(chunk)
                    if received > limit:
                        raise LoadError(f"{url}: more than the {limit} bytes expected; the transfer was stopped")
                    hasher.update(chunk)
                    chunks.append(chunk)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if self.expired:
                raise LoadError(f"{url}: the file did not arrive before the load's deadline") from None
            raise LoadError(f"cannot fetch {url}: {exc}") from None
        finally:
            alarm.cancel()
            with self._lock:
                self._open.clear()
        if self.expired:
            raise LoadError(f"{url}: the file did not arrive before the load's deadline")
        if digest is not None and f"sha256:{hasher.hexdigest()}" != digest:
            raise LoadError(f"{url}: the file does not match the sha256 in datapackage.json")
        if size is not None and received != size:
            raise LoadError(f"{url}: {received} bytes, the descriptor says {size}")
        return b"".join(chunks)
