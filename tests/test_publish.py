"""Publishing versions: reproducible, never overwritten, atomic under failure, kill and concurrency,
gated on status, with a changelog a reader can follow."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import copy_project, html_tree, pdf_text, underlag
from test_alternatives import FIFTH

EPOCH = {"SOURCE_DATE_EPOCH": "1738022400"}  # 2025-01-28


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "underlag.cli", *args], cwd=project, capture_output=True,
                          text=True, env={**os.environ, **EPOCH})


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("beslutsunderlag.*"))}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A project with version 1.0.0 published."""
    project = copy_project(tmp_path_factory.mktemp("published") / "project")
    result = run(project, "publish", "--version", "1.0.0")
    assert result.returncode == 0, result.stderr
    return project


def fork(published: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(published, copy)
    return copy


def test_same_sources_and_epoch_give_byte_identical_files(published, tmp_path):
    other = copy_project(tmp_path / "other")
    assert run(other, "publish", "--version", "1.0.0").returncode == 0
    first, second = digest(published / "report/versions/1.0.0"), digest(other / "report/versions/1.0.0")
    assert len(first) == 3 and first == second


def test_a_version_folder_is_complete(published):
    folder = published / "report/versions/1.0.0"
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert set(manifest["outputs"]) == {"beslutsunderlag.pdf", "beslutsunderlag.docx", "beslutsunderlag.html",
                                        "kortversion.pdf", "kortversion.docx"}  # the short brief is an edition
    for name, sha in manifest["outputs"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
    assert "data/bedomningar.csv" in manifest["inputs"] and "_quarto.yml" in manifest["inputs"]
    assert "chapters/08-analys.qmd" in manifest["inputs"] and "templates/typst/report.typ" in manifest["inputs"]
    assert manifest["tools"]["pandoc"] and manifest["tools"]["typst"] and manifest["source_date_epoch"] == 1738022400
    assert {"revision", "clean"} <= set(manifest["git"])
    assert "## [1.0.0]" in (folder / "CHANGELOG.md").read_text("utf-8")
    text = pdf_text(folder / "beslutsunderlag.pdf")
    assert "Version 1.0.0 · 2025-01-28 · utkast" in text  # version, date and status in every footer


def test_an_existing_version_is_never_overwritten(published, tmp_path):
    project = fork(published, tmp_path)
    before = digest(project / "report/versions/1.0.0")
    result = run(project, "publish", "--version", "1.0.0")
    assert result.returncode == 2 and "already published" in result.stderr and "Traceback" not in result.stderr
    assert digest(project / "report/versions/1.0.0") == before


def test_dry_run_shows_and_writes_nothing(published, tmp_path):
    project = fork(published, tmp_path)
    result = run(project, "publish", "--version", "1.1.0", "--dry-run")
    assert result.returncode == 0 and "would publish version 1.1.0" in result.stderr
    assert "manifest.json" in result.stderr
    assert not (project / "report/versions/1.1.0").exists()


def test_a_failing_render_leaves_no_version(published, tmp_path):
    project = fork(published, tmp_path)
    template = project / "templates/typst/report.typ"
    template.write_text(template.read_text("utf-8") + "\n#let broken = (\n", "utf-8")  # only the PDF fails
    result = run(project, "publish", "--version", "1.1.0")
    assert result.returncode == 1 and "Typst" in result.stderr
    versions = sorted(p.name for p in (project / "report/versions").iterdir())
    assert versions == ["1.0.0", "index.html"]


def test_a_killed_publish_leaves_no_partial_version(published, tmp_path):
    project = fork(published, tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "underlag.cli", "publish", "--version", "1.1.0"],
                               cwd=project, env={**os.environ, **EPOCH}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    process.send_signal(signal.SIGKILL)
    process.wait()
    folder = project / "report/versions/1.1.0"
    assert not folder.exists() or (folder / "manifest.json").is_file()  # all or nothing
    assert run(project, "publish", "--version", "1.2.0").returncode == 0
    assert not list((project / "report/versions").glob(".tmp-*"))  # leftovers of the kill are gone


def test_concurrent_publishes_never_interleave(published, tmp_path):
    project = fork(published, tmp_path)
    processes = [subprocess.Popen([sys.executable, "-m", "underlag.cli", "publish", "--version", v], cwd=project,
                                  env={**os.environ, **EPOCH}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for v in ("2.0.0", "2.1.0")]
    outcomes = [(p.wait(), p.stderr.read()) for p in processes]
    assert any(code == 0 for code, _ in outcomes)
    for code, message in outcomes:
        assert code == 0 or "another build or publish is running" in message
    for version in ("2.0.0", "2.1.0"):
        folder = project / "report/versions" / version
        assert not folder.exists() or len(digest(folder)) == 3


def test_status_gate_lists_every_preliminary_part(published, tmp_path):
    project = fork(published, tmp_path)
    result = run(project, "publish", "--version", "1.1.0", "--status", "fastställd")
    assert result.returncode == 2
    lines = result.stderr.splitlines()[:-1]
    assert len(lines) > 50 and all(":" in line.split(" ")[0] for line in lines)
    assert any(line.startswith("data/bedomningar.csv:2:") for line in lines)
    assert any(line.startswith("data/kriterier.yaml:") and "weights" not in line for line in lines)
    assert not (project / "report/versions/1.1.0").exists()


def test_changelog_of_a_prepared_pair(published, tmp_path):
    project = fork(published, tmp_path)
    scores = project / "data/bedomningar.csv"
    scores.write_text(scores.read_text("utf-8").replace(
        "alt1;kvalitet;3;2;4;Bygger på ett system som redan används men där införandet har gett störningar",
        "alt1;kvalitet;4;3;4;Uppdateringen löser de största bristerna"), "utf-8")
    (project / "data/alternativ/alt5-samverkan.yaml").write_text(FIFTH, "utf-8")
    milestones = project / "data/milstolpar.yaml"
    milestones.write_text(milestones.read_text("utf-8").replace("    forecast: 2025-03-31\n",
                                                                "    forecast: 2025-04-14\n"), "utf-8")
    result = run(project, "publish", "--version", "1.1.0")
    assert result.returncode == 0, result.stderr
    folder = project / "report/versions/1.1.0"
    log = (folder / "CHANGELOG.md").read_text("utf-8")
    section = log.split("## [1.1.0]")[1].split("## [1.0.0]")[0]
    entries = [line[2:] for line in section.splitlines() if line.startswith("- ")]
    assert entries == [
        "Alternativ 5, Regional samverkan, har lagts till.",
        "Poängen för alternativ 1 på kvalitet och (patient)säkerhet har ändrats från 3 till 4. "
        "Ny motivering: Uppdateringen löser de största bristerna.",
        "Milstolpe MS8, Beslutsunderlag klart, har ändrats: prognos från 2025-03-31 till 2025-04-14.",
    ]
    assert "### Added" in section and "### Changed" in section and "## [1.0.0]" in log
    appendix = html_tree(folder / "beslutsunderlag.html").text_content()
    assert "Ändringar sedan version 1.0.0" in appendix and entries[2] in appendix

    index = html_tree(project / "report/versions/index.html")
    assert index.get("lang") == "sv"
    assert [th.text for th in index.findall(".//tbody/tr/th")] == ["1.1.0", "1.0.0"]
    assert index.find(".//a[@href='1.1.0/beslutsunderlag.pdf']") is not None


def test_a_plain_build_waits_for_nobody_but_refuses_during_a_publish(published, tmp_path):
    project = fork(published, tmp_path)
    lock = project / ".underlag.lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl,time,sys; f=open(sys.argv[1],'w'); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('locked', flush=True); time.sleep(30)"), str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = underlag("build", "--format", "html", cwd=project)
        assert result.returncode == 1 and "another build or publish is running" in result.stderr
    finally:
        holder.kill()
