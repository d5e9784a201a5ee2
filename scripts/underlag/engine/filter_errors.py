"""A Lua filter that stopped, turned into a problem at the writer's file and line.

The filters check what they can (a cross-reference without a target, …) and stop with a short
message naming the element (`@fig-x`). pandoc adds a Lua stack trace, which helps nobody who
writes chapters: `run_pandoc` keeps only the message (FilterError), and here the element it names
is found in the sources. When the message names nothing that can be found, each chapter is run
through the filters on its own, and the first that fails is named.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

from underlag.engine.errors import Problem, relative
from underlag.engine.messages import text
from underlag.engine.render.pandoc import FilterError

# What a filter's message may name: a reference or label (@fig-x, fig-x, #tbl-y)
NAMED = re.compile(r"[@#]?([A-Za-z][\w]*-[\w:.-]*\w)")


def filter_problems(error: FilterError, lines, document: dict | None) -> list[Problem]:
    """Where the filter stopped: the line naming the element, else the chapter, else the book."""
    message = text("filter_errors.advice", filter=error.filter_name, message=error.message)
    for name in NAMED.findall(error.message):
        for needle in (f"@{name}", f"#{name}", name):
            for line in lines:
                column = line.text.find(needle)
                if column >= 0 and not line.code:
                    return [Problem(relative(line.path, error.root), line.line, column + 1, message)]
    chapter = _failing_chapter(error, document) if document else None
    return [Problem(chapter or "_quarto.yml", None, None, message)]


def _failing_chapter(error: FilterError, document: dict) -> str | None:
    """The first chapter that makes the filters stop when run alone (only on this failure path)."""
    command, skip = [], False
    for argument in error.command:  # the same filters and options, output discarded
        if skip or argument == "--output":
            skip = not skip
            continue
        command.append(argument)
    for block in document.get("blocks", []):
        if block.get("t") != "Div" or "chapter" not in block["c"][0][1]:
            continue
        alone = {**document, "blocks": [block]}
        result = subprocess.run([*command, "--output", os.devnull], input=json.dumps(alone), capture_output=True,
                                text=True, cwd=error.root)
        if result.returncode != 0:
            return dict(block["c"][0][2]).get("source")
    return None

