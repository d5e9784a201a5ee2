"""The PDF's layout decisions the filters make for the Typst template (crossref.lua, issue 20).

Which tables are kept whole and where a chapter starts were decided inside Typst, by measuring
each table and reading the heading counter in show rules; in a long book that cost a third of
the compile time and half its memory. The filters now label each table and numbered chapter, and
report.typ's label show rules do the layout (test_pdf_layout.py checks the pages themselves).
"""

from __future__ import annotations

import re

import pytest

from underlag.engine.book import Book
from underlag.engine.render.pandoc import run_pandoc

ROW = "| {n} | En rad med lite text |\n"


def table(caption: str, rows: int) -> str:
    body = "".join(ROW.format(n=n) for n in range(rows))
    return f"| Nr | Text |\n|---|---|\n{body}\n" + (f": {caption}\n\n" if caption else "\n")


def chapter(source: str, text: str, appendix: bool = False) -> str:
    extra = ' appendix="true"' if appendix else ""
    return f'::: {{.chapter source="{source}"{extra}}}\n\n{text}\n:::\n\n'


@pytest.fixture(scope="module")
def typst_body(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("labels")
    source = folder / "book.md"
    source.write_text(
        chapter("ett.qmd", "# Ett {#sec-ett}\n\n" + table("Kort {#tbl-kort}", 5) + table("Lång {#tbl-lang}", 80)
                + table("", 3))
        + chapter("tva.qmd", "# Två {#sec-tva}\n\nText.\n")
        + chapter("forord.qmd", "# Förord {.unnumbered}\n\nText.\n")
        + chapter("a.qmd", "# Bilaga ett {#sec-a}\n\nText.\n", appendix=True)
        + chapter("b.qmd", "# Bilaga två {#sec-b}\n\nText.\n", appendix=True), "utf-8")
    book = Book(root=folder, chapters=[], metadata={"lang": "sv-SE"}, variables={}, output_name="x")
    return run_pandoc(book, source, "typst", None)


def label_after(body: str, mark: str) -> str:
    """The layout label closing the wrapper that holds `mark` (a table's or heading's label)."""
    found = re.search(re.escape(mark) + r"\s*\]\s*<(underlag-[a-z-]+)>", body)
    assert found, f"{mark} has no layout label:\n{body[:3000]}"
    return found.group(1)


def test_a_short_table_is_labelled_to_be_kept_whole(typst_body):
    assert label_after(typst_body, "<tbl-kort>") == "underlag-short-table"


def test_a_table_longer_than_sixty_percent_of_a_page_is_labelled_long(typst_body):
    assert label_after(typst_body, "<tbl-lang>") == "underlag-long-table"


def test_an_uncaptioned_table_is_labelled_too(typst_body):
    assert typst_body.count("<underlag-short-table>") == 2
    assert typst_body.count("<underlag-long-table>") == 1


def test_the_first_chapter_and_the_first_appendix_open_a_part(typst_body):
    assert label_after(typst_body, "<sec-ett>") == "underlag-opens-part"
    assert label_after(typst_body, "<sec-a>") == "underlag-opens-part"


def test_other_numbered_chapters_follow_with_room(typst_body):
    assert label_after(typst_body, "<sec-tva>") == "underlag-chapter"
    assert label_after(typst_body, "<sec-b>") == "underlag-chapter"


def test_an_unnumbered_chapter_is_left_to_the_template(typst_body):
    """Its heading has `numbering: none`, which the template's heading rule reads itself."""
    assert typst_body.count("<underlag-opens-part>") == 2 and typst_body.count("<underlag-chapter>") == 2
