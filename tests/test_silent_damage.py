"""Markup pandoc accepts but that would silently damage the report is a located error or warning
in check (and so in build and the preview, which share assemble) and in lint."""

from __future__ import annotations

import re

import pytest
import yaml
from underlag.commands.cli import main
from underlag.engine.messages import text

CALLOUTS = "callout-note, callout-tip, callout-important, callout-warning, callout-caution"


def book(tmp_path, chapter: str):
    (tmp_path / "chapters").mkdir(exist_ok=True)
    (tmp_path / "chapters/ett.qmd").write_text(chapter, "utf-8")
    (tmp_path / "bild.png").write_bytes(_png())
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"title": "Skada", "chapters": ["chapters/ett.qmd"]}, "lang": "sv-SE"}), "utf-8")
    return tmp_path


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


def no_alt(url: str) -> str:
    """PDF/UA's message (engine/pdf_ua.py): the one report of an image without alt text."""
    return text("pdf_ua.missing_alt", url=url) + text("pdf_ua.pdf_only")


def check(project, capsys, *extra: str) -> tuple[int, list[str]]:
    status = main([*extra, "check", "--project", str(project)])
    return status, capsys.readouterr().err.splitlines()


CASES = {
    "unclosed callout": (
        "# Ett\n\n::: {.callout-note}\nInne i rutan.\n\n## Avsnitt som försvinner\n\nText.\n",
        "chapters/ett.qmd:3:1: ", lambda: text("structure.div_unclosed", fence="::: {.callout-note}"), 2),
    "stray closing fence": (
        "# Ett\n\nText.\n\n:::\n",
        "chapters/ett.qmd:5:1: ", lambda: text("structure.div_stray_close"), 2),
    "Swedish callout spelling": (
        "# Ett\n\n::: {.callout-varning}\nAkta.\n:::\n",
        "chapters/ett.qmd:3:7: ",
        lambda: text("structure.callout_did_you_mean", found="callout-varning", close="callout-warning",
                     known=CALLOUTS), 2),
    "callout-obs": (
        "# Ett\n\n::: {.callout-obs}\nObservera.\n:::\n",
        "chapters/ett.qmd:3:7: ",
        lambda: text("structure.callout_did_you_mean", found="callout-obs", close="callout-note",
                     known=CALLOUTS), 2),
    "callout-tips": (
        "# Ett\n\n::: {.callout-tips title=\"Så här\"}\nGör så.\n:::\n",
        "chapters/ett.qmd:3:7: ",
        lambda: text("structure.callout_did_you_mean", found="callout-tips", close="callout-tip",
                     known=CALLOUTS), 2),
    "figure without alt text": (
        "# Ett\n\n![](../bild.png)\n",
        "chapters/ett.qmd:3:5: ", lambda: text("problem.warning") + no_alt("../bild.png"), 0),  # at the address
    "unknown figure attribute": (
        "# Ett\n\n![En vit ruta](../bild.png){#fig-ruta fig-atl=\"Vit\"}\n",
        "chapters/ett.qmd:3:28: ", lambda: text("problem.warning") + text(
            "structure.attribute_did_you_mean", name="fig-atl", what=text("structure.what_figure"), close="fig-alt"), 0),
    "unknown table attribute": (
        "# Ett\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n: Tabell {#tbl-t kolumnbredd=\"[50,50]\"}\n",
        "chapters/ett.qmd:7:10: ", lambda: text("problem.warning") + text(
            "structure.attribute_did_you_mean", name="kolumnbredd", what=text("structure.what_table"),
            close="tbl-colwidths"), 0),
}


@pytest.mark.parametrize("case", CASES)
def test_damage_is_located(tmp_path, capsys, case):
    chapter, place, message, status = CASES[case]
    project = book(tmp_path, chapter)
    got, lines = check(project, capsys)
    assert place + message() in lines, lines
    assert got == status


def test_swedish_by_default_and_english_on_request(tmp_path, capsys, monkeypatch):
    project = book(tmp_path, CASES["Swedish callout spelling"][0])
    monkeypatch.setenv("LC_MESSAGES", "C.UTF-8")  # conftest pins English for the older tests
    _, swedish = check(project, capsys)
    assert any("menade du callout-warning?" in line for line in swedish), swedish
    _, english = check(project, capsys, "--lang", "en")
    assert any("did you mean callout-warning?" in line for line in english), english


def test_clean_markup_gives_no_finding(tmp_path, capsys):
    project = book(tmp_path, "# Ett\n\n::: {.callout-warning title=\"Akta\"}\nText.\n:::\n\n"
                             "![En vit ruta](../bild.png){#fig-ruta fig-alt=\"En vit ruta\" width=\"50%\"}\n\n"
                             "```markdown\n::: {.callout-varning}\n![](x.png)\n```\n\n"
                             "Skriv `![](bild.png)` eller ``![]( bild.png )`` i texten.\n")
    status, lines = check(project, capsys)
    assert status == 0 and lines == [text("cli.no_errors")], lines


def test_lint_shows_the_damage_too(tmp_path, capsys):
    project = book(tmp_path, CASES["figure without alt text"][0])
    main(["lint", "--project", str(project)])
    out = capsys.readouterr().out
    assert re.search(r"^chapters/ett.qmd:3:5: .*" + re.escape(no_alt("../bild.png")),
                     out, re.MULTILINE), out


def test_build_stops_at_the_same_place(tmp_path, capsys):
    """build shares check's function (assemble), so the damage stops it before anything renders."""
    chapter, place, message, _ = CASES["unclosed callout"]
    project = book(tmp_path, chapter)
    assert main(["build", "--format", "html", "--project", str(project)]) == 2
    assert place + message() in capsys.readouterr().err.splitlines()
    assert not (project / "report" / "beslutsunderlag.html").exists()


def test_an_image_without_alt_text_is_reported_once(tmp_path, capsys):
    """check and lint warn once at the image's line; the build refuses the PDF with the same message
    and builds HTML and DOCX, with no second report of the image (no structure warning beside it)."""
    project = book(tmp_path, CASES["figure without alt text"][0] + "\n## Hopp\n\n#### För djup\n")
    _, lines = check(project, capsys)
    assert [line for line in lines if "../bild.png" in line] == ["chapters/ett.qmd:3:5: " + text("problem.warning")
                                                                  + no_alt("../bild.png")], lines
    main(["lint", "--project", str(project)])
    out = capsys.readouterr().out.splitlines()
    assert len([line for line in out if line.startswith("chapters/ett.qmd:3:")]) == 1, out
    assert len([line for line in out if line.startswith("chapters/ett.qmd:7:")]) == 1, out  # lint's own heading check
    assert main(["build", "--project", str(project)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "../bild.png" in line] == ["chapters/ett.qmd:3:5: " + no_alt("../bild.png")], err


def test_code_in_a_list_item_is_not_checked(tmp_path, capsys):
    """structure.py sits on the CommonMark parse (SourceLine.code): a fence inside a list item, indented
    under the item or opened on the item's own line, is code, so the `:::` and callouts shown in it are
    neither unclosed nor unknown (the old line pattern saw no fence after `- `)."""
    project = book(tmp_path, "# Ett\n\n1. Skriv så här:\n\n   ```markdown\n   ::: {.callout-varning}\n   Text.\n"
                             "   ```\n\n2. Stäng med\n\n   ~~~\n   :::\n   ~~~\n\n- ```\n  ::: {.callout-obs}\n  ```\n")
    status, lines = check(project, capsys)
    assert status == 0 and lines == [text("cli.no_errors")], lines
