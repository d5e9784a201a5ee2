"""The page the preview serves: the source-mapped HTML with each block's origin shown and linked
to the writer's editor, a problems panel that stays in view, and the reload script.

The build (Options.source_map) gives every block `data-source="file:line"` from the same source
anchors the DOCX review round trip uses (engine/render/anchors.py). Here a block from a generated
fragment is traced further, to the data value it prints, with the review's own index of data
values (report/review_data.py): hovering a table cell shows `data/risker.yaml:56 (genererat)`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from underlag.engine.errors import Problem, UsageError
from underlag.engine.messages import language
from underlag.engine.messages import text as _
from underlag.engine.render.html import CONTENT_SECURITY_POLICY
from underlag.report.fragments import OUTPUT_DIR as GENERATED_DIR

EDITOR_URL = "vscode://file{path}:{line}"  # {path}: the absolute path, as in a URL ("/C:/…" on Windows)
EDITOR_ENV = "UNDERLAG_EDITOR_URL"
VERSION_PATH = "/__underlag/version"
PANEL_PATH = "/__underlag/panel"
POLL_MS = 100  # a request for a few bytes: a tenth of a second is cheap, and the reload comes sooner
PLACE_ID = "underlag-kalla-{}"
MOSTLY = 2  # a paragraph is traced to a data value that makes up at least half of its text
# the page before the first good build: the panel alone, in the language of the messages
EMPTY_PAGE = ('<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
              "<body></body></html>")
# Kept small and in one place: the preview's own look, never part of a published page.
STYLE = """
.underlag-origin{position:relative}
.underlag-source{position:absolute;bottom:100%;left:0;z-index:20;display:none;white-space:nowrap;
 font:600 12px/1.5 system-ui,sans-serif;color:#fff;background:#1e3a8a;padding:0 .4rem;border-radius:3px;
 text-decoration:none}
