"""The personal-data guard in-process, case by case: what it finds, where, and what it lets through.

Fast unit tests (milliseconds) so that mutation testing (tests/mutation/run.py) can run them for
every mutant; the build-and-publish test in test_safety.py holds the same guard end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from underlag.engine.messages import text
from underlag.engine.privacy import ALLOW_FILE, MARKER, luhn_ok, scan_text



def identity() -> str:
    """The guard's words for an identity number, from the catalogue (the language the tests run in)."""
    return text("privacy.identity")


def phone(number: str) -> str:
    return text("privacy.phone", text=number)


def email(address: str) -> str:
    return text("privacy.email", text=address)


def luhn_reference(digits: str) -> bool:
    """The Luhn check written the other way round (from the right, every second digit doubled)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        doubled = int(char) * 2 if position % 2 == 1 else int(char)
        total += sum(int(d) for d in str(doubled))
    return total % 10 == 0


@pytest.mark.parametrize("base", ["121212121", "811218987", "701063239", "999999999", "909090909", "000229000",
                                  "555555555"])
def test_luhn_accepts_exactly_the_one_right_check_digit(base):
    valid = [digit for digit in "0123456789" if luhn_ok(base + digit)]
    assert valid == [digit for digit in "0123456789" if luhn_reference(base + digit)]
    assert len(valid) == 1


def with_check_digit(number: str) -> str:
    """The number (YYMMDD-NNN, century optional) completed with its right check digit."""
    digits = number.replace("-", "")[-9:]
    return number + next(d for d in "0123456789" if luhn_reference(digits + d))


def places(text: str, allowed: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    return scan_text(text, set(allowed))


@pytest.mark.parametrize("number", [
    "19121212-1212", "121212-1212", "121212+1212", "19121212 1212", "121212 - 1212", "811218-9876",
    "701063-2391",  # a coordination number: day 03 + 60
    "000229-0005", "20000229-0005",  # 29 February 2000, a leap year
])
def test_identity_and_coordination_numbers_are_found(number):
    assert places(f"Nummer {number} här.") == [(1, 8, identity())]


@pytest.mark.parametrize("number", [
    "19121212-1213",  # wrong check digit
    "19000229-0005",  # 1900 was no leap year
    "010229-0005",  # nor 2001 (a number without century is read as 20xx)
    "701060-2391", "701092-2391",  # day 0 and 32 as coordination numbers
    "121312-1212",  # month 13
    "nr-1212121212", "11912121212125", "1212121212-1",  # part of a longer number
])
def test_other_numbers_are_not_identity_numbers(number):
    # some of these are phone numbers in their own right (010-229 00 05); none is an identity number
    assert identity() not in [what for _, _, what in places(f"Nummer {number} här.")]


@pytest.mark.parametrize("number, found", [
    ("701061-239", True), ("701091-239", True),  # coordination numbers for the 1st and the 31st
    ("701161-239", True), ("701191-239", False),  # November has no 31st
    ("19960229-123", True), ("19970229-123", False), ("20960229-123", True),  # leap years with a century
])
def test_the_date_in_the_number_must_exist(number, found):
    complete = with_check_digit(number)
    assert places(f"Nummer {complete}.") == ([(1, 8, identity())] if found else []), complete


def test_hits_carry_line_and_column_of_each_finding():
    text = "Rad ett.\nRing 031-123 45 67 eller +46 31 123 45 67.\n\nSkriv till anna.andersson@example.se nu."
    assert places(text) == [
        (2, 6, phone("031-123 45 67")),
        (2, 26, phone("+46 31 123 45 67")),
        (4, 12, email("anna.andersson@example.se")),
    ]


def test_an_identity_number_is_not_also_a_phone_number():
    assert places("Nr 0002290005.") == [(1, 4, identity())]


@pytest.mark.parametrize("number", ["0701234567", "070-123 45 67", "0702290005"])
def test_a_phone_number_that_only_looks_like_an_identity_number_is_reported(number):
    # 070123-4567 and 070229-0005 have a real date but a wrong check digit: they are no identity numbers,
    # so nothing may hide the phone number (the old guard skipped every phone number shaped like one)
    assert places(f"Ring {number}.") == [(1, 6, phone(number))]


def test_a_marked_line_is_skipped_and_the_next_is_not():
    text = f"19121212-1212 i ett exempel <!-- {MARKER} -->\n19121212-1212 på riktigt"
    assert places(text) == [(2, 1, identity())]


def test_allowed_texts_are_not_reported():
    text = "19121212-1212, registrator@vgregion.se, 031-123 45 67"
    allowed = frozenset({"19121212-1212", "registrator@vgregion.se", "031-123 45 67"})
    assert places(text, allowed) == []
    assert [what for _, _, what in places(text, allowed - {"031-123 45 67"})] == [phone("031-123 45 67")]
    assert [what for _, _, what in places(text, allowed - {"19121212-1212"})] == [identity()]


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def test_scan_project_reads_data_and_chapters_only(tmp_path, privacy_scan):
    write(tmp_path / "data/a.yaml", "x: 1\nkontakt: 19121212-1212\n")
    write(tmp_path / "data/b.csv", "id;text\n1;anna@example.se\n")
    write(tmp_path / "data/alternativ/c.yaml", "tel: 031-123 45 67\n")
    write(tmp_path / "chapters/d.qmd", "# Rubrik\n\n121212-1212\n")
    write(tmp_path / "chapters/del/e.md", "anna@example.se\n")
    write(tmp_path / "chapters/f.qmd", "Å".encode("latin-1") + b" 121212-1212\n")  # not UTF-8: still read
    for skipped in ("chapters/_generated/g.md", "data/schemas/h.yaml", "data/i.json", "chapters/j.txt",
                    "templates/k.md"):
        write(tmp_path / skipped, "19121212-1212\n")
    problems = privacy_scan(tmp_path)
    assert sorted((p.path, p.line, p.column) for p in problems) == [
        ("chapters/d.qmd", 3, 1), ("chapters/del/e.md", 1, 1), ("chapters/f.qmd", 1, 3),
        ("data/a.yaml", 2, 10), ("data/alternativ/c.yaml", 1, 6), ("data/b.csv", 2, 3),
    ]
    assert all(p.severity == "warning" for p in problems)
    identity = next(p for p in problems if p.path == "data/a.yaml")
    assert identity.message == text("privacy.found", what=text("privacy.identity"), allow_file=ALLOW_FILE, marker=MARKER)


@pytest.mark.parametrize("allow_file, warnings, errors", [
    (None, 2, 0),
    ("", 2, 1),  # a file that is there but says nothing is a mistake, not an empty list
    ("andra: [x]\n", 2, 1),
    ("allowed: [anna@example.se]\n", 1, 0),
    ("allowed: [anna@example.se, 1212121212]\n", 0, 0),  # a YAML number is compared as its text
    ("allowed:\n  - value: anna@example.se\n    reason: Handläggarens adress\n", 1, 0),
    ("allowed:\n  - value: anna@example.se\n", 2, 1),  # a value without a reason allows nothing
    ("allowed:\n  - reason: Handläggarens adress\n", 2, 1),
    ("allowed:\n  - [anna@example.se]\n", 2, 1),
    ("allowed:\n  - value: 1212-121212\n    reason: Testperson\n", 1, 0),  # matched however it is written
])
def test_the_allow_file(tmp_path, allow_file, warnings, errors, privacy_scan):
    write(tmp_path / "chapters/a.qmd", "anna@example.se\n1212121212\n")
    if allow_file is not None:
        write(tmp_path / ALLOW_FILE, allow_file)
    problems = privacy_scan(tmp_path)
    assert len([p for p in problems if p.severity == "warning"]) == warnings
    assert [p.path for p in problems if p.severity != "warning"] == [ALLOW_FILE] * errors
