"""The PDF as a typesetter would check it: read page by page from the real build.

Typst marks a line-end hyphenation with a soft hyphen or "-" at the end of an extracted line,
so a broken word shows up as "ope\u00ad\\nnEHR" in the text of one page.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy
import pytest
from PIL import Image

TEMPLATE = Path(__file__).parents[1] / "scripts/underlag/templates/typst/report.typ"
# The template's own list of words never to hyphenate (one list, read from where Typst reads it).
UNBROKEN_WORDS = set(re.findall(r'"([^"]+)"', re.search(r"#let unbroken-words = \((.*?)\)", TEMPLATE.read_text(
    encoding="utf-8"), re.S).group(1)))

# A line-end break inside a word: the part before, the hyphen, the part after.
LINE_END_BREAK = re.compile(r"(\w[\w()]*)[\u00ad-]\n(\w+)")
# Typst's outline leader: a run of spaced dots before a page number.
CONTENTS_LEADER = re.compile(r"(?:\. ){5,}\.?\s*\d+\s*$", re.MULTILINE)
CAPTION = re.compile(r"^(Tabell|Figur)[ \xa0][A-Z0-9]+\.\d+: ")
# The text area of the template's A4 page (report.typ: top margin 2.6 cm, bottom 2.4 cm).
PAGE_HEIGHT_CM, TOP_CM, BOTTOM_CM = 29.7, 2.6, 2.4
# A page that is not the end of a part is at least half full: a fifth (the floor) still
# reads as a mistake on paper, and a chapter only moves on when less than a quarter is left.
LEAST_FILL = 0.5
# A chapter heading needs a quarter of the text area below it (report.typ's chapter-start).
CHAPTER_ROOM = 0.25


def pages(path: Path) -> list[list[str]]:
    """Each page's non-empty lines, without the running header and footer."""
    from pypdf import PdfReader

    result = []
    for page in PdfReader(path).pages:
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        result.append([line for line in lines if not line.startswith("Version ")
                       and not line.startswith("Handlingsalternativ vårdinformationssystem")])
    return result


def filled_share(path: Path, tmp_path: Path) -> list[float]:
    """How far down each page's text area the lowest ink reaches (0 = empty, 1 = full), read
    from the rendered page: text, tables and drawn figures alike. The watermark is paler than
    the threshold, the running header and footer lie outside the text area."""
    subprocess.run(["pdftoppm", "-r", "30", "-gray", "-png", str(path), str(tmp_path / "page")], check=True)
    shares = []
    for image in sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1])):
        ink = numpy.asarray(Image.open(image).convert("L")) < 200
        top = round(ink.shape[0] * TOP_CM / PAGE_HEIGHT_CM)
        bottom = round(ink.shape[0] * (PAGE_HEIGHT_CM - BOTTOM_CM) / PAGE_HEIGHT_CM)
        rows = numpy.nonzero(ink[top:bottom].any(axis=1))[0]
        shares.append(float(rows[-1] + 1) / (bottom - top) if len(rows) else 0.0)
    return shares


