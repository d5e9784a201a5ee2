"""Source anchors in the DOCX: every paragraph, list item, table cell, heading and caption
carries the file and line it came from, so a DOCX that reviewers return can be read back
(`underlag review`).

How: before pandoc, `anchored_markdown` puts an empty span `[]{#underlag_N}` at the start of
each block of the assembled Markdown (and a marker paragraph before each table, which
`filters/anchors.lua` turns into one anchor per cell paragraph). pandoc's DOCX writer makes
each span a zero-width bookmark, which Word and LibreOffice keep on save and never print.
After pandoc, `embed_anchors` writes the map (bookmark name -> file, line, source text and
the text the build printed) and the hashes of the sources into a custom XML part of the
DOCX, which Word and LibreOffice also keep.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from underlag.engine.assemble import SourceLine
from underlag.engine.cache import file_hash
from underlag.engine.errors import relative

PREFIX = "underlag_"
NAME = re.compile(r"^underlag_(\d+)(?:_(\d+))?$")  # underlag_N: a block; underlag_N_K: a paragraph in a table cell
MAP_PART = "customXml/item1.xml"  # the form LibreOffice keeps: itemN.xml with its properties part
MAP_NAMESPACE = "urn:underlag:review:1"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
INCLUDE = re.compile(r"^\s*\{\{<\s*include\s+(\S+)\s*>\}\}\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)]|#[.)])(\s+)(\[[ xX]\]\s+)?(?=\S)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+")
CAPTION = re.compile(r"^ {0,3}(?::|Table:)\s+")
GRID_TABLE = re.compile(r"^ {0,3}\+[-=:]")
PIPE_RULE = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$|^ {0,3}\|\s*:?-+:?\s*\|\s*$")
SIMPLE_RULE = re.compile(r"^ {0,3}-{2,}(\s+-{2,})+\s*$")
NOT_PROSE = re.compile(r"^ {0,3}(<|\[\^?[^\]]*\]:|(-\s*){3,}$|(\*\s*){3,}$|(_\s*){3,}$|%)")
CALLOUT_TITLE = re.compile(r'^(\s*:{3,}\s*\{[^}]*\.callout-[^}]*\btitle=")')


@dataclass
class Anchor:
    file: str  # relative to the project
    line: int
    kind: str  # p, h, li, caption, table, figure
    via: tuple[str, int] | None  # where an included file is included (chapter, line)


def marker(index: int, table: bool = False) -> str:
    return f"[]{{#{PREFIX}{index}{' .underlag-table' if table else ''}}}"


def anchored_markdown(lines: list[SourceLine], root: Path) -> tuple[str, list[Anchor]]:
    """The assembled text with an anchor at the start of every block, and what each anchor points at."""
    sites = include_sites(lines, root)
    anchors: list[Anchor] = []
    out: list[str] = []
    shown = {path: relative(path, root) for path in dict.fromkeys(line.path for line in lines)}  # resolved once

    def new(source: SourceLine, kind: str) -> int:
        path = shown[source.path]
        anchors.append(Anchor(path, source.line, kind, sites.get(path)))
        return len(anchors) - 1

    texts = [line.text for line in lines]
    block_start, in_list, in_table, in_comment = True, False, False, False
    for index, source in enumerate(lines):
        text = source.text
        if source.code or in_comment:
            in_comment = in_comment and "-->" not in text
            out.append(text)
            block_start = False
            continue
        if not text.strip():
            out.append(text)
            block_start, in_table = True, False
            continue
        starts, block_start = block_start, False
        if in_table:
            out.append(text)
            continue
        if text.lstrip().startswith(":::"):  # a div fence: the next line starts a block
            title = CALLOUT_TITLE.match(text)
            if title:
                text = text[: title.end()] + marker(new(source, "caption")) + text[title.end():]
            out.append(text)
            block_start = True
            continue
        if text.lstrip().startswith("<!--"):
            in_comment = "-->" not in text
            out.append(text)
            continue
        following = texts[index + 1] if index + 1 < len(texts) else ""
        item = LIST_ITEM.match(text)
        indent = len(text) - len(text.lstrip(" "))
        if item and (indent < 4 or in_list):
            in_list = True
            out.append(text[: item.end()] + marker(new(source, "li")) + text[item.end():])
            continue
        if not starts:
            out.append(text)
            continue
        in_list = in_list and indent >= 2
        if indent >= 4 and not in_list or NOT_PROSE.match(text):
            out.append(text)
        elif _starts_table(text, following):
            out += [marker(new(source, "table"), table=True), "", text]
            in_table = True
        elif match := HEADING.match(text) or CAPTION.match(text):
            kind = "h" if text.lstrip().startswith("#") else "caption"
            out.append(text[: match.end()] + marker(new(source, kind)) + text[match.end():])
        elif match := re.match(r"^ {0,3}(>\s*)+|^ {0,3}\|\s+|^ {0,3}!\[", text):  # quote, line block, figure
            kind = "figure" if match.group(0).endswith("![") else "p"
            out.append(text[: match.end()] + marker(new(source, kind)) + text[match.end():])
        else:
            out.append(text[:indent] + marker(new(source, "p")) + text[indent:])
    return "\n".join(out) + "\n", anchors


def _starts_table(text: str, following: str) -> bool:
    """Grid, pipe or simple table (the line after a pipe table's header is its rule)."""
    return bool(GRID_TABLE.match(text) or "|" in text and PIPE_RULE.match(following) or SIMPLE_RULE.match(following))


def include_sites(lines: list[SourceLine], root: Path) -> dict[str, tuple[str, int]]:
    """For every included file: the file and line that include it."""
    sites: dict[str, tuple[str, int]] = {}
    for path in dict.fromkeys(line.path for line in lines):
        try:
            file_lines = path.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, text in enumerate(file_lines, 1):
            match = INCLUDE.match(text)
            if match:
                target = match.group(1)
                resolved = root / target.lstrip("/") if target.startswith("/") else path.parent / target
                sites.setdefault(relative(resolved, root), (relative(path, root), number))
    return sites


# --- the build's side: sidecar files, then the map inside the DOCX ------------------------


def anchored_paths(source: Path) -> tuple[Path, Path]:
    """Where the build writes the anchored document and its anchors, beside the book's source."""
    return source.with_name(source.stem + ".anchored.json"), source.with_name(source.stem + ".anchors.json")


def anchored_document(root: Path, lines: list[SourceLine], book=None, cache=None) -> tuple[dict, list[Anchor]]:
    """The anchored book, checked and cleaned exactly as the book itself (sanitize.py), with the
    book's Quarto features resolved as in the plain document (given the Book): the DOCX is made
    from it, so it must carry nothing the plain document would not. Needs only the assembled
    lines, so the preview starts it beside the plain book's own parse (commands/build.py).
    Given the Book and the project's cache, reused while nothing it is made from changed (the
    assembled text the same: figures redrawn, an output lost, the preview after a build): it
    costs a second parse of the book."""
    key = _anchored_key(book, lines) if book is not None and cache is not None else None
    if key and (reused := _reuse_anchored(root, cache, key)):
        return reused
    tree, anchors = _make_anchored_document(root, lines, book)
    if key:
        _store_anchored(root, cache, key, tree, anchors)
    return tree, anchors


def _make_anchored_document(root: Path, lines: list[SourceLine], book) -> tuple[dict, list[Anchor]]:
    from underlag.engine.render.pandoc import MARKDOWN, pandoc_path
    from underlag.engine.sanitize import inspect

    anchored, anchors = anchored_source_lines(lines, root)
    # the findings were reported when the plain book was inspected; here only the cleaned tree counts
    tree = inspect(anchored, root, pandoc_path(), MARKDOWN).document
    if book is not None:
        from underlag.engine.assemble import resolve_features

        # the features' problems were reported with the plain book: only what changes the tree runs
        resolve_features(tree, anchored, book, checks=False)
    return tree, anchors


def _anchored_key(book, lines: list[SourceLine]) -> str:
    """What the assembly's cache entry is made from (the lines, their files, the book's settings,
    pandoc and our code) is what the anchored document is made from."""
    from underlag.engine.assemble import _assembled_key
    from underlag.engine.cache import digest

    return digest("anchored", _assembled_key(book, lines))


def _anchored_file(root: Path, key: str) -> Path:
    """In .underlag-cache, named by its key: the preview's parse of a build that failed may still
    be writing its own when the next build stores another, and must not overwrite it."""
    return root.resolve() / ".underlag-cache" / f"anchored-{key[:16]}.json"


def _reuse_anchored(root: Path, cache, key: str) -> tuple[dict, list[Anchor]] | None:
    if cache.lookup("stage:anchored", key) is None:
        return None
    stored = json.loads(_anchored_file(root, key).read_text("utf-8"))
    return stored["document"], [Anchor(**{**a, "via": tuple(a["via"]) if a["via"] else None})
                                for a in stored["anchors"]]


def _store_anchored(root: Path, cache, key: str, tree: dict, anchors: list[Anchor]) -> None:
    from underlag.engine.confine import output_path, prepare_area

    root = root.resolve()
    prepare_area(root, ".underlag-cache")  # never through a link: the writes are confined
    path = output_path(root, _anchored_file(root, key))
    for older in path.parent.glob("anchored-*.json"):  # one kept: the last
        if older != path:
            older.unlink(missing_ok=True)
    # written whole, then moved into place: a reader never sees half of it
    written = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
    written.write_text(json.dumps({"document": tree, "anchors": [vars(a) for a in anchors]}, ensure_ascii=False),
                       "utf-8")
    written.replace(path)
    cache.store("stage:anchored", key, [path])


def write_anchored_source(root: Path, lines: list[SourceLine], source: Path, book=None,
                          made: tuple[dict, list[Anchor]] | None = None, cache=None) -> None:
    """`anchored_document` (or the one `made` already) and its anchors, beside `source`."""
    tree, anchors = made if made is not None else anchored_document(root, lines, book, cache)
    document, table = anchored_paths(source)
    document.write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    files = sorted({relative(path, root) for path in dict.fromkeys(line.path for line in lines)}
                   | {"_variables.yml", "_quarto.yml"})
    hashes = {name: file_hash(root / name) for name in files if (root / name).is_file()}
    table.write_text(json.dumps({"anchors": [vars(a) for a in anchors], "sources": hashes}), "utf-8")


def anchored_source_lines(lines: list[SourceLine], root: Path) -> tuple[list[SourceLine], list[Anchor]]:
    """`anchored_markdown` as source lines: each output line keeps the file and line of the line it
    came from (a table's marker paragraph takes the table's first line), so images and includes
    resolve as they do in the plain book."""
    text, anchors = anchored_markdown(lines, root)
    out = text.split("\n")[:-1]
    result: list[SourceLine] = []
    k = 0
    for source in lines:
        if out[k].startswith("[]{#" + PREFIX) and out[k].endswith(" .underlag-table}"):
            result += [SourceLine(out[k], source.path, source.line), SourceLine(out[k + 1], source.path, source.line)]
            k += 2
        result.append(SourceLine(out[k], source.path, source.line))
        k += 1
    return result, anchors


def embed_anchors(docx: Path, source: Path, root: Path, title: str, stamp: tuple | None = None) -> None:
    """Write the anchor map into the DOCX pandoc made from the anchored source; given `stamp`,
    every entry gets that date (the DOCX rewritten once, not once more to restamp it)."""
    _, table = anchored_paths(source)
    built = json.loads(table.read_text("utf-8"))
    anchors = [Anchor(**a) for a in built["anchors"]]
    with zipfile.ZipFile(docx) as archive:
        body = etree.fromstring(archive.read("word/document.xml")).find(f"{W}body")
    if body is None:
        return
    entries: dict[str, dict] = {}
    sources = _Sources(root)
    last_line: dict[int, int] = {}
    for paragraph in body.iter(f"{W}p"):
        text = paragraph_text(paragraph, inserted=True, deleted=False)
        for name in bookmark_names(paragraph):
            block, part = NAME.match(name).groups()
            if int(block) >= len(anchors):
                continue  # a writer's own label that happens to look like ours
            anchor = anchors[int(block)]
            line = anchor.line
            if part is not None and anchor.kind == "table":
                line = sources.cell_line(anchor.file, anchor.line, text, last_line.get(int(block), anchor.line))
                last_line[int(block)] = line
            entries[name] = {"file": anchor.file, "line": line, "kind": anchor.kind, "via": anchor.via,
                             "src": sources.line(anchor.file, line), "text": text}
    document = {"format": 1, "title": title, "sources": built["sources"], "anchors": entries}
    _add_part(docx, MAP_PART, _map_xml(document), stamp)


class _Sources:
    """The source files' lines, read once."""

    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, list[str]] = {}
        self.plain: dict[tuple[str, int], list[tuple[int, str]]] = {}

    def lines(self, file: str) -> list[str]:
        if file not in self.files:
            try:
                self.files[file] = (self.root / file).read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self.files[file] = []
        return self.files[file]

    def line(self, file: str, number: int) -> str:
        lines = self.lines(file)
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def cell_line(self, file: str, start: int, text: str, after: int) -> int:
        """The line of a table's source where a cell's text begins (grid cells wrap over lines)."""
        if (file, start) not in self.plain:
            lines, block = self.lines(file), []
            for number in range(start, len(lines) + 1):
                if not lines[number - 1].strip():
                    break
                block.append((number, plain(lines[number - 1])))
            self.plain[file, start] = block
        block = self.plain[file, start]
        wanted = plain(text)
        for probe in (wanted[:24], wanted.split(" ")[0] if wanted else ""):
            if not probe:
                continue
            for number, line in [b for b in block if b[0] >= after] + block:
                if probe in line:
                    return number
        return start


