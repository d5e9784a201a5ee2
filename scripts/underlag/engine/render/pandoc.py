"""Running pandoc with the project's Lua filters, and the document facts every format shows."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.errors import ToolError
from underlag.engine.messages import text as _
from underlag.engine.confine import PACKAGE, SHIPPED_TEMPLATES

FILTER_DIR = PACKAGE / "engine" / "filters"
# The packaged templates: used by a project (e.g. a plain Quarto book) for every file it lacks.
DEFAULT_TEMPLATES = SHIPPED_TEMPLATES
# Order matters: chapters are unwrapped first, Quarto's figure and table divs become figures and
# tables, numbering marks a callout's title heading (callouts.lua takes it after) and numbers callouts;
# the DOCX's source anchors come last, when figures have their final shape.
FILTERS = ("chapters.lua", "floats.lua", "crossref.lua", "callouts.lua", "code.lua", "blocks.lua", "anchors.lua")
MARKDOWN = "markdown-implicit_header_references"
# pandoc writer name -> our format name (the book's settings are per format)
WRITER_FORMATS = {"typst": "pdf", "html5": "html", "html": "html", "docx": "docx"}


@cache
def pandoc_path() -> str:
    """The pandoc binary that pypandoc-binary ships, found without importing pypandoc: its import
    pulls in urllib, http and ssl (a tenth of a second, a third of a build with nothing to do)."""
    from importlib.util import find_spec

    spec = find_spec("pypandoc")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        shipped = Path(folder) / "files" / "pandoc"
        if shipped.is_file() and os.access(shipped, os.X_OK):
            return str(shipped)
    import pypandoc  # another installation: let it look for the binary

    return pypandoc.get_pandoc_path()


@dataclass(frozen=True)
class DocumentInfo:
    """What the title page, headers and footers show; plain strings, never markup.

    The engine fills in the book's own facts. The chrome fields below stay empty for a plain
    book, which then gets a title block, contents and page numbers in its own language; a layer
    above fills them when the book asks for more (the decision-basis report's board paper,
    `chrome: board-paper`, report/chrome.py). They are the templates' whole interface to chrome:
      marking      a word on every page (watermark and header) and in the HTML banner, e.g. a status
      notice       one sentence about the document's state: boxed on the cover, in the HTML banner
      cover_facts  (label, value) rows: a cover page of their own; also the DOCX's facts block
      facts_title  the heading above those facts in the DOCX
      byline       the line under the title in a short edition (brief); empty: the date
      header_text, footer_text  running header and footer (the PDF and DOCX add the page words)
      banner_label the HTML banner's accessible name
    """

    title: str
    subtitle: str
    short_title: str
    organisation: str  # the book's organisation, else its author
    date: str
    version: str
    status: str
    revision: str
    lang: str
    epoch: int | None = None  # SOURCE_DATE_EPOCH: the build's date, for reproducible outputs
    brief: bool = False  # a short edition: no cover page, no table of contents, no page per chapter
    marking: str = ""
    notice: str = ""
    cover_facts: tuple[tuple[str, str], ...] = ()
    facts_title: str = ""
    byline: str = ""
    header_text: str = ""
    footer_text: str = ""
    banner_label: str = ""

    @classmethod
    def from_book(cls, book: Book, revision: str = "", epoch: int | None = None) -> "DocumentInfo":
        meta = book.metadata
        text = lambda key, default="": _plain(meta.get(key)) or default  # noqa: E731
        date = meta.get("date") or dt.date.today()
        return cls(
            title=book.title,
            subtitle=text("subtitle"),
            short_title=text("short_title", book.title),
            organisation=text("organisation", text("author")),
            date=date.isoformat() if isinstance(date, dt.date) else str(date),
            version=text("version"),
            status=text("status"),
            revision=revision,
            lang=book.lang,
            epoch=epoch,
            brief=bool(meta.get("brief")),
        )


def _plain(value) -> str:
    """A metadata value as one line of text: Quarto allows an author list of names or mappings."""
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value if _plain(item))
    if isinstance(value, dict):
        return _plain(value.get("name"))
    return "" if value is None else str(value)


def template(root: Path, name: str) -> Path:
    """The project's `templates/<name>`, else the one this package ships."""
    own = root / "templates" / name
    return own if own.is_file() else DEFAULT_TEMPLATES / name


def metadata_args(pairs: dict[str, str]) -> list[str]:
    """-M values reach pandoc as literal strings: data cannot turn into markup here."""
    return [arg for key, value in pairs.items() if value for arg in ("--metadata", f"{key}={value}")]


def run_pandoc(book: Book, source: Path, to: str, output: Path | None, *extra: str, epoch: int | None = None) -> str:
    """Convert the assembled Markdown; raise ToolError with pandoc's own message on failure."""
    # --wrap=none: Typst ends a list item at a wrapped line that is not indented (in table cells)
    reader = "json" if source.suffix == ".json" else MARKDOWN  # JSON: the checked, cleaned document
    settings = book.settings(WRITER_FORMATS.get(to, to))
    args = [pandoc_path(), str(source), "--from", reader, "--to", to, "--wrap=none",
            "--metadata", f"lang={settings.lang}"]
    for name in FILTERS:
        args += ["--lua-filter", str(FILTER_DIR / name)]
    if book.bibliography:  # after our filters: cross-references are gone, citations remain
        args += ["--citeproc", *[f"--bibliography={path}" for path in book.bibliography]]
        # the heading pandoc puts above a bibliography that has no `::: {#refs}` place of its own
        title = str(book.metadata.get("reference-section-title") or settings.label("section-title-references"))
        args += ["--metadata", f"reference-section-title={title}"]
        args += [f"--csl={book.csl}"] if book.csl else []
    if output is not None:
        args += ["--output", str(output)]
    env = {**os.environ, "UNDERLAG_SETTINGS": settings.for_filters()}  # what the Lua filters read
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    result = subprocess.run(args + list(extra), capture_output=True, text=True, cwd=book.root, env=env)
    if result.returncode != 0:
        if failed := FILTER_FAILURE.search(result.stderr):  # never a Lua stack trace to the writer
            raise FilterError(failed.group(1), failed.group(2).strip(), [a for a in args if a != str(source)],
                              book.root)
        raise ToolError(_("tool.pandoc_failed", to=to, message=result.stderr.strip()))
    return result.stdout


# pandoc's report of a Lua filter that stopped: the filter, then "<file>:<line>: message", then a traceback
FILTER_FAILURE = re.compile(r"Error running filter \S*?([\w-]+\.lua):\s*\n(?:\S*\.lua:\d+:\s*)?(.*?)"
                            r"(?:\nstack traceback:|\Z)", re.S)


class FilterError(ToolError):
    """A Lua filter stopped. Carries the filter's own message and the pandoc command without its
    input, so the build can find the chapter and line (engine/filter_errors.py)."""

    def __init__(self, filter_name: str, message: str, command: list[str], root: Path):
        super().__init__(f"{filter_name}: {message}")
        self.filter_name, self.message, self.command, self.root = filter_name, message, command, root
