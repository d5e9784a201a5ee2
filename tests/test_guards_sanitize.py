"""The sanitizer in-process: what raw HTML keeps and loses, where each problem is placed, which
paths count as inside the project, and what a pandoc document keeps of links, images, attributes
and raw Typst.

Fast unit tests so that mutation testing (tests/mutation/run.py) sees them: the fragment functions
are called directly on real HTML strings, and one real pandoc parse per module serves the
document-level tests. test_hostile_content.py holds the same guards through whole builds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from underlag.engine.assemble import SourceLine
from underlag.engine.errors import Problem
from underlag.engine.messages import text
from underlag.engine.render.pandoc import MARKDOWN, pandoc_path
from underlag.engine.sanitize import (
    CHAPTER_OPENING,
    _Inspector,
    _removed,
    _sanitize,
    inspect,
)

CHAPTER = "chapters/sub/c.qmd"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A project with real images, and beside it a folder whose name starts like the project's."""
    base = tmp_path_factory.mktemp("sanitize")
    project = base / "proj"
    (project / "img").mkdir(parents=True)
    (project / "chapters" / "sub").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(project / "img" / "a.png")
    Image.new("RGB", (2, 2)).save(project / "img" / "b c.png")
    Image.new("RGB", (2, 2)).save(project / "img" / "both.png")
    (project / "img" / "both.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', "utf-8")
    (project / "img" / "broken.png").write_bytes(b"not a png")
    (project / "chapters" / "sub" / "near.png").write_bytes((project / "img" / "a.png").read_bytes())
    (base / "proj-other").mkdir()
    Image.new("RGB", (2, 2)).save(base / "proj-other" / "a.png")
    return project.resolve()


def inspector(root: Path, lines: list[str], path: str = CHAPTER) -> _Inspector:
    """An inspector inside one chapter (chapters/sub/c.qmd) whose lines are `lines`."""
    found = _Inspector([SourceLine(line, root / path, number) for number, line in enumerate(lines, 1)], root)
    found.chapter_dir = (root / path).parent
    return found


def removed(tag: str) -> str:
    return text("sanitize.html_removed", what=text("sanitize.what.element", tag=tag))


def removed_attribute(name: str, tag: str) -> str:
    return text("sanitize.html_removed", what=text("sanitize.what.attribute_on", name=name, tag=tag))


def messages(problems) -> list[str]:
    return [p.message for p in problems]


# -- clean_html: what raw HTML keeps ----------------------------------------------------------------

@pytest.mark.parametrize("fragment, kept", [
    ('<img src="../../img/a.png" alt="a">', '<img src="img/a.png" alt="a">'),  # from the chapter's folder
    ('<img src="/img/a.png">', '<img src="img/a.png">'),  # from the project's root
    ('<img src="near.png">', '<img src="chapters/sub/near.png">'),
    ('<img src="../../img/a.png?v=1#top">', '<img src="img/a.png">'),
    ('<img src="/img/b%20c.png">', '<img src="img/b c.png">'),
    ('<span style="color:red">s</span>', '<span style="color:red">s</span>'),
    ('<a href="https://example.se/x">x</a>', '<a href="https://example.se/x">x</a>'),
    ('<a href="mailto:a@example.se">x</a>', '<a href="mailto:a@example.se">x</a>'),
    ('<a href="#rubrik">x</a>', '<a href="#rubrik">x</a>'),
    ('<details open><summary>s</summary>t</details>', '<details open=""><summary>s</summary>t</details>'),
])
def test_clean_html_keeps_allowed_markup_and_rewrites_img_src_to_the_project_file(root, fragment, kept):
    checker = inspector(root, [fragment])
    assert checker.clean_html(fragment) == kept
    assert checker.errors == [] and checker.warnings == []


def test_an_img_src_inside_the_project_counts_as_an_image_of_the_book(root):
    checker = inspector(root, ["x"])
    checker.clean_html('<img src="../../img/a.png"><img src="/img/b%20c.png"><video poster="/img/both.png">')
    assert checker.images == {root / "img" / "a.png", root / "img" / "b c.png"}  # the poster is no <img src>


@pytest.mark.parametrize("fragment, cleaned, removals", [
    ("<script>alert(1)</script>ok", "ok", [removed("script")]),
    ('<p onclick="x()" onmouseover="y()">hi</p>', "<p>hi</p>",
     [removed_attribute("onclick", "p"), removed_attribute("onmouseover", "p")]),
    ('<a href="javascript:alert(1)">t</a>', "<a>t</a>", [removed_attribute("href", "a")]),
    ('<a href="JavaScript:alert(1)">t</a>', "<a>t</a>", [removed_attribute("href", "a")]),
    ('<a href="vbscript:x">t</a>', "<a>t</a>", [removed_attribute("href", "a")]),
    ('<a href="data:text/html,x">t</a>', "<a>t</a>", [removed_attribute("href", "a")]),
    ('<area href="javascript:x">', "<area>", [removed_attribute("href", "area")]),
    ('<img src="data:image/png;base64,AAA">', "<img>", [removed_attribute("src", "img")]),
    ('<img src="javascript:x">', "<img>", [removed_attribute("src", "img")]),
    ('<iframe srcdoc="x"></iframe>', "", [removed("iframe")]),
    ('<meta http-equiv="refresh" content="0;url=https://example.se">', "", [removed("meta")]),
    ('<style>p { color: red }</style>t', "t", [removed("style")]),
    ('<svg><script>1</script><foreignObject><p>x</p></foreignObject></svg>', "",
     [removed("svg"), removed("script"), removed("foreignobject"), removed("p")]),
    ('<form action="#x"><input formaction="#y"></form>', "", [removed("form"), removed("input")]),
    ('<span style="color: red; background: url(../../img/a.png)">s</span>', "<span>s</span>",
     [removed_attribute("style", "span")]),
    ('<span style="width: expression(alert(1))">s</span>', "<span>s</span>", [removed_attribute("style", "span")]),
    ('<span style="color: \\72 ed">s</span>', "<span>s</span>", [removed_attribute("style", "span")]),
    ("<b>x</b><!-- note -->", "<b>x</b>", []),
])
def test_clean_html_removes_active_content_with_a_warning_per_removal(root, fragment, cleaned, removals):
    checker = inspector(root, [fragment])
    assert checker.clean_html(fragment) == cleaned
    assert checker.errors == []
    assert sorted(messages(checker.warnings)) == sorted(removals)
    assert all(w.severity == "warning" and (w.path, w.line, w.column) == (CHAPTER, 1, 1) for w in checker.warnings)


@pytest.mark.parametrize("fragment, what, url", [
    ('<img src="../../../proj-other/a.png">', "<img src>", "../../../proj-other/a.png"),  # a sibling named like us
    ('<img src="/../proj-other/a.png">', "<img src>", "/../proj-other/a.png"),
    ('<img srcset="/img/a.png 1x, ../../../proj-other/a.png 2x">', "<img srcset>", "../../../proj-other/a.png"),
    ('<video poster="../../../proj-other/a.png"></video>', "<video poster>", "../../../proj-other/a.png"),
    ('<object data="../../../proj-other/a.png"></object>', "<object data>", "../../../proj-other/a.png"),
    ('<embed src="../../../proj-other/a.png">', "<embed src>", "../../../proj-other/a.png"),
    ('<link href="../../../proj-other/a.css">', "<link href>", "../../../proj-other/a.css"),
    ('<table background="/../proj-other/a.png"></table>', "<table background>", "/../proj-other/a.png"),
    ('<input type="image" src="../../../proj-other/a.png">', "<input src>", "../../../proj-other/a.png"),
])
def test_clean_html_refuses_a_resource_outside_the_project_in_every_attribute(root, fragment, what, url):
    checker = inspector(root, [fragment])
    cleaned = checker.clean_html(fragment)
    assert "proj-other" not in cleaned
    assert checker.errors == [Problem(CHAPTER, 1, fragment.index(url) + 1, text("sanitize.outside", what=what))]


@pytest.mark.parametrize("fragment, what, url", [
    ('<img src="https://example.se/a.png">', "<img src>", "https://example.se/a.png"),
    ('<img src="//example.se/a.png">', "<img src>", "//example.se/a.png"),
    ('<img srcset="/img/a.png 1x, https://example.se/b.png 2x">', "<img srcset>", "https://example.se/b.png"),
    ('<audio src="ftp://example.se/a.ogg"></audio>', "<audio src>", "ftp://example.se/a.ogg"),
    ('<a ping="https://example.se/p" href="#x">t</a>', "<a ping>", "https://example.se/p"),
])
def test_clean_html_refuses_a_network_resource(root, fragment, what, url):
    checker = inspector(root, [fragment])
    cleaned = checker.clean_html(fragment)
    assert "example.se" not in cleaned
    assert checker.errors == [Problem(CHAPTER, 1, fragment.index(url) + 1, text("sanitize.network", what=what, url=url))]


def test_clean_html_refuses_a_file_address_and_a_missing_file_from_the_right_start(root):
    fragment = '<img src="file:///etc/passwd"> <img src="/img/none.png"> <img src="gone.png">'
    checker = inspector(root, [fragment])
    assert checker.clean_html(fragment) == '<img> <img src="img/none.png"> <img src="chapters/sub/gone.png">'
    assert checker.errors == [
        Problem(CHAPTER, 1, 11, text("sanitize.file_url", what="<img src>", url="file:///etc/passwd")),
        Problem(CHAPTER, 1, fragment.index("/img/none") + 1, text("sanitize.missing", what="<img src>", path="img/none.png",
                                     start=text("sanitize.from_root"))),
        Problem(CHAPTER, 1, fragment.index("gone") + 1, text("sanitize.missing", what="<img src>", path="chapters/sub/gone.png",
                                     start=text("sanitize.from_chapter"))),
    ]


def test_clean_html_checks_css_references_in_style_attributes_and_elements(root):
    fragment = ('<p style="background: url(\'../../../proj-other/a.png\')">x</p>'
                '<style>@import "https://example.se/s.css"; b { background: url(/img/a.png) }</style>')
    checker = inspector(root, [fragment])
    assert checker.clean_html(fragment) == "<p>x</p>"
    assert checker.errors == [
        Problem(CHAPTER, 1, 28, text("sanitize.outside", what=text("sanitize.what.css"))),
        Problem(CHAPTER, 1, fragment.index("https") + 1, text("sanitize.network", what=text("sanitize.what.css_in_style"),
                                     url="https://example.se/s.css")),
    ]


# -- root_relative: the attribute filter nh3 calls --------------------------------------------------

def test_root_relative_rewrites_img_src_and_leaves_other_attributes(root):
    checker = inspector(root, ["x"])
    assert checker.root_relative("img", "src", "../../img/a.png") == "img/a.png"
    assert checker.root_relative("img", "src", "/img/b%20c.png?x=1") == "img/b c.png"
    assert checker.root_relative("img", "src", "../../../proj-other/a.png") is None
    assert checker.root_relative("img", "src", "/") == "."
    assert checker.root_relative("img", "alt", "../../../proj-other/a.png") == "../../../proj-other/a.png"
    assert checker.root_relative("a", "src", "../x") == "../x"
    assert checker.root_relative("span", "style", "color: red") == "color: red"
    assert checker.errors == []


@pytest.mark.parametrize("value", ["url(a.png)", "URL(a.png)", "@import 'x'", "@IMPORT 'x'", "width: expression(1)",
                                   "width: EXPRESSION(1)", "color: \\72 ed"])
def test_root_relative_drops_a_style_that_could_fetch(root, value):
    assert inspector(root, ["x"]).root_relative("span", "style", value) is None
    assert inspector(root, ["x"]).root_relative("p", "style", value) is None


@pytest.mark.parametrize("value, key", [
    ("https://example.se/a.png", "sanitize.network"), ("//example.se/a.png", "sanitize.network"),
    ("\\\\server\\share\\a.png", "sanitize.network"), (" //example.se/a.png", "sanitize.network"),
    ("file:///etc/passwd", "sanitize.file_url"), ("javascript:x", None), ("data:image/png;base64,A", None),
])
def test_root_relative_never_lets_an_address_through_an_img_src(root, value, key):
    checker = inspector(root, [value])
    assert checker.root_relative("img", "src", value) is None
    expected = [] if key is None else [Problem(CHAPTER, 1, value.strip()[:1] and value.index(value.strip()) + 1, text(
        key, what="<img src>", url=value.strip()))]
    assert checker.errors == expected


# -- _sanitize and _removed: pandoc's one-tag-at-a-time raw HTML ------------------------------------

@pytest.mark.parametrize("raw, cleaned", [
    ("</div>", "</div>"), ("  </span >\n", "</span >"), ("</SPAN>", "</SPAN>"), ("</img>", ""), ("</br>", ""),
    ("</script>", ""), ("</foo>", ""), ("</td>", "</td>"),
    ("<div>", "<div>"), ('<div class="x" onclick="y">', '<div class="x">'), ("  <span>  ", "<span>"),
    ('<td class="x">', '<td class="x">'), ("<tr>", "<tr>"), ("<thead>", "<thead>"), ("<col span=\"2\">", '<col span="2">'),
    ("<caption>", "<caption>"), ("<script>", ""), ("<iframe src=\"x\">", ""), ("<DIV>", "<div>"),
    ("<b>x</b>", "<b>x</b>"), ("<p>a</p><p>b</p>", "<p>a</p><p>b</p>"), ("a <b>x", "a <b>x</b>"),
])
def test_sanitize_cleans_lone_tags_in_their_context(root, raw, cleaned):
    assert _sanitize(raw, lambda tag, attribute, value: value) == cleaned


def test_sanitize_passes_every_attribute_through_the_rewrite():
    seen = []
    _sanitize('<img src="a.png" alt="b">', lambda tag, attribute, value: seen.append((tag, attribute, value)) or value)
    assert sorted(seen) == [("img", "alt", "b"), ("img", "src", "a.png")]
    assert _sanitize('<img src="a.png" alt="b">', lambda tag, attribute, value: None) == "<img>"


def test_removed_names_each_element_and_attribute_once():
    assert _removed('<p onclick="x" class="c">t</p><script>1</script><script>2</script>', '<p class="c">t</p>') == [
        text("sanitize.what.element", tag="script"),
        text("sanitize.what.attribute_on", name="onclick", tag="p")]
    assert _removed('<p style="color: red; x: y">t</p>', '<p style="color: red">t</p>') == [
        text("sanitize.what.attribute_on", name="style", tag="p")]
    assert _removed('<iframe src="x"></iframe>', "") == [text("sanitize.what.element", tag="iframe")]
    assert _removed("<b>x</b>", "<b>x</b>") == []


# -- active_target and attributes: links and {…} attributes in Markdown ----------------------------

@pytest.mark.parametrize("url, scheme", [("javascript:alert(1)", "javascript"), ("  VBScript:x", "vbscript"),
                                         ("data:text/html,x", "data"), ("FILE:///etc/passwd", "file")])
def test_active_target_removes_a_link_that_runs_code(root, url, scheme):
    checker = inspector(root, ["a", f"see [t]({url}) here"])
    assert checker.active_target(url, "the link")
    assert checker.warnings == [Problem(CHAPTER, 2, 9 + url.index(url.strip()), text(
        "sanitize.active_address", what="the link", scheme=scheme), "warning")]


@pytest.mark.parametrize("url", ["https://example.se", "mailto:a@example.se", "#x", "x.html", "javascripts.html",
                                 "c:/x", ""])
def test_active_target_keeps_an_ordinary_link(root, url):
    checker = inspector(root, [url])
    assert not checker.active_target(url, "the link")
    assert checker.warnings == []


def test_attributes_drop_handlers_resources_and_fetching_styles(root):
    line = '![a](x.png){#id .c onClick="x()" data-k="1" src="/img/a.png" style="color:red" srcset="/img/a.png"}'
    checker = inspector(root, [line, '[t](y){style="background: url(/img/a.png)" title="t"}'])
    assert checker.attributes(["id", ["c"], [["onClick", "x()"], ["data-k", "1"], ["src", "/img/a.png"],
                                             ["style", "color:red"], ["srcset", "/img/a.png"]]]) == [
        "id", ["c"], [["data-k", "1"], ["style", "color:red"]]]
    assert checker.attributes(["", [], [["style", "background: url(/img/a.png)"], ["title", "t"]]]) == [
        "", [], [["title", "t"]]]
    assert checker.errors == []
    assert [(w.line, w.column, w.message) for w in checker.warnings] == [
        (1, line.index("x()") + 1, text("sanitize.attribute_runs_code", name="onClick")),
        (1, line.index('/img/a.png" style') + 1, text("sanitize.attribute_fetches", name="src")),
        (1, line.index('/img/a.png"}') + 1, text("sanitize.attribute_fetches", name="srcset")),
        (2, 15, text("sanitize.style_fetches")),
    ]


def test_attributes_check_what_they_would_fetch(root):
    checker = inspector(root, ['x{src="../../../proj-other/a.png" style="background: url(https://example.se/a.png)"}'])
    checker.attributes(["", [], [["src", "../../../proj-other/a.png"],
                                 ["style", "background: url(https://example.se/a.png)"]]])
    assert messages(checker.errors) == [
        text("sanitize.outside", what=text("sanitize.what.attribute", name="src")),
        text("sanitize.network", what=text("sanitize.what.css"), url="https://example.se/a.png")]


# -- raw: Typst that loads, Word XML that fetches, HTML that is emptied -------------------------------

EVAL_IMPORT = '#eval("#im" + "port \\"@lo" + "cal/evil:0.1.0\\": secret\\n#secret", mode: "markup")'
BLOCK_IMPORT = '#{import ("@lo" + "cal/evil:0.1.0"): secret; secret}'


@pytest.mark.parametrize("code, loads", [
    ('#import "x.typ": y', ["#import"]), ('#include "x.typ"', ["#include"]), (BLOCK_IMPORT, ["import"]),
    (EVAL_IMPORT, ["#eval"]), ("#let run = eval", ["eval"]), ('#read("/etc/passwd")', ["read("]),
    ('#image ("a.png")', ["image ("]), ('#json.decode(x) #csv("d.csv")', ["json.decode(", "csv("]),
    ('#plugin("p.wasm")', ["plugin("]), ('#bibliography("b.bib")', ["bibliography("]),
    ('#import "@preview/cetz:0.3.0"', ["#import", "@preview/"]), ('"@local/x:1.0.0"', ["@local/"]),
    ("#text(weight: \"bold\")[Important: included, evaluated, imported]", []), ("#box[x] #v(1em)", []),
])
def test_raw_typst_that_loads_or_evaluates_is_refused(root, code, loads):
    checker = inspector(root, ["  " + code])
    element = {"t": "RawBlock", "c": ["typst", code]}
    assert checker.raw(element) == [element]
    assert [(p.line, p.column, p.message) for p in checker.errors] == [
        (1, 3 + code.index(load), text("sanitize.typst_loads", code=load)) for load in loads]


def test_the_hidden_imports_really_read_a_package_outside_typsts_root(tmp_path, monkeypatch):
    """Why `eval` and a bare `import` are refused: Typst resolves `@local/` in the user's data folder,
    outside the root it is given (and `@preview/` on the network)."""
    import typst

    package = tmp_path / "data" / "typst" / "packages" / "local" / "evil" / "0.1.0"
    package.mkdir(parents=True)
    (package / "typst.toml").write_text('[package]\nname = "evil"\nversion = "0.1.0"\nentrypoint = "lib.typ"\n')
    (package / "lib.typ").write_text('#let secret = "OUTSIDE"\n')
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    work = tmp_path / "work"
    work.mkdir()
    for number, code in enumerate((EVAL_IMPORT, BLOCK_IMPORT)):
        (work / f"{number}.typ").write_text(code + "\n", "utf-8")
        svg = typst.compile(str(work / f"{number}.typ"), root=str(work), format="svg")
        assert b"<path" in svg or b"OUTSIDE" in svg  # it compiled: the package was read


@pytest.mark.parametrize("fmt, raw, kept", [
    ("html", "<script>x</script>", []), ("HTML5", "<b>x</b>", [{"t": "RawInline", "c": ["html5", "<b>x</b>"]}]),
    ("html4", '<p onclick="x">t</p>', [{"t": "RawInline", "c": ["html4", "<p>t</p>"]}]),
    ("openxml", '<w:r><w:instrText>INCLUDEPICTURE "x"</w:instrText></w:r>', []),
    ("openxml", "<w:r><w:t>ok</w:t></w:r>", [{"t": "RawInline", "c": ["openxml", "<w:r><w:t>ok</w:t></w:r>"]}]),
    ("latex", "\\input{/etc/passwd}", [{"t": "RawInline", "c": ["latex", "\\input{/etc/passwd}"]}]),
])
def test_raw_keeps_only_what_is_clean(root, fmt, raw, kept):
    checker = inspector(root, [raw])
    assert checker.raw({"t": "RawInline", "c": [fmt, raw]}) == kept
    if fmt == "openxml" and not kept:
        assert messages(checker.warnings) == [text("sanitize.word_xml", element="instrText")]


# -- locate: file:line:column on multi-line, indented input ------------------------------------------

def chapters(root: Path) -> _Inspector:
    lines = [SourceLine(CHAPTER_OPENING + ' source="chapters/one.qmd"}', root / "chapters/one.qmd", 1),
             SourceLine("intro", root / "chapters/one.qmd", 2),
             SourceLine("    <b>x</b> and <b>x</b>", root / "chapters/one.qmd", 3),
             SourceLine("", root / "chapters/one.qmd", 4),
             SourceLine("\t<i>a b</i>", root / "chapters/one.qmd", 5),
             SourceLine(CHAPTER_OPENING + ' source="chapters/two.qmd"}', root / "chapters/two.qmd", 1),
             SourceLine("other", root / "chapters/two.qmd", 7),
             SourceLine("  <b>x</b>", root / "chapters/two.qmd", 8)]
    return _Inspector(lines, root)


def test_locate_follows_the_source_from_the_last_place_found(root):
    checker = chapters(root)
    checker.chapter = 0
    assert checker.locate("<b>x</b>") == ("chapters/one.qmd", 3, 5)
    assert checker.locate("<b>x</b>") == ("chapters/one.qmd", 3, 18)
    assert checker.locate("<b>x</b>") == ("chapters/one.qmd", 3, 5)  # round again to the chapter's start
    assert checker.locate("intro") == ("chapters/one.qmd", 2, 1)
    assert checker.locate("\n  \n   <i>a%20b</i>\nmore") == ("chapters/one.qmd", 5, 2)  # first line, unquoted too
    assert checker.locate("nothing", "<b>") == ("chapters/one.qmd", 3, 5)  # the first needle found
    assert checker.locate("nothing") == ("chapters/one.qmd", 1, None)
    assert checker.locate("", "  ") == ("chapters/one.qmd", 1, None)


def test_locate_searches_only_the_current_chapter(root):
    checker = chapters(root)
    checker.chapter = 1
    assert checker.locate("<b>x</b>") == ("chapters/two.qmd", 8, 3)
    assert checker.locate("intro") == ("chapters/two.qmd", 1, None)
    checker.chapter = 0
    assert checker.locate("other") == ("chapters/one.qmd", 1, None)


def test_locate_before_any_chapter_searches_the_lines_before_it(root):
    checker = chapters(root)
    assert checker.locate("intro") == ("chapters/one.qmd", 1, None)
    preamble = _Inspector([SourceLine("  pre pre", root / "book.qmd", 1), *checker.lines], root)
    assert preamble.chapters == [1, 6]
    assert preamble.locate("pre") == ("book.qmd", 1, 3)
    assert preamble.locate("pre") == ("book.qmd", 1, 7)  # on from the last place, on the first line too
    assert preamble.locate("intro") == ("book.qmd", 1, None)
    preamble.chapter = 0  # the first chapter starts after the preamble, and ends before the second
    assert preamble.locate("pre") == ("chapters/one.qmd", 1, None)
    assert preamble.locate("other") == ("chapters/one.qmd", 1, None)
    assert preamble.locate("intro") == ("chapters/one.qmd", 2, 1)
    lonely = _Inspector([SourceLine("a", root / "x.qmd", 1), SourceLine("  b", root / "x.qmd", 2)], root)
    assert lonely.locate("b") == ("x.qmd", 2, 3)
    assert lonely.locate("zzz") == ("x.qmd", 1, None)


# -- the whole inspection of one pandoc document ---------------------------------------------------

BOOK = [
    "---", "title: x", "---",
    CHAPTER_OPENING + f' source="{CHAPTER}"}}',
    "",
    "![a](/img/a.png) and ![b](../../img/a.png) and ![c](/img/both)",
    "",
    "[t](javascript:alert(1)) [u](https://example.se) [v](  VBScript:x)",
    "",
    "  <img src=\"../../img/a.png\" onclick='x'>",
    "",
    "```{=typst}",
    '#image("a.png")',
    '#import "@preview/x:0.1.0"',
    "```",
    "",
    "`#read(\"x\")`{=typst} and `#eval(\"1\")`{=typst}",
    "",
    "![d](https://example.se/d.png) ![e](../../../proj-other/a.png) ![f](data:image/png;base64,AAAA)",
    "",
    "![g](/img/broken.png) ![h](/img/none)",
    "",
    "```{=openxml}",
    '<w:fldSimple w:instr="INCLUDETEXT x"/>',
    "```",
    "",
    "```{=openxml}",
    "<w:r><w:t>ok</w:t></w:r>",
    "```",
    "",
    '# Rubrik {#r onclick="h1()"}',
    "",
    '`kod`{onclick="c1()"} [spann]{onclick="s1()"} [länk](#r){onclick="l1()"} ![i](/img/a.png){onclick="i1()"}',
    "",
    '```{.py onclick="cb1()"}',
    "x = 1",
    "```",
    "",
    '::: {onclick="d1()"}',
    "inne",
    ":::",
    "",
    "| a |",
    "|---|",
    "| 1 |",
    "",
    ': Tabell {#tbl-t onclick="t1()"}',
    "",
    ":::",
]
HANDLERS = ("h1()", "c1()", "s1()", "l1()", "i1()", "cb1()", "d1()", "t1()")  # in the order of the book


def column(number: int, needle: str) -> int:
    return BOOK[number - 1].index(needle) + 1


@pytest.fixture
def inspected(root):
    """Parsed per test (0.1 s): mutmut credits the calls a module-scoped fixture makes to the first test only."""
    lines = [SourceLine(line, root / CHAPTER, number) for number, line in enumerate(BOOK, 1)]
    return inspect(lines, root, pandoc_path(), MARKDOWN)


def test_inspect_refuses_loads_and_outside_images_at_their_place(inspected, root):
    from underlag.engine.assemble import image_defect

    where = [(p.line, p.column, p.message) for p in inspected.errors]
    assert where == [
        (13, 2, text("sanitize.typst_loads", code="image(")),
        (14, 1, text("sanitize.typst_loads", code="#import")),
        (14, 10, text("sanitize.typst_loads", code="@preview/")),
        (17, 3, text("sanitize.typst_loads", code="read(")),
        (17, column(17, "#eval"), text("sanitize.typst_loads", code="#eval")),
        (19, 6, text("sanitize.network", what=text("sanitize.what.image", url="https://example.se/d.png"),
                     url="https://example.se/d.png")),
        (19, column(19, "../"), text("sanitize.outside", what=text("sanitize.what.image", url="../../../proj-other/a.png"))),
        (19, column(19, "data:"), text("sanitize.image_data_url")),
        (21, 6, text("sanitize.unreadable_image", what=text("sanitize.what.image", url="/img/broken.png"),
                     reason=image_defect(root / "img" / "broken.png"))),
        (21, column(21, "/img/none"), text("sanitize.missing", what=text("sanitize.what.image", url="/img/none"), path="img/none.svg",
                      start=text("sanitize.from_root"))),
    ]
    assert {p.path for p in inspected.errors} == {CHAPTER}


def test_inspect_warns_of_removed_active_content_at_its_place(inspected):
    assert [(p.line, p.column, p.message, p.severity) for p in inspected.warnings] == [
        (8, 5, text("sanitize.active_address", what=text("sanitize.what.link"), scheme="javascript"), "warning"),
        (8, column(8, "VBScript"), text("sanitize.active_address", what=text("sanitize.what.link"), scheme="vbscript"), "warning"),
        (10, 3, removed_attribute("onclick", "img"), "warning"),
        (24, 1, text("sanitize.word_xml", element="fldSimple"), "warning"),
        *((number, column(number, handler), text("sanitize.attribute_runs_code", name="onclick"), "warning")
          for handler in HANDLERS for number in [next(n for n, line in enumerate(BOOK, 1) if handler in line)]),
    ]


def test_inspect_keeps_text_drops_targets_and_rewrites_raw_img(inspected, root):
    import json

    document = json.dumps(inspected.document)
    assert "javascript" not in document.lower() and "vbscript" not in document.lower()
    assert "onclick" not in document and "fldSimple" not in document and '"c": null' not in document
    assert '"<img src=\\"img/a.png\\">"' in document
    assert '"https://example.se"' in document and "<w:t>ok</w:t>" in document
    chapter = inspected.document["blocks"][0]
    links = chapter["c"][1][1]["c"]
    assert links[0] == {"t": "Str", "c": "t"} and links[-1] == {"t": "Str", "c": "v"}  # the text stays
    assert inspected.images == {root / "img" / "a.png", root / "img" / "both.png", root / "img" / "both.svg",
                                root / "img" / "broken.png"}


# -- templates, front matter and the cached inspection -----------------------------------------------

def test_check_templates_refuses_fetches_and_outside_files(tmp_path):
    from underlag.engine.sanitize import check_templates

    project = tmp_path / "proj"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "ok.png").write_bytes(b"x")
    (tmp_path / "proj-other").mkdir()
    css = project / "templates" / "style.css"
    css.write_text('body { color: red }\n  @import "https://example.se/a.css";\n'
                   "p { background: url(ok.png) } b { background: url('../../proj-other/x.png') }\n"
                   "i { background: url(#frag) url(data:image/png;base64,A) url(//example.se/b.png) }\n", "utf-8")
    typ = project / "templates" / "report.typ"
    typ.write_text('#let x = 1\n#import "@preview/cetz:0.3.0": canvas\n', "utf-8")
    assert check_templates(project, css, typ) == [
        Problem("templates/style.css", 2, 3, text("sanitize.template_fetches", address="https://example.se/a.css")),
        Problem("templates/style.css", 3, 47, text("sanitize.template_outside", address="../../proj-other/x.png")),
        Problem("templates/style.css", 4, 57, text("sanitize.template_fetches", address="//example.se/b.png")),
        Problem("templates/report.typ", 2, 10, text("sanitize.template_package", package="@preview/cetz:0.3.0")),
    ]
    outside = tmp_path / "proj-other" / "style.css"
    outside.write_text('@import "https://example.se/a.css";\n', "utf-8")
    assert check_templates(project, outside, project / "templates" / "none.typ") == []  # the shipped ones


