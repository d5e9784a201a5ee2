"""Document design for three audiences: the board PDF, the editable DOCX, the web HTML, and the
short brief built from the same data with the `kortversion` profile."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import docx
import numpy
import pikepdf
import pytest
import yaml
from conftest import PROJECT, copy_project, docx_text, html_tree, pdf_text
from PIL import Image
from pypdf import PdfReader
from underlag.commands.build import Options, build

DECISION = yaml.safe_load((PROJECT / "data/beslut.yaml").read_text("utf-8"))["interim_points"]
CONTACT = yaml.safe_load((PROJECT / "data/arende.yaml").read_text("utf-8"))["contact"]


def test_docx_opens_in_libreoffice(report, tmp_path):
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (libreoffice-writer-nogui) is installed by the README's test command"
    result = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                             str(report["docx"])], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    converted = tmp_path / "beslutsunderlag.pdf"
    text = pdf_text(converted)
    assert len(PdfReader(converted).pages) > 20
    assert "Handlingsalternativ för adekvat" in text and "Sammanfattning" in text


def test_docx_has_real_word_styles_and_properties(report):
    document = docx.Document(str(report["docx"]))
    styles = {s.name: s for s in document.styles}
    for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Body Text", "Table Caption",
                 "Image Caption", "Callout Title", "Callout Text", "TOC Heading"):
        assert name in styles, name
    assert styles["Heading 1"].font.name == "Arial" and styles["Normal"].font.name == "Georgia"
    used = {p.style.name for p in document.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Image Caption", "Callout Warning Title"} <= used
    properties = document.core_properties
    assert properties.title.startswith("Handlingsalternativ") and properties.author == "Västra Götalandsregionen"
    assert properties.subject and properties.language == "sv-SE"
    with zipfile.ZipFile(report["docx"]) as archive:
        body = archive.read("word/document.xml").decode()
        footer = archive.read("word/footer1.xml").decode()
        header = archive.read("word/header1.xml").decode()
    assert re.search(r'instrText[^>]*>\s*TOC ', body)  # a real table-of-contents field
    assert "<w:tblHeader" in body  # header rows repeat on every page
    assert 'w:instr="PAGE"' in footer and 'w:instr="NUMPAGES"' in footer and "Version 0.1.0" in footer
    assert "UTKAST" in header


def test_pdf_uses_installed_fonts_hyphenates_and_marks_every_page(report):
    with pikepdf.open(report["pdf"]) as pdf:
        fonts = {str(font.BaseFont) for page in pdf.pages for font in page.Resources.Font.values()}
    assert any("NotoSerif" in f for f in fonts) and any("NotoSans" in f for f in fonts), fonts
    text = pdf_text(report["pdf"])
    assert "\u00ad" in text  # Swedish hyphenation breaks words at line ends


def test_the_draft_watermark_is_drawn_on_every_page_not_written(report, tmp_path):
    """The marking in the header is text; the large one behind the page is outlines, so copying a
    paragraph or extracting the text never picks its letters up between the words."""
    pages = PdfReader(report["pdf"]).pages
    assert [page.extract_text().count("UTKAST") for page in pages] == [1] * len(pages)
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(report["pdf"]), str(tmp_path / "page")], check=True)
    for image in sorted(tmp_path.glob("page-*.png")):
        pixels = numpy.asarray(Image.open(image).convert("RGB")).astype(int)
        height, width, _ = pixels.shape
        middle = pixels[height // 3: 2 * height // 3, width // 4: 3 * width // 4]
        red, green = middle[..., 0], middle[..., 1]
        assert ((red - green > 12) & (red > 200)).sum() > 300, image.name  # the pale red word is there


def test_html_is_a_single_responsive_accessible_page(report):
    tree = html_tree(report["html"])
    assert tree.get("lang") == "sv-SE"
    assert tree.find(".//meta[@name='viewport']") is not None
    css = "".join(style.text or "" for style in tree.iter("style"))
    assert "@media (min-width" in css and "@media print" in css and "@media (max-width" in css
    assert not tree.xpath("//*[@src[starts-with(., 'http')]] | //link[@href]")
    footer = tree.find(".//footer[@class='document-footer']").text_content()
    assert "Version 0.1.0" in footer and "2025-01-28" in footer


@pytest.fixture(scope="module")
def brief(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("brief") / "project")
    return build(project, Options(formats=("pdf", "docx"), profile="kortversion")).outputs


def test_brief_fits_four_pages_and_says_what_a_decision_maker_needs(brief):
    assert brief["pdf"].name == "kortversion.pdf"
    assert len(PdfReader(brief["pdf"]).pages) <= 4
    for fmt, reader in (("pdf", pdf_text), ("docx", docx_text)):
        text = re.sub(r"\s+", " ", reader(brief[fmt]))
        # it stands alone: background, what is decided, costs, contact
        for heading in ("Ärendet i korthet", "Förslag till beslut", "Alternativen i korthet", "Ekonomiska konsekvenser",
                        "Viktigaste riskerna", "Tidplan", "Kontakt"):
            assert heading in text, heading
        assert DECISION[0] in text  # the decision points, from data/beslut.yaml
        assert "Kortversion för beslutsfattare" in text
        assert CONTACT["email"] in text and "Ärendet har inget diarienummer än" in text


def test_brief_docx_has_no_contents_page(brief):
    with zipfile.ZipFile(brief["docx"]) as archive:
        assert "TOC " not in archive.read("word/document.xml").decode()
