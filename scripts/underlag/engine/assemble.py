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
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from pathlib import Path

from underlag.engine.book import Book, Chapter, Part
from underlag.engine.codeblocks import CodeBlock, code_blocks, code_flags, without_inline_code
from underlag.engine.confine import inside
from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.escape import markdown
from underlag.engine.guarded_yaml import expect, parse_yaml, read_text
from underlag.engine.messages import text as _
from underlag.engine.structure import check_structure

SHORTCODE = re.compile(r"(\{?)\{\{<\s*([\w-]+)\s*(.*?)\s*>\}\}(\}?)")
INCLUDE = re.compile(r"\s*\{\{<\s*include\s+(\S+)\s*>\}\}\s*")
# Cross-reference kinds the embedded engine numbers: figures, tables, sections, equations, callouts
CROSSREF_KINDS = ("fig", "tbl", "sec", "eq", "nte", "tip", "wrn", "imp", "cau")
LABEL = re.compile(r"\{#((?:" + "|".join(CROSSREF_KINDS) + r")-[\w-]*\w)")
REFERENCE = re.compile(r"(?<![\w@\\])@((?:" + "|".join(k for kind in CROSSREF_KINDS for k in (kind, kind.capitalize()))
                       + r")-[\w-]*\w)")
INLINE_CELL = re.compile(r"(?<!`)`\{([A-Za-z][\w-]*)\}\s[^`]*`(?!`)")  # `{python} x`: Quarto runs it
CITATION = re.compile(r"(?<![\w@\\])@([A-Za-z0-9_](?:[\w:.#$%&+?<>~/-]*[\w])?)")
# Quarto syntax the embedded engine does not implement: (pattern, what to tell the writer)
UNSUPPORTED = [  # (pattern, message key)
    (re.compile(r"\{(?![^}]*#fig-)[^}]*\blayout(-ncol|-nrow)?="), "assemble.unsupported_layout"),
    (re.compile(r"\{[^}]*\.panel-(tabset|sidebar|fill|input)"), "assemble.unsupported_panel"),
    (re.compile(r"\{[^}]*\.column-(margin|page|screen|body-outset)"), "assemble.unsupported_column"),
    (re.compile(r"\{[^}]*#(lst|thm|lem|cor|prp|cnj|def|exm|exr)-"), "assemble.unsupported_target"),
]
CHAPTER_FENCE = ":" * 12


@dataclass(frozen=True)
class SourceLine:
    text: str
    path: Path
    line: int
    code: bool = False  # inside a code block (fences included), as the parser sees it (codeblocks.py)


