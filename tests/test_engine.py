"""The embedded engine on a small plain Quarto book (no data/): the Quarto syntax we implement."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import build_project, docx_text, html_tree, pdf_text

FIXTURE = Path(__file__).parent / "fixtures" / "plain-book"
SENTENCES = [
    "Det här är Testregionen och boken heter Liten testbok.",
    "Se figur 1.1, 1.1, Figur 1.1, tabell 1.1 och avsnitt 1.1.",
    "Figur 1.1 börjar en mening.",
    "Figur 1.1: Ett stapeldiagram",
    "Tabell 1.1: Några siffror",
    "Inkluderad text med ett ”citat”.",
    "Bilagan är avsnitt A.",
    "Hänvisning tillbaka till avsnitt 1.1 och avsnitt A.1.",
    "Tips Ett tips utan rubrik.",
    "Egen rubrik Var försiktig.",
]


def words(text: str) -> str:
    text = text.replace("\u00ad\n", "").replace("\u00ad", "-").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    project = tmp_path_factory.mktemp("plain") / "book"
    shutil.copytree(FIXTURE, project)
    return build_project(project)


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_quarto_syntax_means_the_same_in_every_format(outputs, fmt):
    reader = {"pdf": pdf_text, "docx": docx_text, "html": lambda p: html_tree(p).text_content()}[fmt]
    text = words(reader(outputs[fmt]))
    missing = [s for s in SENTENCES if s not in text]
    assert not missing, missing
    assert "UTKAST" not in text  # status fastställd: no draft marking


def test_html_headings_callouts_and_alt(outputs):
    tree = html_tree(outputs["html"])
    headings = [words(h.text_content()).strip() for h in tree.iter("h1", "h2")]
    assert "1.1 Detaljer" in headings and "Utan nummer" in headings and "A.1 Del" in headings
    assert tree.find(".//div[@class='callout callout-tip']") is not None
    assert tree.find(".//img").get("alt") == "Tre staplar med höjderna 1, 2 och 3."
    assert tree.find(".//*[@class='status-banner']") is None


def test_docx_page_break_callout_styles_and_alt(outputs):
    xml = zipfile.ZipFile(outputs["docx"]).read("word/document.xml").decode()
    assert '<w:br w:type="page" />' in xml or '<w:br w:type="page"/>' in xml
    assert 'descr="Tre staplar med höjderna 1, 2 och 3."' in xml
    used = [p.style for p in docx.Document(str(outputs["docx"])).paragraphs]
    # each kind has its own boxed styles, based on the generic callout ones
    assert {"Callout Tip Title", "Callout Tip"} <= {s.name for s in used}
    assert {"Callout Title", "Callout Text"} <= {s.base_style.name for s in used if s.base_style is not None}
