"""DOCX: pandoc with a reference document built by code; real Word styles, contents field."""

from __future__ import annotations

from pathlib import Path

from ..book import Book
from .anchors import anchored_paths, embed_anchors
from .pandoc import DocumentInfo, metadata_args, run_pandoc
from .reference_docx import build_reference_docx


def render_docx(book: Book, source: Path, info: DocumentInfo, work: Path, output: Path,
                images: list[Path] = ()) -> None:
    """`images` is unused: pandoc reads the images from the project itself."""
    reference = work / "reference.docx"
    build_reference_docx(book.root, info, reference)
    contents = [] if info.brief else ["--toc", "--toc-depth=2"]
    anchored = anchored_paths(source)[0]  # the build writes it: every block carries its file and line
    run_pandoc(book, anchored if anchored.is_file() else source, "docx", output, "--reference-doc", str(reference),
               *contents, *_metadata_args(info), epoch=info.epoch)
    if anchored.is_file():
        embed_anchors(output, source, book.root, book.title)


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
