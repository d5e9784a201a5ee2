"""The real decision basis, opened in each format and checked as a reader gets it."""

from __future__ import annotations

import re
from pathlib import Path
import zipfile

import docx
import pikepdf
import pytest
import yaml
from conftest import ANALYSIS_FIGURES, PROJECT, docx_text, heading_numbers, html_tree, pdf_text

ALTERNATIVES = [yaml.safe_load(p.read_text("utf-8")) for p in sorted((PROJECT / "data/alternativ").glob("*.yaml"))]
MILESTONES = yaml.safe_load((PROJECT / "data/milstolpar.yaml").read_text("utf-8"))["milestones"]
META = yaml.safe_load((PROJECT / "data/rapport.yaml").read_text("utf-8"))


def normalise(text: str) -> str:
    """Text extraction breaks lines and hyphenates; compare on words only."""
    # Typst marks its line-end hyphens with a soft hyphen, and a break at a real hyphen too
    text = text.replace("\u00ad\n", "").replace("\u00ad", "-").replace("\u00a0", " ")
    # the font may map Typst's hyphenation hyphen to "-": a break inside a lower-case word is joined
    text = re.sub(r"(?<=[a-zåäö])-\n(?=[a-zåäö])", "", text)
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def texts(report) -> dict[str, str]:
    html = html_tree(report["html"]).text_content()
    return {"pdf": normalise(pdf_text(report["pdf"])), "docx": normalise(docx_text(report["docx"])),
            "html": normalise(html)}


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_every_alternative_title_appears(texts, fmt):
    for alternative in ALTERNATIVES:
        assert normalise(alternative["title"]) in texts[fmt], alternative["id"]
    assert "Nollalternativ" in texts[fmt]


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_no_unresolved_reference(texts, fmt):
    assert "??" not in texts[fmt]
    assert not re.search(r"@(fig|tbl|sec|Fig)-", texts[fmt])
    assert "{{<" not in texts[fmt]


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_captions_and_references_are_numbered_in_swedish(texts, fmt):
    assert re.search(r"Figur 3\.1: Tidslinje", texts[fmt])  # numbered within the chapter, as Quarto books do
    assert re.search(r"Tabell 1\.1: Ärendeuppgifter", texts[fmt])
    assert re.search(r"Tabell 1\.2: De fyra handlingsalternativen", texts[fmt])
    assert re.search(r"Nollalternativet beskrivs i avsnitt 6\.1\.", texts[fmt])  # @sec-nollalternativ
    assert re.search(r"Figur 3\.1 visar händelserna", texts[fmt])  # @Fig-tidslinje starts a sentence
    assert re.search(r"i tabell A\.1 i bilaga avsnitt A\b", texts[fmt])  # appendix numbering


def test_reference_numbers_agree_between_formats(texts):
    pattern = r"(?:[Ff]igur|[Tt]abell|avsnitt) [\dA-Z]+(?:\.\d+)*"
    found = {fmt: re.findall(pattern, text) for fmt, text in texts.items()}
    assert found["pdf"] and found["pdf"] == found["docx"] == found["html"]


def test_milestone_table_in_docx_has_every_milestone_with_its_dates(report):
    document = docx.Document(str(report["docx"]))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "ID")
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows[1:]}
    assert list(rows) == [m["id"] for m in MILESTONES]
    for milestone in MILESTONES:
        for key in ("planned", "forecast", "actual"):
            if milestone.get(key):
                assert milestone[key].isoformat() in rows[milestone["id"]]


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_milestone_dates_appear(texts, fmt):
    for milestone in MILESTONES:
        assert f"{milestone['id']} {milestone['name']}" in texts[fmt]
        if milestone.get("planned"):
            assert milestone["planned"].isoformat() in texts[fmt]


def test_html_metadata_images_and_tables(report):
    tree = html_tree(report["html"])
    assert tree.get("lang") == "sv-SE"
    assert tree.findtext(".//title") == META["title"]
    images = tree.findall(".//img")
    assert len(images) == 2 + len(ALTERNATIVES) + ANALYSIS_FIGURES
    assert all(img.get("alt") and len(img.get("alt")) > 40 for img in images)
    assert all(img.get("src").startswith("data:") for img in images), "images must be embedded"
    assert all(t.find(".//th") is not None for t in tree.findall(".//table"))
    assert tree.find(".//nav[@id='TOC']") is not None
    assert "UTKAST" in tree.find(".//*[@class='status-banner']").text_content()
    assert not tree.findall(".//script[@src]") and not tree.findall(".//link[@href]")