def test_check_front_matter_refuses_a_resource_on_the_network(root):
    from underlag.engine.assemble import SourceLine as Line

    chapter = root / "chapters" / "front.qmd"
    chapter.write_text("---\ntitle: https://example.se is a title\nbibliography:\n"
                       "  - refs.bib\n  - https://example.se/b.bib\ncsl: https://example.se/c.csl\n---\n"
                       "css: https://example.se/after.css\n", "utf-8")
    plain = root / "chapters" / "plain.qmd"
    plain.write_text("css: https://example.se/x.css\n", "utf-8")
    checker = _Inspector([Line("x", chapter, 1), Line("y", plain, 1), Line("z", root / "gone.qmd", 1)], root)
    checker.check_front_matter()
    assert checker.errors == [Problem("chapters/front.qmd", 5, 5, text("sanitize.front_matter_network")),
                              Problem("chapters/front.qmd", 6, 6, text("sanitize.front_matter_network"))]


def test_inspect_cached_stores_a_clean_inspection_and_never_a_failed_one(tmp_path):
    from underlag.engine.cache import Cache

    project = tmp_path / "proj"
    (project / "chapters").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(project / "a.png")
    chapter = project / "chapters" / "c.qmd"
    source = ["![a](../a.png) <b onclick='x'>t</b>"]
    chapter.write_text("\n".join(source) + "\n", "utf-8")
    lines = [SourceLine(CHAPTER_OPENING + ' source="chapters/c.qmd"}', chapter, 1),
             SourceLine(source[0], chapter, 1), SourceLine(":::", chapter, 1)]
    from underlag.engine.sanitize import inspect_cached

    cache = Cache(project)
    first = inspect_cached(lines, project, cache)
    assert cache.used == {"stage:inspect": "rebuilt"}
    again = inspect_cached(lines, project, cache)
    assert cache.used == {"stage:inspect": "cached"}
    assert again.document == first.document and again.images == first.images == {project.resolve() / "a.png"}
    assert again.warnings == first.warnings == [Problem("chapters/c.qmd", 1, source[0].index("<b") + 1, removed_attribute("onclick", "b"),
                                                        "warning")]
    assert inspect_cached(lines, project).warnings == first.warnings  # no cache: inspected each time
    bad = [*lines[:2], SourceLine("![b](../../outside.png)", chapter, 2), lines[2]]
    cache = Cache(project)
    assert messages(inspect_cached(bad, project, cache).errors) and "stage:inspect" not in cache.entries