@dataclass(frozen=True)
class Assembled:
    lines: list[SourceLine]
    images: list[Path]  # every image file the book uses, all inside the project
    document: dict | None = None  # pandoc's JSON of the text, checked and cleaned (sanitize.py)
    warnings: list[Problem] = field(default_factory=list)  # active content the cleaning removed
    pdf_problems: list[Problem] = field(default_factory=list)  # what PDF/UA refuses: only the PDF is not built
    cache_key: str | None = None  # the key it was checked under: stored under it once the figures are drawn

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
        lines = wrap + body + [SourceLine("", chapter.path, 1), SourceLine(CHAPTER_FENCE, chapter.path, 1)]
        return (self.part(chapter.part) if chapter.part else []) + lines

    def part(self, part: Part) -> list[SourceLine]:
        """A book part as its own unnumbered level-1 heading (class `part`), so its title reaches
        every format and the contents; a part file's text follows its title, as on Quarto's part page."""
        config = self.book.root / "_quarto.yml"
        if part.path is None:
            body = [SourceLine(f"# {markdown(part.title)} {{.unnumbered .part}}", config, part.line or 1)]
            path = config
        else:
            path = part.path
            try:
                body = self.expand(path, _strip_front_matter(path, self.book.root), [path])
            except InputError as exc:
                self.problems += exc.problems
                body = []
            body = _mark_part_heading(body)
        opening = f'{CHAPTER_FENCE} {{.chapter source="{relative(path, self.book.root)}" part="true"}}'
        return [SourceLine(opening, path, 1), SourceLine("", path, 1), *body, SourceLine("", path, 1),
                SourceLine(CHAPTER_FENCE, path, 1)]

    def expand(self, path: Path, lines: list[SourceLine], stack: list[Path],
               in_code: bool = False) -> list[SourceLine]:
        """The file's lines with shortcodes expanded; `in_code`: the file is included into a code block."""
        if in_code:
            return [line for source in lines for line in self.code_line(source, stack)]
        blocks = {block.first: block for block in code_blocks([line.text for line in lines])}
        result: list[SourceLine] = []
        index = 0
        while index < len(lines):
            if block := blocks.get(index):
                result += self.code_block(lines[block.first:block.end], block, stack)
                index = block.end
                continue
            source = lines[index]
            index += 1
            if include := INCLUDE.fullmatch(source.text):
                result.extend(self.include(source, include.group(1), stack))
                continue
            if source.text.strip() == "{{< pagebreak >}}":
                result += [SourceLine(text, source.path, source.line) for text in ("", "::: {.pagebreak}", ":::", "")]
                continue
            result.append(SourceLine(self.inline_shortcodes(source), source.path, source.line))
        return result

    def code_block(self, lines: list[SourceLine], block: CodeBlock, stack: list[Path]) -> list[SourceLine]:
        """A code block as Quarto treats it: a cell that would run is reported, an escaped cell
        (```` ```{{r}} ````) is shown as code with its fences, and shortcodes are expanded (Quarto
        expands them in code too, and splices includes there) unless the block says
        `shortcodes=false`."""
        opening = lines[0]
        if block.executable:
            self.problem(opening.path, opening.line, _("assemble.code_cell", info="{" + block.executable + "}"),
                         opening.text.find(block.marker) + 1)
            return [_as_code(line) for line in lines]
        if block.escaped:
            return _escaped_cell(lines, block)
        if not block.shortcodes:
            return [_as_code(line) for line in lines]
        return [_as_code(opening)] + \
            [line for source in lines[1:] for line in self.code_line(source, stack)]

    def code_line(self, source: SourceLine, stack: list[Path]) -> list[SourceLine]:
        if include := INCLUDE.fullmatch(source.text):
            return self.include(source, include.group(1), stack, in_code=True)
        return [SourceLine(self.inline_shortcodes(source, in_code=True), source.path, source.line, True)]

    def include(self, source: SourceLine, target: str, stack: list[Path],
                in_code: bool = False) -> list[SourceLine]:
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
            return self.expand(path, _read_lines(path, self.book.root), stack + [path], in_code)
        except InputError as exc:
            self.problems += exc.problems
            return []

    def inline_shortcodes(self, source: SourceLine, in_code: bool = False) -> str:
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
            if name == "pagebreak" and in_code:  # a page break cannot happen inside code: shown as written
                return match.group(0)
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


def assemble(book: Book, cache=None, lines_ready=None, produced: Collection[Path] = ()) -> Assembled:
    """All chapters as one text; raises InputError with every problem found.

    With a cache, the checked document of unchanged sources is reused (it costs a pandoc run).
    `lines_ready(lines)` hears the assembled lines before they are parsed and checked.
    `produced` are images still being written beside the assembly: present, not yet readable."""
    from underlag.engine.render.html import STYLESHEET
    from underlag.engine.render.pandoc import template
    from underlag.engine.render.pdf import TEMPLATE as TYPST_TEMPLATE
    from underlag.engine.sanitize import check_templates, inspect_cached

    assembler = _Assembler(book)
    lines = [line for chapter in book.chapters for line in assembler.chapter(chapter)]
    if lines_ready is not None:
        lines_ready(lines)
    stage_key = _assembled_key(book, lines) if cache is not None and not assembler.problems else None
    if stage_key and (reused := _reuse_assembled(book, lines, cache, stage_key)):
        return reused
    # Images in every syntax, raw HTML and Typst, attributes: as pandoc's reader sees them
    inspection = inspect_cached(lines, book.root, cache, produced)
    problems = resolve_features(inspection.document, lines, book) if not inspection.errors else []
    # markup pandoc accepts but that would silently damage the document (engine/structure.py)
    structure = check_structure(_outside_code(lines), book.root, skip=CHAPTER_FENCE)
    problems = (problems + assembler.problems + check_references(lines, book.root) + inspection.errors
                + check_citations(lines, book) + check_unsupported(lines, book.root)
                + check_inline_cells(lines, book.root)
                + check_templates(book.root, template(book.root, STYLESHEET), template(book.root, TYPST_TEMPLATE))
                + [p for p in structure if p.severity == "error"])
    warnings = inspection.warnings + [p for p in structure if p.severity != "error"]
    from underlag.engine.pdf_ua import pdf_ua_problems

    pdf_problems = pdf_ua_problems(inspection.document, lines, book.root) if not inspection.errors else []
    if problems:  # the warnings too, and what the PDF would refuse: a writer fixes everything in one round
        raise InputError(problems + warnings + [replace(p, severity="warning") for p in pdf_problems])
    assembled = Assembled(lines, sorted(inspection.images), inspection.document, warnings, pdf_problems, stage_key)
    if stage_key and not produced:  # else once they are drawn (remember_assembled): the images are its inputs
        _store_assembled(assembled, book.root, cache, stage_key)
    return assembled


