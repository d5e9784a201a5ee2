"""Personal-data guard: the report's sources include incident reports, which can hold patient data.

Scans data/ and chapters/ for Swedish personal identity numbers and coordination numbers
(checked with the Luhn algorithm, with or without century and separator), e-mail addresses
and phone numbers. A hit is a warning in `build` and stops `publish`. A false positive is
marked by putting the exact text in `data/tillatna-uppgifter.yaml` (allowed: [...]) or by
ending its line with the comment `pii-ok` (`<!-- pii-ok -->` in a chapter, `# pii-ok` in YAML).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .errors import Problem, relative

ALLOW_FILE = "data/tillatna-uppgifter.yaml"
MARKER = "pii-ok"
SCANNED = (("data", ("*.yaml", "*.csv")), ("chapters", ("*.qmd", "*.md")))

IDENTITY = re.compile(r"(?<![\d-])(\d{2})?(\d{2})(\d{2})(\d{2})\s?([-+])?\s?(\d{4})(?![\d-])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(\+46\s?|0)(\d{1,3})[\s-]?\d{2,3}[\s-]?\d{2}[\s-]?\d{2}(?![\d-])")


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
        dt.date(int(century or "19") * 100 + int(year) if century else 2000 + int(year), int(month), day_number)
    except ValueError:
        return False
    return luhn_ok(year + month + day + last)


def scan_text(text: str, allowed: set[str]) -> list[tuple[int, int, str]]:
    """(line, column, what) for every likely personal datum in the text."""
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        if MARKER in line:
            continue
        for match in IDENTITY.finditer(line):
            if match.group(0).strip() not in allowed and is_identity_number(match):
                hits.append((number, match.start() + 1, "what looks like a personal identity or coordination "
                                                        "number"))
        for match in EMAIL.finditer(line):
            if match.group(0) not in allowed:
                hits.append((number, match.start() + 1, f"an e-mail address ({match.group(0)})"))
        for match in PHONE.finditer(line):
            if match.group(0).strip() not in allowed and not IDENTITY.fullmatch(match.group(0).strip()):
                hits.append((number, match.start() + 1, f"a phone number ({match.group(0).strip()})"))
    return hits


def scan_project(root: Path) -> list[Problem]:
    allowed = _allowed(root)
    problems = []
    for folder, patterns in SCANNED:
        for pattern in patterns:
            for path in sorted((root / folder).rglob(pattern)):
                if "_generated" in path.parts or "schemas" in path.parts:
                    continue
                for line, column, what in scan_text(path.read_text("utf-8", errors="replace"), allowed):
                    problems.append(Problem(relative(path, root), line, column,
                                            f"{what}: personal data must not be in the report; remove it, or if it "
                                            f"is not personal data add it to {ALLOW_FILE} or end the line with "
                                            f"'{MARKER}'", "warning"))
    return problems


def _allowed(root: Path) -> set[str]:
    """The allow-list, read with the guarded loader; a wrong shape is a located error (InputError)."""
    from .errors import InputError
    from .guarded_yaml import read_yaml

    path = root / ALLOW_FILE
    if not path.is_file() and not path.is_symlink():
        return set()
    data, _ = read_yaml(path, root, allow_empty=True)
    if data is not None and not (isinstance(data, dict) and isinstance(data.get("allowed", []), list)):
        raise InputError([Problem(ALLOW_FILE, 1, 1, "filen ska ha en lista under 'allowed:'; skriv allowed: och "
                                                    "under den en rad '- uppgift' för varje tillåten uppgift")])
    return {str(item) for item in (data or {}).get("allowed") or []}
