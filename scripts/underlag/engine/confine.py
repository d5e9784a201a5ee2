"""Confinement: every path the tool reads must lie inside the project, every path it writes or
deletes inside one of its own output areas, checked before the operation.

Paths are compared after `Path.resolve()` (links followed) by path components
(`Path.is_relative_to`), never as strings: `/x/proj-sibling` is not inside `/x/proj`.
An output area (report/, figures/, chapters/_generated/, .underlag-cache/ and the lock file)
must be a real folder or file reached without a link: a committed link there would let a
contributor's branch make the build write or delete outside the project, so it is refused
with the link's name, before anything is written.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from underlag.engine.errors import InputError, Problem
from underlag.engine.messages import text as _

# The tool's own outputs, relative to the project root.
OUTPUT_AREAS = ("report", "figures", "chapters/_generated", ".underlag-cache", ".underlag.lock")
# Folders and files the tool reads; a link in them that leads out of the project is refused.
STATIC_FIGURES = "figures/static/"  # hand-made figures: committed on purpose
SOURCE_AREAS = ("_quarto.yml", "_variables.yml", "chapters", "data", "templates", "figures")
# The package's own files, found the way an installed wheel holds them (package data read with
# importlib.resources), never in a source tree: `pip install underlag` must work anywhere.
PACKAGE = Path(str(resources.files("underlag"))).resolve()
# The templates shipped as package data; a project's own templates/<name> overrides one file by file.
SHIPPED_TEMPLATES = PACKAGE / "templates"


def resolved(path: Path) -> Path | None:
    """The path with every link followed, or None when the links go round in a loop."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):  # "Symlink loop from …" (Python 3.11), ELOOP
        return None


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links followed, lies in `folder` (compared by components, not strings)."""
    target = resolved(path)
    return target is not None and target.is_relative_to(Path(folder).resolve())


def _shown(path: Path, root: Path) -> str:
    try:
        return Path(os.path.normpath(path)).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_read(root: Path, path: Path, where: tuple[str, int | None, int | None] | None = None) -> Path:
    """`path` if it resolves inside the project (or is one of the tool's own files), else InputError
    located at `where` (the file and line that named it) or at the path itself."""
    root = Path(root).resolve()
    if inside(path, root) or inside(path, PACKAGE):  # the package's files: its templates, language tables, filters
        return path
    place = where or (_shown(path, root), None, None)
    raise InputError([Problem(*place, _("confine.outside", path=_shown(path, root)))])


def link_leaving(root: Path, path: Path) -> Path | None:
    """The first link on the way from the project root to `path` (inclusive), if any."""
    root = Path(root).resolve()
    current = root
    for part in Path(os.path.normpath(path)).relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def output_path(root: Path, path: Path) -> Path:
    """`path` if the tool may write or delete it: inside one of its output areas, reached without a
    link, after resolving. Raise InputError naming the offending path otherwise."""
    root = Path(root).resolve()
    normal = Path(os.path.normpath(Path(path).absolute()))
    area = next((a for a in OUTPUT_AREAS if normal.is_relative_to(root / a)), None)
    if area is None:
        raise InputError([Problem(_shown(normal, root), None, None,
                                  _("confine.not_output_area"))])
    link = link_leaving(root, normal)
    if link is not None or not inside(normal, root / area):
        raise InputError([_link_problem(root, link or normal, area)])
    return normal


def _link_problem(root: Path, link: Path, area: str) -> Problem:
    return Problem(_shown(link, root), None, None,
                   _("confine.link_in_output", target=os.path.realpath(link), area=area, link=_shown(link, root)))


def prepare_area(root: Path, area: str) -> Path:
    """The output area `area` as a real folder inside the project, created if missing (never through
    a link)."""
    folder = output_path(root, Path(root).resolve() / area)
    folder.mkdir(parents=True, exist_ok=True)
    output_path(root, folder)  # a link could have appeared while we created it
    return folder


def outside_links(root: Path, extra: list[Path] = ()) -> list[Problem]:
    """Every link among the sources (and `extra` paths) that leads out of the project, and every link
    where the tool writes: refused when the book is read, before any stage runs."""
    root = Path(root).resolve()
    problems = {}
    for area in OUTPUT_AREAS:
        link = link_leaving(root, root / area)
        if link is not None:
            problems[link] = _link_problem(root, link, area)
            continue
        for path in _walk(root / area):  # a link anywhere the tool writes, even to inside the project
            if path.is_symlink():
                problems[path] = _link_problem(root, path, area)
    profiles = sorted(root.glob("_quarto-*.yml"))
    for start in [root / name for name in SOURCE_AREAS] + profiles + list(extra):
        for path in _walk(start):
            if path in problems or not path.is_symlink() or inside(path, root):
                continue
            if resolved(path) is None:
                problems[path] = Problem(_shown(path, root), None, None, _("confine.link_loop"))
                continue
            problems[path] = Problem(_shown(path, root), None, None,
                                     _("confine.link_outside", target=os.path.realpath(path)))
    return sorted(problems.values(), key=lambda p: p.path)


def committed_outputs(root: Path) -> list[Problem]:
    """Files in the tool's output areas that Git tracks: a branch could commit a crafted report or
    cache index (force-added past .gitignore) that a build would take as its own. Generated files
    are never committed; hand-made figures live in figures/static/."""
    import subprocess

    try:
        result = subprocess.run(["git", "ls-files", "-z", "--", *OUTPUT_AREAS], cwd=root, capture_output=True)
    except OSError:  # no git: nothing is tracked
        return []
    if result.returncode != 0:  # not a repository
        return []
    tracked = [name for name in result.stdout.decode("utf-8", "replace").split("\0") if name]
    return [Problem(name, None, None, _("confine.committed_output", name=name))
            for name in tracked if not name.startswith(STATIC_FIGURES)]


def confinement_problems(root: Path) -> list[Problem]:
    """What must stop a build before it reads anything: links out of the project, links where the
    tool writes, and generated files that Git tracks."""
    return outside_links(root) + committed_outputs(root)


def _walk(start: Path):
    """`start` and everything below it, without following links to folders."""
    if start.is_symlink() or start.exists():
        yield start
    if start.is_symlink() or not start.is_dir():
        return
    for folder, dirs, files in os.walk(start):  # os.walk does not descend into linked folders
        for name in dirs + files:
            yield Path(folder) / name