def remember_assembled(assembled: Assembled, book: Book, cache) -> None:
    """Keep the assembly for the next build once the figures drawn beside it are written, under the
    key of the files as they were read (not hashed again: a file saved meanwhile must not match)."""
    if assembled.cache_key:
        _store_assembled(assembled, book.root, cache, assembled.cache_key)


ASSEMBLED_FILE = "assembled.json"  # in .underlag-cache: the checked document with the book's features resolved


def _assembled_key(book: Book, lines: list[SourceLine]) -> str:
    """Everything the checks after the expansion read: the lines and their files, the book's
    settings and YAML files, the bibliography, the templates, pandoc and our code."""
    from underlag.engine.cache import digest, file_hash, package_digest
    from underlag.engine.messages import language
    from underlag.engine.render.html import STYLESHEET
    from underlag.engine.render.pandoc import pandoc_path, template
    from underlag.engine.render.pdf import TEMPLATE as TYPST_TEMPLATE

    root = book.root
    files = sorted({line.path for line in lines} | set(book.bibliography) | set(root.glob("_quarto*.yml"))
                   | set(root.glob("_variables.yml")) | {template(root, STYLESHEET), template(root, TYPST_TEMPLATE)})
    return digest("assemble", [line.text for line in lines], [line.code for line in lines],
                  [(relative(path, root), file_hash(path)) for path in files if path.is_file()],  # a copy keeps it
                  book.metadata, book.profiles, pandoc_path(), package_digest(), language())


def _reuse_assembled(book: Book, lines: list[SourceLine], cache, key: str) -> Assembled | None:
    """The last run's assembly when nothing it was made from changed (the images are the entry's
    inputs): a build with nothing to do then runs neither pandoc's reader nor the checks."""
    import json

    stored = cache.lookup("stage:assemble", key)
    if not isinstance(stored, dict):
        return None
    root = book.root.resolve()
    document = json.loads((root / ".underlag-cache" / ASSEMBLED_FILE).read_text("utf-8"))
    return Assembled(lines, [root / p for p in stored["images"]], document,
                     [Problem(**w) for w in stored["warnings"]], [Problem(**w) for w in stored["pdf_problems"]])


def _store_assembled(assembled: Assembled, root: Path, cache, key: str) -> None:
    import json
    from dataclasses import asdict

    from underlag.engine.confine import output_path, prepare_area

    root = root.resolve()
    prepare_area(root, ".underlag-cache")  # never through a link: the writes are confined
    path = output_path(root, root / ".underlag-cache" / ASSEMBLED_FILE)
    path.write_text(json.dumps(assembled.document, ensure_ascii=False), "utf-8")
    cache.store("stage:assemble", key, [path], {
        "images": [relative(p, root) for p in assembled.images],
        "warnings": [asdict(w) for w in assembled.warnings],
        "pdf_problems": [asdict(p) for p in assembled.pdf_problems]}, inputs=assembled.images)


def marked_code(lines: list[SourceLine]) -> list[SourceLine]:
    """A file's own lines, each marked code or not as the parser sees them (nothing expanded)."""
    return [SourceLine(line.text, line.path, line.line, code) for line, code in
            zip(lines, code_flags([line.text for line in lines]))]


def _as_code(line: SourceLine) -> SourceLine:
    return SourceLine(line.text, line.path, line.line, True)


def _escaped_cell(lines: list[SourceLine], block: CodeBlock) -> list[SourceLine]:
    """```` ```{{r}} ```` … ```` ``` ```` shown as Quarto shows it: a code block whose text is the cell
    with its fences (```` ```{r} ````), in a fence one character longer, so nothing runs or parses."""
    opening, closing = lines[0], lines[-1]
    start = opening.text.find(block.marker)
    prefix = opening.text[:start]  # a list marker or block quote the fence was opened in
    inner = prefix if prefix.lstrip().startswith(">") else " " * len(prefix)
    outer = block.marker[0] * (len(block.marker) + 1)
    language = block.escaped.group(1)
    shown = opening.text[start:].replace(block.info, "{" + language + block.escaped.group(2) + "}", 1)
    result = [SourceLine(f"{prefix}{outer}{{.{language} .cell-code}}", opening.path, opening.line, True),
              SourceLine(inner + shown, opening.path, opening.line, True)]
    result += [_as_code(line) for line in lines[1:]]
    closed = len(lines) > 1 and closing.text.strip().lstrip("> ").startswith(block.marker)
    if not closed:  # CommonMark closes an unclosed fence at the end of its container: so does the cell
        result.append(SourceLine(inner + block.marker, closing.path, closing.line, True))
    return result + [SourceLine(inner + outer, closing.path, closing.line, True)]


