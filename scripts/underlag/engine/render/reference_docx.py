"""Build pandoc's reference DOCX from `templates/docx/styles.yaml`.

Starts from pandoc's own reference document (so every style pandoc uses exists), then
applies our fonts, sizes and colours, the page margins, the document language, and a
header and footer carrying the title, status, version and page numbers.
"""

from __future__ import annotations

import re
from collections import defaultdict
import subprocess
from pathlib import Path

from underlag.engine.guarded_yaml import read_yaml
from underlag.engine.messages import text as _
from underlag.engine.render.pandoc import DocumentInfo, pandoc_path, template
from underlag.engine.settings import Settings

STYLE_DEFINITION = "docx/styles.yaml"
# Word's built-in styles pandoc's reference document lacks, by the id the parts refer to them with
WORD_BUILT_IN = ("Header", "Footer")


def build_reference_docx(root: Path, info: DocumentInfo, output: Path, settings: Settings | None = None) -> None:
    """`settings`: the book's DOCX settings (language, page words); None: bare page numbers. The
    header carries the chrome's marking ("UTKAST", info.marking) in red; a plain book has none."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt

    definition = _style_definition(root)
    base = subprocess.run([pandoc_path(), "--print-default-data-file", "reference.docx"],
                          capture_output=True, check=True).stdout
    output.write_bytes(base)
    document = Document(str(output))
    colours = definition.get("colours", {})
    for name, spec in definition["styles"].items():
        if name in [s.name for s in document.styles]:
            style = document.styles[name]
        else:  # our own styles (table text, cover status) follow the body: its language and
            style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)  # LibreOffice's hyphenation
            style.base_style = document.styles["Normal"]
            if name in WORD_BUILT_IN:  # python-docx gives Word's own "header" a lower-case id
                style.style_id = name  # and marks it custom; the header part names "Header"
                style.element.attrib.pop(_qn("w:customStyle"), None)
        _apply(style, spec, colours)
    if info.brief:  # a short edition runs on: no page per chapter, no cover-page spacing
        document.styles["Heading 1"].paragraph_format.page_break_before = False
        document.styles["Heading 1"].paragraph_format.space_before = Pt(14)
        document.styles["Title"].paragraph_format.space_before = Pt(0)
    _add_callout_styles(document, definition.get("callouts") or {})
    text_width = Cm(page_size(definition)[0] - 2 * definition["page"]["margin_cm"])
    _contents_tabs(document, text_width)
    _style_tables(document.styles.element, colours)
    _set_language(document, definition.get("language", info.lang))  # a project's styles.yaml may fix it
    page_words = (settings.label("page-of-pages") if settings else "") or "{page} / {pages}"
    for section in document.sections:
        page = definition["page"]
        margin = Cm(page["margin_cm"])
        # A4 always: without a page size LibreOffice and Word open the file as US Letter
        section.page_width, section.page_height = (Cm(c) for c in page_size(definition))
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = margin
        # Word's own defaults, written out: a section without them is filled in differently by
        # Word and LibreOffice (LibreOffice puts the header 1.27 cm from the edge)
        section.header_distance = section.footer_distance = Cm(1.25)
        section.gutter = Cm(0)
        section.different_first_page_header_footer = True  # the cover has none
        _fill(section.header.paragraphs[0], definition["header"], info, page_words)
        if info.marking and "{marking}" not in definition["header"]:
            _add_marking(section.header.paragraphs[0], info.marking, colours.get("warning", "B42318"))
        _fill(section.footer.paragraphs[0], definition["footer"], info, page_words)
    document.save(str(output))
    fonts = {"major": definition["styles"].get("Heading 1", {}).get("font"),
             "minor": definition["styles"].get("Normal", {}).get("font")}
    _rewrite_zip(output, info.epoch, {"word/theme/theme1.xml": lambda xml: _theme_fonts(xml, fonts),
                                      "docProps/app.xml": _application_properties})


def _style_definition(root: Path) -> dict:
    """templates/docx/styles.yaml, with the shape the code below needs checked first (a located error,
    not a KeyError from inside a render thread)."""
    from underlag.engine.errors import InputError, Problem, relative
    from underlag.engine.guarded_yaml import expect

    path = template(root, STYLE_DEFINITION)
    definition, positions = read_yaml(path, root)
    shown = relative(path, root)
    problems = expect(definition, dict, shown, positions)
    if not problems:
        for key, kind in (("styles", dict), ("page", dict), ("colours", dict), ("header", str), ("footer", str)):
            problems += expect(definition.get(key), kind, shown, positions, (key,))
            if definition.get(key) is None and key != "colours":
                problems.append(Problem(shown, 1, 1, _("reference_docx.missing_key", key=key)))
        for name, spec in (definition.get("styles") or {}).items() if not problems else ():
            problems += expect(spec, dict, shown, positions, ("styles", name))
        page = definition.get("page") or {}
        if not problems and not isinstance(page.get("margin_cm"), (int, float)):
            problems.append(Problem(shown, *positions.get(("page",), (1, 1)), _("reference_docx.margin_not_number")))
    if problems:
        raise InputError(problems)
    return definition


def _rewrite_zip(path: Path, epoch: int | None, edits: dict) -> None:
    """The parts python-docx cannot reach edited (`edits`: part name -> function of its bytes),
    and every entry's time set: python-docx stamps entries with the clock and pandoc keeps those
    stamps in its output, so they come from SOURCE_DATE_EPOCH (or 1980) for a byte-identical DOCX."""
    import datetime as dt
    import zipfile

    stamp = dt.datetime.fromtimestamp(max(epoch or 0, 315532800), dt.timezone.utc).timetuple()[:6]
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            data = edits[name](data) if name in edits else data
            target.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)


# pandoc's reference document's statistics (1 page, 83 words), which Word shows under File > Info
# until the file is saved: better none than wrong ones; Word counts afresh when it saves
STALE_STATISTICS = ("Pages", "Words", "Characters", "CharactersWithSpaces", "Lines", "Paragraphs", "TotalTime",
                    "AppVersion", "Template")


def _application_properties(xml: bytes) -> bytes:
    """docProps/app.xml without the stale statistics, naming the tool that wrote the file."""
    from lxml import etree

    properties = etree.fromstring(xml)
    namespace = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
    for name in STALE_STATISTICS:
        for element in properties.findall(namespace + name):
            properties.remove(element)
    for application in properties.findall(namespace + "Application"):
        application.text = "underlag"
    return etree.tostring(properties, xml_declaration=True, encoding="UTF-8", standalone=True)


def _theme_fonts(xml: bytes, fonts: dict) -> bytes:
    """The theme's heading (major) and body (minor) fonts set to ours. Pandoc's reference names
    Aptos, which Word uses for every style that follows the theme (the document defaults, the
    heading's character styles) and which Word 2016–2019 does not have."""
    from lxml import etree

    theme = etree.fromstring(xml)
    drawing = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    for kind, font in fonts.items():
        for latin in theme.iter(f"{drawing}{kind}Font") if font else ():
            latin.find(f"{drawing}latin").set("typeface", font)
    return etree.tostring(theme, xml_declaration=True, encoding="UTF-8", standalone=True)


def _apply(style, spec: dict, colours: dict) -> None:
    from docx.shared import Cm, Pt, RGBColor

    font, paragraph = style.font, style.paragraph_format
    if "font" in spec:
        font.name = spec["font"]
        fonts = style.element.rPr.rFonts
        for script in ("w:eastAsia", "w:hAnsi", "w:cs"):
            fonts.set(_qn(script), spec["font"])
        for script in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(_qn(script), None)  # a theme font wins over the named one in Word
    if "size" in spec:
        font.size = Pt(spec["size"])
    for attribute in ("bold", "italic"):
        if attribute in spec:
            setattr(font, attribute, spec[attribute])
    if "colour" in spec:
        font.color.rgb = RGBColor.from_string(colours.get(spec["colour"], spec["colour"]))
    for key in ("space_before", "space_after"):
        if key in spec:
            setattr(paragraph, key, Pt(spec[key]))
    for key in ("page_break_before", "keep_with_next"):
        if key in spec:
            setattr(paragraph, key, spec[key])
    if "indent_cm" in spec:
        paragraph.left_indent = Cm(spec["indent_cm"])
    if "align" in spec:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        paragraph.alignment = getattr(WD_ALIGN_PARAGRAPH, spec["align"].upper())
    if "border" in spec:
        _box(style, colours.get(spec["border"], spec["border"]), colours.get(spec.get("fill"), spec.get("fill")))


def _box(style, colour: str, fill: str | None, sides=("top", "left", "bottom", "right"), width: int = 8) -> None:
    """A border (eighths of a point) and a fill: consecutive paragraphs with the same border and
    indents join into one box in Word and LibreOffice."""
    from docx.oxml import OxmlElement

    properties = style.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in sides:
        line = OxmlElement(f"w:{side}")
        for key, value in (("val", "single"), ("sz", str(width)), ("space", "4"), ("color", colour)):
            line.set(_qn(f"w:{key}"), value)
        borders.append(line)
    _insert_in_order(properties, borders)
    if fill:
        shading = OxmlElement("w:shd")
        for key, value in (("val", "clear"), ("color", "auto"), ("fill", fill)):
            shading.set(_qn(f"w:{key}"), value)
        _insert_in_order(properties, shading)


# The order CT_PPr's children must keep (ECMA-376 §17.3.1.26), as far as these styles use them.
PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
             "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
             "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
             "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc")


