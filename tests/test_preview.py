"""`underlag preview` in a real Chromium: errors in view wherever the writer has scrolled, the
scroll position kept over reloads, every block linked to its source (prose, generated table cell,
figure), static figures watched, and `underlag build` waiting for the lock another process holds.

One preview (one build) serves the whole module; each test puts back what it changes.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import copy_project, underlag
from underlag.engine.messages import text

WAIT = 90  # seconds: generous, a rebuild takes a few on a busy machine (a limit, not a benchmark)
CHAPTER = "chapters/03-bakgrund.qmd"
FIGURE_LINE = '![Karta över regionen](../figures/static/karta.png){#fig-karta fig-alt="En karta över regionen."}'


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def wait_for(url: str, condition, what: str) -> str:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        page = fetch(url)
        if condition(page):
            return page
        time.sleep(0.3)
    raise AssertionError(f"the page never showed {what}")


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def png(path: Path, colour: str) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (60, 40), colour).save(path)


class Preview:
    """`underlag preview` in its own process; its terminal output collected as it comes."""

    def __init__(self, project: Path):
        self.project = project
        self.output: list[str] = []
        self.process = subprocess.Popen([sys.executable, "-m", "underlag", "preview", "--port", "0"], cwd=project,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + WAIT
        self.url = None
        while self.url is None and time.monotonic() < deadline and self.process.poll() is None:
            match = re.search(r"http://127\.0\.0\.1:\d+/", "\n".join(self.output))
            self.url = match.group(0) if match else None
            time.sleep(0.2)
        assert self.url, "the server never said where it listens:\n" + "\n".join(self.output)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("preview") / "project")
    png(project / "figures/static/karta.png", "#005b99")  # a writer's own figure, in a prose chapter
    chapter = project / CHAPTER
    lines = chapter.read_text("utf-8").splitlines()
    lines[17:17] = ["", FIGURE_LINE]
    chapter.write_text("\n".join(lines) + "\n", "utf-8")
    server = Preview(project)
    yield server
    assert server.stop() == 0




@pytest.fixture
def page(browser, preview):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(preview.url)
    yield page
    page.close()


def test_preview_follows_edits_warnings_and_errors(preview):
    url, chapter = preview.url, preview.project / "chapters/10-fortsatt-arbete.qmd"
    shown = "chapters/10-fortsatt-arbete.qmd"
    failed, warned = text("preview.panel.failed_title"), text("preview.panel.warnings_title")  # the panel's headings
    page = fetch(url)
    assert "Sammanfattning" in page and "/__underlag/version" in page and warned not in page

    original = chapter.read_text("utf-8")
    line = len(original.splitlines()) + 2
    edited = original + '\nEn mening med <span onclick="alert(1)">tryckknappen</span>.\n'
    try:
        chapter.write_text(edited, "utf-8")  # builds, with a warning: in the panel and the terminal
        page = wait_for(url, lambda p: "tryckknappen" in p and warned in p, "the edit and its warning")
        panel = page[page.index('<div id="underlag-problems"'):]
        assert 'role="alert"' in panel[:100] and f"{shown}:{line}:" in panel and "onclick" in panel
        assert any(f"{shown}:{line}:" in text and "onclick" in text for text in preview.output)

        chapter.write_text(edited + "\nSe @sec-finns-inte.\n", "utf-8")
        page = wait_for(url, lambda p: failed in p, "the build error")
        assert f"{shown}:{line + 2}:" in page and "@sec-finns-inte" in page
        assert "tryckknappen" in page  # the last good version is still served
    finally:
        chapter.write_text(original, "utf-8")
    page = wait_for(url, lambda p: failed not in p and warned not in p, "the fixed page")
    assert "tryckknappen" not in page


def test_watched_files_are_the_sources_wherever_they_are_and_never_outputs(tmp_path):
    from underlag.commands.preview import watched_files

    names = ["chapters/a.qmd", "chapters/_generated/t.md", "data/x.yaml", "figures/drawn.svg",
             "figures/static/karta.png", "bilder/foto.png", "referenser.bib", "_variables.yml",
             "_quarto-kort.yml", "report/beslutsunderlag.html"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    used = [tmp_path / "bilder/foto.png", tmp_path / "referenser.bib", tmp_path / "figures/drawn.svg"]
    watched = {path.relative_to(tmp_path).as_posix() for path in watched_files(tmp_path, used)}
    assert watched == {"chapters/a.qmd", "data/x.yaml", "figures/static/karta.png", "bilder/foto.png",
                       "referenser.bib", "_variables.yml", "_quarto-kort.yml"}


def test_the_editor_link_is_configurable(tmp_path, monkeypatch):
    from underlag.commands.preview_page import (
        EDITOR_URL,
        Origin,
        editor_link,
        editor_url,
    )
    from underlag.engine.errors import UsageError

    origin = Origin("chapters/a b.qmd", 12, False)
    monkeypatch.delenv("UNDERLAG_EDITOR_URL", raising=False)
    assert editor_link(editor_url(None), tmp_path, origin) == \
        f"vscode://file{tmp_path.resolve().as_posix()}/chapters/a%20b.qmd:12"
    monkeypatch.setenv("UNDERLAG_EDITOR_URL", "idea://open?file={path}&line={line}")
    assert editor_link(editor_url(None), tmp_path, origin).startswith("idea://open?file=/")
    assert editor_url("subl://open?url=file://{path}&line={line}").startswith("subl:")  # the option wins
    for wrong in ("vscode://file/{fil}:{line}", "vscode://file/{path", "ingen plats alls"):
        with pytest.raises(UsageError) as refused:
            editor_url(wrong)
        assert str(refused.value) == text("preview.editor_link", pattern=wrong, example=EDITOR_URL)


def test_a_broken_reference_early_on_is_in_view_at_the_end_of_the_page(preview, page):
    from playwright.sync_api import expect

    chapter = preview.project / CHAPTER
    original = chapter.read_text("utf-8")
    line = line_of(chapter, "## Bakgrund") + 1
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    bottom = page.evaluate("window.scrollY")
    assert bottom > 10_000  # really far from chapter 3
    lines = original.splitlines()
    lines[line - 1:line - 1] = ["Se @sec-finns-inte för mer.", ""]
    try:
        chapter.write_text("\n".join(lines) + "\n", "utf-8")
        alert = page.get_by_role("alert")
        alert.wait_for(timeout=WAIT * 1000)
        expect(alert).to_be_in_viewport()
        expect(alert).to_contain_text(f"{CHAPTER}:{line}:4")
        expect(alert).to_contain_text("@sec-finns-inte")
        assert abs(page.evaluate("window.scrollY") - bottom) < 50  # the reload kept the writer's place
        # in full in the terminal as well
        assert any(f"{CHAPTER}:{line}:4: " in text and "@sec-finns-inte" in text for text in preview.output)

        link = alert.locator(f'a[href^="#"]').first  # the place in the page, in the last good version
        target = page.locator(link.get_attribute("href"))
        assert target.get_attribute("data-origin").startswith(f"{CHAPTER}:")
        link.click()
        expect(target).to_be_in_viewport()
        expect(alert).to_be_in_viewport()  # still there until it is fixed
    finally:
        chapter.write_text(original, "utf-8")
    page.get_by_role("alert").wait_for(state="detached", timeout=WAIT * 1000)
    expect(page.locator("#sec-bakgrund")).to_have_count(1)


def test_prose_paragraph_knows_its_chapter_line(preview, page):
    chapter = preview.project / CHAPTER
    line = line_of(chapter, "Arbetet delas in i två faser.")
    paragraph = page.locator("p", has_text="Arbetet delas in i två faser.")
    assert paragraph.get_attribute("title") == f"{CHAPTER}:{line}"
    assert "underlag-generated" not in paragraph.get_attribute("class")
    paragraph.scroll_into_view_if_needed()
    paragraph.hover()
    source = paragraph.locator("> a.underlag-source")
    assert source.is_visible() and source.inner_text() == f"{CHAPTER}:{line}"
    assert source.get_attribute("href") == f"vscode://file{chapter.resolve().as_posix()}:{line}"


def test_generated_table_cell_names_its_data_line(preview, page):
    data = preview.project / "data/tidslinje.yaml"
    line = line_of(data, "text: Beslut om typ av handlingsalternativ")
    timeline = page.locator("table", has=page.locator("caption", has_text="Övergripande prioritering"))
    cell = timeline.locator("td", has_text="Beslut om typ av handlingsalternativ")
    assert cell.get_attribute("title") == f"data/tidslinje.yaml:{line} (genererat)"
    assert "underlag-generated" in cell.get_attribute("class")  # generated text is marked, visibly
    assert cell.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    assert cell.locator("a.underlag-source").get_attribute("href") == \
        f"vscode://file{data.resolve().as_posix()}:{line}"
    # the same words in the milestone table come from the milestones
    milestones = preview.project / "data/milstolpar.yaml"
    row = page.locator("td", has_text="Beslut om typ av handlingsalternativ").and_(
        page.locator(f'[title^="data/milstolpar.yaml"]'))
    assert row.first.get_attribute("title") == \
        f"data/milstolpar.yaml:{line_of(milestones, 'name: Beslut om typ av handlingsalternativ')} (genererat)"


def test_figures_know_their_origin_and_a_replaced_image_shows(preview, page):
    chapter = preview.project / CHAPTER
    figure = page.locator("figure", has=page.locator("img[alt='En karta över regionen.']"))
    assert figure.get_attribute("title") == f"{CHAPTER}:{line_of(chapter, FIGURE_LINE)}"
    drawn = page.locator("figure", has=page.locator("figcaption", has_text="Tidslinje för arbetet"))
    assert re.fullmatch(r"data/tidslinje\.yaml:\d+ \(genererat\)", drawn.get_attribute("title"))

    before = figure.locator("img").get_attribute("src")
    png(preview.project / "figures/static/karta.png", "#b42318")  # figures/ is watched
    page.wait_for_function("src => { const i = document.querySelector(\"img[alt='En karta över regionen.']\");"
                           " return i && i.getAttribute('src') !== src; }", arg=before, timeout=WAIT * 1000)


HOLD = """import sys, time
from pathlib import Path
from underlag.engine.files import project_lock
with project_lock(Path(sys.argv[1]), wait=600, purpose="preview"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(project: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the project's lock, as the preview does while it rebuilds."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_build_waits_for_the_lock_another_process_holds(preview):
    holder = hold_lock(preview.project, 3)
    try:
        result = underlag("build", "--format", "html", cwd=preview.project)
        assert holder.poll() is not None  # it could only finish after the holder let go
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 0, result.stderr
    assert text("lock.waiting", holder=text("lock.holder.preview")) in result.stderr
    # the working build's page never has the preview's origins; the preview's page is elsewhere
    page = (preview.project / "report/beslutsunderlag.html").read_text("utf-8")
    assert "data-source" not in page and "underlag-source" not in page and "underlag_" not in page
    assert "data-source" in (preview.project / "report/.preview/beslutsunderlag.html").read_text("utf-8")


def test_build_gives_up_after_its_limit(preview):
    holder = hold_lock(preview.project, WAIT)
    try:
        result = underlag("build", "--format", "html", "--lock-timeout", "1", cwd=preview.project)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    holder = text("lock.holder.preview")
    assert text("lock.waiting", holder=holder) in result.stderr
    assert text("lock.held", holder=holder, lock=".underlag.lock", limit=text("lock.after", seconds="1")) in result.stderr


@pytest.mark.parametrize("lang, title", [("sv", "Förhandsvisning"), ("en", "Preview")])
def test_the_page_before_a_first_good_build_is_in_the_messages_language(lang, title):
    from underlag.commands.preview_page import served_page
    from underlag.engine.messages import set_language

    set_language(lang)
    try:
        served = served_page("", "<div id='underlag-problems'></div>", 1, 0).decode("utf-8")
    finally:
        set_language(None)
    assert f'<html lang="{lang}">' in served and f"<title>{title}</title>" in served
    assert served.index("underlag-problems") > served.index("<body>")
