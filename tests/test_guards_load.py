"""The loaders' error paths in-process: every way a data file can be unreadable, and the exact
place and wording of the problem a writer gets.

Fast (one small file each) so that mutation testing (tests/mutation/run.py) can run them per
mutant; the bad-input corpus holds the same paths through the `build` command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from underlag.report import model
from underlag.engine.errors import InputError
from underlag.engine.guarded_yaml import MAX_FILE_BYTES, read_text, read_yaml
from underlag.engine.messages import text
from underlag.report.load import _csv_value, _load_yaml_file, load_csv

# U+0007 has no Unicode name: the message names it a control character (in the tests' language, read at import)
CONTROL_CHARACTER = text("yaml.forbidden_character", code="0007", name=text("yaml.control_character_name"))
HEADER = "alternative;criterion;score;low;high;rationale;sources;status"


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def refused(call, *args) -> list[str]:
    with pytest.raises(InputError) as error:
        call(*args)
    return [str(p) for p in error.value.problems]


def yaml_problems(root: Path, text: str | bytes) -> list[str]:
    return refused(read_yaml, write(root, "f.yaml", text), root)


# --- reading the file ---------------------------------------------------------------------------


def test_a_missing_file(tmp_path):
    assert refused(read_text, tmp_path / "data" / "mal.yaml", tmp_path) == [
        "data/mal.yaml: file is missing; create it or restore it from git"]


def test_a_file_too_big_to_be_hand_written(tmp_path):
    path = write(tmp_path, "f.yaml", b"# " + b"x" * (MAX_FILE_BYTES - 3) + b"\na: 1\n")
    assert refused(read_text, path, tmp_path) == [
        "data/f.yaml:1: file is 1.0 MB; data files are small hand-written text (under 1 MB): is it the right file?"]
    path.write_bytes(b"a: 1\n" + b"#" * (MAX_FILE_BYTES - 5))  # exactly the limit: read
    assert read_text(path, tmp_path).startswith("a: 1\n")


def test_the_size_is_shown_in_megabytes(tmp_path):
    path = write(tmp_path, "f.csv", b"a\n" + b"x" * (1_050_000 - 2))
    assert refused(read_text, path, tmp_path)[0].startswith("data/f.csv:1: file is 1.1 MB;")


def test_a_file_not_in_utf8_names_the_line(tmp_path):
    path = write(tmp_path, "f.yaml", "a: 1\nb: 2\nc: Å\n".encode("latin-1"))
    assert refused(read_text, path, tmp_path) == ["data/f.yaml:3: file is not UTF-8 text; save it as UTF-8"]


@pytest.mark.parametrize("text", ["", "  \n\n", "# bara en kommentar\n   # och en till\n\n"])
def test_an_empty_file(tmp_path, text):
    assert refused(read_text, write(tmp_path, "f.yaml", text), tmp_path) == [
        "data/f.yaml:1:1: file is empty; fill in the fields it needs"]


def test_a_file_with_a_comment_and_a_value_is_not_empty(tmp_path):
    assert read_text(write(tmp_path, "f.yaml", "# kommentar\na: 1\n"), tmp_path) == "# kommentar\na: 1\n"


# --- YAML -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", [
    ("a: 1\nb: c\x07d\n", "data/f.yaml:2:5: " + CONTROL_CHARACTER),
    ("a:\n\tb: 1\n", "data/f.yaml:2:1: YAML syntax error: a tab is used for indentation; indent with spaces"),
    ("a: 1\nb: 'abc\nc: 1\n", "data/f.yaml:2:4: YAML syntax error: the quoted text that starts here is never closed; "
                              "add the closing quote"),
    ("a: b: c\n", "data/f.yaml:1:5: YAML syntax error: mapping values are not allowed here; check the indentation of "
                  "this line and the line above"),
    ("a:\n  - b\n - c\n", "data/f.yaml:3:2: YAML syntax error: expected <block end>, but found "
                          "'<block sequence start>'; check the indentation of this line and the line above"),
    ("a: *x\n", "data/f.yaml:1:4: YAML syntax error: found undefined alias 'x'"),
    ("a: &a [1, *a]\n", "data/f.yaml:1:4: an alias refers to itself; remove the recursive '*' alias"),
    ("a: 1\nd: 2025-02-30\n", "data/f.yaml:2:4: invalid value '2025-02-30' (day is out of range for month); "
                              "write dates as YYYY-MM-DD"),
    ("? [a, b]\n: 1\n", "data/f.yaml:1:3: a key must be a plain name, not a list or mapping"),
    ("a: 1\nb: 2\na: 3\n", "data/f.yaml:3:1: key 'a' appears twice here; keep one"),
    ("a: [" * 3000 + "\n", "data/f.yaml:1:121: the file is nested too deeply (more than 60 levels); data files "
                            "need only a few levels of indentation"),
], ids=["control-character", "tab", "unclosed-quote", "mapping-value", "block-end", "undefined-alias",
        "recursive-alias", "invalid-date", "list-as-key", "duplicate-key", "deep-nesting"])
def test_yaml_errors_name_their_place(tmp_path, text, problem):
    assert yaml_problems(tmp_path, text) == [problem]


def test_a_control_character_far_into_the_file_is_placed_on_its_line(tmp_path):
    text = "a: 1\n" + "".join(f"k{i}: {'x' * 60}\n" for i in range(200)) + "z: \x07\n"
    assert yaml_problems(tmp_path, text) == [
        "data/f.yaml:202:4: " + CONTROL_CHARACTER]


def test_an_alias_bomb_is_stopped(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(6))
    problems = yaml_problems(tmp_path, bomb)
    assert len(problems) == 1 and problems[0].endswith(
        "too many values (are aliases repeating each other?); simplify the file")


def test_positions_point_at_keys_and_items(tmp_path):
    value, positions = read_yaml(write(tmp_path, "f.yaml", "# c\ngoals:\n  - text: A\n    status: x\n"), tmp_path)
    assert value == {"goals": [{"text": "A", "status": "x"}]}
    assert positions[()] == (2, 1) and positions[("goals",)] == (2, 1)
    assert positions[("goals", 0)] == (3, 5) and positions[("goals", 0, "status")] == (4, 5)
    assert positions[("goals", 0, "<key>")] == (4, 5)


# --- from values to model errors ----------------------------------------------------------------------


def model_problems(root: Path, text: str, file_model) -> list[str]:
    problems: list = []
    assert _load_yaml_file(write(root, "f.yaml", text), file_model, root, problems) is None
    return [str(p) for p in problems]


def test_a_typo_is_reported_once_as_the_typo(tmp_path):
    text = "- id: a\n  name: A\n  involvment: {text: x, source: s}\n"
    problems: list = []
    from underlag.report.load import StakeholderList

    _load_yaml_file(write(tmp_path, "f.yaml", "stakeholders:\n" + "".join("  " + line + "\n"
                                                                          for line in text.splitlines())),
                    StakeholderList, tmp_path, problems)
    assert [str(p) for p in problems] == ["data/f.yaml:4:5: unknown field 'involvment'; did you mean 'involvement'?"]


def test_a_typo_is_matched_first_against_the_fields_missing_right_there(tmp_path):
    # 'short' is as close to 'swot' as to 'short_title' by spelling: the missing required field wins
    from conftest import PROJECT

    text = (PROJECT / "data" / "rapport.yaml").read_text("utf-8")
    assert "\nshort_title:" in text
    assert model_problems(tmp_path, text.replace("\nshort_title:", "\nshort:"), model.ReportMeta) == [
        "data/f.yaml:5:1: unknown field 'short'; did you mean 'short_title'?"]


def test_a_typo_in_a_list_item_is_matched_against_that_items_missing_fields(tmp_path):
    # 'prob' is closer to 'period' than to 'probability' by spelling; the item lacks 'probability'
    from underlag.report.load import RiskList

    text = ("risks:\n  - id: r1\n    title: T\n    description: x\n    alternatives: [alt1]\n    prob: 2\n"
            "    consequence: 1\n    mitigation: x\n    owner: x\n    status: preliminär\n")
    assert model_problems(tmp_path, text, RiskList) == [
        "data/f.yaml:6:5: unknown field 'prob'; did you mean 'probability'?"]


def test_a_nested_value_that_is_no_mapping_is_named_at_its_item(tmp_path):
    # the whole-file wording ("the file must hold named fields") is only for the file itself
    assert model_problems(tmp_path, "note: x\nsource: s\nlegend: []\nmilestones:\n  - M1\n", model.Milestones) == [
        "data/f.yaml:5:5: milestones.0: Input should be a valid dictionary (key: value)"]


def test_an_unknown_field_without_a_likely_name(tmp_path):
    assert model_problems(tmp_path, "goals: []\nqqqq: 1\n", model.Goals) == [
        "data/f.yaml:2:1: unknown field 'qqqq'; remove it or check the spelling"]


def test_a_missing_field_names_the_key_to_add(tmp_path):
    assert model_problems(tmp_path, "note: x\nsource: s\nlegend: []\n", model.Milestones) == [
        "data/f.yaml:1:1: milestones: required field is missing; add 'milestones: …'"]


def test_a_file_holding_a_list(tmp_path):
    assert model_problems(tmp_path, "- a\n", model.Goals) == [
        "data/f.yaml:1:1: the file must hold named fields (key: value), not a list or a single value"]


def test_hints_by_field_and_by_type(tmp_path):
    text = ("weights_status: preliminär\nperspectives:\n  - id: a\n    name: A\n    weight: 2\n    criteria:\n"
            "      - {id: K, name: K, weight: 0.5, low: l, high: h}\n")
    assert model_problems(tmp_path, text, model.Criteria) == [
        "data/f.yaml:5:5: perspectives.0.weight: Input should be less than or equal to 1; weights are shares "
        "between 0 and 1",
        "data/f.yaml:7:10: perspectives.0.criteria.0.id: String should match pattern '^[a-z0-9][a-z0-9-]*$'; use "
        "lower-case letters, digits and hyphens, e.g. 'alt5'",
    ]
    assert model_problems(tmp_path, "goals:\n  - text: x\n    status: klar\n", model.Goals) == [
        "data/f.yaml:3:5: goals.0.status: Input should be 'exempel', 'preliminär', 'förslag' or 'fastställd'; write one of these"]


def test_a_rule_across_fields_gets_no_field_hint(tmp_path):
    assert model_problems(tmp_path, "goals:\n  - text: x\n", model.Goals) == [
        "data/f.yaml:2:5: goals.0: a point needs a 'source' (an id in data/kallor.yaml) or a 'status' such as "
        "'preliminär'"]


def test_a_loaded_record_knows_its_file_and_line(tmp_path):
    path = write(tmp_path, "f.yaml", "# c\ngoals:\n  - text: A\n    source: s\n  - text: B\n    status: preliminär\n")
    problems: list = []
    goals = _load_yaml_file(path, model.Goals, tmp_path, problems)
    assert problems == [] and goals.origin == ("data/f.yaml", 2)
    assert [g.origin for g in goals.goals] == [("data/f.yaml", 3), ("data/f.yaml", 5)]


# --- CSV ------------------------------------------------------------------------------------------------


def csv_problems(root: Path, text: str, row_model=model.Assessment) -> tuple[list, list[str]]:
    problems: list = []
    records = load_csv(write(root, "b.csv", text), row_model, root, problems)
    return records, [str(p) for p in problems]


def test_a_csv_file_that_is_missing_or_empty(tmp_path):
    problems: list = []
    assert load_csv(tmp_path / "data" / "b.csv", model.Assessment, tmp_path, problems) == []
    assert [str(p) for p in problems] == ["data/b.csv: file is missing; create it or restore it from git"]
    assert csv_problems(tmp_path, "\n") == ([], ["data/b.csv:1:1: file is empty; fill in the fields it needs"])


def test_a_comma_separated_header(tmp_path):
    assert csv_problems(tmp_path, HEADER.replace(";", ",") + "\n") == ([], [
        "data/b.csv:1:1: the header has no ';'; separate columns with semicolons (Excel: save as "
        "'CSV (semikolonavgränsad)')"])


def test_unknown_and_missing_columns(tmp_path):
    header = HEADER.replace("alternative", "alternativ").replace(";score", "") + ";xyzzy"
    assert csv_problems(tmp_path, header + "\nalt1;k;2;4;r;;preliminär;1\n") == ([], [
        "data/b.csv:1:1: unknown column 'alternativ'; did you mean 'alternative'?",
        f"data/b.csv:1:8: unknown column 'xyzzy'; the columns are: {HEADER}",
        f"data/b.csv:1: column 'alternative' is missing; the header must be: {HEADER}",
        f"data/b.csv:1: column 'score' is missing; the header must be: {HEADER}",
    ])


def test_an_optional_column_may_be_left_out(tmp_path):
    records, problems = csv_problems(tmp_path, HEADER.replace(";sources", "") + "\nalt1;k;3;2;4;r;preliminär\n")
    assert problems == [] and records[0].sources == []


def test_rows_are_read_with_their_lines_and_blank_rows_skipped(tmp_path):
    text = f"{HEADER}\nalt1;k1;3,5;2;4;r;a, b,,c ;preliminär\n\n;;;;;;;\nalt2;k2; 12 500 ;2;4;r;;fastställd\n"
    records, problems = csv_problems(tmp_path, text)
    assert problems == [f"data/b.csv:5:3: score: Input should be less than or equal to 5; scores run from 1 to 5"]
    assert len(records) == 1 and records[0].score == 3.5 and records[0].sources == ["a", "b", "c"]
    assert records[0].origin == ("data/b.csv", 2)


def test_a_rule_across_a_rows_cells_is_placed_at_the_rows_first_column(tmp_path):
    assert csv_problems(tmp_path, f"{HEADER}\nalt1;k;3;4;2;r;;preliminär\n") == ([], [
        "data/b.csv:2:1: score 3 must lie between low 4 and high 2; widen the range or fix the score"])


def test_an_unknown_column_is_matched_against_this_files_columns_only(tmp_path):
    # 'scor' is the missing 'score' (not the present 'sources'); 'vikt' means weight, which no
    # column of this file is, so the columns are listed instead of suggesting one from another file
    header = HEADER.replace("score", "scor") + ";vikt"
    assert csv_problems(tmp_path, header + "\nalt1;k;3;2;4;r;;preliminär;1\n") == ([], [
        "data/b.csv:1:3: unknown column 'scor'; did you mean 'score'?",
        f"data/b.csv:1:9: unknown column 'vikt'; the columns are: {HEADER}",
        f"data/b.csv:1: column 'score' is missing; the header must be: {HEADER}",
    ])


def test_a_row_with_the_wrong_number_of_cells(tmp_path):
    assert csv_problems(tmp_path, f"{HEADER}\nalt1;k;3\n")[1] == [
        "data/b.csv:2: row has 3 cells but the header has 8; separate cells with ';'"]


def test_an_unreadable_cell_is_reported_once(tmp_path):
    records, problems = csv_problems(tmp_path, f"{HEADER}\nalt1;k;3.5;x;4;r;;preliminär\n")
    assert records == [] and problems == [
        "data/b.csv:2:3: score: '3.5' uses a decimal point; write decimals with a comma, e.g. 3,5",
        "data/b.csv:2:4: low: 'x' is not a number; write e.g. 3 or 3,5",
    ]


def test_a_row_with_one_bad_cell_is_not_loaded(tmp_path):
    # the other cells are valid (the score is optional for pydantic once low/high are...): still no record
    records, problems = csv_problems(tmp_path, f"{HEADER}\nalt1;k;3;2;4;r;;preliminär\nalt1;k;3;2;y;r;;preliminär\n")
    assert len(records) == 1 and problems == ["data/b.csv:3:5: high: 'y' is not a number; write e.g. 3 or 3,5"]


def test_a_file_that_is_not_csv(tmp_path):
    records, problems = csv_problems(tmp_path, f"{HEADER}\nalt1;k;3;2;4;{'x' * 140_000};;preliminär\n")
    assert records == [] and problems == [
        "data/b.csv:2: the file cannot be read as CSV (field larger than field limit (131072)); save it again from "
        "the spreadsheet as CSV"]


@pytest.mark.parametrize("cell, value", [
    ("3", 3.0), ("3,5", 3.5), ("-2", -2.0), ("−2,25", -2.25), ("12 500", 12500.0), ("1\u00a0250 000", 1250000.0),
    ("", None),
])
def test_swedish_numbers(cell, value):
    assert _csv_value(float, cell) == value
    if value is not None:
        assert _csv_value(int, cell) == value


@pytest.mark.parametrize("cell, message", [
    ("3.5", "'3.5' uses a decimal point; write decimals with a comma, e.g. 3,5"),
    ("-3.5", "'-3.5' uses a decimal point; write decimals with a comma, e.g. 3,5"),
    ("3,5,1", "'3,5,1' is not a number; write e.g. 3 or 3,5"),
    ("12 50", "'12 50' is not a number; write e.g. 3 or 3,5"),
    ("tre", "'tre' is not a number; write e.g. 3 or 3,5"),
    ("3.", "'3.' is not a number; write e.g. 3 or 3,5"),
])
def test_what_is_not_a_number(cell, message):
    with pytest.raises(ValueError) as error:
        _csv_value(float, cell)
    assert str(error.value) == message


def test_text_and_list_cells():
    assert _csv_value(str, "3.5") == "3.5"
    assert _csv_value(list[str], " a ,b, ,c") == ["a", "b", "c"]
    assert _csv_value(list[str], "a") == ["a"]


# --- the paths the mutation run found unheld ------------------------------------------------------

CRITERIA = "weights_status: preliminär\nperspectives:\n  - id: a\n    name: A\n    weight: 1\n    criteria:\n      - {}\n"


def test_a_typo_suppresses_only_the_one_field_it_was_meant_to_be(tmp_path):
    # 'hight' is close to both 'high' and 'weight': only 'high' is taken as meant, 'weight' is still missing
    text = CRITERIA.replace("{}", "{id: k, name: K, low: l, hight: h}")
    assert model_problems(tmp_path, text, model.Criteria) == [
        "data/f.yaml:7:34: unknown field 'hight'; did you mean 'high'?",
        "data/f.yaml:7:9: perspectives.0.criteria.0.weight: required field is missing; add 'weight: …'",
    ]


def test_every_error_after_a_skipped_one_is_reported(tmp_path):
    text = CRITERIA.replace("{}", "{id: k, nmae: K, weight: x, low: l, high: h}")
    assert model_problems(tmp_path, text, model.Criteria) == [
        "data/f.yaml:7:17: unknown field 'nmae'; did you mean 'name'?",
        "data/f.yaml:7:26: perspectives.0.criteria.0.weight: Input should be a valid number, unable to parse string "
        "as a number; weights are shares between 0 and 1",
    ]
    text = CRITERIA.replace("    name: A\n    weight: 1\n", "    weight: x\n").replace("{}", "{id: k, name: K, "
                                                                                          "weight: 1, low: l, high: h}")
    assert model_problems(tmp_path, text, model.Criteria) == [
        "data/f.yaml:3:5: perspectives.0.name: required field is missing; add 'name: …'",
        "data/f.yaml:4:5: perspectives.0.weight: Input should be a valid number, unable to parse string as a "
        "number; weights are shares between 0 and 1",
    ]


def test_a_single_column_header_without_commas_is_checked_column_by_column(tmp_path):
    problems = csv_problems(tmp_path, "alternative\n")[1]
    assert len(problems) == 6 and problems[0] == f"data/b.csv:1: column 'criterion' is missing; the header must be: {HEADER}"


def test_rows_after_a_short_row_are_still_read(tmp_path):
    assert csv_problems(tmp_path, f"{HEADER}\nalt1;k;3\nalt1;k;3.5;2;4;r;;preliminär\n")[1] == [
        "data/b.csv:2: row has 3 cells but the header has 8; separate cells with ';'",
        "data/b.csv:3:3: score: '3.5' uses a decimal point; write decimals with a comma, e.g. 3,5",
    ]


def test_an_empty_required_cell_is_reported_beside_an_unreadable_one(tmp_path):
    assert csv_problems(tmp_path, f"{HEADER}\nalt1;k;3.5;2;4;;;preliminär\n")[1] == [
        "data/b.csv:2:3: score: '3.5' uses a decimal point; write decimals with a comma, e.g. 3,5",
        "data/b.csv:2:6: rationale: required field is missing; add 'rationale: …'",
    ]


def test_a_position_is_the_nearest_known_ancestor_or_the_top_of_the_file():
    from underlag.report.load import _position

    positions = {(): (2, 1), ("a",): (3, 1), ("a", 0, "b"): (5, 7)}
    assert _position(("a", 0, "b"), positions) == (5, 7)
    assert _position(("a", 0, "c"), positions) == (3, 1)  # ("a", 0) is unknown: one more step up
    assert _position(("x", 1), positions) == (2, 1)
    assert _position(("x",), {}) == (1, 1)


@pytest.mark.parametrize("lines_before", [0, 2])
def test_a_character_only_yaml_refuses_is_placed_on_its_line(tmp_path, lines_before):
    # U+FFFF is no control character (the text reader lets it through) but YAML's reader refuses it:
    # its error is turned into a problem at the line, in the writer's language
    path = tmp_path / "data.yaml"
    path.write_text("a: 1\n" * lines_before + 'c: "x\uffffy"\n', "utf-8")
    with pytest.raises(InputError) as caught:
        read_yaml(path, tmp_path)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.column) == ("data.yaml", lines_before + 1, None)
    assert "0xffff" in problem.message


def test_a_character_yaml_refuses_in_a_chapters_front_matter_is_placed_on_the_files_line():
    # front matter starts on the chapter's second line (after ---): the place counts from there
    from underlag.engine.guarded_yaml import parse_yaml

    with pytest.raises(InputError) as caught:
        parse_yaml('title: T\nc: "x\uffffy"\n', "chapters/01.qmd", first_line=2)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == ("chapters/01.qmd", 3)


# --- expect: the shape check every reader of a YAML file uses (styles.yaml, _quarto.yml, data) ---

def test_expect_accepts_its_kind_and_an_empty_value():
    from underlag.engine.guarded_yaml import expect

    assert expect({"a": 1}, dict, "f.yaml", {}) == [] and expect(None, list, "f.yaml", {}) == []


@pytest.mark.parametrize("value, kind, loc, what, place, label, found", [
    ([1], dict, ("styles", "Normal"), "", (4, 3), "styles.Normal", ("yaml.kind.list", {})),
    ("x", list, (), "", (1, 1), None, ("yaml.kind.text", {})),  # the whole file: named as such
    ({"a": 1}, str, ("header",), "", (7, 9), "header", ("yaml.kind.mapping", {})),
    (12, dict, ("page", 0), "", (2, 5), "page.0", ("yaml.kind.value", {"value": "12"})),
    ([], dict, ("styles",), "stilarna", (3, 1), "stilarna", ("yaml.kind.list", {})),  # the caller's name
    (True, dict, ("saknas",), "", None, "saknas", ("yaml.kind.value", {"value": "True"})),  # no position: line 1
])
def test_expect_names_the_value_its_place_and_both_kinds(value, kind, loc, what, place, label, found):
    from underlag.engine.errors import Problem
    from underlag.engine.guarded_yaml import KINDS, expect

    positions = {loc: place} if place else {("annat",): (9, 9)}
    line, column = place or (1, 1)
    message = text("yaml.wrong_kind", label=label or text("yaml.the_file"), kind=text(KINDS[kind]),
                   found=text(found[0], **found[1]))
    named = (expect(value, kind, "templates/docx/styles.yaml", positions, loc, what) if what
             else expect(value, kind, "templates/docx/styles.yaml", positions, loc))  # named by its place
    assert named == [Problem("templates/docx/styles.yaml", line, column, message)]
