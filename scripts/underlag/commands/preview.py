"""`underlag preview`: the HTML on 127.0.0.1, rebuilt when a source changes, reloaded in the browser.

A watcher compares a hash of every watched file (never modification times) ten times a second
and rebuilds the HTML when it changes; the incremental build redoes only what changed. Watched:
chapters/, data/, templates/, the static figures in figures/, _quarto*.yml, _variables.yml and
every file the last build used (included files, images, bibliography) wherever it lies.

The preview's page is its own (report/.preview/, never the published one): every block shows
where it came from and links to the writer's editor (preview_page.py). Errors and warnings stay
in a panel fixed in the window, over the last good version when the build fails, and are
printed in full in the terminal; the server keeps running.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from underlag.commands.preview_page import (PANEL_PATH, VERSION_PATH, Place, decorate, editor_url,
                                            problems_panel, served_page)
from underlag.engine.errors import InputError, Problem, UnderlagError
from underlag.engine.messages import count, text as _

WATCHED = ("chapters", "data", "templates", "figures")
LOCK_WAIT = 600.0  # seconds the preview waits for a build or publish that holds the project


@dataclass
class State:
    version: int = 0  # counts builds: the page reloads or its panel is replaced
    page_version: int = 0  # counts changes of the page itself: only these reload it
    page: str = ""  # the last good page, decorated
    panel: str = ""  # the problems of the last build
    places: list[Place] = field(default_factory=list)  # its blocks, for the problems panel
    problems: list[Problem] = field(default_factory=list)
    failed: bool = False
    served: bytes = b""  # page + panel + script, made once per build
    inputs: list[Path] = field(default_factory=list)  # the files the last good build used
    data: "DataValues | None" = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def watched_files(root: Path, inputs: list[Path] = ()) -> list[Path]:
    """Every source the build reads; generated parts (chapters/_generated, the figures the build
    draws straight into figures/) are outputs and left out, or each build would start another."""
    files = {p for name in WATCHED for p in (root / name).rglob("*") if p.is_file()}
    files |= set(root.glob("_quarto*.yml")) | set(root.glob("_variables.yml")) | {p for p in inputs if p.is_file()}
    return sorted(p for p in files if not _generated(p.relative_to(root) if p.is_relative_to(root) else p))


def _generated(relative: Path) -> bool:
    parts = relative.parts
    return "_generated" in parts or (len(parts) == 2 and parts[0] == "figures")


def fingerprint(root: Path, inputs: list[Path] = ()) -> str:
    """A hash of every watched file's name and content."""
    hasher = hashlib.sha256()
    for path in watched_files(root, inputs):
        hasher.update(str(path).encode())
        try:
            hasher.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:  # deleted while we looked: the next round sees it
            pass
    return hasher.hexdigest()


def rebuild(root: Path, state: State, profile: str | None, say: Callable[[str], None], pattern: str) -> None:
    from underlag.commands.build import Options, build

    page = None
    try:
        result = build(root, Options(formats=("html",), profile=profile, source_map=True, lock_wait=LOCK_WAIT),
                       waiting=say)
        page, places = decorate(result.outputs["html"].read_text("utf-8"), root, pattern,
                                state.data.current() if state.data else None)
        problems, inputs = result.warnings, result.inputs
        rebuilt = [n.split(":", 1)[1] for n, how in result.stages.items() if how == "rebuilt"]
        say(_("preview.built", stages=", ".join(rebuilt) or _("preview.nothing_changed")))
    except InputError as exc:
        problems = exc.problems
    except UnderlagError as exc:
        problems = [Problem("", None, None, str(exc))]
    except Exception as exc:  # noqa: BLE001 (any bad input: the preview shows it and keeps watching)
        problems = [Problem("", None, None, _("preview.unexpected", kind=type(exc).__name__, reason=exc))]
    _tell(problems, page is None, say)
    with state.lock:
        if page is not None:
            state.page_version += page != state.page
            state.page, state.places, state.inputs = page, places, inputs
        state.problems, state.failed = problems, page is None
        state.version += 1
        state.panel = problems_panel(problems, state.places, state.failed, pattern, root)
        state.served = served_page(state.page, state.panel, state.version, state.page_version)


class DataValues:
    """The review's index of data values by the text they print (report/review_data.py), and its
    answers, kept while data/ is unchanged: a prose edit then costs no lookups at all."""

    def __init__(self, root: Path):
        self.root = root
        self.key: str | None = None
        self.index = None
        self.answers: dict[tuple, object] = {}

    def current(self) -> "DataValues | None":
        """This index, read again if a data file changed; None without data/."""
        if not (self.root / "data").is_dir():
            return None
        hasher = hashlib.sha256()
        for path in sorted(p for p in (self.root / "data").rglob("*") if p.is_file()):
            hasher.update(str(path).encode() + hashlib.sha256(path.read_bytes()).digest())
        if hasher.hexdigest() != self.key:
            from underlag.report.review_data import DataIndex

            self.key, self.index, self.answers = hasher.hexdigest(), DataIndex(self.root), {}
        return self

    def find(self, text: str, row: tuple[str, ...] = (), prefer: frozenset[str] = frozenset()):
        key = (text, row, prefer)
        if key not in self.answers:
            self.answers[key] = self.index.find(text, row=row, prefer=prefer)
        return self.answers[key]


def _tell(problems: list[Problem], failed: bool, say: Callable[[str], None]) -> None:
    """Every problem in full in the terminal too, as the panel shows it."""
    errors = sum(p.severity == "error" for p in problems) or len(problems)
    if failed:
        say(_("preview.failed", n=errors))
    elif problems:
        say(count("preview.warnings", len(problems)))
    for problem in problems:
        say(f"  {problem if problem.path else problem.message}")


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            if self.path == VERSION_PATH:
                with state.lock:
                    body = json.dumps({"version": state.version, "page": state.page_version}).encode()
                self._send(200, "application/json", body)
            elif self.path == PANEL_PATH:
                with state.lock:
                    body = state.panel.encode("utf-8")
                self._send(200, "text/html; charset=utf-8", body)
            elif self.path.split("#")[0] in ("/", "/index.html"):
                with state.lock:
                    body = state.served
                self._send(200, "text/html; charset=utf-8", body)
            else:
                self._send(404, "text/plain; charset=utf-8", _("preview.not_found").encode())

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # quiet: the terminal shows builds, not requests
            pass

    return Handler


def serve(root: Path, port: int, profile: str | None, say: Callable[[str], None],
          interval: float = 0.1, editor: str | None = None) -> None:
    """Serve until interrupted (Ctrl-C raises KeyboardInterrupt in the caller's thread)."""
    pattern = editor_url(editor)
    state = State(data=DataValues(root))
    seen = fingerprint(root)
    rebuild(root, state, profile, say, pattern)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
    stop = threading.Event()

    def watch() -> None:
        nonlocal seen
        while not stop.wait(interval):
            try:
                current = fingerprint(root, state.inputs)
                if current != seen:
                    rebuild(root, state, profile, say, pattern)
                    seen = current
            except Exception as exc:  # noqa: BLE001 (the watcher must never die: later edits must appear)
                say(_("preview.cannot_read", kind=type(exc).__name__, reason=exc))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    say(_("preview.serving", port=server.server_port))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        server.server_close()
