"""The status gate in-process: a fastställd version may hold nothing preliminary, proposed, example or
missing, a förslag version nothing example or missing, and each such part is named at its file and line.

The publish tests hold the gate through the command line; these call it directly (fast, and
visible to mutation testing, tests/mutation/run.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import copy_project

from underlag.commands.publish import REQUIRED, SETTLED, document_status, status_problems


# the asserts quote the Swedish refusals a writer reads
pytestmark = pytest.mark.usefixtures("swedish_messages")


UNSETTLED_FIELD = re.compile(r"^(\s*(?:- )?(?:status|colour_status|weights_status): )(preliminär|förslag|exempel)\s*$",
                             re.M)


@pytest.fixture(scope="module")
def settled_source(tmp_path_factory) -> Path:
    """The real project with every preliminary or proposed status made fastställd."""
    project = copy_project(tmp_path_factory.mktemp("settled"))
    for path in (project / "data").rglob("*"):
        if path.suffix in (".yaml", ".csv") and "schemas" not in path.parts:
            text = UNSETTLED_FIELD.sub(r"\1fastställd", path.read_text("utf-8"))
            path.write_text(re.sub(r";(preliminär|förslag|exempel)$", ";fastställd", text, flags=re.M), "utf-8")
    return project


@pytest.fixture
def settled(settled_source, tmp_path) -> Path:
    return copy_project_from(settled_source, tmp_path / "p")


def copy_project_from(source: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(source, dest)
    return dest


def replace_line(path: Path, old: str, new: str) -> int:
    """Replace the first line holding `old`; return its 1-based number."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if old in line)
    lines[number] = lines[number].replace(old, new)
    path.write_text("".join(lines), "utf-8")
    return number + 1


def refusal(project: Path, status: str = "fastställd") -> list[str]:
    problems = status_problems(project, status)
    assert problems, "the gate let an unsettled version through"
    return [str(p) for p in problems]


def tail(status: str) -> str:
    allowed = {"fastställd": "fastställd", "förslag": "preliminär, förslag, fastställd"}[status]
    return (f"en version som publiceras som {status} får bara innehålla det som är {allowed}: ändra uppgiften "
            "eller publicera med en lägre status")


def test_a_settled_project_passes(settled):
    assert status_problems(settled, "fastställd") == []


def test_the_ranking_of_statuses():
    # each status is allowed exactly in the versions at or below it; a draft (utkast) holds anything
    assert [name for name in SETTLED if SETTLED[name] >= REQUIRED["fastställd"]] == ["fastställd"]
    assert [name for name in SETTLED if SETTLED[name] >= REQUIRED["förslag"]] == ["preliminär", "förslag",
                                                                                   "fastställd"]
    assert "utkast" not in REQUIRED


@pytest.mark.parametrize("value, refused_in", [
    ("preliminär", ["fastställd"]), ("förslag", ["fastställd"]), ("exempel", ["fastställd", "förslag"]),
])
def test_each_version_status_refuses_what_is_less_settled(settled, value, refused_in):
    replace_line(settled / "data/faser.yaml", "status: fastställd", f"status: {value}")
    for status in ("fastställd", "förslag", "utkast"):
        assert bool(status_problems(settled, status)) == (status in refused_in), status


def test_the_proposal_to_the_board_may_be_a_forslag_in_a_final_version(settled):
    path = settled / "data/beslut.yaml"
    replace_line(path, "status: fastställd", "status: förslag")
    assert status_problems(settled, "fastställd") == []
    replace_line(path, "status: förslag", "status: preliminär")
    assert "förslaget till beslut är preliminär" in refusal(settled)[0]


def test_the_document_status_is_the_books_metadata(settled):
    assert document_status(settled, None) in ("utkast", "förslag", "fastställd", "preliminär")
    report = settled / "data/rapport.yaml"
    text = report.read_text("utf-8")
    assert re.search(r"^status: ", text, re.M), "data/rapport.yaml holds the document status"
    report.write_text(re.sub(r"^status: .*$", "status: fastställd", text, flags=re.M), "utf-8")
    assert document_status(settled, None) == "fastställd"
    report.write_text(re.sub(r"^status: .*$\n", "", text, flags=re.M), "utf-8")
    assert document_status(settled, None) == "utkast"  # no status: a draft


@pytest.mark.parametrize("value", ["preliminär", "förslag"])
def test_an_unsettled_point_is_named_at_its_line(settled, value):
    line = replace_line(settled / "data/faser.yaml", "status: fastställd", f"status: {value}")
    problems = refusal(settled)
    # the point under `purpose:` is placed at that key, two lines above its status
    label = shorten("Vi samlar in erfarenheter från vården i regionen. De blir en del av analysen.")
    assert problems == [f"data/faser.yaml:{line - 2}: '{label}' är {value}; {tail('fastställd')}"]


def test_each_kind_of_status_field_is_checked(settled):
    replace_line(settled / "data/milstolpar.yaml", "colour_status: fastställd", "colour_status: preliminär")
    replace_line(settled / "data/kriterier.yaml", "weights_status: fastställd", "weights_status: förslag")
    replace_line(settled / "data/beslut.yaml", "status: fastställd", "status: preliminär")
    problems = sorted(refusal(settled))
    assert [p.split(":")[0] for p in problems] == ["data/beslut.yaml", "data/kriterier.yaml", "data/milstolpar.yaml"]
    assert "kriteriernas vikter är förslag" in problems[1]  # a record without a text, title or name: described
    assert "förslaget till beslut är preliminär" in problems[0]


