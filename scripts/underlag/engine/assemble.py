"""Assemble the book's chapters into one pandoc Markdown text, the way Quarto would see them.

Expands the shortcodes the embedded engine supports (include, var, meta, pagebreak),
wraps each chapter in a `.chapter` div so the Lua filters know where it came from, and
checks what would otherwise fail late or silently: missing includes, images and
variables, unknown shortcodes, cross-references without a target. Every assembled line
remembers its file and line, so each problem is reported where the writer can fix it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from underlag.engine.book import Book, Chapter
from underlag.engine.confine import inside
from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.escape import markdown
from underlag.engine.guarded_yaml import expect, parse_yaml, read_text
from underlag.engine.messages import text as _
from underlag.engine.structure import check_structure

SHORTCODE = re.compile(r"(\{?)\{\{<\s*([\w-]+)\s*(.*?)\s*>\}\}(\}?)")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\{?[^`]*)")
LABEL = re.compile(r"\{#((?:fig|tbl|sec)-[\w-]*\w)")
REFERENCE = re.compile(r"(?<![\w@\\])@((?:fig|tbl|sec|Fig|Tbl|Sec)-[\w-]*\w)")
CITATION = re.compile(r"(?<![\w@\\])@([A-Za-z0-9_](?:[\w:.#$%&+?<>~/-]*[\w])?)")
CROSSREF_KINDS = ("fig", "tbl", "sec")
# Quarto syntax the embedded engine does not implement: (pattern, what to tell the writer)
UNSUPPORTED = [  # (pattern, message key)
    (re.compile(r"\{[^}]*\blayout(-ncol|-nrow)?="), "assemble.unsupported_layout"),
    (re.compile(r"\{[^}]*\.panel-(tabset|sidebar|fill|input)"), "assemble.unsupported_panel"),
    (re.compile(r"\{[^}]*\.column-(margin|page|screen|body-outset)"), "assemble.unsupported_column"),
    (re.compile(r"\{[^}]*#(eq|lst|thm|lem|cor|prp|cnj|def|exm|exr)-"), "assemble.unsupported_target"),
]
CHAPTER_FENCE = ":" * 12


@dataclass(frozen=True)
class SourceLine:
    text: str
    path: Path
    line: int


@dataclass(frozen=True)
class Assembled:
    lines: list[SourceLine]
    images: list[Path]  # every image file the book uses, all inside the project
    document: dict | None = None  # pandoc's JSON of the text, checked and cleaned (sanitize.py)
    warnings: list[Problem] = field(default_factory=list)  # active content the cleaning removed

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines) + "\n"


class _Assembler:
    def __init__(self, book: Book):
        self.book = book
        self.problems: list[Problem] = []

    def problem(self, path: Path, line: int | None, message: str, column: int | None = None) -> None:
        self.problems.append(Problem(relative(path, self.book.root), line, column, message))

    def chapter(self, chapter: Chapter) -> list[SourceLine]:
        source = relative(chapter.path, self.book.root)
        appendix = ' appendix="true"' if chapter.appendix else ""
        opening = f'{CHAPTER_FENCE} {{.chapter source="{source}"{appendix}}}'
        try:
            body = self.expand(chapter.path, _strip_front_matter(chapter.path, self.book.root), [chapter.path])
        except InputError as exc:
            self.problems += exc.problems
            body = []
        wrap = [SourceLine(opening, chapter.path, 1), SourceLine("", chapter.path, 1)]
        return wrap + body + [SourceLine("", chapter.path, 1), SourceLine(CHAPTER_FENCE, chapter.path, 1)]

    def expand(self, path: Path, lines: list[SourceLine], stack: list[Path]) -> list[SourceLine]:
        result: list[SourceLine] = []
        for source, in_code, info in _code_state(lines):
            if in_code:
                if re.match(r"\{[A-Za-z]", info):  # {python}, {r}: not {.class} or {=format} (raw)
                    self.problem(source.path, source.line, _("assemble.code_cell", info=info))
                result.append(source)
                continue
            include = re.fullmatch(r"\s*\{\{<\s*include\s+(\S+)\s*>\}\}\s*", source.text)
            if include:
                result.extend(self.include(source, include.group(1), stack))
                continue
            if source.text.strip() == "{{< pagebreak >}}":
                result += [SourceLine(text, source.path, source.line) for text in ("", "::: {.pagebreak}", ":::", "")]
                continue
            result.append(SourceLine(self.inline_shortcodes(source), source.path, source.line))
        return result

    def include(self, source: SourceLine, target: str, stack: list[Path]) -> list[SourceLine]:
        path = (self.book.root / target.lstrip("/")) if target.startswith("/") else source.path.parent / target
        if not inside(path, self.book.root):
            self.problem(source.path, source.line, _("assemble.include_outside", target=target))
            return []
        if path in stack:
            self.problem(source.path, source.line, _("assemble.include_cycle", target=target))
            return []
        if not path.is_file():
            self.problem(source.path, source.line, _("assemble.include_missing", target=target))
            return []
        try:
            return self.expand(path, _read_lines(path, self.book.root), stack + [path])
        except InputError as exc:
            self.problems += exc.problems
            return []

    def inline_shortcodes(self, source: SourceLine) -> str:
        def replace(match: re.Match) -> str:
            opening, name, args, closing = match.groups()
            if opening and closing:  # {{{< x >}}} is Quarto's escape for a literal shortcode
                return match.group(0)[1:-1]
            column = match.start() + 1
            if name == "var":
                return self.lookup(self.book.variables, args, "assemble.variable_undefined", source, column,
                                   "_variables.yml")
            if name == "meta":
                return markdown(self.lookup(self.book.metadata, args, "assemble.meta_undefined", source, column,
                                            "_quarto.yml"))
            if name in ("include", "pagebreak"):
                self.problem(source.path, source.line, _("assemble.shortcode_alone", name=name), column)
            else:
                self.problem(source.path, source.line, _("assemble.shortcode_unknown", name=name), column)
            return ""

        return SHORTCODE.sub(replace, source.text)

    def lookup(self, values: dict, key: str, undefined: str, source: SourceLine, column: int, where: str) -> str:
        value: object = values
        for part in key.strip().split("."):
            if not isinstance(value, dict) or part not in value:
                self.problem(source.path, source.line, _(undefined, key=key.strip(), where=where), column)
                return ""
            value = value[part]
        if isinstance(value, dict):  # printing a Python dict into the report helps nobody
            example = f"{key.strip()}.{next(iter(value), 'namn')}"
            self.problem(source.path, source.line, _("assemble.value_is_group", key=key.strip(), where=where,
                                                     example=example), column)
            return ""
        if isinstance(value, list):
            self.problem(source.path, source.line, _("assemble.value_is_list", key=key.strip(), where=where), column)
            return ""
        return str(value)


def assemble(book: Book, cache=None) -> Assembled:
    """All chapters as one text; raises InputError with every problem found.

    With a cache, the checked document of unchanged sources is reused (it costs a pandoc run)."""
    from underlag.engine.render.html import STYLESHEET
    from underlag.engine.render.pandoc import template
    from underlag.engine.render.pdf import TEMPLATE as TYPST_TEMPLATE
    from underlag.engine.sanitize import check_templates, inspect_cached

    assembler = _Assembler(book)
    lines = [line for chapter in book.chapters for line in assembler.chapter(chapter)]
    # Images in every syntax, raw HTML and Typst, attributes: as pandoc's reader sees them
    inspection = inspect_cached(lines, book.root, cache)
    # markup pandoc accepts but that would silently damage the document (engine/structure.py)
    structure = check_structure(_outside_code(lines), book.root, skip=CHAPTER_FENCE)
    problems = (assembler.problems + check_references(lines, book.root) + inspection.errors
                + check_citations(lines, book) + check_unsupported(lines, book.root)
                + check_templates(book.root, template(book.root, STYLESHEET), template(book.root, TYPST_TEMPLATE))
                + [p for p in structure if p.severity == "error"])
    warnings = inspection.warnings + [p for p in structure if p.severity != "error"]
    if problems:
        raise InputError(problems + warnings)  # the warnings too: a writer fixes everything in one round
    return Assembled(lines, sorted(inspection.images), inspection.document, warnings)


def _read_lines(path: Path, root: Path) -> list[SourceLine]:
    """A chapter's or included file's lines; the guarded reader refuses control characters."""
    text = read_text(path, root, allow_empty=True)
    return [SourceLine(text, path, number) for number, text in enumerate(text.splitlines(), 1)]


def _strip_front_matter(path: Path, root: Path) -> list[SourceLine]:
    """Drop a chapter's YAML front matter; its `title`, if any, becomes the chapter heading."""
    lines = _read_lines(path, root)
    if not lines or lines[0].text.strip() != "---":
        return lines
    for end, line in enumerate(lines[1:], 1):
        if line.text.strip() in ("---", "..."):
            shown = relative(path, root)
            front, positions = parse_yaml("\n".join(line.text for line in lines[1:end]), shown, first_line=2,
                                          syntax="yaml.front_matter_syntax")
            title = front.get("title") if isinstance(front, dict) else None
            if problems := expect(front, dict, shown, positions, what="front matter") + \
                    (expect(title, str, shown, positions, ("title",), "title") if isinstance(title, (dict, list)) else []):
                raise InputError(problems)
            front = front or {}
            heading = [SourceLine(f"# {front['title']}", path, 2)] if "title" in front else []
            return heading + lines[end + 1:]
    return lines


