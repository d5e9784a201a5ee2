"""DOCX: pandoc with a reference document built by code; real Word styles, contents field."""

from __future__ import annotations

import zipfile
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.render.anchors import anchored_paths, embed_anchors
from underlag.engine.render.pandoc import DocumentInfo, metadata_args, run_pandoc
from underlag.engine.render.reference_docx import build_reference_docx


def render_docx(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
                images: list[Path] = ()) -> None:
    """`images` is unused: pandoc reads the images from the project itself."""
    reference = work / "reference.docx"
    settings = book.settings("docx")
    build_reference_docx(book.root, info, reference, settings)
    contents = ["--toc", f"--toc-depth={settings.toc_depth}"] if settings.toc and not info.brief else []
    anchored = anchored_paths(source)[0]  # the build writes it: every block carries its file and line
    run_pandoc(book, anchored if anchored.is_file() else source, "docx", output, "--reference-doc", str(reference),
               *contents, *_metadata_args(info, settings.toc_title),
               "--metadata", f"underlag-text-width-in={_text_width_in(reference)}", epoch=info.epoch)
    if anchored.is_file():
        embed_anchors(output, source, book.root, book.title)
    keep_table_rows_whole(output)


def _text_width_in(reference: Path) -> float:
    """The text width of the reference document's page, in inches: crossref.lua sizes an image
    given in % from it (pandoc's own % only ever shrinks an image, never widens it)."""
    from docx import Document

    section = Document(str(reference)).sections[-1]
    return round((section.page_width - section.left_margin - section.right_margin) / 914400, 3)


def keep_table_rows_whole(path: Path) -> None:
    """Word's own table settings, which pandoc leaves out: a row never splits across pages, the
    header row repeats on each page, and columns fit their content (pandoc's fixed layout cuts
    "Nr" into "N r" and dates mid-token in a narrow column)."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    with zipfile.ZipFile(path) as archive:
        stamp = archive.infolist()[0].date_time  # pandoc's (SOURCE_DATE_EPOCH)
    document = Document(str(path))
    section = document.sections[-1]
    text_width = section.page_width - section.left_margin - section.right_margin
    _align_figures(document)
    for table in document.tables:
        if _take_marks(table._tbl, "underlag-colwidths-"):
            continue  # the writer chose the widths (tbl-colwidths): pandoc wrote them, keep them
        _fit_columns(table, text_width)
        properties = table._tbl.tblPr
        for layout in properties.findall(qn("w:tblLayout")):
            properties.remove(layout)
        for index, row in enumerate(table.rows):
            row_properties = row._tr.get_or_add_trPr()
            if row_properties.find(qn("w:cantSplit")) is None:
                row_properties.insert(0, OxmlElement("w:cantSplit"))
            if index == 0 and row_properties.find(qn("w:tblHeader")) is None:
                row_properties.append(OxmlElement("w:tblHeader"))
    document.save(str(path))
    _restamp(path, stamp)


def _take_marks(element, prefix: str) -> list[str]:
    """Remove the filters' layout bookmarks (crossref.lua) named `prefix…` below `element`; their names."""
    from docx.oxml.ns import qn

    names = []
    body = element.getroottree().getroot()
    for start in element.iter(qn("w:bookmarkStart")):
        name = start.get(qn("w:name"), "")
        if name.startswith(prefix):
            names.append(name)
            for end in body.iter(qn("w:bookmarkEnd")):
                if end.get(qn("w:id")) == start.get(qn("w:id")):
                    end.getparent().remove(end)
                    break
    for start in [s for s in element.iter(qn("w:bookmarkStart")) if s.get(qn("w:name"), "") in names]:
        start.getparent().remove(start)
    return names