def _insert_in_order(properties, child) -> None:
    from lxml import etree

    name = etree.QName(child).localname
    for old in properties.findall(_qn(f"w:{name}")):
        properties.remove(old)
    rank = PPR_ORDER.index(name)
    for index, existing in enumerate(properties):
        local = etree.QName(existing).localname
        if local not in PPR_ORDER or PPR_ORDER.index(local) > rank:
            properties.insert(index, child)
            return
    properties.append(child)


def _add_callout_styles(document, kinds: dict) -> None:
    """"Callout Warning Title" and "Callout Warning" for each kind (filters/callouts.lua names
    them): the generic callout styles in the kind's colour, boxed with a bar on the left."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    for kind, spec in kinds.items():
        name = "Callout " + kind.capitalize()
        for style_name, base in ((name + " Title", "Callout Title"), (name, "Callout Text")):
            style = document.styles.add_style(style_name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = document.styles[base]
            if base == "Callout Title":
                style.font.color.rgb = RGBColor.from_string(spec["colour"])
                style.paragraph_format.keep_with_next = True
            _box(style, spec["colour"], spec["fill"], sides=("left",), width=24)
            style.paragraph_format.right_indent = Pt(4)


def _style_tables(styles, colours: dict) -> None:
    """Pandoc's table style "Table" in the PDF's look: a thin rule under every row and a shaded
    header row. The header row's text has its own paragraph style (render/docx.py sets it)."""
    from lxml import etree

    rule, fill = colours.get("rule", "8C8C8C"), colours.get("header_fill", "E3EDF5")
    table = styles.find(f"{_qn('w:style')}[@{_qn('w:styleId')}='Table']")
    if table is None:
        return
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    borders = etree.fromstring(
        f'<w:tblBorders xmlns:w="{w}"><w:top w:val="single" w:sz="6" w:space="0" w:color="{rule}"/>'
        f'<w:bottom w:val="single" w:sz="6" w:space="0" w:color="{rule}"/>'
        f'<w:insideH w:val="single" w:sz="3" w:space="0" w:color="{rule}"/></w:tblBorders>')
    properties = table.find(_qn("w:tblPr"))
    properties.insert(list(properties).index(properties.find(_qn("w:tblCellMar"))), borders)
    for margin in properties.find(_qn("w:tblCellMar")):
        if etree.QName(margin).localname in ("top", "bottom"):
            margin.set(_qn("w:w"), "40")
    header = table.find(_qn("w:tblStylePr"))
    cell = header.find(_qn("w:tcPr"))
    # after the borders, before vAlign: Word refuses a file whose elements are out of the schema's order
    cell.find(_qn("w:tcBorders")).addnext(
        etree.fromstring(f'<w:shd xmlns:w="{w}" w:val="clear" w:color="auto" w:fill="{fill}"/>'))


