"""The accessibility statement says what the checks found: axe-core and pdfua run on the outputs
(`underlag accessibility`), their findings go to data/tillganglighet.yaml, and the statement's
fragments are written from that record, never from a fixed sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from underlag.engine.accessibility import check_html
from underlag.report.fragments import accessibility_record, environment
from underlag.report.text import number_word

CLEAN_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Prov</title></head>
<body><main><h1>Prov</h1><p>Text.</p></main></body></html>"""
# An image without alt text: axe-core's rule image-alt, at every width.
FLAWED_PAGE = CLEAN_PAGE.replace("<p>Text.</p>", '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')


def statement(project: Path) -> tuple[str, str]:
    """The two fragments (what was checked, what was found) as the build writes them."""
    env = environment(project)
    context = {"accessibility": accessibility_record(project), "count": number_word}
    return (env.get_template("tillganglighet-kontroll.md.j2").render(context),
            env.get_template("tillganglighet-brister.md.j2").render(context))


def record(project: Path, web_gaps: list[dict], pdf_gaps: list[dict]) -> None:
    (project / "data").mkdir(parents=True, exist_ok=True)
    (project / "data/tillganglighet.yaml").write_text(yaml.safe_dump({
        "granskad": "2026-11-20",
        "webb": {"verktyg": "axe-core 4.12.1", "bredder": [390, 768, 1280], "regler": 89, "brister": web_gaps},
        "pdf": {"verktyg": "pdfua 0.1.3", "kontroller": 11, "brister": pdf_gaps},
    }, allow_unicode=True), encoding="utf-8")


def test_without_a_check_the_statement_says_nothing_was_checked(tmp_path):
    checked, found = statement(tmp_path)
    assert "ännu inte granskats" in checked and "inga brister" not in checked
    assert found.strip() == ""


def test_a_clean_check_is_reported_with_its_date_tools_and_widths(tmp_path):
    record(tmp_path, [], [])
    checked, found = statement(tmp_path)
    assert "20 november 2026" in checked
    assert "axe\\-core 4\\.12\\.1" in checked and "89 regler" in checked and "1280 pixlar" in checked
    assert checked.count("Granskningen hittade inga brister.") == 2
    assert found.strip() == ""


def test_what_the_checks_found_is_listed_as_known_gaps(tmp_path):
    gap = {"regel": "image-alt", "beskrivning": "Images must have alternative text", "allvar": "critical",
           "antal": 2, "bredder": [390, 768]}
    record(tmp_path, [gap], [{"beskrivning": "Table without header cells"}])
    checked, found = statement(tmp_path)
    assert "inga brister" not in checked
    assert checked.count("hittade en brist") == 2
    assert "image\\-alt" in found and "gäller 2 element vid 390\\, 768 pixlars bredd" in found
    assert "PDF-versionen: Table without header cells" in found


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    (folder / "clean.html").write_text(CLEAN_PAGE, encoding="utf-8")
    (folder / "flawed.html").write_text(FLAWED_PAGE, encoding="utf-8")
    return {"clean": folder / "clean.html", "flawed": folder / "flawed.html"}


def test_axe_core_finds_a_missing_alt_text_and_nothing_on_a_clean_page(pages):
    flawed = check_html(pages["flawed"], widths=(390, 1280))
    assert [gap["regel"] for gap in flawed["brister"]] == ["image-alt"]
    assert flawed["brister"][0]["bredder"] == [390, 1280] and flawed["brister"][0]["antal"] == 1
    assert flawed["regler"] > 50 and flawed["verktyg"].startswith("axe-core ")
    assert check_html(pages["clean"], widths=(390,))["brister"] == []
