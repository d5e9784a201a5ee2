"""The message catalogue: every key in both languages with the same placeholders, every key the
code names exists, Swedish by default, English with --lang en or an English locale."""

from __future__ import annotations

import ast
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
        assert "lang" not in placeholders(swedish[key]), key  # text(key, lang=…) chooses the language


def test_every_key_the_code_names_is_in_its_catalogue():
    """Keys in calls such as _("lint.spelling", …), text("cli.error", …), count("cli.x", n), and keys kept
    in tables ("lock.holder.build", "yaml.kind.list"): any literal that starts with a catalogue's namespace."""
    known = ENGINE.keys() | REPORT.keys()
    plural = {key.rsplit(".", 1)[0] for key in known if key.endswith((".one", ".other"))}
    namespaces = "|".join(sorted({key.split(".")[0] for key in known}))
    keyed = re.compile(rf"""["']((?:{namespaces})\.[a-z_]+(?:\.[a-z_]+)*)["']""")
    named = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text("utf-8")
        named |= set(re.findall(r"""(?:\b_|\btext|\bcount)\(\s*f?["']([a-z_]+\.[a-z_.]+)["']""", source))
        named |= {key for key in keyed.findall(source) if not FILE_NAME.search(key)}
    missing = {key for key in named if key not in known and key not in plural}
    assert not missing, missing
    assert len(named) > 300  # the search found the calls (a broken pattern would pass vacuously)


FILE_NAME = re.compile(r"\.(json|md|ya?ml|lua|typ|css|html|docx|pdf|py|qmd)$")  # "book.json" is a file, not a key


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda c: c.domain)
@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_each_key_once_with_a_text_and_plurals_in_pairs(catalogue, lang):
    """A key written twice, or left without a text, would make one of the two texts silently win
    (or fall back to Swedish); a plural needs both forms."""
    import polib

    entries = [entry for entry in polib.pofile(str(catalogue.path(lang))) if not entry.obsolete]
    keys = [entry.msgid for entry in entries]
    assert len(keys) == len(set(keys)), {key for key in keys if keys.count(key) > 1}
    assert not [entry.msgid for entry in entries if not entry.msgstr.strip()]
    for key in keys:
        if key.endswith((".one", ".other")):
            stem = key.rsplit(".", 1)[0]
            assert {f"{stem}.one", f"{stem}.other"} <= set(keys), key


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


# --- no writer-visible text outside the catalogues -------------------------------------------------
# The argument that carries the text a writer reads, by the name of the call: Problem's message,
# an error's first argument, a printed line, the sanitizer's and the review's helpers.
MESSAGE_ARGUMENT = {"Problem": 3, "InputError": 0, "UsageError": 0, "UnderlagError": 0, "ToolError": 0, "GitError": 0,
                    "PartialBuildError": 0, "print": 0, "say": 0, "echo": 0, "status": 0,
                    "warn": 0, "error": 1, "resource": 1, "active_target": 1, "Finding": 2, "Place": 2, "problem": 2, "progress": 0}
# Files whose literals are not for writers, each with its reason.
NOT_FOR_WRITERS = {
    "commands/bench.py": "the benchmark is a developer's measuring tool: its English tables are read by engineers",
}
# Single literals that are no sentence in any language, each with its reason: (file, the literal's words).
THE_SAME_IN_EVERY_LANGUAGE = {
    ("engine/render/quarto.py", "quarto render --to"): "the progress line is the command being run",
}
MARKUP = re.compile(r"<[^<>]*>")  # "<img src>", "<style>": HTML names the same in every language


def literal_words(node: ast.AST) -> str:
    """The letters written literally in a message argument (not inside {…} or a nested call such as _("key"))."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return MARKUP.sub("", node.value)
    if isinstance(node, (ast.Call, ast.FormattedValue)):
        return ""
    return " ".join(literal_words(child) for child in ast.iter_child_nodes(node))


def inline_messages(source: str) -> list[tuple[int, str]]:
    """(line, text) of each call whose writer-visible argument is a literal with words in it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in MESSAGE_ARGUMENT:
            continue
        index = MESSAGE_ARGUMENT[name]
        arguments = [keyword.value for keyword in node.keywords if keyword.arg in ("message", "what")]
        if len(node.args) > index and not any(isinstance(a, ast.Starred) for a in node.args[:index]):
            arguments.append(node.args[index])
        elif any(isinstance(a, ast.Starred) for a in node.args):  # Problem(*place, "…", "warning"): after the star
            after = [i for i, a in enumerate(node.args) if isinstance(a, ast.Starred)][-1] + 1
            arguments += node.args[after: after + 1]
        for argument in arguments:
            words = literal_words(argument)
            if re.search(r"[^\W\d_]{2,}", words):
                found.append((node.lineno, words.strip()))
    return found


def test_the_literal_scan_finds_what_it_looks_for():
    planted = ('Problem("a.qmd", 1, 2, "bilden saknas")\nraise UsageError(f"{name}: finns inte")\n'
               'Problem(*place, "utanför", "warning")\nsay(f"{n} fel")\n'
               'Problem("a.qmd", 1, 2, _("sanitize.outside", what="x"))\nprint(f"  {name}")\nself.resource(u, "<img src>")\n')
    assert [line for line, _ in inline_messages(planted)] == [1, 2, 3, 4]


def test_every_writer_visible_message_comes_from_a_catalogue():
    inline = []
    for path in sorted(PACKAGE.rglob("*.py")):
        shown = path.relative_to(PACKAGE).as_posix()
        if shown not in NOT_FOR_WRITERS:
            inline += [f"{shown}:{line}: {words}" for line, words in inline_messages(path.read_text("utf-8"))
                       if (shown, words) not in THE_SAME_IN_EVERY_LANGUAGE]
    assert not inline, "\n".join(inline)
