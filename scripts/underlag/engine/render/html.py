"""HTML: one self-contained page (styles and images embedded) with a contents sidebar."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.render.pandoc import FILTER_DIR, DocumentInfo, metadata_args, run_pandoc, template

STYLESHEET = "html/style.css"
# No script and nothing from outside: images and fonts only as the page's own data: URLs, styles
# only inline (pandoc embeds the stylesheet and figures). The preview widens it for its one script.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; "
                           "base-uri 'none'; form-action 'none'")


def render_html(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
                images: list[Path] = ()) -> None:
    """`images` is unused: pandoc reads the images from the project itself."""
    banner = work / "banner.html"
    banner.write_text(_banner(info), encoding="utf-8")
    footer = work / "footer.html"
    footer.write_text(_footer(info), encoding="utf-8")
    policy = work / "policy.html"
    policy.write_text(f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n',
                      encoding="utf-8")
    run_pandoc(
        book, source, "html5", output,
        "--standalone", "--embed-resources", "--toc", "--toc-depth=2", "--mathml",
        "--lua-filter", str(FILTER_DIR / "html-scroll.lua"),
        "--css", str(template(book.root, STYLESHEET)),
        "--include-in-header", str(policy), "--include-before-body", str(banner), "--include-after-body", str(footer),
        *_metadata_args(info), epoch=info.epoch,
    )
    output.write_text(_landmarks(output.read_text(encoding="utf-8")), encoding="utf-8")


def _landmarks(page: str) -> str:
    """What pandoc's page lacks for a screen reader and a phone: a main landmark around the text
    (after the contents, before the footer), and contents that fold away on a small screen.
    Pandoc escapes all text, so these tags only occur as its own markup."""
    page = _collapsible_contents(page)
    start = page.find("</nav>")
    end = page.rfind('<footer class="document-footer">')
    if end < 0:
        end = page.rfind("</body>")
    if 0 <= start < end:
        start += len("</nav>")
        page = page[:start] + "\n<main>" + page[start:end] + "</main>\n" + page[end:]
    return page


def _collapsible_contents(page: str) -> str:
    """The contents as a <details>: folded on a phone (its 50 entries would fill screens before the
    text), a sidebar on a wide screen where the stylesheet shows it unfolded. No script needed.
    The nav keeps its name from the summary, which takes the place of pandoc's contents heading."""
    opening = re.compile(r'<nav id="TOC" role="doc-toc">\s*<h2 id="toc-title">(.*?)</h2>', re.S)
    found = opening.search(page)
    end = page.find("</nav>", found.end()) if found else -1
    if end < 0:
        return page
    summary = (f'<nav id="TOC" role="doc-toc" aria-labelledby="toc-title">\n'
               f'<details class="toc"><summary id="toc-title">{found.group(1)}</summary>')
    return page[:found.start()] + summary + page[found.end():end] + "</details>\n" + page[end:]


def _metadata_args(info: DocumentInfo) -> list[str]:
    pairs = {"title": info.title, "subtitle": info.subtitle, "author": info.organisation,
             "date": info.date, "toc-title": "Innehåll"}
    return metadata_args(pairs)


def _banner(info: DocumentInfo) -> str:
    if not info.status_label:
        return ""
    # a complementary landmark: a screen reader's landmark list finds it, and no text is left outside one
    return (f'<aside class="status-banner" aria-label="Dokumentets status"><strong>{escape(info.status_label)}'
            f"</strong> Innehållet är inte fastställt. Preliminära uppgifter och exempel är markerade i texten.</aside>\n")


def _footer(info: DocumentInfo) -> str:
    parts = [f"Version {info.version}", info.date, info.status]
    if info.diarienummer:
        parts.append(f"Diarienummer {info.diarienummer}")
    if info.revision:
        parts.append(f"Revision {info.revision}")
    return f'<footer class="document-footer">{escape(" · ".join(p for p in parts if p))}</footer>\n'