def page_size(definition: dict) -> tuple[float, float]:
    page = definition["page"]
    return page.get("width_cm", 21.0), page.get("height_cm", 29.7)


def _contents_tabs(document, text_width) -> None:
    """Contents entries: the number, a tab, the title, dots to the page number at the right margin."""
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Cm

    for name, number_tab in (("toc 1", 0.9), ("toc 2", 2.0)):
        if name in [s.name for s in document.styles]:
            tabs = document.styles[name].paragraph_format.tab_stops
            tabs.add_tab_stop(Cm(number_tab))
            tabs.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)


def _add_marking(paragraph, marking: str, colour: str) -> None:
    """The status marking in the header, in red after the title, as the PDF's header has it."""
    from docx.shared import RGBColor

    paragraph.add_run("  ·  ")
    run = paragraph.add_run(marking)
    run.bold = True
    run.font.color.rgb = RGBColor.from_string(colour)


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _set_language(document, lang: str) -> None:
    """The text language lives in the style defaults (w:docDefaults), not in core properties."""
    from docx.oxml import OxmlElement

    defaults = document.styles.element.find(_qn("w:docDefaults"))
    run_properties = defaults.find(_qn("w:rPrDefault")).find(_qn("w:rPr"))
    language = run_properties.find(_qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        run_properties.append(language)
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        language.set(_qn(attribute), lang)
    document.core_properties.language = lang


def _fill(paragraph, pattern: str, info: DocumentInfo, page_words: str) -> None:
    """Write a header/footer line from styles.yaml's pattern. Its fields: {header} and {footer}
    (the chrome's running texts, with " · " after them when not empty), {marking}, {page_of_pages}
    (the book's page words); {PAGE} and {NUMPAGES} become Word fields. The "  ·  " parts of a
    line whose every field is empty (an older styles.yaml's "Version {version}" in a plain book)
    are left out."""
    from docx.oxml import OxmlElement

    values = {"header": info.header_text, "footer": info.footer_text + "  ·  " if info.footer_text else "",
              "marking": info.marking, "short_title": info.short_title, "version": info.version,
              "date": info.date, "revision": info.revision or "–", "status": info.status,
              "page_of_pages": page_words.replace("{page}", "{PAGE}").replace("{pages}", "{NUMPAGES}"),
              "PAGE": "{PAGE}", "NUMPAGES": "{NUMPAGES}"}
    # a field this version does not fill (an older styles.yaml's {diarienummer}) prints as nothing
    values = defaultdict(str, values)
    for piece in _split_fields(_without_empty_parts(pattern, values).format_map(values)):
        if piece in ("{PAGE}", "{NUMPAGES}"):
            field = OxmlElement("w:fldSimple")
            field.set(_qn("w:instr"), piece.strip("{}"))
            run = OxmlElement("w:r")
            text = OxmlElement("w:t")
            text.text = "1"
            run.append(text)
            field.append(run)
            paragraph._p.append(field)
        elif piece:
            paragraph.add_run(piece)


SEPARATOR = "  ·  "


def _without_empty_parts(pattern: str, values: dict) -> str:
    """The parts of a "a  ·  b  ·  c" line whose every placeholder is empty, left out."""
    parts = pattern.split(SEPARATOR)
    kept = [part for part in parts
            if not (names := re.findall(r"\{(\w+)\}", part)) or any(values.get(n, "x") for n in names)]
    return SEPARATOR.join(kept)


def _split_fields(pattern: str) -> list[str]:
    return re.split(r"(\{PAGE\}|\{NUMPAGES\})", pattern)
