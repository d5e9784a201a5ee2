"""Safety by construction: hostile data stays text, paths stay inside the project, personal data
is caught, nothing reaches the network, and pathological inputs are bounded."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SpyServer, copy_project, docx_text, git_project, html_tree, pdf_text, underlag
from hypothesis import given, settings
from hypothesis import strategies as st

from underlag.commands.cli import main
from underlag.engine.escape import markdown
from underlag.engine.messages import text as msg

HOSTILE = [
    '#read("/etc/passwd")', '#eval("1+1")', "<script>alert(1)</script>", "{{< include /etc/passwd >}}",
    "@fig-tidslinje", "$x^2$", "`kod`", "]", "\\", "<!-- gömd -->", "*fet* _kursiv_", "[länk](http://x.se)",
    "שלום עולם", "noll\u200bbredd", "🏥💉", "| tabell |", "# rubrik", "---", "&amp; &lt;", "{#sec-x}",
]
# Fields whose values are free text (ids, dates, statuses and numbers keep their own rules)
FREE_TEXT = {"title", "short_title", "subtitle", "text", "name", "description", "note", "comment", "scope",
             "order_of_units", "units", "meaning", "mitigation", "owner", "early_title", "heading", "kind",
             "choice_to_make", "presentation", "period", "organisation", "rationale", "task", "role"}


def poison(value, counter):
    if isinstance(value, dict):
        return {k: (f"{HOSTILE[next(counter) % len(HOSTILE)]} {v}" if k in FREE_TEXT and isinstance(v, str)
                    else poison(v, counter)) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, counter) for v in value]
    return value


def poison_project(project: Path) -> int:
    import itertools

    counter = itertools.count()
    for path in sorted((project / "data").rglob("*.yaml")):
        if "schemas" in path.parts:
            continue
        data = poison(yaml.safe_load(path.read_text("utf-8")), counter)
        if path.name == "beslut.yaml":
            for key in ("interim_points", "final_points"):
                data[key] = [f"{HOSTILE[next(counter) % len(HOSTILE)]} {p}" for p in data[key]]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    tasks = {}
    for name in ("bedomningar.csv", "tidsatgang.csv"):
        path = project / "data" / name
        rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8")), delimiter=";"))
        for row in rows:
            for key in ("rationale", "task"):
                if key in row:  # one task keeps one name on all its rows
                    row[key] = tasks.setdefault(row[key], f"{HOSTILE[next(counter) % len(HOSTILE)]} {row[key]}") \
                        if key == "task" else f"{HOSTILE[next(counter) % len(HOSTILE)]} {row[key]}"
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), "utf-8")
    return next(counter)


def test_hostile_strings_in_every_text_field_render_as_text(tmp_path):
    project = copy_project(tmp_path / "project")
    planted = poison_project(project)
    assert planted > 300
    result = underlag("build", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    report = project / "report"
    html = html_tree(report / "beslutsunderlag.html")
    assert not list(html.iter("script")), "a <script> element reached the HTML"
    outputs = {"html": re.sub(r"\s+", " ", html.text_content()),
               "docx": re.sub(r"\s+", " ", docx_text(report / "beslutsunderlag.docx")),
               "pdf": re.sub(r"\s+", " ", pdf_text(report / "beslutsunderlag.pdf").replace("\u00ad\n", ""))}
    for fmt in ("html", "docx"):
        for hostile in HOSTILE:
            shown = hostile.replace('"', "”")  # Swedish quotation marks, as for all text
            assert shown in outputs[fmt], (fmt, hostile)
    for fmt, text in outputs.items():
        assert "root:x:0" not in text and "root:" not in text, fmt  # no file was read
    assert "alert(1)" in outputs["pdf"] and "#eval" in outputs["pdf"]  # Typst printed, did not run, the code
    assert "{{< include /etc/passwd >}}" in outputs["pdf"]


@pytest.mark.parametrize("source, message", [
    ("{{< include ../../../../../../etc/passwd >}}", lambda: "points outside the project"),
    ("![Karta](../../../../../../etc/hosts.png)",
     lambda: msg("sanitize.outside", what=msg("sanitize.what.image", url="../../../../../../etc/hosts.png"))),
    ("![Karta](https://example.org/karta.png)", lambda: msg(
        "sanitize.network", what=msg("sanitize.what.image", url="https://example.org/karta.png"),
        url="https://example.org/karta.png")),
])
def test_paths_outside_the_project_are_refused(tmp_path, capsys, source, message):
    project = copy_project(tmp_path / "project")
    chapter = project / "chapters/04-mal-och-avgransning.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\n" + source + "\n", "utf-8")
    assert main(["build", "--project", str(project)]) == 2
    assert message() in capsys.readouterr().err


def test_a_symlink_out_of_the_project_is_refused(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    secret = tmp_path / "hemligt.md"
    secret.write_text("Hemlig text\n", "utf-8")
    (project / "chapters/lank.md").symlink_to(secret)
    chapter = project / "chapters/04-mal-och-avgransning.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\n{{< include lank.md >}}\n", "utf-8")
    assert main(["build", "--project", str(project)]) == 2
    # refused when the book is read, at the link itself, before any stage reads it
    assert f"chapters/lank.md: {msg('confine.link_outside', target=os.path.realpath(secret))}" in capsys.readouterr().err


def test_a_chapter_outside_the_project_is_refused(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    (tmp_path / "utanfor.qmd").write_text("# Utanför\n", "utf-8")
    config = project / "_quarto.yml"
    config.write_text(config.read_text("utf-8").replace("    - chapters/10-fortsatt-arbete.qmd\n",
                                                        "    - ../utanfor.qmd\n"), "utf-8")
    assert main(["check", "--project", str(project)]) == 2
    assert "chapter '../utanfor.qmd' is outside the project" in capsys.readouterr().err


PERSONAL = "Patienten 19121212-1212 ringde från 031-123 45 67 och skrev till anna.andersson@example.se."


def test_personal_data_warns_in_build_and_stops_publish(tmp_path):
    project = git_project(tmp_path / "project")
    chapter = project / "chapters/10-fortsatt-arbete.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\n" + PERSONAL + "\n", "utf-8")
    build = underlag("build", "--format", "html", cwd=project)
    assert build.returncode == 0
    from underlag.engine.privacy import ALLOW_FILE, MARKER

    advice = msg("privacy.found", what="", allow_file=ALLOW_FILE, marker=MARKER)  # what follows the found value
    found = [line for line in build.stderr.splitlines() if advice in line]
    assert len(found) == 3 and all(line.startswith("chapters/10-fortsatt-arbete.qmd:") for line in found)
    publish = underlag("publish", "--version", "1.0.0", cwd=project)
    assert publish.returncode == 2 and msg("privacy.identity") in publish.stderr
    assert not (project / "report/versions/1.0.0").exists()


def test_false_positives_can_be_marked(tmp_path):
    from underlag.engine.privacy import scan_project

    project = copy_project(tmp_path / "project")
    chapter = project / "chapters/10-fortsatt-arbete.qmd"
    text = chapter.read_text("utf-8")
    chapter.write_text(text + "\nTestnumret 19121212-1212 används i exempel. <!-- pii-ok -->\n"
                              "Frågor till registrator@vgregion.se.\n", "utf-8")
    allowed = project / "data/tillatna-uppgifter.yaml"
    allowed.write_text(allowed.read_text("utf-8") + "  - registrator@vgregion.se\n", "utf-8")
    assert scan_project(project) == []
    assert scan_project(copy_project(tmp_path / "clean")) == []  # and the real project is clean


def test_luhn_keeps_ordinary_numbers_out():
    from underlag.engine.privacy import scan_text

    assert scan_text("Diarienummer RS 2025-00123, 2 000 000 besök, 19121212-1213 (fel kontrollsiffra).", set()) == []
    assert len(scan_text("Samordningsnummer 701063-2391.", set())) == 1


def _empty_network_namespace() -> list[str]:
    """A command prefix that runs in a network namespace with no network: unshare as root, or with
    a user namespace as a normal user; empty where neither is allowed (then the spy stands guard)."""
    for prefix in (["unshare", "--net"], ["unshare", "--map-root-user", "--net"]):
        if shutil.which("unshare") and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return []


def test_a_build_needs_no_network(tmp_path):
    """Never skipped, never needs root: the whole report builds with every HTTP client's proxy set to
    a spy server that must see no request, inside an empty network namespace where one can be made."""
    project = copy_project(tmp_path / "project")
    spy = SpyServer()
    try:
        result = subprocess.run([*_empty_network_namespace(), sys.executable, "-m", "underlag", "build"],
                                cwd=project, capture_output=True, text=True, env=spy.proxy_environment())
    finally:
        spy.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert (project / "report/beslutsunderlag.pdf").is_file()
    assert spy.requests == []


@settings(max_examples=60, deadline=None)
# control characters cannot reach a fragment: the YAML and CSV readers refuse them
@given(text=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60)
       .filter(lambda t: t.strip()))
def test_escaped_text_comes_out_as_the_same_text(text):
    import pypandoc

    html = pypandoc.convert_text(markdown(text), "html", format="markdown-smart", extra_args=["--wrap=none"])
    from lxml import html as lxml_html

    shown = lxml_html.fromstring(f"<div>{html}</div>").text_content()
    assert re.sub(r"\s+", " ", shown).strip() == re.sub(r"\s+", " ", text).strip()


def test_pathological_inputs_are_refused_or_bounded(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    goals = project / "data/mal.yaml"
    goals.write_text(f"goals:\n  - text: '{'å' * 6000}'\n    status: preliminär\n", "utf-8")
    decision = project / "data/beslut.yaml"
    decision.write_text("status: " + "[" * 3000 + "]" * 3000 + "\n", "utf-8")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    (project / "data/intressenter.yaml").write_text(bomb, "utf-8")
    assert main(["check", "--project", str(project)]) == 2
    message = capsys.readouterr().err
    assert "at most 5000 character" in message
    assert "data/beslut.yaml:1:" in message and "the file is nested too deeply" in message
    assert "data/intressenter.yaml" in message and "too many values" in message


@settings(max_examples=40, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)
       .filter(lambda t: t.strip()))
def test_escaped_text_survives_our_lua_filters(tmp_path_factory, text):
    """Escaped data in a paragraph, a table cell, a callout and a caption, through the whole filter chain."""
    from lxml import html as lxml_html

    from underlag.engine.assemble import swedish_marks
    from underlag.engine.book import Book
    from underlag.engine.render.pandoc import MARKDOWN, pandoc_path, run_pandoc

    folder = tmp_path_factory.mktemp("lua")
    safe = markdown(text)
    source = folder / "book.md"
    source.write_text(f"::: {{.chapter source=\"x.qmd\"}}\n\n# Rubrik\n\n{safe}\n\n| A |\n|---|\n| {safe} |\n\n"
                      f": {safe} {{#tbl-x}}\n\n::: {{.callout-note}}\n{safe}\n:::\n\nSe @tbl-x.\n\n:::\n", "utf-8")
    book = Book(root=folder, chapters=[], metadata={"lang": "sv-SE"}, variables={}, output_name="x")
    # as the build does: pandoc's reader once, the Swedish marks set in Python, then the filters
    document = json.loads(subprocess.run([pandoc_path(), str(source), "--from", MARKDOWN, "--to", "json"],
                                         capture_output=True, check=True).stdout)
    swedish_marks(document["blocks"])
    (folder / "book.json").write_text(json.dumps(document), "utf-8")
    page = lxml_html.fromstring(run_pandoc(book, folder / "book.json", "html5", None))
    shown = re.sub(r"\s+", " ", page.text_content())
    expected = re.sub(r"\s+", " ", text).strip().replace('"', "”").replace("'", "’")
    assert shown.count(expected) >= 4, (expected, shown)
    assert "tabell 1.1" in shown


def test_ten_thousand_csv_rows_load(tmp_path):
    from underlag.report import model
    from underlag.report.load import load_csv

    path = tmp_path / "data" / "tidsatgang.csv"
    path.parent.mkdir()
    rows = "".join(f"Uppgift {i};Läkare;100;5;alt1;5;4;;preliminär\n" for i in range(10_000))
    path.write_text("task;role;per_year;minutes_now;alternative;minutes_short;minutes_long;sources;status\n" + rows,
                    "utf-8")
    problems: list = []
    assert len(load_csv(path, model.TaskTime, tmp_path, problems)) == 10_000 and not problems
