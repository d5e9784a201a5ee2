"""A hostile contributor's corpus (issue 13, items 4, 5, 6 and 8): every way a source can name a
local file outside the project or a network address is refused with file:line before any tool
runs; active content is removed with a located warning (an error under --strict) and does not
run in Chromium; the personal-data guard sees through variables, metadata, includes, look-alike
dashes and spaces. A spy HTTP server on 127.0.0.1 is named in every way and must get no request.

Each case asserts the exact outcome: exit status, the Swedish message at its file:line, no
outside content in any output, zero requests to the spy, no script run."""

from __future__ import annotations

import base64
import re
import shutil
import threading
import zipfile
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SpyServer

from underlag.commands.cli import main
from underlag.engine.messages import ENGINE, language
from underlag.engine.messages import text as msg

FIXTURE = Path(__file__).parent / "fixtures" / "plain-book"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CANARY = "KANARIEFAGEL-UTANFOR-PROJEKTET"
CHAPTER = "chapters/tva.qmd"


@pytest.fixture(scope="module")
def spy():
    server = SpyServer()
    yield server
    server.close()


@pytest.fixture()
def outside(tmp_path) -> Path:
    """A folder next to the project with a canary file an attacker wants in the outputs."""
    folder = tmp_path / "utanfor"
    folder.mkdir()
    (folder / "hemlig.png").write_text(CANARY + "\n", "utf-8")
    (folder / "hemlig.css").write_text(f"body {{ content: '{CANARY}' }}\n", "utf-8")
    return folder


def book(tmp_path: Path) -> Path:
    project = tmp_path / "bok"
    shutil.copytree(FIXTURE, project)
    return project


def add(project: Path, text: str, name: str = CHAPTER) -> None:
    path = project / name
    path.write_text(path.read_text("utf-8").rstrip("\n") + "\n\n" + text + "\n", "utf-8")


