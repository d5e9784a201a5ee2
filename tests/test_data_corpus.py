"""The bad-input corpus: each case in tests/bad_input/ breaks a copy of the real project in one
way, and its `.expected` file holds the exact message (a snapshot, kept beside the input).

Set UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate change of wording, then
read the diff.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import copy_project

from underlag.commands.cli import main

CORPUS = Path(__file__).parent / "bad_input"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
PREVIOUS = {"beslutsunderlag.pdf": b"%PDF previous", "beslutsunderlag.docx": b"PK previous"}
# a problem names its file and line; only the count of alternatives names the folder itself
PLACE = re.compile(r"^(data/[^:]+:\d+(:\d+)?: |data/alternativ: )")


def apply(step: dict, project: Path) -> None:
    (kind, args), = step.items()
    path = project / args["file"]
    if kind == "replace":
        text = path.read_text("utf-8")
        assert args["old"] in text, f"{args['file']} no longer contains the text this case breaks"
        path.write_text(text.replace(args["old"], args["new"], 1), "utf-8")
    elif kind == "write":
        path.write_text(args["text"], "utf-8")
    elif kind == "write_latin1":
        path.write_bytes(args["text"].encode("latin-1"))
    elif kind == "write_big":
        path.write_text("# " + "x" * (args["megabytes"] * 1_000_000) + "\n", "utf-8")
    elif kind == "delete":
        path.unlink()
    elif kind == "copy":
        text = path.read_text("utf-8")
        (project / args["to"]).write_text(text.replace(args["old"], args["new"], 1), "utf-8")
    elif kind == "drop_lines":
        lines = path.read_text("utf-8").splitlines(keepends=True)
        path.write_text("".join(l for l in lines if not l.startswith(args["starting"])), "utf-8")
    else:
        raise AssertionError(f"unknown step {kind}")


def check_snapshot(snapshot: Path, message: str, update: bool = UPDATE) -> None:
    """The message must equal its snapshot. A missing snapshot fails (a new case would otherwise
    check nothing until someone reads it); UPDATE_SNAPSHOTS=1 writes it."""
    if update:
        snapshot.write_text(message, "utf-8")
    assert snapshot.exists(), f"{snapshot.name} is missing; run with UPDATE_SNAPSHOTS=1 and read the message"
    assert message == snapshot.read_text("utf-8")


def test_a_missing_snapshot_fails(tmp_path):
    with pytest.raises(AssertionError, match="missing"):
        check_snapshot(tmp_path / "new-case.expected", "data/x.yaml:1: fel\n")
    assert not (tmp_path / "new-case.expected").exists()
    check_snapshot(tmp_path / "new-case.expected", "data/x.yaml:1: fel\n", update=True)
    check_snapshot(tmp_path / "new-case.expected", "data/x.yaml:1: fel\n")


CASES = sorted(p.stem for p in CORPUS.glob("*.yaml"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_bad_data_gives_its_message(case, tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    (project / "report").mkdir()
    for name, content in PREVIOUS.items():
        (project / "report" / name).write_bytes(content)
    spec = yaml.safe_load((CORPUS / f"{case}.yaml").read_text("utf-8"))
    for step in spec["steps"]:
        apply(step, project)

    # the snapshots hold what a writer reads: the Swedish default, whatever this session's locale
    code = main(["--lang", "sv", "build", *spec.get("args", []), "--project", str(project)])

    message = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in message
    problems = message.splitlines()[:-1]
    assert problems and all(PLACE.match(line) for line in problems), message
    check_snapshot(CORPUS / f"{case}.expected", message)
    assert sorted(p.name for p in (project / "report").iterdir()) == sorted(PREVIOUS)
    assert all((project / "report" / n).read_bytes() == c for n, c in PREVIOUS.items())


def test_warnings_pass_unless_strict(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    milestones = project / "data/milstolpar.yaml"
    text = milestones.read_text("utf-8").replace("    forecast: 2025-02-28\n", "    forecast: 2025-03-07\n", 1)
    milestones.write_text(text, "utf-8")

    assert main(["check", "--project", str(project)]) == 0
    assert "data/milstolpar.yaml:" in capsys.readouterr().err
    assert main(["check", "--strict", "--project", str(project)]) == 2
    assert "warning: MS5 is green (on plan) but its forecast 2025-03-07" in capsys.readouterr().err
    shutil.rmtree(project / "chapters" / "_generated", ignore_errors=True)
