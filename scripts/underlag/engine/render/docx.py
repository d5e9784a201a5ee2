"""DOCX: pandoc with a reference document built by code, then Word's own machinery
(render/docx_word.py): list numbering, fields, a contents whose entries are written in (their
page numbers from LibreOffice's layout of the very same file when asked for: publish, `build
--page-numbers`; else Word fills them in on opening), table and callout styles, the draft marking."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.render.anchors import anchored_paths, embed_anchors
from underlag.engine.render.pandoc import DocumentInfo, metadata_args, run_pandoc
from underlag.engine.render.reference_docx import build_reference_docx
from underlag.engine.settings import Settings


def render_docx(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
                images: list[Path] = (), page_numbers: bool = False,
                prepare: Callable[[], None] | None = None) -> None:
    """`images` is unused: pandoc reads the images from the project itself. `page_numbers`: the
    contents' page numbers from LibreOffice's layout (a headless conversion, seconds, tens of
    seconds for a long book); without it Word fills them in when it opens the file. `prepare`
    writes the anchored source pandoc reads (the build's write_anchored_source)."""
    reference = work / "reference.docx"
    settings = book.settings("docx")
    with ThreadPoolExecutor(max_workers=1) as side:
        # the anchored source's pandoc parse runs while the reference document is built
        prepared = side.submit(prepare) if prepare else None
        build_reference_docx(book.root, info, reference, settings)
        if prepared:
            prepared.result()
    contents = ["--toc", f"--toc-depth={settings.toc_depth}"] if settings.toc and not info.brief else []
    anchored = anchored_paths(source)[0]  # the build writes it: every block carries its file and line
    run_pandoc(book, anchored if anchored.is_file() else source, "docx", output, "--reference-doc", str(reference),
               *contents, *_metadata_args(info, settings.toc_title),
               "--metadata", f"underlag-text-width-in={_text_width_in(reference)}", epoch=info.epoch)
    with zipfile.ZipFile(output) as archive:
        stamp = archive.infolist()[0].date_time  # pandoc's (SOURCE_DATE_EPOCH)
    waiting = None if page_numbers else settings.label("docx-contents-word")
    has_contents = make_it_word(output, info, settings, waiting)
    if has_contents and page_numbers:
        fill_contents_pages(output, work, settings.label("docx-contents-pages"))
    if anchored.is_file():  # after every change of text: the map holds the text the DOCX shows
        embed_anchors(output, source, book.root, book.title, stamp)  # restamps as it rewrites the file
    else:
        _restamp(output, stamp)


def _text_width_in(reference: Path) -> float:
    """The text width of the reference document's page, in inches: crossref.lua sizes an image
    given in % from it (pandoc's own % only ever shrinks an image, never widens it)."""
    from docx import Document

    section = Document(str(reference)).sections[-1]
    return round((section.page_width - section.left_margin - section.right_margin) / 914400, 3)


def make_it_word(path: Path, info: DocumentInfo, settings: Settings, waiting: str | None = None) -> bool:
    """Word's numbering, table settings, styles and contents in pandoc's DOCX (render/docx_word.py);
    whether it has a contents to fill in. The cover's marking is the chrome's (info.marking and
    info.notice, report/chrome.py): a plain book has none. Given `waiting` (the note), the
    contents is left for Word to number on opening, in the same pass (no second save)."""
    from docx import Document

    from underlag.engine.render import docx_word

    document = Document(str(path))
    # number-sections and number-depth as the filter applied them (crossref.lua)
    depth = (settings.number_depth or docx_word.LEVELS) if settings.number_sections else 0
    headings = docx_word.number_headings(document, depth)
    keep_table_rows_whole(document)
    docx_word.style_table_text(document)
    docx_word.set_number_format(document, info.lang)
    docx_word.declare_word_version(document)
    docx_word.hyphenate(document)
    if info.marking and info.notice:
        docx_word.mark_cover(document, f"{info.marking}: {info.notice[:1].lower()}{info.notice[1:]}")
    has_contents = docx_word.fill_contents(document, headings, settings.label("docx-contents-update"),
                                          settings.toc_depth)
    if has_contents and waiting is not None:
        docx_word.note_missing_pages(document, waiting)
    document.save(str(path))
    return has_contents


def fill_contents_pages(path: Path, work: Path, note: str) -> None:
    """Page numbers for the contents from LibreOffice's layout of this very DOCX (one headless
    conversion to PDF; its outline gives each heading's page). Without LibreOffice the entries
    keep the field, and `note` (in the book's language) says Word fills the numbers in."""
    from docx import Document

    from underlag.engine.render import docx_word

    pages = libreoffice_heading_pages(path, work)
    document = Document(str(path))
    if pages is None:
        docx_word.note_missing_pages(document, note)
    else:
        docx_word.set_pages(document, pages)
    document.save(str(path))


def libreoffice_heading_pages(path: Path, work: Path) -> list[tuple[str, int]] | None:
    """Each heading's title and page as LibreOffice lays the DOCX out (its PDF's outline), or None
    when LibreOffice is missing or fails."""
    import shutil

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None
    folder = work / "libreoffice"
    folder.mkdir(exist_ok=True)
    # a profile of its own: another LibreOffice running (a writer's, a parallel build) would
    # otherwise take the conversion over or refuse it
    profile = (folder / "profile").resolve().as_uri()
    try:
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(folder), str(path)],
                       capture_output=True, timeout=300, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    pdf = folder / (path.stem + ".pdf")
    return (_outline(pdf) or None) if pdf.is_file() else None  # no outline: as good as no LibreOffice