def test_docx_metadata_alt_text_and_headers(report):
    document = docx.Document(str(report["docx"]))
    assert document.core_properties.title == META["title"]
    assert document.core_properties.language == "sv-SE"
    xml = zipfile.ZipFile(report["docx"]).read("word/document.xml").decode()
    pictures = re.findall(r"<wp:docPr [^>]*>", xml)
    assert len(pictures) == 2 + len(ALTERNATIVES) + ANALYSIS_FIGURES
    assert all(re.search(r'descr="[^"]{40,}"', p) for p in pictures)
    assert xml.count("<w:tblHeader") >= len(document.tables)
    styles = zipfile.ZipFile(report["docx"]).read("word/styles.xml").decode()
    assert 'w:val="sv-SE"' in styles
    headings = [p for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert f"{heading_numbers(document)[headings[0]._p]} {headings[0].text}" == "1 Sammanfattning"
    assert "UTKAST" in document.sections[0].header.paragraphs[0].text
    cover = [p.text for p in document.paragraphs[:6]]
    assert META["title"] in cover and META["organisation"] in cover


def test_pdf_metadata_outline_and_status(report):
    with pikepdf.open(report["pdf"]) as pdf:
        assert str(pdf.Root.Lang) == "sv-SE"
        assert str(pdf.docinfo["/Title"]) == META["title"]
        assert pdf.Root.MarkInfo.Marked
        assert pdf.Root.ViewerPreferences.DisplayDocTitle
        with pdf.open_metadata() as xmp:  # compiled under PDF/UA-1, which refuses images without alt text
            assert xmp.get("pdfuaid:part") == "1"
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert titles[0].endswith("Sammanfattning") and "Förslag till beslut" in titles[1]
    from pypdf import PdfReader

    pages = PdfReader(report["pdf"]).pages
    assert "Version 0.1.0" in pages[0].extract_text()
    for number, page in enumerate(pages[1:], 2):  # status and page x of y on every page after the cover
        text = page.extract_text()
        assert "UTKAST" in text and f"Sida {number} av {len(pages)}" in text


def test_chapter_order_follows_board_paper(texts):
    order = ["Sammanfattning", "Förslag till beslut", "Fördjupad beskrivning: bakgrund och uppdrag",
             "Mål och avgränsning", "Metod för utvärdering", "Handlingsalternativen", "Utrullningsalternativ", "Analys",
             "Tidplan och milstolpar", "Fortsatt arbete", "Ekonomiska konsekvenser", "Konsekvensbeskrivningar",
             "Beredning, bilagor och sändlista"]
    positions = [texts["html"].index(f"{i} {name}", texts["html"].index("Innehåll") + 200)
                 for i, name in enumerate(order, 1)]
    assert positions == sorted(positions)


def test_preliminary_content_is_marked(texts):
    for fmt, text in texts.items():
        assert "(preliminär)" in text and "(exempel)" in text, fmt
        assert "Lägesrapport: inget val av alternativ föreslås ännu" in text, fmt
        assert "Förslaget är preliminär." not in text  # the adjective agrees with "förslaget"


# the source deck (the text of the slides to the reference group, 2025-01-28), as the team received it
SEED = Path(__file__).with_name("fixtures") / "seed"
SEED_MAP = Path(__file__).with_name("seed_facts.yaml")


def seed_lines() -> list[str]:
    """Every line (every table cell) of the source deck, bullets and bold marks taken off."""
    lines = []
    for path in sorted(SEED.glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            line = re.sub(r"^\s*(- |\d\. )", "", line).replace("**", "")
            lines += [cell.strip() for cell in line.split("\t") if len(cell.strip()) >= 3]
    return lines


def test_every_seed_line_is_in_the_report(texts):
    """Each line of the source deck is in every format word for word, or listed in
    tests/seed_facts.yaml with the words that carry it there (which must then be in every format)."""
    carried = {entry["seed"]: entry["rapport"] for entry in yaml.safe_load(SEED_MAP.read_text("utf-8"))}
    unaccounted = [line for line in seed_lines()
                   if line not in carried and normalise(line).lower() not in texts["html"].lower()]
    assert not unaccounted, f"seed lines neither in the report nor in {SEED_MAP.name}: {unaccounted}"
    for fmt, text in texts.items():
        missing = [line for line in seed_lines() if line not in carried and normalise(line).lower() not in text.lower()]
        missing += [words for line, phrases in carried.items() for words in phrases if normalise(words) not in text]
        assert not missing, (fmt, missing)
    stale = set(carried) - set(seed_lines())
    assert not stale, f"{SEED_MAP.name} lists lines the deck does not have: {stale}"