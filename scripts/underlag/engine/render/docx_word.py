"""Word's own machinery in the DOCX, so a writer can edit it in Word and every number follows:
heading numbers as a multi-level list linked to the heading styles, a contents that is filled
in and still a TOC field, the callouts' and tables' paragraph styles, the draft marking on the
cover. Caption numbers (SEQ) and references (REF) are written by filters/crossref.lua.

Everything here works on the WordprocessingML pandoc wrote (python-docx for the parts, lxml
for the elements python-docx has no API for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn

HEADING_STYLE = re.compile(r"^Heading([1-6])$")
NUMBER_STYLE = "HeadingNumber"  # the character style filters/crossref.lua marks a heading's number with
LEVELS = 6
CONTENTS_DEPTH = 2  # pandoc's --toc-depth when the book's settings give none
UNKNOWN_PAGE = "0"


@dataclass
class Heading:
    paragraph: object  # the w:p element
    level: int
    number: str  # "2.1", "A.1"; "" for an unnumbered heading
    text: str
    bookmark: str = ""  # the contents entry's target


def number_headings(document, depth: int = LEVELS) -> list[Heading]:
    """Replace the typed heading numbers by list numbering: one multi-level list whose levels are
    linked to Heading 1–`depth` (so a new heading in Word is numbered), a second with letters for
    the appendix (A, A.1) set on those headings, and numbering switched off on unnumbered ones.
    `depth` is the book's number-depth; 0 (number-sections: false) links no style."""
    headings = []
    for paragraph in document.element.body.iter(qn("w:p")):
        level = _heading_level(paragraph)
        if level is not None:
            headings.append(Heading(paragraph, level, _take_typed_number(paragraph), _text(paragraph)))
    if depth:
        _link_heading_styles(document, headings, min(depth, LEVELS))
    _reset_series_at_chapters(document, headings)
    marker = _style(document, NUMBER_STYLE)
    if marker is not None:  # the filter's marker, not a style for writers
        marker.getparent().remove(marker)
    return headings


def _link_heading_styles(document, headings: list[Heading], depth: int) -> None:
    """One list linked to Heading 1…`depth` (decimal), one with letters for the appendix (A, A.1)
    set on its headings, numbering switched off on the unnumbered ones."""
    numbering = document.part.numbering_part.element
    main = _add_list(numbering, "decimal", linked=True, depth=depth)
    appendix = _add_list(numbering, "upperLetter", linked=False, depth=depth)
    for level in range(1, depth + 1):
        style = _style(document, f"Heading{level}")
        if style is not None:
            _set_numbering(style.get_or_add_pPr(), main, level - 1)
    for style in document.styles.element.findall(qn("w:style")):
        based_on = style.find(qn("w:basedOn"))
        if (based_on is not None and HEADING_STYLE.match(based_on.get(qn("w:val"), ""))
                and not HEADING_STYLE.match(style.get(qn("w:styleId"), ""))):
            _set_numbering(style.get_or_add_pPr(), 0, 0)  # "TOC Heading" looks like a heading, has no number
    for heading in headings:
        if not heading.number:
            if heading.level <= depth:
                _set_numbering(heading.paragraph.get_or_add_pPr(), 0, 0)  # numId 0: no number
        elif heading.number[0].isalpha():
            _set_numbering(heading.paragraph.get_or_add_pPr(), appendix, heading.level - 1)


