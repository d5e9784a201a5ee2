"""Personal-data guard: the report's sources include incident reports, which can hold patient data.

Scans everything that reaches an output, each at the place a writer can fix it: the data files,
the book's YAML (`_quarto*.yml`, `_variables.yml`, metadata files: values that `{{< var >}}`,
`{{< meta >}}` and the cover print), every chapter and every file a chapter includes, and, as a
last net, the chapters with includes, variables and metadata expanded (a number put together by
the expansion is reported at the chapter line). Before matching, dashes (en and em dash,
non-breaking hyphen, minus), spaces (no-break, thin, narrow no-break), invisible characters,
Markdown escapes and HTML entities are made plain, so "19121212–1212" or "1912 12 12-1212"
is seen.

What it finds: Swedish personal identity and coordination numbers (Luhn-checked, with or
without century, separator or spaces), phone numbers in their common written forms
(08-123 456 78, 0701234567, +46 (0)31-123 45 67, +46 70 123 45 67 …) and e-mail addresses.
A hit is a warning in `build` and stops `publish`.

A false positive, or the report's own contact person, is allowed by an entry in
`data/tillatna-uppgifter.yaml` that names the exact value and why:

    allowed:
      - value: 010-441 00 00
        reason: Regionens växel, kontaktuppgift i beslutsunderlaget
      - registrator@vgregion.se        # the older form without a reason still works

An allowed value is matched however it is written (dashes, spaces, +46). A line can also be
marked with the comment `pii-ok` (`<!-- pii-ok -->` in a chapter, `# pii-ok` in YAML).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.messages import text as _

ALLOW_FILE = "data/tillatna-uppgifter.yaml"
MARKER = "pii-ok"
SCANNED = (("data", ("*.yaml", "*.yml", "*.csv")), ("chapters", ("*.qmd", "*.md")))
BOOK_FILES = ("_quarto.yml", "_quarto-*.yml", "_variables.yml")

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"
# an HTML entity, a Markdown backslash escape, or one character
TOKEN = re.compile(r"&#?\w+;|\\[^\w\s]|.", re.S)
SPECIAL = re.compile("[&\\\\" + DASHES + SPACES + INVISIBLE + "]")

IDENTITY = re.compile(r"(?<![\d-])(\d{2})?(\d{2}) ?(\d{2}) ?(\d{2}) ?([-+])? ?(\d{4})(?![\d-])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+")
# 0 or +46 (optionally "(0)"), then 7–9 more digits with single spaces or hyphens between them
PHONE = re.compile(r"(?<![\w+./,-])(\+46[ -]?(?:\(0\)[ -]?)?|\(?0)(\d(?:\)? ?|[ -]?)(?:\d[ -]?){5,7}\d)(?![\w-])")


@dataclass
class Allowed:
    """The values the allow-list names, as written and in canonical form (digits, lower case)."""
    texts: set[str] = field(default_factory=set)
    canonical: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, values) -> "Allowed":
        if isinstance(values, Allowed):
            return values
        texts = {str(v).strip() for v in values}
        canonical = {c for text in texts for c in (_digits(text), _national(text), text.lower()) if c}
        return cls(texts, canonical)

    def __contains__(self, hit: tuple[str, str]) -> bool:
        text, canonical = hit
        return text.strip() in self.texts or canonical in self.canonical


def normalise(text: str) -> tuple[str, list[int]]:
    """The text with look-alike dashes and spaces made plain, invisible characters, Markdown escapes
    and HTML entities resolved; and for each character of it, its column in the original."""
    if not SPECIAL.search(text):  # the common case, kept fast: nothing to make plain
        return text, list(range(len(text)))
    plain, origin = [], []
    for token in TOKEN.finditer(text):
        value = token.group(0)
        if len(value) > 1 and value[0] == "&":
            value = html.unescape(value)
        elif len(value) == 2 and value[0] == "\\":
            value = value[1]
        for char in value:
            char = "-" if char in DASHES else " " if char in SPACES else "" if char in INVISIBLE else char
            if char:
                plain.append(char)
                origin.append(token.start())
    return "".join(plain), origin


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def is_identity_number(match: re.Match) -> bool:
    """Personnummer (day 01–31) or samordningsnummer (day + 60), with a valid date and check digit."""
    century, year, month, day, _, last = match.groups()
    day_number = int(day) - 60 if int(day) > 60 else int(day)
    try:
        dt.date(int(century) * 100 + int(year) if century else 2000 + int(year), int(month), day_number)
    except ValueError:
        return False
    return luhn_ok(year + month + day + last)


def _digits(text: str) -> str:
    """An identity number's canonical form: its last ten digits."""
    digits = re.sub(r"\D", "", text)
    return digits[-10:] if len(digits) in (10, 12) else ""