def plain(text: str) -> str:
    """Text without Markdown escapes, emphasis and table borders, for finding it in a source line."""
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"[*`|+]|(?<!\w)_|_(?!\w)|=+|-{3,}", " ", text)
    return re.sub(r"\s+", " ", text.replace('"', "”")).strip().casefold()


def _map_xml(document: dict) -> bytes:
    element = etree.Element(f"{{{MAP_NAMESPACE}}}anchors", nsmap={None: MAP_NAMESPACE})
    element.text = json.dumps(document, ensure_ascii=False)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _add_part(docx: Path, name: str, content: bytes, stamp: tuple | None = None) -> None:
    """Add a custom XML part (with its properties part, related from the main document): the
    form in which Word and LibreOffice keep such a part when they save the document. `stamp`:
    the date every entry gets (else the entries keep theirs and the new ones take the first's)."""
    properties = name.replace("/item", "/itemProps")
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "http://schemas.openxmlformats.org/officeDocument/2006"
    added = {
        name: content,
        properties: (f'<?xml version="1.0" encoding="UTF-8" standalone="no"?><ds:datastoreItem '
                     f'ds:itemID="{{6E3F1C52-1D6B-4B39-9B8B-2C0A7E5D9F14}}" xmlns:ds="{office}/customXml">'
                     f'<ds:schemaRefs><ds:schemaRef ds:uri="{MAP_NAMESPACE}"/></ds:schemaRefs></ds:datastoreItem>').encode(),
        name.replace("customXml/", "customXml/_rels/") + ".rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{office}/relationships/customXmlProps" '
            f'Target="{properties.rsplit("/", 1)[1]}"/></Relationships>').encode(),
    }
    edits = {
        "word/_rels/document.xml.rels": (b"</Relationships>", f'<Relationship Id="rIdUnderlagReview" Type="{office}/'
                                         f'relationships/customXml" Target="../{name}"/></Relationships>'.encode()),
        "[Content_Types].xml": (b"</Types>", f'<Override PartName="/{properties}" ContentType="application/'
                                f'vnd.openxmlformats-officedocument.customXmlProperties+xml"/></Types>'.encode()),
    }
    with zipfile.ZipFile(docx) as archive:
        entries = [(info, archive.read(info.filename)) for info in archive.infolist()]
    restamp = stamp is not None
    stamp = stamp or entries[0][0].date_time  # pandoc's (SOURCE_DATE_EPOCH): the DOCX stays reproducible
    temporary = docx.with_name(docx.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            if info.filename in edits:
                data = data.replace(*edits[info.filename])
            if restamp:  # as docx.py's _restamp writes them
                archive.writestr(zipfile.ZipInfo(info.filename, stamp), data, zipfile.ZIP_DEFLATED)
            else:
                archive.writestr(info, data)
        for part, data in added.items():
            archive.writestr(zipfile.ZipInfo(part, stamp), data, zipfile.ZIP_DEFLATED)
    temporary.replace(docx)


# --- the preview's HTML: the same anchors as attributes -----------------------------------

# the elements that hold one block of text; an anchor belongs to the nearest of them around it
HTML_BLOCKS = {"p", "li", "td", "th", "caption", "figcaption", "dt", "dd", "blockquote",
               "h1", "h2", "h3", "h4", "h5", "h6"}


def source_map_html(page: str, source: Path, root: Path) -> str:
    """The HTML pandoc made from the anchored source, with every anchor turned into attributes of
    its block: `data-source="file:line"`, `data-source-kind` (p, h, li, caption, figure, cell) and,
    for an included file, `data-source-via="chapter:line"`. A figure's caption anchor marks the
    whole figure. The anchors copied into the table of contents are dropped (their ids repeat)."""
    from lxml import html as lxml_html

    _, table = anchored_paths(source)
    anchors = [Anchor(**a) for a in json.loads(table.read_text("utf-8"))["anchors"]]
    document = lxml_html.document_fromstring(page)
    sources = _Sources(root)
    last_line: dict[int, int] = {}
    for span in list(document.iter("span")):
        match = NAME.match(span.get("id", ""))
        if not match or int(match.group(1)) >= len(anchors):
            continue
        block = _html_block(span)
        span.drop_tree()
        if block is None or block.get("data-source"):
            continue  # in the contents, or a second anchor in the same block
        index, part = int(match.group(1)), match.group(2)
        anchor, kind = anchors[index], anchors[index].kind
        line = anchor.line
        if part is not None and anchor.kind == "table":
            line = sources.cell_line(anchor.file, anchor.line, block.text_content(), last_line.get(index, line))
            last_line[index], kind = line, "cell"
        block.set("data-source", f"{anchor.file}:{line}")
        block.set("data-source-kind", "figure" if block.tag == "figure" else kind)
        if anchor.via:
            block.set("data-source-via", f"{anchor.via[0]}:{anchor.via[1]}")
    return lxml_html.tostring(document, encoding="unicode", doctype="<!DOCTYPE html>")


def _html_block(span):
    """The block an anchor marks, or None for a copy in the table of contents."""
    if any(ancestor.tag == "nav" for ancestor in span.iterancestors()):
        return None
    block = span.getparent()
    while block is not None and block.tag not in HTML_BLOCKS:
        block = block.getparent()
    if block is not None and block.tag == "figcaption" and block.getparent() is not None:
        return block.getparent()
    return block


# --- reading WordprocessingML (shared with `underlag review`) ------------------------------


def bookmark_names(element) -> list[str]:
    return [name for mark in element.iter(f"{W}bookmarkStart")
            if NAME.match(name := mark.get(f"{W}name", ""))]


def paragraph_text(paragraph, inserted: bool, deleted: bool) -> str:
    """A paragraph's text with tracked insertions and/or deletions (whitespace collapsed)."""
    parts = []
    for element in paragraph.iter(f"{W}t", f"{W}delText", f"{W}tab", f"{W}br", f"{W}noBreakHyphen"):
        if in_change(element, paragraph, "ins") and not inserted:
            continue
        if in_change(element, paragraph, "del") and not deleted:
            continue
        if _hidden(element):  # hidden text is not what the reader sees (a field's hidden result)
            continue
        tag = etree.QName(element).localname
        parts.append(element.text or "" if tag in ("t", "delText") else "‑" if tag == "noBreakHyphen" else " ")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _hidden(element) -> bool:
    run = element.getparent()
    vanish = run.find(f"{W}rPr/{W}vanish") if run is not None and run.tag == f"{W}r" else None
    return vanish is not None and vanish.get(f"{W}val", "true") not in ("0", "false", "off")


def in_change(element, stop, kind: str) -> bool:
    """Whether an element lies inside a tracked insertion (`ins`) or deletion (`del`)."""
    tags = {"ins": (f"{W}ins", f"{W}moveTo"), "del": (f"{W}del", f"{W}moveFrom")}[kind]
    for ancestor in element.iterancestors():
        if ancestor.tag in tags:
            return True
        if ancestor is stop:
            return False
    return False


def read_map(archive: zipfile.ZipFile) -> dict | None:
    """The anchor map of a DOCX we built, wherever an editor moved the part; None if there is none."""
    for name in archive.namelist():
        if name.startswith("customXml/") and name.endswith(".xml") and "/_rels/" not in name:
            data = archive.read(name)
            if MAP_NAMESPACE.encode() not in data:
                continue
            element = etree.fromstring(data, etree.XMLParser(resolve_entities=False, huge_tree=True))
            if element.tag == f"{{{MAP_NAMESPACE}}}anchors":
                return json.loads(element.text or "{}")
    return None
