"""HTML: one self-contained page (styles and images embedded) with a contents sidebar."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.render.anchors import anchored_paths, source_map_html
from underlag.engine.render.pandoc import FILTER_DIR, DocumentInfo, metadata_args, run_pandoc, template

STYLESHEET = "html/style.css"
# No script and nothing from outside: images and fonts only as the page's own data: URLs, styles
# only inline (pandoc embeds the stylesheet and figures). The preview widens it for its one script.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; "
                           "base-uri 'none'; form-action 'none'")


def render_html(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
                images: list[Path] = (), source_map: bool = False) -> None:
    """`images` is unused: pandoc reads the images from the project itself. With `source_map` (the
    preview, never a published page) every block carries the file and line it came from: the
    page is made from the anchored source the build wrote beside `source` (render/anchors.py)."""
    banner = work / "banner.html"
    banner.write_text(_banner(info), encoding="utf-8")
    footer = work / "footer.html"
    footer.write_text(_footer(info), encoding="utf-8")
    policy = work / "policy.html"
    policy.write_text(f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n',
                      encoding="utf-8")
    settings = book.settings("html")
    contents = ["--toc", f"--toc-depth={settings.toc_depth}"] if settings.toc else []
    run_pandoc(
        book, anchored_paths(source)[0] if source_map else source, "html5", output,
        "--standalone", "--embed-resources", *contents, "--mathml",
        "--lua-filter", str(FILTER_DIR / "html-scroll.lua"),
        "--css", str(template(book.root, STYLESHEET)),
        "--include-in-header", str(policy), "--include-before-body", str(banner), "--include-after-body", str(footer),
        *_metadata_args(info, settings.toc_title), *(["--metadata", "underlag-source-map=true"] if source_map else []),
        epoch=info.epoch,
    )
    page = output.read_text(encoding="utf-8")
    if source_map:
        page = source_map_html(page, source, book.root)
    output.write_text(_landmarks(page, settings.label("html-skip-to-text")), encoding="utf-8")


MAIN_ID = "underlag-text"  # not a heading's id: pandoc's ids come from the words of a heading


def _landmarks(page: str, skip_label: str) -> str:
    """What pandoc's page lacks for a screen reader, a keyboard and a phone: a main landmark around
    the text (after the contents or the title block, before the footer), a link to it before
    everything else (the contents' 60 links come first in the tab order otherwise), and contents
    that fold away on a small screen. Pandoc escapes all text, so these tags only occur as its own
    markup; tables and charts are made focusable scroll regions by html-scroll.lua."""
    page = _collapsible_contents(page)
    end = page.rfind('<footer class="document-footer">')
    if end < 0:
        end = page.rfind("</body>")
    # after the contents; in a book without contents (toc: false), after the title block
    for tag in ("</nav>", "</header>", "<body>"):
        start = page.find(tag)
        if 0 <= start < end:
            start += len(tag)
            page = page[:start] + f'\n<main id="{MAIN_ID}">' + page[start:end] + "</main>\n" + page[end:]
            body = page.find("<body>") + len("<body>")
            return page[:body] + f'\n<a class="skip-link" href="#{MAIN_ID}">{escape(skip_label)}</a>' + page[body:]
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


def _metadata_args(info: DocumentInfo, toc_title: str) -> list[str]:
    pairs = {"title": info.title, "subtitle": info.subtitle, "author": info.organisation,
             "date": info.date, "toc-title": toc_title}
    return metadata_args(pairs)


def _banner(info: DocumentInfo) -> str:
    """The chrome's marking and notice (empty for a plain book)."""
    if not info.marking:
        return ""
    # a complementary landmark: a screen reader's landmark list finds it, and no text is left outside one
    label = f' aria-label="{escape(info.banner_label)}"' if info.banner_label else ""
    return (f'<aside class="status-banner"{label}><strong>{escape(info.marking)}</strong> '
            f"{escape(info.notice)}</aside>\n")


def _footer(info: DocumentInfo) -> str:
    """The chrome's footer text (empty for a plain book)."""
    if not info.footer_text:
        return ""
    return f'<footer class="document-footer">{escape(info.footer_text)}</footer>\n'
