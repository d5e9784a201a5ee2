"""Shared fixtures: a copy of the project built once per session, and helpers to read outputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# The older tests compare English wording, written before the message catalogue made Swedish the
# default; they run with English messages (LC_MESSAGES=en, as a writer would get with --lang en)
# until their asserts move to message keys. Only the messages' locale is set, never LC_CTYPE, so
# pandoc and Typst read UTF-8 as before. Tests of the Swedish default choose it themselves
# (tests/test_messages.py).
os.environ["LC_MESSAGES"] = "en_GB.UTF-8"

PROJECT = Path(__file__).resolve().parent.parent
# matrix, totals, switching values, rank acceptability, production impact, risk matrix, cumulative costs
ANALYSIS_FIGURES = 7
# the report has no templates/ of its own: every template is package data (scripts/underlag/templates)
PROJECT_FILES = ("_quarto.yml", "_quarto-kortversion.yml", "_quarto-granskning.yml", "_variables.yml", "chapters", "data")


def copy_project(dest: Path) -> Path:
    """The project's sources (not its outputs) in a fresh folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("_generated", "__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}


def git(cwd: Path, *args: str) -> str:
    import os

    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_IDENTITY})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def git_project(dest: Path) -> Path:
    """A copy of the project committed to a Git repository of its own (publish needs Git)."""
    copy_project(dest)
    shutil.copy2(PROJECT / ".gitignore", dest / ".gitignore")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "Projektet")
    return dest


class SpyServer:
    """An HTTP server on 127.0.0.1 (a free port) that answers everything and records each request:
    a build that names it, or uses it as its proxy, must leave `requests` empty."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                requests.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"spy")

            do_POST = do_HEAD = do_CONNECT = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def proxy_environment(self) -> dict[str, str]:
        """Every HTTP client's proxy variables pointed at the spy."""
        import os

        names = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy")
        return {**os.environ, **{name: self.url for name in names}, "NO_PROXY": "", "no_proxy": ""}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def underlag(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "underlag", *args], cwd=cwd, capture_output=True, text=True)


def build_project(project: Path, *formats: str) -> dict[str, Path]:
    args = [a for fmt in formats for a in ("--format", fmt)]
    result = underlag("build", *args, cwd=project)
    assert result.returncode == 0, result.stderr
    return {fmt: project / "report" / f"beslutsunderlag.{fmt}" for fmt in (formats or ("pdf", "docx", "html"))}


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def docx_text(path: Path) -> str:
    import docx

    import re
    import zipfile

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    with zipfile.ZipFile(path) as archive:  # footnotes live in their own part
        if "word/footnotes.xml" in archive.namelist():
            xml = archive.read("word/footnotes.xml").decode()
            parts += ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in xml.split("</w:p>")]
    return "\n".join(parts)


def html_tree(path: Path):
    from lxml import html

    return html.parse(str(path)).getroot()


@pytest.fixture(scope="session")
def report(tmp_path_factory) -> dict[str, Path]:
    """The real report, built once in all three formats from a copy of the project."""
    project = copy_project(tmp_path_factory.mktemp("report"))
    return build_project(project)