def test_the_label_is_the_records_text_title_name_or_id(settled):
    replace_line(settled / "data/risker.yaml", "status: fastställd", "status: preliminär")
    replace_line(settled / "data/milstolpar.yaml", "colour_status: fastställd", "colour_status: preliminär")
    replace_line(settled / "data/bedomningar.csv", ";fastställd", ";preliminär")
    problems = refusal(settled)
    risk_title = re.search(r"^\s*title: (.+)$", (settled / "data/risker.yaml").read_text("utf-8"), re.M).group(1)
    assert any(f"'{shorten(risk_title)}' är preliminär" in p for p in problems), problems
    assert any(re.search(r"data/milstolpar\.yaml:\d+: 'Beslut att starta uppdrag' är preliminär", p)
               for p in problems), problems  # a name before the id
    first = (settled / "data/bedomningar.csv").read_text("utf-8").splitlines()[1].split(";")
    assert any(f"data/bedomningar.csv:2: bedömningen av '{first[0]}' på kriteriet '{first[1]}' är preliminär" in p
               for p in problems), problems


def test_rows_without_a_text_are_described_by_what_the_writer_finds_them_by(settled):
    replace_line(settled / "data/kostnader.csv", ";fastställd", ";exempel")
    replace_line(settled / "data/tidsatgang.csv", ";fastställd", ";preliminär")
    problems = refusal(settled)
    cost = dict(zip(*[line.split(";") for line in (settled / "data/kostnader.csv").read_text("utf-8").splitlines()[:2]]))
    task = dict(zip(*[line.split(";") for line in (settled / "data/tidsatgang.csv").read_text("utf-8").splitlines()[:2]]))
    assert any(f"data/kostnader.csv:2: kostnadsraden '{cost['item']}' för '{cost['alternative']}' "
               f"(år {cost['first_year']}–{cost['last_year']}) är exempel" in p for p in problems), problems
    assert any(f"data/tidsatgang.csv:2: tidsåtgången för '{shorten(task['task'])}' i '{task['alternative']}' "
               "är preliminär" in p for p in problems), problems


def test_data_that_does_not_load_is_refused_with_its_own_problems(settled):
    line = replace_line(settled / "data/risker.yaml", "status: fastställd", "status: kanske")
    problems = refusal(settled)
    assert [p.split(": ")[0] for p in problems] == [f"data/risker.yaml:{line}:5"], problems


def test_the_document_status_follows_the_profile(settled):
    (settled / "_quarto-styrelse.yml").write_text("status: fastställd\n", "utf-8")
    assert document_status(settled, "styrelse") == "fastställd"


def shorten(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


def test_a_long_label_is_shortened_to_sixty_characters(settled):
    phases = settled / "data/faser.yaml"
    text = phases.read_text("utf-8")
    point = "text: Vi samlar in erfarenheter från vården i regionen. De blir en del av analysen.\n      status: fastställd"
    assert point in text
    for written, shown in (("Å" * 59 + "BC", "Å" * 59 + "…"), ("Å" * 60, "Å" * 60)):
        phases.write_text(text.replace(point, f"text: {written}\n      status: preliminär"), "utf-8")
        assert f"'{shown}' är preliminär" in refusal(settled)[0]


def test_every_unsettled_part_is_listed_at_once(settled):
    for path in (settled / "data/tidslinje.yaml", settled / "data/risker.yaml", settled / "data/tidsatgang.csv"):
        text = path.read_text("utf-8")
        path.write_text(text.replace("status: fastställd", "status: preliminär").replace(";fastställd", ";förslag"),
                        "utf-8")
    problems = refusal(settled)
    assert {p.split(":")[0] for p in problems} == {"data/tidslinje.yaml", "data/risker.yaml", "data/tidsatgang.csv"}
    assert len(problems) > 10


def test_a_missing_part_is_named(settled):  # at the start of the file, after its schema comment
    path = settled / "data/alternativ/alt1-uppdaterad-millennium.yaml"
    path.write_text(path.read_text("utf-8").rstrip("\n") + "\nsaknas: [assessments]\n", "utf-8")
    expected = ("data/alternativ/alt1-uppdaterad-millennium.yaml:2: alternativ 'alt1' saknar fortfarande "
                "assessments; {}")
    assert refusal(settled) == [expected.format(tail("fastställd"))]
    assert refusal(settled, "förslag") == [expected.format(tail("förslag"))]



def test_a_draft_with_too_few_alternatives_cannot_be_published_beyond_utkast(tmp_path):
    """`underlag new` starts a draft with one alternative, which check accepts while the report is
    utkast; a version published as förslag or fastställd must compare three or more."""
    from underlag.commands.new import create_project
    from underlag.report.messages import text as report_text

    project = tmp_path / "ny"
    create_project(project, "beslutsunderlag")
    for status in ("förslag", "fastställd"):
        assert "data/alternativ: " + report_text("checks.alternative_count", n=1, low=3, high=5) \
            in refusal(project, status), status
    assert status_problems(project, "utkast") == []
