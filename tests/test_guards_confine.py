"""Path confinement in-process: which links are refused before a build reads anything, which files
Git must not track in the tool's output areas, and the exact problem a writer gets.

Fast unit tests so that mutation testing (tests/mutation/run.py) sees them; test_hostile.py holds
the same guards through the command line.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from underlag.engine.confine import (SHIPPED_TEMPLATES, check_read, committed_outputs, confinement_problems, output_path,
                              outside_links, prepare_area)
from underlag.engine.errors import InputError
from underlag.engine.messages import text



def write(path: Path, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def layout(tmp_path) -> tuple[Path, Path]:
    """A project folder and, beside it, a folder with a secret outside the project."""
    project, outside = tmp_path / "proj", tmp_path / "outside"
    write(project / "data" / "mal.yaml")
    write(outside / "secret.txt", "hemligt\n")
    return project, outside


def shown(problems) -> list[str]:
    return [str(p) for p in problems]


def link_message(name: str, target: Path, area: str) -> str:
    return f"{name}: {text('confine.link_in_output', target=os.path.realpath(target), area=area, link=name)}"


def test_a_clean_project_has_no_problems(layout):
    project, _ = layout
    write(project / "report" / "x.html")
    assert outside_links(project) == []


def test_a_source_link_out_of_the_project_is_refused_with_its_target(layout):
    project, outside = layout
    (project / "data" / "kopia.yaml").symlink_to(outside / "secret.txt")
    (project / "data" / "inne.yaml").symlink_to(project / "data" / "mal.yaml")  # inside: fine
    assert shown(outside_links(project)) == [
        f"data/kopia.yaml: {text('confine.link_outside', target=outside / 'secret.txt')}"]


@pytest.mark.parametrize("where", ["chapters/a.qmd", "templates/t.css", "figures/static/f.png", "_quarto.yml",
                                   "_variables.yml", "_quarto-granskning.yml"])
def test_every_source_area_and_profile_is_searched(layout, where):
    project, outside = layout
    (project / where).parent.mkdir(parents=True, exist_ok=True)
    (project / where).symlink_to(outside / "secret.txt")
    assert [p.path for p in outside_links(project)] == [where]


def test_a_linked_folder_is_one_problem_and_is_not_entered(layout):
    project, outside = layout
    (outside / "vidare").symlink_to("/")  # what lies behind the link is not searched
    (project / "chapters").mkdir()
    (project / "chapters" / "del").symlink_to(outside)
    assert [p.path for p in outside_links(project)] == ["chapters/del"]
    (project / "templates").symlink_to(outside)  # a source area that is itself a link
    assert [p.path for p in outside_links(project)] == ["chapters/del", "templates"]


def test_a_dangling_link_out_of_the_project_is_refused(layout):
    project, outside = layout
    (project / "_quarto.yml").symlink_to(outside / "finns-inte.yml")
    assert [p.path for p in outside_links(project)] == ["_quarto.yml"]


def test_every_link_in_a_folder_is_found_after_a_loop(layout):
    project, outside = layout
    (project / "data" / "slinga.yaml").symlink_to(project / "data" / "slinga.yaml")
    (project / "data" / "del").mkdir()
    (project / "data" / "del" / "ut.yaml").symlink_to(outside / "secret.txt")
    assert [p.path for p in outside_links(project)] == ["data/del/ut.yaml", "data/slinga.yaml"]


def test_an_extra_path_is_searched_too(layout):
    project, outside = layout
    extra = project / "annat" / "bilaga.md"
    extra.parent.mkdir()
    extra.symlink_to(outside / "secret.txt")
    assert outside_links(project) == []  # not a source area
    assert [p.path for p in outside_links(project, [extra])] == ["annat/bilaga.md"]


def test_a_link_loop_is_named_as_a_loop(layout):
    project, _ = layout
    loop = project / "data" / "slinga.yaml"
    loop.symlink_to(loop)
    assert shown(outside_links(project)) == [
        f"data/slinga.yaml: {text('confine.link_loop')}"]


def test_an_output_area_that_is_a_link_is_refused_even_to_inside(layout):
    project, _ = layout
    (project / "ut").mkdir()
    (project / "report").symlink_to(project / "ut")
    assert shown(outside_links(project)) == [link_message("report", project / "ut", "report")]


def test_every_output_area_behind_a_link_is_refused(layout):
    project, outside = layout
    (project / "kapitel").mkdir()
    (project / "chapters").symlink_to(project / "kapitel")  # inside, but chapters/_generated lies behind it
    (project / "report").symlink_to(outside)
    assert shown(outside_links(project)) == [link_message("chapters", project / "kapitel", "chapters/_generated"),
                                             link_message("report", outside, "report")]


def test_a_link_anywhere_in_an_output_area_is_refused_once(layout):
    project, outside = layout
    write(project / "chapters" / "_generated" / "a.md")
    (project / "chapters" / "_generated" / "b.md").symlink_to(project / "data" / "mal.yaml")
    (project / "figures" / "static").mkdir(parents=True)
    (project / "figures" / "static" / "c.png").symlink_to(outside / "secret.txt")  # a source and an output
    assert shown(outside_links(project)) == [
        link_message("chapters/_generated/b.md", project / "data" / "mal.yaml", "chapters/_generated"),
        link_message("figures/static/c.png", outside / "secret.txt", "figures"),
    ]


def test_a_committed_lock_link_is_refused(layout):
    project, outside = layout
    (project / ".underlag.lock").symlink_to(outside / "secret.txt")
    assert shown(outside_links(project)) == [link_message(".underlag.lock", outside / "secret.txt", ".underlag.lock")]


def test_prepare_area_creates_a_real_folder_and_refuses_a_link(layout):
    project, outside = layout
    assert prepare_area(project, "figures") == project.resolve() / "figures"
    assert prepare_area(project, "chapters/_generated").is_dir()  # chapters/ did not exist yet
    assert (project / "figures").is_dir() and not (project / "figures").is_symlink()
    (project / "report").symlink_to(outside)
    with pytest.raises(InputError) as refused:
        prepare_area(project, "report")
    assert shown(refused.value.problems) == [link_message("report", outside, "report")]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_output_path_refuses_a_path_through_a_link_inside_an_area(layout):
    project, outside = layout
    (project / "report").mkdir()
    (project / "report" / "v").symlink_to(outside)
    with pytest.raises(InputError) as refused:
        output_path(project, project / "report" / "v" / "x.html")
    assert shown(refused.value.problems) == [link_message("report/v", outside, "report")]
    assert output_path(project, project / "report" / "w" / ".." / "x.html") == project.resolve() / "report" / "x.html"
    with pytest.raises(InputError) as refused:
        output_path(project, project / "data" / "mal.yaml")
    assert shown(refused.value.problems) == [f"data/mal.yaml: {text('confine.not_output_area')}"]


def test_check_read_places_the_problem_where_the_path_was_named(layout):
    project, outside = layout
    assert check_read(project, project / "data" / "mal.yaml") == project / "data" / "mal.yaml"
    with pytest.raises(InputError) as refused:
        check_read(project, outside / "secret.txt", ("chapters/a.qmd", 3, 7))
    problem = refused.value.problems[0]
    assert (problem.path, problem.line, problem.column) == ("chapters/a.qmd", 3, 7)
    assert problem.message == text("confine.outside", path=outside / "secret.txt")
    shipped = next(p for p in SHIPPED_TEMPLATES.rglob("*") if p.is_file())
    assert check_read(project, shipped) == shipped  # the templates this package ships are read from where they lie


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args], cwd=project, check=True,
                   capture_output=True)


def test_generated_files_tracked_by_git_are_refused_hand_made_figures_are_not(layout):
    project, _ = layout
    assert committed_outputs(project) == []  # not a repository: nothing is tracked
    odd = os.fsdecode(b"report/\xe5.html")  # a name that is not UTF-8 (written on Latin-1 system)
    for name in (odd, "report/x.html", ".underlag-cache/index.json", "figures/static/logo.png", "figures/a.svg",
                 "chapters/_generated/b.md", "chapters/c.qmd"):
        write(project / name)
    git(project, "init", "-q")
    git(project, "add", "-f", ".")
    git(project, "commit", "-qm", "allt")
    assert shown(committed_outputs(project)) == [
        f"{name}: {text('confine.committed_output', name=name)}"
        for name in (".underlag-cache/index.json", "chapters/_generated/b.md", "figures/a.svg", "report/x.html",
                     "report/\ufffd.html")]
    (project / "data" / "ut.yaml").symlink_to(project.parent / "outside" / "secret.txt")
    assert [p.path for p in confinement_problems(project)] == [
        "data/ut.yaml", ".underlag-cache/index.json", "chapters/_generated/b.md", "figures/a.svg", "report/x.html",
        "report/\ufffd.html"]
