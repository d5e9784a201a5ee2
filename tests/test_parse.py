"""Code or prose, decided by a CommonMark parse (engine/codeblocks.py), and the problems found
before any tool runs, each at its file, line and column.

Most cases only assemble a tiny book (no renderer runs); the PDF/UA and filter cases build.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import docx_text, html_tree

from underlag.engine.assemble import assemble
from underlag.engine.book import read_book
from underlag.engine.errors import InputError
from underlag.engine.messages import text as msg


def book(folder: Path, chapter: str, variables: str = "x: VÄRDE\n", **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_quarto.yml").write_text("book:\n  title: Prov\n  chapters:\n    - index.qmd\nlang: sv-SE\n", "utf-8")
    (folder / "_variables.yml").write_text(variables, "utf-8")
    (folder / "index.qmd").write_text(chapter, "utf-8")
    for name, text in files.items():
        (folder / name.replace("__", "/")).write_text(text, "utf-8")
    return folder


def problems(folder: Path) -> list[str]:
    try:
        assemble(read_book(folder))
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


def assembled(folder: Path) -> list[tuple[int, bool, str]]:
    return [(line.line, line.code, line.text) for line in assemble(read_book(folder)).lines]


def test_fence_in_a_list_item_closes_where_commonmark_closes_it(tmp_path):
    """Issue 18 item 1: `- ```yaml` used to flip the rest of the book into code (line patterns saw
    only the indented closing fence): later variables printed literally and cells went unreported."""
    folder = book(tmp_path, "# K\n\n- ```yaml\n  key: 1\n  ```\n- item\n\nEfter {{< var x >}}.\n\n"
                            "```{python}\nprint(1)\n```\n")
    assert problems(folder) == ["index.qmd:10:1: executable code cell {python} is not supported by the embedded "
                                "engine; show code with ```python or run it in a data stage"]


def test_fence_in_a_block_quote_and_cell_in_a_list_are_found(tmp_path):
    folder = book(tmp_path, "# K\n\n> ```\n> @fig-saknas\n> ```\n\n1. Steg\n\n   ```{r}\n   1 + 1\n   ```\n")
    assert problems(folder) == ["index.qmd:9:4: executable code cell {r} is not supported by the embedded "
                                "engine; show code with ```python or run it in a data stage"]


def test_escaped_cell_is_shown_with_its_fences(tmp_path):
    """Issue 18 item 2: ```{{r}} was a paragraph "{{r}} #| echo: false 1 + 1", and a `# comment`
    in it a heading. Quarto shows the cell as code, its fence reading ```{r}."""
    folder = book(tmp_path, "# K\n\n```{{r}}\n#| echo: false\n# kommentar\n1 + 1\n```\n\nText.\n")
    lines = assembled(folder)
    code = [text for _, is_code, text in lines if is_code]
    assert code == ["````{.r .cell-code}", "```{r}", "#| echo: false", "# kommentar", "1 + 1", "```", "````"]
    assert (9, False, "Text.") in lines


def test_shortcodes_in_code_as_quarto_handles_them(tmp_path):
    """Quarto expands var/meta in code blocks too (its shortcode filter has a CodeBlock handler)
    and splices includes there, unless the block says shortcodes=false; {{{< >}}} prints {{< >}}."""
    folder = book(tmp_path, "# K\n\n```\n{{< var x >}} och {{{< var x >}}}\n{{< include del.txt >}}\n```\n\n"
                            "```{shortcodes=false}\n{{< var x >}} {{< include del.txt >}}\n```\n\n"
                            "Prosa {{< var x >}} och {{{< var x >}}}.\n",
                  **{"del.txt": "inkluderad {{< var x >}}\n"})
    texts = [(is_code, text) for _, is_code, text in assembled(folder)]
    assert (True, "VÄRDE och {{< var x >}}") in texts
    assert (True, "inkluderad VÄRDE") in texts
    assert (True, "{{< var x >}} {{< include del.txt >}}") in texts
    assert (False, "Prosa VÄRDE och {{< var x >}}.") in texts


