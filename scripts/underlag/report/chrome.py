"""The board paper's chrome: what a decision-basis report shows around its text.

A book asks for it in `_quarto.yml` with `chrome: board-paper`; a plain Quarto book gets none
and renders as a plain book in its own language. The chrome reaches the engine only through
the chrome fields of `DocumentInfo` (render/pandoc.py), which every template reads: the
status marking on every page (watermark, header, HTML banner) while the paper is not final,
the cover with its facts (date, version, status, revision, diarienummer), the notice that the
content is not settled, and the running header and footer. The wording is Swedish: a board
paper to a Swedish regional board is written in Swedish.
"""

from __future__ import annotations

from dataclasses import replace

from underlag.engine.errors import Problem
from underlag.engine.render.pandoc import DocumentInfo
from underlag.report.messages import text as _

BOARD_PAPER = "board-paper"
CHROMES = (BOARD_PAPER,)
STATUS_LABELS = {"utkast": "UTKAST", "förslag": "FÖRSLAG"}
FINAL = "fastställd"


def status_label(status: str) -> str:
    """The visible marking on every page; empty once the paper is final."""
    status = status.strip()
    if not status or status.lower() == FINAL:
        return ""
    return STATUS_LABELS.get(status.lower(), status.upper())


def chrome_problems(metadata: dict) -> list[Problem]:
    name = metadata.get("chrome")
    if name is None or name in CHROMES:
        return []
    return [Problem("_quarto.yml", None, None, _("chrome.unknown", name=name, board_paper=BOARD_PAPER))]


def apply_chrome(info: DocumentInfo, metadata: dict) -> DocumentInfo:
    """`info` with the chrome the book's metadata asks for (unchanged for a plain book)."""
    if metadata.get("chrome") != BOARD_PAPER:
        return info
    return board_paper(info, str(metadata.get("diarienummer") or ""))


def board_paper(info: DocumentInfo, diarienummer: str) -> DocumentInfo:
    status = info.status or "utkast"  # a board paper without a status is a draft
    marking = status_label(status)
    footer = [f"Version {info.version}", info.date, status]
    if info.revision:
        footer.append(f"rev. {info.revision}")
    byline = [info.date, f"version {info.version}", status] + ([diarienummer] if diarienummer else [])
    return replace(
        info,
        status=status,
        marking=marking,
        notice="Innehållet är inte fastställt. Preliminära uppgifter och exempel är markerade i texten."
        if marking else "",
        cover_facts=(("Datum", info.date), ("Version", info.version), ("Status", status),
                     ("Revision", info.revision), ("Diarienummer", diarienummer or "inte tilldelat än")),
        facts_title="Dokumentinformation",
        byline=" · ".join(part for part in byline if part),
        header_text=info.short_title + (f"  ·  {diarienummer}" if diarienummer else ""),
        footer_text=" · ".join(part for part in footer if part),
        banner_label="Dokumentets status",
    )
