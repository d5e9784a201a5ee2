"""Bad input: one clear line per problem, exit status 2, no traceback, report/ untouched."""

from __future__ import annotations

import pytest
from conftest import copy_project, underlag

from underlag.engine.messages import text as msg

PREVIOUS = {"beslutsunderlag.pdf": b"%PDF previous", "beslutsunderlag.html": b"<html>previous</html>"}


def replace(path, old, new):
    text = path.read_text("utf-8")
    assert old in text, f"fixture text not found in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def add_chapter(project, name, text):
    (project / "chapters" / name).write_text(text, "utf-8")
    replace(project / "_quarto.yml", "    - chapters/10-fortsatt-arbete.qmd\n",
            f"    - chapters/10-fortsatt-arbete.qmd\n    - chapters/{name}\n")


CASES = {
    "unresolved cross-reference": (
        lambda p: replace(p / "chapters/09-tidplan.qmd", "@tbl-statusfarger", "@tbl-statusfarg"),
        "chapters/09-tidplan.qmd:3:",
        "cross-reference '@tbl-statusfarg' has no target; did you mean '@tbl-statusfarger'?",
    ),
    "missing include": (
        lambda p: replace(p / "chapters/04-mal-och-avgransning.qmd", "_generated/mal.md", "_generated/maal.md"),
        "chapters/04-mal-och-avgransning.qmd:7:",
        "included file '_generated/maal.md' does not exist",
    ),
    "missing image": (
        lambda p: replace(p / "chapters/03-bakgrund.qmd", "## Bakgrund\n", "## Bakgrund\n\n![Karta](bilder/karta.png)\n"),
        "chapters/03-bakgrund.qmd:5:10:",
        msg("sanitize.missing", what=msg("sanitize.what.image", url="bilder/karta.png"), path="chapters/bilder/karta.png",
            start=msg("sanitize.from_chapter")),  # in the session's language, read when the module loads
    ),
    "missing variable": (
        lambda p: replace(p / "chapters/01-sammanfattning.qmd", "var system.nuvarande", "var system.gammalt"),
        "chapters/01-sammanfattning.qmd:11:",
        "variable 'system.gammalt' is not defined; add it to _variables.yml",
    ),
    "chapter listed but missing": (
        lambda p: (p / "chapters/08-analys.qmd").unlink(),
        "_quarto.yml:20:7:",
        "chapter 'chapters/08-analys.qmd' does not exist",
    ),
    "malformed YAML": (
        lambda p: replace(p / "data/mal.yaml", "  - text: Beskriva", "  - text: 'Beskriva"),
        "data/mal.yaml:",
        "YAML syntax error",
    ),
    "unknown field": (
        lambda p: replace(p / "data/alternativ/alt2-nasta-generation.yaml", "title: Gå", "titel: Gå"),
        "data/alternativ/alt2-nasta-generation.yaml:4:1:",
        "unknown field 'titel'; did you mean 'title'?",
    ),
    "unknown source": (
        lambda p: replace(p / "data/mal.yaml", "source: rg-2025-01-28", "source: rg-2025-01-29"),
        "data/mal.yaml:3:",
        "source 'rg-2025-01-29' is not in data/kallor.yaml",
    ),
    "chapter not UTF-8": (
        lambda p: (p / "chapters/10-fortsatt-arbete.qmd").write_bytes("# Fortsatt\n\nÅtgärder".encode("latin-1")),
        "chapters/10-fortsatt-arbete.qmd:3:",
        "file is not UTF-8 text; save it as UTF-8",
    ),
    "broken front matter": (
        lambda p: add_chapter(p, "tom.qmd", "---\ntitle: [Tom\n---\n"),
        "chapters/tom.qmd:",
        "front matter is not valid YAML",
    ),
    "impossible date": (
        lambda p: replace(p / "data/milstolpar.yaml", "planned: 2025-02-28", "planned: 2025-02-30"),
        "data/milstolpar.yaml:",
        "invalid value '2025-02-30'",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_reported_and_report_is_untouched(tmp_path, case):
    project = copy_project(tmp_path)
    (project / "report").mkdir()
    for name, content in PREVIOUS.items():
        (project / "report" / name).write_bytes(content)
    break_it, place, message = CASES[case]
    break_it(project)

    result = underlag("build", cwd=project)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(place)]
    assert lines and message in lines[0], result.stderr
    assert sorted(p.name for p in (project / "report").iterdir()) == sorted(PREVIOUS)
    for name, content in PREVIOUS.items():
        assert (project / "report" / name).read_bytes() == content


def test_all_problems_are_reported_at_once(tmp_path):
    project = copy_project(tmp_path)
    for _, (break_it, _, _) in CASES.items():
        if break_it is not CASES["chapter listed but missing"][0]:
            break_it(project)
    result = underlag("check", cwd=project)
    assert result.returncode == 2
    # data problems stop before chapters are read; every data problem is listed
    for case in ("malformed YAML", "unknown field", "impossible date"):
        assert CASES[case][2] in result.stderr, case


def test_check_is_clean_on_the_real_project(tmp_path):
    result = underlag("check", cwd=copy_project(tmp_path))
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_test_command():
    from conftest import PROJECT

    readme = (PROJECT / "README.md").read_text("utf-8")
    block = readme.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    command = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(command) == 1 and "pytest" in command[0]
    assert "test-command" in (PROJECT / ".ci/run").read_text("utf-8")