def resolve_features(document: dict, lines: list[SourceLine], book: Book, checks: bool = True) -> list[Problem]:
    """The Quarto features decided on the whole book's document (quarto_features.py), and the
    unpaired Swedish quotation marks; `checks=False` for a second document of the same book."""
    from underlag.engine.quarto_features import resolve

    problems = resolve(document, lines, book.root, book.metadata, book.profiles, checks)
    if book.lang.startswith("sv"):
        swedish_marks(document["blocks"])
    return problems


def swedish_marks(node) -> None:
    """Swedish uses the same mark on both sides: an unpaired quote, which pandoc's reader makes an
    English opening mark, becomes ” or ’ in every word of the text. Done here once, not by a Lua
    filter in each format's pandoc run (a pass over every word cost a third of a second per format
    in a long book); paired quotes (Quoted) are still the formats' own (blocks.lua)."""
    if type(node) is list:  # exact types, not isinstance: this visits every node of a long book
        for child in node:
            if type(child) is list or type(child) is dict:
                swedish_marks(child)
    elif node.get("t") == "Str":
        word = node["c"]
        if "“" in word or "‘" in word:
            node["c"] = word.replace("“", "”").replace("‘", "’")
    else:  # an element's content, or a citation's prefix and suffix
        for child in node.values():
            if type(child) is list or type(child) is dict:
                swedish_marks(child)


def _mark_part_heading(lines: list[SourceLine]) -> list[SourceLine]:
    """The first level-1 heading of a part file is the part's title: unnumbered, class `part`."""
    for index, line in enumerate(lines):
        heading = re.fullmatch(r"#\s+(.*?)\s*(\{([^}]*)\})?\s*", line.text)
        if heading:
            attributes = " ".join(filter(None, [heading.group(3), ".unnumbered .part"]))
            marked = SourceLine(f"# {heading.group(1)} {{{attributes}}}", line.path, line.line)
            return lines[:index] + [marked] + lines[index + 1:]
    return lines


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


def _outside_code(lines: list[SourceLine]):
    """Lines of prose, with inline code spans blanked: `@fig-x` written as code is not a reference."""
    return (SourceLine(without_inline_code(line.text), line.path, line.line)
            for line in lines if not line.code)


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
            return _("assemble.svg_invalid", reason=exc.msg)
        return None if etree.QName(root).localname == "svg" else _("assemble.svg_not_svg")
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
    custom = _custom_crossref_kinds(book.root)
    problems = []
    for line in _outside_code(lines):
        for match in CITATION.finditer(line.text):
            key = match.group(1)
            kind = key.split("-", 1)[0].lower()
            if kind in CROSSREF_KINDS and "-" in key:
                continue
            if "-" in key and re.fullmatch(r"(lst|thm|lem|cor|prp|cnj|def|exm|exr)", kind):
                message = _("assemble.crossref_kind", key=key)
            elif "-" in key and kind in custom:  # a kind the book declares under crossref: custom:
                message = _("assemble.crossref_custom", key=key, kind=kind)
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


def _custom_crossref_kinds(root: Path) -> set[str]:
    """The keys of `crossref: custom:` kinds in _quarto.yml (e.g. `key: dino` for @dino-x)."""
    from underlag.engine.guarded_yaml import read_yaml

    try:
        config, _ = read_yaml(root / "_quarto.yml", root)
    except InputError:  # read_book has reported it already
        return set()
    crossref = config.get("crossref") if isinstance(config, dict) else None
    entries = crossref.get("custom") if isinstance(crossref, dict) else None
    entries = entries if isinstance(entries, list) else []
    return {str(entry["key"]) for entry in entries if isinstance(entry, dict) and entry.get("key")}


def check_unsupported(lines: list[SourceLine], root: Path) -> list[Problem]:
    return [Problem(relative(line.path, root), line.line, match.start() + 1, _(message))
            for line in _outside_code(lines) for pattern, message in UNSUPPORTED
            if (match := pattern.search(line.text))]



def check_inline_cells(lines: list[SourceLine], root: Path) -> list[Problem]:
    """Quarto runs inline code written `{python} x`: the embedded engine runs nothing, so say so
    where it stands instead of printing the code."""
    return [Problem(relative(line.path, root), line.line, match.start() + 1,
                    _("assemble.inline_cell", cell=match.group(0), language="{" + match.group(1) + "}"))
            for line in lines if not line.code for match in INLINE_CELL.finditer(line.text)]
