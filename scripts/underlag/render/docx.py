"""DOCX: pandoc with a reference document built by code; real Word styles, contents field."""

from __future__ import annotations

from pathlib import Path

from ..book import Book
from .pandoc import DocumentInfo, metadata_args, run_pandoc
from .reference_docx import build_reference_docx


def render_docx(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
                images: list[Path] = ()) -> None:
    """`images` is unused: pandoc reads the images from the project itself."""
    reference = work / "reference.docx"
    build_reference_docx(book.root, info, reference)
    contents = [] if info.brief else ["--toc", "--toc-depth=2"]
    run_pandoc(book, source, "docx", output, "--reference-doc", str(reference), *contents,
               *_metadata_args(info), epoch=info.epoch)


def _metadata_args(info: DocumentInfo) -> list[str]:
    # The cover: pandoc's title block, with version, status and diarienummer as its abstract.
    facts = [f"Version {info.version}", f"Status: {info.status}"]
    if info.diarienummer:
        facts.append(f"Diarienummer {info.diarienummer}")
    if info.revision:
        facts.append(f"Revision {info.revision}")
    pairs = {"title": info.title, "subtitle": info.subtitle, "author": info.organisation, "date": info.date,
             "abstract": " · ".join(facts), "abstract-title": "Dokumentinformation", "toc-title": "Innehåll",
             "subject": info.subtitle}
    return metadata_args(pairs)
