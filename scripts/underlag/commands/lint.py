"""`underlag lint`: the writer's checks on the prose, in their own terms.

Swedish spelling (hunspell's Swedish dictionary via spylls, plus the project's word list),
readability as LIX per chapter, Swedish typography, heading order, references and includes
(the same checks the build makes), and generated parts or variables that nothing shows.
Every finding is `file:line:col: message`, followed by the line's text and a caret under the
column, so a writer finds the place without an editor that shows columns. Every run ends with a
table of LIX per chapter and for the whole report, with the limit each part is held to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import metadata
from pathlib import Path

from underlag.engine.assemble import SHORTCODE, _Assembler, _read_lines, assemble, marked_code
from underlag.engine.book import Book
from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.messages import text as _

# The Swedish hunspell dictionary comes with pip (hunspell-sv, LGPL-3.0, built on Göran Andersson's
# SFOL as the Linux distributions' sv_SE is): the same words on Windows, macOS and Linux. Its files
# are installed beside the environment (<prefix>/share/hunspell), so they are found through the
# package's file list, not a fixed folder.
DICTIONARY_PACKAGE = "hunspell-sv"
DICTIONARY_FILE = "sv_SE.dic"
WORD_LIST = "chapters/ordlista.txt"
LIX_LIMIT = 50
LIX_STRICT_LIMIT = 40  # for the parts listed under `lix-strict:` in _quarto.yml (summary, proposal, brief)
LONG_SENTENCE = 20  # words; the sentences named when a part is above its LIX limit are longer than this
NAMED_SENTENCES = 3  # at most this many per part, the longest first
GENERATED = "_generated"  # chapters/_generated/ is written by the tool: never point a writer there
EXCERPT = 100  # characters of a long line shown under a finding, around its column
# Swedish abbreviations whose full stops do not end a sentence
ABBREVIATIONS = ("t.ex.", "bl.a.", "s.k.", "m.m.", "o.s.v.", "osv.", "dvs.", "d.v.s.", "t.o.m.", "fr.o.m.",
                 "ca.", "nr.", "jfr.", "resp.", "inkl.", "exkl.", "f.d.", "p.g.a.", "pga.", "enl.", "kl.")
WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:[-:][A-Za-zÀ-ÖØ-öø-ÿ]+)*")
MARKUP = [
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"<!--.*?-->"),  # comments
    re.compile(r"\{[#.][^}]*\}|\{=\w+\}"),  # attributes and raw markers
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),
    re.compile(r"@[\w:-]+"),  # references and citations
    re.compile(r"\{\{<.*?>\}\}"),  # shortcodes
    re.compile(r"\w+=\"[^\"]*\""),  # key="value" attributes
]
TYPOGRAPHY = [  # (pattern, message key)
    (re.compile(r"(?<![\d.,-])\d{1,3}-\d{1,3}(?![\d.,-])"), "lint.range_dash"),
    (re.compile(r"\d%"), "lint.percent_space"),
    (re.compile(r"\b[Ss]kall\b"), "lint.skall"),
    (re.compile(r"\""), "lint.quotes"),
]


@cache
def dictionary():
    """The Swedish dictionary, or None when it is not installed (lint then says so once)."""
    from spylls.hunspell import Dictionary

    base = dictionary_path()
    return Dictionary.from_files(str(base)) if base else None


def dictionary_path() -> Path | None:
    """sv_SE without its suffix (spylls adds .dic and .aff), from the installed package's files."""
    try:
        files = metadata.distribution(DICTIONARY_PACKAGE).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == DICTIONARY_FILE:
            dic = Path(file.locate())
            if dic.is_file() and dic.with_suffix(".aff").is_file():
                return dic.with_suffix("")
    return None


def missing_dictionary() -> Problem:
    return Problem(".", None, None, _("lint.dictionary_missing", package=DICTIONARY_PACKAGE), "warning")


@dataclass(frozen=True)
class Readability:
    part: str  # the chapter as the writer names it, or "" for the whole report
    value: float
    limit: int
    sentences: int


@dataclass
class LintResult:
    findings: list[Problem]
    readability: list[Readability]
    root: Path
    lines: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines, read once

    def finding_lines(self) -> list[str]:
        """Each finding, then the line it points at and a caret under its column."""
        out = []
        for finding in self.findings:
            out.append(str(finding))
            if (line := self._line(finding)) is not None:
                shown, caret = excerpt(line, finding.column)
                out.append(_("lint.line_text", text=shown))
                if caret is not None:
                    out.append(_("lint.line_text", text=" " * caret + "^"))
        return out

    def _line(self, finding: Problem) -> str | None:
        if finding.line is None:
            return None
        if finding.path not in self.lines:
            path = self.root / finding.path
            self.lines[finding.path] = path.read_text("utf-8").splitlines() if path.is_file() else []
        lines = self.lines[finding.path]
        return lines[finding.line - 1].expandtabs(1) if 0 < finding.line <= len(lines) else None

    def table(self) -> str:
        """LIX per part and for the whole report, with the limit, as plain text (rich lays it out)."""
        import io

        from rich import box
        from rich.console import Console
        from rich.table import Table

        table = Table(box=box.SIMPLE)
        table.add_column(_("lint.lix_part"))
        for key in ("lint.lix_value", "lint.lix_limit", "lint.lix_sentences"):
            table.add_column(_(key), justify="right")
        table.add_column(_("lint.lix_verdict"))
        for row in self.readability:
            verdict = "" if not row.sentences else _("lint.lix_ok") if row.value <= row.limit else _("lint.lix_over")
            table.add_row(row.part or _("lint.lix_whole"), f"{row.value:.0f}" if row.sentences else "–",
                          str(row.limit), str(row.sentences), verdict)
        buffer = io.StringIO()
        Console(file=buffer, width=100, color_system=None, highlight=False).print(table)
        lines = [line.rstrip() for line in buffer.getvalue().rstrip().splitlines()]
        return "\n".join([_("lint.lix_title"), *lines])  # the title apart: rich would wrap it to the table's width


