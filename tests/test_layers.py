"""The two layers, one direction (DESIGN.md "Two layers"), enforced on the real import graph.

import-linter reads every module's imports (including those inside functions) and checks the
contract in pyproject.toml: commands → report → engine, never upwards. The second test plants an
upward import in a copy of the package, so the contract is shown to bite."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(scripts: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(scripts), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
                           " sys.exit(lint_imports_command())", "--config", str(ROOT / "pyproject.toml")],
                          cwd=ROOT, env=env, capture_output=True, text=True)


def test_engine_imports_neither_report_nor_commands():
    result = lint_imports(ROOT / "scripts")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    scripts = tmp_path / "scripts"
    shutil.copytree(ROOT / "scripts" / "underlag", scripts / "underlag",
                    ignore=shutil.ignore_patterns("__pycache__", "starters", "templates"))
    book = scripts / "underlag" / "engine" / "book.py"
    book.write_text(book.read_text() + "\nfrom underlag.report import model  # planted\n")
    result = lint_imports(scripts)
    assert result.returncode != 0
    assert "underlag.engine.book -> underlag.report.model" in result.stdout