def _national(text: str) -> str:
    """A phone number's canonical form: the digits after 0 or +46."""
    digits = re.sub(r"\D", "", text.replace("(0)", ""))
    if text.strip().startswith("+46"):
        return "tel:" + digits[2:]
    return "tel:" + digits[1:] if digits.startswith("0") and 8 <= len(digits) <= 10 else ""


def find(line: str) -> list[tuple[int, str, str, str]]:
    """(column, kind, text, canonical) for each likely personal datum in one line."""
    if not re.search(r"[\d@]", line):
        return []
    plain, origin = normalise(line)
    found, identities = [], []
    for match in IDENTITY.finditer(plain):
        if is_identity_number(match):
            identities.append(match.span())
            found.append((origin[match.start()] + 1, "identity", match.group(0).strip(), _digits(match.group(0))))
    for match in EMAIL.finditer(plain):
        found.append((origin[match.start()] + 1, "email", match.group(0), match.group(0).lower()))
    for match in PHONE.finditer(plain):
        overlaps = any(start < match.end() and match.start() < end for start, end in identities)
        if not overlaps and _national(match.group(0)):
            found.append((origin[match.start()] + 1, "phone", match.group(0).strip(), _national(match.group(0))))
    return found


def describe(kind: str, text: str) -> str:
    if kind == "identity":  # the number itself is not repeated into logs
        return _("privacy.identity")
    return _("privacy.email" if kind == "email" else "privacy.phone", text=text)


def scan_text(text: str, allowed=frozenset()) -> list[tuple[int, int, str]]:
    """(line, column, what) for every likely personal datum in the text."""
    allowed = Allowed.of(allowed)
    return [(number, column, describe(kind, found))
            for number, line in enumerate(text.splitlines(), 1) if MARKER not in line
            for column, kind, found, canonical in find(line) if (found, canonical) not in allowed]


def scan_project(root: Path) -> list[Problem]:
    """Warnings for personal data anywhere it could reach an output, at its source's file:line."""
    return _scan(root.resolve())[0]


def _scan(root: Path) -> tuple[list[Problem], list[Path]]:
    """The problems, and the files scanned."""
    problems: list[Problem] = []
    allowed = _allowed(root, problems)
    expanded = _expanded_lines(root)
    seen: set[str] = set()  # canonical values met in a source, reported or allowed
    files = _source_files(root, expanded)
    file_lines: dict[Path, list[str]] = {}
    for path in files:
        text = path.read_text("utf-8", errors="replace")
        file_lines[path] = text.splitlines()
        for number, column, kind, found, canonical, marked in _line_hits(text):
            seen.add(canonical)
            if not marked and (found, canonical) not in allowed:
                problems.append(_problem(relative(path, root), number, column, describe(kind, found)))
    for path in files:  # a YAML value folded over several lines
        if path.suffix in (".yaml", ".yml"):
            for line, column, kind, text, canonical in _folded_values_once(path, root):
                if canonical not in seen and (text, canonical) not in allowed:
                    seen.add(canonical)
                    problems.append(_problem(relative(path, root), line, column, describe(kind, text)))
    for source in expanded:  # the last net: what only the expansion puts together
        own = file_lines.get(source.path, ())
        if 0 < source.line <= len(own) and own[source.line - 1] == source.text:
            continue  # the line as its file has it: scanned above, every value it holds is in `seen`
        for column, kind, text, canonical in find(source.text):
            if canonical not in seen and (text, canonical) not in allowed and not _marked(source):
                seen.add(canonical)
                problems.append(_problem(relative(source.path, root), source.line, None,
                                         _("privacy.after_expansion", what=describe(kind, text))))
    return problems, files


