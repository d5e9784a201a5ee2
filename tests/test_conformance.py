"""The Quarto conformance suite: each folder in tests/conformance/ is one feature as a tiny book,
with `expect.yaml` saying what a reader must (and must not) find in each format.

Keys of expect.yaml: `chapters`/`appendices` (default index.qmd), `quarto` (extra _quarto.yml
keys), `all` (text in every format), `html`/`docx`/`pdf` (text in that format only),
`absent` and `absent_<format>` (text that must not appear), `alt` (image alt text in HTML and
DOCX), `toc_absent` (headings kept out of the HTML and PDF contents), `toc` (headings in the HTML
and PDF contents and styled as headings in the DOCX, whose contents field Word fills from them),
`pagebreak`, `subfigure_columns` (figure id: the subcaptions of each
column, left to right), `formulas` (TeX of each formula: MathML in the HTML, OMML
in the DOCX, a tagged formula with that alt text in the PDF), `image_widths` (image alt text: its width, "50%" of the text or a length in pt, in
every format), `image_align` (alt text: left, center or right), `column_widths` (each table's
column widths in %; `column_words` names each table's header words, whose places in the PDF show
the widths; each must be the only such word in the PDF), `tables` (how many real tables the HTML, DOCX and PDF hold), `links` (link text: the id it must lead to inside the HTML and DOCX, with at least
as many links inside the PDF and none to a file), `lang` (the
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
import output_geometry as geometry
from conftest import docx_text, html_tree, pdf_text
from docx import Document
from lxml import etree
from pypdf import PdfReader

from underlag.commands.build import Options, build

SUITE = Path(__file__).parent / "conformance"
CASES = sorted(p.name for p in SUITE.iterdir() if (p / "expect.yaml").is_file())
LAYOUT_KEYS = ("image_widths:", "image_align:", "column_widths:")
# the books that set widths or alignment: only these are measured by test_case_layout
LAYOUT_CASES = [name for name in CASES if any(re.search(rf"^{key}", (SUITE / name / "expect.yaml").read_text("utf-8"),
                                                          re.M) for key in LAYOUT_KEYS)]
FORMATS = ("html", "docx", "pdf")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def words(text: str) -> str:
    text = text.replace("\u00ad\n", "").replace("\u00ad", "-").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def pdf_outline(path: Path) -> list[str]:
    """Every bookmark title of the PDF, at any depth."""
    def titles(items) -> list[str]:
        return [t for item in items for t in (titles(item) if isinstance(item, list) else [item.title])]
    return titles(PdfReader(path).outline)


def pdf_links(path: Path) -> tuple[list, list[str]]:
    """The PDF's link annotations: those to a place in the document, and the addresses of the rest."""
    inside, outside = [], []
    for page in PdfReader(path).pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A") or {}
            if "/Dest" in annotation or action.get("/S") == "/GoTo":
                inside.append(annotation.get("/Dest") or action.get("/D"))
            else:
                outside.append(str(action.get("/URI")))
    return inside, outside


def pdf_formula_alts(path: Path) -> list[str]:
    """The alt text of every Formula element in the PDF's structure tree."""
    import pikepdf

    found = []
    with pikepdf.open(path) as pdf:
        def visit(node) -> None:
            if not isinstance(node, pikepdf.Dictionary):
                return
            if node.get("/S") == "/Formula":
                found.append(words(str(node.get("/Alt", ""))))
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
                visit(kid)
        visit(pdf.Root.StructTreeRoot)
    return found


