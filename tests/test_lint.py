"""`underlag lint` on a fixture with known mistakes gives exactly those findings; the real chapters
are clean, with the summary, the proposal and the brief at LIX 40 or below."""

from __future__ import annotations

import pytest
import yaml
from conftest import copy_project

from underlag.commands.cli import main
from underlag.commands.lint import lix, sentences

CHAPTER = """# Inledning

Regionenn ska fatta ett beslutt om 3-5 alternativ.

Andelen är 78% och arbetet skall vara klart.

### Fel nivå

Det står "så här" i texten. Se @sec-saknas.

Ordet Västkom står i ordlistan.
"""


def test_lint_reports_exactly_the_mistakes(tmp_path, capsys):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/index.qmd").write_text(CHAPTER, "utf-8")
    (tmp_path / "chapters/ordlista.txt").write_text("Västkom\n", "utf-8")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"chapters": ["chapters/index.qmd"]}, "title": "Lint", "lang": "sv-SE"}), "utf-8")
    assert main(["lint", "--project", str(tmp_path)]) == 2
    findings = [line for line in capsys.readouterr().out.splitlines()]
    expected = [
        "chapters/index.qmd:9:32: cross-reference '@sec-saknas' has no target; add {#sec-saknas} to the target "
        "or fix the key",
        "chapters/index.qmd:3:1: warning: 'Regionenn' is not in the Swedish dictionary; fix the spelling or add "
        "the word to chapters/ordlista.txt",
        "chapters/index.qmd:3:25: warning: 'beslutt' is not in the Swedish dictionary; fix the spelling or add "
        "the word to chapters/ordlista.txt",
        "chapters/index.qmd:3:36: warning: a range is written with an en dash: 3–5",
        "chapters/index.qmd:5:13: warning: write a space before the per cent sign (78 %), or 'procent' in "
        "running text",
        "chapters/index.qmd:5:28: warning: write 'ska', not 'skall'",
        "chapters/index.qmd:7:1: warning: heading level 3 follows level 1; do not skip a level",
        "chapters/index.qmd:9:10: warning: use Swedish quotation marks ”…”",
        "chapters/index.qmd:9:17: warning: use Swedish quotation marks ”…”",
    ]
    assert findings == sorted(expected, key=lambda f: (f.split(":")[0], int(f.split(":")[1]), int(f.split(":")[2])))


def test_lix_by_hand_and_abbreviations():
    text = "Vi ska t.ex. läsa. Regionstyrelsen beslutar."  # 6 words, 2 sentences, 2 long words
    assert sentences(text) == ["Vi ska t\u2024ex\u2024 läsa.", "Regionstyrelsen beslutar."]
    assert lix(text) == pytest.approx(6 / 2 + 100 * 2 / 6)


@pytest.mark.parametrize("profile", [None, "kortversion"])
def test_the_real_chapters_are_clean(tmp_path, capsys, profile):
    project = copy_project(tmp_path / "project")
    args = ["lint", "--project", str(project)] + (["--profile", profile] if profile else [])
    assert main(args) == 0, capsys.readouterr().out
