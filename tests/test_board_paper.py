"""The board paper as a board secretary reads it: the parts of a tjänsteskrivelse, a proposal that
fits the stage of the work, honest numbers, and nothing meant for the writers."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import PROJECT, copy_project, docx_text, html_tree, pdf_text, underlag

from underlag.report.analysis import analyse
from underlag.commands.build import prepare
from underlag.engine.errors import InputError, Problem
from underlag.report.load import load_report
from underlag.report.messages import text as report_text
from underlag.report.text import kronor_text, number, percent

CASE = yaml.safe_load((PROJECT / "data/arende.yaml").read_text("utf-8"))
NOTES = yaml.safe_load((PROJECT / "data/anteckningar.yaml").read_text("utf-8"))["notes"]
# what the writers wrote to each other about the source: never in the board paper
WRITERS_NOTES = ["Källan säger", "Källans färger går inte att läsa ut", "avser troligen 2024-12-22",
                 "(inom parentes i källan)", "I det tidiga förslaget hette", "20250128", "Anteckningar till skribenterna"]


def words(text: str) -> str:
    text = text.replace("\u00ad\n", "").replace("\u00ad", "-").replace("\u00a0", " ")
    text = re.sub(r"(?<=[a-zåäö])-\n(?=[a-zåäö])", "", text)  # a hyphenation break, whichever glyph it got
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def outputs(report) -> dict[str, str]:
    """The text of the board paper in three formats and of the brief in two, from the same project."""
    project = report["pdf"].parent.parent
    result = underlag("build", "--profile", "kortversion", "--format", "pdf", "--format", "docx", cwd=project)
    assert result.returncode == 0, result.stderr
    brief = project / "report" / "kortversion"
    return {
        "pdf": words(pdf_text(report["pdf"])), "docx": words(docx_text(report["docx"])),
        "html": words(html_tree(report["html"]).text_content()),
        "brief-pdf": words(pdf_text(brief.with_suffix(".pdf"))),
        "brief-docx": words(docx_text(brief.with_suffix(".docx"))),
    }


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_every_part_of_a_tjansteskrivelse_is_there(outputs, fmt):
    text = outputs[fmt]
    for part in ("Diarienummer", "Ärendet har inget diarienummer än", "Handläggare", CASE["contact"]["email"],
                 "Ärendet i korthet", "Förslag till beslut", "Sammanfattning", "Fördjupad beskrivning",
                 "Ekonomiska konsekvenser", "Konsekvensbeskrivningar", "Beredning", "Bilaga 1: ",
                 "Beslutet skickas till", "Ordlista", "Samlad bedömning"):
        assert part in text, part
    for impact in CASE["impacts"]:
        assert impact["title"] in text
    # a part without content says so in one sentence
    assert "Konsekvenserna för jämlik vård är ännu inte bedömda" in text
    for term in ("IVIS", "KSD", "LM-anmälan", "NIS", "OCI", "EHR", "LOU", "best of breed"):
        assert re.search(rf"{re.escape(term)} [A-ZÅÄÖ]", text), term  # explained in the glossary table
    assert "Exempel – siffrorna är inte bedömningar" in text


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html", "brief-pdf", "brief-docx"])
def test_writers_notes_are_never_printed(outputs, fmt):
    for note in WRITERS_NOTES + [n["text"][:40] for n in NOTES]:
        assert note not in outputs[fmt], note
    assert not re.search(r"\d+ uppgifter som är", outputs[fmt])
    assert "2025-12-22" in outputs[fmt] or fmt.startswith("brief")  # the source's own date is still a fact


def test_the_review_edition_shows_the_notes(report):
    project = report["pdf"].parent.parent
    result = underlag("build", "--profile", "granskning", "--format", "html", cwd=project)
    assert result.returncode == 0, result.stderr
    text = words(html_tree(project / "report" / "granskning.html").text_content())
    assert "Anteckningar till skribenterna" in text and "avser troligen 2024-12-22" in text


def test_check_lists_the_notes_and_what_is_not_final():
    result = underlag("check", cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    assert "data/anteckningar.yaml:" in result.stdout and "avser troligen 2024-12-22" in result.stdout
    examples = re.escape(report_text("checks.listing.status.exempel", n="@N@")).replace("@N@", r"\d+")
    not_final = re.escape(report_text("checks.listing.not_final", total="@T@", parts="@P@"))
    assert re.search(not_final.replace("@T@", r"\d+").replace("@P@", examples + ".*"), result.stdout), result.stdout


def _example_numbers() -> list[str]:
    """Every result the example numbers give: the totals, shares, costs and the leader's name."""
    report, _ = load_report(PROJECT)
    result = analyse(report)
    costs = result.costs
    found = [number(v, 2) for v in result.totals] + [number(result.baseline, 2)]
    found += [percent(v) for v in result.acceptability[1]]
    found += [number(v) for v in costs.present["expected"]] + [number(v) for v in costs.totals["expected"]]
    found += [kronor_text(abs(v)) for v in costs.value["extra_cost"]]
    return [n.replace("\u00a0", " ") for n in found]


def _board_section(fmt: str, text: str) -> str:
    """Summary and proposal: from the first heading to the detailed description (after the contents)."""
    start = text.index("Ärendet i korthet", text.index("Fördjupad beskrivning") if fmt != "docx" else 0)
    start = text.rfind("Sammanfattning", 0, start)
    return text[start:text.index("Fördjupad beskrivning", start)]


