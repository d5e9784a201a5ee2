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
# totals, switching values, rank acceptability, production impact, risk matrix, cumulative costs
ANALYSIS_FIGURES = 6
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
    numbers = heading_numbers(document)
    parts = [f"{numbers[p._p]} {p.text}" if numbers.get(p._p) else p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    with zipfile.ZipFile(path) as archive:  # footnotes live in their own part
        if "word/footnotes.xml" in archive.namelist():
            xml = archive.read("word/footnotes.xml").decode()
            parts += ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in xml.split("</w:p>")]
    return "\n".join(parts)


def heading_numbers(document) -> dict:
    """The number Word shows before each heading paragraph, worked out from the list numbering the
    paragraph has (directly or through its style and the styles it is based on): numbering.xml's
    levels with their lvlText and numFmt, counted per list. Only headings: list items keep their
    text as written."""
    from docx.oxml.ns import qn

    styles = {s.get(qn("w:styleId")): s for s in document.styles.element.findall(qn("w:style"))}
    numbering = document.part.numbering_part.element
    abstract = {a.get(qn("w:abstractNumId")): a for a in numbering.findall(qn("w:abstractNum"))}
    lists = {n.get(qn("w:numId")): abstract[n.find(qn("w:abstractNumId")).get(qn("w:val"))]
             for n in numbering.findall(qn("w:num"))}

    def numbered(properties):
        found = properties.find(qn("w:numPr")) if properties is not None else None
        if found is None or found.find(qn("w:numId")) is None:
            return None
        level = found.find(qn("w:ilvl"))
        return found.find(qn("w:numId")).get(qn("w:val")), int(level.get(qn("w:val"))) if level is not None else 0

    def from_style(style_id):
        while style_id in styles:
            if (found := numbered(styles[style_id].find(qn("w:pPr")))) is not None:
                return found
            based = styles[style_id].find(qn("w:basedOn"))
            style_id = based.get(qn("w:val")) if based is not None else None
        return None

    def shown(value: int, format_: str) -> str:
        return {"upperLetter": chr(64 + value), "lowerLetter": chr(96 + value)}.get(format_, str(value))

    counters: dict[str, list[int]] = {}
    result = {}
    for paragraph in document.element.body.iter(qn("w:p")):
        style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        style_id = style.get(qn("w:val")) if style is not None else ""
        if not style_id.startswith("Heading"):
            continue
        found = numbered(paragraph.find(qn("w:pPr"))) or from_style(style_id)
        if found is None or found[0] == "0" or found[0] not in lists:
            continue
        num_id, level = found
        levels = {int(l.get(qn("w:ilvl"))): l for l in lists[num_id].findall(qn("w:lvl"))}
        count = counters.setdefault(num_id, [0] * 9)
        count[level] += 1
        count[level + 1:] = [0] * (8 - level)
        text = levels[level].find(qn("w:lvlText")).get(qn("w:val"))
        for k in range(level + 1):
            format_ = levels[k].find(qn("w:numFmt")).get(qn("w:val"))
            text = text.replace(f"%{k + 1}", shown(max(count[k], 1), format_))
        result[paragraph] = text
    return result


def html_tree(path: Path):
    from lxml import html

    return html.parse(str(path)).getroot()


@pytest.fixture(scope="session")
def report(tmp_path_factory) -> dict[str, Path]:
    """The real report, built once in all three formats from a copy of the project."""
    project = copy_project(tmp_path_factory.mktemp("report"))
    return build_project(project)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (Debian's) per test module, for the tests that read the HTML as a browser does."""
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def swedish_messages():
    """For a module whose asserts quote the Swedish texts a writer reads (the default language):
    this file pins English for the older tests, so such a module chooses Swedish for itself."""
    patch = pytest.MonkeyPatch()
    patch.setenv("LC_MESSAGES", "sv_SE.UTF-8")
    yield
    patch.undo()


@pytest.fixture
def swedish_in_this_test(monkeypatch):
    """One test's Swedish texts in a module that reads English (swedish_messages is module-wide)."""
    monkeypatch.setenv("LC_MESSAGES", "sv_SE.UTF-8")


@pytest.fixture
def fresh_privacy_finds(monkeypatch):
    """The personal-data scan's in-process memory of finds, empty for this test: a test that scans
    text another test (or a mutation run's clean pass) already scanned would otherwise get the
    remembered finds and check nothing of the scan itself."""
    from underlag.engine import privacy

    monkeypatch.setattr(privacy, "_LINE_HITS", {})
    monkeypatch.setattr(privacy, "_FOLDED", {})


PRIVACY_SCANS = ("direct", "cold cache", "stored finds", "stored result")


@pytest.fixture(params=PRIVACY_SCANS)
def privacy_scan(request, fresh_privacy_finds):
    """`scan_project`, and the build's `scan_project_cached` three ways: with an empty cache, with
    each file's finds taken from the cache a previous build saved (the result itself not stored,
    so everything is put together again), and with the whole result stored. All four must agree."""
    from underlag.engine import privacy
    from underlag.engine.cache import Cache

    def scan(root: Path):
        if request.param == "direct":
            return privacy.scan_project(root)
        cache = Cache(root)
        first = privacy.scan_project_cached(root, cache)
        if request.param == "cold cache":
            return first
        cache.save()
        privacy._LINE_HITS.clear()  # a new process: only what the cache saved is known
        privacy._FOLDED.clear()
        cache = Cache(root)
        if request.param == "stored finds":
            assert cache.entries.pop("stage:privacy", None) is not None
        again = privacy.scan_project_cached(root, cache)
        assert again == first
        return again

    return scan
