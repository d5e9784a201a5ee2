"""The archive of published versions: the branch `versioner` in the project's own Git repository.

`report/` never survives a build server's run, so published versions live in Git: one folder
per version (`<version>/` with every output, `manifest.json`, `CHANGELOG.md` and the inputs)
and the versions index at the branch's root. History is read from the local branch or, in a
fresh clone, from `origin/versioner`. A new version is written as one commit with Git's
plumbing (a temporary index, `hash-object`, `commit-tree`, `update-ref` with the old value),
so the working branch, the index and the working tree are never touched, and two clones that
race are told instead of one silently losing its version.

Inputs are read from Git's view of the tree (`ls-files -s`, `cat-file`), never through the
filesystem, so a committed link to `/proc/self/environ` or to a folder outside the project is
refused instead of copied.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from underlag.engine.errors import Problem, UnderlagError, UsageError
from underlag.engine.messages import text as _

BRANCH = "versioner"
LOCAL = f"refs/heads/{BRANCH}"
REMOTE = f"refs/remotes/origin/{BRANCH}"
NO_COMMIT = "0" * 40  # update-ref's old value meaning "the branch must not exist yet"
REGULAR = ("100644", "100755")  # plain and executable files; links (120000) and submodules (160000) are refused
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class GitError(UnderlagError):
    """Git refused a command we rely on (exit status 1: not the writer's input)."""


def git(root: Path, *args: str, data: bytes | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> bytes:
    result = subprocess.run(["git", *args], cwd=root, input=data, capture_output=True,
                            env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise GitError(_("history.git_failed", command=args[0],
                         reason=result.stderr.decode("utf-8", "replace").strip()))
    return result.stdout


def _ok(root: Path, *args: str) -> bool:
    return subprocess.run(["git", *args], cwd=root, capture_output=True).returncode == 0


def is_repository(root: Path) -> bool:
    return _ok(root, "rev-parse", "--is-inside-work-tree")


def require_repository(root: Path) -> None:
    if not is_repository(root):
        raise UsageError(_("history.not_repository", root=root, branch=BRANCH))


@dataclass(frozen=True)
class History:
    commit: str | None  # the newest commit of the versions branch, or None before the first version
    source: str | None  # the ref it was read from: refs/heads/versioner or refs/remotes/origin/versioner
    local: str | None  # the local branch's current commit: the expected old value when it moves

    @property
    def missing(self) -> bool:
        return self.commit is None


def _resolve(root: Path, ref: str) -> str | None:
    out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=root,
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def read_history(root: Path) -> History:
    """The versions branch as this clone knows it: the local branch, origin's, or the newer of both."""
    if not is_repository(root):
        return History(None, None, None)
    local, remote = _resolve(root, LOCAL), _resolve(root, REMOTE)
    if local and remote and local != remote:
        if _ok(root, "merge-base", "--is-ancestor", remote, local):
            return History(local, LOCAL, local)
        if _ok(root, "merge-base", "--is-ancestor", local, remote):
            return History(remote, REMOTE, local)  # the local branch is behind: continue from origin's
        raise UsageError(_("history.diverged", branch=BRANCH))
    if local:
        return History(local, LOCAL, local)
    return History(remote, REMOTE if remote else None, None)


def published_versions(root: Path, history: History) -> list[str]:
    """Versions on the branch that have a manifest, oldest first."""
    if history.commit is None:
        return []
    names = [n for n in git(root, "ls-tree", "-z", "--name-only", history.commit).decode().split("\0")
             if SEMVER.match(n)]
    if not names:
        return []
    query = "".join(f"{history.commit}:{name}/manifest.json\n" for name in names).encode()
    answers = git(root, "cat-file", "--batch-check", data=query).decode().splitlines()
    found = [name for name, answer in zip(names, answers) if not answer.endswith("missing")]
    return sorted(found, key=lambda v: tuple(int(p) for p in SEMVER.match(v).groups()))  # type: ignore[union-attr]


def read_file(root: Path, history: History, path: str) -> bytes | None:
    if history.commit is None:
        return None
    result = subprocess.run(["git", "cat-file", "blob", f"{history.commit}:{path}"], cwd=root, capture_output=True)
    return result.stdout if result.returncode == 0 else None


@dataclass(frozen=True)
class Entry:
    mode: str
    sha: str
    path: str  # relative to the project folder, with forward slashes


def _entries(listing: bytes, sha_field: int) -> list[Entry]:
    """Entries of a `-z` listing whose records are "<meta>\t<path>": `git ls-tree` has the blob in
    the third meta field (mode type sha), `git ls-files -s` in the second (mode sha stage)."""
    entries = []
    for record in listing.decode("utf-8", "surrogateescape").split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            fields = meta.split()
            entries.append(Entry(fields[0], fields[sha_field], path))
    return entries


def _tree_entries(root: Path, treeish: str) -> list[Entry]:
    return _entries(git(root, "ls-tree", "-r", "-z", "--full-tree", treeish), sha_field=2)


def extract(root: Path, treeish: str, destination: Path) -> None:
    """Write a tree of the repository into a new folder: regular files only, never through a link."""
    entries = _tree_entries(root, treeish)
    _write_blobs(root, [e for e in entries if e.mode in REGULAR], destination)


def _write_blobs(root: Path, entries: list[Entry], destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    if not entries:
        return
    blobs = subprocess.run(["git", "cat-file", "--batch"], cwd=root, capture_output=True, check=True,
                           input="".join(f"{e.sha}\n" for e in entries).encode()).stdout
    offset = 0
    for entry in entries:
        header_end = blobs.index(b"\n", offset)
        size = int(blobs[offset:header_end].split()[2])
        content = blobs[header_end + 1: header_end + 1 + size]
        offset = header_end + 1 + size + 1
        target = destination / entry.path
        if ".." in Path(entry.path).parts:  # Git never stores such a path; refuse rather than trust it
            raise GitError(_("history.path_escapes", path=entry.path))
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL|O_NOFOLLOW: a fresh folder is written, never through something already there
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o755 if entry.mode == "100755" else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)


def tracked(root: Path, pathspecs: list[str]) -> list[Entry]:
    """The inputs as Git holds them (mode and blob), paths relative to the project folder."""
    return _entries(git(root, "ls-files", "-s", "-z", "--", *pathspecs), sha_field=1)


def special_files(root: Path, entries: list[Entry]) -> list[Problem]:
    """A link or a submodule among the inputs, each located; a version copies plain files only."""
    problems = []
    for entry in entries:
        if entry.mode == "120000":
            target = git(root, "cat-file", "blob", entry.sha).decode("utf-8", "replace")
            problems.append(Problem(entry.path, None, None, _("history.symlink", target=_short(target))))
        elif entry.mode == "160000":
            problems.append(Problem(entry.path, None, None, _("history.submodule")))
        elif entry.mode not in REGULAR:
            problems.append(Problem(entry.path, None, None, _("history.file_mode", mode=entry.mode)))
    return problems


def _short(text: str, length: int = 60) -> str:
    text = text.encode("unicode_escape").decode("ascii")  # a control character in a link target stays visible
    return text if len(text) <= length else text[: length - 1] + "…"


def uncommitted(root: Path, pathspecs: list[str]) -> list[Problem]:
    """Inputs that differ from the last commit: a version is built from what Git holds, nothing else."""
    out = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *pathspecs,
              env={"GIT_OPTIONAL_LOCKS": "0"}).decode("utf-8", "surrogateescape")  # not even a stat refresh of the index
    records = out.split("\0")
    problems = []
    skip = False
    for record in records:
        if skip or not record:
            skip = False
            continue
        code, path = record[:2], record[3:]
        skip = "R" in code or "C" in code  # a rename is followed by its old name
        problems.append(Problem(path, None, None, _("history.untracked" if code == "??" else "history.modified")))
    return problems


def copy_tracked(root: Path, entries: list[Entry], destination: Path) -> None:
    _write_blobs(root, entries, destination)


def _identity() -> dict[str, str]:
    """A build server's fresh clone often has no user.name: sign as the tool rather than fail."""
    return {"GIT_AUTHOR_NAME": "underlag", "GIT_AUTHOR_EMAIL": "underlag@localhost",
            "GIT_COMMITTER_NAME": "underlag", "GIT_COMMITTER_EMAIL": "underlag@localhost"}


def commit_version(root: Path, history: History, version: str, folder: Path, inputs: list[Entry],
                   inputs_dir: str, root_files: dict[str, bytes], epoch: int) -> str:
    """One commit on the versions branch adding `<version>/` (the files in `folder`, the inputs as Git
    already holds them) and replacing `root_files` at the branch root. Returns the commit."""
    with tempfile.TemporaryDirectory(prefix="underlag-index-") as temporary:
        env = {"GIT_INDEX_FILE": str(Path(temporary) / "index")}  # never the working tree's index
        if history.commit:
            git(root, "read-tree", history.commit, env=env)
        lines = [f"{e.mode} {e.sha}\t{version}/{inputs_dir}/{e.path}" for e in inputs]
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and inputs_dir not in
                           p.relative_to(folder).parts[:1]):
            sha = git(root, "hash-object", "-w", "--stdin", data=path.read_bytes()).decode().strip()
            lines.append(f"100644 {sha}\t{version}/{path.relative_to(folder).as_posix()}")
        for name, content in sorted(root_files.items()):
            sha = git(root, "hash-object", "-w", "--stdin", data=content).decode().strip()
            lines.append(f"100644 {sha}\t{name}")
        git(root, "update-index", "--add", "-z", "--index-info",
            data="".join(line + "\0" for line in lines).encode("utf-8", "surrogateescape"), env=env)
        tree = git(root, "write-tree", env=env).decode().strip()
    stamp = f"@{epoch} +0000"
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    if not _ok(root, "var", "GIT_COMMITTER_IDENT"):
        env.update(_identity())
    parents = ["-p", history.commit] if history.commit else []
    commit = git(root, "commit-tree", tree, *parents, "-m", f"Version {version}", env=env).decode().strip()
    moved = subprocess.run(["git", "update-ref", "-m", f"underlag publish {version}", LOCAL, commit,
                            history.local or NO_COMMIT], cwd=root, capture_output=True)
    if moved.returncode != 0:  # someone else moved the branch since we read it: their version stays
        raise UsageError(_("history.branch_moved", branch=BRANCH, version=version))
    return commit
