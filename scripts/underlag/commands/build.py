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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from underlag.engine.assemble import assemble, remember_assembled
from underlag.engine.book import FORMATS, Book, read_book
from underlag.engine.cache import Cache, digest, file_hash, package_digest
from underlag.engine.confine import confinement_problems, output_path, prepare_area
from underlag.engine.errors import InputError, PartialBuildError, Problem, relative
from underlag.engine.files import project_lock
from underlag.engine.messages import text as message
from underlag.engine.render.anchors import anchored_document, write_anchored_source
from underlag.engine.render.pandoc import DocumentInfo, FilterError
from underlag.report.chrome import apply_chrome, chrome_problems

OUTPUT_DIR = "report"
EXTENSIONS = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}
TIMINGS_VARIABLE = "UNDERLAG_TIMINGS"  # a file the build writes its stage timings to (the benchmark reads it)


@contextmanager
def timed_stage(seconds: dict[str, float] | None, name: str) -> Iterator[None]:
    """Adds the wall time of the block to `seconds[name]` (a stage may run in several pieces)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if seconds is not None:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
PREVIEW_DIR = ".preview"


@dataclass
class BuildResult:
    outputs: dict[str, Path]
    warnings: list[Problem]
    seconds: dict[str, float] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # figure/format -> "rebuilt" or "cached"
    inputs: list[Path] = field(default_factory=list)  # every file the chapters use (includes, images, bibliography)

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
    source_map: bool = False  # the preview's HTML: every block carries its file and line (never published)
    lock_wait: float = 0.0  # seconds to wait for another build, publish or the preview to finish
    docx_page_numbers: bool = False  # the DOCX contents' page numbers from LibreOffice (publish, build --page-numbers)


def build(root: Path, options: Options = Options(), progress: Callable[[str], None] = lambda _: None,
          waiting: Callable[[str], None] | None = None) -> BuildResult:
    """Build into report/ (the preview's source-mapped page into report/.preview/, apart from the
    real one), holding the project lock so no publish runs at the same time; `waiting` hears once
    when the lock is busy and the build waits for it."""
    root = root.resolve()
    entered = time.time()
    out_dir = root / OUTPUT_DIR / PREVIEW_DIR if options.source_map else root / OUTPUT_DIR
    with project_lock(root, options.lock_wait, waiting, "preview" if options.source_map else "build"):
        result = build_into(root, out_dir, options, progress)
    if target := os.environ.get(TIMINGS_VARIABLE):  # outside the project: the caller names the file
        Path(target).write_text(json.dumps({"entered": entered, "finished": time.time(), "stages": result.seconds}),
                                "utf-8")
    return result


def build_into(root: Path, out_dir: Path, options: Options = Options(),
               progress: Callable[[str], None] = lambda _: None) -> BuildResult:
    """The whole pipeline; outputs land in out_dir only when every format succeeded.

    Figures and formats whose inputs have not changed are taken from the cache.
    """
    seconds: dict[str, float] = {}
    cache = Cache(root)
    with ExitStack() as stack:
        book, warnings, drawing = _prepare(root, options, progress, cache, seconds, stack)
        # the preview's page is made from the anchored book (render/anchors.py), a second parse that
        # needs only the assembled lines: it runs beside the plain book's parse and checks
        anchoring = ThreadPoolExecutor(max_workers=1) if options.source_map else None
        anchored = []
        lines_ready = (lambda lines: anchored.append(anchoring.submit(anchored_document, root, lines, book, cache))) \
            if anchoring else None
        try:
            assembled, warnings = _assemble_beside_privacy(root, book, cache, seconds, options, progress, warnings,
                                                           drawing.produced, lines_ready)
        finally:  # a failed build reports at once, without waiting for the anchored parse
            if anchoring:
                anchoring.shutdown(wait=False)
        drawing.finish()  # the figures drawn meanwhile: the format keys and the renderers read their files
        if drawing.produced:
            remember_assembled(assembled, book, cache)
    if options.strict and assembled.warnings:  # active content removed from a source is an error then
        raise InputError(assembled.warnings)
    warnings = warnings + assembled.warnings
    # what PDF/UA refuses stops the PDF only: the other formats are built, then the problems reported
    refused = ("pdf",) if "pdf" in options.formats and assembled.pdf_problems else ()
    options = replace(options, formats=tuple(fmt for fmt in options.formats if fmt not in refused))
    output_path(root, out_dir).mkdir(parents=True, exist_ok=True)
    info = DocumentInfo.from_book(book, source_revision(root), source_date_epoch(root))
    info = replace(info, version=options.version or info.version, status=options.status or info.status)
    info = apply_chrome(info, book.metadata)  # the board paper's cover and marking, if the book asks for them
    keys = {fmt: format_key(book, assembled, info, fmt, options.source_map, options.docx_page_numbers)
            for fmt in options.formats}
    targets = {fmt: output_path(root, out_dir / (book.output_name + EXTENSIONS[fmt])) for fmt in options.formats}
    names = {fmt: f"format:{cache.relative(targets[fmt])}" for fmt in options.formats}
    stale = [fmt for fmt in options.formats if cache.lookup(names[fmt], keys[fmt]) is None]
    outputs = {fmt: targets[fmt] for fmt in options.formats}
    if stale:
        with tempfile.TemporaryDirectory(dir=prepare_area(root, OUTPUT_DIR), prefix=".build-") as temporary:
            work = Path(temporary)
            source = work / "book.json"  # the document sanitize.py checked and cleaned, not the raw text
            source.write_text(json.dumps(assembled.document, ensure_ascii=False), encoding="utf-8")
            # source anchors for `underlag review` (a second parse): in the DOCX's thread, beside the
            # other formats; the preview's HTML needs them before it is written, so then first
            anchor = lambda: write_anchored_source(root, assembled.lines, source, book,  # noqa: E731
                                                   anchored[0].result() if anchored else None, cache)
            if options.source_map:
                anchor()
            prepare_format = {"docx": anchor} if not options.source_map else {}
            try:
                with timed_stage(seconds, "formats"):
                    built = _render_all(book, source, info, work, stale, seconds, progress, assembled.images,
                                        prepare_format, options.source_map, options.docx_page_numbers)
            except FilterError as exc:  # a Lua filter stopped: its place in the sources, no stack trace
                from underlag.engine.filter_errors import filter_problems

                raise InputError(filter_problems(exc, assembled.lines, assembled.document)) from None
            for fmt, path in built.items():
                os.replace(path, output_path(root, targets[fmt]))
                cache.store(names[fmt], keys[fmt], [targets[fmt]], value=True)
    if anchored:  # it stores its document in the cache: done before the index is written
        wait(anchored)
    cache.save()
    if refused:
        raise PartialBuildError(assembled.pdf_problems, options.formats, refused)
    stages = {name.split(":", 1)[0] + ":" + Path(name.split(":", 1)[1]).name: how for name, how in cache.used.items()}
    inputs = [*dict.fromkeys(line.path for line in assembled.lines), *assembled.images, *book.bibliography,
              *([book.csl] if book.csl else [])]
    return BuildResult(outputs, warnings, seconds, stages, inputs)


def _assemble_beside_privacy(root: Path, book: Book, cache: Cache, seconds: dict[str, float], options: Options,
                             progress: Callable[[str], None], warnings: list[Problem], produced: list[Path],
                             lines_ready: Callable[[list], None] | None = None):
    progress(message("progress.assembling"))
    # the privacy scan runs beside the assembly, which mostly waits for pandoc's parse; its
    # problems stop the build before any output is moved into place
    with ThreadPoolExecutor(max_workers=1) as background:
        scan = background.submit(_privacy, root, cache, seconds)
        try:
            with timed_stage(seconds, "assemble"):
                assembled = assemble(book, cache, lines_ready, produced)
        except InputError:  # as before the scan moved here: its errors first, else the assembly's problems
            if any(p.severity == "error" for p in scan.result()):
                _with_privacy(warnings, scan.result(), options)
            raise
        return assembled, _with_privacy(warnings, scan.result(), options)


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


def format_key(book: Book, assembled, info: DocumentInfo, fmt: str, source_map: bool = False,
               docx_page_numbers: bool = False) -> str:
    """Everything a format's file is made from: sources, templates (the project's own or ours, by
    content), our code and filters (by content, not version), images, tools."""
    from importlib import metadata

    from underlag.engine.render.pandoc import FILTER_DIR, template
    from underlag.engine.render.pdf import font_versions

    templates = {"pdf": ["typst/report.typ"], "docx": ["docx/styles.yaml"], "html": ["html/style.css"]}[fmt]
    return digest(
        fmt, assembled.text, asdict(info), book.output_name, asdict(book.settings(fmt)),  # labels, numbering, contents
        json.dumps(assembled.document, sort_keys=True, ensure_ascii=False),  # conditions (when-meta, profiles) decide parts of it
        source_map,
        *(template(book.root, name).read_bytes() for name in templates),
        *(path.read_bytes() for path in sorted(FILTER_DIR.glob("*.lua"))),
        *(file_hash(path) for path in assembled.images),
        *(file_hash(path) for path in [*book.bibliography, *([book.csl] if book.csl else [])]),
        metadata.version("pypandoc-binary"), metadata.version("typst"), package_digest(),
        font_versions() if fmt == "pdf" else None,
        # the DOCX records its sources' hashes (review --apply): a changed shortcode must rebuild it
        [(relative(path, book.root), file_hash(path)) for path in dict.fromkeys(l.path for l in assembled.lines)]
        if fmt == "docx" else None,
        # a publish must not take a build's DOCX whose contents waits for Word, nor the other way round
        docx_page_numbers if fmt == "docx" else None,
    )


def prepare(root: Path, options: Options = Options(), progress: Callable[[str], None] = lambda _: None,
            cache: Cache | None = None, seconds: dict[str, float] | None = None) -> tuple[Book, list[Problem]]:
    """Read the book and, when the project has data/, check it and write figures and fragments.

    Returns the book and the data's warnings; under `strict` a warning is an error. `seconds`
    collects the time of each stage (load, privacy, analysis, figures, fragments).
    """
    with ExitStack() as stack:
        book, warnings, drawing = _prepare(root, options, progress, cache, seconds, stack)
        drawing.finish()
    return book, _with_privacy(warnings, _privacy(root, cache, seconds), options)


def _with_privacy(warnings: list[Problem], scanned: list[Problem], options: Options,
                  problems: Sequence[Problem] = ()) -> list[Problem]:
    """The warnings with the privacy scan's; InputError with every problem when there is one, when
    the scan found an error (a broken allow-list) or, under `strict`, any warning."""
    errors = [p for p in scanned if p.severity == "error"]
    scanned = [p for p in scanned if p.severity != "error"]
    if problems or errors or (options.strict and warnings + scanned):
        raise InputError([*problems, *errors, *warnings, *scanned])
    return warnings + scanned


@contextmanager
def _shut_down(pool):
    try:
        yield pool
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


@dataclass
class _Drawing:
    """The data stage's figures while they are drawn: the files being written, and `finish`, which
    waits for them and only then stores the data stage in the cache (its files must exist)."""
    produced: list[Path] = field(default_factory=list)
    finish: Callable[[], None] = lambda: None


def _prepare(root: Path, options: Options, progress: Callable[[str], None], cache: Cache | None,
             seconds: dict[str, float] | None, stack: ExitStack) -> tuple[Book, list[Problem], _Drawing]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    book = report = pool = None
    if links := confinement_problems(root):  # before anything else is read
        raise InputError(links)
    with timed_stage(seconds, "load"):
        try:
            book = read_book(root, options.profile)
            problems += chrome_problems(book.metadata)
        except InputError as exc:
            problems += exc.problems
        data_key = data_stage_key(root, options) if (root / "data").is_dir() else None
        cached = cache.lookup("stage:data", data_key) if cache and data_key else None
        if data_key and cached is None:
            progress(message("progress.data"))
            from underlag.report.figures import figure_pool
            from underlag.report.load import load_report

            pool = stack.enter_context(_shut_down(figure_pool()))  # its workers import matplotlib meanwhile
            try:
                report, warnings = load_report(root)
            except InputError as exc:
                problems += exc.problems
        elif cached is not None:  # the same data, templates and code as last time: all of it is still valid
            warnings = [Problem(**w) for w in cached["warnings"]]
    if problems or (options.strict and warnings):  # every problem at once: the privacy scan's too
        _with_privacy(warnings, _privacy(root, cache, seconds), options, problems)
    if report is None:
        return book, warnings, _Drawing()
    from underlag.report.changes import changes_since_previous
    from underlag.report.figures import start_figures
    from underlag.report.fragments import write_fragments

    progress(message("progress.analysing"))
    with timed_stage(seconds, "analysis"):
        from underlag.report.analysis import analyse

        result = analyse(report)
    progress(message("progress.figures"))
    with timed_stage(seconds, "figures"):  # the specs now; the pool's workers draw while we go on
        figures = start_figures(report, root / "figures", result, cache, pool)
    progress(message("progress.generated"))
    with timed_stage(seconds, "fragments"):
        write_fragments(report, figures.specs, root, result, changes_since_previous(root, report, options.version))

    def finish() -> None:
        with timed_stage(seconds, "figures"):  # only the wait that is left: what the figures cost the build
            specs = figures.wait()
            stack.close()  # the workers' memory is given back before the formats are rendered
        if cache:
            produced = sorted((root / "chapters/_generated").glob("*.md")) + \
                [root / "figures" / f"{spec.stem}.{ext}" for spec in specs for ext in ("svg", "png")]
            cache.store("stage:data", data_key, produced, {"warnings": [asdict(w) for w in warnings]})
    # the caller scans for personal data now, after the fragments: the scan sees the generated text
    return book, warnings, _Drawing(figures.produced, finish)


def _privacy(root: Path, cache: Cache | None, seconds: dict[str, float] | None) -> list[Problem]:
    from underlag.engine.privacy import scan_project_cached

    with timed_stage(seconds, "privacy"):
        return scan_project_cached(root, cache)


def _render_all(book: Book, source: Path, info: DocumentInfo, work: Path, formats: Sequence[str],
                seconds: dict[str, float], progress: Callable[[str], None], images: list[Path],
                prepare_format: dict[str, Callable[[], None]] | None = None,
                source_map: bool = False, docx_page_numbers: bool = False) -> dict[str, Path]:
    from functools import partial

    from underlag.engine.render.docx import render_docx
    from underlag.engine.render.html import render_html
    from underlag.engine.render.pdf import render_pdf

    renderers = {"html": partial(render_html, source_map=source_map),
                 "docx": partial(render_docx, page_numbers=docx_page_numbers), "pdf": render_pdf}

    def run(fmt: str) -> Path:
        started = time.perf_counter()
        fmt_work = work / fmt
        fmt_work.mkdir()
        output = fmt_work / (book.output_name + EXTENSIONS[fmt])
        prepare = (prepare_format or {}).get(fmt)
        if prepare and fmt == "docx":  # render_docx overlaps it with its own preparation
            renderers[fmt](book, source, info, fmt_work, output, images, prepare=prepare)
        else:
            if prepare:
                prepare()
            renderers[fmt](book, source, info, fmt_work, output, images)
        seconds[fmt] = time.perf_counter() - started
        return output

    progress(message("progress.building", formats=", ".join(f.upper() for f in formats)))
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