td>.underlag-source,th>.underlag-source,caption>.underlag-source{bottom:auto;top:0;left:0}
.underlag-origin:hover>.underlag-source,.underlag-source:focus{display:block}
.underlag-generated{box-shadow:-4px 0 0 #b45309}
td.underlag-generated,th.underlag-generated{box-shadow:none;background:#fff3dc}
.underlag-generated>.underlag-source{background:#92400e}
:target{outline:3px solid #b42318;outline-offset:2px}
#underlag-problems{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;max-height:45vh;overflow:auto;
 margin:0;padding:.75rem 1rem;font:15px/1.45 system-ui,sans-serif;background:#fdecea;color:#8a1c12;
 border-top:3px solid #b42318;box-shadow:0 -4px 16px rgba(0,0,0,.25)}
#underlag-problems.underlag-warnings{background:#fffbeb;color:#78350f;border-top-color:#b45309}
#underlag-problems ul{margin:.4rem 0 0;padding-left:1.2rem}
#underlag-problems a{color:inherit}
body{padding-bottom:50vh}
"""
# Reload when the server has a new page, keeping the writer where they were: the scroll position
# is saved before the reload and restored after it (also once the images are laid out). When only
# the problems changed (a failed build keeps the last good page), the panel alone is replaced:
# no reload, and the writer's place does not move at all.
RELOAD = """(function(){var v=%d,p=%d,k='underlag-scroll';history.scrollRestoration='manual';
var s=sessionStorage.getItem(k);if(s!==null){sessionStorage.removeItem(k);var y=+s,go=function(){window.scrollTo(0,y)};
go();window.addEventListener('load',go)}
function panel(){fetch('%s').then(function(r){return r.text()}).then(function(h){
var o=document.getElementById('underlag-problems');if(o){o.remove()}if(h){document.body.insertAdjacentHTML('afterbegin',h)}
}).catch(function(){})}
setInterval(function(){fetch('%s').then(function(r){return r.json()}).then(function(j){if(j.page!==p){
sessionStorage.setItem(k,String(window.scrollY));location.reload()}else if(j.version!==v){v=j.version;panel()}
}).catch(function(){})},%d)})();"""


@dataclass(frozen=True)
class Origin:
    file: str  # relative to the project
    line: int
    generated: bool  # printed from data/ by a fragment template, not written in a chapter

    @property
    def label(self) -> str:
        return f"{self.file}:{self.line}" + (" (genererat)" if self.generated else "")


@dataclass(frozen=True)
class Place:
    """A block of the page the problems panel can scroll to."""
    file: str
    line: int
    id: str


def editor_url(pattern: str | None) -> str:
    """The editor link pattern: the option, else $UNDERLAG_EDITOR_URL, else VS Code's."""
    pattern = pattern or os.environ.get(EDITOR_ENV) or EDITOR_URL
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError:
        fields = set()
    if not fields or not fields <= {"path", "line"} or "path" not in fields:
        raise UsageError(_("preview.editor_link", pattern=pattern, example=EDITOR_URL))
    return pattern


def editor_link(pattern: str, root: Path, origin: Origin) -> str:
    path = (root / origin.file).resolve().as_posix()
    return pattern.format(path=quote("/" + path.lstrip("/"), safe="/:"), line=origin.line)


def decorate(page: str, root: Path, pattern: str, data=None) -> tuple[str, list[Place]]:
    """Every block with `data-source` gets its origin as a tooltip and a link to the editor (shown on
    hover), an id the problems panel can link to, and a mark when it was generated from data.
    `data` is a report.review_data.DataIndex, or None when the project has no data/."""
    from lxml import html as lxml_html

    document = lxml_html.document_fromstring(page)
    blocks = document.xpath("//*[@data-source]")
    values = data_values([b for b in blocks if _generated(b)], data) if data is not None else {}
    places = []
    for number, block in enumerate(blocks):
        origin = block_origin(block, values.get(block))
        block.set("id", block.get("id") or PLACE_ID.format(number))
        block.set("title", origin.label)
        block.set("data-origin", origin.label)
        block.classes.add("underlag-origin")
        if origin.generated:
            block.classes.add("underlag-generated")
        link = lxml_html.Element("a", {"class": "underlag-source", "href": editor_link(pattern, root, origin)})
        link.text = origin.label
        link.tail = block.text
        block.text = None
        block.insert(0, link)
        places.append(Place(origin.file, origin.line, block.get("id")))
        if origin.generated and block.get("data-source-via"):  # a problem at the include line links here too
            via, line = block.get("data-source-via").rsplit(":", 1)
            places.append(Place(via, int(line), block.get("id")))
    head = document.find("head")
    if head is not None:
        style = lxml_html.Element("style")
        style.text = STYLE
        head.append(style)
    return lxml_html.tostring(document, encoding="unicode", doctype="<!DOCTYPE html>"), places


def _generated(block) -> bool:
    return block.get("data-source").startswith(GENERATED_DIR + "/")


def data_values(blocks: list, data) -> dict:
    """The data value each generated block prints. Asked twice: the same words can be in two files
    (a milestone that is also a timeline event), and then the file that the block's neighbours
    (its table, else its fragment) mostly came from is the one meant."""
    def group(block):
        table = next((a for a in block.iterancestors() if a.tag == "table"), None)
        return table if table is not None else block.get("data-source").rsplit(":", 1)[0]

    first = {block: _find(block, data) for block in blocks}
    files: dict[object, Counter] = {}
    for block, value in first.items():
        if value is not None:
            files.setdefault(group(block), Counter())[value.file] += 1
    values = {}
    for block, value in first.items():
        usual = files[group(block)].most_common(1)[0][0] if value is not None else None
        # asked again only when the answer is not from the usual file: preferring a file changes
        # nothing among the answers that are already from it
        values[block] = value if value is None or value.file == usual else _find(block, data, frozenset([usual]))
    return values


def _find(block, data, prefer: frozenset[str] = frozenset()):
    """The data value a block prints. A paragraph, item or heading must be mostly that value: one
    that only contains a word from data (a term, a name) is template text, and is shown as such."""
    from underlag.report.review_data import normalise

    text = block.text_content()
    if block.tag == "figure":  # the figure's words are in its caption and its alt text
        text = " ".join([text] + [image.get("alt", "") for image in block.iter("img")])
    cell = block.tag in ("td", "th")
    row = [other.text_content() for other in block.getparent()] if cell else ()
    value = data.find(text, row=tuple(row), prefer=prefer)
    if value is None or cell or block.tag == "figure":
        return value
    plain = normalise(text)
    return value if any(form in plain and len(form) * MOSTLY >= len(plain) for form in value.forms) else None


def block_origin(block, value) -> Origin:
    """Where a block came from: its chapter line, or for generated text the data value it prints
    (else the chapter line that includes the fragment)."""
    file, line = block.get("data-source").rsplit(":", 1)
    if not _generated(block):
        return Origin(file, int(line), False)
    if value is not None:
        return Origin(value.file, value.line, True)
    if block.get("data-source-via"):
        file, line = block.get("data-source-via").rsplit(":", 1)
    return Origin(file, int(line), True)


def place_of(problem: Problem, places: list[Place]) -> Place | None:
    """The block a problem is about: in the same file, the last one that starts at or before its line."""
    same = [p for p in places if p.file == problem.path]
    if not same:
        return None
    before = [p for p in same if problem.line is not None and p.line <= problem.line]
    return max(before, key=lambda p: p.line) if before else min(same, key=lambda p: p.line)


def problems_panel(problems: list[Problem], places: list[Place], failed: bool, pattern: str, root: Path) -> str:
    """A panel fixed to the bottom of the window, in view wherever the writer has scrolled."""
    if not problems:
        return ""
    items = []
    for problem in problems:
        place = place_of(problem, places)
        shown = html.escape(_where(problem))
        # the colon inside the link: the line reads as the terminal prints it, `file:line:col: message`
        link = f'<a href="#{html.escape(place.id)}">{shown}:</a> ' if place else f"<code>{shown}:</code> " if shown else ""
        editor = ""
        if problem.line is not None and (root / problem.path).is_file():
            href = editor_link(pattern, root, Origin(problem.path, problem.line, False))
            editor = f' (<a href="{html.escape(href)}">{html.escape(_("preview.panel.open_in_editor"))}</a>)'
        kind = html.escape(_("problem.warning")) if problem.severity == "warning" else ""
        items.append(f"<li>{link}{kind}{html.escape(problem.message)}{editor}</li>")
    errors = sum(p.severity == "error" for p in problems)
    if failed:
        heading = (f"<strong>{html.escape(_('preview.panel.failed_title'))}</strong> – "
                   f"{html.escape(_('preview.panel.failed', n=errors or len(problems)))}")
    else:
        heading = (f"<strong>{html.escape(_('preview.panel.warnings_title'))}</strong> – "
                   f"{html.escape(_('preview.panel.warnings', n=len(problems)))}")
    kind = "" if failed else ' class="underlag-warnings"'
    return f'<div id="underlag-problems" role="alert"{kind}>{heading}<ul>{"".join(items)}</ul></div>'


def _where(problem: Problem) -> str:
    """`file:line:column`, as far as the problem knows it."""
    parts = [problem.path, problem.line, problem.column if problem.line is not None else None]
    return ":".join(str(part) for part in parts if part is not None)


def served_page(page: str, panel: str, version: int, page_version: int) -> bytes:
    """The page with the panel and the reload script; the script is allowed by its hash alone."""
    page = page or EMPTY_PAGE.format(lang=language(), title=html.escape(_("preview.empty_title")))
    page = page.replace("<body>", "<body>" + panel, 1)
    script = RELOAD % (version, page_version, PANEL_PATH, VERSION_PATH, POLL_MS)
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