def _reset_series_at_chapters(document, headings: list[Heading]) -> None:
    """A hidden SEQ reset for each caption series at the start of every chapter (Word's
    own older way of numbering per chapter). Word restarts the series there anyway (the captions'
    \\s 1); LibreOffice, which ignores \\s, needs these to count "3.1" after "2.4". They go into
    the chapter's first paragraph that is not a heading: in the heading LibreOffice would put the
    counter's value into its PDF bookmarks."""
    instructions = (t.text or "" for t in document.element.body.iter(qn("w:instrText")))
    series = sorted({m.group(1) for i in instructions if (m := re.match(r"\s*SEQ (\S+) .*\\s 1", i))})
    if not series:
        return
    # every chapter, numbered or not: the filter restarts its count at each (crossref.lua's collect)
    chapters = {h.paragraph for h in headings if h.level == 1}
    waiting = False
    for paragraph in list(document.element.body.iter(qn("w:p"))):
        if paragraph in chapters:
            waiting = True
        elif waiting and _heading_level(paragraph) is None:
            properties = paragraph.find(qn("w:pPr"))
            position = 1 if properties is not None else 0
            for run in reversed([run for name in series for run in _hidden_reset(name)]):
                paragraph.insert(position, run)
            waiting = False


def _hidden_reset(series: str) -> list:
    """`SEQ series \\r 0 \\h`: sets the counter to 0 and shows nothing. The runs are hidden text
    too: LibreOffice does not know \\h and would print the 0."""
    hidden = "<w:rPr><w:vanish/></w:rPr>"
    return [parse_xml(f'<w:r {nsdecls("w")}>{hidden}<w:fldChar w:fldCharType="begin"/></w:r>'),
            parse_xml(f'<w:r {nsdecls("w")}>{hidden}<w:instrText xml:space="preserve"> SEQ {series} \\r 0 \\h '
                      f'</w:instrText></w:r>'),
            parse_xml(f'<w:r {nsdecls("w")}>{hidden}<w:fldChar w:fldCharType="separate"/></w:r>'),
            parse_xml(f'<w:r {nsdecls("w")}>{hidden}<w:fldChar w:fldCharType="end"/></w:r>')]


def _add_list(numbering, format_: str, linked: bool, depth: int = LEVELS) -> int:
    """An abstractNum with levels "1", "1.1", "1.1.1" … (the first level in `format_`) and the num
    that points at it; its id. Linked: each level names its heading style (w:pStyle)."""
    abstract_ids = [int(a.get(qn("w:abstractNumId"))) for a in numbering.findall(qn("w:abstractNum"))]
    num_ids = [int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))]
    abstract_id, num_id = max(abstract_ids, default=0) + 1, max(num_ids, default=0) + 1
    levels = []
    for level in range(LEVELS):
        text = ".".join(f"%{k + 1}" for k in range(level + 1))
        link = f'<w:pStyle w:val="Heading{level + 1}"/>' if linked and level < depth else ""
        levels.append(
            f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/>'
            f'<w:numFmt w:val="{format_ if level == 0 else "decimal"}"/>{link}'
            f'<w:suff w:val="space"/><w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="0" w:firstLine="0"/></w:pPr></w:lvl>')
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
                         f'<w:multiLevelType w:val="multilevel"/>{"".join(levels)}</w:abstractNum>')
    nums = numbering.findall(qn("w:num"))
    if nums:  # every abstractNum comes before the first num (the schema's order)
        nums[0].addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}">'
                               f'<w:abstractNumId w:val="{abstract_id}"/></w:num>'))
    return num_id


def _set_numbering(properties, num_id: int, level: int) -> None:
    numbering = properties.get_or_add_numPr()
    numbering.get_or_add_ilvl().val = level
    numbering.get_or_add_numId().val = num_id


def _style(document, style_id: str):
    return document.styles.element.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")


def _heading_level(paragraph) -> int | None:
    style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    match = HEADING_STYLE.match(style.get(qn("w:val"), "")) if style is not None else None
    return int(match.group(1)) if match else None


def _take_typed_number(paragraph) -> str:
    """Remove the number run (and the space after it) the filter wrote; the number it held."""
    for run in paragraph.findall(qn("w:r")):
        style = run.find(f"{qn('w:rPr')}/{qn('w:rStyle')}")
        if style is None or style.get(qn("w:val")) != NUMBER_STYLE:
            continue
        number = "".join(t.text or "" for t in run.iter(qn("w:t")))
        following = run.getnext()
        if following is not None and following.tag == qn("w:r") and _text(following) == " ":
            paragraph.remove(following)
        paragraph.remove(run)
        return number
    return ""


