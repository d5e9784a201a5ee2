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

STARTERS = PACKAGE / "starters"
HIDDEN_PREFIX = "dot-"


def starter_names() -> list[str]:
    return sorted(p.name for p in STARTERS.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def create_project(folder: Path, starter: str, git: bool = False) -> list[Path]:
    """Copy the starter into `folder` (absent or empty); return the files written."""
    source = STARTERS / starter
    if not source.is_dir():
        raise UsageError(f"mallen '{starter}' finns inte; välj en av {', '.join(starter_names())}")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"mappen {folder} finns redan och är inte tom; ange en ny eller tom mapp, "
                         "så skriver verktyget aldrig över något")
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
        _git_init(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts)


def _git_init(folder: Path) -> None:
    """A repository with the starter as its first commit is left to the writer: only `git init`,
    because the author's name and e-mail are theirs to set."""
    result = subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], capture_output=True, text=True)
    if result.returncode != 0:
        raise UsageError(f"git init misslyckades i {folder}: {result.stderr.strip()}; installera Git "
                         "eller skapa projektet utan --git")
