"""The build: data -> analysis, figures and fragments -> assembled book -> DOCX, PDF, HTML.

Outputs are written in a temporary folder inside report/ and moved into place only when
every requested format succeeded, so a failed build leaves the previous report as it was.
A lock on the project serialises builds and publishes.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from underlag.engine.assemble import assemble
from underlag.engine.book import FORMATS, Book, read_book
from underlag.engine.cache import Cache, digest, file_hash, package_digest
from underlag.engine.confine import confinement_problems, output_path, prepare_area
from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.files import project_lock
from underlag.engine.render.anchors import write_anchored_source
from underlag.engine.render.pandoc import DocumentInfo

OUTPUT_DIR = "report"
EXTENSIONS = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}


@dataclass
class BuildResult:
    outputs: dict[str, Path]
    warnings: list[Problem]
    seconds: dict[str, float] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # figure/format -> "rebuilt" or "cached"

    @property
    def rendered(self) -> list[str]:
        return [name for name, how in self.stages.items() if how == "rebuilt" and name.startswith("format:")]


@dataclass(frozen=True)
class Options:
    formats: tuple[str, ...] = FORMATS
    strict: bool = False  # warnings are errors
    profile: str | None = None  # Quarto profile(s), comma-separated
    version: str | None = None  # replaces the data's version (publish)
    status: str | None = None  # replaces the data's status (publish)


def build(root: Path, options: Options = Options(), progress: Callable[[str], None] = lambda _: None) -> BuildResult:
    """Build into report/, holding the project lock so no publish runs at the same time."""
    root = root.resolve()
    with project_lock(root):
        return build_into(root, root / OUTPUT_DIR, options, progress)


def build_into(root: Path, out_dir: Path, options: Options = Options(),
               progress: Callable[[str], None] = lambda _: None) -> BuildResult:
    """The whole pipeline; outputs land in out_dir only when every format succeeded.

    Figures and formats whose inputs have not changed are taken from the cache.
    """
    seconds: dict[str, float] = {}
    cache = Cache(root)
    started = time.perf_counter()
    book, warnings = prepare(root, options, progress, cache)
    seconds["data, figures, fragments"] = time.perf_counter() - started
    progress("sammanställer kapitlen")
    assembled = assemble(book, cache)
    if options.strict and assembled.warnings:  # active content removed from a source is an error then
        raise InputError(assembled.warnings)
    warnings = warnings + assembled.warnings
    output_path(root, out_dir).mkdir(parents=True, exist_ok=True)
    info = DocumentInfo.from_book(book, source_revision(root), source_date_epoch(root))
    info = replace(info, version=options.version or info.version, status=options.status or info.status)
    keys = {fmt: format_key(book, assembled, info, fmt) for fmt in options.formats}
    targets = {fmt: output_path(root, out_dir / (book.output_name + EXTENSIONS[fmt])) for fmt in options.formats}
    names = {fmt: f"format:{cache.relative(targets[fmt])}" for fmt in options.formats}
    stale = [fmt for fmt in options.formats if cache.lookup(names[fmt], keys[fmt]) is None]
    outputs = {fmt: targets[fmt] for fmt in options.formats}
    if stale:
        with tempfile.TemporaryDirectory(dir=prepare_area(root, OUTPUT_DIR), prefix=".build-") as temporary:
            work = Path(temporary)
            source = work / "book.json"  # the document sanitize.py checked and cleaned, not the raw text
            source.write_text(json.dumps(assembled.document, ensure_ascii=False), encoding="utf-8")
            if "docx" in stale:  # source anchors for the review round trip (underlag review)
                write_anchored_source(root, assembled.lines, source)
            built = _render_all(book, source, info, work, stale, seconds, progress, assembled.images)
            for fmt, path in built.items():
                os.replace(path, output_path(root, targets[fmt]))
                cache.store(names[fmt], keys[fmt], [targets[fmt]], value=True)
    cache.save()
    stages = {name.split(":", 1)[0] + ":" + Path(name.split(":", 1)[1]).name: how for name, how in cache.used.items()}
    return BuildResult(outputs, warnings, seconds, stages)


def data_stage_key(root: Path, options: Options) -> str:
    """Everything the data stages read: data files, fragment templates, writers' prose files, the
    versions branch (the change log compares with it), the version asked for, and our code."""
    from underlag.engine.history import read_history
    from underlag.engine.messages import language

    files = sorted((root / "data").rglob("*")) + sorted((root / "templates/fragments").rglob("*"))
    return digest(
        [(str(p.relative_to(root)), file_hash(p)) for p in files if p.is_file()],
        sorted(p.name for p in (root / "chapters/alternativ").glob("*.qmd")),
        read_history(root).commit,
        options.version,
        package_digest(),
        language(),  # the stored warnings are text in the language of the run that stored them
    )


def format_key(book: Book, assembled, info: DocumentInfo, fmt: str) -> str:
    """Everything a format's file is made from: sources, templates (the project's own or ours, by
    content), our code and filters (by content, not version), images, tools."""
    from importlib import metadata

    from underlag.engine.render.pandoc import FILTER_DIR, template

    templates = {"pdf": ["typst/report.typ"], "docx": ["docx/styles.yaml"], "html": ["html/style.css"]}[fmt]
    return digest(
        fmt, assembled.text, asdict(info), book.output_name,
        *(template(book.root, name).read_bytes() for name in templates),
        *(path.read_bytes() for path in sorted(FILTER_DIR.glob("*.lua"))),
        *(file_hash(path) for path in assembled.images),
        *(file_hash(path) for path in [*book.bibliography, *([book.csl] if book.csl else [])]),
        metadata.version("pypandoc-binary"), metadata.version("typst"), package_digest(),
        # the DOCX records its sources' hashes (review --apply): a changed shortcode must rebuild it
        [(relative(path, book.root), file_hash(path)) for path in dict.fromkeys(l.path for l in assembled.lines)]
        if fmt == "docx" else None,
    )


def prepare(root: Path, options: Options = Options(), progress: Callable[[str], None] = lambda _: None,
            cache: Cache | None = None) -> tuple[Book, list[Problem]]:
    """Read the book and, when the project has data/, check it and write figures and fragments.

    Returns the book and the data's warnings; under `strict` a warning is an error.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    book = report = None
    if links := confinement_problems(root):  # before anything else is read
        raise InputError(links)
    try:
        book = read_book(root, options.profile)
    except InputError as exc:
        problems += exc.problems
    data_key = data_stage_key(root, options) if (root / "data").is_dir() else None
    cached = cache.lookup("stage:data", data_key) if cache and data_key else None
    if data_key and cached is None:
        progress("läser och kontrollerar data")
        from underlag.report.load import load_report

        try:
            report, warnings = load_report(root)
        except InputError as exc:
            problems += exc.problems
    elif cached is not None:  # the same data, templates and code as last time: all of it is still valid
        warnings = [Problem(**w) for w in cached["warnings"]]
    from underlag.engine.privacy import scan_project

    scanned = scan_project(root)
    problems += [p for p in scanned if p.severity == "error"]  # a broken allow-list stops the build
    scanned = [p for p in scanned if p.severity != "error"]
    if problems or (options.strict and warnings + scanned):
        raise InputError(problems + warnings + scanned)
    if report is not None:
        from underlag.report.analysis import analyse
        from underlag.report.changes import changes_since_previous
        from underlag.report.figures import draw_figures
        from underlag.report.fragments import write_fragments

        progress("analyserar")
        result = analyse(report)
        progress("ritar figurer")
        specs = draw_figures(report, root / "figures", result, cache)
        progress("skriver genererade avsnitt")
        write_fragments(report, specs, root, result, changes_since_previous(root, report, options.version))
        if cache:
            produced = sorted((root / "chapters/_generated").glob("*.md")) + \
                [root / "figures" / f"{spec.stem}.{ext}" for spec in specs for ext in ("svg", "png")]
            cache.store("stage:data", data_key, produced, {"warnings": [asdict(w) for w in warnings]})
    warnings = warnings + scanned
    return book, warnings


