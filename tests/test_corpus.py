"""Real Quarto books nobody here wrote (tests/corpus/, copied from quarto-cli with its licence and a
SOURCE.md each), built in all three formats, checked against what Quarto documents.

Each book is built once per module. What a reader must find is asserted in the text of every
format (HTML through lxml, DOCX through python-docx, PDF through pdftotext); no Quarto syntax may
reach a reader (`:::`, `{{<`, `?@`, `@fig-`). What the copies lost (executable cells, `embed`) is
put back in a scratch copy and must be reported with its file and line, before any tool runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import docx_text, heading_numbers, html_tree

from underlag.commands.build import Options, build

CORPUS = Path(__file__).parent / "corpus"
FORMATS = ("html", "docx", "pdf")
# Quarto syntax that means something was not rendered
RAW_SYNTAX = (":::", "{{<", "?@", "@fig-", "@tbl-", "@sec-")


def words(text: str) -> str:
    text = text.replace("\u00ad\n", "").replace("\u00ad", "").replace("\u00a0", " ").replace("\u2060", "")
    return re.sub(r"\s+", " ", text).strip()


def pdf_words(path: Path) -> str:
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                            check=True)
    return words(result.stdout)


def copy_book(name: str, folder: Path) -> Path:
    shutil.copytree(CORPUS / name, folder, ignore=shutil.ignore_patterns("SOURCE.md", "LICENSE"))
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """name -> {format: words of the output, "headings": {format: [heading texts]}}; one build per book."""
    done: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in done:
            folder = copy_book(name, tmp_path_factory.mktemp(name) / "book")
            outputs = build(folder, Options()).outputs
            html = html_tree(outputs["html"]).find(".//body")
            import docx

            document = docx.Document(str(outputs["docx"]))
            done[name] = {
                "html": words(html.text_content()), "docx": words(docx_text(outputs["docx"])),
                "pdf": pdf_words(outputs["pdf"]),
                "headings": {
                    "html": [words(h.text_content()) for h in html.iter("h1", "h2", "h3", "h4", "h5", "h6")],
                    # a heading's number is Word's list numbering, shown before its text
                    "docx": [words(f"{numbers[p._p]} {p.text}" if p._p in numbers else p.text)
                             for numbers in [heading_numbers(document)]
                             for p in document.paragraphs if p.style.name.startswith("Heading")],
                },
                "code": [words(pre.text_content()) for pre in html.iter("pre")],
            }
        return done[name]

    return get


BOOKS = ("htmlbook", "simple", "page-footer", "pages")
# Text the source shows on purpose as written (code blocks with shortcodes=false)
LITERAL = {"pages": ("{{< meta somevalue >}}", "{{< gallery >}}", "{{< /gallery >}}", "{{< figureforgallery")}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", BOOKS)
def test_no_quarto_syntax_reaches_the_reader(built, name, fmt):
    text = built(name)[fmt]
    for literal in LITERAL.get(name, ()):
        text = text.replace(literal, "")
    assert not [raw for raw in RAW_SYNTAX if raw in text], (name, fmt, text[:800])


# --- htmlbook (quarto-cli tests/docs/smoke-all/book/htmlbook) ----------------------------------

HTMLBOOK_TEXT = [
    # chapters, sections and appendices, in the book's order
    "Index", "Formatting", "Inline", "Cross-links", "Lists", "Callouts", "Code and figures",
    "First chapter", "A subhead", "Subsub head", "Subsub head 2", "Subsubsub head", "code() in a subhead",
    "Second chapter", "References", "First appendix", "Second appendix",
    # footnotes, lists, callouts (a callout's own heading is its title)
    "This is a footnote.", "This is another footnote, but this one has style!",
    "This is a tight bulleted list:", "First element", "Fourth",
    "This is a note", "This is a warning", "This is a tip", "This is a caution",
    "This is a heading", "This is important!",
    # code blocks keep their text
    "<p>Hello!</p>",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_htmlbook_text(built, fmt):
    text = built("htmlbook")[fmt]
    assert not [s for s in HTMLBOOK_TEXT if s not in text], (fmt, [s for s in HTMLBOOK_TEXT if s not in text])


@pytest.mark.parametrize("fmt", FORMATS)
def test_htmlbook_cross_references_carry_quarto_numbers(built, fmt):
    """Quarto numbers chapters 1, 2, … and sections within them; references show those numbers
    (the word before the number is the book language's, so only the number is checked here)."""
    text = built("htmlbook")[fmt]
    assert re.search(r"Within page: \w+ 2\.3\b", text), text[:1500]  # sec-lists: chapter 2, third section
    assert re.search(r"Across page: \w+ 3\.1\b", text)  # sec-code, in the next chapter
    assert re.search(r"Chapter: \w+ 3\b(?!\.)", text)  # sec-code-and-figures is chapter 3


@pytest.mark.parametrize("fmt", ("html", "docx"))
def test_htmlbook_headings_are_numbered_as_quarto_numbers_them(built, fmt):
    headings = built("htmlbook")["headings"][fmt]
    for expected in ("2 Formatting", "2.3 Lists", "3 Code and figures", "3.1 Code", "4.1.2 Subsub head 2",
                     "A First appendix", "B Second appendix"):
        assert any(h.endswith(expected) or h == expected for h in headings), (fmt, expected, headings)
    assert "References" in headings  # {.unnumbered}


@pytest.mark.parametrize("fmt", FORMATS)
def test_htmlbook_part_page_is_shown(built, fmt):
    text = built("htmlbook")[fmt]
    assert "First part" in text and "This is text introduction the first part." in text


# --- simple (quarto-cli tests/docs/books/simple) and page-footer ---------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ("simple", "page-footer"))
def test_simple_books_number_chapters_and_cite(built, name, fmt):
    text = built(name)[fmt]
    assert re.search(r"\b1 Introduction\b", text), text[:800]
    # {.unnumbered}: no number before the heading (not a date's year, nor the footer's "Page 3 of 7")
    assert not re.search(r"(?<![\w/])(?<!of )\d+(\.\d+)* Preface", text)
    assert "This is a Quarto book." in text
    assert "In summary, this book has no content whatsoever." in text
    # citeproc with the default (Chicago author-date) style: "See Knuth (1984) for …" and the entry
    assert "See Knuth (1984) for additional discussion of literate programming." in text
    assert "Literate Programming" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_simple_chapter_in_a_subfolder(built, fmt):
    assert re.search(r"2 Chapter 2 - Embedding Things From Subfolders", built("simple")[fmt])


# --- pages: Quarto cells shown as code, shortcodes in code -------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_cells_inside_markdown_blocks_stay_code(built, fmt):
    """A ````markdown block holds whole Quarto documents as code: their `#` comment lines, YAML and
    cell options are text in the block, never headings or figures of the book."""
    text = built("pages")[fmt]
    for code in ("# NOTE: get_content_credentials reads the", 'title: "Client Credentials Using the Python SDK"',
                 "#| label: fig-parametric", "//| fig-cap: \"A diagram of the Linux kernel.\"",
                 "flowchart LR", "viewof bill_length_min = Inputs.range("):
        assert code in text, (fmt, code)
    if fmt in ("html", "docx"):
        headings = " | ".join(built("pages")["headings"][fmt])
        assert "NOTE" not in headings and "Example Client Credentials Exchange" not in headings, headings


@pytest.mark.parametrize("fmt", FORMATS)
def test_escaped_cell_shows_its_fences(built, fmt):
    """issue-5783: Quarto's own test expects ```{python} in the output of an escaped cell {{python}}."""
    text = built("pages")[fmt]
    assert "```{python} 1 + 1 ```" in text, text[-1500:]
    assert "{{python}}\n1 + 1" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_shortcodes_false_keeps_code_as_written(built, fmt):
    """5507 and 5902: `shortcodes=false` on a code block leaves its shortcodes as written."""
    text = built("pages")[fmt]
    assert "{{< meta somevalue >}}" in text
    assert '{{< figureforgallery src="search2.png"' in text.replace("”", '"').replace("“", '"')


# --- what the copies lost is reported, with its line ----------------------------------------------

# (file, line in the original, the original text) as SOURCE.md lists them
REMOVED = {
    "htmlbook": [
        ("code.qmd", 9, "```{r}\n#| include: false\nknitr::opts_chunk$set(collapse = TRUE, comment = \"#>\")\n```"),
        ("code.qmd", 18, "```{r}\n1 + 1\n```"),
        ("code.qmd", 30, "@fig-hist shows a flat histogram."),
        ("code.qmd", 32, "```{r}\n#| label: fig-hist\n#| echo: false\n#| fig-cap: This is a histogram\n"
                         "#| fig-alt: This is some alt-text\nhist(1:10)\n```"),
        ("formatting.qmd", 23, "-   Figure: @fig-hist"),
    ],
    "simple": [
        ("chapter2/chapter2.qmd", 4, "{{< embed ../notebooks/computations.ipynb >}}"),
        ("chapter2/chapter2.qmd", 6, "```{r}\nplot(cars)\n```"),
        ("intro.qmd", 5, "{{< embed notebooks/computations.ipynb#fig-visualization >}}"),
    ],
}
REPORTED = {
    "htmlbook": ["code.qmd:9:1: executable code cell {r}", "code.qmd:18:1: executable code cell {r}",
                 "code.qmd:30:1: cross-reference '@fig-hist' has no target",
                 "code.qmd:32:1: executable code cell {r}",
                 "formatting.qmd:23:13: cross-reference '@fig-hist' has no target"],
    "simple": ["chapter2/chapter2.qmd:4:1: shortcode 'embed' is not supported",
               "chapter2/chapter2.qmd:6:1: executable code cell {r}",
               "intro.qmd:5:1: shortcode 'embed' is not supported"],
}


def restore(folder: Path, removed: list[tuple[str, int, str]]) -> None:
    """Put each removed text back at its original line (in order, so later lines fall into place)."""
    for name, line, text in removed:
        path = folder / name
        lines = path.read_text("utf-8").split("\n")
        lines[line - 1:line - 1] = text.split("\n")
        path.write_text("\n".join(lines), "utf-8")


@pytest.mark.parametrize("name", sorted(REMOVED))
def test_what_the_copy_lost_is_reported_at_its_line(name, tmp_path, capsys):
    from underlag.commands.cli import main

    folder = copy_book(name, tmp_path / "book")
    restore(folder, REMOVED[name])
    assert main(["build", "--project", str(folder)]) == 2
    reported = capsys.readouterr().err
    assert not [r for r in REPORTED[name] if r not in reported], reported
    assert "Traceback" not in reported and not (folder / "report" / "rapport.html").exists()


# --- orange-book (quarto-cli tests/docs/smoke-all/typst/orange-book): what is not supported ------

def test_a_feature_book_is_refused_with_every_place_named(tmp_path, capsys):
    """Quarto's feature test for Typst books uses much the embedded engine does not support. All of
    it is reported in one run, before any tool runs, each problem at the file, line and column
    where the construct it names stands; a cross-reference of a kind the book declares or a
    callout's is never mistaken for a citation."""
    from underlag.commands.cli import main

    folder = copy_book("orange-book", tmp_path / "book")
    assert main(["build", "--project", str(folder)]) == 2
    err = capsys.readouterr().err
    for tool_noise in ("Traceback", "stack traceback", "Error running filter", "PDF/UA-1 error", "pandoc ("):
        assert tool_noise not in err
    problems = err.strip().splitlines()[:-1]
    assert len(problems) > 40 and err.strip().splitlines()[-1].endswith("report/ was left unchanged.")
    for problem in problems:
        place = re.match(r"^([\w./-]+\.qmd):(\d+):(\d+): ", problem)
        assert place, problem
        named = re.search(r"'(@[\w-]+)'", problem)
        if named:  # the column points at what the message names
            line = (folder / place.group(1)).read_text("utf-8").splitlines()[int(place.group(2)) - 1]
            assert line[int(place.group(3)) - 1:].startswith(named.group(1)), (problem, line)
    assert "chapter1.qmd:16:1: executable code cell {r}" in err
    assert "chapter1.qmd:26:1: shortcode 'embed' is not supported" in err
    assert not [p for p in problems if "bibliography" in p]  # @dino-, @wrn-, @tip- … are not citations
    assert [p for p in problems if p.startswith("chapter1.qmd:48:84: ") and "'@dino-steg'" in p and "'dino'" in p
            and "crossref: custom:" in p]  # the book's own kind, named as such (either language)
