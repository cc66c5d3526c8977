"""Reading and writing a package's files: regular files only, inside the package, whole.

A named pipe, a device or a directory where a data file should be would block a reader or
feed it without end, so a file is opened without blocking and refused unless it is a
regular file. A write goes to a temporary file beside the target and is renamed over it,
so that a reader never sees half a file, and never goes through a link out of the package.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import zipfile

    import pyarrow as pa

#: The largest cell Python's csv module is allowed: none is refused for its size (its
#: default refuses cells over 128 KiB, which the validator accepts).
FIELD_SIZE_LIMIT = (1 << 31) - 1
#: How temporary files are named, so that ``.gitignore`` can ignore a leftover of a killed run.
TEMP_SUFFIX = ".guanxi-tmp"
#: The most a file of a package or a release may hold to be read (1 GiB): each is read
#: whole, and parsing it takes several times its size in memory. A larger one is refused
#: before any of it is read.
MAX_FILE_BYTES = 1 << 30
#: The most a release's zip may unpack to, its members' declared sizes together (4 GiB);
#: no member may be larger than ``MAX_FILE_BYTES`` either.
MAX_UNPACKED_BYTES = 4 << 30


def _amount(size: int) -> str:
    """A size as people read it: 1 GiB, 64 MiB, 3.2 GiB."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def too_large(file: Path | str, size: int, limit: int, what: str = "a file may hold to be read") -> OSError:
    """The error for a file (or zip member) larger than is read: its size and the limit."""
    return OSError(errno.EFBIG, f"{size} bytes, more than the {_amount(limit)} ({limit} bytes) {what}", str(file))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular(file: Path | str, mode: int) -> OSError:
    """The error for a path that is there but is not a regular file."""
    kind = _kind(mode)
    what = kind if kind.startswith("not") else f"{kind}, not a regular file"
    return OSError(errno.EINVAL, what, str(file))


@contextmanager
def _opened_regular(file: Path | str, limit: int | None) -> Iterator[tuple[io.BufferedReader, int]]:
    """The file opened for reading, with its size, once it is known to be a regular file of
    at most ``limit`` bytes (``MAX_FILE_BYTES`` unless given, and never more)."""
    limit = MAX_FILE_BYTES if limit is None else min(limit, MAX_FILE_BYTES)
    try:
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except ValueError as exc:  # a NUL in the path
        raise OSError(errno.EINVAL, f"the path is not usable: {exc}", str(file)) from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(file, info.st_mode)
        if info.st_size > limit:
            raise too_large(file, info.st_size, limit)
        with os.fdopen(handle, "rb", closefd=True) as stream:
            handle = -1
            yield stream, info.st_size
    finally:
        if handle >= 0:
            os.close(handle)


def read_regular(file: Path | str, limit: int | None = None) -> bytes:
    """The bytes of a regular file; an ``OSError`` (with a plain ``strerror``) for anything
    else, or for a file larger than ``limit`` bytes (``MAX_FILE_BYTES`` at most)."""
    limit = MAX_FILE_BYTES if limit is None else min(limit, MAX_FILE_BYTES)
    with _opened_regular(file, limit) as (stream, size):
        data = stream.read(size + 1)  # (a read of ``limit`` bytes would take as much memory at once)
        if len(data) > size:  # it grew since it was measured
            data += stream.read(max(0, limit - len(data) + 1))
    if len(data) > limit:  # it grew since it was measured
        raise too_large(file, len(data), limit)
    return data


def read_regular_buffer(file: Path | str) -> pa.Buffer:
    """The bytes of a regular file in memory of Arrow's allocator, as ``read_regular`` reads
    them (the same refusals): memory freed there is taken again by the next Arrow arrays,
    where freed bytes of Python's would go back to the system and the arrays would take
    fresh pages, each faulted in and zeroed."""
    import pyarrow as pa

    with _opened_regular(file, None) as (stream, size):
        buffer = pa.allocate_buffer(size)
        view, filled = memoryview(buffer), 0
        while filled < size and (count := stream.readinto(view[filled:])):
            filled += count
        rest = stream.read(1)  # it grew since it was measured (a larger read takes its bytes at once)
        if rest:
            rest += stream.read(MAX_FILE_BYTES - size)
    if size + len(rest) > MAX_FILE_BYTES:
        raise too_large(file, size + len(rest), MAX_FILE_BYTES)
    if rest:
        return pa.py_buffer(buffer.to_pybytes() + rest)
    return buffer if filled == size else buffer[:filled]