def line_of(project: Path, name: str, needle: str) -> int:
    """The line of `name` that holds `needle` (the place a message must name)."""
    lines = (project / name).read_text("utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def outputs_text(project: Path) -> str:
    """Everything in report/ as text (bytes as latin-1)."""
    report = project / "report"
    return "".join(p.read_bytes().decode("latin-1") for p in report.rglob("*") if p.is_file()) \
        if report.is_dir() else ""


def leaked(project: Path) -> bool:
    """Whether the canary or /etc/passwd reached an output, as text or embedded as base64."""
    text = outputs_text(project)
    secrets = [CANARY.encode(), b"root:x:0:0"]
    return any(s.decode() in text or base64.b64encode(s)[:12].decode() in text for s in secrets)


# -- refused: a local file outside the project or a network address (items 4 and 6) ---------------
# (id, text added to the chapter, the text on the line the message names, the message)


def part(key: str) -> str:
    """The longest fixed stretch of a catalogue message (between its placeholders), in the language
    the tests run in (read when the module loads): what every line with that message holds."""
    return max(re.split(r"\{[^{}]*\}", ENGINE.entries(language())[key]), key=len).strip()


NETWORK = part("sanitize.network")
OUTSIDE = part("sanitize.outside")
MISSING = part("sanitize.missing")
REFUSED = [
    ("markdown-image-remote", "![Karta]({spy}/inline.png)", "inline.png", NETWORK),
    ("markdown-image-reference-remote", "Se ![Karta][karta].\n\n[karta]: {spy}/reference.png", "[karta]:", NETWORK),
    ("markdown-image-reference-outside", "Se ![Karta][k2].\n\n[k2]: ../../utanfor/hemlig.png", "[k2]:", OUTSIDE),
    ("markdown-image-attributes-remote", "![Karta]({spy}/attr.png){{width=50% fig-alt=\"x\"}}", "attr.png", NETWORK),
    ("markdown-image-absolute-outside", "![Karta]({outside}/hemlig.png)", "hemlig.png", MISSING),
    ("markdown-image-relative-outside", "![Karta](../../utanfor/hemlig.png)", "hemlig.png", OUTSIDE),
    ("markdown-image-file-url", "![Karta](file://{outside}/hemlig.png)", "file://", part("sanitize.file_url")),
    ("markdown-image-protocol-relative", "![Karta](//127.0.0.1:{port}/pr.png)", "pr.png", NETWORK),
    ("markdown-image-data-url", "![Karta](data:image/png;base64,iVBORw0KGgo=)", "data:image", msg("sanitize.image_data_url")),
    ("html-img-etc-passwd", '<img src="/etc/passwd" alt="x">', "/etc/passwd", MISSING),
    ("html-img-absolute-outside", '<img src="{outside}/hemlig.png" alt="x">', "hemlig.png", MISSING),
    ("html-img-relative-outside", '<img src="../../utanfor/hemlig.png" alt="x">', "hemlig.png", OUTSIDE),
    ("html-img-remote", '<img src="{spy}/img.png" alt="x">', "img.png", NETWORK),
    ("html-img-slash-separator", '<img/src="{spy}/slash.png" alt="x">', "slash.png", NETWORK),
    ("html-img-uppercase-spaces", '<IMG SRC = "{spy}/upper.png" alt="x">', "upper.png", NETWORK),
    ("html-img-encoded-outside", '<img src="%2e%2e/%2e%2e/utanfor/hemlig.png" alt="x">', "hemlig.png", OUTSIDE),
    ("html-img-srcset-remote", '<img src="../bilder/stapel.png" srcset="{spy}/srcset.png 2x" alt="x">',
     "srcset.png", NETWORK),
    ("html-link-stylesheet", '<link rel="stylesheet" href="{spy}/style.css">', "style.css", NETWORK),
    ("html-link-outside", '<link rel="stylesheet" href="../../utanfor/hemlig.css">', "hemlig.css", OUTSIDE),
    ("html-script-src", '<script src="{spy}/script.js"></script>', "script.js", NETWORK),
    ("html-video-poster", '<video poster="{spy}/poster.png"></video>', "poster.png", NETWORK),
    ("html-iframe-src", '<iframe src="{spy}/frame.html"></iframe>', "frame.html", NETWORK),
    ("html-object-data", '<object data="{spy}/object.svg"></object>', "object.svg", NETWORK),
    ("html-svg-image-href", '<svg><image href="{spy}/svgimage.png"/></svg>', "svgimage.png", NETWORK),
    ("html-style-attribute-url", '<div style="background:url({spy}/bg.png)">x</div>', "bg.png", NETWORK),
    ("html-style-element-import", '<style>@import "{spy}/import.css";</style>', "import.css", NETWORK),
    ("html-style-element-url", "<style>body {{ background: url('{spy}/body.png') }}</style>", "body.png", NETWORK),
    ("html-raw-block", '```{{=html}}\n<img src="{spy}/rawblock.png" alt="x">\n```', "rawblock.png", NETWORK),
    ("pandoc-attribute-style-url", '[text]{{style="background-image:url({spy}/span.png)"}}', "span.png", NETWORK),
    ("pandoc-attribute-src", '[text]{{src="{spy}/spansrc.png"}}', "spansrc.png", NETWORK),
    ("typst-package-import", '`#import "@preview/cetz:0.2.2"`{{=typst}}', "@preview", part("sanitize.typst_loads")),
    ("typst-image-remote", '```{{=typst}}\n#image("{spy}/typst.png")\n```', "#image(", part("sanitize.typst_loads")),
    ("typst-read", '`#read("/etc/passwd")`{{=typst}}', "#read(", part("sanitize.typst_loads")),
]


def fill(text: str, spy: SpyServer, outside: Path) -> str:
    return text.format(spy=spy.url, outside=outside, port=spy.port)


@pytest.mark.parametrize("case, text, needle, message", REFUSED, ids=[c[0] for c in REFUSED])
def test_outside_and_network_references_are_refused_before_any_tool_runs(tmp_path, capsys, spy, outside,
                                                                         case, text, needle, message):
    project = book(tmp_path)
    add(project, fill(text, spy, outside))
    before = len(spy.requests)
    assert main(["build", "--project", str(project)]) == 2
    errors = capsys.readouterr().err
    place = f"{CHAPTER}:{line_of(project, CHAPTER, fill(needle, spy, outside))}:"
    assert any(line.startswith(place) and message in line for line in errors.splitlines()), errors
    assert "Traceback" not in errors
    assert spy.requests[before:] == []
    assert not (project / "report").exists() or not any((project / "report").glob("*.*"))
    assert not leaked(project)


@pytest.mark.parametrize("where, text, needle, message", [
    ("_quarto.yml", "bibliography: {spy}/refs.bib\n", "refs.bib", part("book.network_address")),
    ("_quarto.yml", "csl: {spy}/style.csl\n", "style.csl", part("book.network_address")),
    (CHAPTER, None, "front.bib", msg("sanitize.front_matter_network")),
    ("templates/html/style.css", '@import url("{spy}/theme.css");\n', "theme.css", part("sanitize.template_fetches")),
    ("templates/html/style.css", "body {{ background: url(../../../utanfor/hemlig.png) }}\n", "hemlig.png",
     part("sanitize.template_outside")),
    ("templates/typst/report.typ", '#import "@preview/cetz:0.2.2": canvas\n', "@preview", part("sanitize.template_package")),
], ids=["quarto-bibliography", "quarto-csl", "front-matter-bibliography", "stylesheet-import",
        "stylesheet-outside-file", "typst-template"])
def test_book_level_references_are_refused(tmp_path, capsys, spy, outside, where, text, needle, message):
    project = book(tmp_path)
    path = project / where
    if where == CHAPTER:
        path.write_text(f"---\ntitle: Andra\nbibliography: {spy.url}/front.bib\n---\n\n" + path.read_text("utf-8"))
    elif where.startswith("templates/"):
        from underlag.engine.render.pandoc import DEFAULT_TEMPLATES

        path.parent.mkdir(parents=True, exist_ok=True)
        shipped = (DEFAULT_TEMPLATES / where.split("/", 1)[1]).read_text("utf-8")
        path.write_text(fill(text, spy, outside) + shipped, "utf-8")
    else:
        path.write_text(path.read_text("utf-8") + fill(text, spy, outside), "utf-8")
    before = len(spy.requests)
    assert main(["build", "--project", str(project)]) == 2
    errors = capsys.readouterr().err
    place = f"{where}:{line_of(project, where, fill(needle, spy, outside))}:"
    assert any(line.startswith(place) and message in line for line in errors.splitlines()), errors
    assert spy.requests[before:] == []
    assert not (project / "report").exists() or not any((project / "report").glob("*.*"))


def test_every_network_reference_at_once_gets_no_request(tmp_path, capsys, spy, outside, monkeypatch):
    """All of the above in one copied book, built with every client pointed at the spy as its
    proxy too: exit 2, one located message per reference, and not a single request."""
    project = book(tmp_path)
    for _, text, _, _ in REFUSED:
        add(project, fill(text, spy, outside))
    for variable, value in spy.proxy_environment().items():
        monkeypatch.setenv(variable, value)
    before = len(spy.requests)
    assert main(["build", "--project", str(project)]) == 2
    errors = capsys.readouterr().err
    located = {int(line.split(":")[1]) for line in errors.splitlines() if line.startswith(CHAPTER + ":")}
    expected = {line_of(project, CHAPTER, fill(needle, spy, outside)) for _, _, needle, _ in REFUSED}
    assert expected <= located, (sorted(expected - located), errors)
    assert spy.requests[before:] == []


# -- cleaned: active content removed with a located warning (item 5) ------------------------------
# (id, text, the text on the line the warning names); each payload would set window.pwned = N
CLEANED = [
    ("script-inline", "Text <script>window.pwned=1</script> mer text.", "pwned=1"),
    ("script-block", "<script type=\"text/javascript\">\nwindow.pwned=2; document.title='pwned'\n</script>",
     "<script type="),
    ("img-onerror", '<img src="../bilder/stapel.png" alt="Staplar" onerror="window.pwned=3">', "pwned=3"),
    ("svg-onload", '<svg onload="window.pwned=4"><circle r="1"/></svg>', "pwned=4"),
    ("iframe-javascript", '<iframe src="javascript:parent.pwned=5"></iframe>', "pwned=5"),
    ("markdown-link-javascript", "[klicka](javascript:window.pwned=6)", "pwned=6"),
    ("html-link-javascript", '<a href="javascript:window.pwned=7">klicka</a>', "pwned=7"),
    ("details-ontoggle", '<details open ontoggle="window.pwned=8"><summary>S</summary>x</details>', "pwned=8"),
    ("pandoc-attribute-onclick", '[text]{onclick="window.pwned=9"}', "pwned=9"),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:window.pwned=10">', "pwned=10"),
    ("raw-html-block", '```{=html}\n<body onload="window.pwned=11">\n```', "pwned=11"),
    ("img-data-svg", '<img alt="x" src="data:image/svg+xml,&lt;svg onload=window.pwned=12&gt;">', "pwned=12"),
    ("entity-javascript", '<a href="&#106;avascript:window.pwned=13">klicka</a>', "pwned=13"),
    ("markdown-link-file", "[lösenord](file:///etc/passwd?pwned=14)", "pwned=14"),
    ("style-element", "<style>body { color: red } /* pwned=15 */</style>", "pwned=15"),
    ("native-div-onclick", '<div onclick="window.pwned=16">\nInnehåll\n</div>', "pwned=16"),
    ("form-action", '<form action="javascript:window.pwned=17"><button>Skicka</button></form>', "pwned=17"),
    ("object-embed", '<embed src="javascript:window.pwned=18">', "pwned=18"),
    ("vbscript-link", '<a href="vbscript:msgbox(pwned=19)">x</a>', "pwned=19"),
    ("base-href", '<base href="javascript:window.pwned=20//">', "pwned=20"),
    ("openxml-field", '```{=openxml}\n<w:p><w:fldSimple w:instr="INCLUDETEXT pwned=21"/></w:p>\n```', "pwned=21"),
]
# every warning for removed active content says it was removed (one of these messages)
WARNED = tuple(part(key) for key in ("sanitize.active_address", "sanitize.attribute_runs_code", "sanitize.attribute_fetches",
                                     "sanitize.style_fetches", "sanitize.word_xml", "sanitize.html_removed"))


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory, spy):
    """One book holding every cleaned payload (and a harmless link to the spy), built in all formats."""
    project = book(tmp_path_factory.mktemp("cleaned"))
    for _, text, _ in CLEANED:
        add(project, text)
    add(project, f"Ett vanligt stycke med [en länk]({spy.url}/link) och <abbr title=\"Europeiska unionen\">EU</abbr>.")
    import subprocess
    import sys

    before = len(spy.requests)
    result = subprocess.run([sys.executable, "-m", "underlag", "build"], cwd=project, capture_output=True,
                            text=True)
    strict = subprocess.run([sys.executable, "-m", "underlag", "check", "--strict"], cwd=project,
                            capture_output=True, text=True)
    return {"project": project, "result": result, "strict": strict, "requests": spy.requests[before:]}


