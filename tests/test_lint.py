"""`underlag lint` on a fixture with known mistakes gives exactly those findings; the real chapters
are clean, with the summary, the proposal and the brief at LIX 40 or below."""

from __future__ import annotations

import pytest
import yaml
from conftest import copy_project

from underlag.commands.cli import main
from underlag.commands.lint import lix, sentences
from underlag.engine.messages import text

CHAPTER = """# Inledning

Regionenn ska fatta ett beslutt om 3-5 alternativ.

Andelen är 78% och arbetet skall vara klart.

### Fel nivå

Det står "så här" i texten. Se @sec-saknas.

Ordet Västkom står i ordlistan.
"""


def _lint_project(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/index.qmd").write_text(CHAPTER, "utf-8")
    (tmp_path / "chapters/ordlista.txt").write_text("Västkom\n", "utf-8")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"chapters": ["chapters/index.qmd"]}, "title": "Lint", "lang": "sv-SE"}), "utf-8")
    return tmp_path


def test_lint_reports_exactly_the_mistakes(tmp_path, capsys):
    project = _lint_project(tmp_path)
    assert main(["lint", "--project", str(project)]) == 2
    findings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("chapters/")]
    warning = text("problem.warning")
    spelling = {"word_list": "chapters/ordlista.txt"}
    expected = [
        f"chapters/index.qmd:9:32: {text('assemble.reference_no_target', key='sec-saknas')}",
        f"chapters/index.qmd:3:1: {warning}{text('lint.spelling', word='Regionenn', **spelling)}",
        f"chapters/index.qmd:3:25: {warning}{text('lint.spelling', word='beslutt', **spelling)}",
        f"chapters/index.qmd:3:36: {warning}{text('lint.range_dash')}",
        f"chapters/index.qmd:5:13: {warning}{text('lint.percent_space')}",
        f"chapters/index.qmd:5:28: {warning}{text('lint.skall')}",
        f"chapters/index.qmd:7:1: {warning}{text('lint.heading_skip', level=3, previous=1)}",
        f"chapters/index.qmd:9:10: {warning}{text('lint.quotes')}",
        f"chapters/index.qmd:9:17: {warning}{text('lint.quotes')}",
    ]
    assert findings == sorted(expected, key=lambda f: (f.split(":")[0], int(f.split(":")[1]), int(f.split(":")[2])))


def test_each_finding_shows_its_line_with_a_caret(tmp_path, capsys):
    project = _lint_project(tmp_path)
    main(["lint", "--project", str(project)])
    out = capsys.readouterr().out.splitlines()
    at = out.index(next(line for line in out if line.startswith("chapters/index.qmd:5:28:")))
    assert out[at + 1] == text("lint.line_text", text="Andelen är 78% och arbetet skall vara klart.")
    assert out[at + 2] == text("lint.line_text", text=" " * 27 + "^")  # column 28: under "skall"
    assert out[at + 1][out[at + 2].index("^"):].startswith("skall")


def test_lix_by_hand_and_abbreviations():
    text = "Vi ska t.ex. läsa. Regionstyrelsen beslutar."  # 6 words, 2 sentences, 2 long words
    assert sentences(text) == ["Vi ska t\u2024ex\u2024 läsa.", "Regionstyrelsen beslutar."]
    assert lix(text) == pytest.approx(6 / 2 + 100 * 2 / 6)


@pytest.mark.parametrize("profile", [None, "kortversion"])
def test_the_real_chapters_are_clean(tmp_path, capsys, profile):
    project = copy_project(tmp_path / "project")
    args = ["lint", "--project", str(project)] + (["--profile", profile] if profile else [])
    assert main(args) == 0, capsys.readouterr().out


