"""`underlag labels`: the labels a writer can refer to (`@sec-…`, `@fig-…`, `@tbl-…`), where each is
defined (file:line, generated parts included) and its title, read from the book as it is built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from underlag.engine.assemble import LABEL, _Assembler, _outside_code
from underlag.engine.errors import relative
from underlag.engine.messages import text as _

HEADING = re.compile(r"^#{1,6}\s+(?P<title>.*?)\s*\{[^}]*#(?:sec)-")
IMAGE_CAPTION = re.compile(r"!\[(?P<title>(?:[^\[\]]|\[[^\]]*\])*)\]\([^)]*\)\{[^}]*#fig-")
TABLE_CAPTION = re.compile(r"^\s*(?::|Table:)\s+(?P<title>.*?)\s*\{[^}]*#tbl-")


@dataclass(frozen=True)
class Label:
    key: str
    place: str  # file:line
    title: str


def labels(root: Path, profile: str | None = None) -> list[Label]:
    """Every label in the book, in reading order; the data stages run first, so the labels of
    generated figures and tables are there too."""
    from underlag.commands.build import Options, prepare

    book, _warnings = prepare(root, Options(profile=profile))
    assembler = _Assembler(book)
    lines = [line for chapter in book.chapters for line in assembler.chapter(chapter)]
    found = []
    for line in _outside_code(lines):
        for match in LABEL.finditer(line.text):
            found.append(Label(match.group(1), f"{relative(line.path, book.root)}:{line.line}", _title(line.text)))
    return found


def _title(text: str) -> str:
    for pattern in (HEADING, IMAGE_CAPTION, TABLE_CAPTION):
        if match := pattern.search(text):
            return match.group("title").strip()
    return ""


def listing(found: list[Label]) -> str:
    width = max(len("@" + label.key) for label in found)
    place = max(len(label.place) for label in found)
    rows = [f"  @{label.key:<{width - 1}}  {label.place:<{place}}  {label.title}".rstrip() for label in found]
    return "\n".join([_("cli.labels_header"), *rows])