def _code_state(lines: list[SourceLine]):
    """Each line with whether it belongs to a fenced code block (fences included), and the
    opening fence's info string (e.g. `{python}`) on the opening line, else ""."""
    fence: str | None = None
    for line in lines:
        match = FENCE.match(line.text)
        if match and (fence is None or match.group(1).startswith(fence)):
            opening = fence is None
            fence = match.group(1)[:3] if opening else None
            yield line, True, match.group(2).strip() if opening else ""
        else:
            yield line, fence is not None, ""


def _outside_code(lines: list[SourceLine]):
    return (line for line, in_code, _ in _code_state(lines) if not in_code)


def check_references(lines: list[SourceLine], root: Path) -> list[Problem]:
    """Every @fig-/@tbl-/@sec- reference has exactly one target."""
    problems = []
    labels: Counter[str] = Counter()
    for line in _outside_code(lines):
        for match in LABEL.finditer(line.text):
            labels[match.group(1)] += 1
            if labels[match.group(1)] == 2:
                problems.append(Problem(relative(line.path, root), line.line, match.start() + 1,
                                        _("assemble.label_twice", label=match.group(1))))
    for line in _outside_code(lines):
        for match in REFERENCE.finditer(line.text):
            key = match.group(1)
            key = key[0].lower() + key[1:]
            if key not in labels:
                close = get_close_matches(key, list(labels), n=1)
                message = _("assemble.reference_did_you_mean", key=match.group(1), close=close[0]) if close else \
                    _("assemble.reference_no_target", key=match.group(1))
                problems.append(Problem(relative(line.path, root), line.line, match.start() + 1, message))
    return problems


