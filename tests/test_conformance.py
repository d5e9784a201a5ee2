"""The Quarto conformance suite: each folder in tests/conformance/ is one feature as a tiny book,
with `expect.yaml` saying what a reader must (and must not) find in each format.

Keys of expect.yaml: `chapters`/`appendices` (default index.qmd), `quarto` (extra _quarto.yml
keys), `all` (text in every format), `html`/`docx`/`pdf` (text in that format only),
`absent` and `absent_<format>` (text that must not appear), `alt` (image alt text in HTML and
DOCX), `toc_absent` (headings kept out of the HTML and PDF contents), `pagebreak`, `lang` (the
language every format declares), `toc_title` (the contents heading in every format),
`page_words` (e.g. "Page {page} of {pages}": on every PDF page but a `cover`, and in the DOCX footer),
`contents_absent` (headings the HTML and PDF contents leave out), `toc_depth` (the DOCX contents field's),
`no_contents` (no table of contents in any format).
A `quarto` value of null removes that key from the book.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import docx_text, html_tree, pdf_text
from pypdf import PdfReader

from underlag.commands.build import Options, build

SUITE = Path(__file__).parent / "conformance"
CASES = sorted(p.name for p in SUITE.iterdir() if (p / "expect.yaml").is_file())
FORMATS = ("html", "docx", "pdf")


def words(text: str) -> str:
    text = text.replace("\u00ad\n", "").replace("\u00ad", "-").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def make_book(case: str, folder: Path) -> tuple[Path, dict]:
    expect = yaml.safe_load((SUITE / case / "expect.yaml").read_text("utf-8"))
    shutil.copytree(SUITE / case, folder, ignore=shutil.ignore_patterns("expect.yaml"))
    config = {
        "book": {"output-file": "beslutsunderlag", "chapters": expect.get("chapters", ["index.qmd"]),
                 **({"appendices": expect["appendices"]} if "appendices" in expect else {})},
        "title": f"Fall {case}", "lang": "sv-SE", "organisation": "Testregionen", "version": "1.0.0",
        "status": "fastställd", "date": "2025-03-31", **expect.get("quarto", {}),
    }
    config = {key: value for key, value in config.items() if value is not None}
    (folder / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return folder, expect


@pytest.fixture(scope="module", params=CASES)
def case(request, tmp_path_factory):
    folder, expect = make_book(request.param, tmp_path_factory.mktemp(request.param) / "book")
    outputs = build(folder, Options()).outputs
    texts = {"html": words(html_tree(outputs["html"]).find(".//body").text_content()),
             "docx": words(docx_text(outputs["docx"])), "pdf": words(pdf_text(outputs["pdf"]))}
    return request.param, expect, outputs, texts


@pytest.mark.parametrize("fmt", FORMATS)
def test_case_reads_the_same_in_every_format(case, fmt):
    name, expect, _, texts = case
    text = texts[fmt]
    missing = [s for s in expect.get("all", []) + expect.get(fmt, []) if words(s) not in text]
    assert not missing, (name, fmt, missing, text[:600])
    present = [s for s in expect.get("absent", []) + expect.get(f"absent_{fmt}", []) if s in text]
    assert not present, (name, fmt, present)


def test_case_structure(case):
    name, expect, outputs, _ = case
    html = html_tree(outputs["html"])
    docx_xml = zipfile.ZipFile(outputs["docx"]).read("word/document.xml").decode()
    for alt in expect.get("alt", []):
        assert alt in [img.get("alt") for img in html.iter("img")]
        assert f'descr="{alt}"' in docx_xml
    for heading in expect.get("toc_absent", []):
        assert heading not in html.find(".//nav[@id='TOC']").text_content()
        outline = [item.title for item in PdfReader(outputs["pdf"]).outline if not isinstance(item, list)]
        nested = [i.title for part in PdfReader(outputs["pdf"]).outline if isinstance(part, list) for i in part]
        assert heading not in outline + nested
    if expect.get("lang"):
        assert_language(outputs, expect["lang"])
    if expect.get("toc_title"):
        assert words(html.find(".//nav[@id='TOC']").text_content()).startswith(expect["toc_title"])
        assert f">{expect['toc_title']}<" in docx_xml
        assert expect["toc_title"] in words(pdf_text(outputs["pdf"]))
    for heading in expect.get("contents_absent", []):
        assert heading not in words(html.find(".//nav[@id='TOC']").text_content())
        contents = next(p for p in PdfReader(outputs["pdf"]).pages if expect.get("toc_title", "") in p.extract_text())
        assert heading not in words(contents.extract_text())
    if expect.get("no_contents"):
        assert html.find(".//nav[@id='TOC']") is None and "TOC \\o" not in docx_xml
        assert "Text utan innehållsförteckning." in words(html.find(".//main").text_content())  # still a landmark
    if expect.get("toc_depth"):
        assert f'TOC \\o "1-{expect["toc_depth"]}"' in docx_xml
    if expect.get("page_words"):
        assert_page_words(outputs, expect["page_words"], first=2 if expect.get("cover") else 1)
    if expect.get("pagebreak"):
        assert '<w:br w:type="page" />' in docx_xml or '<w:br w:type="page"/>' in docx_xml
        assert html.find(".//div[@class='pagebreak']") is not None
        pages = [words(p.extract_text()) for p in PdfReader(outputs["pdf"]).pages]
        before = next(i for i, p in enumerate(pages) if "Före brytningen." in p)
        after = next(i for i, p in enumerate(pages) if "Efter brytningen." in p)
        assert after == before + 1


def assert_language(outputs: dict[str, Path], lang: str) -> None:
    """The book's language is declared everywhere: it picks hyphenation patterns in Typst and Word
    and the screen reader's voice."""
    assert html_tree(outputs["html"]).get("lang") == lang
    styles = zipfile.ZipFile(outputs["docx"]).read("word/styles.xml").decode()
    assert re.search(rf'<w:lang [^>]*w:val="{lang}"', styles), styles[:300]
    assert PdfReader(outputs["pdf"]).trailer["/Root"]["/Lang"] == lang


