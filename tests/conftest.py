"""Shared fixtures: a copy of the project built once per session, and helpers to read outputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
# matrix, totals, switching values, rank acceptability, production impact, risk matrix, cumulative costs
ANALYSIS_FIGURES = 7
PROJECT_FILES = ("_quarto.yml", "_quarto-kortversion.yml", "_quarto-granskning.yml", "_variables.yml", "chapters", "data",
                 "templates")


def copy_project(dest: Path) -> Path:
    """The project's sources (not its outputs) in a fresh folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("_generated", "__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def underlag(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "underlag.cli", *args], cwd=cwd, capture_output=True, text=True)


def build_project(project: Path, *formats: str) -> dict[str, Path]:
    args = [a for fmt in formats for a in ("--format", fmt)]
    result = underlag("build", *args, cwd=project)
    assert result.returncode == 0, result.stderr
    return {fmt: project / "report" / f"beslutsunderlag.{fmt}" for fmt in (formats or ("pdf", "docx", "html"))}


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def docx_text(path: Path) -> str:
    import docx

    import re
    import zipfile

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    with zipfile.ZipFile(path) as archive:  # footnotes live in their own part
        if "word/footnotes.xml" in archive.namelist():
            xml = archive.read("word/footnotes.xml").decode()
            parts += ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in xml.split("</w:p>")]
    return "\n".join(parts)


def html_tree(path: Path):
    from lxml import html

    return html.parse(str(path)).getroot()


@pytest.fixture(scope="session")
def report(tmp_path_factory) -> dict[str, Path]:
    """The real report, built once in all three formats from a copy of the project."""
    project = copy_project(tmp_path_factory.mktemp("report"))
    return build_project(project)
