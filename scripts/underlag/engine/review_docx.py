"""Reading a DOCX that reviewers return: comments (with replies), tracked insertions and
deletions, and each paragraph's text, in document order, with the source anchor each lies in.

Works on Word's and LibreOffice's files alike and on any DOCX (one without our anchors
just has no anchor names). Every way a file can be unreadable becomes one Swedish sentence.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

from underlag.engine.errors import UsageError
from underlag.engine.messages import text as _
from underlag.engine.render.anchors import NAME, W, in_change, paragraph_text, read_map

W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
CORE = "{http://purl.org/dc/elements/1.1/}"
CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: an encrypted DOCX, or an old .doc
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # the stream an encrypted DOCX keeps its content in
MAX_PART_BYTES = 200_000_000  # a part bigger than this is not a document someone reviewed
PARSER = dict(resolve_entities=False, no_network=True, huge_tree=True)
CHANGES = {f"{W}ins": "ins", f"{W}moveTo": "ins", f"{W}del": "del", f"{W}moveFrom": "del"}


@dataclass
class Comment:
    id: str
    author: str
    date: str
    text: str
    parent: str | None = None  # the comment this one answers
    done: bool = False
    focus: str = ""  # the text the comment is on


@dataclass
class Change:
    kind: str  # ins or del
    author: str
    date: str
    text: str


@dataclass
class Paragraph:
    index: int
    anchor: str | None  # our bookmark in this paragraph, if any
    before: str  # the text with tracked changes rejected
    after: str  # the text with tracked changes accepted
    cell: tuple[int, int] | None  # (table, row) for a paragraph in a table
    image: bool = False  # a figure's image: it belongs to the caption after it
    events: list[Comment | Change] = field(default_factory=list)


@dataclass
class Returned:
    path: Path
    anchors: dict | None  # the map the build wrote, None for a DOCX that is not ours
    paragraphs: list[Paragraph]
    comments: dict[str, Comment]
    placed: set[str]  # comments found in the document body
    saved_by: str

    @cached_property
    def replies(self) -> dict[str, list[Comment]]:
        """The replies to each comment, oldest first."""
        result: dict[str, list[Comment]] = {}
        for comment in self.comments.values():
            if comment.parent:
                result.setdefault(comment.parent, []).append(comment)
        return result


def read_returned(path: Path) -> Returned:
    """Everything a reviewer left in the DOCX; UsageError (one line) when it cannot be read."""
    name = path.name
    if not path.is_file():
        raise UsageError(_("review_docx.missing", name=name))
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == OLE_SIGNATURE and ENCRYPTED in path.read_bytes()[:MAX_PART_BYTES]:
        raise UsageError(_("review_docx.encrypted", name=name))
    if head == OLE_SIGNATURE:
        raise UsageError(_("review_docx.old_word", name=name))
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(path, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, ValueError, etree.XMLSyntaxError,
            UnicodeDecodeError, RuntimeError):
        raise UsageError(_("review_docx.unreadable", name=name)) from None


def _part(archive: zipfile.ZipFile, name: str):
    if name not in archive.namelist():
        return None
    if archive.getinfo(name).file_size > MAX_PART_BYTES:
        raise ValueError(name)
    return etree.fromstring(archive.read(name), etree.XMLParser(**PARSER))


def _read(path: Path, archive: zipfile.ZipFile) -> Returned:
    document = _part(archive, "word/document.xml")
    if document is None or document.find(f"{W}body") is None:
        raise KeyError("word/document.xml")
    comments = _comments(archive)
    anchors = read_map(archive)
    paragraphs, placed = _walk(document.find(f"{W}body"), comments)
    core = _part(archive, "docProps/core.xml")
    saved_by = (core.findtext(f"{CP}lastModifiedBy") or "").strip() if core is not None else ""
    return Returned(path, anchors, paragraphs, comments, placed, saved_by)


def _comments(archive: zipfile.ZipFile) -> dict[str, Comment]:
    root = _part(archive, "word/comments.xml")
    if root is None:
        return {}
    comments, by_para = {}, {}
    for element in root.iter(f"{W}comment"):
        id_ = element.get(f"{W}id", "")
        paragraphs = list(element.iter(f"{W}p"))
        text = " ".join(filter(None, (paragraph_text(p, inserted=True, deleted=False) for p in paragraphs)))
        comments[id_] = Comment(id_, element.get(f"{W}author", "") or "okänd", _date(element), text)
        for paragraph in paragraphs:  # Word links replies by the id of the comment's (last) paragraph
            if paragraph.get(f"{W14}paraId"):
                by_para[paragraph.get(f"{W14}paraId")] = id_
    extended = _part(archive, "word/commentsExtended.xml")
    if extended is not None:
        for entry in extended.iter(f"{W15}commentEx"):
            own = by_para.get(entry.get(f"{W15}paraId", ""))
            parent = by_para.get(entry.get(f"{W15}paraIdParent", ""))
            if own in comments:
                comments[own].parent = parent if parent != own else None
                comments[own].done = entry.get(f"{W15}done") in ("1", "true")
    return comments


def _date(element) -> str:
    value = element.get(f"{W}date", "")
    match = re.match(r"(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d))?", value)
    return " ".join(filter(None, match.groups())) if match else ""


def _walk(body, comments: dict[str, Comment]) -> tuple[list[Paragraph], set[str]]:
    """One pass over the body in document order."""
    paragraphs: list[Paragraph] = []
    placed: set[str] = set()
    open_ranges: dict[str, Comment] = {}
    tables: dict[str, int] = {}  # a w:tbl's path -> its number
    current: Paragraph | None = None
    last_change: Change | None = None
    for element in body.iter():
        tag = element.tag
        if tag == f"{W}p":
            current = Paragraph(len(paragraphs), _own_anchor(element), paragraph_text(element, False, True),
                                paragraph_text(element, True, False), _cell(element, tables),
                                image=next(element.iter(f"{W}drawing"), None) is not None)
            paragraphs.append(current)
            last_change = None
        elif tag in (f"{W}commentRangeStart", f"{W}commentReference"):
            id_ = element.get(f"{W}id", "")
            if id_ in comments and id_ not in placed and current is not None:
                placed.add(id_)
                current.events.append(comments[id_])
                if tag == f"{W}commentRangeStart":
                    open_ranges[id_] = comments[id_]
        elif tag == f"{W}commentRangeEnd":
            open_ranges.pop(element.get(f"{W}id", ""), None)
        elif tag in CHANGES and current is not None:
            text = "".join(t.text or "" for t in element.iter(f"{W}t", f"{W}delText"))
            if not text:
                continue  # a paragraph mark or formatting: no text to report
            kind = CHANGES[tag]
            author, date = element.get(f"{W}author", "") or "okänd", _date(element)
            if last_change and (last_change.kind, last_change.author) == (kind, author) \
                    and element.getprevious() is not None and element.getprevious().tag in CHANGES:
                last_change.text += text  # one change split over several runs
            else:
                last_change = Change(kind, author, date, text)
                current.events.append(last_change)
        elif tag in (f"{W}t", f"{W}delText") and element.text:
            if tag == f"{W}t" and not in_change(element, body, "del"):  # the commented text as it now reads
                for comment in open_ranges.values():
                    if len(comment.focus) < 200:
                        comment.focus += element.text
            if not in_change(element, body, "ins") and not in_change(element, body, "del"):
                last_change = None
    return paragraphs, placed


def _own_anchor(paragraph) -> str | None:
    for mark in paragraph.iter(f"{W}bookmarkStart"):
        name = mark.get(f"{W}name", "")
        if NAME.match(name):
            return name
    return None


def _cell(paragraph, tables: dict[str, int]) -> tuple[int, int] | None:
    row = next((a for a in paragraph.iterancestors(f"{W}tr")), None)
    if row is None:
        return None
    table = row.getparent()
    number = tables.setdefault(table.getroottree().getpath(table), len(tables))
    return number, table.index(row)
