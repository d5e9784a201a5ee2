"""The DOCX a Word user can own: A4, table rows kept whole, columns that fit their content;
heading numbers as list numbering linked to the heading styles, captions and references as
SEQ/REF fields, a filled-in contents that is still a TOC field (its page numbers from
LibreOffice's layout when asked for, as a publish does; else left to Word), the table and callout
styles, the draft marking, and a brief within four pages. Read with python-docx and lxml, and as
LibreOffice lays it out (its PDF, page by page)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree
from pypdf import PdfReader

from conftest import copy_project, heading_numbers, pdf_text, underlag

A4_CM = (21.0, 29.7)
# Tokens that must never be cut inside a table cell: dates, ids such as MS1 or R8, short words.
WHOLE_TOKEN = re.compile(r"^(\d{4}-\d\d-\d\d|[A-Z]{1,3}\d{1,2}|\w{2,4})$")


@pytest.fixture(scope="module")
def document(report):
    return docx.Document(str(report["docx"]))


@pytest.fixture(scope="module")
def numbered(report, tmp_path_factory) -> Path:
    """The report's DOCX with the contents' page numbers (`build --page-numbers`, as a publish
    makes it), built in a copy of the built project (its data stage comes from the cache)."""
    project = tmp_path_factory.mktemp("numbered") / "project"
    shutil.copytree(report["docx"].parent.parent, project, ignore=shutil.ignore_patterns("report"))
    result = underlag("build", "--format", "docx", "--page-numbers", cwd=project)
    assert result.returncode == 0, result.stderr
    return project / "report" / "beslutsunderlag.docx"


@pytest.fixture(scope="module")
def numbered_document(numbered):
    return docx.Document(str(numbered))


@pytest.fixture(scope="module")
def libreoffice_pdf(numbered, tmp_path_factory) -> Path:
    """LibreOffice's layout of the numbered DOCX (the same body as the plain build's but for the
    contents' page numbers)."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (libreoffice-writer-nogui) is installed by the README's test command"
    folder = tmp_path_factory.mktemp("libreoffice")
    result = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                             str(numbered)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return folder / "beslutsunderlag.pdf"


def test_every_section_is_a4_with_the_pdf_margins(document):
    for section in document.sections:
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == A4_CM
        assert round(section.left_margin.cm, 1) == round(section.right_margin.cm, 1) == 2.4


def test_every_section_states_its_header_footer_and_gutter(document):
    """Word's defaults written out: LibreOffice fills missing ones in differently (1.27 cm)."""
    for section in document.sections:
        assert (round(section.header_distance.cm, 2), round(section.footer_distance.cm, 2)) == (1.25, 1.25)
        assert section.gutter == 0


def test_word_opens_it_as_a_current_document_not_in_compatibility_mode(document):
    modes = document.settings.element.findall(f"{qn('w:compat')}/{qn('w:compatSetting')}")
    assert [(m.get(qn("w:name")), m.get(qn("w:val"))) for m in modes] == [("compatibilityMode", "15")]
    order = [child.tag.split("}")[1] for child in document.settings.element]
    assert order.index("compat") < order.index("rsids") < order.index("themeFontLang")  # the schema's order


def test_headings_and_text_are_in_our_fonts_in_word_not_the_themes(report, document):
    """A theme font wins over a named font in Word: pandoc's reference names Aptos (which Word
    2016–2019 lacks), so a heading would not be Arial in Word though LibreOffice shows Arial."""
    themed = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "TOC Heading", "Normal"):
        fonts = document.styles[name].element.rPr.rFonts
        assert not [a for a in themed if fonts.get(qn(f"w:{a}"))], name
        assert {fonts.get(qn(f"w:{a}")) for a in ("ascii", "hAnsi", "cs")} == {"Georgia" if name == "Normal" else "Arial"}
    with zipfile.ZipFile(report["docx"]) as archive:
        theme = etree.fromstring(archive.read("word/theme/theme1.xml"))
    drawing = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    assert [(font.tag.split("}")[1], font.find(f"{drawing}latin").get("typeface"))
            for font in theme.iter(f"{drawing}majorFont", f"{drawing}minorFont")] == [
        ("majorFont", "Arial"), ("minorFont", "Georgia")]