def _outline(pdf: Path) -> list[tuple[str, int]]:
    """(title, page) of every outline entry in document order: LibreOffice writes one per heading."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    entries: list[tuple[str, int]] = []

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                entries.append((str(item.title), reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return entries


def keep_table_rows_whole(document) -> None:
    """Word's own table settings, which pandoc leaves out: a row never splits across pages, the
    header row repeats on each page, and columns fit their content (pandoc's fixed layout cuts
    "Nr" into "N r" and dates mid-token in a narrow column)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section = document.sections[-1]
    text_width = section.page_width - section.left_margin - section.right_margin
    text_height = (section.page_height - section.top_margin - section.bottom_margin) // TWIPS_PER_EMU
    _align_figures(document)
    for table in document.tables:
        # the writer chose the widths (tbl-colwidths): pandoc wrote them, keep them
        widths = None if _take_marks(table._tbl, "underlag-colwidths-") else _fit_columns(table, text_width)
        properties = table._tbl.tblPr
        for layout in properties.findall(qn("w:tblLayout")):
            properties.remove(layout)
        for index, row in enumerate(table.rows):
            row_properties = row._tr.get_or_add_trPr()
            if row_properties.find(qn("w:cantSplit")) is None:
                row_properties.insert(0, OxmlElement("w:cantSplit"))
            if index == 0 and row_properties.find(qn("w:tblHeader")) is None:
                row_properties.append(OxmlElement("w:tblHeader"))
        # a short table is kept on one page (each row kept with the next), as the PDF keeps one
        # under 60 % of a page: no caption alone at a page foot, no last row alone on the next
        if _estimated_height(table, widths) < 0.6 * text_height:
            for row in table.rows[:-1]:
                for paragraph in row._tr.iter(qn("w:p")):
                    paragraph.get_or_add_pPr().keepNext_val = True


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
# Measured at 11 pt although tables are set at 9.5 pt: LibreOffice, lacking Georgia, sets a wider serif.
CHAR_TWIPS = 125  # an average letter; capitals and digits are wider (_twips)
CELL_PADDING_TWIPS = 240  # the table style's 108 twips a side, and a little air
TWIPS_PER_EMU = 635
LONGEST_KEPT_WHOLE = 12  # "2024-11-28", "(preliminär)"
LINE_TWIPS = 240  # a line of 9.5 pt table text, with its leading
ROW_PADDING_TWIPS = 120


def _estimated_height(table, widths: list[int] | None) -> int:
    """A table's height in twips, roughly: the lines each row needs in its fullest cell."""
    from docx.oxml.ns import qn

    height = 0
    for row in table.rows:
        cells = row._tr.findall(qn("w:tc"))
        lines = 1
        for index, cell in enumerate(cells):
            width = widths[index] if widths and index < len(widths) else 9000 // max(len(cells), 1)
            per_line = max((width - CELL_PADDING_TWIPS) // CHAR_TWIPS, 1)
            paragraphs = cell.findall(qn("w:p"))
            lines = max(lines, sum(-(-max(len(_cell_text(p)), 1) // per_line) for p in paragraphs))
        height += lines * LINE_TWIPS + ROW_PADDING_TWIPS
    return height


def _cell_text(element) -> str:
    from docx.oxml.ns import qn

    return "".join(t.text or "" for t in element.iter(qn("w:t")))


def _fit_columns(table, text_width_emu: int) -> list[int] | None:
    """Column widths from content, written into the grid and every cell (LibreOffice reads only
    these): a column of short words and dates gets room to keep each whole, then the rest goes
    to the columns with the most text. Pandoc's widths come from the Markdown dashes and split
    "Nr", "MS1" and dates."""
    from docx.oxml.ns import qn
    from docx.shared import Twips

    rows = [row._tr.findall(qn("w:tc")) for row in table.rows]
    columns = max((len(cells) for cells in rows), default=0)
    if not columns or any(len(cells) != columns for cells in rows):
        return None  # merged cells: keep pandoc's widths rather than guess
    texts = [["".join(t.text or "" for t in cell.iter(qn("w:t"))) for cell in cells] for cells in rows]
    words = [max((len(w) for row in texts for w in row[c].split()), default=1) for c in range(columns)]
    # the header row is bold sans ("Table Header"): a tenth wider than the serif below it
    widest_word = [max((_twips(w) * (11 if r == 0 else 10) // 10 for r, row in enumerate(texts) for w in row[c].split()),
                       default=0) for c in range(columns)]
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
    # Cells in twips, not percent: LibreOffice 7.4 autofits a table whose cells are given in
    # percent and squeezes the text columns. The table itself is 100 % of the text width.
    for cells in table.rows:
        for cell, width in zip(cells.cells, widths):
            cell.width = Twips(width)
    return widths


def _twips(word: str) -> int:
    """The width of a word in the 11 pt body serif, roughly: capitals and digits are wide."""
    # digits: "2024-11-28" is 967 twips in Noto Serif 9.5 pt (LibreOffice's Georgia), 1040 here
    return sum(170 if c.isupper() else 110 if c.isdigit() else 80 if c in ".,-:;()" else 115 for c in word)
