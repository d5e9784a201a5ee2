"""Cache keys hold what really produces an output (issue 21, item 1): the content of our own code,
filters and shipped templates, and the project's templates, never a version string.

The package is copied, so that a test can edit a renderer the way a developer (or an upgrade
without a version bump) would, and the build runs from the copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT

PLAIN_BOOK = Path(__file__).parent / "fixtures" / "plain-book"


def copy_package(dest: Path) -> Path:
    """scripts/underlag with its packaged templates; returns the scripts folder."""
    shutil.copytree(PROJECT / "scripts" / "underlag", dest / "scripts" / "underlag",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "scripts"


def build(project: Path, scripts: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(scripts)}
    result = subprocess.run([sys.executable, "-m", "underlag", "build", "--format", "html"], cwd=project,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def rendered(stderr: str) -> bool:
    return "Nothing changed" not in stderr


@pytest.mark.parametrize("edited", [
    "scripts/underlag/engine/render/html.py",  # a renderer: only its content can tell (the version is the same)
    "scripts/underlag/engine/render/pandoc.py",
    "scripts/underlag/engine/filters/blocks.lua",  # a Lua filter
    "scripts/underlag/templates/html/style.css",  # the stylesheet this package ships (the book has none of its own)
])
def test_a_changed_package_file_re_renders(tmp_path, edited):
    scripts = copy_package(tmp_path / "src")
    project = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    build(project, scripts)
    assert not rendered(build(project, scripts)), "a second build with nothing changed must render nothing"
    path = tmp_path / "src" / edited
    comment = "-- ändrad\n" if path.suffix == ".lua" else "/* ändrad */\n" if path.suffix == ".css" else "# ändrad\n"
    path.write_text(path.read_text("utf-8") + comment, "utf-8")
    assert rendered(build(project, scripts)), f"{edited} changed, but the HTML was taken from the cache"


def test_the_projects_own_stylesheet_is_part_of_the_key(tmp_path):
    """A book with its own templates/html/style.css: only the template's bytes in the format key
    notice its edit (our package is unchanged)."""
    scripts = copy_package(tmp_path / "src")
    project = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    (project / "templates/html").mkdir(parents=True)
    shutil.copy(scripts / "underlag/templates/html/style.css", project / "templates/html/style.css")
    build(project, scripts)
    assert not rendered(build(project, scripts))
    stylesheet = project / "templates/html/style.css"
    stylesheet.write_text(stylesheet.read_text("utf-8") + "\nbody { letter-spacing: 0.01em; }\n", "utf-8")
    assert rendered(build(project, scripts))
    assert "letter-spacing: 0.01em" in (project / "report/beslutsunderlag.html").read_text("utf-8")


def test_package_digest_follows_content_not_names(tmp_path):
    """The digest reads every code file and template; run in a child so the per-process cache is fresh."""
    scripts = copy_package(tmp_path / "src")
    probe = "from underlag.engine.cache import package_digest; print(package_digest())"

    def digest() -> str:
        return subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(scripts)},
                              capture_output=True, text=True, check=True).stdout.strip()

    before = digest()
    assert digest() == before
    typst = scripts / "underlag/templates/typst/report.typ"
    typst.write_text(typst.read_text("utf-8") + "\n// ändrad\n", "utf-8")
    assert digest() != before


def test_the_books_settings_are_part_of_the_key(tmp_path):
    """number-sections, crossref prefixes, lang and the like live in _quarto.yml, not in the chapters:
    changing one must re-render, and the output must follow it."""
    from underlag.commands.build import Options, build as build_book

    project = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    build_book(project, Options(formats=("html",)))
    config = project / "_quarto.yml"
    config.write_text(config.read_text("utf-8") + "number-sections: false\ncrossref:\n  fig-prefix: Bild\n", "utf-8")
    result = build_book(project, Options(formats=("html",)))
    assert result.rendered == ["format:beslutsunderlag.html"]
    page = (project / "report/beslutsunderlag.html").read_text("utf-8")
    assert ">Bild\u00a01</a>" in page and "Bild\u00a01.1" not in page and ">1.1</span> Detaljer" not in page
