"""Play the documented workflows in throw-away git repositories, as a person would.

A workflow test starts from a fresh repository holding exactly the files of this work
tree that git would commit, runs the `make` targets the docs name, and reads the result.
The repositories reuse the running interpreter's environment through a `.venv` link, so
`make` finds its tools installed and never downloads anything; `-o .venv/.installed`
tells make not to rebuild that stamp. A workflow run inside another one (an inner
`make test`) skips the tests that would start yet another: `NESTED` says when.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NESTED = os.environ.get("GUANXI_WORKFLOW") == "1"
"""True inside a workflow's own `make test`: tests that play a whole workflow skip there."""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "guanxi tests",
    "GIT_AUTHOR_EMAIL": "tests@guanxi.invalid",
    "GIT_COMMITTER_NAME": "guanxi tests",
    "GIT_COMMITTER_EMAIL": "tests@guanxi.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "MAKE", "MFLAGS"))}
    env.update(GIT_ENV)
    env["GUANXI_WORKFLOW"] = "1"
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` with a fixed identity and no user or system configuration."""
    return subprocess.run(["git", *args], cwd=repo, env=_env(), text=True, capture_output=True, check=check)


def _link_environment(repo: Path) -> None:
    venv = repo / ".venv"
    if not venv.exists() and not venv.is_symlink():
        venv.symlink_to(Path(sys.prefix), target_is_directory=True)


def fresh_repo(dest: Path, *, tag: str | None = None) -> Path:
    """A new git repository at `dest` holding this work tree's committable files, committed once."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    dest.mkdir(parents=True)
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file() or source.is_symlink():
            continue  # deleted in the work tree but still in the index, or a link such as .venv
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "The package as it stands")
    if tag:
        git(dest, "tag", "-a", tag, "-m", tag)
    _link_environment(dest)
    return dest


def clone(source: Path, dest: Path) -> Path:
    """A clone of `source` (with its tags) at `dest`, ready for `make`."""
    subprocess.run(["git", "clone", "-q", str(source), str(dest)], env=_env(), check=True, capture_output=True)
    _link_environment(dest)
    return dest


def make(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `make ARGS` in `repo` as a user would, with the environment already installed."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=repo, env=_env(env), text=True, capture_output=True, timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"make {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def release_docs(repo: Path) -> str:
    """Make `repo` look released: its README counts and timeline redrawn from its data (as
    a release does), committed and tagged with the descriptor's version; return the tag."""
    import json

    from pipeline.docs import build_docs

    build_docs(repo / "datapackage.json", release=True)
    git(repo, "commit", "-q", "-a", "--allow-empty", "-m", "Describe the release")
    tag = "v" + json.loads((repo / "datapackage.json").read_text(encoding="utf-8"))["version"]
    git(repo, "tag", "-a", tag, "-m", tag)
    return tag
