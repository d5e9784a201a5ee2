"""The tool as a user gets it (issue 22): the wheel alone, installed into a fresh virtual environment
without system site packages, run in an empty folder outside this repository with no PYTHONPATH.

Building the wheel and installing its dependencies takes a minute or two, so it happens once per
module. A missing template, filter or starter in the wheel shows up here and nowhere else: in the
source tree every file is at hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT, copy_project

PACKAGE = PROJECT / "scripts" / "underlag"
DATA_FOLDERS = ("templates", "filters", "starters")  # what the code reads at run time, besides itself
TWO_CHAPTERS = {
    "_quarto.yml": "project:\n  type: book\nbook:\n  title: Två kapitel\n  chapters:\n"
                   "    - ett.qmd\n    - tva.qmd\nlang: sv-SE\n",
    "ett.qmd": "# Ett {#sec-ett}\n\nSe @sec-tva.\n",
    "tva.qmd": "# Två {#sec-tva}\n\nTillbaka till @sec-ett.\n",
}


def run(args: list, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The release as `python -m build` makes it (an sdist, and the wheel built from that sdist),
    from a copy of the sources: an in-tree build would leave build/ behind."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(PROJECT / name, source)
    shutil.copytree(PACKAGE, source / "scripts" / "underlag", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    # the copy has no Git history to take the version from (setuptools-scm); a release has its tag
    env = {**os.environ, "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"}
    run([sys.executable, "-m", "build", "--outdir", out, source], cwd=source, env=env)
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    (built,) = dist.glob("underlag-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh virtual environment holding the wheel (dependencies from the package index), and the
    environment a user's shell would give its `underlag`: no PYTHONPATH, the venv first on PATH."""
    venv = tmp_path_factory.mktemp("venv")
    # Half the time of a plain `venv` + its own pip: this pip installs into the venv (--python), and
    # nothing is byte-compiled ahead (Python compiles what the commands import, as they run).
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    run([sys.executable, "-m", "pip", "--python", venv / "bin/python", "install", "-q", "--no-compile",
         "--disable-pip-version-check", wheel], cwd=venv, env=env)
    return {"underlag": venv / "bin/underlag", "python": venv / "bin/python", "env": env}


def workspace(tmp_path: Path) -> Path:
    """An empty folder outside this repository."""
    folder = tmp_path / "arbete"
    folder.mkdir()
    assert not folder.resolve().is_relative_to(PROJECT)
    return folder


def assert_real_outputs(report: Path, name: str) -> None:
    """Each format opens in the library that reads it, with the book's text inside."""
    import docx
    from lxml import html
    from pypdf import PdfReader

    pdf = PdfReader(report / f"{name}.pdf")
    assert len(pdf.pages) >= 1 and "".join(page.extract_text() for page in pdf.pages).strip()
    document = docx.Document(report / f"{name}.docx")
    assert any(p.text.strip() for p in document.paragraphs)
    tree = html.parse(str(report / f"{name}.html")).getroot()
    assert tree.get("lang", "").startswith("sv") and tree.find(".//body") is not None


def test_the_release_passes_twine_check_with_complete_metadata(dist, wheel):
    """What PyPI shows and checks: the readme renders, and licence, URLs, classifiers and the
    Python versions are set."""
    files = sorted(dist.iterdir())
    assert [f.name for f in files] == ["underlag-0.0.0-py3-none-any.whl", "underlag-0.0.0.tar.gz"]
    result = run([sys.executable, "-m", "twine", "check", "--strict", *files], cwd=dist)
    assert result.stdout.count("PASSED") == 2, result.stdout
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("underlag-0.0.0.dist-info/METADATA").decode("utf-8")
        licences = [n for n in archive.namelist() if n.startswith("underlag-0.0.0.dist-info/licenses/")]
    fields = [tuple(line.split(": ", 1)) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line]
    keys = {key for key, _ in fields}
    assert {"License-Expression", "Requires-Python", "Project-URL", "Classifier", "Description-Content-Type"} <= keys
    assert ("License-Expression", "EUPL-1.2") in fields and licences == ["underlag-0.0.0.dist-info/licenses/LICENSE"]
    urls = dict(value.split(", ", 1) for key, value in fields if key == "Project-URL")
    assert {"Documentation", "Source"} <= set(urls), urls


