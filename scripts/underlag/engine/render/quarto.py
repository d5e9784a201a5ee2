"""The optional engine: real Quarto, when a `quarto` binary is on PATH.

The data stages run exactly as for the embedded engine (figures and fragments are written
into the project), then `quarto render` renders the same sources into report/.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from underlag.engine.errors import ToolError, UsageError
from underlag.engine.messages import text as _

QUARTO_FORMATS = {"html": "html", "docx": "docx", "pdf": "typst"}


def quarto_binary() -> str:
    found = shutil.which("quarto")
    if found is None:
        raise UsageError(_("quarto.missing"))
    return found


def render_with_quarto(root: Path, formats: tuple[str, ...], profile: str | None,
                       progress: Callable[[str], None]) -> list[str]:
    binary = quarto_binary()
    rendered = []
    for fmt in formats:
        progress(f"quarto render --to {QUARTO_FORMATS[fmt]}")
        args = [binary, "render", "--to", QUARTO_FORMATS[fmt]] + (["--profile", profile] if profile else [])
        result = subprocess.run(args, cwd=root, capture_output=True, text=True)
        if result.returncode != 0:
            raise ToolError(_("quarto.render_failed", format=QUARTO_FORMATS[fmt], reason=result.stderr.strip()[-2000:]))
        rendered.append(fmt)
    return rendered