def test_unknown_shortcode_in_code_is_still_reported(tmp_path):
    folder = book(tmp_path, "# K\n\n```\n{{< video a.mp4 >}}\n```\n")
    assert [p for p in problems(folder) if "index.qmd:4:1: shortcode 'video'" in p]


def test_reference_in_inline_code_is_not_a_reference(tmp_path):
    folder = book(tmp_path, "# K\n\nSkriv `@fig-x` eller ``@tbl-y`` för att hänvisa, och `@knuth84`.\n")
    assert problems(folder) == []


def test_inline_cell_is_reported_where_it_stands(tmp_path, monkeypatch):
    monkeypatch.setenv("LC_MESSAGES", "sv_SE.UTF-8")  # the Swedish a writer reads (conftest sets English)
    folder = book(tmp_path, "# K\n\nSvaret är `{python} 6 * 7` och `{r} x` men `{.python} y` är bara kod.\n\n"
                            "```\n`{python} 1` i ett kodblock\n```\n")
    found = problems(folder)
    assert [p.split(" skulle")[0] for p in found] == ["index.qmd:3:11: inline-koden `{python} 6 * 7`",
                                                      "index.qmd:3:32: inline-koden `{r} x`"]


@pytest.mark.parametrize("prefix", ["nte", "tip", "wrn", "imp", "cau"])
def test_callout_reference_is_not_a_citation(tmp_path, prefix):
    # a callout with an id is numbered and referenced (crossref.lua), never taken for a citation
    folder = book(tmp_path, f"# K\n\n::: {{#{prefix}-a .callout-note}}\nRuta.\n:::\n\nSe @{prefix}-a.\n")
    assert problems(folder) == []
    undefined = book(tmp_path / "b", f"# K\n\nSe @{prefix}-saknas.\n")
    found = problems(undefined)
    assert found and all("bibliography" not in p and "citation" not in p for p in found), found


