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
    import pyarrow as pa

#: The largest cell Python's csv module is allowed: none is refused for its size (its
#: default refuses cells over 128 KiB, which the validator accepts).
FIELD_SIZE_LIMIT = (1 << 31) - 1
#: How temporary files are named, so that ``.gitignore`` can ignore a leftover of a killed run.
TEMP_SUFFIX = ".guanxi-tmp"


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
    at most ``limit`` bytes."""
    try:
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except ValueError as exc:  # a NUL in the path
        raise OSError(errno.EINVAL, f"the path is not usable: {exc}", str(file)) from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(file, info.st_mode)
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"{info.st_size} bytes, more than the {limit} allowed", str(file))
        with os.fdopen(handle, "rb", closefd=True) as stream:
            handle = -1
            yield stream, info.st_size
    finally:
        if handle >= 0:
            os.close(handle)


def read_regular(file: Path | str, limit: int | None = None) -> bytes:
    """The bytes of a regular file; an ``OSError`` (with a plain ``strerror``) for anything
    else, or for a file larger than ``limit`` bytes."""
    with _opened_regular(file, limit) as (stream, _):
        data = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(data) > limit:  # it grew since it was measured
        raise OSError(errno.EFBIG, f"more than the {limit} bytes allowed", str(file))
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
        rest = stream.read()  # it grew since it was measured
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


def zip_members(file: Path | str, limit: int = 1 << 32) -> dict[str, bytes]:
    """The files of a release's zip by name. The zip must hold one folder of plain files
    (``guanxi-X.Y.Z/<name>``), none larger than ``limit`` bytes; an ``OSError`` otherwise."""

    return unzip_release(read_regular(file), str(file), limit)


def unzip_release(content: bytes, name: str, limit: int = 1 << 32) -> dict[str, bytes]:
    """The files of a release's zip held in memory (a zip fetched from a URL), as
    ``zip_members`` gives them; ``name`` says which zip in an ``OSError``."""
    import zipfile

    file = name
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            folders = {info.filename.split("/", 1)[0] for info in infos}
            if len(folders) != 1 or any(info.filename.count("/") != 1 for info in infos):
                raise OSError(errno.EINVAL, "expected one folder of files in the zip", str(file))
            if any(info.file_size > limit for info in infos):
                raise OSError(errno.EFBIG, f"a member is larger than the {limit} bytes allowed", str(file))
            return {info.filename.split("/", 1)[1]: archive.read(info) for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise OSError(errno.EINVAL, f"not a readable zip: {exc}", str(file)) from None
