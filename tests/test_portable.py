"""A writer's setup that needs nothing but Python (issue 19): the PDF's fonts and the Swedish
dictionary come with pip, so a build on a machine without the Linux font and dictionary folders
(Windows, macOS) gives the same PDF fonts and the same spelling findings.

The system's folders are hidden for real: the command runs in a mount namespace of its own
(`unshare`) with an empty tmpfs over each folder. Where namespaces are not allowed (not Linux, or a
runner that forbids unprivileged user namespaces) the two tests that need it are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT

SYSTEM_FOLDERS = ["/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/hunspell", "/usr/share/myspell",
                  str(Path.home() / ".fonts"), str(Path.home() / ".local/share/fonts")]
BOOK = {
    "_quarto.yml": "project:\n  type: book\nbook:\n  title: Typsnitt\n  chapters:\n    - index.qmd\nlang: sv-SE\n",
    "index.qmd": "# Rubrik i fetstil {#sec-a}\n\nBrödtext med **fetstil**, *kursiv* och ***båda***.\n\n"
                 "| Post | Belopp |\n|---|---:|\n| Kostnad | −12 500 |\n\n: Tabell med minustecken {#tbl-a}\n",
}
MISSPELT = "# Inledning\n\nRegionenn ska fatta ett beslutt om 3-5 alternativ.\n"


def _namespaces_work() -> bool:
    if not sys.platform.startswith("linux") or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs none /tmp"], capture_output=True)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(not _namespaces_work(), reason="hiding system folders needs Linux mount "
                                      "namespaces (unshare -rm), which this machine does not allow")


def run(args: list[str], cwd: Path, hide: list[str] = ()) -> subprocess.CompletedProcess:
    """`python -m underlag ARGS` in cwd; with `hide`, inside a mount namespace where each of those
    folders (that exists) is an empty tmpfs."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "scripts")}
    command = [sys.executable, "-m", "underlag", *args]
    folders = [folder for folder in hide if Path(folder).is_dir()]
    if folders:
        mounts = "".join(f'mount -t tmpfs none "{folder}" && ' for folder in folders)
        command = ["unshare", "-rm", "sh", "-c", f'{mounts}exec "$@"', "sh", *command]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def pdf_fonts(path: Path) -> set[str]:
    """The base names of the fonts a PDF embeds, without the subset prefix (ABCDEF+)."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        return {str(font.BaseFont).split("+")[-1] for page in pdf.pages
                for font in page.Resources.get("/Font", {}).values()}


def write_book(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def dictionary_folder() -> str:
    from underlag.commands.lint import dictionary_path

    found = dictionary_path()
    assert found is not None, "hunspell-sv is a dependency: pip install -e . brings it"
    return str(found.parent)


@needs_namespaces
def test_the_pdf_has_the_same_fonts_with_the_system_fonts_hidden(tmp_path):
    fonts = {}
    for name, hide in (("normal", []), ("hidden", SYSTEM_FOLDERS)):
        book = write_book(tmp_path / name, BOOK)
        result = run(["build", "--format", "pdf"], book, hide)
        assert result.returncode == 0, result.stderr
        fonts[name] = pdf_fonts(book / "report/rapport.pdf")
    assert fonts["hidden"] == fonts["normal"]
    # Noto Serif for the body, Noto Sans for headings and table heads, and nothing else: the real
    # minus sign is in the packaged fonts (Debian's 2020 Noto lacked it, so Typst borrowed Libertinus)
    families = {re.sub(r"-\w+$", "", font) for font in fonts["normal"]}
    assert families == {"NotoSerif", "NotoSans"}, fonts["normal"]


@needs_namespaces
def test_lint_finds_a_swedish_misspelling_without_the_system_dictionary(tmp_path):
    book = write_book(tmp_path / "bok", {**BOOK, "index.qmd": MISSPELT})
    result = run(["lint"], book, SYSTEM_FOLDERS)
    assert "Traceback" not in result.stderr, result.stderr
    assert "index.qmd:3:1: warning: 'Regionenn' is not in the Swedish dictionary" in result.stdout, result.stdout
    assert "index.qmd:3:25: warning: 'beslutt'" in result.stdout


@needs_namespaces
def test_lint_without_any_dictionary_says_so_once_and_checks_the_rest(tmp_path):
    """The dictionary package's files gone as well: one warning that spelling was not checked,
    every other check still made, no traceback."""
    book = write_book(tmp_path / "bok", {**BOOK, "index.qmd": MISSPELT})
    result = run(["lint"], book, [*SYSTEM_FOLDERS, dictionary_folder()])
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.count("the Swedish dictionary (the package hunspell-sv) is missing") == 1, result.stdout
    assert "'Regionenn'" not in result.stdout  # no spelling finding (the line itself is shown under others)
    assert "index.qmd:3:36: warning: a range is written with an en dash: 3–5" in result.stdout


def test_the_code_names_no_folder_of_one_operating_system():
    """Fonts, dictionaries and tools are found through Python's packages, never in /usr/share or
    another fixed system folder that exists only on one platform."""
    system_path = re.compile(r"""["'](/usr/share|/usr/local/share|/opt/homebrew|/Library/Fonts|C:\\\\Windows)""")
    offenders = [f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
                 for path in sorted((PROJECT / "scripts/underlag").rglob("*.py"))
                 for number, line in enumerate(path.read_text("utf-8").splitlines(), 1) if system_path.search(line)]
    assert offenders == []
