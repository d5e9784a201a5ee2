"""Automatic accessibility checks of a book's outputs, for its accessibility statement.

The HTML: axe-core (the copy inside axe-playwright-python, no download) in Debian's Chromium with
every rule that is on by default (WCAG 2.1 A and AA and the best practices), at a phone's, a
tablet's and a desktop's width. The PDF: the pdfua checker (PDF/UA-1). Both come with the test
extras; without them the check says what to install. Nothing reaches the network.
"""

from __future__ import annotations

import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from underlag.engine.errors import ToolError
from underlag.engine.messages import text as _

WIDTHS = (390, 768, 1280)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def check_html(path: Path, widths: tuple[int, ...] = WIDTHS) -> dict:
    """axe-core's findings at each width, one entry per rule: what it says, how serious, how many
    elements and at which widths."""
    try:
        from axe_playwright_python.sync_playwright import Axe
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ToolError(_("accessibility.no_axe")) from None
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    found: dict[str, dict] = {}
    rules: set[str] = set()
    engine = ""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for width in widths:
                page = browser.new_page(viewport={"width": width, "height": 800})
                page.goto(path.resolve().as_uri())
                response = Axe().run(page).response
                page.close()
                engine = response["testEngine"]["version"]
                rules |= {rule["id"] for kind in ("passes", "violations", "incomplete", "inapplicable")
                          for rule in response[kind]}
                for violation in response["violations"]:
                    entry = found.setdefault(violation["id"], {
                        "regel": violation["id"], "beskrivning": violation["help"],
                        "allvar": violation["impact"], "antal": 0, "bredder": []})
                    entry["antal"] = max(entry["antal"], len(violation["nodes"]))
                    entry["bredder"].append(width)
        finally:
            browser.close()
    return {"verktyg": f"axe-core {engine}", "bredder": list(widths), "regler": len(rules),
            "brister": sorted(found.values(), key=lambda f: f["regel"])}


def check_pdf(path: Path) -> dict:
    """The pdfua checker's findings, each as its message."""
    try:
        import pdfua
    except ImportError:
        raise ToolError(_("accessibility.no_pdfua")) from None
    result = pdfua.validate(str(path))
    ran = [outcome for outcome in result.outcomes if outcome.skipped_reason is None]
    return {"verktyg": f"pdfua {_version('pdfua')}", "kontroller": len(ran),
            "brister": [{"beskrivning": str(finding)} for finding in result.findings]}


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return _("accessibility.unknown_version")
