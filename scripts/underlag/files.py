"""Writing generated files: only when their content changed, and never half-written."""

from __future__ import annotations

from pathlib import Path


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write via a temporary file and rename; return whether the file changed."""
    if path.is_file() and path.read_bytes() == content:
        return False
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return True