def assert_page_words(outputs: dict[str, Path], pattern: str, first: int) -> None:
    """Every page from `first` on (a cover page has no footer) says which page of how many it is."""
    pages = PdfReader(outputs["pdf"]).pages
    for number, page in enumerate(pages, 1):
        shown = pattern.format(page=number, pages=len(pages)) in words(page.extract_text())
        assert shown == (number >= first), (number, words(page.extract_text())[-200:])
    with zipfile.ZipFile(outputs["docx"]) as archive:
        footers = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("word/footer"))
    before, between = pattern.split("{page}")[0], pattern.split("{page}")[1].split("{pages}")[0]
    assert re.search(rf'{re.escape(before)}</w:t>.*w:instr="PAGE".*{re.escape(between)}</w:t>.*w:instr="NUMPAGES"',
                     footers), footers[-600:]


UNSUPPORTED = {
    "```{python}\nprint(1)\n```": "executable code cell {python} is not supported by the embedded engine",
    "{{< video https://example.org/a.mp4 >}}": "shortcode 'video' is not supported by the embedded engine",
    "::: {layout-ncol=2}\nA\n:::": "figure layouts (layout, layout-ncol) are not supported by the embedded engine",
    "::: {.panel-tabset}\nA\n:::": "panels (.panel-*) are not supported by the embedded engine",
    "Se @eq-energi.": "cross-reference '@eq-energi' is of a kind the embedded engine does not support",
    "Enligt @okand2024.": "citation '@okand2024' but the book has no bibliography",
}


@pytest.mark.parametrize("source", UNSUPPORTED)
def test_unsupported_syntax_is_named_with_its_line(source, tmp_path, capsys):
    from underlag.commands.cli import main

    folder, _ = make_book("footnotes", tmp_path / "book")
    chapter = folder / "index.qmd"
    chapter.write_text("# Kapitel\n\nText.\n\n" + source + "\n", "utf-8")
    assert main(["build", "--project", str(folder)]) == 2
    message = capsys.readouterr().err
    assert "index.qmd:5:" in message and UNSUPPORTED[source] in message, message


def test_quarto_engine_says_clearly_when_quarto_is_missing(tmp_path, capsys, monkeypatch):
    from underlag.commands.cli import main

    # a PATH without quarto (but with git) stands for a machine without it, installed here or not
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(tools))
    folder, _ = make_book("footnotes", tmp_path / "book")
    assert main(["build", "--engine", "quarto", "--project", str(folder)]) == 2
    assert "--engine quarto needs the quarto command on PATH" in capsys.readouterr().err


def structure(html_file: Path) -> dict[str, list[str]]:
    """What must agree between engines: heading texts, figure and table captions, and the text of
    every cross-reference link (the numbers a reader follows)."""
    tree = html_tree(html_file)
    text = lambda element: words(element.text_content())  # noqa: E731
    return {
        "headings": [text(h) for h in tree.iter("h1", "h2", "h3") if not h.get("id", "").startswith("toc")],
        "captions": [text(c) for c in tree.iter("figcaption", "caption")],
        "references": [text(a) for a in tree.iter("a") if a.get("href", "").startswith(("#fig-", "#tbl-", "#sec-"))],
    }


@pytest.mark.skipif(shutil.which("quarto") is None, reason="real Quarto is not installable here (no PyPI or "
                                                           "Debian package that works offline)")
@pytest.mark.parametrize("name", ["crossref-figure", "crossref-table", "numbering-per-chapter"])
def test_quarto_engine_renders_the_same_structure(name, tmp_path):
    from underlag.commands.cli import main

    embedded, _ = make_book(name, tmp_path / "embedded")
    quarto, _ = make_book(name, tmp_path / "quarto")
    assert main(["build", "--format", "html", "--project", str(embedded)]) == 0
    assert main(["build", "--engine", "quarto", "--format", "html", "--project", str(quarto)]) == 0
    ours = structure(embedded / "report/beslutsunderlag.html")
    theirs = structure(next((quarto / "report").rglob("*.html")))
    assert ours == theirs


def test_a_profile_is_merged_over_the_book(tmp_path, monkeypatch):
    folder, _ = make_book("crossref-section-other-chapter", tmp_path / "book")
    (folder / "_quarto-kort.yml").write_text(
        "book:\n  output-file: kortversion\n  chapters:\n    - tva.qmd\ntitle: Kortversion\n", "utf-8")
    outputs = build(folder, Options(formats=("html",), profile="kort")).outputs
    assert outputs["html"].name == "kortversion.html"
    text = words(html_tree(outputs["html"]).text_content())
    assert "1 Andra kapitlet" in text and "Första kapitlet" not in text and "Kortversion" in text
    monkeypatch.setenv("QUARTO_PROFILE", "kort")  # Quarto's own way to pick a profile
    assert build(folder, Options(formats=("html",))).outputs["html"].name == "kortversion.html"


def test_an_unknown_profile_is_named(tmp_path, capsys):
    from underlag.commands.cli import main

    folder, _ = make_book("footnotes", tmp_path / "book")
    assert main(["build", "--profile", "kortis", "--project", str(folder)]) == 2
    assert "_quarto-kortis.yml: profile 'kortis' has no file _quarto-kortis.yml" in capsys.readouterr().err
