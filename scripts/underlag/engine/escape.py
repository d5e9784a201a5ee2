"""Escaping for the one format data is written into by us: pandoc Markdown.

Every string from data/ passes through `markdown()` before it lands in a fragment, so a
title such as `*x*`, `<script>`, `{{< include >}}` or `#read("/etc/passwd")` stays text.
Pandoc then escapes it again for Typst, HTML and DOCX.
"""

from __future__ import annotations

import re
import string

# Pandoc Markdown lets every ASCII punctuation character be escaped with a backslash.
# Quotes stay unescaped: they are not markup, and left alone they become Swedish ”…”.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation.replace('"', "").replace("'", "")) + "])")
_WHITESPACE = re.compile(r"\s+")


def markdown(text: object) -> str:
    """Literal text for inline Markdown: punctuation escaped, line breaks folded to spaces."""
    return _PUNCTUATION.sub(r"\\\1", _WHITESPACE.sub(" ", str(text)))


class Markup(str):
    """Markdown that is already safe (built by a template or by `markdown()`): not escaped again."""