# -- the edges the first mutation run found untested --------------------------------------------------

def test_inspect_returns_pandocs_blocks_and_nothing_more(root):
    lines = [SourceLine("Hej du", root / "kort.qmd", 1)]
    assert inspect(lines, root, pandoc_path(), MARKDOWN).document["blocks"] == [
        {"t": "Para", "c": [{"t": "Str", "c": "Hej"}, {"t": "Space"}, {"t": "Str", "c": "du"}]}]


def test_inspect_keeps_the_objects_inside_a_citation(root):
    import json

    lines = [SourceLine("Se [@doe, s. 3].", root / "kort.qmd", 1)]
    document = inspect(lines, root, pandoc_path(), MARKDOWN).document
    assert document == json.loads(json.dumps(document)) and '"citationId": "doe"' in json.dumps(document)


def test_an_image_another_stage_is_still_drawing_counts_as_present(root):
    lines = [SourceLine("![f](figurer/ritas.png)", root / "kort.qmd", 1)]
    drawn = root / "figurer" / "ritas.png"
    assert inspect(lines, root, pandoc_path(), MARKDOWN, produced=[drawn]).errors == []
    assert messages(inspect(lines, root, pandoc_path(), MARKDOWN).errors) == [text(
        "sanitize.missing", what=text("sanitize.what.image", url="figurer/ritas.png"), path="figurer/ritas.png",
        start=text("sanitize.from_chapter"))]


