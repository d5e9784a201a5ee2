"""What PDF/UA-1 refuses, found in the checked document before Typst runs, at the writer's line.

Typst compiles the PDF with `pdf_standards=["ua-1"]` and then stops at the first image without
alt text or the first skipped heading level, with no place in the sources. These checks find
every such spot at once, with its file and line; they concern the PDF only, so the build still
writes HTML and DOCX (commands/build.py) and then exits 2 naming the PDF's problems.
"""

from __future__ import annotations

import re
from pathlib import Path

from underlag.engine.errors import Problem, relative
from underlag.engine.messages import text as _

# the messages: pdf_ua.missing_alt and pdf_ua.skipped_level in engine/locale (each ends with pdf_ua.pdf_only)


def pdf_ua_problems(document: dict, lines, root: Path) -> list[Problem]:
    """Images without alt text and skipped heading levels in the checked document (pandoc JSON)."""
    finder = _Finder(lines, root)
    problems: list[Problem] = []
    previous = 0

    def walk(node, in_callout: bool, figure_caption: str = "") -> None:
        nonlocal previous
        if isinstance(node, list):
            for item in node:
                walk(item, in_callout, figure_caption)
            return
        if not isinstance(node, dict) or "t" not in node:
            return
        kind, content = node["t"], node.get("c")
        if kind == "Div":
            classes = content[0][1]
            if "chapter" in classes:
                finder.chapter(dict(content[0][2]).get("source", ""))
            in_callout = in_callout or any(c.startswith("callout-") for c in classes)
        if kind == "Header" and not in_callout:  # a callout's heading becomes its title, not a heading
            level, text = content[0], _plain(content[2])
            if level > previous + 1:
                place = finder.heading(level, text)
                problems.append(Problem(*place, _(
                    "pdf_ua.skipped_level", text=text, level=level, previous=previous, expected=previous + 1,
                    marks="#" * (previous + 1)) + _("pdf_ua.pdf_only")))
            previous = level
        if kind == "Figure":  # the filters take a figure's caption as its image's alt text
            figure_caption = _plain(content[1][1])
        if kind == "Div" and content[0][0].startswith("fig-"):  # a figure div: its last paragraph is the caption
            figure_caption = figure_caption or _plain(content[1][-1:])
        if kind == "Image":
            attributes = dict(content[0][2])
            url = content[2][0]
            given = [_plain(content[1]), attributes.get("fig-alt", ""), attributes.get("alt", ""), figure_caption]
            if not any(text.strip() for text in given):
                problems.append(Problem(*finder.text(url), _("pdf_ua.missing_alt", url=url) + _("pdf_ua.pdf_only")))
        walk(content, in_callout, figure_caption)

    walk(document.get("blocks", []), False)
    return problems


def _plain(inlines) -> str:
    """The text of pandoc inlines (Str, Space, Code …), enough to name and find a heading."""
    parts = []

    def collect(node):
        if isinstance(node, list):
            for item in node:
                collect(item)
        elif isinstance(node, dict):
            kind, content = node.get("t"), node.get("c")
            if kind == "Str":
                parts.append(content)
            elif kind in ("Space", "SoftBreak", "LineBreak"):
                parts.append(" ")
            elif kind in ("Code", "Math"):
                parts.append(content[-1])
            elif kind != "Note":
                collect(content)

    collect(inlines)
    return "".join(parts).strip()


class _Finder:
    """Finds an element's line by searching the current chapter's source lines, in order."""

    def __init__(self, lines, root: Path):
        self.lines, self.root = lines, root
        self.range = (0, len(lines))
        self.cursor = 0

    def chapter(self, source: str) -> None:
        opening = next((i for i, line in enumerate(self.lines)
                        if line.text.startswith(":" * 12 + " {.chapter") and f'source="{source}"' in line.text), 0)
        end = next((i for i in range(opening + 1, len(self.lines))
                    if self.lines[i].text.startswith(":" * 12 + " {.chapter")), len(self.lines))
        self.range, self.cursor = (opening, end), opening

    def find(self, test) -> tuple[str, int | None, int | None]:
        start, end = self.range
        for index in [*range(self.cursor, end), *range(start, self.cursor)]:
            line = self.lines[index]
            column = test(line)
            if column is not None and not line.code:
                self.cursor = index + 1
                return relative(line.path, self.root), line.line, column + 1
        line = self.lines[min(start + 1, len(self.lines) - 1)]
        return relative(line.path, self.root), line.line, None

    def text(self, needle: str):
        return self.find(lambda line: column if (column := line.text.find(needle)) >= 0 else None)

    def heading(self, level: int, text: str):
        words = text.split()[:3]
        pattern = re.compile(r"^\s{0,3}" + "#" * level + r"\s+\W*" + r"\W*".join(re.escape(w) for w in words))
        return self.find(lambda line: 0 if pattern.match(line.text) else None)