def test_pdf_ua_problems_stop_only_the_pdf(tmp_path, capsys, monkeypatch):
    """An image without alt text and a skipped heading level: reported at their lines, with the
    PDF/UA requirement; HTML and DOCX are built, the PDF is not, and the build exits 2."""
    monkeypatch.setenv("LC_MESSAGES", "sv_SE.UTF-8")  # the Swedish a writer reads (conftest sets English)
    from PIL import Image

    from underlag.commands.cli import main

    folder = book(tmp_path, "# K\n\nText.\n\n![](bild.png)\n\n### Djup rubrik\n\n::: {.callout-note}\n"
                            "#### Rutans rubrik\nx\n:::\n\n## Rätt\n\n![Beskriven](bild.png)\n")
    Image.new("RGB", (8, 8), "red").save(folder / "bild.png")
    assert main(["build", "--project", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "index.qmd:5:5: bilden 'bild.png' saknar alternativtext" in err and "PDF/UA" in err
    assert "index.qmd:7:1: rubriken 'Djup rubrik' är på nivå 3 men följer på nivå 1" in err
    assert "Rutans rubrik" not in err  # a callout's heading is its title
    assert "HTML och DOCX byggdes; PDF byggdes inte (2 problem ovan)." in err
    assert "Traceback" not in err and "PDF/UA-1 error" not in err
    assert "Djup rubrik" in html_tree(folder / "report/rapport.html").find(".//body").text_content()
    assert "Djup rubrik" in docx_text(folder / "report/rapport.docx")
    assert not (folder / "report/rapport.pdf").exists()


def test_a_stopping_filter_is_a_located_problem(tmp_path, capsys, monkeypatch):
    """A Lua filter that stops (here one more real filter in the chain, stopping on a word as ours
    stop on a reference without target): the writer gets the line that names the element, in
    every format's run, and neither pandoc's "Error running filter" nor a Lua stack trace."""
    from underlag.commands.cli import main
    from underlag.engine.render import pandoc

    stopping = tmp_path / "stopping.lua"
    stopping.write_text('function Str(s) if s.text == "Stopp" then error("element @sec-stopp cannot be handled") '
                        "end end\n", "utf-8")
    monkeypatch.setattr(pandoc, "FILTERS", (*pandoc.FILTERS, str(stopping)))
    folder = book(tmp_path / "bok", "# K\n\nText.\n\n## Stopp {#sec-stopp}\n\nSe @sec-stopp.\n")
    assert main(["build", "--project", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "stack traceback" not in err and "Error running filter" not in err, err
    advice = msg("filter_errors.advice", filter="stopping.lua", message="element @sec-stopp cannot be handled")
    assert err.startswith(f"index.qmd:7:4: {advice}"), err


def test_failing_chapter_is_named_when_the_message_names_nothing(tmp_path):
    """The fallback: a filter message without a name is placed at the chapter that fails alone."""
    from underlag.engine.filter_errors import filter_problems
    from underlag.engine.render.pandoc import FilterError, pandoc_path

    broken = tmp_path / "broken.lua"
    broken.write_text('function Str(s) if s.text == "Boom" then error("oops") end end\n', "utf-8")
    chapter = lambda source, word: {"t": "Div", "c": [["", ["chapter"], [["source", source]]],  # noqa: E731
                                                      [{"t": "Para", "c": [{"t": "Str", "c": word}]}]]}
    document = {"pandoc-api-version": [1, 23, 1], "meta": {},
                "blocks": [chapter("a.qmd", "Lugnt"), chapter("kap/b.qmd", "Boom")]}
    command = [pandoc_path(), "--from", "json", "--to", "html", "--lua-filter", str(broken)]
    error = FilterError("broken.lua", "oops", command, tmp_path)
    found = filter_problems(error, [], document)
    assert [(p.path, p.line) for p in found] == [("kap/b.qmd", None)]
    assert "broken.lua: oops" in found[0].message


def test_typst_error_is_placed_in_its_chapter(tmp_path, capsys, monkeypatch):
    """Typst refuses the generated file (here raw Typst with a syntax error): the writer gets the
    chapter and line it came from, not a position in a temporary main.typ."""
    monkeypatch.setenv("LC_MESSAGES", "sv_SE.UTF-8")  # the Swedish a writer reads (conftest sets English)
    from underlag.commands.cli import main

    folder = book(tmp_path, "# K\n\nText.\n")
    (folder / "kap").mkdir()
    (folder / "kap/tva.qmd").write_text("# Två\n\nText.\n\n```{=typst}\n#let x = (1 + )\n```\n", "utf-8")
    (folder / "_quarto.yml").write_text("book:\n  title: Prov\n  chapters:\n    - index.qmd\n    - kap/tva.qmd\n"
                                        "lang: sv-SE\n", "utf-8")
    assert main(["build", "--project", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kap/tva.qmd:6:1: Typst kunde inte bygga PDF:en: expected expression"), err
    assert "main.typ" not in err and ".build-" not in err


def test_the_link_tables_markdown_it_shares_between_threads_are_filled_before_any_parse():
    """mdurl builds its character tables lazily and publishes each before filling it; the privacy
    scan parses in a thread beside the assembly, so a half-built table gave an IndexError."""
    import mdurl._decode
    import mdurl._encode

    from underlag.engine import codeblocks

    mdurl._encode.encode_cache.clear()
    mdurl._decode.decode_cache.clear()
    codeblocks._new_parser.cache_clear()
    codeblocks.code_blocks(["[a]: <b c>", "", "```", "x", "```"])
    tables = [*mdurl._encode.encode_cache.values(), *mdurl._decode.decode_cache.values()]
    assert len(tables) >= 2 and all(len(table) == 128 for table in tables)
