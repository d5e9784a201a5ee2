"""Writing generated files: only when their content changed, never half-written, one writer
at a time."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from underlag.engine.confine import output_path, prepare_area
from underlag.engine.errors import InputError, Problem, UnderlagError
from underlag.engine.messages import text as _

LOCK_FILE = ".underlag.lock"  # beside report/, not in it: a failed build leaves report/ exactly as it was


# who holds the lock, as the waiting command names it (the holder writes its purpose into the file)
HOLDERS = {"preview": "lock.holder.preview", "publish": "lock.holder.publish", "build": "lock.holder.build"}
LOCK_POLL = 0.1  # seconds between two tries while waiting


@contextmanager
def project_lock(root: Path, wait: float = 0.0, waiting: Callable[[str], None] | None = None,
                 purpose: str = "build") -> Iterator[None]:
    """Hold the project's lock. If another build, publish or the preview holds it, wait up to
    `wait` seconds for it (telling `waiting` once, with a sentence that names the holder), then
    fail with a message that says who holds it.

    The project folder must exist (it is never created), and the lock file is opened without
    following a link: a committed `.underlag.lock` link must not truncate the file it points to.
    """
    if not root.is_dir():
        raise InputError([Problem(str(root), None, None, _("files.no_project"))])
    path = output_path(root, root / LOCK_FILE)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError:  # ELOOP: a link appeared after the check
        output_path(root, path)
        raise
    with os.fdopen(descriptor, "w") as handle:
        _acquire(handle, path, wait, waiting)
        _HELD.add(descriptor)
        handle.truncate()
        handle.write(f"{os.getpid()} {purpose}\n")
        handle.flush()
        _remove_stale_temporaries(root)
        try:
            yield
        finally:
            _HELD.discard(descriptor)
            fcntl.flock(handle, fcntl.LOCK_UN)


# Lock descriptors this process holds. A forked child (the figure workers) inherits them, and an
# flock lasts while any process holds the descriptor: a worker left behind by a killed build would
# keep the project locked. So a child points each of them at /dev/null at once (the number stays
# valid for the inherited file object; the lock stays with the parent alone).
_HELD: set[int] = set()


def _drop_inherited_locks() -> None:
    if not _HELD:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    for descriptor in _HELD:
        os.dup2(null, descriptor)
    os.close(null)
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def _acquire(handle, path: Path, wait: float, waiting: Callable[[str], None] | None) -> None:
    """Take the lock, polling until `wait` seconds have passed (flock itself cannot time out)."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(path)
            if time.monotonic() >= deadline:
                limit = _("lock.after", seconds=f"{wait:g}") if wait else ""
                raise UnderlagError(_("lock.held", holder=holder, lock=LOCK_FILE, limit=limit)) from None
            if waiting is not None and not told:
                waiting(_("lock.waiting", holder=holder))
                told = True
            time.sleep(LOCK_POLL)


def _holder(path: Path) -> str:
    """Who holds the lock, from what it wrote into the lock file (a pid and its purpose)."""
    try:
        purpose = path.read_text("utf-8").split()[1]
    except (OSError, IndexError, UnicodeDecodeError):  # written by an older version, or just being written
        return _(HOLDERS["build"])
    return _(HOLDERS.get(purpose, HOLDERS["build"]))  # a purpose a newer version wrote: a build


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
