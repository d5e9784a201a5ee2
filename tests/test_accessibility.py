"""Accessibility of what a reader gets (lag 2018:1937, EN 301 549, WCAG 2.1 AA): axe-core in
Chromium for the HTML, a PDF/UA-1 checker and the structure tree for the PDF, Word structure
for the DOCX, and contrast computed from the figures' palettes."""

from __future__ import annotations

import re
import shutil
import zipfile

import docx
import pikepdf
import pytest
from conftest import git_project

from underlag.report import analysis_figures, figures

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def axe_violations(path) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
            assert result.response["passes"], "axe ran no rule"
            return result.response["violations"]
        finally:
            browser.close()


# The report's HTML is checked with all axe rules at three widths in test_html_widths.py.


def test_versions_index_has_no_wcag_violations(tmp_path):
    from underlag.commands.cli import main

    project = git_project(tmp_path / "project")
    assert main(["publish", "--version", "1.0.0", "--project", str(project)]) == 0
    violations = axe_violations(project / "report/versions/index.html")
    assert not violations, [(v["id"], v["help"]) for v in violations]


def test_pdf_passes_a_pdf_ua_checker(report):
    import pdfua

    result = pdfua.validate(str(report["pdf"]))
    ran = [o for o in result.outcomes if o.skipped_reason is None]
    assert len(ran) >= 10
    assert not result.findings, [str(f) for f in result.findings[:10]]


def _elements(node):
    """Every structure element under a node of the PDF's structure tree."""
    if isinstance(node, pikepdf.Array):
        for item in node:
            yield from _elements(item)
    elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
        yield node
        if "/K" in node:
            yield from _elements(node.K)


def test_pdf_structure_tree_language_tables_and_bookmarks(report):
    with pikepdf.open(report["pdf"]) as pdf:
        assert str(pdf.Root.Lang) == "sv-SE"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle
        assert pdf.Root.MarkInfo.Marked
        elements = list(_elements(pdf.Root.StructTreeRoot.K))
        kinds = {str(e.S) for e in elements}
        assert {"/H1", "/H2", "/Figure", "/Table"} <= kinds
        tables = [e for e in elements if str(e.S) == "/Table"]
        assert len(tables) > 20
        for table in tables:
            assert any(str(e.S) == "/TH" for e in _elements(table.K)), "a table without header cells"
        figures_ = [e for e in elements if str(e.S) == "/Figure"]
        assert figures_ and all("/Alt" in f and len(str(f.Alt)) > 30 for f in figures_)
        with pdf.open_outline() as outline:
            assert len(outline.root) >= 10


def test_docx_structure_for_screen_readers(report):
    document = docx.Document(str(report["docx"]))
    levels = [int(p.style.name.split()[-1]) for p in document.paragraphs if p.style.name.startswith("Heading ")]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:])), "a skipped heading level"
    with zipfile.ZipFile(report["docx"]) as archive:
        body = archive.read("word/document.xml").decode()
        styles = archive.read("word/styles.xml").decode()
    assert body.count("<wp:docPr ") == body.count('descr="') - body.count("<pic:cNvPr descr=")
    for table in document.tables:
        first_row = table.rows[0]._tr
        assert first_row.find(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") \
            is not None
    assert re.search(r'<w:lang [^>]*w:val="sv-SE"', styles) and document.core_properties.language == "sv-SE"
    assert document.core_properties.title


def contrast(colour: str, background: str = "#ffffff") -> float:
    return analysis_figures.contrast(colour, background)


MEANINGFUL = {
    "milestone status": [c for c, _ in figures.STATUS_STYLE.values()],
    "rollout variants": figures.ROLLOUT_COLOURS,
    "accent and ink": [figures.ACCENT, figures.INK],
    "analysis series": analysis_figures.SERIES,
}


@pytest.mark.parametrize("palette", MEANINGFUL)
def test_colours_that_carry_meaning_reach_3_to_1(palette):
    weak = [c for c in MEANINGFUL[palette] if contrast(c) < 3]
    assert not weak, (palette, [(c, round(contrast(c), 2)) for c in weak])


def test_meaning_never_rests_on_colour_alone():
    markers = [m for _, m in figures.STATUS_STYLE.values()]
    assert len(set(markers)) == len(markers)  # each status also has its own marker shape
    assert len(set(figures.ROLLOUT_HATCHES)) == len(figures.ROLLOUT_HATCHES)
    assert len(set(analysis_figures.HATCHES)) == len(analysis_figures.HATCHES)