def test_parse_reports_pandocs_own_words_when_it_cannot_read():
    import subprocess

    from underlag.engine.errors import ToolError
    from underlag.engine.sanitize import parse

    stderr = subprocess.run([pandoc_path(), "--from", "ingetformat", "--to", "json"], input="x", capture_output=True,
                            text=True, check=False).stderr.strip()
    with pytest.raises(ToolError) as caught:
        parse("x", pandoc_path(), "ingetformat")
    assert str(caught.value) == text("tool.pandoc_read_failed", message=stderr) and stderr


def test_a_fresh_inspector_resolves_from_the_project_and_searches_from_the_first_line(root):
    checker = _Inspector([SourceLine("a <img src='img/a.png'>", root / "x.qmd", 1),
                          SourceLine("a", root / "x.qmd", 2)], root)
    assert checker.clean_html("<img src='img/a.png'>") == '<img src="img/a.png">' and checker.errors == []
    fresh = _Inspector(checker.lines, root)
    assert fresh.locate("a") == ("x.qmd", 1, 1)


def test_locate_moves_one_column_on_and_falls_back_to_an_empty_chapters_opening(root):
    checker = inspector(root, ["x ////"])
    assert [checker.locate("//")[2] for _ in range(3)] == [3, 4, 5]
    lines = [SourceLine("a", root / "x.qmd", 1), SourceLine(CHAPTER_OPENING + "}", root / "y.qmd", 1)]
    last = _Inspector(lines, root)
    last.chapter = 0
    assert last.locate("zzz") == ("y.qmd", 1, None)


