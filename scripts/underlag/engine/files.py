"""Writing generated files: only when their content changed, never half-written, one writer
at a time."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from underlag.engine.confine import output_path, prepare_area
from underlag.engine.errors import InputError, Problem, UnderlagError

LOCK_FILE = ".underlag.lock"  # beside report/, not in it: a failed build leaves report/ exactly as it was


@contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Hold the project's lock, or fail at once if another build or publish holds it.

    The project folder must exist (it is never created), and the lock file is opened without
    following a link: a committed `.underlag.lock` link must not truncate the file it points to.
    """
    if not root.is_dir():
        raise InputError([Problem(str(root), None, None, "projektmappen finns inte; ange en befintlig mapp "
                                                         "med --project")])
    path = output_path(root, root / LOCK_FILE)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError:  # ELOOP: a link appeared after the check
        output_path(root, path)
        raise
    with os.fdopen(descriptor, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UnderlagError(f"another build or publish is running in this project (it holds {LOCK_FILE}); "
                                "wait until it has finished and run the command again") from None
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _remove_stale_temporaries(root)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_if_changed(path: Path, content: bytes, root: Path | None = None) -> bool:
    """Write via a temporary file and rename; return whether the file changed.

    With `root`, the path must lie in one of the tool's output areas of that project (see confine),
    checked before anything is read or written.
    """
    if root is not None:
        path = output_path(root, path)
    if path.is_file() and path.read_bytes() == content:
        return False
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return True


def _remove_stale_temporaries(root: Path) -> None:
    """Work folders left by a killed build or publish; safe to remove while we hold the lock."""
    if not (root / "report").exists() and not (root / "report").is_symlink():
        return  # nothing was left, and a refused command should not leave an empty report/ behind
    report = prepare_area(root, "report")
    for pattern in (".build-*", "versions/.tmp-*"):
        for path in report.glob(pattern):
            shutil.rmtree(output_path(root, path), ignore_errors=True)
