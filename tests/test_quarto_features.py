"""Quarto book features together in one book (the conformance books of figure and table divs,
subfigures, linked figures, callout cross-references, equations, code attributes, raw HTML
tables, widths and parts): the PDF still passes the PDF/UA-1 checker and the HTML axe-core; and
what cannot be resolved is named with its file and line before any tool runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from test_accessibility import axe_violations

from underlag.commands.build import Options, build
from underlag.engine.messages import text

SUITE = Path(__file__).parent / "conformance"
BOOKS = ["figure-table-divs", "callout-crossref", "equations", "code-attributes", "html-table", "widths"]


def feature_book(folder: Path) -> Path:
    """Each conformance book's chapter as a chapter of one book, in its own folder, in two parts."""
    for name in BOOKS:
        shutil.copytree(SUITE / name, folder / name, ignore=shutil.ignore_patterns("expect.yaml"))
    chapters = [f"{name}/index.qmd" for name in BOOKS]
    config = {"book": {"output-file": "bok", "chapters": [{"part": "Första delen", "chapters": chapters[:3]},
                                                         {"part": "Andra delen", "chapters": chapters[3:]}]},
              "title": "Quartofunktioner", "lang": "sv-SE", "status": "fastställd", "date": "2025-03-31"}
    (folder / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return folder


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    return build(feature_book(tmp_path_factory.mktemp("features") / "book"), Options()).outputs


def test_the_pdf_passes_a_pdf_ua_checker(outputs):
    import pdfua

    result = pdfua.validate(str(outputs["pdf"]))
    assert len([o for o in result.outcomes if o.skipped_reason is None]) >= 10
    assert not result.findings, [str(f) for f in result.findings[:10]]


def test_the_html_has_no_wcag_violations(outputs):
    violations = axe_violations(outputs["html"])
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in violations]


LOCATED = {  # source: (place, the message, from the catalogue in the session's language)
    "Se [kapitlet](saknas.qmd).": ("index.qmd:5:15", lambda: text("quarto_features.link_not_chapter", target="saknas.qmd")),
    "Se [avsnittet](index.qmd#sec-saknas).": (
        "index.qmd:5:16", lambda: text("quarto_features.link_no_id", anchor="sec-saknas", path="index.qmd")),
    "<table>\n<tr><td>1</td></tr>\n\nText.": ("index.qmd:5:1", lambda: text("quarto_features.table_unclosed")),
    "<table>\n</table>": ("index.qmd:5:1", lambda: text("quarto_features.table_unreadable")),
    "::: {#tbl-tva}\n| A |\n|---|\n| 1 |\n\n| B |\n|---|\n| 2 |\n\nTvå tabeller\n:::": (
        "index.qmd:5:6", lambda: text("quarto_features.table_div", label="tbl-tva")),
    # the part before the advice (which may suggest a close label)
    "Se @nte-saknas.": ("index.qmd:5:4", lambda: text("assemble.reference_no_target", key="nte-saknas").split(";")[0]),
}


@pytest.mark.parametrize("source", LOCATED)
def test_what_cannot_be_resolved_is_named_with_its_line(source, tmp_path, capsys):
    from underlag.commands.cli import main

    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "_quarto.yml").write_text("book:\n  chapters: [index.qmd]\ntitle: Fel\n", "utf-8")
    (folder / "index.qmd").write_text("# Kapitel\n\nText.\n\n" + source + "\n", "utf-8")
    assert main(["build", "--project", str(folder)]) == 2
    message = capsys.readouterr().err
    place, what = LOCATED[source]
    assert f"{place}: {what()}" in message, message


def test_a_linked_figure_keeps_its_link_in_every_format(outputs):
    import zipfile

    from conftest import html_tree
    from test_conformance import pdf_links

    anchors = [a for a in html_tree(outputs["html"]).iter("a") if a.get("href") == "https://example.org/staplar"]
    assert [img.get("alt") for a in anchors for img in a.iter("img")] == ["Staplar som länkar vidare"]
    relations = zipfile.ZipFile(outputs["docx"]).read("word/_rels/document.xml.rels").decode()
    assert 'Target="https://example.org/staplar"' in relations
    assert "https://example.org/staplar" in pdf_links(outputs["pdf"])[1]