def test_the_wheel_holds_every_file_the_code_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"underlag/{p.relative_to(PACKAGE).as_posix()}" for folder in DATA_FOLDERS
               for p in (PACKAGE / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped and shipped <= names, sorted(shipped - names)
    assert "underlag/templates/typst/report.typ" in names and "underlag/templates/html/style.css" in names


def test_the_installed_tool_builds_a_plain_book_in_an_empty_folder(installed, tmp_path):
    folder = workspace(tmp_path)
    for name, text in TWO_CHAPTERS.items():
        (folder / name).write_text(text, "utf-8")
    run([installed["underlag"], "build"], cwd=folder, env=installed["env"])
    assert_real_outputs(folder / "report", "rapport")  # a book without output-file
    located = run([installed["python"], "-c", "import underlag; print(underlag.__file__)"], cwd=folder,
                  env=installed["env"]).stdout
    assert "site-packages" in located and not Path(located.strip()).resolve().is_relative_to(PROJECT)


@pytest.mark.parametrize("starter, output", [("bok", "rapport"), ("beslutsunderlag", "beslutsunderlag")])
def test_a_new_project_builds_at_once_and_passes_the_strict_check(installed, tmp_path, starter, output):
    folder = workspace(tmp_path)
    run([installed["underlag"], "new", "rapport", "--mall", starter], cwd=folder, env=installed["env"])
    project = folder / "rapport"
    assert (project / ".gitignore").is_file()
    run([installed["underlag"], "check", "--strict"], cwd=project, env=installed["env"])
    # the Swedish dictionary came with pip too: lint finds it (else it warns, exit status 2) and the
    # starter's text passes
    run([installed["underlag"], "lint"], cwd=project, env=installed["env"])
    run([installed["underlag"], "build"], cwd=project, env=installed["env"])
    assert_real_outputs(project / "report", output)


def test_new_refuses_a_folder_that_is_not_empty(installed, tmp_path):
    folder = workspace(tmp_path)
    (folder / "rapport").mkdir()
    (folder / "rapport/anteckning.txt").write_text("min text\n", "utf-8")
    swedish = {**installed["env"], "LC_MESSAGES": "sv_SE.UTF-8"}  # a writer's default (conftest pins English)
    result = subprocess.run([installed["underlag"], "new", "rapport", "--mall", "bok"], cwd=folder,
                            env=swedish, capture_output=True, text=True)
    assert result.returncode == 2 and "inte tom" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in (folder / "rapport").iterdir()) == ["anteckning.txt"]


def test_the_decision_basis_starter_and_this_report_have_the_same_shape():
    """The report in this repository is a project like the one `underlag new` starts: the same data
    files and schemas, the same chapters and book files (only the alternatives themselves differ),
    so that the starter cannot drift away from what the report layer reads."""
    starter = PACKAGE / "starters" / "beslutsunderlag"

    def shape(root: Path) -> set[str]:
        names = {p.relative_to(root).as_posix() for folder in ("data", "chapters") for p in (root / folder).rglob("*")
                 if p.is_file() and "_generated" not in p.parts and "alternativ" not in p.relative_to(root).parts}
        return names | {p.name for p in root.glob("_*.yml")}

    # the starter's schemas are written by `underlag new` from the installed model
    assert shape(starter) | {f"data/schemas/{p.name}" for p in (PROJECT / "data/schemas").glob("*.json")} \
        == shape(PROJECT)
    # one set of writers' guides: the starter ships copies of this report's
    for guide in ("chapters/README.md", "data/README.md"):
        assert (starter / guide).read_text("utf-8") == (PROJECT / guide).read_text("utf-8"), \
            f"copy {guide} to {(starter / guide).relative_to(PROJECT)}"