def excerpt(line: str, column: int | None, width: int = EXCERPT) -> tuple[str, int | None]:
    """The line, or for a long paragraph the part around the column (with … where it is cut),
    and where the caret goes under it."""
    if len(line) <= width:
        return line, column - 1 if column else None
    start = max(0, min((column or 1) - 1 - width // 2, len(line) - width))
    shown = ("…" if start else "") + line[start:start + width] + ("…" if start + width < len(line) else "")
    return shown, (column - 1 - start + (1 if start else 0)) if column else None


def lint(root: Path, profile: str | None = None) -> LintResult:
    from underlag.commands.build import Options, prepare

    book, warnings = prepare(root, Options(profile=profile))
    problems: list[Problem] = [w for w in warnings if w.path.startswith("chapters/")]  # the prose's own
    try:
        assembled = assemble(book)
        problems += assembled.warnings + [replace(p, severity="warning") for p in assembled.pdf_problems]
    except InputError as exc:  # with the PDF/UA problems as warnings already
        problems += exc.problems
    words = _word_list(root)
    if dictionary() is None:
        problems.append(missing_dictionary())
    readability = []
    everything: list[str] = []
    for chapter in book.chapters:
        problems += check_chapter(book, chapter.path, words)
        found, row, named = readability_of(book, chapter.path)
        readability.append(row)
        problems += named
        everything += found
    readability.append(Readability("", lix_of(everything), LIX_LIMIT, len(everything)))
    problems += unused_parts(book)
    problems = _one_per_place(problems)
    findings = sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.column or 0, p.message))
    return LintResult(findings, readability, book.root)


def _one_per_place(problems: list[Problem]) -> list[Problem]:
    """What keeps the PDF from being built (engine/pdf_ua.py, its message ends with pdf_ua.pdf_only)
    is dropped where lint has its own finding at that line: its heading check names a skipped level too."""
    pdf_only = _("pdf_ua.pdf_only")
    own = {(p.path, p.line) for p in problems if not p.message.endswith(pdf_only)}
    return [p for p in problems if not p.message.endswith(pdf_only) or (p.path, p.line) not in own]


def _word_list(root: Path) -> set[str]:
    path = root / WORD_LIST
    if not path.is_file():
        return set()
    return {w.strip() for w in path.read_text("utf-8").splitlines() if w.strip() and not w.startswith("#")}


def prose_lines(lines) -> list:
    """Lines that are running text: not code (as the parser marked it), tables, front matter,
    fences or raw blocks."""
    out = []
    for line in lines:
        stripped = line.text.strip()
        if line.code or not stripped or stripped.startswith(("|", ":::", "+-", "+=", "<", "---")):
            continue
        out.append(line)
    return out


def clean(text: str) -> str:
    for pattern in MARKUP:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def check_chapter(book: Book, path: Path, words: set[str]) -> list[Problem]:
    shown = relative(path, book.root)
    own = marked_code(_read_lines(path, book.root))
    problems = check_headings(shown, own)
    for line in prose_lines(own):
        text = clean(line.text)
        for pattern, message in TYPOGRAPHY:
            for match in pattern.finditer(text):
                problems.append(Problem(shown, line.line, match.start() + 1, _(message), "warning"))
        for match in WORD.finditer(text.lstrip("#").lstrip()):
            offset = len(text) - len(text.lstrip("#").lstrip())
            for part in match.group(0).replace(":", "-").split("-"):
                if part and not _known(part, words):
                    problems.append(Problem(shown, line.line, match.start() + offset + 1,
                                            _("lint.spelling", word=part, word_list=WORD_LIST), "warning"))
    return problems


def _known(word: str, words: set[str]) -> bool:
    return (word in words or word.lower() in words or len(word) == 1 or dictionary() is None
            or dictionary().lookup(word))


# a paragraph of one line that is bold and nothing else: a heading a reader sees but the contents,
# the PDF's tags, Word's navigation pane and a screen reader do not (WCAG 1.3.1); nor is it kept
# with the text after it, so it can end a page alone
BOLD_PARAGRAPH = re.compile(r"^(\*\*|__)(?=\S)(?:(?!\1).)+(?<=\S)\1:?$")


