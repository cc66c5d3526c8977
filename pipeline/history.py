"""The package's releases as git records them: tags named ``vX.Y.Z``.

The previous release is the highest such tag, never whatever a build folder holds. The
package at a tag or commit is read from git itself (``git archive`` into a temporary
folder), so the working copy is untouched and nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import HistoryError

TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError as exc:  # git itself is not installed
        raise HistoryError(f"cannot run git: {exc.strerror or exc}") from None


def _directory(root: str | Path) -> Path:
    path = Path(root)
    return path if path.is_dir() else path.parent


def in_repository(root: str | Path) -> bool:
    """Whether ``root`` lies in a git work tree."""
    try:
        done = _git(_directory(root), "rev-parse", "--is-inside-work-tree")
    except HistoryError:
        return False
    return done.returncode == 0 and done.stdout.strip() == b"true"


def is_shallow(root: str | Path) -> bool:
    """Whether ``root``'s repository holds only part of its history (``git clone --depth``),
    so that a tag on an older commit may be missing from it."""
    if not in_repository(root):
        return False
    done = _git(_directory(root), "rev-parse", "--is-shallow-repository")
    return done.returncode == 0 and done.stdout.strip() == b"true"


def version_key(version: str) -> tuple[int, int, int]:
    """``"1.10.0"`` as ``(1, 10, 0)``, so that versions sort as numbers."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def release_tags(root: str | Path = ".") -> list[str]:
    """Every ``vX.Y.Z`` tag of the repository holding ``root``, oldest version first; none
    outside a git repository."""
    if not in_repository(root):
        return []
    done = _git(_directory(root), "tag", "--list", "v*")
    tags = [t for t in done.stdout.decode("utf-8", "replace").split() if TAG.match(t)]
    return sorted(tags, key=lambda t: version_key(t[1:]))


def latest_tag(root: str | Path = ".") -> str | None:
    """The highest ``vX.Y.Z`` tag, or None when nothing has been released yet."""
    tags = release_tags(root)
    return tags[-1] if tags else None


def commit_of(root: str | Path, ref: str) -> str | None:
    """The commit a tag, branch or commit id names, or None when the repository has no such ref."""
    if not ref or ref.startswith("-") or not in_repository(root):
        return None
    done = _git(_directory(root), "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else None


def commits_since(root: str | Path, ref: str) -> int:
    """How many commits the checked-out one is ahead of ``ref``."""
    done = _git(_directory(root), "rev-list", "--count", "--end-of-options", f"{ref}..HEAD")
    return int(done.stdout.decode().strip() or 0) if done.returncode == 0 else 0


def tracked(file: str | Path) -> bool:
    """Whether git tracks ``file``: a release folder in the ignored ``dist/``, or one
    downloaded elsewhere, is no part of any commit."""
    path = Path(file)
    if not path.is_file() or not in_repository(path):
        return False
    done = _git(path.parent, "--literal-pathspecs", "ls-files", "--error-unmatch", "--", path.name)
    return done.returncode == 0


def prefix(root: str | Path) -> str:
    """Where ``root`` lies inside its work tree, as git writes it (``""`` at the top)."""
    return _git(_directory(root), "rev-parse", "--show-prefix").stdout.decode().strip()


def changed_files(root: str | Path, paths: list[str], untracked: bool = True) -> list[str]:
    """The files under ``paths`` (relative to ``root``) that differ from the last commit or,
    with ``untracked``, are not committed yet; empty outside a git repository."""
    if not in_repository(root):
        return []
    shown = "--untracked-files=all" if untracked else "--untracked-files=no"
    done = _git(_directory(root), "status", "--porcelain", shown, "--", *paths)
    return sorted(line[3:] for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip())


def untracked_files(root: str | Path, paths: list[str]) -> list[str]:
    """Those of ``paths`` (files or folders, relative to ``root``, taken literally) that hold
    files git does not track and does not ignore, relative to ``root``; empty outside a git
    repository."""
    if not paths or not in_repository(root):
        return []
    listing = ("ls-files", "-z", "--others", "--exclude-standard", "--", *paths)
    done = _git(_directory(root), "--literal-pathspecs", *listing)
    return sorted(filter(None, done.stdout.decode("utf-8", "replace").split("\0")))


@contextlib.contextmanager
def files_at(root: str | Path, ref: str, within: Path | None = None) -> Iterator[Path]:
    """The folder of ``root`` as the repository held it at ``ref``, in a temporary folder
    (inside ``within`` if given) that is removed afterwards. Only regular files are written,
    each inside that folder."""
    commit = commit_of(root, ref)
    if commit is None:
        where = _directory(root).resolve()
        what = f"unknown reference {ref!r}: no such folder or descriptor"
        if in_repository(root):
            raise HistoryError(f"{what}, nor a tag or commit of {where}")
        raise HistoryError(f"{what}, and {where} is not a git repository")
    done = _git(_directory(root), "archive", "--format=tar", commit)
    if done.returncode != 0:
        raise HistoryError(f"git cannot read {ref}: {done.stderr.decode('utf-8', 'replace').strip()}")
    inner = prefix(root)
    with tempfile.TemporaryDirectory(prefix="guanxi-", dir=within) as tmp:
        dest = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
            members = [m for m in archive.getmembers() if m.isfile() or m.isdir()]
            archive.extractall(dest, members=members, filter="data")
        yield dest / inner if inner else dest


def differ_from_commit(root: str | Path, contents: dict[str, bytes]) -> list[str]:
    """The paths (relative to ``root``) whose given bytes are not the ones the last commit
    holds; empty outside a git repository. Each file is judged as git would store it."""
    if not contents or not in_repository(root):
        return []
    where = _directory(root)
    listed = _git(where, "ls-tree", "-z", "HEAD", "--", *contents).stdout.decode("utf-8", "replace")
    committed = {}
    for entry in filter(None, listed.split("\0")):
        meta, _, path = entry.partition("\t")
        committed[path] = meta.split()[2]
    differ = []
    for path, content in contents.items():
        blob = committed.get(path)
        if blob is None:
            differ.append(path)
        elif hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest() != blob:
            # line-ending conversion or a filter may store other bytes: ask git itself
            hashed = subprocess.run(
                ["git", "-C", str(where), "hash-object", f"--path={path}", "--stdin"],
                input=content, capture_output=True, check=False,
            )
            if hashed.stdout.decode().strip() != blob:
                differ.append(path)
    return sorted(differ)