def _align_figures(document) -> None:
    """fig-align: the figure's image paragraph and its caption (the one holding the mark) get it."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.text.paragraph import Paragraph

    values = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}
    for paragraph in document.paragraphs:
        for name in _take_marks(paragraph._p, "underlag-align-"):
            align = values[name.split("-")[2]]
            paragraph.alignment = align
            image = paragraph._p.getprevious()
            if image is not None and image.tag == paragraph._p.tag:
                Paragraph(image, paragraph._parent).alignment = align


def _restamp(path: Path, stamp: tuple) -> None:
    """python-docx stamps every entry with the clock: put pandoc's stamp back, so the DOCX stays
    byte-identical between builds."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            target.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)


def _metadata_args(info: DocumentInfo, toc_title: str) -> list[str]:
    # The cover: pandoc's title block, with the chrome's facts (if any) as its abstract.
    facts = " · ".join(f"{label} {value}" for label, value in info.cover_facts if value)
    pairs = {"title": info.title, "subtitle": info.subtitle, "author": info.organisation, "date": info.date,
             "abstract": facts, "abstract-title": info.facts_title if facts else "", "toc-title": toc_title,
             "subject": info.subtitle}
    return metadata_args(pairs)


# Rough widths for the body font at table size: enough to keep a word whole, not a layout engine.
CHAR_TWIPS = 125  # an average letter; capitals and digits are wider (_twips)
CELL_PADDING_TWIPS = 280
TWIPS_PER_EMU = 635
LONGEST_KEPT_WHOLE = 10  # "2024-11-28"


def _fit_columns(table, text_width_emu: int) -> None:
    """Column widths from content, written into the grid and every cell (LibreOffice reads only
    these): a column of short words and dates gets room to keep each whole, then the rest goes
    to the columns with the most text. Pandoc's widths come from the Markdown dashes and split
    "Nr", "MS1" and dates."""
    from docx.oxml.ns import qn
    from docx.shared import Twips

    rows = [row._tr.findall(qn("w:tc")) for row in table.rows]
    columns = max((len(cells) for cells in rows), default=0)
    if not columns or any(len(cells) != columns for cells in rows):
        return  # merged cells: keep pandoc's widths rather than guess
    texts = [["".join(t.text or "" for t in cell.iter(qn("w:t"))) for cell in cells] for cells in rows]
    words = [max((len(w) for row in texts for w in row[c].split()), default=1) for c in range(columns)]
    widest_word = [max((_twips(w) for row in texts for w in row[c].split()), default=0) for c in range(columns)]
    longest_text = [max(len(row[c]) for row in texts) for c in range(columns)]
    total = text_width_emu // TWIPS_PER_EMU
    # Every column gets room for its widest word (a long compound counts as a date's width);
    # what is left goes to the columns with the most text. When even that does not fit, a
    # column of dates, ids and short words keeps its room and the columns holding long
    # compounds, which may wrap, share the rest.
    minimum = [min(w, LONGEST_KEPT_WHOLE * CHAR_TWIPS) + CELL_PADDING_TWIPS for w in widest_word]
    if sum(minimum) <= total:
        wish = [max(min(n, 80) * CHAR_TWIPS + CELL_PADDING_TWIPS - m, 0) for n, m in zip(longest_text, minimum)]
        spare = total - sum(minimum)
        widths = [m + (w * spare // sum(wish) if sum(wish) else spare // columns) for m, w in zip(minimum, wish)]
    else:
        rigid = [n <= LONGEST_KEPT_WHOLE for n in words]
        fixed = sum(m for m, r in zip(minimum, rigid) if r)
        flexible = sum(m for m, r in zip(minimum, rigid) if not r)
        scale = max(total - fixed, 0) / flexible if flexible else total / fixed
        widths = [m if r and flexible else int(m * scale) for m, r in zip(minimum, rigid)]
    for column, width in zip(table.columns, widths):
        column.width = Twips(width)
    for cells in table.rows:
        for cell, width in zip(cells.cells, widths):
            cell.width = Twips(width)


def _twips(word: str) -> int:
    """The width of a word in the 11 pt body serif, roughly: capitals and digits are wide."""
    return sum(170 if c.isupper() else 135 if c.isdigit() else 80 if c in ".,-:;()" else 115 for c in word)
