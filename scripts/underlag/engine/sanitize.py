"""The assembled book as a pandoc document that can neither run code nor fetch anything.

Pandoc's own reader parses the assembled Markdown once, so every syntax is seen as pandoc
sees it (reference-style images `![x][r]`, attributes `{onclick=…}`, raw HTML, `{=html}`,
`{=typst}`). Then, before any tool writes an output:

- every resource reference (images, raw HTML `src`/`srcset`/`poster`/`href` of resources,
  CSS `url()` and `@import`, Typst file and package loads, the stylesheet and Typst template)
  is resolved inside the project or refused with file:line: an error, nothing is fetched or
  read from outside;
- active content is removed with a located warning (an error under `--strict`): raw HTML is
  cleaned to an allow-list by nh3 (the Python binding of the Rust sanitizer ammonia: an
  html5ever parse, maintained, fast; bleach is deprecated since 2023 and its html5lib base
  unmaintained; lxml's Cleaner was moved out to lxml_html_clean with a warning that it is hard
  to keep secure), event-handler and resource attributes are dropped, links with `javascript:`,
  `vbscript:`, `data:` or `file:` targets lose their target.

The renderers read the cleaned document (pandoc JSON), so all three formats get the same,
checked content. Lines come from the assembled text: each finding is located by searching its
chapter's lines for the text pandoc kept verbatim (the raw tag, the address).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import nh3
from lxml import html as lxml_html

from underlag.engine.confine import inside
from underlag.engine.errors import Problem, ToolError, relative
from underlag.engine.messages import text as _

CHAPTER_OPENING = ":" * 12 + " {.chapter"
IMAGE_EXTENSIONS = (".svg", ".png")  # an image without extension must exist in both

# What raw HTML may keep: ammonia's defaults (no script, style, iframe, object, embed, form, meta,
# base, link, svg, math), plus the attributes our pages and screen readers use.
ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)
ALLOWED_ATTRIBUTES = {**{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
                      "details": {"open"}, "*": {"class", "id", "lang", "dir", "title", "role", "style"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}  # links only: resources are checked before this
STYLE_PROPERTIES = {"color", "background-color", "text-align", "vertical-align", "font-weight", "font-style",
                    "text-decoration", "white-space", "width", "height", "margin", "padding"}
# Removed with their content, so no script text or hidden document shows up as text either.
REMOVED_WITH_CONTENT = {"script", "style", "svg", "math", "iframe", "object", "embed", "template", "noscript",
                        "textarea", "title", "xmp", "noembed", "noframes", "select", "applet", "frameset"}
TABLE_CONTEXT = {"td": "<table><tbody><tr>", "th": "<table><tbody><tr>", "tr": "<table><tbody>",
                 "tbody": "<table>", "thead": "<table>", "tfoot": "<table>", "caption": "<table>",
                 "colgroup": "<table>", "col": "<table><colgroup>"}
VOID_TAGS = {"area", "br", "col", "hr", "img", "wbr"}
START_TAG = re.compile(r"\s*<([a-zA-Z][\w:-]*)\b[^<>]*>\s*", re.S)
END_TAG = re.compile(r"\s*</([a-zA-Z][\w:-]*)\s*>\s*")

# Attributes whose value a browser or pandoc's --embed-resources loads (href only outside <a>/<area>)
RESOURCE_ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "action", "formaction", "lowsrc",
                       "dynsrc", "longdesc", "manifest", "codebase", "archive", "icon", "xlink:href", "href",
                       "imagesrcset", "ping", "profile"}
NAVIGATION = {"a", "area"}
CSS_REFERENCE = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)
ACTIVE_SCHEMES = ("javascript", "vbscript", "data", "file")
SCHEME = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
# Raw Typst may format, never load: files, images, data or packages. `import` and `include` are
# keywords in a code block too (`#{import …}`, no `#` before them), and `eval` runs a string built
# to hide them (`"#im" + "port"`), so those three are refused wherever they stand as words:
# packages (`@local/…` from the user's data folder, `@preview/…` from the network) come only that way.
TYPST_LOADS = re.compile(r"#?\b(import|include|eval)\b|\b(read|image|csv|json|yaml|toml|xml|cbor|plugin|bibliography)"
                         r"(\.\w+)?\s*\(|@(preview|local)/")
TYPST_PACKAGE = re.compile(r"@(preview|local)/[\w.-]*(:[\w.-]+)?")  # the name, not the closing quote
# In the project's own template: code run from a string, or a file or package named by anything but
# a plain quoted path, could hide a package ("@pre" + "view/…") from TYPST_PACKAGE and so reach the
# network or the user's local packages outside the project
TYPST_HIDDEN_LOAD = re.compile(r'\beval\b|\b(?:import|include)\b(?!\s+"[^"@]*")')
# Raw Word XML may format text; fields (INCLUDETEXT, INCLUDEPICTURE …), linked or embedded objects
# and sub-documents make Word fetch or run something when the DOCX is opened.
WORD_ACTIVE = re.compile(r"fldSimple|instrText|fldChar|altChunk|subDoc|r:link|TargetMode|OLEObject|w:object|"
                         r"imagedata|w:control|binData|w:pict|attachedTemplate", re.I)
FRONT_MATTER_RESOURCES = re.compile(r"^\s*(bibliography|csl|css|include-in-header|include-before-body|"
                                    r"include-after-body|template|reference-doc|metadata-files|image|logo)\s*:")
NETWORK = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class Inspection:
    document: dict
    images: set[Path] = field(default_factory=set)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def parse(text: str, pandoc: str, reader: str) -> dict:
    """The assembled Markdown as pandoc's JSON document (the reader only: it fetches nothing)."""
    result = subprocess.run([pandoc, "--from", reader, "--to", "json"], input=text, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise ToolError(_("tool.pandoc_read_failed", message=result.stderr.strip()))
    return json.loads(result.stdout)


def inspect(lines, root: Path, pandoc: str, reader: str, produced: Collection[Path] = ()) -> Inspection:
    """Check and clean the assembled book (a list of SourceLine); see the module docstring.

    `produced` are image files another stage is still writing (the figures drawn beside the
    assembly): they count as present and whole."""
    inspector = _Inspector(lines, root.resolve(), produced)
    document = parse("\n".join(line.text for line in lines) + "\n", pandoc, reader)
    document["blocks"] = inspector.walk(document["blocks"])
    inspector.check_front_matter()
    return Inspection(document, inspector.images, inspector.errors, inspector.warnings)


def inspect_cached(lines, root: Path, cache=None, produced: Collection[Path] = ()) -> Inspection:
    """`inspect`, reused from the cache while the sources, their files, the images they name and
    this code are unchanged (a failed inspection is never stored: its errors come back each time)."""
    from dataclasses import asdict

    from underlag.engine.cache import digest, file_hash
    from underlag.engine.messages import language
    from underlag.engine.render.pandoc import MARKDOWN, pandoc_path

    if cache is None:
        return inspect(lines, root, pandoc_path(), MARKDOWN, produced)
    sources = sorted({line.path for line in lines if line.path.is_file()})
    key = digest("inspect", [line.text for line in lines], [(relative(p, root), file_hash(p)) for p in sources],
                 Path(__file__).read_bytes(), nh3.__version__ if hasattr(nh3, "__version__") else "", pandoc_path(),
                 language())  # the stored warnings are text in the language of the run that stored them
    stored = cache.lookup("stage:inspect", key)
    document_file = root / ".underlag-cache" / "document.json"
    if stored is not None:
        document = json.loads(document_file.read_text("utf-8"))
        return Inspection(document, {root.resolve() / p for p in stored["images"]}, [],
                          [Problem(**w) for w in stored["warnings"]])
    inspection = inspect(lines, root, pandoc_path(), MARKDOWN, produced)
    if not inspection.errors:
        from underlag.engine.confine import output_path, prepare_area

        prepare_area(root, ".underlag-cache")  # never through a link: the writes are confined
        output_path(root, document_file).write_text(json.dumps(inspection.document, ensure_ascii=False), "utf-8")
        cache.store("stage:inspect", key, [document_file],
                    {"images": sorted(relative(p, root.resolve()) for p in inspection.images), "warnings": [asdict(w) for w in inspection.warnings]},
                    # a file still being written has no content to hold yet; its own stage keeps it whole
                    inputs=sorted(inspection.images - {p.resolve() for p in produced}))
    return inspection


def check_templates(root: Path, stylesheet: Path, typst_template: Path) -> list[Problem]:
    """The project's stylesheet and Typst template may not fetch or read anything outside either:
    no CSS url()/@import of an address or an outside file (pandoc embeds them), no Typst package
    (`@preview/…` comes from a package server)."""
    root = root.resolve()
    problems = []
    for path in (stylesheet, typst_template):
        if not path.is_file() or not path.resolve().is_relative_to(root):
            continue  # the templates this tool ships are held by its own tests
        shown = relative(path, root)
        for number, text in enumerate(path.read_text("utf-8").splitlines(), 1):
            if path == typst_template:
                named = [Problem(shown, number, m.start() + 1, _("sanitize.template_package", package=m.group(0)))
                         for m in TYPST_PACKAGE.finditer(text)]
                hidden = [] if named else [Problem(shown, number, m.start() + 1, _("sanitize.template_hidden_load",
                                                                                  word=m.group(0)))
                                           for m in TYPST_HIDDEN_LOAD.finditer(text)]
                problems += named + hidden
                continue
            for match in CSS_REFERENCE.finditer(text):
                address = (match.group(2) or match.group(4) or "").strip()
                if _remote(address):
                    problems.append(Problem(shown, number, match.start() + 1, _("sanitize.template_fetches", address=address)))
                elif address and not SCHEME.match(address) and not address.startswith("#") \
                        and not (path.parent / address).resolve().is_relative_to(root):
                    problems.append(Problem(shown, number, match.start() + 1, _("sanitize.template_outside", address=address)))
    return problems


PLAIN_TEXT = frozenset({"Str", "Space", "SoftBreak", "LineBreak"})  # elements holding no more than text


class _Inspector:
    def __init__(self, lines, root: Path, produced: Collection[Path] = ()):
        self.lines, self.root = lines, root
        self.produced = {path.resolve() for path in produced}
        self.chapters = [i for i, line in enumerate(lines) if line.text.startswith(CHAPTER_OPENING)]
        self.chapter = -1
        self.chapter_dir = root
        self.cursor = (0, 0)  # (line index, column) of the last place found
        self.images: set[Path] = set()
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    # -- locating -------------------------------------------------------------------------------
    def locate(self, *needles: str) -> tuple[str, int | None, int | None]:
        """file, line, column of the next occurrence of a needle (the first found) in the current
        chapter's lines."""
        start = self.chapters[self.chapter] if self.chapter >= 0 else 0
        end = self.chapters[self.chapter + 1] if self.chapter + 1 < len(self.chapters) else len(self.lines)
        firsts = [next((part.strip() for part in needle.splitlines() if part.strip()), "") for needle in needles]
        # the walk follows the source's order: search on from the last place found
        begin, after = self.cursor if start <= self.cursor[0] < end else (start, 0)
        places = [(begin, after), *((i, 0) for i in range(begin + 1, end)), *((i, 0) for i in range(start, begin + 1))]
        for candidate in [c for first in firsts for c in (first, unquote(first))]:
            for index, offset in places:
                column = self.lines[index].text.find(candidate, offset) if candidate else -1
                if column >= 0:
                    self.cursor = (index, column + 1)
                    line = self.lines[index]
                    return relative(line.path, self.root), line.line, column + 1
        line = self.lines[min(start, len(self.lines) - 1)]
        return relative(line.path, self.root), line.line, None

    def error(self, needle: str, message: str) -> None:
        problem = Problem(*self.locate(needle), message)
        if problem not in self.errors:  # an <img src> is checked twice: by the walk over lxml's parse and in nh3's filter
            self.errors.append(problem)

    def warn(self, message: str, *needles: str) -> None:
        self.warnings.append(Problem(*self.locate(*needles), message, "warning"))

    # -- walking the document -------------------------------------------------------------------
    def walk(self, node):
        if isinstance(node, list):
            result = []
            for item in node:
                result.extend(self.visit(item) if isinstance(item, dict) and "t" in item else [self.walk(item)])
            return result
        if isinstance(node, dict):
            return {key: self.walk(value) for key, value in node.items()}
        return node

    def visit(self, element: dict) -> list:
        kind, content = element["t"], element.get("c")
        if kind in PLAIN_TEXT:  # most of a book: nothing in them to check or clean
            return [element]
        if kind == "Div" and "chapter" in content[0][1]:
            self.chapter += 1
            source = dict(content[0][2]).get("source")
            # a {.chapter} div a writer wrote has no source: its paths count from the project, not its parent
            self.chapter_dir = (self.root / source).parent if source else self.root
        if kind in ("RawBlock", "RawInline"):
            return self.raw(element)
        if kind == "Link" and self.active_target(content[2][0], _("sanitize.what.link")):
            return self.walk(content[1])  # the link's text stays, its target goes
        if kind == "Image":
            self.image(content[2][0])
        position = {"Header": 1}.get(kind, 0)
        if kind in ("Code", "Link", "Image", "Span", "CodeBlock", "Header", "Div", "Table", "Figure"):
            content[position] = self.attributes(content[position])
        return [{**element, "c": self.walk(content)} if content is not None else element]

    def active_target(self, url: str, what: str) -> bool:
        scheme = SCHEME.match(url)
        if scheme and scheme.group(1).lower() in ACTIVE_SCHEMES:
            self.warn(_("sanitize.active_address", what=what, scheme=scheme.group(1).lower()), url)
            return True
        return False

    def attributes(self, attr: list) -> list:
        """Drop event handlers, resource attributes and style with url()/@import from {…} attributes."""
        identifier, classes, pairs = attr
        kept = []
        for key, value in pairs:
            name = key.lower()
            if name.startswith("on"):
                self.warn(_("sanitize.attribute_runs_code", name=key), value, key)
            elif name in RESOURCE_ATTRIBUTES:
                self.resource(value, _("sanitize.what.attribute", name=key), image=False)
                self.warn(_("sanitize.attribute_fetches", name=key), value, key)
            elif name == "style" and CSS_REFERENCE.search(value):
                for match in CSS_REFERENCE.finditer(value):
                    self.resource(match.group(2) or match.group(4), _("sanitize.what.css"), image=False)
                self.warn(_("sanitize.style_fetches"), value, key)
            else:
                kept.append([key, value])
        return [identifier, classes, kept]

    # -- resources ------------------------------------------------------------------------------
    def image(self, url: str) -> None:
        if url.strip().lower().startswith("data:"):
            self.error(url[:40], _("sanitize.image_data_url"))
            return
        self.resource(url, _("sanitize.what.image", url=url), image=True)

    def resource(self, url: str, what: str, image: bool) -> Path | None:
        """Refuse a network or outside address (an error); return the local file it names."""
        url = url.strip()
        if not url or url.startswith("#"):
            return None
        scheme = SCHEME.match(url)
        if _remote(url):
            self.error(url, _("sanitize.network", what=what, url=url))
            return None
        if scheme and scheme.group(1).lower() == "file":
            self.error(url, _("sanitize.file_url", what=what, url=url))
            return None
        if scheme:
            return None  # javascript:, data: …: active content, removed by the sanitizer
        path = unquote(url.split("#")[0].split("?")[0])
        target = self.root / path.lstrip("/") if path.startswith("/") else self.chapter_dir / path
        candidates = [target] if target.suffix or not image else [target.with_suffix(e) for e in IMAGE_EXTENSIONS]
        if not all(inside(c, self.root) for c in candidates):  # a link loop is not inside either
            self.error(url, _("sanitize.outside", what=what))
            return None
        missing = [c for c in candidates if not c.is_file() and c.resolve() not in self.produced]
        if missing:
            start = _("sanitize.from_root" if url.startswith("/") else "sanitize.from_chapter")
            self.error(url, _("sanitize.missing", what=what, path=relative(missing[0], self.root), start=start))
            return None
        if image:
            from underlag.engine.assemble import image_defect

            written = [c for c in candidates if c.resolve() not in self.produced]
            for broken in filter(None, map(image_defect, written)):
                self.error(url, _("sanitize.unreadable_image", what=what, reason=broken))
            self.images.update(c.resolve() for c in candidates)
        return candidates[0].resolve()

    # -- raw content ----------------------------------------------------------------------------
    def raw(self, element: dict) -> list:
        fmt, text = element["c"]
        fmt = fmt.lower()
        if fmt in ("html", "html4", "html5"):
            cleaned = self.clean_html(text)
            return [{**element, "c": [fmt, cleaned]}] if cleaned.strip() else []
        if fmt == "typst":
            for match in TYPST_LOADS.finditer(text):
                self.error(match.group(0), _("sanitize.typst_loads", code=match.group(0)))
            return [element]
        if fmt == "openxml" and WORD_ACTIVE.search(text):
            self.warn(_("sanitize.word_xml", element=WORD_ACTIVE.search(text).group(0)), text)
            return []
        return [element]  # other raw formats (latex …) are dropped by our writers

    def clean_html(self, text: str) -> str:
        """`text` cleaned by nh3, with a located warning per removed element or attribute."""
        for element in _parse_fragment(text).iter():
            if not isinstance(element.tag, str):
                continue
            for name, value in element.attrib.items():
                if name.lower() in RESOURCE_ATTRIBUTES and not (name.lower() == "href" and element.tag in NAVIGATION):
                    for address in _addresses(name.lower(), value):
                        local = self.resource(address, f"<{element.tag} {name}>", image=False)
                        if local is not None and element.tag == "img" and name.lower() == "src":
                            self.images.add(local)
                if name.lower() == "style":
                    for match in CSS_REFERENCE.finditer(value):
                        self.resource(match.group(2) or match.group(4), _("sanitize.what.css"), image=False)
            if element.tag == "style":
                for match in CSS_REFERENCE.finditer(element.text or ""):
                    self.resource(match.group(2) or match.group(4), _("sanitize.what.css_in_style"), image=False)
        cleaned = _sanitize(text, self.root_relative)
        for what in _removed(text, cleaned):
            self.warn(_("sanitize.html_removed", what=what), text)
        return cleaned

    def root_relative(self, tag: str, attribute: str, value: str) -> str | None:
        """pandoc embeds <img src> as a path from where it runs (the project root; "/x" from the
        file system's root): rewrite it to the project file the check resolved, or drop it."""
        if tag == "img" and attribute == "src":
            if SCHEME.match(value) or value.strip().startswith(("//", "\\\\")):
                # html5ever may read an address lxml missed (`<img/src=…>`): never let it through
                self.resource(value, "<img src>", image=False)
                return None
            path = unquote(value.split("#")[0].split("?")[0])
            target = (self.root / path.lstrip("/") if path.startswith("/") else self.chapter_dir / path).resolve()
            return target.relative_to(self.root).as_posix() if target.is_relative_to(self.root) else None
        if attribute == "style" and re.search(r"url\(|@import|expression\(|\\", value, re.I):
            return None  # a kept property with a url() value (or a CSS escape hiding one) is dropped too
        return value

    def check_front_matter(self) -> None:
        """A chapter's front matter may not name a network address for a resource (bibliography, csl …)."""
        for path in sorted({line.path for line in self.lines}):
            if not path.is_file():
                continue
            text = path.read_text("utf-8", errors="replace").splitlines()
            if not text or text[0].strip() != "---":
                continue
            key_is_resource = False
            for number, line in enumerate(text[1:], 2):
                if line.strip() in ("---", "..."):
                    break
                if re.match(r"^\s*[\w-]+\s*:", line):
                    key_is_resource = bool(FRONT_MATTER_RESOURCES.match(line))
                if key_is_resource and NETWORK.search(line):
                    self.errors.append(Problem(relative(path, self.root), number, NETWORK.search(line).start() + 1,
                                               _("sanitize.front_matter_network")))


def _remote(url: str) -> bool:
    url = url.strip()
    if url.startswith(("//", "\\\\")):
        return True
    scheme = SCHEME.match(url)
    return bool(scheme) and scheme.group(1).lower() not in (*ACTIVE_SCHEMES, "mailto", "tel") \
        and len(scheme.group(1)) > 1  # a Windows drive letter C: is not a scheme


def _addresses(attribute: str, value: str) -> list[str]:
    if attribute.endswith("srcset"):
        return [part.strip().split()[0] for part in value.split(",") if part.strip()]
    return [value]


def _parse_fragment(text: str):
    try:
        return lxml_html.fragment_fromstring(text, create_parent="div")
    except Exception:  # lxml refuses some malformed fragments: nothing to inspect, nh3 still cleans
        return lxml_html.fragment_fromstring("<div></div>")


def _sanitize(text: str, rewrite) -> str:
    """nh3 on the fragment. pandoc hands raw HTML over one tag at a time (`<span class="x">`, text,
    `</span>`): a lone start tag is cleaned in its context and kept open, a lone end tag is kept when
    its element is allowed, so markup around Markdown text keeps its structure."""
    def clean(fragment: str) -> str:
        return nh3.clean(fragment, tags=ALLOWED_TAGS, clean_content_tags=REMOVED_WITH_CONTENT,
                         attributes=ALLOWED_ATTRIBUTES, attribute_filter=rewrite, url_schemes=URL_SCHEMES,
                         filter_style_properties=STYLE_PROPERTIES, link_rel=None, strip_comments=True)

    end = END_TAG.fullmatch(text)
    if end:
        return text.strip() if end.group(1).lower() in ALLOWED_TAGS - VOID_TAGS else ""
    start = START_TAG.fullmatch(text)
    if start:
        name = start.group(1).lower()
        cleaned = clean(TABLE_CONTEXT.get(name, "") + text.strip())
        tag = re.search(rf"<{re.escape(name)}\b[^>]*>", cleaned)
        return tag.group(0) if tag else ""
    return clean(text)


def _removed(original: str, cleaned: str) -> list[str]:
    """What the sanitizer took away, as phrases in the writer's language: elements, attributes, changed values."""
    def inventory(text: str) -> tuple[Counter, Counter]:
        # tags as written (a parser may drop a <body> or <html> silently), attributes as parsed
        tags = Counter(name.lower() for name in re.findall(r"<([a-zA-Z][\w:-]*)", text))
        attributes = Counter()
        for element in _parse_fragment(text).iter():
            if isinstance(element.tag, str):
                # a style nh3 filtered counts as removed: the value is part of the key
                attributes.update((element.tag, name.lower(), value if name.lower() == "style" else "")
                                  for name, value in element.attrib.items())
        return tags, attributes

    before_tags, before_attributes = inventory(original)
    after_tags, after_attributes = inventory(cleaned)
    found = [_("sanitize.what.element", tag=tag) for tag in (before_tags - after_tags)]
    found += [_("sanitize.what.attribute_on", name=name, tag=tag) for tag, name, _value in (before_attributes - after_attributes)
              if tag not in (before_tags - after_tags)]
    return found

