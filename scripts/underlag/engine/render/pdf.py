"""PDF: pandoc writes the body as Typst, our template wraps it, Typst compiles it as PDF/UA-1."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import asdict
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.errors import ToolError
from underlag.engine.messages import text as _
from underlag.engine.render.pandoc import DocumentInfo, run_pandoc, template

TEMPLATE = "typst/report.typ"
FONT_DIRS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/dejavu")


def render_pdf(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
               images: list[Path] = ()) -> None:
    """Typst's root is the work folder, holding only the template, the body and copies of the
    book's images: a document cannot read any other file."""
    import typst

    body = run_pandoc(book, source, "typst", None, epoch=info.epoch)
    shutil.copyfile(template(book.root, TEMPLATE), work / "report.typ")
    for image in images:
        copy = work / image.relative_to(book.root.resolve())
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, copy)
    main = work / "main.typ"
    # One file, not an #include: the body must see the template's callout and horizontalrule.
    main.write_text(f'#import "report.typ": report, callout, horizontalrule\n#show: report\n\n{body}',
                    encoding="utf-8")
    inputs = {key.replace("_", "-"): value for key, value in asdict(info).items() if isinstance(value, str)}
    inputs["status-label"] = info.status_label
    inputs["brief"] = "true" if info.brief else ""
    try:
        typst.compile(
            str(main),
            output=str(output),
            root=str(work),
            font_paths=[d for d in FONT_DIRS if Path(d).is_dir()],
            ignore_system_fonts=True,
            sys_inputs=inputs,
            pdf_standards=["ua-1"],
            timestamp=_timestamp(info),
        )
    except typst.TypstError as exc:
        hints = "; ".join(getattr(exc, "hints", []) or [])
        raise ToolError(_("tool.typst_failed", message=exc.message, hints="; " + hints if hints else "")) from None
    except OSError as exc:  # Typst's own write failed, e.g. "No space left on device (os error 28)"
        raise ToolError(_("tool.typst_write_failed", name=output.name, reason=exc)) from None


def _timestamp(info: DocumentInfo) -> int:
    """SOURCE_DATE_EPOCH, else the document's own date: never the clock, so builds repeat exactly."""
    if info.epoch is not None:
        return info.epoch
    try:
        day = dt.date.fromisoformat(info.date)
    except ValueError:
        return 0
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
