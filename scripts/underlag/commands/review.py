"""`underlag review FILE.docx`: what reviewers left in a returned DOCX, at the file and line
a writer edits, and (`--apply`) their tracked changes to prose written into the chapters.

Every paragraph of a DOCX we built carries a bookmark naming its source (render/anchors.py).
Prose lands at its chapter line; generated text at the data value it printed (with the
chapter that includes it); text from a variable names the variable too. A DOCX built from
older sources still places everything by anchor and says when the anchored text is gone.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from underlag.engine.cache import file_hash
from underlag.engine.errors import UsageError
from underlag.engine.messages import text as _
from underlag.engine.render.anchors import LIST_ITEM
from underlag.engine.review_docx import Change, Comment, Paragraph, Returned, read_returned

GENERATED = "/_generated/"
VARIABLE = re.compile(r"\{\{<\s*var\s+(\S+)\s*>\}\}")


@dataclass(frozen=True)
class Place:
    file: str
    line: int | None
    note: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Finding:
    place: Place
    author: str
    what: str

    def __str__(self) -> str:
        note = f" [{self.place.note}]" if self.place.note else ""
        return f"{self.place}: {self.author}: {self.what}{note}"


@dataclass
class Edit:
    """A tracked change to prose, as a replacement in a chapter file."""
    file: str
    line: int
    start: int  # offset in the file's text
    end: int
    text: str


@dataclass
class Review:
    findings: list[Finding]
    edits: list[Edit]
    not_applied: list[Finding]  # tracked changes --apply leaves to the writer
    ours: bool
    sources: dict[str, str] | None = None  # file -> sha256 when the DOCX was built


def review(root: Path, docx: Path) -> Review:
    returned = read_returned(docx)
    if returned.anchors is None:
        return Review(_foreign(returned), [], [], ours=False)
    _check_same_document(root, returned)
    return _Reviewer(root, returned).run()


def _check_same_document(root: Path, returned: Returned) -> None:
    from underlag.engine.book import read_book

    title = returned.anchors.get("title", "")
    files = {entry["file"] for entry in returned.anchors.get("anchors", {}).values()}
    ours = read_book(root).title
    if title != ours and not any((root / file).is_file() for file in files if GENERATED not in file):
        raise UsageError(_("review.other_document", docx=returned.path.name, title=title, ours=ours))


def _foreign(returned: Returned) -> list[Finding]:
    """A DOCX without our anchors: its comments and changes, said plainly to be unplaceable."""
    place = Place(returned.path.name, None)
    findings = [Finding(place, "underlag", _("review.foreign"))]
    for paragraph in returned.paragraphs:
        for event in paragraph.events:
            findings += _describe(event, place, returned)
    findings += [f for c in returned.comments.values() if c.id not in returned.placed and not c.parent
                 for f in _describe(c, place, returned)]
    return findings


def _describe(event: Comment | Change, place: Place, returned: Returned) -> list[Finding]:
    if isinstance(event, Change):
        key = "review.inserted" if event.kind == "ins" else "review.deleted"
        return [Finding(place, event.author, _(key, when=_when(event.date), text=event.text))]
    if event.parent:  # replies are listed under the comment they answer
        return []
    on = _("review.on", focus=_short(event.focus)) if event.focus.strip() else ""
    done = _("review.done") if event.done else ""
    findings = [Finding(place, event.author, _("review.comment", when=_when(event.date), on=on, done=done,
                                               text=event.text))]
    for reply in returned.replies.get(event.id, []):
        findings.append(Finding(place, reply.author, _("review.reply", author=event.author, when=_when(reply.date),
                                                            text=reply.text)))
    return findings


def _when(date: str) -> str:
    return f" ({date})" if date else ""


def _short(text: str, limit: int = 60) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Reviewer:
    def __init__(self, root: Path, returned: Returned):
        from underlag.report.review_data import DataIndex

        self.root, self.returned = root, returned
        self.anchors: dict[str, dict] = returned.anchors.get("anchors", {})
        self.sources: dict[str, str] = returned.anchors.get("sources", {})
        self.data = DataIndex(root)
        self.variables = _variable_positions(root)
        self.raw: dict[str, str | None] = {}

    def run(self) -> Review:
        findings, edits, not_applied = [], [], []
        groups = self._groups()
        removed = self._removed({p.anchor for p in self.returned.paragraphs if p.anchor})
        findings += removed.pop(None, [])
        for paragraph, name in groups:
            for event in paragraph.events:
                place = self._place(name, paragraph, event.focus if isinstance(event, Comment) else event.text)
                findings += _describe(event, place, self.returned)
            if paragraph.anchor and paragraph.anchor in self.anchors:
                findings += self._untracked(paragraph) + removed.pop(paragraph.anchor, [])
        findings += [f for c in self.returned.comments.values() if c.id not in self.returned.placed and not c.parent
                     for f in _describe(c, Place(self.returned.path.name, None, _("review.comment_unplaced")),
                                        self.returned)]
        for name, paragraphs in _by_anchor(groups).items():
            if any(isinstance(e, Change) for p in paragraphs for e in p.events):
                applied, refused = self._edits(name, paragraphs)
                edits += applied
                not_applied += refused
        return Review(findings, edits, not_applied, ours=True, sources=self.sources)

    # --- which anchor each paragraph belongs to ---------------------------------------

    def _groups(self) -> list[tuple[Paragraph, str | None]]:
        """Each paragraph with its anchor; one without (a paragraph the reviewer added, a
        callout's default title) belongs to the anchor before it, a figure's image to its
        caption after it, and one before any anchor to the next, unless data/ holds its text."""
        result, previous = [], None
        for paragraph in self.returned.paragraphs:
            if paragraph.anchor in self.anchors:
                previous = paragraph.anchor
            result.append((paragraph, paragraph.anchor if paragraph.anchor in self.anchors else previous))
        following = None
        for index in range(len(result) - 1, -1, -1):
            paragraph, name = result[index]
            if paragraph.anchor in self.anchors:
                following = paragraph.anchor
            elif paragraph.image or name is None and not self.data.find(paragraph.before):
                result[index] = (paragraph, following)
        return result

    # --- where a text lands -----------------------------------------------------------

    def _place(self, name: str | None, paragraph: Paragraph, focus: str) -> Place:
        if name is None:  # the title page: only data can say where it came from
            value = self.data.find(paragraph.before, focus)
            if value:
                return Place(value.file, value.line, _("review.field", field=value.field))
            return Place(self.returned.path.name, None, _("review.no_anchor"))
        entry = self.anchors[name]
        if GENERATED in "/" + entry["file"]:
            return self._generated(entry, paragraph, focus)
        line, note = self._locate(entry)
        notes = [note] + self._variables_in(entry["src"], focus or paragraph.before)
        return Place(entry["file"], line, "; ".join(filter(None, notes)))

    def _generated(self, entry: dict, paragraph: Paragraph, focus: str) -> Place:
        via = entry.get("via")
        where = _("review.generated_via", file=via[0], line=via[1]) if via else _("review.generated", file=entry["file"])
        row = self._row(paragraph)
        value = self.data.find(paragraph.before or entry["text"], focus, row)
        if value is None:
            chapter = Place(via[0], via[1]) if via else Place(entry["file"], entry["line"])
            return Place(chapter.file, chapter.line, _("review.generated_not_in_data", where=where,
                                                       file=entry["file"], line=entry["line"]))
        return Place(value.file, value.line, _("review.field_generated", field=value.field, where=where))

    def _row(self, paragraph: Paragraph) -> tuple[str, ...]:
        if paragraph.cell is None:
            return ()
        return tuple(p.before for p in self.returned.paragraphs if p.cell == paragraph.cell and p is not paragraph)

    def _file_lines(self, file: str, ends: bool = False) -> list[str] | None:
        if file not in self.raw:
            path = self.root / file
            try:
                self.raw[file] = path.read_bytes().decode("utf-8") if path.is_file() else None
            except (OSError, UnicodeDecodeError):
                self.raw[file] = None
        text = self.raw[file]
        return None if text is None else text.splitlines(keepends=ends)

    def _locate(self, entry: dict) -> tuple[int, str]:
        """The anchored line now: unchanged, moved (found again by its text), or gone."""
        file, line, source = entry["file"], entry["line"], entry["src"]
        lines = self._file_lines(file)
        if lines is None:
            return line, _("review.file_gone")
        if 0 < line <= len(lines) and lines[line - 1] == source:
            return line, ""
        same = [n for n, text in enumerate(lines, 1) if text == source and source.strip()]
        if same:
            moved = min(same, key=lambda n: abs(n - line))
            return moved, _("review.moved", line=line)
        return line, _("review.anchor_gone")

    def _variables_in(self, source: str, focus: str) -> list[str]:
        notes = []
        for key in VARIABLE.findall(source):
            value, place = self.variables.get(key, (None, None))
            if value is not None and (not focus or value.casefold() in focus.casefold()
                                      or focus.casefold() in value.casefold()):
                notes.append(_("review.from_variable", value=value, key=key, place=place))
        return notes

    # --- changes nobody tracked -------------------------------------------------------

    def _untracked(self, paragraph: Paragraph) -> list[Finding]:
        built = self.anchors[paragraph.anchor]["text"]
        if paragraph.before == built:
            return []
        place = self._place(paragraph.anchor, paragraph, "")
        author = self.returned.saved_by or _("review.unknown_author")
        return [Finding(place, author, _("review.untracked", difference=_difference(built, paragraph.before)))]

    def _removed(self, present: set[str]) -> dict[str | None, list[Finding]]:
        """Paragraphs deleted without tracking, keyed by the anchor still there before them."""
        findings: dict[str | None, list[Finding]] = {}
        before = None
        for name, entry in self.anchors.items():
            if name in present:
                before = name
            elif entry["text"]:
                line, note = self._locate(entry) if GENERATED not in "/" + entry["file"] else (entry["line"], "")
                findings.setdefault(before, []).append(Finding(
                    Place(entry["file"], line, note), self.returned.saved_by or _("review.unknown_author"),
                    _("review.removed_untracked", text=_short(entry["text"]))))
        return findings

    # --- tracked changes as edits of the chapter ---------------------------------------

    def _edits(self, name: str, paragraphs: list[Paragraph]) -> tuple[list[Edit], list[Finding]]:
        entry = self.anchors[name]
        author = next(e.author for p in paragraphs for e in p.events if isinstance(e, Change))
        before = "\n\n".join(p.before for p in paragraphs if p.before)
        after = "\n\n".join(p.after for p in paragraphs if p.after)
        place = self._place(name, paragraphs[0], "")
        if GENERATED in "/" + entry["file"]:
            return [], [Finding(place, author, _("review.change_in_generated", difference=_difference(before, after)))]
        lines = self._file_lines(entry["file"], ends=True)
        if lines is None:
            return [], [Finding(place, author, _("review.file_gone_apply"))]
        start, end = entry["line"], _block_end(lines, entry["line"], entry["kind"])
        offset = sum(len(text) for text in lines[: start - 1])
        source = "".join(lines[start - 1: end]).rstrip("\r\n")
        mapped = _align(source, before, after)
        if mapped is None:
            return [], [Finding(place, author, _("review.not_verbatim", difference=_difference(before, after)))]
        return [Edit(entry["file"], start, offset + s, offset + e, text) for s, e, text in mapped], []


def _by_anchor(groups: list[tuple[Paragraph, str | None]]) -> dict[str, list[Paragraph]]:
    result: dict[str, list[Paragraph]] = {}
    for paragraph, name in groups:
        if name is not None:
            result.setdefault(name, []).append(paragraph)
    return result


def _block_end(lines: list[str], start: int, kind: str) -> int:
    """The last line of the block that starts at `start` (headings, captions, cells: one line)."""
    if kind not in ("p", "li"):
        return start
    end = start
    while end < len(lines) and lines[end].strip() and not LIST_ITEM.match(lines[end]) \
            and not lines[end].lstrip().startswith((":::", "#", "```")):
        end += 1
    return end


def _align(source: str, before: str, after: str) -> list[tuple[int, int, str]] | None:
    """The reviewer's edits (before -> after) as replacements in the Markdown source, or None
    when one touches text the source does not hold word for word."""
    comparable = source.replace("\r", " ").replace("\n", " ")  # same length: offsets stay the source's
    matcher = difflib.SequenceMatcher(None, comparable, before, autojunk=False)
    to_source: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            to_source[block.b + k] = block.a + k
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:
            start = to_source.get(i1)
            if start is None or any(to_source.get(k) != start + k - i1 for k in range(i1, i2)):
                return None
            edits.append((start, start + i2 - i1, after[j1:j2]))
        elif i1 - 1 in to_source:
            edits.append((to_source[i1 - 1] + 1, to_source[i1 - 1] + 1, after[j1:j2]))
        elif i1 in to_source:
            edits.append((to_source[i1], to_source[i1], after[j1:j2]))
        else:
            return None
    return edits


def _difference(old: str, new: str) -> str:
    """The changed part of a text, with a little context: ”…old…” → ”…new…”."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    codes = [c for c in matcher.get_opcodes() if c[0] != "equal"]
    if not codes:
        return _("review.whitespace_only")
    i1, i2, j1, j2 = codes[0][1], codes[-1][2], codes[0][3], codes[-1][4]
    context = 15
    a, b = max(0, i1 - context), max(0, j1 - context)
    left = "…" if a else ""
    return (f"”{left}{old[a: i2 + context]}{'…' if i2 + context < len(old) else ''}” → "
            f"”{left if b else ''}{new[b: j2 + context]}{'…' if j2 + context < len(new) else ''}”")


def _variable_positions(root: Path) -> dict[str, tuple[str, str]]:
    """Each variable in _variables.yml: its value and file:line."""
    from underlag.engine.errors import InputError
    from underlag.report.load import read_yaml

    path = root / "_variables.yml"
    if not path.is_file():
        return {}
    try:
        values, positions = read_yaml(path, root)
    except InputError:
        return {}
    result = {}

    def walk(node, loc: tuple) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                walk(item, loc + (str(key),))
        else:
            result[".".join(loc)] = (str(node), f"_variables.yml:{positions.get(loc, (1, 1))[0]}")

    walk(values, ())
    return result


# --- --apply -------------------------------------------------------------------------


def check_unchanged(root: Path, returned_sources: dict[str, str], edits: list[Edit]) -> list[str]:
    """The files an edit would touch that changed since the DOCX was built."""
    changed = []
    for file in sorted({edit.file for edit in edits}):
        path = root / file
        if not path.is_file() or returned_sources.get(file) != file_hash(path):
            changed.append(file)
    return changed


def apply_edits(root: Path, edits: list[Edit]) -> tuple[dict[str, tuple[str, str]], list[Edit]]:
    """New text per file (old, new), and the edits left out because they overlap another."""
    result, skipped = {}, []
    for file in sorted({edit.file for edit in edits}):
        old = (root / file).read_bytes().decode("utf-8")  # as it is: no newline translation
        new, end = old, len(old) + 1
        for edit in sorted((e for e in edits if e.file == file), key=lambda e: (e.start, e.end), reverse=True):
            if edit.end > end:
                skipped.append(edit)
                continue
            new = new[: edit.start] + edit.text + new[edit.end:]
            end = edit.start
        result[file] = (old, new)
    return result, skipped


def unified_diff(file: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{file}", f"b/{file}"))


def notes_markdown(docx: Path, findings: list[Finding]) -> str:
    lines = [_("review.notes_title", docx=docx.name), "", _("review.notes_intro"), ""]
    for finding in findings:
        note = f" *({finding.place.note})*" if finding.place.note else ""
        lines.append(f"- `{finding.place}` **{finding.author}**: {finding.what}{note}")
    return "\n".join(lines) + "\n"


# --- the command ---------------------------------------------------------------------

NOTES_DIR = "granskning"


def run_review(root: Path, docx: Path, apply: bool, notes: str | None, echo) -> None:
    """List (and with `apply` write) what the reviewers left; UsageError when --apply must refuse."""
    result = review(root, docx)
    if apply and not result.ours:
        raise UsageError(_("review.apply_foreign", docx=docx.name))
    for finding in result.findings:
        echo(str(finding))
    if apply:
        _apply(root, result, echo)
    if notes is not None:
        target = Path(notes) if notes else root / NOTES_DIR / f"{docx.stem}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notes_markdown(docx, result.findings), "utf-8")
        echo(_("review.notes_written", path=target))
    placed = sum(1 for f in result.findings if f.place.line)
    echo(_("review.summary", n=len(result.findings), placed=placed))


def _apply(root: Path, result: Review, echo) -> None:
    changed = check_unchanged(root, result.sources or {}, result.edits)
    if changed:
        raise UsageError(_("review.changed_since", files=", ".join(changed)))
    files, skipped = apply_edits(root, result.edits)
    for file, (old, new) in files.items():
        echo(unified_diff(file, old, new).rstrip("\n"))
    for file, (old, new) in files.items():
        path = root / file
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(new.encode("utf-8"))
        temporary.replace(path)
    for finding in result.not_applied:
        echo(_("review.not_applied", finding=finding))
    for edit in skipped:
        echo(_("review.overlaps", file=edit.file, line=edit.line))
    places = {(e.file, e.line) for e in result.edits} - {(e.file, e.line) for e in skipped}
    echo(_("review.applied", paragraphs=len(places), files=len(files), left=len(result.not_applied) + len(skipped)))