def regular_or_absent(file: Path) -> bool:
    """True when ``file`` is a regular file, False when nothing is there; an ``OSError`` for
    a folder, pipe, device or socket in its place."""
    try:
        info = os.stat(file)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode):
        raise not_regular(file, info.st_mode)
    return True


def inside(root: Path, target: Path) -> Path:
    """``target`` with its links resolved, or an ``OSError`` when that lies outside ``root``
    (a link out of the package, reading or writing)."""
    resolved = Path(os.path.realpath(target))
    if not resolved.is_relative_to(Path(os.path.realpath(root))):
        raise OSError(errno.EPERM, "it leads outside the package (through a symbolic link)", str(target))
    return resolved


def write_atomic(file: Path, content: bytes, root: Path | None = None) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file.

    The file keeps its permission bits (a new one gets the usual ones for the user's umask),
    the temporary file is removed on any exit, and with ``root`` given nothing is written
    through a link that leads outside it, nor over anything but a regular file.
    """
    if root is not None:
        file = inside(root, file)
    existing = regular_or_absent(file)
    if existing:
        mode = stat.S_IMODE(os.stat(file).st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temp, mode)
        os.replace(temp, file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Remove the temporary files a killed run left in ``folder``."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX) and entry.is_file():
            entry.unlink(missing_ok=True)


def csv_rows(text: str) -> list[list[str]]:
    """Rows parsed by Python's csv module, with no limit on a cell's size."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    return list(csv.reader(io.StringIO(text)))


def file_sha256(file: Path | str) -> tuple[int, str]:
    """The size and sha256 of a regular file, read in chunks (never whole into memory)."""
    handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(file, info.st_mode)
        hasher, size = hashlib.sha256(), 0
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()


class ReleaseZip:
    """A release's zip as downloaded: one folder of plain files (``guanxi-X.Y.Z/<name>``),
    its listing checked before any member is unpacked, and each member read only when
    asked for, never past its declared size. A zip whose members would unpack to more than
    ``MAX_UNPACKED_BYTES`` together, or hold one of more than ``MAX_FILE_BYTES``, is refused
    from its listing alone (a few megabytes can unpack to gigabytes)."""

    def __init__(self, source: Path | str | bytes, name: str | None = None) -> None:
        import zipfile

        self.source = source
        self.name = name or str(source)
        try:
            with self._open() as archive:
                infos = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
            raise OSError(errno.EINVAL, f"not a readable zip: {exc}", self.name) from None
        folders = {info.filename.split("/", 1)[0] for info in infos}
        if len(folders) != 1 or any(info.filename.count("/") != 1 for info in infos):
            raise OSError(errno.EINVAL, "expected one folder of files in the zip", self.name)
        for info in infos:
            if info.file_size > MAX_FILE_BYTES:
                said = too_large(self.name, info.file_size, MAX_FILE_BYTES, "a member may unpack to").strerror
                raise OSError(errno.EFBIG, f"{info.filename} unpacks to {said}", self.name)
        total = sum(info.file_size for info in infos)
        if total > MAX_UNPACKED_BYTES:
            said = too_large(self.name, total, MAX_UNPACKED_BYTES, "a zip's members may unpack to together").strerror
            raise OSError(errno.EFBIG, f"its members unpack to {said}", self.name)
        self.members = {info.filename.split("/", 1)[1]: info for info in infos}

    @contextmanager
    def _open(self) -> Iterator[zipfile.ZipFile]:
        import zipfile

        if isinstance(self.source, bytes):
            with zipfile.ZipFile(io.BytesIO(self.source)) as archive:
                yield archive
            return
        with _opened_regular(self.source, MAX_UNPACKED_BYTES) as (stream, _), zipfile.ZipFile(stream) as archive:
            yield archive

    def read(self, rel: str) -> bytes | None:
        """A member's bytes (None when the zip has no such file), or an ``OSError``."""
        import zipfile

        info = self.members.get(rel)
        if info is None:
            return None
        try:
            with self._open() as archive, archive.open(info) as stream:
                return stream.read(info.file_size + 1)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
            raise OSError(errno.EINVAL, f"{rel} cannot be unpacked: {exc}", self.name) from None

    def extract(self, rel: str, target: Path) -> None:
        """Unpack a member to ``target`` in chunks (never whole in memory)."""
        import shutil
        import zipfile

        try:
            with self._open() as archive, archive.open(self.members[rel]) as stream, target.open("wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
            raise OSError(errno.EINVAL, f"{rel} cannot be unpacked: {exc}", self.name) from None
