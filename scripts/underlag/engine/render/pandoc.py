"""Running pandoc with the project's Lua filters, and the document facts every format shows."""

from __future__ import annotations

import datetime as dt
import os
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
# Order matters: chapters are unwrapped first, callouts take their headings before numbering;
# the DOCX's source anchors come last, when figures have their final shape.
FILTERS = ("chapters.lua", "callouts.lua", "crossref.lua", "blocks.lua", "anchors.lua")
MARKDOWN = "markdown-implicit_header_references"
STATUS_LABELS = {"utkast": "UTKAST", "förslag": "FÖRSLAG"}


@cache
def pandoc_path() -> str:
    import pypandoc  # only here: its import looks for the binary

    return pypandoc.get_pandoc_path()


@dataclass(frozen=True)
class DocumentInfo:
    """What the cover, headers and footers show; plain strings, never markup."""

    title: str
    subtitle: str
    short_title: str
    organisation: str
    date: str
    version: str
    status: str
    diarienummer: str
    revision: str
    lang: str
    epoch: int | None = None  # SOURCE_DATE_EPOCH: the build's date, for reproducible outputs
    brief: bool = False  # a short edition: no cover page, no table of contents, no page per chapter

    @property
    def status_label(self) -> str:
        """The visible marking on every page; empty once the document is final."""
        return STATUS_LABELS.get(self.status.lower(), "" if self.status.lower() == "fastställd" else self.status.upper())

    @classmethod
    def from_book(cls, book: Book, revision: str = "", epoch: int | None = None) -> "DocumentInfo":
        meta = book.metadata
        text = lambda key, default="": str(meta.get(key) or default)  # noqa: E731
        date = meta.get("date") or dt.date.today()
        return cls(
            title=book.title,
            subtitle=text("subtitle"),
            short_title=text("short_title", book.title),
            organisation=text("organisation", text("author")),
            date=date.isoformat() if isinstance(date, dt.date) else str(date),
            version=text("version"),
            status=text("status", "utkast"),
            diarienummer=text("diarienummer"),
            revision=revision,
            lang=book.lang,
            epoch=epoch,
            brief=bool(meta.get("brief")),
        )


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
    args = [pandoc_path(), str(source), "--from", reader, "--to", to, "--wrap=none",
            "--metadata", f"lang={book.lang}"]
    for name in FILTERS:
        args += ["--lua-filter", str(FILTER_DIR / name)]
    if book.bibliography:  # after our filters: cross-references are gone, citations remain
        args += ["--citeproc", *[f"--bibliography={path}" for path in book.bibliography]]
        args += [f"--csl={book.csl}"] if book.csl else []
    if output is not None:
        args += ["--output", str(output)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)} if epoch is not None else None
    result = subprocess.run(args + list(extra), capture_output=True, text=True, cwd=book.root, env=env)
    if result.returncode != 0:
        raise ToolError(_("tool.pandoc_failed", to=to, message=result.stderr.strip()))
    return result.stdout
