"""PDF: pandoc writes the body as Typst, our template wraps it, Typst compiles it as PDF/UA-1."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import asdict
from importlib import metadata, resources
from pathlib import Path

from underlag.engine.book import Book
from underlag.engine.errors import InputError, Problem, ToolError
from underlag.engine.messages import text as _
from underlag.engine.render.pandoc import DocumentInfo, run_pandoc, template

TEMPLATE = "typst/report.typ"
# The fonts come with pip, never from the system, so the same PDF comes out on Linux, Windows and
# macOS: the template's Noto Serif (body) and Noto Sans (headings, tables), as the fontpkg packages
# ship them (OFL-1.1, the licence inside each package); for what they lack — emoji, symbols, other
# scripts in a name or a quotation — Noto Emoji, Noto Sans Symbols and the Noto Sans faces for other
# scripts from manimgx-fonts (OFL-1.1), which Typst falls back to glyph by glyph (a text PDF/UA
# cannot display stops the build). Typst is told to ignore the system's fonts.
# package name -> (module, folder inside it holding the fonts)
FONT_PACKAGES = {"fontpkg-noto-serif": ("fontpkg_noto_serif", "files"),
                 "fontpkg-noto-sans": ("fontpkg_noto_sans", "files"),
                 "manimgx-fonts": ("manimgx_fonts", ".")}
CHAPTER_MARK = "// underlag-kapitel: "  # a Typst comment: prints nothing


def render_pdf(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
               images: list[Path] = ()) -> None:
    """Typst's root is the work folder, holding only the template, the body and copies of the
    book's images: a document cannot read any other file."""
    import typst

    body = run_pandoc(book, _with_chapter_marks(source, work), "typst", None, epoch=info.epoch)
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
    if info.marking:
        inputs["marking-image"] = _marking_image(info.marking, work).name
    try:
        typst.compile(
            str(main),
            output=str(output),
            root=str(work),
            font_paths=font_paths(),
            ignore_system_fonts=True,
            sys_inputs=inputs,
            pdf_standards=["ua-1"],
            timestamp=_timestamp(info),
            # no local packages: `@local/…` would read the user's data folder, outside the project
            # (sanitize.py refuses every way we know to name one; this holds if one is missed)
            package_path=str(_empty_folder(work / "no-packages")),
        )
    except typst.TypstError as exc:
        if located := _typst_problem(exc, main, book):  # the chapter (and line) it came from
            raise InputError([located]) from None
        hints = "; ".join(getattr(exc, "hints", []) or [])
        raise ToolError(_("tool.typst_failed", message=exc.message, hints="; " + hints if hints else "")) from None
    except OSError as exc:  # Typst's own write failed, e.g. "No space left on device (os error 28)"
        raise ToolError(_("tool.typst_write_failed", name=output.name, reason=exc)) from None


# The watermark as glyph outlines, not text: as text its letters are read into the body by copy
# and paste and by text extraction ("U T K A S T" scattered through a paragraph). Typst's own SVG
# output draws glyphs as paths, so the word is set once by Typst in the template's heading font.
MARKING = """#set page(width: auto, height: auto, margin: 0pt, fill: none)
#text(font: "Noto Sans", size: 96pt, weight: "bold", fill: rgb("#b42318").transparentize(88%), sys.inputs.marking)
"""


def _marking_image(marking: str, work: Path) -> Path:
    """The marking drawn as an SVG in the work folder (the template's page background)."""
    import typst

    source = work / "marking.typ"
    source.write_text(MARKING, encoding="utf-8")
    image = work / "marking.svg"
    image.write_bytes(typst.compile(str(source), format="svg", root=str(work), font_paths=font_paths(),
                                    ignore_system_fonts=True, sys_inputs={"marking": marking},
                                    package_path=str(_empty_folder(work / "no-packages"))))
    return image


def _empty_folder(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def font_paths() -> list[str]:
    """The folders of the packaged fonts, read through importlib.resources."""
    try:
        return [str(resources.files(module) / folder) for module, folder in FONT_PACKAGES.values()]
    except ModuleNotFoundError as exc:
        raise ToolError(_("tool.font_package_missing", name=exc.name)) from None


def font_versions() -> list[tuple[str, str]]:
    """The font packages' versions: a new font version changes the PDF, so it is part of its key."""
    versions = []
    for package in FONT_PACKAGES:
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            versions.append((package, "saknas"))
    return versions


def _with_chapter_marks(source: Path, work: Path) -> Path:
    """The document with a Typst comment naming its source file at the start of each chapter, so a
    Typst error in the generated file can be traced back to the chapter (and line) it came from.
    Only the checked document (JSON) is marked; a Markdown source is rendered as it is."""
    if source.suffix != ".json":
        return source
    document = json.loads(source.read_text("utf-8"))
    for block in document.get("blocks", []):
        if block.get("t") == "Div" and "chapter" in block["c"][0][1]:
            chapter = dict(block["c"][0][2]).get("source", "")
            block["c"][1].insert(0, {"t": "RawBlock", "c": ["typst", CHAPTER_MARK + chapter]})
    marked = work / "book.marked.json"
    marked.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return marked


def _typst_problem(error, main: Path, book: Book) -> Problem | None:
    """Typst's error at the chapter it came from, and at the chapter's line when what the failing
    Typst line names (a file, a word of raw Typst) is found there; None without a place."""
    place = re.search(r"main\.typ:(\d+):(\d+)", getattr(error, "diagnostic", "") or "")
    if not place:
        return None
    generated = main.read_text("utf-8").splitlines()
    number = int(place.group(1))
    chapter = next((line[len(CHAPTER_MARK):] for line in reversed(generated[:number])
                    if line.startswith(CHAPTER_MARK)), None)
    if not chapter:
        return None
    failing = generated[number - 1] if number <= len(generated) else ""
    message = re.sub(r"\s*\(searched at [^)]*\)", "", error.message)  # not the build's temporary folder
    line, column = _line_in_chapter(book.root / chapter, failing)
    return Problem(chapter, line, column, _("tool.typst_failed_in_chapter", message=message,
                                            failing=failing.strip()[:80]))


def _line_in_chapter(path: Path, failing: str) -> tuple[int | None, int | None]:
    """Where in the chapter's own lines a file name or the text of the failing Typst line stands."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None, None
    names = [Path(text).name for text in re.findall(r'"([^"]+)"', failing)] + [failing.strip()]
    for needle in filter(None, names):
        for number, text in enumerate(lines, 1):
            if (column := text.find(needle)) >= 0:
                return number, column + 1
    return None, None


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
