"""Quarto book features resolved on pandoc's document of the whole book, before any writer runs.

These need the whole book or the book's settings, which a Lua filter run per format does not see,
or they must be refused with file:line before a tool fails on them:

- `when-meta` / `unless-meta` / `when-profile` / `unless-profile` on `.content-visible` and
  `.content-hidden` (the format conditions stay for blocks.lua, which knows the format);
- links between chapters (`[x](intro.qmd)`, `[x](intro.qmd#sec-y)`) become links to the chapter's
  first heading or to the section inside the one output file, as Quarto's single-file formats do;
- the document options `fig-align` and `tbl-colwidths` (a list) go onto each figure and table
  that does not set its own, where crossref.lua applies them per format;
- raw HTML tables (`<table>` in a chapter) become pandoc tables, so every format shows a real
  table (Quarto does the same); pandoc's own HTML reader does the parsing.

`resolve` changes the document in place and returns the problems, located in the chapter lines.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from underlag.engine.errors import Problem, relative
from underlag.engine.messages import text

CONDITIONS = ("content-visible", "content-hidden")
BOOK_CONDITIONS = ("when-meta", "unless-meta", "when-profile", "unless-profile")
FORMAT_CONDITIONS = ("when-format", "unless-format")
CHAPTER_LINK = re.compile(r"^(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^#?]+\.(?:qmd|md))(#[^\s]*)?$")
TABLE_START = re.compile(r"^\s*<table\b", re.I)
TABLE_TAG = re.compile(r"<(/?)table\b", re.I)


def resolve(document: dict, lines, root: Path, metadata: dict, profiles: tuple[str, ...],
            checks: bool = True) -> list[Problem]:
    """Apply the features above to `document` (pandoc JSON, changed in place); the problems found.
    `checks=False`: a second document of the same book (the anchored one, render/anchors.py), whose
    problems were reported with the first: the checks that only find problems are not run again."""
    locator = _Locator(lines, root)
    if _has_book_conditions(lines):  # else the walk would only copy the tree
        document["blocks"] = _conditions(document["blocks"], metadata, profiles)
    _document_options(document, metadata)
    problems = _chapter_links(document, locator)
    problems += _html_tables(document, locator)
    if checks:
        problems += _table_divs(document, locator)
    return problems


# -- conditional content ------------------------------------------------------------------------
def _truthy(metadata: dict, key: str) -> bool:
    """Quarto's when-meta: the (dotted) key's value is true."""
    value: object = metadata
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _book_condition_holds(pairs: dict, metadata: dict, profiles: tuple[str, ...]) -> bool:
    def profile_listed(value: str) -> bool:
        return any(name.strip() in profiles for name in value.split(","))

    checks = {"when-meta": lambda v: _truthy(metadata, v), "unless-meta": lambda v: not _truthy(metadata, v),
              "when-profile": profile_listed, "unless-profile": lambda v: not profile_listed(v)}
    return all(checks[key](value) for key, value in pairs.items())


def _has_book_conditions(lines) -> bool:
    """Whether any line could give an element a book condition: pandoc takes an attribute's name
    as written (`{when-meta=…}`; `<div WHEN-META=…>` lowercased), so a book without the names has none."""
    return any(name in line.text.lower() for line in lines for name in BOOK_CONDITIONS)


def _conditions(elements: list, metadata: dict, profiles: tuple[str, ...]) -> list:
    """Every Div and Span list in `elements`, with the book conditions decided: content that is
    out is dropped, content that is in loses its wrapper unless a format condition remains."""
    result = []
    for element in elements:
        if isinstance(element, list):
            result.append(_conditions(element, metadata, profiles))
            continue
        if not isinstance(element, dict) or "t" not in element:
            result.append(element)
            continue
        content = element.get("c")
        if element["t"] in ("Div", "Span"):
            (identifier, classes, pairs), inner = content
            book = {k: v for k, v in pairs if k in BOOK_CONDITIONS}
            kind = next((c for c in classes if c in CONDITIONS), None)
            if kind and book:
                inner = _conditions(inner, metadata, profiles)
                rest = [[k, v] for k, v in pairs if k not in BOOK_CONDITIONS]
                if not _book_condition_holds(book, metadata, profiles):
                    # visible needs every condition, hidden hides only when every condition holds
                    result.extend([] if kind == "content-visible" else inner)
                elif any(k in FORMAT_CONDITIONS for k, _ in rest):  # the format decides, in blocks.lua
                    result.append({**element, "c": [[identifier, classes, rest], inner]})
                else:
                    result.extend(inner if kind == "content-visible" else [])
                continue
        result.append({**element, "c": _conditions(content, metadata, profiles)}
                      if isinstance(content, list) else element)
    return result


# -- document options ---------------------------------------------------------------------------
def _document_options(document: dict, metadata: dict) -> None:
    align = metadata.get("fig-align")
    widths = metadata.get("tbl-colwidths")
    widths = json.dumps(widths) if isinstance(widths, list) else None
    if not isinstance(align, str) and not widths:  # nothing to set: no walk through the whole book
        return

    def apply(element: dict) -> None:
        if element["t"] == "Figure" and isinstance(align, str):
            _set_default(element["c"][0], "fig-align", align)
        elif element["t"] == "Table" and widths and len(element["c"][2]) == len(json.loads(widths)):
            _set_default(element["c"][0], "tbl-colwidths", widths)

    _walk(document["blocks"], apply)


def _set_default(attr: list, key: str, value: str) -> None:
    if all(name != key for name, _ in attr[2]):
        attr[2].append([key, value])


# -- locating -----------------------------------------------------------------------------------
class _Locator:
    """file, line, column of the n-th occurrence of a text in a chapter's assembled lines."""

    def __init__(self, lines, root: Path):
        from underlag.engine.sanitize import CHAPTER_OPENING

        self.lines, self.root = lines, root
        self.starts = [i for i, line in enumerate(lines) if line.text.startswith(CHAPTER_OPENING)]

    def find(self, chapter: int, needle: str, occurrence: int = 0) -> Problem:
        start = self.starts[chapter] if 0 <= chapter < len(self.starts) else 0
        end = self.starts[chapter + 1] if chapter + 1 < len(self.starts) else len(self.lines)
        seen = 0
        for line in self.lines[start:end]:
            column = line.text.lower().find(needle.lower())
            while column >= 0:
                if seen == occurrence:
                    return Problem(relative(line.path, self.root), line.line, column + 1, "")
                seen += 1
                column = line.text.lower().find(needle.lower(), column + 1)
        line = self.lines[min(start, len(self.lines) - 1)]
        return Problem(relative(line.path, self.root), line.line, None, "")

    def problem(self, chapter: int, needle: str, message: str, occurrence: int = 0) -> Problem:
        place = self.find(chapter, needle, occurrence)
        return Problem(place.path, place.line, place.column, message)