def image_defect(path: Path) -> str | None:
    """Why an image file cannot be shown, or None. Typst refuses a broken image while pandoc embeds it
    silently in HTML and DOCX: checked here, so every format says the same, at the chapter's line."""
    if path.suffix.lower() == ".svg":
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError as exc:
            return f"inte giltig SVG: {exc.msg}"
        return None if etree.QName(root).localname == "svg" else "filen är inte en SVG-bild"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as exc:  # PIL's ways of saying "broken"
        return str(exc) or type(exc).__name__
    return None


def check_citations(lines: list[SourceLine], book: Book) -> list[Problem]:
    """Every @key that is not a cross-reference must be in the bibliography."""
    from underlag.engine.book import bibliography_keys

    keys = bibliography_keys(book)
    problems = []
    for line in _outside_code(lines):
        for match in CITATION.finditer(line.text):
            key = match.group(1)
            kind = key.split("-", 1)[0].lower()
            if kind in CROSSREF_KINDS and "-" in key:
                continue
            if "-" in key and re.fullmatch(r"(eq|lst|thm|lem|cor|prp|cnj|def|exm|exr)", kind):
                message = _("assemble.crossref_kind", key=key)
            elif not book.bibliography:
                message = _("assemble.citation_no_bibliography", key=key)
            elif key in keys:
                continue
            else:
                close = get_close_matches(key, sorted(keys), n=1)
                message = _("assemble.citation_did_you_mean", key=key, close=close[0]) if close else \
                    _("assemble.citation_unknown", key=key)
            problems.append(Problem(relative(line.path, book.root), line.line, match.start() + 1, message))
    return problems


def check_unsupported(lines: list[SourceLine], root: Path) -> list[Problem]:
    return [Problem(relative(line.path, root), line.line, match.start() + 1, _(message))
            for line in _outside_code(lines) for pattern, message in UNSUPPORTED
            if (match := pattern.search(line.text))]
