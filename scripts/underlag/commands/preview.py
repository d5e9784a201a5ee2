"""`underlag preview`: the HTML on 127.0.0.1, rebuilt when a source changes, reloaded in the browser.

A watcher compares a hash of every watched file (never modification times) twice a second and
rebuilds the HTML when it changes; the incremental build redoes only what changed. A build error
is shown at the top of the page, with file and line, over the last good version, and the
server keeps running. The served page (not the file in report/) gets a small script that asks
the server for the build number and reloads when it changes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from underlag.engine.errors import InputError, UnderlagError
from underlag.engine.render.html import CONTENT_SECURITY_POLICY

WATCHED = ("chapters", "data", "templates")
VERSION_PATH = "/__underlag/version"
RELOAD = """(function(){var v=%d;setInterval(function(){fetch('%s').then(function(r){return r.json()})
.then(function(j){if(j.version!==v){location.reload()}}).catch(function(){})},700)})();"""


@dataclass
class State:
    version: int = 0
    page: bytes = b""
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def fingerprint(root: Path) -> str:
    """A hash of every source the build reads (generated parts excluded, they are outputs)."""
    hasher = hashlib.sha256()
    files = [p for name in WATCHED for p in (root / name).rglob("*") if p.is_file() and "_generated" not in p.parts]
    files += sorted(root.glob("_quarto*.yml")) + sorted(root.glob("_variables.yml"))
    for path in sorted(files):
        hasher.update(str(path.relative_to(root)).encode())
        try:
            hasher.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:  # deleted while we looked: the next round sees it
            pass
    return hasher.hexdigest()


def rebuild(root: Path, state: State, profile: str | None, say: Callable[[str], None]) -> None:
    from underlag.commands.build import Options, build

    try:
        result = build(root, Options(formats=("html",), profile=profile))
        page, problems = result.outputs["html"].read_bytes(), []
        say(f"byggd: {', '.join(n.split(':', 1)[1] for n, how in result.stages.items() if how == 'rebuilt') or 'inget ändrat'}")
    except InputError as exc:
        page, problems = None, [str(p) for p in exc.problems]
    except UnderlagError as exc:
        page, problems = None, [str(exc)]
    except Exception as exc:  # noqa: BLE001 (any bad input: the preview shows it and keeps watching)
        page, problems = None, [f"oväntat fel ({type(exc).__name__}): {exc}; rätta det senast ändrade och spara igen"]
    if page is None:
        say(f"{len(problems)} fel; visar senaste fungerande version")
        for problem in problems:
            say(f"  {problem}")
    with state.lock:
        state.page = page if page is not None else state.page
        state.problems = problems
        state.version += 1


def render_page(state: State) -> bytes:
    with state.lock:
        page, problems, version = state.page.decode("utf-8"), list(state.problems), state.version
    if problems:
        items = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in problems)
        banner = (f'<div role="alert" style="background:#fdecea;color:#8a1c12;border:2px solid #b42318;'
                  f'padding:1rem;margin:1rem 0"><strong>Byggfel</strong> – sidan visar den senaste fungerande '
                  f'versionen.<ul>{items}</ul></div>')
        page = page.replace("<body>", "<body>" + banner, 1) if "<body>" in page else banner + page
    script = RELOAD % (version, VERSION_PATH)
    page = _allow_script(page, script)
    return page.replace("</body>", f"<script>{script}</script></body>", 1).encode("utf-8")


def _allow_script(page: str, script: str) -> str:
    """The page's Content-Security-Policy, widened for exactly our reload script (by its hash) and
    its requests to this server: any other script in the page still does not run."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    policy = f"{CONTENT_SECURITY_POLICY}; script-src 'sha256-{digest}'; connect-src 'self'"
    meta = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
    tag = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">'
    return meta.sub(lambda _: tag, page, count=1) if meta.search(page) else page.replace("<head>", "<head>" + tag, 1)


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            if self.path == VERSION_PATH:
                with state.lock:
                    body = json.dumps({"version": state.version}).encode()
                self._send(200, "application/json", body)
            elif self.path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", render_page(state))
            else:
                self._send(404, "text/plain; charset=utf-8", "Finns inte".encode())

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
          interval: float = 0.5) -> None:
    """Serve until interrupted (Ctrl-C raises KeyboardInterrupt in the caller's thread)."""
    state = State()
    seen = fingerprint(root)
    rebuild(root, state, profile, say)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
    stop = threading.Event()

    def watch() -> None:
        nonlocal seen
        while not stop.wait(interval):
            try:
                current = fingerprint(root)
                if current != seen:
                    seen = current
                    rebuild(root, state, profile, say)
            except Exception as exc:  # noqa: BLE001 (the watcher must never die: later edits must appear)
                say(f"förhandsvisningen kunde inte läsa projektet ({type(exc).__name__}: {exc}); försöker igen")

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    say(f"förhandsvisning på http://127.0.0.1:{server.server_port}/ (Ctrl-C stoppar)")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        server.server_close()