def _render_all(book: Book, source: Path, info: DocumentInfo, work: Path, formats: Sequence[str],
                seconds: dict[str, float], progress: Callable[[str], None], images: list[Path]) -> dict[str, Path]:
    from underlag.engine.render.docx import render_docx
    from underlag.engine.render.html import render_html
    from underlag.engine.render.pdf import render_pdf

    renderers = {"html": render_html, "docx": render_docx, "pdf": render_pdf}

    def run(fmt: str) -> Path:
        started = time.perf_counter()
        fmt_work = work / fmt
        fmt_work.mkdir()
        output = fmt_work / (book.output_name + EXTENSIONS[fmt])
        renderers[fmt](book, source, info, fmt_work, output, images)
        seconds[fmt] = time.perf_counter() - started
        return output

    progress("bygger " + ", ".join(f.upper() for f in formats))
    with ThreadPoolExecutor(max_workers=len(formats)) as pool:
        futures = {fmt: pool.submit(run, fmt) for fmt in formats}
        return {fmt: future.result() for fmt, future in futures.items()}


def source_date_epoch(root: Path) -> int | None:
    """SOURCE_DATE_EPOCH if set, else the time of the last git commit: the date every output carries."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    result = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True, text=True)
    return int(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip().isdigit() else None


def source_revision(root: Path) -> str:
    """Short git revision of the sources, with '+ändrad' when the tree has uncommitted changes."""
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    revision = git("rev-parse", "--short", "HEAD")
    if revision and git("status", "--porcelain", "--untracked-files=no"):
        revision += "+ändrad"
    return revision