def test_locate_ends_the_first_of_three_chapters_at_the_second(root):
    checker = chapters(root)
    third = [SourceLine(CHAPTER_OPENING + ' source="chapters/three.qmd"}', root / "chapters/three.qmd", 1),
             SourceLine("third", root / "chapters/three.qmd", 2)]
    checker = _Inspector([*checker.lines, *third], root)
    checker.chapter = 0
    assert checker.locate("other") == ("chapters/one.qmd", 1, None)
    checker.chapter = 2
    assert checker.locate("third") == ("chapters/three.qmd", 2, 1)


def test_a_warning_falls_back_to_the_attributes_name_when_pandoc_rewrote_its_value(root):
    line = 'x{onclick="" src="" style="background: url(/img/a.png)"}'
    checker = inspector(root, [line])
    checker.attributes(["", [], [["onclick", ""], ["src", ""], ["style", "background:url(/img/a.png)"]]])
    assert [(w.column, w.message) for w in checker.warnings] == [
        (line.index("onclick") + 1, text("sanitize.attribute_runs_code", name="onclick")),
        (line.index("src") + 1, text("sanitize.attribute_fetches", name="src")),
        (line.index("style") + 1, text("sanitize.style_fetches"))]


def test_word_xml_is_placed_at_its_line(root):
    checker = inspector(root, ["a", "  <w:fldSimple/>"])
    assert checker.raw({"t": "RawBlock", "c": ["openxml", "<w:fldSimple/>"]}) == []
    assert checker.warnings == [Problem(CHAPTER, 2, 3, text("sanitize.word_xml", element="fldSimple"), "warning")]