def _chapters(document: dict):
    """(index, source, chapter div) for every `.chapter` div the assembler wrapped around a file."""
    index = 0
    for block in document["blocks"]:
        if block["t"] == "Div" and "chapter" in block["c"][0][1]:
            yield index, dict(block["c"][0][2]).get("source", ""), block
            index += 1


def _walk(node, visit) -> None:
    """Call visit(element) on every pandoc element below `node`, depth first (only lists and dicts
    are descended into: a book's tree is mostly strings, a call per string would double the time)."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, (list, dict)):
                _walk(item, visit)
    elif isinstance(node, dict):
        if "t" in node:
            visit(node)
        for value in node.values():
            if isinstance(value, (list, dict)):
                _walk(value, visit)


# -- links between chapters ---------------------------------------------------------------------
def _chapter_links(document: dict, locator: _Locator) -> list[Problem]:
    first_heading: dict[str, str] = {}
    identifiers: dict[str, set[str]] = {}
    for _, source, div in _chapters(document):
        ids: set[str] = set()

        def collect(element: dict) -> None:
            if element["t"] == "Header" and source not in first_heading:
                first_heading[source] = element["c"][1][0]
            content = element.get("c")
            if element["t"] in ("Header", "Div", "Span", "Figure", "Table", "CodeBlock", "Image", "Link", "Code"):
                attr = content[1] if element["t"] == "Header" else content[0]
                if attr[0]:
                    ids.add(attr[0])

        _walk(div["c"][1], collect)
        identifiers[source] = ids
    problems: list[Problem] = []
    for index, source, div in _chapters(document):
        seen: dict[str, int] = {}

        def link(element: dict) -> None:
            if element["t"] != "Link":
                return
            target = element["c"][2][0]
            match = CHAPTER_LINK.match(target)
            if not match:
                return
            occurrence = seen.get(target, 0)
            seen[target] = occurrence + 1
            path = str(PurePosixPath(_normalise(str(PurePosixPath(source).parent / unquote(match.group(1))))))
            anchor = (match.group(2) or "")[1:]
            if path not in identifiers:
                problems.append(locator.problem(index, target, text("quarto_features.link_not_chapter", target=match.group(1)),
                                                occurrence))
            elif anchor and anchor not in identifiers[path]:
                problems.append(locator.problem(index, target, text("quarto_features.link_no_id", anchor=anchor, path=path),
                                                occurrence))
            elif anchor or path in first_heading:
                element["c"][2][0] = "#" + (anchor or first_heading[path])

        _walk(div["c"][1], link)
    return problems


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


# -- table divs ---------------------------------------------------------------------------------
def _table_divs(document: dict, locator: _Locator) -> list[Problem]:
    """`::: {#tbl-x}` holds one table and, last, its caption (floats.lua turns it into that table);
    several tables (Quarto's subtables) or other content are named here, not left to fail late."""
    problems = []
    for index, _, div in _chapters(document):
        def check(element: dict) -> None:
            if element["t"] != "Div" or not element["c"][0][0].startswith("tbl-"):
                return
            blocks = [b for b in element["c"][1] if not _anchor_marker(b)]
            if len(blocks) > 1 and blocks[-1]["t"] in ("Para", "Plain"):
                blocks = blocks[:-1]  # the caption
            if [b["t"] for b in blocks] != ["Table"]:
                label = element["c"][0][0]
                problems.append(locator.problem(index, "#" + label, text("quarto_features.table_div", label=label)))

        _walk(div["c"][1], check)
    return problems


def _anchor_marker(block: dict) -> bool:
    """The review anchors' marker paragraph before a table (render/anchors.py), made of empty spans."""
    return block["t"] == "Para" and bool(block["c"]) and all(
        inline["t"] == "Span" and not inline["c"][1] for inline in block["c"])


# -- raw HTML tables ----------------------------------------------------------------------------
def _html_tables(document: dict, locator: _Locator) -> list[Problem]:
    """Each run of blocks from a raw `<table>` to its `</table>` (pandoc's Markdown reader splits
    the HTML at each tag and reads the text between as Markdown) becomes pandoc's reading of that
    HTML. All tables of the book go through pandoc twice in all: blocks to HTML, HTML to blocks."""
    runs: list[tuple[int, list, int, int, int]] = []  # (chapter, block list, start, end, n-th in chapter)
    problems: list[Problem] = []
    for index, _, div in _chapters(document):
        count = [0]

        def find_runs(blocks: list) -> None:
            position = 0
            while position < len(blocks):
                block = blocks[position]
                if _raw_html(block) and TABLE_START.match(block["c"][1]):
                    end = _table_end(blocks, position)
                    if end is None:
                        problems.append(locator.problem(index, "<table", text("quarto_features.table_unclosed"), count[0]))
                        return
                    runs.append((index, blocks, position, end, count[0]))
                    count[0] += 1
                    position = end
                    continue
                for value in block.get("c", []) if isinstance(block.get("c"), list) else []:
                    _descend(value, find_runs)
                position += 1

        find_runs(div["c"][1])
    if not runs or problems:
        return problems
    tables = _read_html_tables([blocks[start:end] for _, blocks, start, end, _ in runs], document)
    # replace from the last run backwards, so earlier positions in a shared list stay valid
    for (index, blocks, start, end, occurrence), table in reversed(list(zip(runs, tables))):
        if table is None:
            problems.append(locator.problem(index, "<table", text("quarto_features.table_unreadable"), occurrence))
        else:
            blocks[start:end] = [table]
    return problems


def _raw_html(block) -> bool:
    return isinstance(block, dict) and block.get("t") == "RawBlock" and block["c"][0].lower() in ("html", "html5")


def _descend(value, find_runs) -> None:
    """Look for block lists inside an element (a Div's, a list item's, a cell's blocks)."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and "t" in v for v in value) and _is_block(value[0]):
            find_runs(value)
        else:
            for item in value:
                _descend(item, find_runs)
    elif isinstance(value, dict) and "t" in value and isinstance(value.get("c"), list):
        _descend(value["c"], find_runs)


BLOCKS = {"Plain", "Para", "LineBlock", "CodeBlock", "RawBlock", "BlockQuote", "OrderedList", "BulletList",
          "DefinitionList", "Header", "HorizontalRule", "Table", "Figure", "Div"}


def _is_block(element: dict) -> bool:
    return element["t"] in BLOCKS


def _table_end(blocks: list, start: int) -> int | None:
    """Index after the block that closes the table opened at `start` (nested tables counted)."""
    depth = 0
    for position in range(start, len(blocks)):
        if _raw_html(blocks[position]):
            for tag in TABLE_TAG.finditer(blocks[position]["c"][1]):
                depth += -1 if tag.group(1) else 1
            if depth <= 0:
                return position + 1
    return None


def _read_html_tables(runs: list[list], document: dict) -> list[dict | None]:
    """Each run as the one Table pandoc's HTML reader makes of it, or None."""
    from underlag.engine.render.pandoc import pandoc_path

    blocks = []
    for number, run in enumerate(runs):
        blocks += [{"t": "RawBlock", "c": ["html", f'<div id="underlag-html-table-{number}">']}, *run,
                   {"t": "RawBlock", "c": ["html", "</div>"]}]
    wrapped = {**document, "blocks": blocks, "meta": {}}
    html = _pandoc(["--from", "json", "--to", "html5"], json.dumps(wrapped), pandoc_path())
    read = json.loads(_pandoc(["--from", "html", "--to", "json"], html, pandoc_path()))
    found: dict[str, dict | None] = {}
    for block in read["blocks"]:
        if block["t"] == "Div" and block["c"][0][0].startswith("underlag-html-table-"):
            inner = [b for b in block["c"][1] if b["t"] != "Plain" or b["c"]]
            found[block["c"][0][0]] = inner[0] if len(inner) == 1 and inner[0]["t"] == "Table" else None
    return [found.get(f"underlag-html-table-{number}") for number in range(len(runs))]


def _pandoc(args: list[str], text: str, pandoc: str) -> str:
    from underlag.engine.errors import ToolError

    result = subprocess.run([pandoc, *args], input=text, capture_output=True, text=True)
    if result.returncode != 0:
        raise ToolError(text("quarto_features.raw_tables_failed", reason=result.stderr.strip()))
    return result.stdout