def test_a_new_decision_basis_gets_the_schemas_of_its_model(tmp_path):
    """The new project's schemas are this report's, byte for byte, and its data passes them as an
    editor would check it; its .vscode/ is this repository's, and wires every schema to the data
    files that exist (a renamed data file or schema fails here)."""
    import jsonschema
    import yaml

    from test_schema import _plain
    from underlag.commands.new import create_project
    from underlag.report.schema import data_files

    project = tmp_path / "rapport"
    create_project(project, "beslutsunderlag")
    written = {p.name: p.read_text("utf-8") for p in (project / "data/schemas").glob("*.json")}
    assert written == {p.name: p.read_text("utf-8") for p in (PROJECT / "data/schemas").glob("*.json")}
    for path, stem in data_files(project):
        schema = json.loads((project / "data/schemas" / f"{stem}.schema.json").read_text("utf-8"))
        jsonschema.validate(_plain(yaml.safe_load(path.read_text("utf-8"))), schema)

    vscode = {p.name: p.read_text("utf-8") for p in (project / ".vscode").iterdir()}
    assert vscode == {p.name: p.read_text("utf-8") for p in (PROJECT / ".vscode").iterdir()}
    assert {"quarto.quarto", "redhat.vscode-yaml", "streetsidesoftware.code-spell-checker-swedish"} \
        <= set(json.loads(vscode["extensions.json"])["recommendations"])
    wired = json.loads(vscode["settings.json"])["yaml.schemas"]
    assert sorted(wired) == sorted(f"./data/schemas/{name}" for name in written)
    for root in (project, PROJECT):
        covered = {path for pattern in wired.values() for path in root.glob(pattern)}
        assert {path for path, _ in data_files(root)} == covered, root


def test_new_with_git_commits_the_project_so_history_works_at_once(tmp_path, monkeypatch):
    """One commit holding every file, a clean tree, and a build that leaves it clean (.gitignore
    covers every output)."""
    from conftest import GIT_IDENTITY
    from underlag.commands.build import Options, build

    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    project = tmp_path / "rapport"
    from underlag.commands.new import create_project

    files = create_project(project, "beslutsunderlag", git=True)
    git = lambda *args: subprocess.run(["git", *args], cwd=project, capture_output=True, text=True).stdout  # noqa: E731
    assert len(git("log", "--format=%H").split()) == 1
    assert sorted(git("ls-files").split()) == sorted(p.relative_to(project).as_posix() for p in files)
    assert git("status", "--porcelain") == ""
    build(project, Options(formats=("html",)))
    assert (project / "report/beslutsunderlag.html").is_file() and git("status", "--porcelain") == ""


def test_new_with_git_but_no_git_identity_says_how_to_finish(tmp_path, monkeypatch):
    from underlag.commands.new import create_project
    from underlag.engine.errors import UsageError

    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n", "utf-8")  # no name, no e-mail, no guessing
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    from underlag.engine.messages import text

    with pytest.raises(UsageError) as refused:
        create_project(tmp_path / "rapport", "beslutsunderlag", git=True)
    assert str(refused.value) == text("new.no_identity", folder=tmp_path / "rapport")
    assert "git config --global user.name" in str(refused.value)
    assert (tmp_path / "rapport/.git").is_dir() and (tmp_path / "rapport/_quarto.yml").is_file()


def test_a_projects_fragment_template_overrides_the_packaged_one_and_only_that(tmp_path):
    """File by file: the project's own templates/fragments/kontakt.md.j2 wins, and every other
    fragment still comes from the package."""
    from underlag.commands.build import prepare

    project = copy_project(tmp_path / "rapport")
    assert not (project / "templates").exists()  # this report uses the packaged templates only
    own = project / "templates/fragments/kontakt.md.j2"
    own.parent.mkdir(parents=True)
    own.write_text("Egen kontakttext för {{ report.meta.title }}.\n", "utf-8")
    prepare(project)
    generated = project / "chapters/_generated"
    assert (generated / "kontakt.md").read_text("utf-8").startswith("Egen kontakttext för ")
    packaged = {p.name.removesuffix(".j2") for p in (PACKAGE / "templates/fragments").glob("*.j2")}
    assert {p.name for p in generated.glob("*.md")} == packaged
