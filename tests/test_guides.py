"""Every message the writers' guides quote is what the tool prints now: the tool runs on the cases
the guides describe, and each quoted block (marked `<!-- exempel: case -->`) must appear in its
output, line for line. The starter's copies of the guides are the same files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT, copy_project

STARTER = PROJECT / "scripts/underlag/starters/beslutsunderlag"
GUIDES = ["chapters/README.md", "data/README.md"]
EXAMPLE = re.compile(r"<!-- exempel: (\w+) -->\n```\w*\n(.*?)\n```", re.DOTALL)


def run(*args: str, cwd: Path) -> list[str]:
    """The tool as a writer runs it: Swedish, whatever the test session's locale."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG"))}
    result = subprocess.run([sys.executable, "-m", "underlag", *args], cwd=cwd, capture_output=True, text=True,
                            check=False, env={**env, "LANG": "C.UTF-8"})
    return (result.stdout + result.stderr).splitlines()


def insert(path: Path, line: int, text: str) -> None:
    """`text` so that its first line becomes line `line` of the file."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: line - 1]) + text + "".join(lines[line - 1:]), "utf-8")


def replace(path: Path, old: str, new: str) -> None:
    content = path.read_text("utf-8")
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new, 1), "utf-8")


def chapter_mistakes(project: Path) -> None:
    chapters = project / "chapters"
    replace(chapters / "09-tidplan.qmd", "@tbl-statusfarger", "@tbl-statusfarg")
    insert(chapters / "03-bakgrund.qmd", 7, "Enligt [@rg-2025-01-28] ska arbetet fortsätta.\n\n")
    insert(chapters / "10-fortsatt-arbete.qmd", 5, "::: {.callout-varning}\nTänk på tiden.\n:::\n\n")
    insert(chapters / "13-beredning.qmd", 5, "\n::: {.callout-note}\nGlömd avslutning.\n")
    (project / "figures/static").mkdir(parents=True)
    shutil.copy(PROJECT / "tests/fixtures/plain-book/bilder/stapel.png", project / "figures/static/karta.png")
    insert(chapters / "07-utrullning.qmd", 5, "![](../figures/static/karta.png)\n\n")
    (chapters / "alternativ").mkdir()
    (chapters / "alternativ/alt-2.qmd").write_text("Text om alternativ två.\n", "utf-8")


def data_mistakes(project: Path) -> None:
    data = project / "data"
    replace(data / "alternativ/alt2-nasta-generation.yaml", "\ntitle: Gå", "\ntitel: Gå")
    replace(data / "milstolpar.yaml", "    forecast: 2025-01-20", "    prognos: 2025-01-20")
    replace(data / "bedomningar.csv", ";sources;status", ";kallor;status")


def lint_book(project: Path) -> None:
    (project / "chapters").mkdir(parents=True)
    (project / "chapters/03-bakgrund.qmd").write_text(
        "# Bakgrund\n\nAndelen är 78 procent och arbetet skall vara klart i dag.\n", "utf-8")
    (project / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"title": "Guide", "chapters": ["chapters/03-bakgrund.qmd"]}, "lang": "sv-SE"}), "utf-8")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, list[str]]:
    runs = {}
    for case, prepare, command in [("kapitel", chapter_mistakes, "check"), ("data", data_mistakes, "check")]:
        project = copy_project(tmp_path_factory.mktemp(case))
        prepare(project)
        runs[case] = run(command, cwd=project)
    lint_project = tmp_path_factory.mktemp("lint")
    lint_book(lint_project)
    runs["lint"] = run("lint", cwd=lint_project)
    return runs


def examples(guide: str) -> list[tuple[str, list[str]]]:
    return [(case, block.splitlines()) for case, block in EXAMPLE.findall((PROJECT / guide).read_text("utf-8"))]


@pytest.mark.parametrize("guide", GUIDES)
def test_every_quoted_message_is_printed_so(guide, outputs):
    found = examples(guide)
    assert found, "the guide quotes messages in marked blocks"
    for case, quoted in found:
        printed = outputs[case]
        starts = [i for i, line in enumerate(printed) if line == quoted[0]]
        assert any(printed[i:i + len(quoted)] == quoted for i in starts), \
            f"{guide} quotes (case {case}):\n" + "\n".join(quoted) + "\n\nthe tool prints:\n" + "\n".join(printed)


@pytest.mark.parametrize("guide", GUIDES)
def test_the_starter_carries_the_same_guide(guide):
    assert (STARTER / guide).read_text("utf-8") == (PROJECT / guide).read_text("utf-8")