_LINE_HITS: dict[str, list] = {}  # a file's content hash -> what the line scan found in it


def _line_hits(text: str) -> list:
    """(line, column, kind, text, canonical, marked) for every find in a file's lines, remembered
    by the content: a chapter edit rescans that chapter only (the cache keeps them between runs)."""
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if key not in _LINE_HITS:
        if len(_LINE_HITS) > 1000:  # a long session: forget old versions
            _LINE_HITS.clear()
        _LINE_HITS[key] = [(number, column, kind, found, canonical, MARKER in line)
                           for number, line in enumerate(text.splitlines(), 1)
                           for column, kind, found, canonical in find(line)]
    return _LINE_HITS[key]


def scan_project_cached(root: Path, cache=None) -> list[Problem]:
    """`scan_project`, reused while every file it could scan and this code keep their content.

    The key holds the data, chapters and book files by content; the entry also holds the files
    the chapters include from elsewhere (found only while scanning), so an edit there rescans."""
    if cache is None:
        return scan_project(root)
    from dataclasses import asdict

    from underlag.engine.cache import digest, file_hash, package_digest
    from underlag.engine.messages import language

    root = root.resolve()
    candidates = sorted({path for folder in ("data", "chapters") for path in (root / folder).rglob("*")}
                        | {path for pattern in BOOK_FILES for path in root.glob(pattern)})
    key = digest("privacy", [(relative(p, root), file_hash(p)) for p in candidates if p.is_file()], package_digest(),
                 language())  # the stored warnings are text in the language of the run that stored them
    stored = cache.lookup("stage:privacy", key)
    if stored is not None:
        return [Problem(**problem) for problem in stored]
    # the files' line scans of the last run, by content: only a changed file is scanned again
    lines_key = digest("privacy-lines", package_digest())  # what `find` finds changes with our code only
    remembered = cache.lookup("stage:privacy-files", lines_key)
    remembered = remembered if isinstance(remembered, dict) else {}
    for found, stored, size in ((_LINE_HITS, remembered.get("lines"), 6), (_FOLDED, remembered.get("folded"), 5)):
        for content, hits in stored.items() if isinstance(stored, dict) else ():
            if isinstance(hits, list) and all(isinstance(hit, list) and len(hit) == size for hit in hits):
                found.setdefault(content, [tuple(hit) for hit in hits])  # a damaged entry is scanned again
    problems, scanned = _scan(root)
    outside = sorted(set(scanned) - set(candidates))
    cache.store("stage:privacy", key, [], [asdict(problem) for problem in problems], inputs=outside)
    used = {hashlib.sha256(data).hexdigest() for path in scanned if path.is_file()  # the line scan reads text
            for data in (path.read_bytes(), path.read_text("utf-8", errors="replace").encode("utf-8"))}
    cache.store("stage:privacy-files", lines_key, [], {
        "lines": {content: hits for content, hits in _LINE_HITS.items() if content in used},
        "folded": {content: hits for content, hits in _FOLDED.items() if content in used}})
    return problems


_FOLDED: dict[str, list] = {}  # a YAML file's content hash -> what _folded_values found (the cache keeps them)


def _folded_values_once(path: Path, root: Path) -> list:
    """`_folded_values`, remembered by the file's content: composing every YAML file again is most
    of a scan, and the preview scans at each save while the data files rarely change."""
    try:
        key = hashlib.sha256(path.read_bytes()).hexdigest()  # the finds depend on the content alone
    except OSError:
        return []
    if key not in _FOLDED:
        if len(_FOLDED) > 1000:  # a long session: forget old versions
            _FOLDED.clear()
        _FOLDED[key] = list(_folded_values(path, root))
    return _FOLDED[key]