@pytest.mark.parametrize("case, text, needle", CLEANED, ids=[c[0] for c in CLEANED])
def test_active_content_is_removed_with_a_located_warning(cleaned, case, text, needle):
    project, result = cleaned["project"], cleaned["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    place = f"{CHAPTER}:{line_of(project, CHAPTER, needle)}:"
    warnings = [line for line in result.stderr.splitlines() if line.startswith(place) and "warning:" in line]
    assert warnings and all(any(said in line for said in WARNED) for line in warnings), result.stderr
    page = (project / "report/beslutsunderlag.html").read_text("utf-8")
    word = zipfile.ZipFile(project / "report/beslutsunderlag.docx").read("word/document.xml").decode()
    number = re.search(r"pwned=(\d+)", text).group(1)
    assert f"pwned={number}" not in page and f"pwned={number}" not in word
    strict = cleaned["strict"]
    assert strict.returncode == 2 and any(line.startswith(place) for line in strict.stderr.splitlines())


def test_cleaned_html_keeps_harmless_markup_and_fetches_nothing(cleaned):
    from lxml import html

    assert cleaned["requests"] == []
    page = html.parse(str(cleaned["project"] / "report/beslutsunderlag.html")).getroot()
    assert page.xpath("//abbr[@title='Europeiska unionen']/text()") == ["EU"]
    assert not page.xpath("//script | //iframe | //object | //embed | //form | //base | //link | //svg | "
                          "//style[not(ancestor::head)] | //meta[@http-equiv='refresh']")
    for element in page.iter():
        assert not [name for name in element.attrib if name.lower().startswith("on")], element.tag
    assert not [a for a in page.xpath("//a/@href") if a.strip().lower().startswith(("javascript", "vbscript",
                                                                                        "file", "data"))]
    policy = page.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert policy and "default-src 'none'" in policy[0] and "script-src" not in policy[0]
    images = page.xpath("//img/@src")
    assert images and all(src.startswith("data:image/") for src in images)  # our own embedded images only


def _open(path_or_url: str, spy: SpyServer | None = None):
    """(window.pwned, document.title, CSP violations) after loading the page in Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            violations: list[str] = []
            page.on("console", lambda message: violations.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(path_or_url, wait_until="load")
            return page.evaluate("window.pwned"), page.title(), violations
        finally:
            browser.close()


def test_no_payload_runs_in_chromium(cleaned, spy):
    before = len(spy.requests)
    pwned, title, _ = _open((cleaned["project"] / "report/beslutsunderlag.html").as_uri())
    assert pwned is None and title == "Liten testbok"
    assert spy.requests[before:] == []


def test_the_content_security_policy_stops_a_script_that_got_through(cleaned, tmp_path, spy):
    """Defence in depth: a script put into the built page by hand is blocked by the page's policy."""
    page = (cleaned["project"] / "report/beslutsunderlag.html").read_text("utf-8")
    forged = tmp_path / "forged.html"
    forged.write_text(page.replace("</body>", f'<script>window.pwned=99</script><img src="{spy.url}/csp.png" '
                                              'alt=""></body>'), "utf-8")
    before = len(spy.requests)
    pwned, _, violations = _open(forged.as_uri())
    assert pwned is None and violations
    assert spy.requests[before:] == []


def test_the_preview_runs_its_reload_script_and_nothing_else(cleaned):
    """The preview widens the policy for exactly its reload script (by hash): it runs, and the
    page reloads when the build number changes; a hostile inline script still does not run."""
    from playwright.sync_api import sync_playwright

    from underlag.commands.preview import State, make_handler
    from underlag.commands.preview_page import served_page

    page_html = (cleaned["project"] / "report/beslutsunderlag.html").read_text("utf-8")
    hostile = page_html.replace("</body>", "<script>window.pwned=98</script></body>")
    state = State(version=1, page_version=1, page=hostile, served=served_page(hostile, "", 1, 1))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/", wait_until="load")
                assert page.evaluate("window.pwned") is None
                page.evaluate("window.marker = 1")
                with page.expect_event("load", timeout=20_000):  # the reload script saw the new version
                    with state.lock:
                        state.version += 1
                        state.page_version += 1
                assert page.evaluate("window.marker") is None and page.evaluate("window.pwned") is None
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def test_the_cleaned_book_still_builds_docx_and_pdf_without_outside_content(cleaned):
    project = cleaned["project"]
    for name in ("beslutsunderlag.docx", "beslutsunderlag.pdf"):
        assert (project / "report" / name).is_file()
    assert not leaked(project)


# -- the personal-data guard (item 8) --------------------------------------------------------------
PNR = "19121212-1212"


def _scan(project: Path) -> list[str]:
    from underlag.engine.privacy import scan_project

    return [str(problem) for problem in scan_project(project)]


# (id, {file: text appended}, file and needle of the line the warning must name, what it names)
PRIVACY = [
    ("variable", {"_variables.yml": f"kontakt: \"{PNR}\"\n", CHAPTER: "Kontakt: {{< var kontakt >}}."},
     "_variables.yml", "kontakt:", lambda: msg("privacy.identity")),
    ("meta", {"_quarto.yml": f"handlaggare: \"{PNR}\"\n", CHAPTER: "Handläggare: {{< meta handlaggare >}}."},
     "_quarto.yml", "handlaggare:", lambda: msg("privacy.identity")),
    ("include-outside-chapters", {"underlag/pnr.md": f"Patient {PNR}.\n",
                                  CHAPTER: "{{< include ../underlag/pnr.md >}}"},
     "underlag/pnr.md", "Patient", lambda: msg("privacy.identity")),
    ("metadata-file", {"meta/extra.yml": f"ansvarig: \"{PNR}\"\n", "_quarto.yml": "metadata-files: [meta/extra.yml]\n",
                       CHAPTER: "Ansvarig: {{< meta ansvarig >}}."}, "meta/extra.yml", "ansvarig:", lambda: msg("privacy.identity")),
    ("put-together-by-variable", {"_variables.yml": "slut: \"1212\"\n", CHAPTER: "Nummer 19121212-{{< var slut >}}."},
     CHAPTER, "Nummer", lambda: msg("privacy.identity")),
    ("en-dash", {CHAPTER: "Patient 19121212\u20131212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("em-dash", {CHAPTER: "Patient 19121212\u20141212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("non-breaking-hyphen", {CHAPTER: "Patient 19121212\u20111212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("minus-sign", {CHAPTER: "Patient 19121212\u22121212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("spaces", {CHAPTER: "Patient 1912 12 12-1212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("no-break-spaces", {CHAPTER: "Patient 1912\u00a012\u202f12-1212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("no-separator", {CHAPTER: "Patient 191212121212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("short-form", {CHAPTER: "Patient 121212-1212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("markdown-escape", {CHAPTER: "Patient 19121212\\-1212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("html-entity", {CHAPTER: "Patient 19121212&ndash;1212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("soft-hyphen-inside", {CHAPTER: "Patient 1912\u00ad1212-1212."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("samordningsnummer", {CHAPTER: "Patient 701063-2391."}, CHAPTER, "Patient", lambda: msg("privacy.identity")),
    ("phone-stockholm", {CHAPTER: "Ring 08-123 456 78."}, CHAPTER, "Ring", lambda: msg("privacy.phone", text="08-123 456 78")),
    ("phone-mobile-plain", {CHAPTER: "Ring 0701234567."}, CHAPTER, "Ring", lambda: msg("privacy.phone", text="0701234567")),
    ("phone-mobile-grouped", {CHAPTER: "Ring 070-123 45 67."}, CHAPTER, "Ring", lambda: msg("privacy.phone", text="070-123 45 67")),
    ("phone-international-0", {CHAPTER: "Ring +46 (0)31-123 45 67."}, CHAPTER, "Ring",
     lambda: msg("privacy.phone", text="+46 (0)31-123 45 67")),
    ("phone-international", {CHAPTER: "Ring +46 70 123 45 67."}, CHAPTER, "Ring", lambda: msg("privacy.phone", text="+46 70 123 45 67")),
    ("phone-short-area", {CHAPTER: "Ring 031-12 34 56."}, CHAPTER, "Ring", lambda: msg("privacy.phone", text="031-12 34 56")),
    ("phone-no-break-hyphen", {CHAPTER: "Ring 031\u2011123\u00a045\u00a067."}, CHAPTER, "Ring", lambda: part("privacy.phone")),
    ("data-yaml-folded", {"data/handelser.yaml": f"handelser:\n  - text: >\n      Patienten med nummer\n"
                                                  f"      19121212-\n      1212 ringde.\n"},
     "data/handelser.yaml", "text: >", lambda: msg("privacy.identity")),
    ("data-csv-cell", {"data/personer.csv": f"namn;nummer\nAnna;{PNR}\n"}, "data/personer.csv", "Anna", lambda: msg("privacy.identity")),
    ("email", {CHAPTER: "Skriv till anna.andersson@example.se."}, CHAPTER, "Skriv", lambda: part("privacy.email")),
]


def _write(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            add(project, text, name) if name.endswith((".qmd", ".md")) else \
                path.write_text(path.read_text("utf-8") + text, "utf-8")
        else:
            path.write_text(text, "utf-8")


@pytest.mark.parametrize("case, files, where, needle, what", PRIVACY, ids=[c[0] for c in PRIVACY])
def test_personal_data_is_found_at_its_source(tmp_path, case, files, where, needle, what):
    project = book(tmp_path)
    _write(project, files)
    found = _scan(project)
    place = f"{where}:{line_of(project, where, needle)}:"
    assert [f for f in found if f.startswith(place) and what() in f and part("privacy.found") in f], found
    assert len(found) == 1, found  # one datum, one warning: not again where the expansion shows it


def test_personal_data_in_variables_fails_check_under_strict_and_names_the_source(tmp_path, capsys):
    project = book(tmp_path)
    _write(project, PRIVACY[0][1])
    assert main(["check", "--strict", "--project", str(project)]) == 2
    assert f"_variables.yml:{line_of(project, '_variables.yml', 'kontakt:')}:" in capsys.readouterr().err


CONTACT = "Kontaktperson: Anna Andersson, utredare, anna.andersson@vgregion.se, 010\u2011123\u00a045\u00a067."


def test_the_reports_own_contact_person_is_allowed_by_a_named_entry(tmp_path):
    project = book(tmp_path)
    add(project, CONTACT)
    assert len(_scan(project)) == 2  # the e-mail and the phone number
    allow = project / "data/tillatna-uppgifter.yaml"
    allow.parent.mkdir()
    allow.write_text("allowed:\n"
                     "  - value: anna.andersson@vgregion.se\n    reason: Handläggarens e-post i beslutsunderlaget\n"
                     "  - value: 010-123 45 67\n    reason: Handläggarens telefon i beslutsunderlaget\n", "utf-8")
    assert _scan(project) == []
    add(project, "Annan kontakt: 010-123 45 68.")  # an allowed value covers exactly that value
    assert len(_scan(project)) == 1


def test_an_allow_list_entry_must_say_why(tmp_path):
    project = book(tmp_path)
    add(project, "Ring 010-123 45 67.")
    allow = project / "data/tillatna-uppgifter.yaml"
    allow.parent.mkdir()
    allow.write_text("allowed:\n  - value: 010-123 45 67\n", "utf-8")
    found = _scan(project)
    assert any(f.startswith("data/tillatna-uppgifter.yaml:2:") and "reason:" in f for f in found), found
    allow.write_text("allowed: [010-123 45 67]\n", "utf-8")  # the older form, without a reason, still works
    assert _scan(project) == []
    allow.write_text("- 010-123 45 67\n", "utf-8")  # a list instead of allowed: located, not a traceback
    assert any(f.startswith("data/tillatna-uppgifter.yaml:1:") for f in _scan(project))


def test_a_cached_check_is_not_trusted_once_a_named_file_changes(tmp_path, capsys):
    """The checked document is cached; an image deleted after a good build is refused at file:line
    again, not handed to pandoc."""
    project = book(tmp_path)
    add(project, '<img src="../bilder/stapel.png" alt="Staplar">')
    assert main(["build", "--format", "html", "--project", str(project)]) == 0
    (project / "bilder/stapel.png").unlink()
    assert main(["build", "--format", "html", "--project", str(project)]) == 2
    assert f"{CHAPTER}:{line_of(project, CHAPTER, '<img')}:" in capsys.readouterr().err