def test_a_long_data_image_is_placed_by_its_first_forty_characters(root):
    url = "data:image/png;base64," + "A" * 18 + "%20B"
    checker = inspector(root, ["![f](<data:image/png;base64," + "A" * 18 + " B>)"])
    checker.image(url)
    assert checker.errors == [Problem(CHAPTER, 1, 7, text("sanitize.image_data_url"))]


@pytest.mark.parametrize("fragment, images", [
    ('<!-- c --><img src="/img/a.png">', {"img/a.png"}),  # a comment first: the walk goes on
    ('<embed src="/img/both.png"><img src="/img/a.png">', {"img/a.png"}),  # only <img src> is an image
])
def test_only_img_src_adds_an_image(root, fragment, images):
    checker = inspector(root, [fragment])
    checker.clean_html(fragment)
    assert checker.images == {root / name for name in images}


def test_a_comment_before_an_outside_resource_does_not_hide_it(root):
    fragment = '<!-- c --><img src="../../../proj-other/a.png">'
    checker = inspector(root, [fragment])
    assert checker.clean_html(fragment) == "<img>"
    assert messages(checker.errors) == [text("sanitize.outside", what="<img src>")]


@pytest.mark.parametrize("fragment", ['<span style="background: url(/img/broken.png)">s</span>',
                                      "<style>b { background: url(/img/broken.png) }</style>",
                                      '<p style=\'@import "/img/broken.png"\'>x</p>'])
