"""The book's own settings (issue 18, item 6): labels from Quarto's translation tables, the book's
`language:` and `crossref:` overrides, numbering and contents options, and located messages for
settings of the wrong shape. The built outputs are checked by the conformance books
(tests/conformance/lang-english, number-depth, toc-off, chrome-board-paper)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from underlag.engine.book import read_book
from underlag.engine.errors import InputError
from underlag.engine.messages import text
from underlag.engine.settings import LABEL_STYLES, translations


def book_with(folder: Path, **config) -> Path:
    (folder / "index.qmd").write_text("# Kapitel\n", "utf-8")
    book = {"book": {"chapters": ["index.qmd"]}, "title": "Bok", **config}
    (folder / "_quarto.yml").write_text(yaml.safe_dump(book, allow_unicode=True), "utf-8")
    return folder


def test_english_is_the_default_as_in_quarto(tmp_path):
    settings = read_book(book_with(tmp_path)).settings("pdf")
    assert settings.lang == "en"
    assert (settings.prefix("fig"), settings.title("tbl"), settings.toc_title) == ("Figure", "Table", "Table of contents")
    assert settings.label("callout-note-title") == "Note"
    assert settings.page_of_pages("2", "9") == "Page 2 of 9"
    assert settings.toc and settings.number_sections and settings.chapters and settings.number_depth is None


def test_swedish_follows_quarto_with_the_house_conventions_on_top():
    table = translations("sv-SE")
    assert table["crossref-fig-title"] == "Figur" and table["toc-title-document"] == "Innehållsförteckning"  # Quarto's
    assert table["crossref-fig-prefix"] == "figur" and table["callout-note-title"] == "Obs"  # lower case in running text
    assert table["callout-caution-title"] == "Försiktighet" and table["page-of-pages"] == "Sida {page} av {pages}"
    assert translations("fr")["crossref-fig-title"] == "Figure"  # no table of ours: Quarto's French, English keys under it


def test_the_books_language_and_crossref_options_win_and_a_format_overrides_the_top_level(tmp_path):
    (tmp_path / "etiketter.yml").write_text("callout-tip-title: Råd\n", "utf-8")
    book = read_book(book_with(
        tmp_path, lang="sv-SE", language={"crossref-tbl-title": "Tab."},
        crossref={"fig-prefix": "Fig.", "sec-prefix": "kapitel", "chapters": False, "fig-labels": "alpha a"},
        **{"number-sections": False, "toc-depth": 2, "format": {"html": {"toc": False, "language": "etiketter.yml"}}}))
    pdf, html = book.settings("pdf"), book.settings("html")
    assert (pdf.prefix("fig"), pdf.title("fig"), pdf.title("tbl"), pdf.prefix("sec")) == ("Fig.", "Figur", "Tab.", "kapitel")
    assert not pdf.number_sections and not pdf.chapters and pdf.toc and pdf.toc_depth == 2
    assert pdf.pattern("fig") == "a" and pdf.pattern("tbl") == "1"
    assert not html.toc and html.label("callout-tip-title") == "Råd" and pdf.label("callout-tip-title") == "Tips"


@pytest.mark.parametrize("config, where, message", [
    ({"number-depth": "djup"}, "number-depth", lambda: text("settings.depth_not_number", key="number-depth", value="djup")),
    ({"format": {"html": {"toc-depth": 0}}}, "toc-depth", lambda: text("settings.depth_not_number", key="toc-depth", value=0)),
    ({"crossref": {"labels": "grekiska"}}, "labels",
     lambda: text("settings.label_style", key="labels", style="grekiska", choices=", ".join(LABEL_STYLES))),
    ({"crossref": "Fig."}, "crossref", lambda: text("settings.crossref_not_mapping")),
    ({"language": "finns-inte.yml"}, "language", lambda: "finns-inte.yml"),
])
def test_a_setting_of_the_wrong_shape_is_named_with_its_line(tmp_path, config, where, message):
    book_with(tmp_path, **config)
    with pytest.raises(InputError) as raised:
        read_book(tmp_path)
    lines = (tmp_path / "_quarto.yml").read_text("utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.strip().startswith(f"{where}:"))
    problem = next(p for p in raised.value.problems if message() in p.message)
    assert (problem.path, problem.line) == ("_quarto.yml", line), problem


def test_the_engine_keeps_report_chrome_out_of_a_plain_book(tmp_path):
    """Only `chrome: board-paper` gives the status marking and the board paper's cover; the engine's
    DocumentInfo of a book with a status has none."""
    from underlag.engine.render.pandoc import DocumentInfo
    from underlag.report.chrome import apply_chrome

    plain = read_book(book_with(tmp_path, status="utkast", lang="sv-SE"))
    info = apply_chrome(DocumentInfo.from_book(plain), plain.metadata)
    assert (info.marking, info.notice, info.cover_facts, info.footer_text) == ("", "", (), "")
    board = read_book(book_with(tmp_path, status="utkast", lang="sv-SE", chrome="board-paper"))
    info = apply_chrome(DocumentInfo.from_book(board), board.metadata)
    assert info.marking == "UTKAST" and ("Status", "utkast") in info.cover_facts
    final = read_book(book_with(tmp_path, status="fastställd", chrome="board-paper"))
    assert apply_chrome(DocumentInfo.from_book(final), final.metadata).marking == ""
