"""Markup that pandoc accepts but silently turns into something the writer did not mean.

- a `:::` block that is never closed swallows the rest of the chapter (headings included,
  so sections vanish from the contents); a `:::` that closes nothing shows as text;
- an unknown callout type (`.callout-varning`) becomes plain text without a box;
- an image without alternative text passes pandoc, but a screen reader has nothing to say
  and PDF/UA asks for one;
- an attribute a figure or table does not know (`fig-atl=`) does nothing.

The checks read the lines that are prose (the caller decides which those are, so they sit on
top of whatever parser tracks code blocks) and return located problems: the damaging ones as
errors, the accessibility and attribute ones as warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import get_close_matches
from pathlib import Path

from underlag.engine.errors import Problem, relative
from underlag.engine.messages import text as _

CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")
# Natural Swedish (and a few English) spellings of a callout type -> the type Quarto knows
CALLOUT_SYNONYMS = {
    "varning": "warning", "varna": "warning", "warn": "warning", "fara": "warning",
    "obs": "note", "observera": "note", "notera": "note", "not": "note", "anteckning": "note",
    "notis": "note", "info": "note", "information": "note", "anm": "note", "anmarkning": "note",
    "anmärkning": "note", "tips": "tip", "tipsa": "tip", "rad": "tip", "råd": "tip", "hint": "tip",
    "viktigt": "important", "viktig": "important", "obs!": "important",
    "forsiktighet": "caution", "försiktighet": "caution", "varsamhet": "caution", "akta": "caution",
    "se-upp": "caution", "observant": "caution",
}
FIGURE_ATTRIBUTES = ("fig-alt", "fig-cap", "fig-align", "fig-pos", "fig-env", "fig-scap", "fig-cap-location",
                     "alt", "width", "height", "title", "lightbox", "group", "description",
                     "when-format", "unless-format")
TABLE_ATTRIBUTES = ("tbl-colwidths", "tbl-cap-location", "tbl-subcap", "html-table-processing",
                    "when-format", "unless-format")
# What a writer may call an attribute, by meaning -> the attribute (spelling is left to difflib)
ATTRIBUTE_SYNONYMS = {
    "alt-text": "fig-alt", "alttext": "fig-alt", "alternativtext": "fig-alt", "beskrivning": "fig-alt",
    "bildtext": "fig-cap", "rubrik": "fig-cap", "caption": "fig-cap", "bredd": "width", "höjd": "height",
    "hojd": "height", "kolumnbredd": "tbl-colwidths", "kolumnbredder": "tbl-colwidths",
    "colwidths": "tbl-colwidths",
}

DIV_FENCE = re.compile(r"^(\s*)(:{3,})\s*(.*?)\s*$")
CALLOUT_CLASS = re.compile(r"(?:^|[\s{])\.?callout-([\w!-]+)")
IMAGE = re.compile(r"!\[(?P<alt>(?:[^\[\]]|\[[^\]]*\])*)\]\((?P<src>[^()\s]+)(?:\s+\"[^\"]*\")?\)"
                   r"(?P<attrs>\{[^}]*\})?")
TABLE_CAPTION = re.compile(r"^\s*(?::|Table:)\s.*?(?P<attrs>\{[^}]*#tbl-[^}]*\})\s*$")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
KEY_VALUE = re.compile(r"""([\w-]+)=(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s}]+)""")


def check_structure(lines: Iterable, root: Path, skip: str = "") -> list[Problem]:
    """All checks on the prose lines (SourceLine: text, path, line); `skip` marks lines the
    assembler added itself (its chapter wrapper), which are not the writer's."""
    own = [line for line in lines if not (skip and line.text.startswith(skip))]
    return (check_divs(own, root) + check_callouts(own, root) + check_images(own, root)
            + check_table_attributes(own, root))


