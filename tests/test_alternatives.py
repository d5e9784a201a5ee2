"""Adding an alternative is adding a file; its text stays text in every format."""

from __future__ import annotations

import re

import docx
from conftest import ANALYSIS_FIGURES, build_project, copy_project, docx_text, html_tree, pdf_text, underlag

HOSTILE = 'Femte <script>alert(1)</script> *vägen* #read("/etc/passwd") {{< meta title >}} $x$ [länk](http://x)'

FIFTH = f"""
id: alt5
order: 5
title: '{HOSTILE.replace("'", "''")}'
short_title: Regional samverkan
points:
  - text: Regionen samverkar med andra regioner om ett gemensamt system.
    status: preliminär
rollout_variants:
  - id: alt5-samverkan
    name: Gemensam upphandling
    scope: Hela regionen.
    order_of_units: Tillsammans med andra regioner.
    status: preliminär
    waves:
      - name: Gemensam upphandling
        units: Flera regioner
        start_month: 0
        end_month: 30
swot:
  strengths:
    - text: Delade kostnader.
      status: preliminär
saknas: [weaknesses, opportunities, threats, assessments]
"""


def test_a_fifth_alternative_file_appears_in_every_output(tmp_path):
    project = copy_project(tmp_path)
    (project / "data/alternativ/alt5-samverkan.yaml").write_text(FIFTH, encoding="utf-8")
    meta = project / "data/rapport.yaml"
    meta.write_text(meta.read_text("utf-8").replace("# diarienummer:", "diarienummer:"), "utf-8")
    outputs = build_project(project)

    html = html_tree(outputs["html"])
    html_text = re.sub(r"\s+", " ", html.text_content())
    pdf = re.sub(r"\s+", " ", pdf_text(outputs["pdf"]))
    word = re.sub(r"\s+", " ", docx_text(outputs["docx"]))
    shown = HOSTILE.replace('"', "”")  # straight quotes become Swedish ones, as all text's do
    for text in (html_text, pdf, word):
        assert "Alternativ 5: Regional samverkan" in text
        assert "Utrullningsalternativ för alternativ 5" in text
        assert "Gemensam upphandling" in text
        assert "Alt. 5" in text  # a column of its own in the assessment table, marked as missing
    # the hostile title is printed, not run: no script element, no file read, no expansion
    assert shown in html_text and shown in word
    assert "<script>alert(1)</script>" in html_text
    assert not [s for s in html.iter("script") if "alert(1)" in (s.text or "")]
    assert "{{< meta title >}}" in word and "root:" not in pdf
    overview = next(t for t in docx.Document(str(outputs["docx"])).tables if t.rows[0].cells[0].text == "Nr")
    assert [row.cells[0].text for row in overview.rows[1:]] == ["1", "2", "3", "4", "5"]
    # a diarienummer, once given, is on the cover and in the running header
    from pypdf import PdfReader

    pages = PdfReader(outputs["pdf"]).pages
    assert all("RS 2025-00123" in page.extract_text() for page in pages[:3])
    assert "RS 2025-00123" in word
    # timeline, milestones, one rollout plan per alternative and the analysis figures
    assert len(html.findall(".//img")) == 2 + 5 + ANALYSIS_FIGURES
    # counts come from the data: with five alternatives no output says "fyra", the brief included
    result = underlag("build", "--profile", "kortversion", "--format", "pdf", "--format", "docx", cwd=project)
    assert result.returncode == 0, result.stderr
    brief = [pdf_text(project / "report/kortversion.pdf"), docx_text(project / "report/kortversion.docx")]
    for text in (html_text, pdf, word, *brief):
        assert not re.search(r"\bfyra\b", text, re.IGNORECASE)
        assert re.search(r"\bfem\b", text)
    assert "De fem handlingsalternativen" in word and "analysera de fem alternativen" in brief[1]
