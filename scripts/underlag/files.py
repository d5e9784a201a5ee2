"""Writing generated files: only when their content changed, never half-written, one writer
at a time."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UnderlagError

LOCK_FILE = ".underlag.lock"  # beside report/, not in it: a failed build leaves report/ exactly as it was


@contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Hold the project's lock, or fail at once if another build or publish holds it."""
    path = root / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UnderlagError(f"another build or publish is running in this project (it holds {LOCK_FILE}); "
                                "wait until it has finished and run the command again") from None
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _remove_stale_temporaries(root)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write via a temporary file and rename; return whether the file changed."""
    if path.is_file() and path.read_bytes() == content:
        return False
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return True


def _remove_stale_temporaries(root: Path) -> None:
    """Work folders left by a killed build or publish; safe to remove while we hold the lock."""
    for pattern in ("report/.build-*", "report/versions/.tmp-*"):
        for path in root.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
