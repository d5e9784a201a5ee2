"""PDF: pandoc writes the body as Typst, our template wraps it, Typst compiles it as PDF/UA-1."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.errors import ToolError
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
    inputs = typst_inputs(book, info)
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
        raise ToolError(f"Typst could not build the PDF: {exc.message}{'; ' + hints if hints else ''}") from None
    except OSError as exc:  # Typst's own write failed, e.g. "No space left on device (os error 28)"
        raise ToolError(f"Typst kunde inte skriva PDF-filen {output.name}: {exc}; kontrollera att disken har "
                        "ledigt utrymme och att mappen går att skriva i, och bygg igen") from None


def typst_inputs(book: Book, info: DocumentInfo) -> dict[str, str]:
    """The template's variables (documented at the top of typst/report.typ), all plain strings."""
    settings = book.settings("pdf")
    language, _, rest = settings.lang.partition("-")
    region = next((part for part in rest.split("-") if len(part) == 2 and part.isalpha()), "")
    flag = lambda value: "true" if value else ""  # noqa: E731
    inputs = {key.replace("_", "-"): value for key, value in asdict(info).items() if isinstance(value, str)}
    inputs.update({
        "lang": language.lower(), "region": region.upper(),
        "toc": flag(settings.toc and not info.brief), "toc-depth": str(settings.toc_depth),
        "toc-title": settings.toc_title, "chapters": flag(settings.chapters and settings.number_sections),
        "fig-title": settings.title("fig"), "tbl-title": settings.title("tbl"),
        "fig-numbering": settings.pattern("fig"), "tbl-numbering": settings.pattern("tbl"),
        "title-delim": settings.title_delim,
        "page-of-pages": settings.label("page-of-pages"), "brief": flag(info.brief),
        "cover-facts": json.dumps([list(row) for row in info.cover_facts], ensure_ascii=False),
    })
    return inputs


def _timestamp(info: DocumentInfo) -> int:
    """SOURCE_DATE_EPOCH, else the document's own date: never the clock, so builds repeat exactly."""
    if info.epoch is not None:
        return info.epoch
    try:
        day = dt.date.fromisoformat(info.date)
    except ValueError:
        return 0
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