def chapters(path: Path) -> list[tuple[str, int, float]]:
    """Each chapter from the PDF's bookmarks: title, page number (from 1) and how far down the
    text area its heading starts."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    result = []
    for entry in reader.outline:
        if isinstance(entry, list):  # the sections of the chapter before
            continue
        number = reader.get_destination_page_number(entry)
        from_top_cm = (float(reader.pages[number].mediabox.height) - float(entry.top)) / 72 * 2.54
        result.append((entry.title, number + 1, (from_top_cm - TOP_CM) / (PAGE_HEIGHT_CM - TOP_CM - BOTTOM_CM)))
    return result


def opens_part(title: str) -> bool:
    """The first chapter, the first appendix and an unnumbered part heading start a new page."""
    return re.match(r"(1|A)\s", title) is not None or re.match(r"([0-9]+|[A-Z])\s", title) is None


def hyphenated_words(path: Path) -> list[str]:
    """Every word split by a line-end hyphen, written back with the break shown as "-"."""
    text = "\n".join("\n".join(lines) for lines in pages(path))
    return [f"{before}-{after}" for before, after in LINE_END_BREAK.findall(text)]


def is_protected(word: str) -> bool:
    """Names with an inner capital (openEHR), product names and the status mark are never
    broken: a reader takes "ope-nEHR" or "preli-minär" for another word."""
    joined = word.replace("-", "").strip("()")
    if re.search(r"[a-zåäö][A-ZÅÄÖ]", joined):
        return True
    if joined.lower().startswith("preliminär"):
        return True
    return joined in UNBROKEN_WORDS | {"Förutsättningar"}


@pytest.fixture(scope="module")
def pdf(report) -> Path:
    return report["pdf"]


def test_names_product_names_and_status_marks_are_not_hyphenated(pdf):
    broken = [word for word in hyphenated_words(pdf) if is_protected(word)]
    assert broken == []


def test_cross_references_stay_on_one_line(pdf):
    text = "\n".join("\n".join(lines) for lines in pages(pdf))
    # "avsnitt 6.1" broken at the space or hyphenated inside the word
    split = re.findall(r"\b(?:avsnitt|tabell|figur)\n\d|\bav[\u00ad-]\nsnitt\b|\bta[\u00ad-]\nbell\b", text, re.I)
    assert split == []


def test_contents_fit_on_one_page(pdf):
    leader_pages = [number for number, lines in enumerate(pages(pdf), 1)
                    if CONTENTS_LEADER.search("\n".join(lines))]
    assert len(leader_pages) == 1, f"innehållsförteckningen ligger på sidorna {leader_pages}"


@pytest.fixture(scope="module")
def fill(pdf, tmp_path_factory) -> list[float]:
    return filled_share(pdf, tmp_path_factory.mktemp("pages"))


def test_no_near_empty_page_except_where_a_part_ends(pdf, fill):
    """Chapters follow each other on the page: only the page before a new part (the first chapter
    after the contents, the appendices) and the last page may end early; the cover is drawn full."""
    part_ends = {page - 1 for title, page, _ in chapters(pdf) if opens_part(title)} | {len(fill)}
    short = [(number, round(share, 2)) for number, share in enumerate(fill, 1)
             if share < LEAST_FILL and number not in part_ends]
    assert short == [], f"sidor under {LEAST_FILL:.0%} fyllda: {short}"


def test_a_chapter_starts_with_room_below_it(pdf):
    """A chapter heading in the last quarter of a page would leave its text on the next page."""
    late = [(title, page, round(depth, 2)) for title, page, depth in chapters(pdf) if depth > 1 - CHAPTER_ROOM]
    assert late == []
    assert len(chapters(pdf)) >= 15


def test_no_caption_is_the_last_line_of_a_page(pdf):
    """A table's caption stands above it: alone at a page foot, its table is on the next page."""
    alone = [(number, lines[-1]) for number, lines in enumerate(pages(pdf), 1)
             if lines and CAPTION.match(lines[-1]) and lines[-1].startswith("Tabell")]
    assert alone == []


@pytest.mark.parametrize("caption, first_row, last_row", [
    (r"Tabell\s7\.\d+: Utrullningsalternativ", "Omfattning", "Förutsättning"),
    (r"Tabell\s8\.\d+: SWOT", "Styrkor (S)", "Hot (T)"),
])
def test_short_tables_are_never_split(pdf, caption, first_row, last_row):
    """The rollout and SWOT tables fit on a page: their first and last rows share its page."""
    pattern = re.compile(caption)
    found = 0
    for number, lines in enumerate(pages(pdf), 1):
        for index, line in enumerate(lines):
            if pattern.match(line):
                found += 1
                rest = lines[index + 1:]
                assert any(r.startswith(first_row) for r in rest), f"sidan {number}: {line}"
                assert any(r.startswith(last_row) for r in rest), f"sidan {number}: {line} delas"
    assert found >= 4
