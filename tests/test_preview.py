"""`underlag preview`: serve, follow an edit, show an error in the page, recover, stop on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import copy_project

WAIT = 90  # seconds: generous, a rebuild takes a few


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


def test_preview_follows_edits_and_errors(tmp_path):
    project = copy_project(tmp_path / "project")
    process = subprocess.Popen([sys.executable, "-m", "underlag", "preview", "--port", "0"], cwd=project,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.monotonic() + WAIT
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = match.group(0) if match else None
        assert url, "the server never said where it listens"
        page = fetch(url)
        assert "Sammanfattning" in page and "/__underlag/version" in page

        chapter = project / "chapters/10-fortsatt-arbete.qmd"
        original = chapter.read_text("utf-8")
        chapter.write_text(original + "\nEn mening skriven under förhandsvisningen.\n", "utf-8")
        wait_for(url, lambda p: "En mening skriven under förhandsvisningen." in p, "the edit")

        chapter.write_text(original + "\nSe @sec-finns-inte.\n", "utf-8")
        page = wait_for(url, lambda p: "Byggfel" in p, "the build error")
        assert "chapters/10-fortsatt-arbete.qmd:" in page and "has no target" in page
        assert "Sammanfattning" in page  # the last good version is still served

        chapter.write_text(original, "utf-8")
        page = wait_for(url, lambda p: "Byggfel" not in p, "the fixed page")
        assert "En mening skriven under förhandsvisningen." not in page
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