def test_every_style_the_document_names_is_defined(report):
    """A paragraph whose style is missing falls back to Normal in Word: the running header and
    footer were body text in Georgia 11 pt, not the PDF's small grey sans."""
    with zipfile.ZipFile(report["docx"]) as archive:
        defined = set(re.findall(r'w:styleId="([^"]+)"', archive.read("word/styles.xml").decode()))
        parts = [name for name in archive.namelist() if re.fullmatch(r"word/(document|header\d+|footer\d+|footnotes)\.xml", name)]
        named = {(name, style) for name in parts
                 for style in re.findall(r'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"', archive.read(name).decode())}
    assert {"Header", "Footer"} <= defined
    assert sorted(pair for pair in named if pair[1] not in defined) == []


def test_the_file_claims_no_statistics_it_does_not_have(report):
    """pandoc's reference document said 1 page and 83 words, written by Word 12 (File > Info)."""
    with zipfile.ZipFile(report["docx"]) as archive:
        properties = etree.fromstring(archive.read("docProps/app.xml"))
    names = {element.tag.split("}")[1]: element.text for element in properties}
    assert not {"Pages", "Words", "Characters", "AppVersion"} & set(names)
    assert names["Application"] == "underlag"


def test_libreoffice_opens_it_as_a4(libreoffice_pdf):
    box = PdfReader(libreoffice_pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_table_rows_never_split_and_headers_repeat(document):
    assert document.tables
    for table in document.tables:
        assert table._tbl.tblPr.find(qn("w:tblLayout")) is None  # autofit, not pandoc's fixed widths
        for index, row in enumerate(table.rows):
            properties = row._tr.trPr
            assert properties is not None and properties.find(qn("w:cantSplit")) is not None
            if index == 0:
                assert properties.find(qn("w:tblHeader")) is not None


def test_dates_ids_and_short_words_in_tables_are_not_cut(document, libreoffice_pdf):
    """Pandoc's fixed widths made LibreOffice print "N r", "M S1" and "2024-11-/28"."""
    tokens = {word for table in document.tables for row in table.rows for cell in row.cells
              for word in cell.text.split() if WHOLE_TOKEN.match(word)}
    assert {"Nr", "2024-11-28", "MS1"} <= tokens
    # the contents' dot leaders end in page numbers that run on into the next entry's number
    text = "\n".join(line for line in pdf_text(libreoffice_pdf).splitlines() if "....." not in line)
    cut = sorted(token for token in tokens for k in range(1, len(token))
                 if re.search(rf"(?<!\w){re.escape(token[:k])}\n{re.escape(token[k:])}(?!\w)", text))
    assert cut == []


def test_long_words_in_tables_break_at_a_hyphen_not_at_the_columns_edge(document, libreoffice_pdf):
    """Word is asked to hyphenate, as the PDF does, and our table styles follow the body (Swedish,
    hyphenated in LibreOffice too): "handlingsalte|rnativ" was cut at the column's edge."""
    settings = document.settings.element
    assert settings.find(qn("w:autoHyphenation")) is not None and settings.find(qn("w:doNotHyphenateCaps")) is not None
    assert document.styles["Table Text"].base_style.name == "Normal"
    words = {word.strip(".,;:()") for table in document.tables for row in table.rows for cell in row.cells
             for word in cell.text.split()}
    long_words = {word for word in words if len(word) >= 8 and word.isalpha()}
    assert {"handlingsalternativ", "verkställighetsbeslut"} <= long_words
    text = pdf_text(libreoffice_pdf)
    cut = sorted(word for word in long_words for k in range(2, len(word) - 1)
                 if re.search(rf"(?<!\w){re.escape(word[:k])}\n{re.escape(word[k:])}(?!\w)", text))
    assert cut == []


# --- Word's own machinery: numbering, fields, contents, styles, marking ---------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CAPTION_NUMBER = re.compile(r"^(Tabell|Figur) ([0-9A-Z]+(?:\.\d+)?): ")


@pytest.fixture(scope="module")
def body(document):
    return document.element.body  # the same elements heading_numbers() keys its answer by


def _style_id(paragraph) -> str:
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    return style.get(f"{W}val") if style is not None else ""


def _instruction(begin) -> str:
    """A complex field's instruction, from its begin run."""
    return "".join(t.text or "" for t in begin.getparent().getnext().iter(f"{W}instrText")).strip()


def _fields(body):
    """(instruction, result text, begin run) of every complex field (ours never nest)."""
    fields = []
    for char in body.iter(f"{W}fldChar"):
        if char.get(f"{W}fldCharType") != "begin":
            continue
        run, result, separated = char.getparent().getnext(), [], False
        while run is not None:
            kind = run.find(f"{W}fldChar")
            if kind is not None and kind.get(f"{W}fldCharType") == "end":
                break
            if kind is not None and kind.get(f"{W}fldCharType") == "separate":
                separated = True
            elif separated:
                result.append("".join(t.text or "" for t in run.iter(f"{W}t")))
            run = run.getnext()
        fields.append((_instruction(char), "".join(result), char.getparent()))
    return fields


def _bookmark_texts(body) -> dict[str, str]:
    """The text inside each bookmark that starts and ends in one paragraph."""
    texts = {}
    for paragraph in body.iter(f"{W}p"):
        open_marks: dict[str, list[str]] = {}
        names = {}
        for element in paragraph.iter(f"{W}bookmarkStart", f"{W}bookmarkEnd", f"{W}t"):
            if element.tag == f"{W}bookmarkStart":
                names[element.get(f"{W}id")] = element.get(f"{W}name")
                open_marks[element.get(f"{W}id")] = []
            elif element.tag == f"{W}bookmarkEnd" and element.get(f"{W}id") in open_marks:
                texts[names[element.get(f"{W}id")]] = "".join(open_marks.pop(element.get(f"{W}id")))
            elif element.tag == f"{W}t":
                for parts in open_marks.values():
                    parts.append(element.text or "")
    return texts


def test_heading_numbers_are_a_multilevel_list_linked_to_the_heading_styles(document):
    """The typed "1 " is gone from the headings; Word numbers them from the styles, so a heading
    a writer adds in Word is numbered and the ones after it renumber."""
    styles, numbering = document.styles.element, document.part.numbering_part.element
    for level in (1, 2, 3):
        numbered = styles.find(f"{W}style[@{W}styleId='Heading{level}']/{W}pPr/{W}numPr")
        assert numbered is not None, f"Heading {level} has no list numbering"
        num_id, ilvl = numbered.find(f"{W}numId").get(f"{W}val"), numbered.find(f"{W}ilvl").get(f"{W}val")
        abstract = numbering.find(f"{W}num[@{W}numId='{num_id}']/{W}abstractNumId").get(f"{W}val")
        lvl = numbering.find(f"{W}abstractNum[@{W}abstractNumId='{abstract}']/{W}lvl[@{W}ilvl='{ilvl}']")
        assert lvl.find(f"{W}pStyle").get(f"{W}val") == f"Heading{level}"
        assert lvl.find(f"{W}lvlText").get(f"{W}val") == ".".join(f"%{k}" for k in range(1, level + 1))
    headings = [p for p in document.paragraphs if p.style.style_id.startswith("Heading")]
    typed = [p.text for p in headings if re.match(r"^([0-9]+|[A-Z])(\.[0-9]+)*\s", p.text)]
    assert headings and typed == []
    shown = {f"{n} {p.text}" for p, n in ((p, heading_numbers(document).get(p._p)) for p in headings) if n}
    assert {"1 Sammanfattning", "1.2 Vad rapporten visar", "13 Beredning, bilagor och sändlista",
            "A Intressenter", "E.2 Kända brister"} <= shown
    contents_heading = styles.find(f"{W}style[@{W}styleId='TOCHeading']/{W}pPr/{W}numPr/{W}numId")
    assert contents_heading is not None and contents_heading.get(f"{W}val") == "0"  # based on Heading 1, unnumbered


def test_captions_are_seq_fields_in_bookmarks_and_references_are_ref_fields(body, document):
    """Each caption's number is STYLEREF (chapter) + SEQ (its series) inside a bookmark; every
    reference is a REF to such a bookmark (or to a heading) whose result is today's number."""
    captions = [p for p in body.iter(f"{W}p") if _style_id(p) in ("TableCaption", "ImageCaption")]
    assert len(captions) > 20
    bookmark_texts = _bookmark_texts(body)
    for caption in captions:
        instructions = [_instruction(c) for c in caption.iter(f"{W}fldChar") if c.get(f"{W}fldCharType") == "begin"]
        kind, number = CAPTION_NUMBER.match("".join(t.text or "" for t in caption.iter(f"{W}t"))).groups()
        assert instructions[-1].startswith(f"SEQ {kind} \\* ARABIC"), instructions
        if "." in number:
            assert instructions[-2] == "STYLEREF 1 \\s" and instructions[-1].endswith(" \\s 1")
        marks = [b.get(f"{W}name") for b in caption.iter(f"{W}bookmarkStart") if b.get(f"{W}name").startswith("_Ref_")]
        assert len(marks) == 1 and bookmark_texts[marks[0]] == number
    # LibreOffice ignores \\s 1: each chapter starts with a hidden reset of every series
    resets = [(i, run) for i, _, run in _fields(body) if i.endswith("\\r 0 \\h")]
    chapters = [p for p, n in heading_numbers(document).items() if _style_id(p) == "Heading1"]
    assert sorted(i for i, _ in resets) == sorted(["SEQ Figur \\r 0 \\h", "SEQ Tabell \\r 0 \\h"] * len(chapters))
    assert all(run.find(f"{W}rPr/{W}vanish") is not None for _, run in resets)
    numbers = {p: n for p, n in heading_numbers(document).items()}
    heading_marks = {b.get(f"{W}name"): numbers.get(b.getparent())
                     for b in body.iter(f"{W}bookmarkStart") if b.getparent() in numbers}
    references = [(i.split()[1], i, result) for i, result, _ in _fields(body) if i.startswith("REF ")]
    assert len(references) > 20
    wrong = [(name, result) for name, instruction, result in references
             if result != (heading_marks.get(name) if "\\w" in instruction else bookmark_texts.get(name))]
    assert wrong == []  # a REF's result is its target's number: the text reads right before an update


def test_contents_is_a_toc_field_filled_with_entries_and_pages(numbered_document, libreoffice_pdf):
    """Word opens it filled in and without a prompt, and can still update it (one TOC field
    around all entries, PAGEREF fields to bookmarks on the headings); the pages are LibreOffice's."""
    document, body = numbered_document, numbered_document.element.body
    fields = _fields(body)
    assert [i for i, _, _ in fields if i.startswith("TOC ")] == ['TOC \\o "1-2" \\h \\z \\u']
    entries = [p for p in body.iter(f"{W}p") if _style_id(p) in ("toc1", "toc2")]
    headings = [p for p in document.paragraphs if p.style.style_id in ("Heading1", "Heading2")]
    assert len(entries) == len(headings) > 40
    begin = next(c for c in body.iter(f"{W}fldChar") if c.get(f"{W}fldCharType") == "begin"
                 and _instruction(c).startswith("TOC"))
    assert begin.get(f"{W}dirty") is None and next(begin.iterancestors(f"{W}p")) is entries[0]
    assert entries[-1].findall(f"{W}r/{W}fldChar")[-1].get(f"{W}fldCharType") == "end"
    bookmarks = {b.get(f"{W}name") for b in body.iter(f"{W}bookmarkStart")}
    pages = [(i.split()[1], int(result)) for i, result, _ in fields if i.startswith("PAGEREF ")]
    assert len(pages) == len(entries) and {name for name, _ in pages} <= bookmarks
    numbers = [page for _, page in pages]
    assert numbers == sorted(numbers) and numbers[0] >= 2
    laid_out = [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(libreoffice_pdf).pages]
    misplaced = [p.text for p, (_, page) in zip(headings, pages) if p.text not in laid_out[page - 1]]
    assert misplaced == []
    assert document.settings.element.find(f"{W}updateFields") is None


def test_a_plain_builds_contents_is_left_for_word_to_number(body, document, numbered_document):
    """An ordinary build runs no LibreOffice: the same entries, fields and bookmarks as the
    numbered DOCX, but no page numbers; Word is asked to update the fields on opening, and a
    note in the book's language says so."""
    plain = _fields(body)
    numbered = _fields(numbered_document.element.body)
    assert [i for i, _, _ in plain] == [i for i, _, _ in numbered]
    pages = [result for i, result, _ in plain if i.startswith("PAGEREF ")]
    assert len(pages) > 40 and set(pages) == {""}
    toc = next(run for i, _, run in plain if i.startswith("TOC "))
    assert toc.find(f"{W}fldChar").get(f"{W}dirty") == "true"
    assert document.settings.element.find(f"{W}updateFields").get(f"{W}val") == "true"
    text = "".join(t.text or "" for t in body.iter(f"{W}t"))
    assert "Sidnumren i innehållsförteckningen fylls i av Word när dokumentet öppnas" in text
    assert "LibreOffice fanns inte" not in text


def test_tables_have_the_project_look(document):
    table_style = document.styles.element.find(f"{W}style[@{W}styleId='Table']")
    assert table_style.find(f"{W}tblPr/{W}tblBorders/{W}insideH") is not None
    assert table_style.find(f"{W}tblStylePr[@{W}type='firstRow']/{W}tcPr/{W}shd").get(f"{W}fill") == "E3EDF5"
    for table in document.tables:
        styles = [{p.style.style_id for c in row.cells for p in c.paragraphs} for row in table.rows]
        assert styles[0] == {"TableHeader"} and all(s == {"TableText"} for s in styles[1:])


def test_callouts_are_shaded_boxes_in_their_colour(document):
    def resolved(style, path):
        while style is not None:
            found = style.element.find(path)
            if found is not None:
                return found
            style = style.base_style
        return None

    callouts = [p for p in document.paragraphs if p.style.style_id.startswith("Callout")]
    kinds = {p.style.style_id for p in callouts}
    assert {"CalloutWarningTitle", "CalloutWarning", "CalloutImportantTitle", "CalloutImportant"} <= kinds
    fills = {}
    for paragraph in callouts:
        fill = resolved(paragraph.style, f"{W}pPr/{W}shd").get(f"{W}fill")
        bar = resolved(paragraph.style, f"{W}pPr/{W}pBdr/{W}left")
        assert fill not in ("auto", "FFFFFF") and bar is not None
        fills.setdefault(paragraph.style.style_id.removesuffix("Title"), set()).add((fill, bar.get(f"{W}color")))
        if paragraph.style.style_id.endswith("Title"):
            assert resolved(paragraph.style, f"{W}rPr/{W}b") is not None
    assert all(len(f) == 1 for f in fills.values())  # title and text make one box
    assert fills["CalloutWarning"] != fills["CalloutImportant"]


def test_cover_and_header_mark_the_draft(document):
    cover = [p.text for p in document.paragraphs if p.style.style_id == "CoverStatus"]
    assert len(cover) == 1 and cover[0].startswith("UTKAST: innehållet är inte fastställt")
    header = document.sections[0].header.paragraphs[0]
    marking = [r for r in header.runs if r.text == "UTKAST"]
    assert marking and marking[0].bold and str(marking[0].font.color.rgb) == "B42318"


def test_libreoffice_shows_heading_numbers_contents_and_caption_numbers(numbered_document, libreoffice_pdf):
    document = numbered_document
    pages = [page.extract_text() for page in PdfReader(libreoffice_pdf).pages]
    assert "Innehåll" in pages[1] and re.search(r"1\s+Sammanfattning\s*\.{5,}\s*\d", pages[1])
    text = "\n".join(pages)
    for heading in ("1 Sammanfattning", "8.11 Samlad bedömning", "A Intressenter", "E.1 Vad vi har kontrollerat"):
        assert re.search(rf"^{re.escape(heading)}$", text, re.MULTILINE), heading
    in_docx = [m.group(0) for p in document.paragraphs if (m := CAPTION_NUMBER.match(p.text))]
    in_pdf = re.findall(r"^(?:Tabell|Figur) [0-9A-Z]+(?:\.\d+)?: ", text, re.MULTILINE)
    assert in_pdf == in_docx  # LibreOffice recounts the SEQ fields and gets the same numbers


@pytest.fixture(scope="module")
def brief(tmp_path_factory) -> tuple[Path, Path]:
    """The short brief's DOCX and LibreOffice's PDF of it."""
    project = copy_project(tmp_path_factory.mktemp("brief"))
    result = underlag("build", "--profile", "kortversion", "--format", "docx", cwd=project)
    assert result.returncode == 0, result.stderr
    docx_path = project / "report" / "kortversion.docx"
    return docx_path, _libreoffice_pdf(docx_path, tmp_path_factory.mktemp("brief-pdf"))


def _libreoffice_pdf(docx_path: Path, folder: Path) -> Path:
    result = subprocess.run([shutil.which("soffice"), f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                             "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(docx_path)],
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    return folder / (docx_path.stem + ".pdf")


def test_brief_fits_four_pages(brief):
    docx_path, pdf = brief
    document = docx.Document(str(docx_path))
    assert not document.styles["Heading 1"].paragraph_format.page_break_before  # no page per chapter
    assert len(PdfReader(pdf).pages) <= 4


PLAIN_BOOK = {"book": {"chapters": ["index.qmd"]}, "title": "En vanlig bok", "lang": "sv-SE"}


@pytest.fixture(scope="module")
def plain_books(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """A plain Quarto book (no status in its metadata) built with LibreOffice on the PATH ("med")
    and without it ("utan"), each in turn as an ordinary build ("vanlig"), with --page-numbers
    ("sidnummer") and as an ordinary build again ("igen"): the cache must tell them apart."""
    import yaml

    built: dict[str, dict[str, Path]] = {}
    for name in ("med", "utan"):
        folder = tmp_path_factory.mktemp(f"plain-{name}")
        (folder / "_quarto.yml").write_text(yaml.safe_dump(PLAIN_BOOK, allow_unicode=True), "utf-8")
        (folder / "index.qmd").write_text("# Början\n\nText.\n\n## Mitten\n\nMer text.\n\n# Slutet\n\nSlut.\n", "utf-8")
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "1738022400"}  # byte-comparable between the folders
        if name == "utan":  # a PATH with git only: no soffice to be found
            tools = tmp_path_factory.mktemp("tools")
            (tools / "git").symlink_to(shutil.which("git"))
            environment["PATH"] = str(tools)
        copies = tmp_path_factory.mktemp(f"plain-{name}-docx")
        for run, flags in (("vanlig", []), ("sidnummer", ["--page-numbers"]), ("igen", [])):
            result = subprocess.run([sys.executable, "-m", "underlag", "build", "--format", "docx", *flags],
                                    cwd=folder, capture_output=True, text=True, env=environment, check=False)
            assert result.returncode == 0, result.stderr
            built.setdefault(name, {})[run] = shutil.copy(folder / "report" / "rapport.docx", copies / f"{run}.docx")
    return built


def _contents_pages(path: Path) -> tuple[list[str], object]:
    """The contents' PAGEREF results and the document body."""
    with zipfile.ZipFile(path) as archive:
        body = etree.fromstring(archive.read("word/document.xml")).find(f"{W}body")
    return [result for i, result, _ in _fields(body) if i.startswith("PAGEREF ")], body


def _updates_fields_on_opening(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        settings = etree.fromstring(archive.read("word/settings.xml"))
    update = settings.find(f"{W}updateFields")
    return update is not None and update.get(f"{W}val") == "true"


def test_a_plain_book_has_no_draft_marking(plain_books):
    document = docx.Document(str(plain_books["med"]["sidnummer"]))
    assert not [p for p in document.paragraphs if p.style.style_id == "CoverStatus"]
    assert "UTKAST" not in document.sections[0].header.paragraphs[0].text
    footer = document.sections[0].footer.paragraphs[0].text
    assert "utkast" not in footer and not footer.startswith("Version")  # no status, no version given
    assert not [p for p in document.paragraphs if "Status" in p.text]


def test_contents_of_a_plain_book_is_filled_in_when_asked_for(plain_books):
    pages, _ = _contents_pages(plain_books["med"]["sidnummer"])
    # the title on page 1, the contents on page 2, then a page per chapter
    assert pages == ["3", "3", "4"]
    assert not _updates_fields_on_opening(plain_books["med"]["sidnummer"])


def test_an_ordinary_build_runs_no_libreoffice_and_leaves_the_pages_to_word(plain_books):
    """The same bytes with and without LibreOffice on the PATH: it never ran. The entries are
    there without page numbers, Word updates the fields on opening, a note says so; and the
    cache gives neither build the other's DOCX."""
    ordinary = plain_books["med"]["vanlig"]
    assert ordinary.read_bytes() == plain_books["utan"]["vanlig"].read_bytes()
    assert ordinary.read_bytes() == plain_books["med"]["igen"].read_bytes()
    assert ordinary.read_bytes() != plain_books["med"]["sidnummer"].read_bytes()
    pages, body = _contents_pages(ordinary)
    assert pages == ["", "", ""]
    begin = next(c for c in body.iter(f"{W}fldChar") if c.get(f"{W}fldCharType") == "begin")
    assert _instruction(begin).startswith("TOC") and begin.get(f"{W}dirty") == "true"
    assert _updates_fields_on_opening(ordinary)
    text = "".join(t.text or "" for t in body.iter(f"{W}t"))
    assert "fylls i av Word när dokumentet öppnas" in text and "LibreOffice fanns inte" not in text


def test_without_libreoffice_the_contents_waits_for_word(plain_books):
    """Asked for page numbers without LibreOffice: none made up, Word is asked to update, the
    note says LibreOffice was missing."""
    pages, body = _contents_pages(plain_books["utan"]["sidnummer"])
    assert pages == ["", "", ""]
    begin = next(c for c in body.iter(f"{W}fldChar") if c.get(f"{W}fldCharType") == "begin")
    assert _instruction(begin).startswith("TOC") and begin.get(f"{W}dirty") == "true"
    assert _updates_fields_on_opening(plain_books["utan"]["sidnummer"])
    assert "LibreOffice fanns inte" in "".join(t.text or "" for t in body.iter(f"{W}t"))


# An English book with its own numbering rules: one figure series through the book in roman
# numerals, table letters, and no section numbers (crossref: chapters: false, fig-labels,
# tbl-labels, number-sections: false). Word's fields must say the same as the text.
SETTINGS_BOOK = {"book": {"chapters": ["one.qmd", "two.qmd"]}, "title": "A plain book", "lang": "en",
                 "number-sections": False, "toc": False,
                 "crossref": {"chapters": False, "fig-labels": "roman", "tbl-labels": "alpha a"}}
CHAPTERS = {
    "one.qmd": "# One {#sec-one}\n\n![Bars one](stapel.png){#fig-a fig-alt=\"Two bars.\"}\n\n"
               "| A | B |\n|---|---|\n| 1 | 2 |\n\n: First numbers {#tbl-a}\n",
    "two.qmd": "# Two\n\n![Bars two](stapel.png){#fig-b fig-alt=\"Two bars.\"}\n\n"
               "See @fig-b, @tbl-a and @sec-one.\n",
}


@pytest.fixture(scope="module")
def settings_book(tmp_path_factory):
    import yaml

    folder = tmp_path_factory.mktemp("settings-book")
    (folder / "_quarto.yml").write_text(yaml.safe_dump(SETTINGS_BOOK), "utf-8")
    for name, text in CHAPTERS.items():
        (folder / name).write_text(text, "utf-8")
    shutil.copy(Path(__file__).parent / "conformance" / "number-depth" / "stapel.png", folder)
    result = underlag("build", "--format", "docx", cwd=folder)
    assert result.returncode == 0, result.stderr
    path = folder / "report" / "rapport.docx"
    return docx.Document(str(path)), path


def test_fields_follow_the_books_words_and_numbering_rules(settings_book):
    document, _ = settings_book
    fields = [(i, result) for i, result, _ in _fields(document.element.body)]
    seq = [(i, result) for i, result in fields if i.startswith("SEQ ")]
    # the book's caption words name the series; no chapter number (STYLEREF) before them
    assert seq == [("SEQ Figure \\* ROMAN", "I"), ("SEQ Table \\* alphabetic", "a"), ("SEQ Figure \\* ROMAN", "II")]
    assert not [i for i, _ in fields if i.startswith("STYLEREF")]
    refs = [(i.split()[1], result) for i, result in fields if i.startswith("REF ")]
    assert refs == [("_Ref_fig_b", "II"), ("_Ref_tbl_a", "a")]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Figure I: Bars one" in text and "Table a: First numbers" in text
    assert "See Figure\u00a0II, Table\u00a0a and One." in text  # an unnumbered section: its title


def test_no_heading_numbers_without_number_sections(settings_book):
    document, _ = settings_book
    styles = document.styles.element
    assert styles.find(f"{W}style[@{W}styleId='Heading1']/{W}pPr/{W}numPr") is None
    assert not [n for n in heading_numbers(document).values() if n]


@pytest.fixture(scope="module")
def shallow_book(tmp_path_factory):
    """number-depth: 1 and an appendix: chapters numbered 1 and A, their sections not."""
    import yaml

    folder = tmp_path_factory.mktemp("shallow-book")
    config = {"book": {"chapters": ["one.qmd"], "appendices": ["two.qmd"]}, "title": "Shallow", "lang": "en",
              "number-depth": 1, "toc": False}
    (folder / "_quarto.yml").write_text(yaml.safe_dump(config), "utf-8")
    (folder / "one.qmd").write_text("# One\n\nText.\n\n## Part\n\nText.\n", "utf-8")
    (folder / "two.qmd").write_text("# Two\n\nText.\n\n## Detail\n\nText.\n", "utf-8")
    result = underlag("build", "--format", "docx", cwd=folder)
    assert result.returncode == 0, result.stderr
    return docx.Document(str(folder / "report" / "rapport.docx"))


def test_heading_numbering_follows_number_depth_and_appendix_letters(shallow_book):
    styles = shallow_book.styles.element
    assert styles.find(f"{W}style[@{W}styleId='Heading1']/{W}pPr/{W}numPr") is not None
    # a Heading 2 a writer adds in Word stays unnumbered, as the book's own sections
    assert styles.find(f"{W}style[@{W}styleId='Heading2']/{W}pPr/{W}numPr") is None
    numbers = heading_numbers(shallow_book)
    shown = [(numbers.get(p._p) or "", p.text) for p in shallow_book.paragraphs if p.style.style_id.startswith("Heading")]
    assert shown == [("1", "One"), ("", "Part"), ("A", "Two"), ("", "Detail")]
