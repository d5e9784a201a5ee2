"""`underlag lint`: the writer's checks on the prose, in their own terms.

Swedish spelling (hunspell's Swedish dictionary via spylls, plus the project's word list),
readability as LIX per chapter, Swedish typography, heading order, references and includes
(the same checks the build makes), and generated parts or variables that nothing shows.
Every finding is `file:line:col: message`.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata
from pathlib import Path

from underlag.engine.assemble import SHORTCODE, _Assembler, _read_lines, assemble, marked_code
from underlag.engine.book import Book
from underlag.engine.errors import InputError, Problem, relative

# The Swedish hunspell dictionary comes with pip (hunspell-sv, LGPL-3.0, built on Göran Andersson's
# SFOL as the Linux distributions' sv_SE is): the same words on Windows, macOS and Linux. Its files
# are installed beside the environment (<prefix>/share/hunspell), so they are found through the
# package's file list, not a fixed folder.
DICTIONARY_PACKAGE = "hunspell-sv"
DICTIONARY_FILE = "sv_SE.dic"
WORD_LIST = "chapters/ordlista.txt"
LIX_LIMIT = 50
LIX_STRICT_LIMIT = 40  # for the parts listed under `lix-strict:` in _quarto.yml (summary, proposal, brief)
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
TYPOGRAPHY = [
    (re.compile(r"(?<![\d.,-])\d{1,3}-\d{1,3}(?![\d.,-])"), "a range is written with an en dash: 3–5"),
    (re.compile(r"\d%"), "write a space before the per cent sign (78 %), or 'procent' in running text"),
    (re.compile(r"\b[Ss]kall\b"), "write 'ska', not 'skall'"),
    (re.compile(r"\""), "use Swedish quotation marks ”…”"),
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
    return Problem(".", None, None, f"den svenska ordlistan (paketet {DICTIONARY_PACKAGE}) saknas, så stavningen "
                   f"kontrollerades inte; installera den med pip install {DICTIONARY_PACKAGE} eller installera om "
                   "underlag", "warning")


def lint(root: Path, profile: str | None = None) -> list[Problem]:
    from underlag.commands.build import Options, prepare

    book, _ = prepare(root, Options(profile=profile))
    problems: list[Problem] = []
    try:
        assemble(book)
    except InputError as exc:
        problems += exc.problems
    words = _word_list(root)
    if dictionary() is None:
        problems.append(missing_dictionary())
    for chapter in book.chapters:
        problems += check_chapter(book, chapter.path, words)
    problems += unused_parts(book)
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.column or 0))


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
                problems.append(Problem(shown, line.line, match.start() + 1, message, "warning"))
        for match in WORD.finditer(text.lstrip("#").lstrip()):
            offset = len(text) - len(text.lstrip("#").lstrip())
            for part in match.group(0).replace(":", "-").split("-"):
                if part and not _known(part, words):
                    problems.append(Problem(shown, line.line, match.start() + offset + 1,
                                            f"'{part}' is not in the Swedish dictionary; fix the spelling or add "
                                            f"the word to {WORD_LIST}", "warning"))
    problems += check_readability(book, path)
    return problems


def _known(word: str, words: set[str]) -> bool:
    return (word in words or word.lower() in words or len(word) == 1 or dictionary() is None
            or dictionary().lookup(word))


def check_headings(shown: str, lines) -> list[Problem]:
    problems, previous = [], 0
    for line in prose_lines(lines):
        match = re.match(r"^(#{1,6})\s", line.text)
        if not match:
            continue
        level = len(match.group(1))
        if level > previous + 1:
            problems.append(Problem(shown, line.line, 1, f"heading level {level} follows level {previous}; "
                                                         "do not skip a level", "warning"))
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


def check_readability(book: Book, path: Path) -> list[Problem]:
    """LIX of the chapter as the reader gets it (included parts too); strict for the key parts.

    Each line of running text, list item or table-free paragraph, is at least one sentence:
    a list item without a full stop still ends where the line ends.
    """
    assembler = _Assembler(book)
    expanded = assembler.expand(path, _read_lines(path, book.root), [path])
    found = []
    for line in prose_lines(expanded):
        text = line.text.strip()
        if text.startswith(("#", "![", ": ")):
            continue
        text = re.sub(r"\\(.)", r"\1", SHORTCODE.sub(" ", clean(text)))
        found += sentences(re.sub(r"^([-*]|\d+\.)\s+", "", text).replace("*", ""))
    value = lix_of(found)
    shown = relative(path, book.root)
    strict = shown in [str(p) for p in book.metadata.get("lix-strict", [])]
    limit = LIX_STRICT_LIMIT if strict else LIX_LIMIT
    if value <= limit:
        return []
    longest = sorted(found, key=lambda s: len(s.split()), reverse=True)[:2]
    named = "; ".join(f"”{s[:80]}{'…' if len(s) > 80 else ''}” ({len(s.split())} ord)" for s in longest)
    return [Problem(shown, 1, None, f"LIX {value:.0f} is above {limit}; shorten sentences and words. "
                                    f"Longest: {named}", "warning")]


def unused_parts(book: Book) -> list[Problem]:
    """Generated parts no chapter includes, and variables no chapter uses: shown nowhere."""
    chapters = [p for p in (book.root / "chapters").rglob("*.qmd") if "_generated" not in p.parts]
    text = "\n".join(p.read_text("utf-8") for p in chapters)
    problems = []
    for fragment in sorted((book.root / "chapters" / "_generated").glob("*.md")):
        if f"_generated/{fragment.name}" not in text:
            problems.append(Problem(relative(fragment, book.root), None, None,
                                    "this generated part is included by no chapter, so its data is shown "
                                    "nowhere; include it or remove its template", "warning"))
    for key in _variable_keys(book.variables):
        if not re.search(r"\{\{<\s*var\s+" + re.escape(key) + r"\s*>\}\}", text):
            problems.append(Problem("_variables.yml", None, None, f"variable '{key}' is used by no chapter; "
                                                                   "use it or remove it", "warning"))
    return problems


def _variable_keys(values: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        keys += _variable_keys(value, name + ".") if isinstance(value, dict) else [name]
    return keys