@pytest.mark.parametrize("fmt", ["docx", "html", "brief-pdf", "brief-docx"])
def test_example_numbers_never_reach_summary_proposal_or_brief(outputs, fmt):
    text = outputs[fmt] if fmt.startswith("brief") else _board_section(fmt, outputs[fmt])
    assert "Förslag till beslut" in text and "Ärendet i korthet" in text
    for value in _example_numbers():
        assert not re.search(rf"(?<![\d,]){re.escape(value)}(?![\d,])", text), value
    for phrase in ("högst viktad poäng", "mest poäng för pengarna", "kommer först i", "leder"):
        assert phrase not in text, phrase
    assert "Exempel – siffrorna är inte bedömningar" in outputs["html"]  # the numbers are shown, labelled, elsewhere


def _fragments(project):
    _, warnings = prepare(project)
    generated = project / "chapters" / "_generated"
    # Markdown escapes (\, \.) removed: the tests read the words
    return {p.name: p.read_text("utf-8").replace("\\", "") for p in generated.glob("*.md")}, warnings


def test_the_proposal_follows_the_stage_of_the_work(tmp_path, outputs):
    interim, _ = _fragments(copy_project(tmp_path / "interim"))
    assert "noterar rapporten om läget i arbetet" in interim["beslut.md"]
    assert "analysera de fyra alternativen och nollalternativet" in interim["beslut.md"]
    assert "Lägesrapport: inget val av alternativ föreslås ännu" in interim["beslut.md"]
    assert "enligt metoden i avsnitt 5.5" in outputs["html"]  # the method's section, resolved
    assert "Det ska vara klart den 31 mars 2025" in outputs["brief-docx"]  # the date of milestone MS8

    final = copy_project(tmp_path / "final")
    path = final / "data/beslut.yaml"
    text = path.read_text("utf-8").replace("stage: lägesrapport", "stage: slutligt")
    text = text.replace("status: förslag", "status: preliminär").replace("proposed_alternative:\n",
                                                                          "proposed_alternative: alt3\n")
    path.write_text(text, "utf-8")
    fragments, warnings = _fragments(final)
    assert "väljer alternativ 3, Ny upphandling av kärnsystem, som väg" in fragments["beslut.md"]
    assert "Förslaget är preliminärt." in fragments["beslut.md"]
    assert "noterar" not in fragments["beslut.md"] and "Lägesrapport" not in fragments["beslut.md"]
    proposal_on_examples = report_text("checks.proposal_on_examples")
    assert any(w.path == "data/beslut.yaml" and w.message == proposal_on_examples for w in warnings)


def test_a_planned_source_cannot_back_a_fact(tmp_path):
    project = copy_project(tmp_path)
    path = project / "data/risker.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("    owner: Regiondirektör\n    status: preliminär\n",
                                 "    owner: Regiondirektör\n    status: preliminär\n    source: riskanalys-paus\n"),
                    "utf-8")
    with pytest.raises(InputError) as raised:
        load_report(project)
    line = next(n for n, l in enumerate(path.read_text("utf-8").splitlines(), 1) if "id: pausen-drar-ut" in l)
    assert raised.value.problems == [Problem("data/risker.yaml", line, None,
                                             report_text("checks.source_planned", source="riskanalys-paus"))]


FIFTH = (PROJECT / "data/alternativ/alt4-openehr.yaml").read_text("utf-8").replace("id: alt4", "id: alt5") \
    .replace("order: 4", "order: 5").replace("- id: alt4-", "- id: alt5-") + "saknas: [assessments]\n"


def test_a_stated_count_that_disagrees_with_the_data_is_reported(tmp_path):
    project = copy_project(tmp_path)
    (project / "data/alternativ/alt5-kopia.yaml").write_text(FIFTH, "utf-8")
    chapter = project / "chapters/10-fortsatt-arbete.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\nRapporten beskriver fyra vägar.\n", "utf-8")
    line = len(chapter.read_text("utf-8").splitlines())
    _, warnings = load_report(project)
    message = report_text("checks.count_differs", stated="fyra vägar", actual="fem")
    assert Problem("chapters/10-fortsatt-arbete.qmd", line, 21, message, "warning") in warnings
    # the real chapters state no count the data contradicts
    differs = report_text("checks.count_differs", stated="@", actual="@").split("@")
    assert not [w for w in load_report(PROJECT)[1] if w.message.startswith(differs[0]) and differs[1] in w.message]


def test_every_abbreviation_is_explained(tmp_path):
    unexplained = {report_text("checks.abbreviation_unexplained", abbreviation=a) for a in ("RIKS-modellen", "ABC")}
    prefix = report_text("checks.abbreviation_unexplained", abbreviation="@").split("@")[0]
    assert not [w for w in load_report(PROJECT)[1] if w.message.startswith(prefix)]
    project = copy_project(tmp_path)
    chapter = project / "chapters/10-fortsatt-arbete.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\nArbetet följer RIKS-modellen och ABC.\n", "utf-8")
    line = len(chapter.read_text("utf-8").splitlines())
    found = {(w.path, w.line, w.message) for w in load_report(project)[1] if w.message.startswith(prefix)}
    assert found == {("chapters/10-fortsatt-arbete.qmd", line, message) for message in unexplained}


def test_the_reports_own_contact_passes_the_personal_data_guard():
    from underlag.engine.privacy import scan_project

    assert CASE["contact"]["email"] in (PROJECT / "data/arende.yaml").read_text("utf-8")
    assert scan_project(PROJECT) == []