def test_a_css_reference_is_checked_as_a_file_not_read_as_an_image(root, fragment):
    checker = inspector(root, [fragment])
    checker.clean_html(fragment)
    assert checker.errors == [] and checker.images == set()
    attributes = inspector(root, [fragment])
    attributes.attributes(["", [], [["style", "background: url(/img/broken.png)"]]])
    attributes.attributes(["", [], [["style", '@import "/img/broken.png"'], ["src", "/img/broken.png"]]])
    assert attributes.errors == [] and attributes.images == set()


def test_an_import_in_a_style_attribute_is_checked(root):
    fragment = '<p style=\'@import "https://example.se/a.css"\'>x</p>'
    checker = inspector(root, [fragment])
    assert checker.clean_html(fragment) == "<p>x</p>"
    assert messages(checker.errors) == [text("sanitize.network", what=text("sanitize.what.css"),
                                             url="https://example.se/a.css")]


@pytest.mark.parametrize("value, kept", [("/img/a.png#top", "img/a.png"), ("/Xray.png", "Xray.png")])
def test_root_relative_cuts_the_fragment_and_only_the_leading_slash(root, value, kept):
    checker = inspector(root, [value])
    assert checker.root_relative("img", "src", value) == kept


def test_resource_cuts_the_fragment_and_only_the_leading_slash(root):
    checker = inspector(root, ["x"])
    assert checker.resource("/img/a.png#top", "w", image=False) == root / "img" / "a.png"
    checker.resource("/Xray.png", "w", image=False)
    assert messages(checker.errors) == [text("sanitize.missing", what="w", path="Xray.png",
                                             start=text("sanitize.from_root"))]


@pytest.mark.parametrize("value, remote", [("mailto:a@example.se", False), ("tel:+4612345", False),
                                           ("C:/bilder/a.png", False), ("ws://example.se/a", True),
                                           ("ab://example.se/a", True)])
def test_which_img_addresses_count_as_network(root, value, remote):
    checker = inspector(root, [value])
    assert checker.root_relative("img", "src", value) is None
    assert messages(checker.errors) == ([text("sanitize.network", what="<img src>", url=value)] if remote else [])


@pytest.mark.parametrize("fragment, cleaned", [
    ("<noscript>dolt</noscript><textarea>t</textarea>ok", "ok"),  # removed with their content
    ('<a href="ftp://example.se/f">t</a>', "<a>t</a>"),  # links: http(s), mailto, tel only
    ('<span style="position: fixed; color: red">s</span>', '<span style="color:red">s</span>'),
])
def test_sanitize_uses_our_lists_not_nh3s_defaults(fragment, cleaned):
    assert _sanitize(fragment, lambda tag, attribute, value: value) == cleaned


def test_removed_counts_tags_in_capitals():
    assert _removed("<SCRIPT>1</SCRIPT>ok", "ok") == [text("sanitize.what.element", tag="script")]


def test_a_fragment_lxml_refuses_is_still_cleaned(root):
    checker = inspector(root, ["<!DOCTYPE html>"])
    assert checker.clean_html("<!DOCTYPE html>") == ""


def test_a_chapter_div_without_a_source_counts_paths_from_the_project(root):
    lines = [SourceLine("::: {.chapter}", root / "kort.qmd", 1), SourceLine("![a](img/a.png)", root / "kort.qmd", 2),
             SourceLine(":::", root / "kort.qmd", 3)]
    assert inspect(lines, root, pandoc_path(), MARKDOWN).errors == []


def test_check_front_matter_reads_every_file_to_its_end_marker(tmp_path):
    from underlag.engine.assemble import SourceLine as Line

    files = {"a-gone.qmd": None, "chapters/a-plain.qmd": "intro\ncss: https://example.se/x.css\n",
             "chapters/b-empty.qmd": "",
             "chapters/c-dots.qmd": "---\n  - https://example.se/continued\ntitle: x\n...\ncss: https://example.se/a.css\n",
             "chapters/d-bytes.qmd": b"---\ntitle: \xff\ncsl: https://example.se/c.csl\n---\n",
             "chapters/e-last.qmd": "---\nlogo: https://example.se/l.png\n---\n"}
    for name, content in files.items():
        if content is not None:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    checker = _Inspector([Line("x", tmp_path / name, 1) for name in files], tmp_path)
    checker.check_front_matter()
    assert checker.errors == [Problem("chapters/d-bytes.qmd", 3, 6, text("sanitize.front_matter_network")),
                              Problem("chapters/e-last.qmd", 2, 7, text("sanitize.front_matter_network"))]


