"""The Word review round trip: the real report's DOCX, edited the way reviewers edit (comments
with python-docx, tracked changes and replies in raw WordprocessingML), also saved again by
real LibreOffice; `underlag review` must put each at the right file and line, and `--apply`
must write exactly the reviewer's text into the chapter."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import build_project, copy_project, docx_text, pdf_text, underlag
from lxml import etree

# The review's listing is quoted as a Swedish writer reads it (the default language; the keys are
# review.* in the engine's catalogue, and tests/test_messages.py holds both languages).
pytestmark = pytest.mark.usefixtures("swedish_messages")

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
REVIEWER, WRITER, EDITOR = "Anna Granskare", "Bo Skribent", "Cilla Jurist"
DATE = "2026-03-02T10:15:00Z"
# What the reviewers touch: texts that the report's sources hold (each test finds its line itself)
PROSE = "Införandet är nu pausat."  # chapters/03-bakgrund.qmd
VARIABLE_TEXT = "Oracle Millennium"  # from {{< var system.nuvarande >}} in the same paragraph
HEADING = "Fördjupad beskrivning: bakgrund och uppdrag"
CELL = "Beslut att starta uppdrag"  # milestone MS1's name, a generated table cell
DELETED, INSERTED = "nu", "sedan hösten 2024"
UNTRACKED = ("Arbetet delas in i två faser.", "Arbetet delas in i tre faser.")  # edited with tracking off
REMOVED = "Vid sidan av faserna pågår"  # a paragraph deleted with tracking off


# --- editing a DOCX the way reviewers do --------------------------------------------------


def paragraph_with(document, text: str, style: str | None = None):
    paragraphs = list(document.paragraphs) + [p for t in document.tables for row in t.rows
                                              for cell in row.cells for p in cell.paragraphs]
    for paragraph in paragraphs:
        if text in paragraph.text and (style is None or paragraph.style.name.startswith(style)):
            return paragraph
    raise AssertionError(f"no paragraph with {text!r}")


def isolate(paragraph, text: str):
    """The run holding exactly `text`, splitting the run it stands in (pandoc writes a run per few words)."""
    for run in paragraph.runs:
        if text in run.text:
            before, _, after = run.text.partition(text)
            element = run._r
            for part, at in ((before, "before"), (after, "after")):
                if part:
                    clone = copy.deepcopy(element)
                    clone.find(f"{W}t").text = part
                    clone.find(f"{W}t").set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                    element.addprevious(clone) if at == "before" else element.addnext(clone)
            element.find(f"{W}t").text = text
            return run
    # the text spans several runs: merge the paragraph's plain runs first
    runs = paragraph.runs
    joined = "".join(r.text for r in runs)
    assert text in joined, (text, joined)
    runs[0].text = joined
    for run in runs[1:]:
        run._r.getparent().remove(run._r)
    return isolate(paragraph, text)


def track_replace(paragraph, old: str, new: str, author: str = REVIEWER, number: int = 900) -> None:
    """A tracked deletion of `old` and insertion of `new`, as Word writes them."""
    run = isolate(paragraph, old)._r
    deletion = etree.SubElement(run.getparent(), f"{W}del", {f"{W}id": str(number), f"{W}author": author,
                                                              f"{W}date": DATE})
    run.addprevious(deletion)
    deletion.append(run)
    run.find(f"{W}t").tag = f"{W}delText"
    insertion = etree.Element(f"{W}ins", {f"{W}id": str(number + 1), f"{W}author": author, f"{W}date": DATE})
    added = copy.deepcopy(run)
    added.find(f"{W}delText").tag = f"{W}t"
    added.find(f"{W}t").text = new
    insertion.append(added)
    deletion.addnext(insertion)


def add_comment(document, paragraph, text: str, comment: str, author: str = REVIEWER):
    run = isolate(paragraph, text)
    return document.add_comment(run, text=comment, author=author, initials="AG")


def add_reply(path: Path, parent_text: str, reply: str, author: str = WRITER) -> None:
    """A threaded reply, the way Word stores one: a comment of its own plus commentsExtended."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    comments = etree.fromstring(parts["word/comments.xml"])
    parent = next(c for c in comments.iter(f"{W}comment") if parent_text in "".join(c.itertext()))
    parent_id = parent.get(f"{W}id")
    reply_id = str(max(int(c.get(f"{W}id")) for c in comments.iter(f"{W}comment")) + 1)
    parent.find(f"{W}p").set(f"{{{W14}}}paraId", "1A2B3C4D")
    element = etree.SubElement(comments, f"{W}comment", {f"{W}id": reply_id, f"{W}author": author,
                                                          f"{W}date": DATE, f"{W}initials": "BS"})
    paragraph = etree.SubElement(element, f"{W}p", {f"{{{W14}}}paraId": "5E6F7A8B"})
    etree.SubElement(etree.SubElement(paragraph, f"{W}r"), f"{W}t").text = reply
    parts["word/comments.xml"] = etree.tostring(comments, xml_declaration=True, encoding="UTF-8", standalone=True)
    document = parts["word/document.xml"].decode()
    # the reply covers the same range as its parent
    document = document.replace(f'<w:commentRangeStart w:id="{parent_id}"/>',
                                f'<w:commentRangeStart w:id="{parent_id}"/><w:commentRangeStart w:id="{reply_id}"/>')
    document = document.replace(f'<w:commentRangeEnd w:id="{parent_id}"/>',
                                f'<w:commentRangeEnd w:id="{parent_id}"/><w:commentRangeEnd w:id="{reply_id}"/>'
                                f'<w:r><w:commentReference w:id="{reply_id}"/></w:r>')
    parts["word/document.xml"] = document.encode()
    parts["word/commentsExtended.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:commentsEx xmlns:w15="{W15}">'
        f'<w15:commentEx w15:paraId="1A2B3C4D" w15:done="0"/>'
        f'<w15:commentEx w15:paraId="5E6F7A8B" w15:paraIdParent="1A2B3C4D" w15:done="0"/></w15:commentsEx>').encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/word/commentsExtended.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.wordprocessingml.commentsExtended+xml"/></Types>')
    parts["word/_rels/document.xml.rels"] = parts["word/_rels/document.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdReplies" Type="http://schemas.microsoft.com/office/2011/'
                             b'relationships/commentsExtended" Target="commentsExtended.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def reviewed(built: Path, target: Path) -> Path:
    """The report's DOCX with what three reviewers did to it."""
    document = docx.Document(str(built))
    prose = paragraph_with(document, PROSE)
    add_comment(document, prose, VARIABLE_TEXT, "Heter systemet så i avtalet?")
    track_replace(prose, DELETED, INSERTED)
    add_comment(document, paragraph_with(document, HEADING, "Heading"), HEADING, "Rubriken är för lång.",
                author=EDITOR)
    cell = paragraph_with(document, CELL)
    add_comment(document, cell, CELL, "Var det regiondirektören som beslutade?", author=EDITOR)
    track_replace(cell, "starta", "inleda", author=EDITOR, number=910)
    isolate(paragraph_with(document, UNTRACKED[0]), UNTRACKED[0]).text = UNTRACKED[1]
    removed = paragraph_with(document, REMOVED)._p
    removed.getparent().remove(removed)
    document.save(str(target))
    add_reply(target, "Heter systemet", "Ja, Oracle Millennium.")
    return target


def resaved_by_libreoffice(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/profile",
                    "--convert-to", "docx", "--outdir", str(folder), str(path)], check=True, capture_output=True,
                   timeout=180)
    return folder / path.name


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A copy of the project with its DOCX built once (the only format review needs)."""
    project = copy_project(tmp_path_factory.mktemp("review") / "project")
    build_project(project, "docx")
    return project


@pytest.fixture(scope="module")
def returned(built, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("returned")
    word = reviewed(built / "report/beslutsunderlag.docx", folder / "granskad.docx")
    return {"word": word, "libreoffice": resaved_by_libreoffice(word, folder / "lo")}


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def chapters_digest(project: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted((project / "chapters").rglob("*.qmd")))).hexdigest()


def review(project: Path, *args: str) -> subprocess.CompletedProcess:
    result = underlag("review", *map(str, args), cwd=project)
    assert "Traceback" not in result.stderr, result.stderr
    return result


# --- anchors ----------------------------------------------------------------------------


def test_anchors_are_invisible_and_survive_libreoffice(built, returned, tmp_path):
    from underlag.engine.render.anchors import NAME, read_map

    path = built / "report/beslutsunderlag.docx"
    with zipfile.ZipFile(path) as archive:
        anchors = read_map(archive)["anchors"]
        body = etree.fromstring(archive.read("word/document.xml")).find(f"{W}body")
    assert len(anchors) > 500
    # every heading, list item, table cell and caption carries one
    for paragraph in body.iter(f"{W}p"):
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        style = style.get(f"{W}val") if style is not None else ""
        if re.match(r"Heading\d|Compact|TableCaption|ImageCaption|FirstParagraph|BodyText", style):
            names = [m.get(f"{W}name") for m in paragraph.iter(f"{W}bookmarkStart")]
            assert any(NAME.match(n or "") for n in names), (style, "".join(paragraph.itertext())[:80])
    # LibreOffice keeps the map and every anchor but the one of the paragraph the reviewer deleted
    with zipfile.ZipFile(returned["libreoffice"]) as archive:
        assert read_map(archive)["anchors"] == anchors
        kept = {m.get(f"{W}name") for m in etree.fromstring(archive.read("word/document.xml")).iter(f"{W}bookmarkStart")}
    assert set(anchors) - kept == {name for name, entry in anchors.items() if entry["text"].startswith(REMOVED)}
    # a reader sees none of them: not in the DOCX text, not in a PDF made by LibreOffice
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True,
                   timeout=180)
    for text in (docx_text(path), pdf_text(tmp_path / "beslutsunderlag.pdf")):
        assert "underlag_" not in text and "[]{#" not in text
        assert "VGR har börjat införa Oracle Millennium" in text


def test_an_unedited_docx_has_nothing_to_report_even_after_libreoffice(built, tmp_path):
    path = built / "report/beslutsunderlag.docx"
    for candidate in (path, resaved_by_libreoffice(path, tmp_path / "lo")):
        result = review(built, candidate)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines() == ["0 kommentarer och ändringar, 0 placerade i källfilerna."]


# --- placing comments and changes ---------------------------------------------------------


@pytest.mark.parametrize("editor", ["word", "libreoffice"])
def test_comments_and_changes_land_at_file_and_line(built, returned, editor):
    before = chapters_digest(built)
    result = review(built, returned[editor])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    chapter = built / "chapters/03-bakgrund.qmd"
    prose = f"chapters/03-bakgrund.qmd:{line_of(chapter, PROSE)}"
    heading = f"chapters/03-bakgrund.qmd:{line_of(chapter, '# ' + HEADING)}"
    milestones = built / "data/milstolpar.yaml"
    cell = f"data/milstolpar.yaml:{line_of(milestones, 'name: ' + CELL)}"
    variable = f"_variables.yml:{line_of(built / '_variables.yml', 'nuvarande:')}"

    def one(start: str, *parts: str) -> str:
        found = [line for line in lines if line.startswith(start) and all(p in line for p in parts)]
        assert len(found) == 1, (start, parts, lines)
        return found[0]

    comment = one(f"{prose}: {REVIEWER}: kommentar", "Heter systemet så i avtalet?")
    assert re.search(r"kommentar \(\d{4}-\d\d-\d\d \d\d:\d\d\) om ”Oracle Millennium”", comment)
    assert f"variabeln system.nuvarande i {variable}" in comment
    # LibreOffice 7 keeps a reply as a comment of its own, at the same place
    answer = f"svar till {REVIEWER} (2026-03-02 10:15)" if editor == "word" else "kommentar (2026-03-02 10:15)"
    one(f"{prose}: {WRITER}: {answer}", "Ja, Oracle Millennium.")
    one(f"{prose}: {REVIEWER}: strukit", f"”{DELETED}”")
    one(f"{prose}: {REVIEWER}: infogat", f"”{INSERTED}”")
    one(f"{heading}: {EDITOR}: kommentar", "Rubriken är för lång.")
    generated = one(f"{cell}: {EDITOR}: kommentar", "Var det regiondirektören som beslutade?")
    assert "milestones[0].name" in generated and "genererad text i chapters/09-tidplan.qmd:" in generated
    one(f"{cell}: {EDITOR}: infogat", "”inleda”")
    # in the order of the document: chapter 3 before the milestone table in chapter 9
    assert lines.index(comment) < lines.index(generated)
    untracked = one(f"chapters/03-bakgrund.qmd:{line_of(chapter, UNTRACKED[0])}: ", "ändrat utan spårade ändringar")
    assert "två faser" in untracked and "tre faser" in untracked
    gone = one(f"chapters/03-bakgrund.qmd:{line_of(chapter, REMOVED)}: ", "stycket är borttaget utan spårade ändringar")
    assert REMOVED in gone
    assert sum("utan spårade ändringar" in line for line in lines) == 2, lines
    assert lines.index(comment) < lines.index(untracked) < lines.index(gone) < lines.index(generated)
    assert chapters_digest(built) == before  # nothing changes without --apply


def test_apply_writes_exactly_the_reviewers_text_and_a_rebuild_shows_it(built, returned, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    chapter = project / "chapters/03-bakgrund.qmd"
    data = (project / "data/milstolpar.yaml").read_bytes()
    expected = chapter.read_text("utf-8").replace(PROSE, PROSE.replace(f" {DELETED} ", f" {INSERTED} "))
    result = review(project, returned["libreoffice"], "--apply", "--notes")
    assert result.returncode == 0, result.stderr
    assert chapter.read_text("utf-8") == expected  # the untracked edit is listed, never applied
    changed = next(line for line in expected.splitlines() if INSERTED in line)
    assert "--- a/chapters/03-bakgrund.qmd" in result.stdout and f"\n+{changed}\n" in result.stdout
    # the change in the generated table is left for the writer to carry into data/
    assert (project / "data/milstolpar.yaml").read_bytes() == data
    assert re.search(r"inte infört: data/milstolpar\.yaml:\d+: Cilla Jurist: ändring i genererad text", result.stdout)
    notes = (project / "granskning/granskad.md").read_text("utf-8")
    assert "Heter systemet så i avtalet?" in notes and "Rubriken är för lång." in notes
    build_project(project, "docx")
    assert "Införandet är sedan hösten 2024 pausat." in docx_text(project / "report/beslutsunderlag.docx")


def test_apply_refuses_a_chapter_changed_since_the_build(built, returned, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    chapter = project / "chapters/03-bakgrund.qmd"
    chapter.write_text(chapter.read_text("utf-8") + "\nEtt nytt stycke.\n", "utf-8")
    before = chapters_digest(project)
    result = review(project, returned["word"], "--apply")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "chapters/03-bakgrund.qmd" in result.stderr and "har ändrats sedan DOCX:en byggdes" in result.stderr
    assert chapters_digest(project) == before


def test_a_docx_from_older_sources_is_placed_by_anchor(built, returned, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(built, project)
    chapter = project / "chapters/03-bakgrund.qmd"
    heading_line = line_of(chapter, "# " + HEADING)
    lines = chapter.read_text("utf-8").splitlines()
    # two paragraphs written above the commented one, and the commented heading rewritten
    at = line_of(chapter, PROSE) - 1
    lines[at:at] = ["Ett nytt stycke.", "", "Ännu ett.", ""]
    lines[heading_line - 1] = lines[heading_line - 1].replace(HEADING, "Bakgrund")
    chapter.write_text("\n".join(lines) + "\n", "utf-8")
    milestones = project / "data/milstolpar.yaml"  # and the commented milestone renamed in the data
    milestones.write_text(milestones.read_text("utf-8").replace(CELL, "Uppdraget startar"), "utf-8")
    result = review(project, returned["word"])
    assert result.returncode == 0, result.stderr
    moved = line_of(chapter, PROSE)
    assert re.search(rf"^chapters/03-bakgrund\.qmd:{moved}: {REVIEWER}: kommentar .*flyttad från rad {moved - 4}",
                     result.stdout, re.M), result.stdout
    assert re.search(rf"^chapters/03-bakgrund\.qmd:{heading_line}: {EDITOR}: kommentar .*Rubriken är för lång\..*"
                     r"den ankrade texten finns inte längre", result.stdout, re.M), result.stdout
    assert re.search(r"^chapters/09-tidplan\.qmd:\d+: Cilla Jurist: kommentar .*regiondirektören.*"
                     r"texten finns inte i data/", result.stdout, re.M), result.stdout


# --- bad input --------------------------------------------------------------------------


def test_bad_input_gives_one_swedish_line_and_changes_nothing(built, returned, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    before = chapters_digest(built)
    source = built / "report/beslutsunderlag.docx"
    corrupt = tmp_path / "trasig.docx"
    corrupt.write_bytes(source.read_bytes()[:5000])
    not_zip = tmp_path / "text.docx"
    not_zip.write_text("det här är ingen docx", "utf-8")
    old_word = tmp_path / "gammal.docx"  # an old .doc (a compound file, not encrypted) under a .docx name
    old_word.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))
    locked = tmp_path / "last.docx"
    with open(returned["word"], "rb") as plain, open(locked, "wb") as out:
        OOXMLFile(plain).encrypt("hemligt", out)
    cases = {corrupt: "inte en läsbar DOCX", not_zip: "inte en läsbar DOCX", locked: "lösenordsskyddad",
             old_word: "äldre Word-dokument (.doc)",
             tmp_path / "saknas.docx": "filen finns inte"}
    for path, message in cases.items():
        for extra in ((), ("--apply",)):
            result = review(built, path, *extra)
            assert result.returncode == 2, (path, result.stdout, result.stderr)
            assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert chapters_digest(built) == before


def test_a_docx_that_is_not_ours_lists_its_comments_unplaced(built, tmp_path):
    foreign = docx.Document()
    paragraph = foreign.add_paragraph("Ett helt annat dokument.")
    foreign.add_comment(paragraph.runs[0], text="Vad gäller detta?", author=REVIEWER, initials="AG")
    path = tmp_path / "annat.docx"
    foreign.save(str(path))
    result = review(built, path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "saknar källankare" in lines[0] and "kan inte placeras" in lines[0]
    assert f"annat.docx: {REVIEWER}: kommentar" in result.stdout and "Vad gäller detta?" in result.stdout
    assert review(built, path, "--apply").returncode == 2


def test_a_docx_built_from_another_document_is_refused(built, tmp_path):
    from underlag.engine.render.anchors import MAP_PART

    path = tmp_path / "annan-rapport.docx"
    with zipfile.ZipFile(built / "report/beslutsunderlag.docx") as archive, \
            zipfile.ZipFile(path, "w") as out:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename == MAP_PART:
                data = data.decode().replace("Handlingsalternativ för", "Budget för").replace(
                    "chapters/", "kapitel/").encode()
            out.writestr(info, data)
    before = chapters_digest(built)
    result = review(built, path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "annat dokument" in result.stderr and "Budget för" in result.stderr
    assert chapters_digest(built) == before


def test_thousands_of_comments_are_all_listed(built, tmp_path):
    """3000 comments, written as raw WordprocessingML (python-docx takes minutes for this many)."""
    count = 3000
    with zipfile.ZipFile(built / "report/beslutsunderlag.docx") as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    document = etree.fromstring(parts["word/document.xml"])
    paragraphs = [p for p in document.iter(f"{W}p") if p.find(f"{W}r") is not None]
    comments = etree.fromstring(parts["word/comments.xml"])
    for number in range(count):
        paragraph = paragraphs[number % len(paragraphs)]
        paragraph.find(f"{W}r").addprevious(etree.Element(f"{W}commentRangeStart", {f"{W}id": str(number)}))
        paragraph.append(etree.Element(f"{W}commentRangeEnd", {f"{W}id": str(number)}))
        etree.SubElement(etree.SubElement(paragraph, f"{W}r"), f"{W}commentReference", {f"{W}id": str(number)})
        comment = etree.SubElement(comments, f"{W}comment", {f"{W}id": str(number), f"{W}author": REVIEWER,
                                                              f"{W}date": DATE})
        etree.SubElement(etree.SubElement(etree.SubElement(comment, f"{W}p"), f"{W}r"), f"{W}t").text = \
            f"Kommentar {number}"
    parts["word/document.xml"] = etree.tostring(document)
    parts["word/comments.xml"] = etree.tostring(comments)
    path = tmp_path / "manga.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    result = review(built, path)
    assert result.returncode == 0, result.stderr
    listed = [line for line in result.stdout.splitlines() if ": kommentar" in line]
    assert len(listed) == count
    assert {int(re.search(r"Kommentar (\d+)(?: \[|$)", line).group(1)) for line in listed} == set(range(count))
    assert all(re.match(r"(chapters|data)/[^:]+:\d+: ", line) for line in listed)
