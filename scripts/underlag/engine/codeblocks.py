"""Which lines of a Quarto file are code, found by a CommonMark parser rather than line patterns.

markdown-it-py (with the footnote, definition-list and math plugins, so pandoc's indented
footnote and definition paragraphs are not mistaken for indented code) gives every block its
line range. A fence opened in a list item (`- ```yaml`) or a block quote is a code block there
and closes where CommonMark closes it, so it cannot flip the rest of the book into code.
Raw HTML is read as text (pandoc parses Markdown inside HTML blocks, CommonMark does not), and
`:::` divs are paragraphs to CommonMark, so a fence right after `::: {…}` still opens code.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache, lru_cache

# An executable cell: `{r}`, `{python label}`, `{ojs}` … a bare language name first, not
# `{.python}` (a class), `{=html}` (raw) or `{shortcodes=false}` (an attribute).
EXECUTABLE = re.compile(r"\{\s*([A-Za-z][\w-]*)(?=[\s,}])(?!\s*=)")
# An escaped cell `{{r}}`: Quarto shows the cell, fences included, without running it.
ESCAPED = re.compile(r"\{\{\s*([A-Za-z][\w-]*)([^{}]*)\}\}")
NO_SHORTCODES = re.compile(r"\bshortcodes\s*=\s*\"?false\"?")


@dataclass(frozen=True)
class CodeBlock:
    first: int  # index of the block's first line (the opening fence, when fenced)
    end: int  # index after its last line
    fenced: bool
    info: str  # the fence's info string, e.g. `{python}`, `yaml`, `{{r}}`; "" when indented
    marker: str  # the fence characters, e.g. ```` or ~~~

    @property
    def executable(self) -> str | None:
        """The cell's language when this is a Quarto cell that would run (`{r}`), else None."""
        match = EXECUTABLE.match(self.info)
        return match.group(1) if self.fenced and match else None

    @property
    def escaped(self) -> re.Match | None:
        return ESCAPED.fullmatch(self.info.strip()) if self.fenced else None

    @property
    def shortcodes(self) -> bool:
        """Quarto expands shortcodes in code blocks unless the block says `shortcodes=false`."""
        return not NO_SHORTCODES.search(self.info)


_PARSER_LOCK = threading.Lock()


def _parser():
    with _PARSER_LOCK:  # the privacy scan parses in a thread beside the assembly
        return _new_parser()


@cache
def _new_parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    parser = MarkdownIt("commonmark", {"html": False}).use(footnote_plugin).use(deflist_plugin).use(dollarmath_plugin)
    # only the blocks' line ranges are read: the inline parse of every paragraph (two thirds of the
    # time, a second per build of the 10x report) finds nothing a code block depends on
    # mdurl fills its character tables lazily and publishes each one before it is filled: a second
    # thread could read a half-built table (IndexError). Fill the ones markdown-it uses now, under the lock.
    parser.normalizeLink("a")
    parser.normalizeLinkText("a")
    return parser.disable("inline")


def code_blocks(texts: list[str]) -> list[CodeBlock]:
    """The code blocks of one file's lines (front matter removed), in order."""
    return list(_code_blocks_of("\n".join(texts) + "\n", len(texts)))


@lru_cache(maxsize=512)
def _code_blocks_of(text: str, count: int) -> tuple[CodeBlock, ...]:
    """Remembered by the text: one build parses each file up to four times (the book, and the
    privacy scan's expansion of the book and each profile), the preview at every save."""
    blocks = []
    for token in _parser().parse(text):
        if token.type in ("fence", "code_block") and token.map:
            first, end = token.map
            blocks.append(CodeBlock(first, min(end, count), token.type == "fence", token.info.strip(), token.markup))
    return tuple(blocks)


def code_flags(texts: list[str]) -> list[bool]:
    """For each line, whether it belongs to a code block (fences included)."""
    flags = [False] * len(texts)
    for block in code_blocks(texts):
        for index in range(block.first, block.end):
            flags[index] = True
    return flags


def without_inline_code(text: str) -> str:
    """The line with every inline code span blanked (same length), so `@fig-x` written as code is
    not read as a reference. Spans are matched as CommonMark does: equal runs of backticks."""
    return re.sub(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", lambda m: " " * len(m.group(0)), text)
