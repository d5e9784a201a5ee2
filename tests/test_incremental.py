"""Incremental builds: stages are cached by the hashes of their inputs, never trusted blindly."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import copy_project, html_tree

from underlag.commands.build import Options, build
from underlag.engine.cache import FORMAT_VERSION
from underlag.engine.errors import InputError


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = copy_project(tmp_path_factory.mktemp("incremental") / "project")
    first = build(folder, Options())
    assert set(first.stages.values()) == {"rebuilt"}
    return folder


def rebuilt(result) -> set[str]:
    return {name for name, how in result.stages.items() if how == "rebuilt"}


def test_a_build_without_changes_renders_nothing(project):
    result = build(project, Options())
    assert rebuilt(result) == set() and result.rendered == []
    assert all(path.is_file() for path in result.outputs.values())


def test_a_build_without_changes_reuses_the_checked_book_but_not_past_a_changed_template(project):
    """Nothing changed: the assembled book is not parsed and checked again. The reuse depends on
    every file the checks read, not only the chapters: a project stylesheet that fetches from the
    network is still refused."""
    result = build(project, Options(formats=("html",)))
    assert result.stages.get("stage:assemble") == "cached"
    stylesheet = project / "templates/html/style.css"
    stylesheet.parent.mkdir(parents=True)
    stylesheet.write_text('@import url("https://example.org/x.css");\n', "utf-8")
    try:
        with pytest.raises(InputError) as refused:
            build(project, Options(formats=("html",)))
        assert any(p.path == "templates/html/style.css" and "example.org" in p.message
                   for p in refused.value.problems)
    finally:
        shutil.rmtree(project / "templates")


def test_one_score_rebuilds_only_what_uses_it(project):
    scores = project / "data/bedomningar.csv"
    scores.write_text(scores.read_text("utf-8").replace("alt4;innovation;4,5;3;5;", "alt4;innovation;5;3;5;"),
                      "utf-8")
    result = build(project, Options(formats=("html",)))
    figures = {name.split(":", 1)[1] for name in rebuilt(result) if name.startswith("figure:")}
    assert figures == {"analys-summor", "analys-vaxling", "analys-rangordning"}
    assert result.rendered == ["format:beslutsunderlag.html"]
    assert "tidslinje" not in figures and "risk-matris" not in figures


def test_a_chapter_edit_rerenders_formats_but_no_figure(project):
    chapter = project / "chapters/10-fortsatt-arbete.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\nEn ny mening om arbetet.\n", "utf-8")
    result = build(project, Options(formats=("html",)))
    assert not any(name.startswith("figure:") for name in rebuilt(result))
    assert result.rendered == ["format:beslutsunderlag.html"]
    assert "En ny mening om arbetet." in html_tree(result.outputs["html"]).text_content()


def test_a_deleted_or_edited_output_is_rebuilt_not_trusted(project):
    (project / "figures/tidslinje.svg").unlink()
    (project / "report/beslutsunderlag.html").write_text("förstörd", "utf-8")
    result = build(project, Options(formats=("html",)))
    assert "figure:tidslinje" in rebuilt(result) and result.rendered == ["format:beslutsunderlag.html"]
    assert (project / "figures/tidslinje.svg").is_file()
    assert "Sammanfattning" in html_tree(result.outputs["html"]).text_content()


def docx_body_and_map(docx) -> tuple[bytes, dict]:
    import zipfile

    from underlag.engine.render.anchors import read_map

    with zipfile.ZipFile(docx) as archive:
        return archive.read("word/document.xml"), read_map(archive)["anchors"]


def test_the_anchored_book_is_reused_while_the_assembled_text_is_unchanged(project):
    """The DOCX and the preview are made from the anchored book (render/anchors.py: a second parse
    with each block's file and line): a DOCX rebuilt from unchanged text (here: the DOCX deleted)
    and the preview's page reuse it, with the very same anchors; an edited chapter parses it again,
    and the map then holds the new paragraph at its line."""
    docx = build(project, Options(formats=("docx",))).outputs["docx"]
    before = docx_body_and_map(docx)
    docx.unlink()
    again = build(project, Options(formats=("docx",)))
    assert again.stages.get("stage:anchored") == "cached" and again.rendered == ["format:beslutsunderlag.docx"]
    assert docx_body_and_map(docx) == before
    preview = build(project, Options(formats=("html",), source_map=True))
    assert preview.stages.get("stage:anchored") == "cached"
    assert html_tree(preview.outputs["html"]).xpath("//p[@data-source]")
    chapter = project / "chapters/10-fortsatt-arbete.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\nEtt stycke som ankras på nytt.\n", "utf-8")
    edited = build(project, Options(formats=("docx",)))
    assert edited.stages.get("stage:anchored") == "rebuilt"
    placed = [a for a in docx_body_and_map(docx)[1].values() if a["text"] == "Ett stycke som ankras på nytt."]
    assert [(a["file"], a["line"]) for a in placed] == [("chapters/10-fortsatt-arbete.qmd",
                                                         len(chapter.read_text("utf-8").splitlines()))]


def test_a_corrupt_cache_index_means_a_full_rebuild(project):
    index = project / ".underlag-cache/index.json"
    index.write_text("{ inte json", "utf-8")
    result = build(project, Options(formats=("html",)))
    assert "figure:tidslinje" in rebuilt(result) and result.rendered
    assert json.loads(index.read_text("utf-8"))["version"] == FORMAT_VERSION