def _folded_values(path: Path, root: Path):
    """(line, column, kind, text, canonical) found in YAML string values that span lines, at the
    value's first line (a value on one line is the line scan's)."""
    from underlag.engine.guarded_yaml import read_yaml

    try:
        data, positions = read_yaml(path, root)
    except (InputError, OSError):
        return  # the loader reports a broken file
    lines = path.read_text("utf-8", errors="replace").splitlines()

    def walk(value, loc):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, (*loc, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, (*loc, index))
        elif isinstance(value, str):
            line, column = positions.get(loc, (1, 1))
            source = lines[line - 1] if 0 < line <= len(lines) else ""
            if value.strip() and value.strip() not in source and MARKER not in source:
                for _, kind, text, canonical in find(" ".join(value.split())):
                    yield line, column, kind, text, canonical

    yield from walk(data, ())


def _problem(path: str, line: int, column: int | None, what: str) -> Problem:
    return Problem(path, line, column, _("privacy.found", what=what, allow_file=ALLOW_FILE, marker=MARKER),
                   "warning")


def _source_files(root: Path, expanded: list) -> list[Path]:
    """Data, the book's YAML, chapters, and every file the chapters include (wherever it lies);
    not the writers' guides (README.md), which no output holds unless a chapter includes one."""
    files = {path for folder, patterns in SCANNED for pattern in patterns for path in (root / folder).rglob(pattern)
             if "_generated" not in path.parts and "schemas" not in path.parts and path.name != "README.md"}
    files |= {path for pattern in BOOK_FILES for path in root.glob(pattern)}
    files |= {path for path in _metadata_files(root)}
    files |= {line.path for line in expanded if "_generated" not in line.path.parts}
    files.discard(root / ALLOW_FILE)
    return sorted(path for path in files if path.is_file() and path.resolve().is_relative_to(root))


def _metadata_files(root: Path) -> list[Path]:
    from underlag.engine.guarded_yaml import read_yaml

    try:
        config, _ = read_yaml(root / "_quarto.yml", root)
    except (InputError, OSError):
        return []
    names = config.get("metadata-files") if isinstance(config, dict) else None
    return [root / str(name) for name in names] if isinstance(names, list) else []


def _expanded_lines(root: Path) -> list:
    """The chapters of the book and of each profile with includes, variables and metadata expanded
    (problems in them are the assembler's to report; here they only mean less to scan)."""
    from underlag.engine.assemble import _Assembler
    from underlag.engine.book import read_book

    books = []
    for profile in [None, *(p.name[len("_quarto-"):-len(".yml")] for p in sorted(root.glob("_quarto-*.yml")))]:
        try:
            books.append(read_book(root, profile))
        except (InputError, OSError):
            continue
    lines = []
    for book in books:
        assembler = _Assembler(book)
        for chapter in book.chapters:
            if chapter.path.is_file():
                lines += assembler.chapter(chapter)
    return lines


def _marked(source) -> bool:
    try:
        return MARKER in source.path.read_text("utf-8", errors="replace").splitlines()[source.line - 1]
    except (OSError, IndexError):
        return False


def _allowed(root: Path, problems: list[Problem]) -> Allowed:
    """The allow-list: `allowed:` holding values, or `value:`/`reason:` pairs (a reason is required)."""
    from underlag.engine.guarded_yaml import read_yaml

    path = root / ALLOW_FILE
    if not path.is_file():
        return Allowed()
    try:
        data, positions = read_yaml(path, root)
    except InputError as exc:
        problems += exc.problems
        return Allowed()
    entries = data.get("allowed") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        problems.append(Problem(ALLOW_FILE, 1, 1, _("privacy.allow_not_list")))
        return Allowed()
    values = []
    for index, entry in enumerate(entries):
        line, column = positions.get(("allowed", index), (None, None))
        if isinstance(entry, dict):
            if not str(entry.get("value") or "").strip() or not str(entry.get("reason") or "").strip():
                problems.append(Problem(ALLOW_FILE, line, column, _("privacy.allow_incomplete")))
                continue
            values.append(entry["value"])
        elif isinstance(entry, (str, int)):
            values.append(entry)
        else:
            problems.append(Problem(ALLOW_FILE, line, column, _("privacy.allow_shape")))
    return Allowed.of(values)