def test_a_part_without_chapters_is_named(tmp_path, capsys):
    from underlag.commands.cli import main

    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "_quarto.yml").write_text("book:\n  chapters:\n    - index.qmd\n    - part: Tom del\ntitle: Fel\n", "utf-8")
    (folder / "index.qmd").write_text("# Kapitel\n", "utf-8")
    assert main(["build", "--project", str(folder)]) == 2
    assert "_quarto.yml:4:7: part 'Tom del' has no chapters" in capsys.readouterr().err


def test_a_condition_written_only_as_an_html_attribute_in_capitals_is_decided(tmp_path):
    """The conditions are looked for only when a line names one (quarto_features.py): pandoc
    lowercases an HTML div's attribute names, so `WHEN-META` must count as well."""
    from conftest import html_tree

    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "_quarto.yml").write_text("book:\n  chapters: [index.qmd]\ntitle: Villkor\nutkast: false\n", "utf-8")
    (folder / "index.qmd").write_text('# Kapitel\n\nSynlig.\n\n<div class="content-visible" WHEN-META="utkast">\n\n'
                                      "Utkast som inte ska synas.\n\n</div>\n", "utf-8")
    page = html_tree(build(folder, Options(formats=("html",))).outputs["html"]).text_content()
    assert "Synlig." in page and "Utkast som inte ska synas." not in page


def test_an_unpaired_quote_is_swedish_in_every_format(tmp_path):
    """pandoc makes an unpaired " an English opening mark; a Swedish book shows ” in the text and in a
    callout's title read from its attribute (the text's are made once before the formats' pandoc runs,
    engine/assemble.py; the title's by callouts.lua)."""
    from conftest import docx_text, pdf_text

    (tmp_path / "kapitel.qmd").write_text('# Kapitel\n\nHan sa "hej och gick.\n\n'
                                          '::: {.callout-note title="Om \\"oparat"}\nInnehåll.\n:::\n', "utf-8")
    config = {"book": {"output-file": "bok", "chapters": ["kapitel.qmd"]}, "title": "Citat", "lang": "sv-SE"}
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    outputs = build(tmp_path, Options()).outputs
    texts = {"html": outputs["html"].read_text("utf-8"), "docx": docx_text(outputs["docx"]),
             "pdf": pdf_text(outputs["pdf"])}
    for fmt, shown in texts.items():
        assert "Han sa ”hej och gick." in shown, fmt
        assert "Om ”oparat" in shown, fmt
        assert "“" not in shown, fmt


def test_a_reference_in_a_caption_reads_its_number_in_every_format(tmp_path):
    """crossref.lua resolves a figure's and a (Typst) table's references before it writes or measures
    them, the text's in its last walk: a caption's reference, and the alt text read from it, show
    the number in every format, the one ahead of the figure too."""
    import re

    from PIL import Image

    from conftest import docx_text, html_tree, pdf_text

    Image.new("RGB", (40, 20), "white").save(tmp_path / "bild.png")
    (tmp_path / "kapitel.qmd").write_text("# Kapitel\n\n![Staplar, se @tbl-t](bild.png){#fig-f}\n\n"
                                          "| A | B |\n|---|---|\n| 1 | 2 |\n\n: Värden som visar @fig-f {#tbl-t}\n",
                                          "utf-8")
    config = {"book": {"output-file": "bok", "chapters": ["kapitel.qmd"]}, "title": "Hänvisningar", "lang": "sv-SE"}
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    outputs = build(tmp_path, Options()).outputs
    html = html_tree(outputs["html"])
    assert [img.get("alt") for img in html.iter("img")] == ["Staplar, se tabell\u00a01.1"]
    for fmt, shown in {"html": "".join(html.itertext()), "docx": docx_text(outputs["docx"]),
                       "pdf": pdf_text(outputs["pdf"])}.items():
        shown = re.sub(r"\s+", " ", shown)
        assert re.search(r"Figur 1\.1: Staplar, se tabell 1\.1", shown), fmt
        assert re.search(r"Tabell 1\.1: Värden som visar figur 1\.1", shown), fmt
