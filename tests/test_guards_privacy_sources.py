"""The personal-data guard over a whole project, in-process: profiles, folded YAML values, the
allow-list's own errors, canonical forms and the one-report-per-value rule.

Written against the survivors of the mutation run on the merged `privacy` module
(tests/mutation/RESULTS.md): each test names the behaviour a writer relies on, and fails when the
guard reports a value twice, misses a number that only a profile's chapter or a folded YAML value
holds, or lets an allow-list mistake pass without its place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from underlag.engine.messages import text as msg
from underlag.engine.privacy import (
    ALLOW_FILE,
    MARKER,
    _digits,
    _national,
    normalise,
    scan_text,
)


def advised(place: str, what: str) -> str:
    """The guard's line for a found value, from the catalogue (the language the tests run in)."""
    return f"{place}: {msg('problem.warning')}{msg('privacy.found', what=what, allow_file=ALLOW_FILE, marker=MARKER)}"


def expanded(what: str) -> str:
    return msg("privacy.after_expansion", what=what)


def identity() -> str:
    return msg("privacy.identity")


def phone(number: str) -> str:
    return msg("privacy.phone", text=number)


def email(address: str) -> str:
    return msg("privacy.email", text=address)


def book(root: Path, files: dict[str, str]) -> Path:
    """A minimal Quarto book (one chapter) with the given files added or replaced."""
    base = {"_quarto.yml": "project:\n  type: book\nbook:\n  title: T\n  chapters:\n    - index.qmd\n",
            "index.qmd": "# Inledning\n\nText.\n"}
    for name, text in {**base, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@pytest.fixture
def found(privacy_scan):
    """The warnings for a project, as text: from `scan_project` and from the build's cached scan
    (cold, with stored finds, with the stored result: see conftest's `privacy_scan`)."""
    return lambda root: [str(problem) for problem in privacy_scan(root)]


# --- profiles: a chapter only a profile's book holds is scanned with that profile's expansion ---

PUT_TOGETHER = {"_variables.yml": 'a: "19121212"\nb: "1212"\n',
                "kort.qmd": "# Kort\n\nNummer {{< var a >}}-{{< var b >}} här.\n"}
PROFILE = "book:\n  chapters:\n    - index.qmd\n    - kort.qmd\n"


def test_a_number_only_a_profile_chapter_puts_together_is_reported_at_its_line(tmp_path, found):
    book(tmp_path, {**PUT_TOGETHER, "_quarto-kort.yml": PROFILE})
    assert found(tmp_path) == [advised("kort.qmd:3", expanded(identity()))]


def test_a_broken_profile_does_not_hide_the_next_one(tmp_path, found):
    # profiles are read in name order: the broken one comes first and must not end the scan
    book(tmp_path, {**PUT_TOGETHER, "_quarto-a-trasig.yml": "book: [\n", "_quarto-kort.yml": PROFILE})
    assert found(tmp_path) == [advised("kort.qmd:3", expanded(identity()))]


@pytest.mark.parametrize("marked_line", [2, 4])
def test_a_marker_on_a_neighbouring_line_does_not_hide_an_expanded_number(tmp_path, marked_line, found):
    lines = ["# Kort", "", "Nummer {{< var a >}}-{{< var b >}} här.", ""]
    lines[marked_line - 1] += f"<!-- {MARKER} -->"
    book(tmp_path, {**PUT_TOGETHER, "kort.qmd": "\n".join(lines) + "\n", "_quarto-kort.yml": PROFILE})
    assert found(tmp_path) == [advised("kort.qmd:3", expanded(identity()))]


def test_a_marker_on_the_line_hides_an_expanded_number(tmp_path, found):
    chapter = f"# Kort\n\nNummer {{{{< var a >}}}}-{{{{< var b >}}}} här. <!-- {MARKER} -->\n"
    book(tmp_path, {**PUT_TOGETHER, "kort.qmd": chapter, "_quarto-kort.yml": PROFILE})
    assert found(tmp_path) == []


# --- one report per value, at the place a writer fixes it ---

def test_a_number_in_a_chapter_is_reported_once_not_again_by_the_expansion(tmp_path, found):
    book(tmp_path, {"index.qmd": "# Inledning\n\nPatient 19121212-1212.\n"})
    assert found(tmp_path) == [advised("index.qmd:3:9", identity())]


FOLDED = 'kontakt: >-\n  Ring\n  031-123 45 67\n'


def test_a_folded_variable_is_reported_once_at_its_value_not_again_in_the_chapter(tmp_path, found):
    # the phone number stands on its own line (the line scan finds it) and the chapter prints it
    book(tmp_path, {"_variables.yml": FOLDED, "index.qmd": "# Inledning\n\n{{< var kontakt >}}\n"})
    assert found(tmp_path) == [advised("_variables.yml:3:3", phone("031-123 45 67"))]


@pytest.mark.parametrize("name", ["_variables.yml", "data/kontakt.yaml", "_quarto-kort.yml"])
def test_a_value_folded_over_lines_is_reported_at_the_value(tmp_path, name, found):
    # the number is split over two lines: only the folded value holds it whole
    folded = "kontakt: >-\n  Patient 19121212-\n  1212\n" if name != "_quarto-kort.yml" else \
        "book:\n  chapters:\n    - index.qmd\nkontakt: >-\n  Patient 19121212-\n  1212\n"
    book(tmp_path, {name: folded})
    line = 1 if name != "_quarto-kort.yml" else 4
    assert found(tmp_path) == [advised(f"{name}:{line}:1", identity())]  # at the key


def test_a_folded_phone_number_is_named_in_the_warning(tmp_path, found):
    book(tmp_path, {"data/kontakt.yaml": "kontakt: >-\n  Ring 031-123\n  45 67\n"})
    assert found(tmp_path) == [advised("data/kontakt.yaml:1:1", phone("031-123 45 67"))]


def test_a_folded_value_marked_on_its_first_line_is_not_reported(tmp_path, found):
    book(tmp_path, {"data/kontakt.yaml": f"kontakt: >-  # {MARKER}\n  Patient 19121212-\n  1212\n"})
    assert found(tmp_path) == []


def test_an_allowed_folded_value_is_not_reported(tmp_path, found):
    book(tmp_path, {"data/kontakt.yaml": "kontakt: >-\n  Ring 031-123\n  45 67\n",
                    ALLOW_FILE: "allowed:\n  - value: 031-123 45 67\n    reason: växeln\n"})
    assert found(tmp_path) == []


# --- which files are read ---

def test_an_include_outside_chapters_is_scanned_and_a_generated_file_only_by_the_expansion(tmp_path, found):
    book(tmp_path, {"index.qmd": "# Inledning\n\n{{< include delar/kontakt.md >}}\n\n"
                                 "{{< include _generated/tabell.md >}}\n",
                    "delar/kontakt.md": "Ring 031-123 45 67.\n",
                    "_generated/tabell.md": "anna@example.se\n"})
    # the included file is scanned line by line at its own place; the generated one is the build's
    # (its source is in data/), so only the last net names it, without a column
    assert sorted(found(tmp_path)) == [
        advised("_generated/tabell.md:1", expanded(email("anna@example.se"))),
        advised("delar/kontakt.md:1:6", phone("031-123 45 67"))]


def test_a_folder_named_like_a_data_file_is_skipped(tmp_path, found):
    book(tmp_path, {"data/a.yaml": "x: 1\n"})
    (tmp_path / "data" / "mapp.yaml").mkdir()
    assert found(tmp_path) == []


def test_a_book_file_that_is_not_a_mapping_does_not_stop_the_scan(tmp_path, found):
    book(tmp_path, {"_quarto.yml": "- en lista\n- inte en bok\n", "data/a.yaml": "tel: 031-123 45 67\n"})
    assert found(tmp_path) == [advised("data/a.yaml:1:6", phone("031-123 45 67"))]


# --- the allow-list's own mistakes, located, and the entries after a mistake still read ---

def test_an_allow_file_without_a_list_is_named_at_its_start(tmp_path, found):
    book(tmp_path, {ALLOW_FILE: "andra: [x]\n"})
    assert found(tmp_path) == [f"{ALLOW_FILE}:1:1: {msg('privacy.allow_not_list')}"]


def test_an_entry_without_a_reason_is_named_at_its_place_and_later_entries_still_count(tmp_path, found):
    book(tmp_path, {ALLOW_FILE: "allowed:\n  - value: 010-441 00 00\n  - value: 031-123 45 67\n    reason: växeln\n",
                    "data/a.yaml": "tel: 031-123 45 67\n"})
    assert found(tmp_path) == [f"{ALLOW_FILE}:2:5: {msg('privacy.allow_incomplete')}"]


def test_an_entry_of_the_wrong_kind_is_named_at_its_place(tmp_path, found):
    book(tmp_path, {ALLOW_FILE: "allowed:\n  - [031-123 45 67]\n"})
    assert found(tmp_path) == [f"{ALLOW_FILE}:2:5: {msg('privacy.allow_shape')}"]


# --- canonical forms: an allowed value matches however it is written ---

@pytest.mark.parametrize("allowed, written", [
    ("19121212-1212", "121212-1212"),  # with and without century
    ("121212-1212", "19121212-1212"),
    ("+46 (0)31-123 45 67", "031 123 45 67"),
    ("031-123 45 67", "+46 31 123 45 67"),
    ("031-123 45 67", "031 123 45 67"),
    ("Registrator@VGregion.se", "registrator@vgregion.se"),
    ("registrator@vgregion.se", "REGISTRATOR@vgregion.se"),
])
def test_an_allowed_value_matches_however_it_is_written(allowed, written):
    assert scan_text(f"Kontakt: {written}.", {allowed}) == []
    assert len(scan_text(f"Kontakt: {written}.")) == 1


@pytest.mark.parametrize("text, canonical", [
    ("19121212-1212", "1212121212"), ("121212-1212", "1212121212"),
    ("12121-1212", ""), ("191212121212-1", ""), ("1234", ""),
])
def test_identity_canonical_form_is_the_last_ten_digits_of_ten_or_twelve(text, canonical):
    assert _digits(text) == canonical


@pytest.mark.parametrize("text, canonical", [
    ("+46 (0)31-123 45 67", "tel:311234567"), ("+46 70 123 45 67", "tel:701234567"),
    ("031-123 45 67", "tel:311234567"), ("08-123 456", "tel:8123456"), ("0701234567", "tel:701234567"),
    ("0123456", ""),  # too short for a Swedish number
    ("01234567890", ""),  # too long
    ("31-123 45 67", ""),  # no leading 0 or +46
])
def test_phone_canonical_form_is_the_digits_after_0_or_46(text, canonical):
    assert _national(text) == canonical


def test_a_lone_backslash_before_a_letter_is_kept_as_text():
    # the slow path (a dash to make plain) meets a backslash that escapes nothing
    plain, origin = normalise("C:\\nya\u201319")
    assert plain == "C:\\nya-19"
    assert origin == list(range(9))


def test_a_number_only_a_folded_variable_holds_is_reported_once_not_again_in_the_chapter(tmp_path, found):
    # split over two lines, only the folded pass finds it; the chapter that prints it must not
    # give a second warning from the expansion
    book(tmp_path, {"_variables.yml": "kontakt: >-\n  Patient 19121212-\n  1212\n",
                    "index.qmd": "# Inledning\n\n{{< var kontakt >}}\n"})
    assert found(tmp_path) == [advised("_variables.yml:1:1", identity())]


def test_a_number_only_the_expansion_puts_together_twice_is_reported_once(tmp_path, found):
    chapter = "# Kort\n\nNummer {{< var a >}}-{{< var b >}} här.\n\nOch igen {{< var a >}}-{{< var b >}}.\n"
    book(tmp_path, {**PUT_TOGETHER, "kort.qmd": chapter, "_quarto-kort.yml": PROFILE})
    assert found(tmp_path) == [advised("kort.qmd:3", expanded(identity()))]


def test_a_value_folded_over_lines_in_a_list_item_is_reported(tmp_path, found):
    book(tmp_path, {"data/kontakter.yaml": "kontakter:\n  - namn: Anna\n    not: >-\n      Ring 031-123\n      45 67\n"})
    assert found(tmp_path) == [advised("data/kontakter.yaml:3:5", phone("031-123 45 67"))]


# --- how a number may be written so that it looks different but prints the same ---

@pytest.mark.parametrize("written, column", [
    ("19121212&#45;1212", 10),  # an HTML entity for the dash
    ("&#49;9121212-1212", 10),  # an entity for a digit
    ("19121212&ndash;1212", 10),  # a named entity: a look-alike dash
    ("19121212\\-1212", 10),  # a Markdown escape
    ("1912\u00ad1212-1212", 10),  # a soft hyphen inside
    ("19121212\u200b-1212", 10),  # a zero-width space
    ("19121212\u2011" "1212", 10),  # a non-breaking hyphen
])
def test_an_identity_number_written_with_entities_escapes_or_invisible_characters_is_found(written, column):
    assert scan_text(f"Patient: {written}.") == [(1, column, identity())]


@pytest.mark.parametrize("written, shown", [
    ("031\u00a0123\u00a045\u00a067", "031 123 45 67"),
    ("031-123\u202f45\u202f67", "031-123 45 67"),
    ("031&nbsp;123 45 67", "031 123 45 67"),
])
def test_a_phone_number_with_no_break_spaces_is_found_and_shown_with_plain_spaces(written, shown):
    assert scan_text(f"Ring {written}.") == [(1, 6, phone(shown))]


def test_an_ampersand_that_is_no_entity_is_kept_as_text():
    plain, origin = normalise("A & B \u2013 C")
    assert plain == "A & B - C" and origin == list(range(9))