def pdf_tagged_tables(path: Path) -> int:
    """How many Table elements the PDF's structure tree (PDF/UA tagging) holds."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        def count(node) -> int:
            found = int(isinstance(node, pikepdf.Dictionary) and node.get("/S") == "/Table")
            kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
            kids = kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
            return found + sum(count(kid) for kid in kids if isinstance(kid, pikepdf.Dictionary))
        return count(pdf.Root.StructTreeRoot)


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


@pytest.mark.parametrize("case", LAYOUT_CASES, indirect=True)
def test_case_layout(case):
    """Image widths, figure alignment and table column widths, measured in each real output."""
    name, expect, outputs, _ = case
    assert {"image_widths", "image_align", "column_widths"} & set(expect), name
    sizes, aligns = expect.get("image_widths", {}), expect.get("image_align", {})
    order = list(dict.fromkeys([*sizes, *aligns]))
    # HTML: what each <img> asks for, and the figure's alignment class with its rule in the page
    html = html_tree(outputs["html"])
    images = {img.get("alt"): img for img in html.iter("img")}
    for alt, size in sizes.items():
        asked = geometry.html_length(images[alt])
        if isinstance(size, str):
            assert asked.endswith("%") and float(asked[:-1]) == float(size[:-1]), (alt, asked)
        else:
            assert abs(geometry.points(asked) - size) < 1, (alt, asked)
    for alt, align in aligns.items():
        figure = next(images[alt].iterancestors("figure"))  # the image may sit in a scroll region inside it
        assert f"quarto-figure-{align}" in figure.get("class", ""), alt
    assert not aligns or ".quarto-figure-left { text-align: left; }" in outputs["html"].read_text("utf-8")
    # DOCX: drawn width and the image paragraph's alignment
    body = geometry.docx_body(outputs["docx"])
    text_width = geometry.docx_text_width_pt(body)
    drawn = {alt: (width, jc) for alt, width, jc in geometry.docx_images(body)}
    for alt, size in sizes.items():
        want = float(size[:-1]) / 100 * text_width if isinstance(size, str) else size
        assert abs(drawn[alt][0] - want) < 1, (alt, drawn[alt], want)
    for alt, align in aligns.items():
        assert drawn[alt][1] == align, (alt, drawn[alt])
    for shares, want in zip(geometry.docx_column_shares(body), expect.get("column_widths", [])):
        assert all(abs(a - b) < 1 for a, b in zip(shares, want)) and len(shares) == len(want), (shares, want)
    # PDF: images in document order; the text area from the page and the left-most image
    boxes = dict(zip(order, geometry.pdf_image_boxes(outputs["pdf"])))
    page = geometry.pdf_page_width(outputs["pdf"])
    margin = min(x for x, _ in boxes.values())
    for alt, size in sizes.items():
        want = float(size[:-1]) / 100 * (page - 2 * margin) if isinstance(size, str) else size
        assert abs(boxes[alt][1] - want) < 1, (alt, boxes[alt], want)
    for words_, want in zip(expect.get("column_words", []), expect.get("column_widths", [])):
        # the header words stand in the middle of their columns (the template centres table cells)
        centres = [geometry.pdf_word_centres(outputs["pdf"], word)[-1] for word in words_]
        for centre, share in zip(centres, [sum(want[:i]) + want[i] / 2 for i in range(len(want))]):
            assert abs(centre - margin - share / 100 * (page - 2 * margin)) < 2, (words_, centres, want)
    for alt, align in aligns.items():
        x, width = boxes[alt]
        place = {"left": x - margin, "right": page - margin - (x + width), "center": x + width / 2 - page / 2}
        assert abs(place[align]) < 1, (alt, align, x, width)


def test_case_structure(case):
    name, expect, outputs, _ = case
    html = html_tree(outputs["html"])
    docx_xml = zipfile.ZipFile(outputs["docx"]).read("word/document.xml").decode()
    # every id and DOCX bookmark names one place: a reference copies none (review anchors included)
    bookmarks = re.findall(r'<w:bookmarkStart [^>]*w:name="([^"]+)"', docx_xml)
    assert sorted(b for b in set(bookmarks) if bookmarks.count(b) > 1) == []
    ids = [element.get("id") for element in html.iter() if element.get("id")]
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    for alt in expect.get("alt", []):
        assert alt in [img.get("alt") for img in html.iter("img")]
        assert f'descr="{alt}"' in docx_xml
    for figure, columns in expect.get("subfigure_columns", {}).items():
        panel = html.get_element_by_id(figure).find(".//div[@class='quarto-layout-panel']")
        assert f"repeat({len(columns)}, 1fr)" in panel.get("style"), figure
        body = etree.fromstring(docx_xml.encode())
        start = body.find(f".//{W}bookmarkStart[@{W}name='{figure}']")
        cells = start.getnext().find(f"{W}tr").findall(f"{W}tc")
        assert [[c in "".join(cell.itertext()) for c in column] for cell, column in zip(cells, columns)] == \
            [[True] * len(column) for column in columns] and len(cells) == len(columns), figure
        # in the PDF each column's subcaptions stand one under the other, the columns side by side
        middles = [[geometry.pdf_word_centres(outputs["pdf"], c.split()[-1])[-1] for c in column] for column in columns]
        assert all(max(m) - min(m) < 15 for m in middles), middles
        assert all(b[0] - a[0] > 50 for a, b in zip(middles, middles[1:])), middles
    if "formulas" in expect:
        annotations = [words(a.text_content()) for a in html.iter("{*}annotation", "annotation")]
        assert all(words(tex) in annotations for tex in expect["formulas"]), annotations
        assert docx_xml.count("<m:oMath>") + docx_xml.count("<m:oMath ") >= len(expect["formulas"])
        assert sorted(words(tex) for tex in expect["formulas"]) == sorted(pdf_formula_alts(outputs["pdf"]))
    if "tables" in expect:
        assert len(list(html.iter("table"))) == expect["tables"]
        assert docx_xml.count("<w:tbl>") == expect["tables"]
        assert pdf_tagged_tables(outputs["pdf"]) == expect["tables"]
    for text, target in expect.get("links", {}).items():
        assert [a.get("href") for a in html.iter("a") if words(a.text_content()) == text] == [f"#{target}"], text
        assert html.get_element_by_id(target) is not None, target
        assert f'w:anchor="{target}"' in docx_xml and f'w:name="{target}"' in docx_xml, target
    if "links" in expect:
        inside, outside = pdf_links(outputs["pdf"])
        assert len(inside) >= len(expect["links"]) and not outside, (inside, outside)
    for heading in expect.get("toc", []):
        assert heading in html.find(".//nav[@id='TOC']").text_content()
        assert any(heading in title for title in pdf_outline(outputs["pdf"])), (heading, pdf_outline(outputs["pdf"]))
        assert any(heading in p.text for p in Document(str(outputs["docx"])).paragraphs
                   if p.style.name.startswith("Heading")), heading
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
    "::: {layout-ncol=2}\nA\n:::": "layouts (layout, layout-ncol) are supported by the embedded engine only on a "
                                 "figure div",
    "::: {.panel-tabset}\nA\n:::": "panels (.panel-*) are not supported by the embedded engine",
    "Se @thm-energi.": "cross-reference '@thm-energi' is of a kind the embedded engine does not support",
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
    from underlag.engine.messages import text

    assert text("cli.error", message=text("quarto.missing")) in capsys.readouterr().err


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