def test_check_templates_goes_on_past_an_outside_stylesheet_and_skips_fragments(tmp_path):
    from underlag.engine.sanitize import check_templates

    project = tmp_path / "proj"
    (project / "templates").mkdir(parents=True)
    outside = tmp_path / "style.css"
    outside.write_text("p { color: red }\n", "utf-8")
    typ = project / "templates" / "report.typ"
    typ.write_text('#import "@local/x:1.0.0"\n', "utf-8")
    assert check_templates(project, outside, typ) == [
        Problem("templates/report.typ", 1, 10, text("sanitize.template_package", package="@local/x:1.0.0"))]
    css = project / "templates" / "style.css"
    css.write_text("a { background: url(#../../../../../x) url() }\n", "utf-8")
    assert check_templates(project, css, project / "none.typ") == []


def test_inspect_cached_is_rebuilt_when_anything_it_read_changes(tmp_path):
    from underlag.engine.cache import Cache
    from underlag.engine.messages import language, set_language
    from underlag.engine.sanitize import inspect_cached

    project = tmp_path / "proj"
    (project / "chapters").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(project / "a.png")
    chapter = project / "chapters" / "c.qmd"
    chapter.write_text("![a](../a.png) ![b](../ritas.png)\n", "utf-8")
    lines = [SourceLine(CHAPTER_OPENING + ' source="chapters/c.qmd"}', chapter, 1),
             SourceLine("![a](../a.png) ![b](../ritas.png)", chapter, 1), SourceLine(":::", chapter, 1)]
    produced = [project / "ritas.png"]
    cache = Cache(project)

    def state(lines=lines):
        inspection = inspect_cached(lines, project, cache, produced)
        return cache.used.pop("stage:inspect", None), inspection

    assert state()[0] == "rebuilt"
    used, again = state()
    assert used == "cached" and again.errors == [] and again.warnings == []
    assert state([*lines[:2], SourceLine("Mer.", chapter, 2), lines[2]])[0] == "rebuilt"
    assert state()[0] == "rebuilt"
    chapter.write_text("![a](../a.png) ![b](../ritas.png)\n\nÄndrad fil.\n", "utf-8")  # the file, not the lines
    assert state()[0] == "rebuilt"
    was = language()
    set_language("en" if was == "sv" else "sv")
    try:
        assert state()[0] == "rebuilt"
    finally:
        set_language(None)  # back to the environment's choice (set_language(was) would pin it for later tests)
    assert state()[0] == "rebuilt"
    (project / "a.png").write_bytes(b"broken now")  # an image the inspection named
    used, broken = state()
    assert used is None and len(broken.errors) == 1  # inspected again, and a failed inspection is never stored


def test_inspect_cached_keys_on_the_code_nh3_and_pandoc_too(tmp_path, monkeypatch):
    import os

    import nh3
    import underlag.engine.render.pandoc as pandoc_module
    import underlag.engine.sanitize as sanitize_module
    from underlag.engine.cache import Cache
    from underlag.engine.sanitize import inspect_cached

    project = tmp_path / "proj"
    project.mkdir()
    chapter = project / "c.qmd"
    chapter.write_text("Text.\n", "utf-8")
    lines = [SourceLine("Text.", chapter, 1)]
    cache = Cache(project)

    def used() -> str | None:
        inspect_cached(lines, project, cache)
        return cache.used.pop("stage:inspect", None)

    assert [used(), used()] == ["rebuilt", "cached"]
    changed = tmp_path / "sanitize.py"
    changed.write_bytes(Path(sanitize_module.__file__).read_bytes() + b"# changed\n")
    monkeypatch.setattr(sanitize_module, "__file__", str(changed))
    assert [used(), used()] == ["rebuilt", "cached"]
    monkeypatch.setattr(nh3, "__version__", "0.0.0-test", raising=False)
    assert [used(), used()] == ["rebuilt", "cached"]
    other_pandoc = tmp_path / "pandoc"
    os.symlink(pandoc_module.pandoc_path(), other_pandoc)
    monkeypatch.setattr(pandoc_module, "pandoc_path", lambda: str(other_pandoc))
    assert [used(), used()] == ["rebuilt", "cached"]


def test_inspect_cached_without_a_cache_counts_produced_images_as_present(tmp_path):
    from underlag.engine.sanitize import inspect_cached

    chapter = tmp_path / "c.qmd"
    lines = [SourceLine("![f](ritas.png)", chapter, 1)]
    assert inspect_cached(lines, tmp_path, None, [tmp_path / "ritas.png"]).errors == []


def test_check_templates_refuses_a_package_hidden_from_the_name_check(tmp_path):
    """A project's own template could build a package's name from pieces or run a string: refused at
    its place; a file named by a plain quoted path is allowed."""
    from underlag.engine.sanitize import check_templates

    project = tmp_path / "proj"
    (project / "templates").mkdir(parents=True)
    typ = project / "templates" / "report.typ"
    typ.write_text(f'#import "farger.typ": bla\n{EVAL_IMPORT}\n  {BLOCK_IMPORT}\n#include "del.typ"\n', "utf-8")
    assert check_templates(project, project / "templates" / "none.css", typ) == [
        Problem("templates/report.typ", 2, 2, text("sanitize.template_hidden_load", word="eval")),
        Problem("templates/report.typ", 3, 5, text("sanitize.template_hidden_load", word="import")),
    ]


def test_typst_given_an_empty_package_folder_reads_no_local_package(tmp_path, monkeypatch):
    """render/pdf.py's second layer: the same hidden imports that read the user's package above fail
    when Typst's package folder is an empty one in the work area."""
    import typst

    package = tmp_path / "data" / "typst" / "packages" / "local" / "evil" / "0.1.0"
    package.mkdir(parents=True)
    (package / "typst.toml").write_text('[package]\nname = "evil"\nversion = "0.1.0"\nentrypoint = "lib.typ"\n')
    (package / "lib.typ").write_text('#let secret = "OUTSIDE"\n')
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    work = tmp_path / "work"
    (work / "no-packages").mkdir(parents=True)
    for number, code in enumerate((EVAL_IMPORT, BLOCK_IMPORT)):
        (work / f"{number}.typ").write_text(code + "\n", "utf-8")
        with pytest.raises(typst.TypstError, match="evil"):
            typst.compile(str(work / f"{number}.typ"), root=str(work), format="svg",
                          package_path=str(work / "no-packages"))
