"""The message catalogue: every key in both languages with the same placeholders, every key the
code names exists, Swedish by default, English with --lang en or an English locale."""

from __future__ import annotations

import os
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from underlag.commands.cli import main
from underlag.engine import messages
from underlag.engine.messages import ENGINE, language_from_environment, text
from underlag.report.messages import REPORT

PACKAGE = Path(messages.__file__).resolve().parent.parent
CATALOGUES = [ENGINE, REPORT]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda c: c.domain)
def test_both_languages_have_the_same_keys_and_placeholders(catalogue):
    swedish, english = catalogue.entries("sv"), catalogue.entries("en")
    assert set(swedish) == set(english)
    for key in swedish:
        assert placeholders(swedish[key]) == placeholders(english[key]), key


def test_every_key_the_code_names_is_in_its_catalogue():
    """Keys in calls such as _("lint.spelling", …), text("cli.error", …), count("cli.x", n)."""
    known = ENGINE.keys() | REPORT.keys()
    plural = {key.rsplit(".", 1)[0] for key in known if key.endswith((".one", ".other"))}
    named = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text("utf-8")
        named |= set(re.findall(r"""(?:\b_|\btext|\bcount)\(\s*f?["']([a-z_]+\.[a-z_.]+)["']""", source))
        named |= set(re.findall(r"""["']((?:assemble|lint|structure|yaml|help|tool|checks|load|model|cli|publish|argparse|problem|fragments)\.[a-z_]+)["']""", source))
    missing = {key for key in named if key not in known and key not in plural}
    assert not missing, missing
    assert len(named) > 60  # the search found the calls (a broken pattern would pass vacuously)


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "sv"), ({"LANG": "C.UTF-8"}, "sv"), ({"LANG": "sv_SE.UTF-8"}, "sv"), ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "sv_SE.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"), ({"LC_ALL": "C", "LANG": "en_US"}, "sv"),
])
def test_language_from_the_environment(environ, expected):
    assert language_from_environment(environ) == expected


def small_book(tmp_path: Path) -> Path:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/ett.qmd").write_text("# Ett\n\nSe @sec-saknas.\n", "utf-8")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"title": "Bok", "chapters": ["chapters/ett.qmd"]}, "lang": "sv-SE"}), "utf-8")
    return tmp_path


def run(*args: str, cwd: Path, **environ: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG"))}
    return subprocess.run([sys.executable, "-m", "underlag", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**env, **environ})


def test_a_writer_gets_swedish_by_default(tmp_path):
    project = small_book(tmp_path)
    result = run("check", cwd=project, LANG="C.UTF-8")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "chapters/ett.qmd:3:4: " + text("assemble.reference_no_target", lang="sv", key="sec-saknas"),
        ENGINE.count("cli.problems_found", 1, lang="sv"),
    ]
    assert "hittades" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("how", [("--lang", "en", "check"), ("check", "--lang", "en"), ("--lang=en", "check")])
def test_english_with_lang(tmp_path, how):
    result = run(*how, cwd=small_book(tmp_path), LANG="sv_SE.UTF-8")
    assert result.stderr.splitlines()[-1] == ENGINE.count("cli.problems_found", 1, lang="en")


def test_english_from_the_locale(tmp_path):
    result = run("check", cwd=small_book(tmp_path), LANG="en_GB.UTF-8")
    assert result.stderr.splitlines()[-1] == ENGINE.count("cli.problems_found", 1, lang="en")


def test_usage_errors_in_swedish(tmp_path):
    result = run("publish", cwd=tmp_path, LANG="C.UTF-8")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == text("cli.error", lang="sv", message=text(
        "argparse.required", lang="sv", names="--version"))
    help_text = " ".join(run("--help", cwd=tmp_path, LANG="C.UTF-8").stdout.split())  # argparse wraps lines
    assert text("help.lint", lang="sv") in help_text and text("help.labels", lang="sv") in help_text
    assert help_text.startswith(text("argparse.usage", lang="sv").strip()) and "show this help" not in help_text


def test_no_errors_and_warning_prefix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LC_MESSAGES", "C.UTF-8")
    project = small_book(tmp_path)
    (project / "chapters/ett.qmd").write_text("# Ett {#sec-ett}\n\n![](../x.png)\n\nSe @sec-ett.\n", "utf-8")
    shutil.copy(Path(__file__).parent / "fixtures/plain-book/bilder/stapel.png", project / "x.png")
    assert main(["check", "--project", str(project)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("chapters/ett.qmd:3:5: varning: bilden '../x.png' saknar alternativtext")  # PDF/UA's
    assert err[-1] == ENGINE.count("cli.no_errors_warnings", 1, lang="sv") == "Inga fel, 1 varning."
