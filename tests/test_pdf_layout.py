"""The PDF as a typesetter would check it: read page by page from the real build.

Typst marks a line-end hyphenation with a soft hyphen or "-" at the end of an extracted line,
so a broken word shows up as "ope\u00ad\\nnEHR" in the text of one page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# A line-end break inside a word: the part before, the hyphen, the part after.
LINE_END_BREAK = re.compile(r"(\w[\w()]*)[\u00ad-]\n(\w+)")
# Typst's outline leader: a run of spaced dots before a page number.
CONTENTS_LEADER = re.compile(r"(?:\. ){5,}\.?\s*\d+\s*$", re.MULTILINE)
CAPTION = re.compile(r"^(Tabell|Figur)[ \xa0][A-Z0-9]+\.\d+: ")


def pages(path: Path) -> list[list[str]]:
    """Each page's non-empty lines, without the running header and footer."""
    from pypdf import PdfReader

    result = []
    for page in PdfReader(path).pages:
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        result.append([line for line in lines if not line.startswith("Version ")
                       and not line.startswith("Handlingsalternativ vårdinformationssystem")])
    return result


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
    return joined in {"Millennium", "Oracle", "KPMG", "Förutsättningar"}


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
