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
from underlag.engine.render.pandoc import DocumentInfo, pandoc_path, template
from underlag.engine.settings import Settings

STYLE_DEFINITION = "docx/styles.yaml"


def build_reference_docx(root: Path, info: DocumentInfo, output: Path, settings: Settings | None = None) -> None:
    """`settings`: the book's DOCX settings (language, page words); None: bare page numbers."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm

    definition = _style_definition(root)
    base = subprocess.run([pandoc_path(), "--print-default-data-file", "reference.docx"],
                          capture_output=True, check=True).stdout
    output.write_bytes(base)
    document = Document(str(output))
    colours = definition.get("colours", {})
    for name, spec in definition["styles"].items():
        style = (document.styles[name] if name in [s.name for s in document.styles]
                 else document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH))
        _apply(style, spec, colours)
    _set_language(document, definition.get("language", info.lang))  # a project's styles.yaml may fix it
    page_words = (settings.label("page-of-pages") if settings else "") or "{page} / {pages}"
    for section in document.sections:
        page = definition["page"]
        margin = Cm(page["margin_cm"])
        # A4 always: without a page size LibreOffice and Word open the file as US Letter
        section.page_width, section.page_height = Cm(page.get("width_cm", 21.0)), Cm(page.get("height_cm", 29.7))
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = margin
        section.different_first_page_header_footer = True  # the cover has none
        _fill(section.header.paragraphs[0], definition["header"], info, page_words)
        _fill(section.footer.paragraphs[0], definition["footer"], info, page_words)
    document.save(str(output))
    _fix_zip_times(output, info.epoch)


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
                problems.append(Problem(shown, 1, 1, f"'{key}:' saknas; utgå från mallen som följer med verktyget"))
        for name, spec in (definition.get("styles") or {}).items() if not problems else ():
            problems += expect(spec, dict, shown, positions, ("styles", name))
        page = definition.get("page") or {}
        if not problems and not isinstance(page.get("margin_cm"), (int, float)):
            problems.append(Problem(shown, *positions.get(("page",), (1, 1)), "page: margin_cm ska vara ett tal, "
                                                                              "t.ex. 2.4"))
    if problems:
        raise InputError(problems)
    return definition


def _fix_zip_times(path: Path, epoch: int | None) -> None:
    """python-docx stamps every entry with the clock and pandoc keeps those stamps in its output:
    rewrite them from SOURCE_DATE_EPOCH (or 1980) so the DOCX is byte-identical between builds."""
    import datetime as dt
    import zipfile

    stamp = dt.datetime.fromtimestamp(max(epoch or 0, 315532800), dt.timezone.utc).timetuple()[:6]
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            target.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)


def _apply(style, spec: dict, colours: dict) -> None:
    from docx.shared import Cm, Pt, RGBColor

    font, paragraph = style.font, style.paragraph_format
    if "font" in spec:
        font.name = spec["font"]
        style.element.rPr.rFonts.set(_qn("w:eastAsia"), spec["font"])
        style.element.rPr.rFonts.set(_qn("w:hAnsi"), spec["font"])
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
    (the book's page words); {PAGE} and {NUMPAGES} become Word fields."""
    from docx.oxml import OxmlElement

    values = {"header": info.header_text, "footer": info.footer_text + "  ·  " if info.footer_text else "",
              "marking": info.marking, "short_title": info.short_title, "version": info.version,
              "date": info.date, "revision": info.revision or "–", "status": info.status,
              "page_of_pages": page_words.replace("{page}", "{PAGE}").replace("{pages}", "{NUMPAGES}")}
    # a field this version does not fill (an older styles.yaml's {diarienummer}) prints as nothing
    for piece in _split_fields(pattern.format_map(defaultdict(str, values))):
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


def _split_fields(pattern: str) -> list[str]:
    return re.split(r"(\{PAGE\}|\{NUMPAGES\})", pattern)