def check_headings(shown: str, lines) -> list[Problem]:
    problems, previous = [], 0
    for before, line, after in zip([None, *lines], lines, [*lines[1:], None]):
        alone = all(other is None or not other.text.strip() for other in (before, after))
        if alone and not line.code and BOLD_PARAGRAPH.match(line.text.strip()):
            problems.append(Problem(shown, line.line, 1, _("lint.bold_heading"), "warning"))
    for line in prose_lines(lines):
        match = re.match(r"^(#{1,6})\s", line.text)
        if not match:
            continue
        level = len(match.group(1))
        if level > previous + 1:
            problems.append(Problem(shown, line.line, 1, _("lint.heading_skip", level=level, previous=previous),
                                    "warning"))
        previous = level
    return problems


def sentences(text: str) -> list[str]:
    for abbreviation in ABBREVIATIONS:
        text = text.replace(abbreviation, abbreviation.replace(".", "\u2024"))
    parts = re.split(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9”])", text)
    return [p.strip() for p in parts if WORD.search(p)]


def lix(text: str) -> float:
    """LIX = words per sentence + 100 × share of words longer than six letters."""
    return lix_of(sentences(text))


def lix_of(found: list[str]) -> float:
    tokens = [t for s in found for t in re.findall(r"[\wÀ-ÿ\u2024]+", s)]  # "t.ex." is one word
    if not found or not tokens:
        return 0.0
    long = sum(1 for t in tokens if len(t) > 6 and not t.isdigit())
    return len(tokens) / len(found) + 100 * long / len(tokens)


def readability_of(book: Book, path: Path) -> tuple[list[str], Readability, list[Problem]]:
    """LIX of the chapter as the reader gets it (included parts too); strict for the key parts.

    Each line of running text, list item or table-free paragraph, is at least one sentence:
    a list item without a full stop still ends where the line ends. Above the limit, the
    longest sentences the writer wrote (never generated ones) are named at their own lines.
    """
    assembler = _Assembler(book)
    expanded = assembler.expand(path, _read_lines(path, book.root), [path])
    found: list[str] = []
    located: list[tuple[str, object]] = []  # (sentence, the SourceLine it starts on)
    for line in prose_lines(expanded):
        text = line.text.strip()
        if text.startswith(("#", "![", ": ")):
            continue
        text = re.sub(r"\\(.)", r"\1", SHORTCODE.sub(" ", clean(text)))
        here = sentences(re.sub(r"^([-*]|\d+\.)\s+", "", text).replace("*", ""))
        found += here
        located += [(sentence, line) for sentence in here]
    value = lix_of(found)
    shown = relative(path, book.root)
    strict = shown in [str(p) for p in book.metadata.get("lix-strict", [])]
    limit = LIX_STRICT_LIMIT if strict else LIX_LIMIT
    row = Readability(shown, value, limit, len(found))
    if value <= limit:
        return found, row, []
    own = [(s, line) for s, line in located if GENERATED not in line.path.parts and _words(s) > LONG_SENTENCE]
    key = "lint.lix_above" if own else "lint.lix_above_words"  # without long sentences, the words weigh
    problems = [Problem(shown, None, None, _(key, value=f"{value:.0f}", limit=limit), "warning")]
    for sentence, line in sorted(own, key=lambda item: -_words(item[0]))[:NAMED_SENTENCES]:
        problems.append(Problem(relative(line.path, book.root), line.line, _column(line.text, sentence),
                                _("lint.long_sentence", words=_words(sentence), limit=LONG_SENTENCE), "warning"))
    return found, row, problems


def _words(sentence: str) -> int:
    return len(re.findall(r"[\wÀ-ÿ\u2024]+", sentence))


def _column(line: str, sentence: str) -> int:
    """Where the sentence starts in the writer's line (its first word; markup may stand between)."""
    first = WORD.search(sentence.replace("\u2024", "."))
    position = line.find(first.group(0)) if first else -1
    return position + 1 if position >= 0 else 1


def unused_parts(book: Book) -> list[Problem]:
    """Generated parts no chapter includes, and variables no chapter uses: shown nowhere."""
    chapters = [p for p in (book.root / "chapters").rglob("*.qmd") if "_generated" not in p.parts]
    text = "\n".join(p.read_text("utf-8") for p in chapters)
    problems = []
    for fragment in sorted((book.root / "chapters" / "_generated").glob("*.md")):
        if f"_generated/{fragment.name}" not in text:
            problems.append(Problem(relative(fragment, book.root), None, None, _("lint.fragment_unused"), "warning"))
    for key in _variable_keys(book.variables):
        if not re.search(r"\{\{<\s*var\s+" + re.escape(key) + r"\s*>\}\}", text):
            problems.append(Problem("_variables.yml", None, None, _("lint.variable_unused", key=key), "warning"))
    return problems


def _variable_keys(values: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        keys += _variable_keys(value, name + ".") if isinstance(value, dict) else [name]
    return keys
