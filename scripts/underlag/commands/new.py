"""`underlag new`: a new report project from a starter shipped as package data.

A starter is a folder under `starters/`. Package data globs skip hidden files, so a top-level
name `dot-x` in a starter becomes `.x` in the new project (`.gitignore`, `.vscode/`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from underlag.engine.confine import PACKAGE
from underlag.engine.errors import UsageError
from underlag.engine.messages import text as _

STARTERS = PACKAGE / "starters"
HIDDEN_PREFIX = "dot-"


def starter_names() -> list[str]:
    return sorted(p.name for p in STARTERS.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def create_project(folder: Path, starter: str, git: bool = False) -> list[Path]:
    """Copy the starter into `folder` (absent or empty); return the files written."""
    source = STARTERS / starter
    if not source.is_dir():
        raise UsageError(_("new.no_starter", starter=starter, choices=", ".join(starter_names())))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(_("new.folder_not_empty", folder=folder))
    folder.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        name = "." + entry.name.removeprefix(HIDDEN_PREFIX) if entry.name.startswith(HIDDEN_PREFIX) else entry.name
        if entry.is_dir():
            shutil.copytree(entry, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, folder / name)
    if (folder / "data").is_dir():
        # the JSON Schemas the editors validate data/ with come from the installed model, so a
        # new project's schemas always match the tool that reads its data
        from underlag.report.schema import write_schemas

        write_schemas(folder)
    if git:
        _git_init(folder, starter)
    return sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts)


def _git_init(folder: Path, starter: str) -> None:
    """A repository whose first commit is the starter, so the version history (`underlag publish`,
    the change log) works at once. The commit is made in the writer's own Git name; without one,
    Git refuses and the writer is told how to set it and commit."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)

    try:
        steps = [("init", "-q", "-b", "main"), ("add", "-A"),
                 ("commit", "-q", "-m", f"Nytt projekt från underlag new (mallen {starter})")]
        for step in steps:
            result = git(*step)
            if result.returncode != 0:
                break
    except FileNotFoundError:
        raise UsageError(_("new.no_git", folder=folder)) from None
    if result.returncode == 0:
        return
    if step[0] == "commit":
        raise UsageError(_("new.no_identity", folder=folder))
    raise UsageError(_("new.git_failed", command=step[0], folder=folder, reason=result.stderr.strip()))