def check_divs(lines: list, root: Path) -> list[Problem]:
    """Every `:::` block closes in the file that opens it, and every closing `:::` closes one."""
    open_by_file: dict[Path, list] = {}
    problems = []
    for line in lines:
        match = DIV_FENCE.match(line.text)
        if not match:
            continue
        stack = open_by_file.setdefault(line.path, [])
        if match.group(3):  # something after the colons: an opening fence
            stack.append((line, match.start(2) + 1, match.group(2) + " " + match.group(3)))
        elif stack:
            stack.pop()
        else:
            problems.append(Problem(relative(line.path, root), line.line, match.start(2) + 1,
                                    _("structure.div_stray_close")))
    for stack in open_by_file.values():
        problems += [Problem(relative(line.path, root), line.line, column, _("structure.div_unclosed", fence=fence))
                     for line, column, fence in stack]
    return problems


def suggest_callout(kind: str) -> str | None:
    """The callout type a writer most likely meant: by meaning (Swedish), then by spelling."""
    meant = CALLOUT_SYNONYMS.get(kind.lower())
    close = [meant] if meant else get_close_matches(kind.lower(), CALLOUT_KINDS, n=1, cutoff=0.6)
    return f"callout-{close[0]}" if close else None


def check_callouts(lines: list, root: Path) -> list[Problem]:
    problems = []
    known = ", ".join(f"callout-{kind}" for kind in CALLOUT_KINDS)
    for line in lines:
        fence = DIV_FENCE.match(line.text)
        if not fence or not fence.group(3):
            continue
        for match in CALLOUT_CLASS.finditer(fence.group(3)):
            kind = match.group(1)
            if kind in CALLOUT_KINDS:
                continue
            close = suggest_callout(kind)
            message = _("structure.callout_did_you_mean", found=f"callout-{kind}", close=close, known=known) \
                if close else _("structure.callout_unknown", found=f"callout-{kind}", known=known)
            column = fence.start(3) + match.start(1) - len("callout-") + 1
            problems.append(Problem(relative(line.path, root), line.line, column, message))
    return problems


def attributes(block: str | None) -> dict[str, str]:
    """key=value pairs of a `{#id .class key="value"}` block, quotes removed."""
    return {m.group(1): m.group(0).split("=", 1)[1].strip("\"'") for m in KEY_VALUE.finditer(block or "")}


def _without_inline_code(text: str) -> str:
    """The line with `code` blanked out (same length, so columns stay): markup shown as code is text."""
    return INLINE_CODE.sub(lambda m: " " * len(m.group(0)), text)


def check_images(lines: list, root: Path) -> list[Problem]:
    problems = []
    for line in lines:
        for match in IMAGE.finditer(_without_inline_code(line.text)):
            shown, column = relative(line.path, root), match.start() + 1
            found = attributes(match.group("attrs"))
            # an image without alt text is reported once, by engine/pdf_ua.py (which sees every image form)
            problems += _unknown_attributes(found, FIGURE_ATTRIBUTES, "structure.what_figure", shown, line.line,
                                            match.start("attrs") + 1 if match.group("attrs") else column)
    return problems


def check_table_attributes(lines: list, root: Path) -> list[Problem]:
    problems = []
    for line in lines:
        if match := TABLE_CAPTION.match(_without_inline_code(line.text)):
            problems += _unknown_attributes(attributes(match.group("attrs")), TABLE_ATTRIBUTES, "structure.what_table",
                                            relative(line.path, root), line.line, match.start("attrs") + 1)
    return problems


def _unknown_attributes(found: dict[str, str], known: tuple[str, ...], what: str, shown: str, line: int,
                        column: int) -> list[Problem]:
    problems = []
    for name in found:
        if name in known or name.startswith("data-"):
            continue
        meant = ATTRIBUTE_SYNONYMS.get(name.lower())
        close = [meant] if meant in known else get_close_matches(name, known, n=1, cutoff=0.6)
        message = _("structure.attribute_did_you_mean", name=name, what=_(what), close=close[0]) if close else \
            _("structure.attribute_unknown", name=name, what=_(what), known=", ".join(known))
        problems.append(Problem(shown, line, column, message, "warning"))
    return problems