def _text(element) -> str:
    return "".join(t.text or "" for t in element.iter(qn("w:t")))


# --- the contents -------------------------------------------------------------------------------

def fill_contents(document, headings: list[Heading], note: str, depth: int = CONTENTS_DEPTH) -> bool:
    """Write the contents entries into pandoc's TOC field, as Word does when it updates the field:
    one paragraph per heading (number, title, PAGEREF to a bookmark on the heading), all inside
    the field, so Word still updates it. Page numbers are placeholders until `set_pages`.
    Without headings, `note` stands in the field. Whether there is a contents at all."""
    field = _contents_field(document)
    if field is None:
        return False
    entries = [h for h in headings if h.level <= depth]
    for index, heading in enumerate(entries):
        heading.bookmark = f"_Toc_{index + 1}"
        _bookmark(heading.paragraph, heading.bookmark, 800000 + index)
    instruction = "".join(t.text or "" for t in field.iter(qn("w:instrText")))
    paragraphs = [_entry(h) for h in entries] or [_note(note)]
    begin = parse_xml(f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin"/></w:r>')
    instr = parse_xml(f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve">{_escape(instruction)}</w:instrText></w:r>')
    separate = parse_xml(f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>')
    first = paragraphs[0]
    first.insert(1, separate)
    first.insert(1, instr)
    first.insert(1, begin)  # after the w:pPr
    paragraphs[-1].append(parse_xml(f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'))
    for paragraph in paragraphs:
        field.addprevious(paragraph)
    field.getparent().remove(field)
    return bool(entries)


def _contents_field(document):
    """The paragraph holding pandoc's (empty) TOC field."""
    for instruction in document.element.body.iter(qn("w:instrText")):
        if (instruction.text or "").strip().startswith("TOC"):
            return next(instruction.iterancestors(qn("w:p")))
    return None


def _bookmark(paragraph, name: str, bookmark_id: int) -> None:
    start = parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="{bookmark_id}" w:name="{name}"/>')
    end = parse_xml(f'<w:bookmarkEnd {nsdecls("w")} w:id="{bookmark_id}"/>')
    properties = paragraph.find(qn("w:pPr"))
    if properties is not None:
        properties.addnext(start)
    else:
        paragraph.insert(0, start)
    paragraph.append(end)


def _entry(heading: Heading):
    number = (f'<w:r><w:t xml:space="preserve">{_escape(heading.number)}</w:t></w:r><w:r><w:tab/></w:r>'
              if heading.number else "")
    return parse_xml(
        f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="{_toc_style(heading.level)}"/></w:pPr>'
        f'<w:hyperlink w:anchor="{heading.bookmark}" w:history="1">{number}'
        f'<w:r><w:t xml:space="preserve">{_escape(heading.text)}</w:t></w:r><w:r><w:tab/></w:r>'
        f'<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> PAGEREF {heading.bookmark} \\h </w:instrText></w:r>'
        f'<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>{UNKNOWN_PAGE}</w:t></w:r>'
        f'<w:r><w:fldChar w:fldCharType="end"/></w:r></w:hyperlink></w:p>')


def _toc_style(level: int) -> str:
    return f"toc{level}"


def _note(text: str):
    return parse_xml(f'<w:p {nsdecls("w")}><w:r><w:rPr><w:i/></w:rPr>'
                     f'<w:t xml:space="preserve">{_escape(text)}</w:t></w:r></w:p>')


def set_pages(document, outline: list[tuple[str, int]]) -> None:
    """The page numbers of the contents entries from a layout's outline (title, page), matched in
    order by title: the outline may hold entries the contents has not (the contents heading)."""
    position = 0
    for instruction in document.element.body.iter(qn("w:instrText")):
        if not (instruction.text or "").strip().startswith("PAGEREF _Toc_"):
            continue
        link = next(instruction.iterancestors(qn("w:hyperlink")))
        title = _squeeze(_entry_title(link))
        for index in range(position, len(outline)):
            if title in _squeeze(outline[index][0]):
                separate = instruction.getparent().getnext()
                separate.getnext().find(qn("w:t")).text = str(outline[index][1])
                position = index + 1
                break


def _entry_title(link) -> str:
    """An entry's title: the text run just before the tab that leads to the page number."""
    runs = [r for r in link.findall(qn("w:r")) if r.find(qn("w:t")) is not None]
    return _text(runs[-2]) if len(runs) >= 2 else ""


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def note_missing_pages(document, note: str) -> None:
    """Without page numbers: a note under the contents, and the field marked for Word to update
    (the field dirty, and updateFields in the settings: Word fills the numbers in on opening)."""
    field = None
    for char in document.element.body.iter(qn("w:fldChar")):
        instruction = char.getparent().getnext()
        if instruction is not None and "TOC" in _instruction(instruction):
            field = char
            break
    if field is None:
        return
    field.set(qn("w:dirty"), "true")
    _update_fields_on_opening(document)
    for instruction in document.element.body.iter(qn("w:instrText")):
        if (instruction.text or "").strip().startswith("PAGEREF _Toc_"):  # no made-up page numbers
            instruction.getparent().getnext().getnext().find(qn("w:t")).text = ""
    entries = [p for p in document.element.body.iter(qn("w:p")) if _style_id(p).startswith("toc")]
    last = entries[-1] if entries else next(field.iterancestors(qn("w:p")))
    last.addnext(_note(note))


def _update_fields_on_opening(document) -> None:
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is None:
        _add_setting(settings, "w:updateFields", {qn("w:val"): "true"})


def declare_word_version(document) -> None:
    """Word 2013 and later's layout (compatibility mode 15): without it Word opens the file in
    compatibility mode, offers to convert it and keeps classic comments."""
    settings = document.settings.element
    compat = settings.find(qn("w:compat"))
    if compat is None:
        compat = _add_setting(settings, "w:compat")
    for setting in compat.findall(qn("w:compatSetting")):
        if setting.get(qn("w:name")) == "compatibilityMode":
            compat.remove(setting)
    compat.append(OxmlElement("w:compatSetting", {qn("w:name"): "compatibilityMode", qn("w:val"): "15",
                                                  qn("w:uri"): "http://schemas.microsoft.com/office/word"}))


def hyphenate(document) -> None:
    """Word's automatic hyphenation, as the PDF hyphenates: in a narrow table column a long Swedish
    compound ("handlingsalternativ") is otherwise cut at the column's edge, mid-syllable and
    without a hyphen. Capitals (names, abbreviations) are left whole."""
    settings = document.settings.element
    for name in ("w:autoHyphenation", "w:doNotHyphenateCaps"):
        if settings.find(qn(name)) is None:
            _add_setting(settings, name)


# The order of w:settings' children from the automatic hyphenation on (ECMA-376 CT_Settings, as
# python-docx lists it): Word refuses a file whose settings are out of order
SETTINGS_ORDER = ("w:autoHyphenation", "w:consecutiveHyphenLimit", "w:hyphenationZone",
                  "w:doNotHyphenateCaps", "w:showEnvelope", "w:summaryLength", "w:clickAndTypeStyle",
                  "w:defaultTableStyle", "w:evenAndOddHeaders", "w:bookFoldRevPrinting",
                  "w:bookFoldPrinting", "w:bookFoldPrintingSheets", "w:drawingGridHorizontalSpacing",
                  "w:drawingGridVerticalSpacing", "w:displayHorizontalDrawingGridEvery",
                  "w:displayVerticalDrawingGridEvery", "w:doNotUseMarginsForDrawingGridOrigin",
                  "w:drawingGridHorizontalOrigin", "w:drawingGridVerticalOrigin", "w:doNotShadeFormData",
                  "w:noPunctuationKerning", "w:characterSpacingControl", "w:printTwoOnOne",
                  "w:strictFirstAndLastChars", "w:noLineBreaksAfter", "w:noLineBreaksBefore",
                  "w:savePreviewPicture", "w:doNotValidateAgainstSchema", "w:saveInvalidXml",
                  "w:ignoreMixedContent", "w:alwaysShowPlaceholderText", "w:doNotDemarcateInvalidXml",
                  "w:saveXmlDataOnly", "w:useXSLTWhenSaving", "w:saveThroughXslt", "w:showXMLTags",
                  "w:alwaysMergeEmptyNamespace", "w:updateFields", "w:hdrShapeDefaults", "w:footnotePr",
                  "w:endnotePr", "w:compat", "w:docVars", "w:rsids", "m:mathPr", "w:attachedSchema",
                  "w:themeFontLang", "w:clrSchemeMapping", "w:doNotIncludeSubdocsInStats",
                  "w:doNotAutoCompressPictures", "w:forceUpgrade", "w:captions", "w:readModeInkLockDown",
                  "w:smartTagType", "sl:schemaLibrary", "w:shapeDefaults", "w:doNotEmbedSmartTags",
                  "w:decimalSymbol", "w:listSeparator")


def _add_setting(settings, name: str, attributes: dict | None = None):
    """A new child of w:settings at its place in the schema's order."""
    element = OxmlElement(name, attributes)
    settings.insert_element_before(element, *SETTINGS_ORDER[SETTINGS_ORDER.index(name) + 1:])
    return element


def _instruction(run) -> str:
    return "".join(t.text or "" for t in run.iter(qn("w:instrText")))


def _style_id(paragraph) -> str:
    style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    return style.get(qn("w:val"), "") if style is not None else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --- styles for what pandoc leaves in Normal ----------------------------------------------------

def style_table_text(document) -> None:
    """Table cells in the table styles: "Table Header" for the first row, "Table Text" below
    (smaller than the body, as in the PDF). Word lets the paragraph style win over the table
    style, so the table's text size has to be a paragraph style."""
    for table in document.element.body.iter(qn("w:tbl")):
        for index, row in enumerate(table.findall(qn("w:tr"))):
            for paragraph in row.iter(qn("w:p")):
                style = "TableHeader" if index == 0 else "TableText"
                paragraph.get_or_add_pPr().get_or_add_pStyle().val = style


def set_number_format(document, lang: str) -> None:
    """Word's field results and its theme fonts in the document's language: a decimal comma and
    ";" between list items for Swedish (pandoc's reference document says "." and "," and en-US)."""
    settings = document.settings.element
    comma = lang.split("-")[0] in DECIMAL_COMMA
    for name, value in (("themeFontLang", lang), ("decimalSymbol", "," if comma else "."),
                        ("listSeparator", ";" if comma else ",")):
        element = settings.find(qn(f"w:{name}"))
        if element is not None:
            element.set(qn("w:val"), value)


DECIMAL_COMMA = {"sv", "da", "nb", "nn", "no", "fi", "de", "fr", "nl", "es", "it", "pt", "pl", "cs"}


def mark_cover(document, text: str) -> None:
    """The draft marking on the cover, after the document facts (pandoc's abstract), boxed in
    red as the PDF's cover has it."""
    for paragraph in document.paragraphs:
        if paragraph.style is not None and paragraph.style.style_id == "Abstract":
            marking = OxmlElement("w:p")
            paragraph._p.addnext(marking)
            marking.get_or_add_pPr().get_or_add_pStyle().val = "CoverStatus"
            run = OxmlElement("w:r")
            run_text = OxmlElement("w:t")
            run_text.text = text
            run.append(run_text)
            marking.append(run)
            return