def _two_chapter_book(tmp_path):
    (tmp_path / "chapters/_generated").mkdir(parents=True)
    (tmp_path / "chapters/ett.qmd").write_text("# Ett\n\nVi ska läsa. Hon läser.\n", "utf-8")
    long_own = ("Regionstyrelsen behöver ett genomarbetat beslutsunderlag som sammanfattar konsekvenserna "
                "för patientsäkerheten, arbetsmiljön, ekonomin och informationssäkerheten innan någon "
                "ställningstagande kan göras om vårdinformationssystemets framtida utveckling i regionen.")
    generated = " ".join(["Genererade meningar innehåller ovanligt långa sammansatta beskrivningar"] * 4) + "."
    (tmp_path / "chapters/_generated/del.md").write_text(generated + "\n", "utf-8")
    (tmp_path / "chapters/tva.qmd").write_text(
        f"# Två\n\n{{{{< include _generated/del.md >}}}}\n\nKort mening.\n\n{long_own}\n", "utf-8")
    (tmp_path / "chapters/ordlista.txt").write_text("\n".join(
        ["Genererade", "Regionstyrelsen", "ställningstagande", "vårdinformationssystemets"]) + "\n", "utf-8")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"chapters": ["chapters/ett.qmd", "chapters/tva.qmd"]}, "title": "LIX", "lang": "sv-SE"}), "utf-8")
    return tmp_path


def test_lix_table_on_every_run(tmp_path, capsys):
    from underlag.commands.lint import lint, lix_of

    project = _two_chapter_book(tmp_path)
    main(["lint", "--project", str(project)])
    out = capsys.readouterr().out
    result = lint(project)
    rows = {row.part: row for row in result.readability}
    assert list(rows) == ["chapters/ett.qmd", "chapters/tva.qmd", ""]
    assert rows["chapters/ett.qmd"].value == pytest.approx(lix_of(["Vi ska läsa.", "Hon läser."]))
    assert rows[""].sentences == rows["chapters/ett.qmd"].sentences + rows["chapters/tva.qmd"].sentences == 5
    table = out[out.index(text("lint.lix_title")):]
    for part, row in rows.items():
        line = next(line for line in table.splitlines() if (part or text("lint.lix_whole")) in line)
        verdict = text("lint.lix_ok") if row.value <= row.limit else text("lint.lix_over")
        assert f"{row.value:.0f}" in line.split() and "50" in line.split() and line.rstrip().endswith(verdict)


def test_long_sentences_named_at_the_writers_line_never_in_generated_text(tmp_path, capsys):
    project = _two_chapter_book(tmp_path)
    main(["lint", "--project", str(project)])
    findings = [line for line in capsys.readouterr().out.splitlines() if ": " in line and line[:1] != " "]
    named = [line for line in findings if text("lint.long_sentence", words=0, limit=20).split("0")[-1] in line]
    assert named and all(line.startswith("chapters/tva.qmd:7:1: ") for line in named), findings
    assert not any("_generated" in line for line in findings), findings


def test_a_clean_run_shows_the_table(tmp_path, capsys):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/ett.qmd").write_text("# Ett\n\nVi ska läsa. Hon läser.\n", "utf-8")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"chapters": ["chapters/ett.qmd"]}, "title": "Ren", "lang": "sv-SE"}), "utf-8")
    assert main(["lint", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert text("lint.lix_title") in out and text("lint.lix_whole") in out


def test_a_long_paragraph_is_shown_around_the_column():
    from underlag.commands.lint import excerpt

    line = "Ord " * 150 + "skall" + " vara" * 40
    column = line.index("skall") + 1
    shown, caret = excerpt(line, column)
    assert len(shown) <= 102 and shown.startswith("…") and shown.endswith("…")
    assert shown[caret:].startswith("skall")
    assert excerpt("kort rad", 3) == ("kort rad", 2) and excerpt("kort rad", None) == ("kort rad", None)


def test_a_bold_line_standing_as_a_heading_is_named(tmp_path, capsys):
    project = _lint_project(tmp_path)
    (project / "chapters/index.qmd").write_text(
        "# Rubrik\n\n**Fas 1 – januari**\n\nText om fasen.\n\n**Fet inledning** och text.\n\n"
        "**Fet rad i ett stycke**\nsom fortsätter här.\n\n- **Fet punkt**\n\n__Också fet:__\n\n**a** och **b**\n",
        "utf-8")
    main(["lint", "--project", str(project)])
    warning = text("problem.warning")
    found = [line for line in capsys.readouterr().out.splitlines() if text("lint.bold_heading") in line]
    assert found == [f"chapters/index.qmd:3:1: {warning}{text('lint.bold_heading')}",
                     f"chapters/index.qmd:14:1: {warning}{text('lint.bold_heading')}"]
