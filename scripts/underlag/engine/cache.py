"""A content-addressed cache for build stages: hashes of real inputs, never modification times.

An entry remembers the key it was made from and the sha256 of every file it produced. It is
reused only when the key matches and every file is still there with the same content, so a
deleted, edited or corrupt output (or a corrupt index) just means the stage runs again.

Files are recorded relative to the project, so a copied project (`cp -a proj proj2`) keeps a
valid cache that refers to its own files, never to the original's.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from underlag.engine.confine import check_read, output_path, prepare_area
from underlag.engine.errors import InputError
from underlag.engine.files import write_if_changed

CACHE_DIR = ".underlag-cache"
INDEX = "index.json"
FORMAT_VERSION = 2  # 2: files relative to the project


def digest(*parts: Any) -> str:
    """A stable hash of JSON-able parts (bytes are hashed as they are)."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode("utf-8")
        hasher.update(hashlib.sha256(data).digest())
    return hasher.hexdigest()


@functools.cache
def package_digest() -> str:
    """The content of the code and templates that produce the outputs: every *.py and *.lua of this
    package and every template it ships, hashed once per process. A cache key holds this, never the
    version string, so an edited renderer or an upgrade without a version bump re-renders."""
    from underlag.engine.confine import PACKAGE, SHIPPED_TEMPLATES

    code = [p for p in sorted(PACKAGE.rglob("*")) if p.suffix in (".py", ".lua") and p.is_file()]
    templates = [p for p in sorted(SHIPPED_TEMPLATES.rglob("*")) if p.is_file()]
    return digest([(p.relative_to(PACKAGE).as_posix(), file_hash(p)) for p in code],
                  [(p.relative_to(SHIPPED_TEMPLATES).as_posix(), file_hash(p)) for p in templates])


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Cache:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.path = self.root / CACHE_DIR / INDEX
        self.entries: dict[str, dict] = self._read()
        self.used: dict[str, str] = {}  # entry name -> "cached" or "rebuilt", for the build's summary

    def _read(self) -> dict[str, dict]:
        try:
            index = json.loads(output_path(self.root, self.path).read_text("utf-8"))
        except (OSError, ValueError, InputError):  # a linked cache folder is reported when the book is read
            return {}
        if not isinstance(index, dict) or index.get("version") != FORMAT_VERSION:
            return {}
        entries = index.get("entries")
        return entries if isinstance(entries, dict) else {}

    def lookup(self, name: str, key: str) -> Any | None:
        """The stored value when the key matches and every recorded file is intact, else None."""
        entry = self.entries.get(name)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        try:
            intact = all(file_hash(output_path(self.root, self.root / path)) == sha
                         for path, sha in entry.get("files", {}).items())
        except (OSError, ValueError, InputError):  # gone, unreadable, or a path the index must not name
            return None
        if not intact or not self._inputs_intact(entry.get("inputs", {})):
            return None
        self.used[name] = "cached"
        return entry.get("value")

    def store(self, name: str, key: str, files: list[Path], value: Any = True, inputs: list[Path] = ()) -> None:
        """Record a stage's result; `value` must not be None (None means "not cached").

        `files` are the stage's outputs (in the tool's own folders); `inputs` are project files the
        stage found only while it ran (the images a chapter names), so they cannot be in the key:
        the entry holds while they keep their content."""
        self.entries[name] = {"key": key, "value": value,
                              "files": {self.relative(p): file_hash(p) for p in files},
                              "inputs": {self._input_name(p): file_hash(p) for p in inputs}}
        self.used[name] = "rebuilt"

    def _input_name(self, path: Path) -> str:
        return check_read(self.root, path).relative_to(self.root).as_posix()

    def _inputs_intact(self, inputs: dict[str, str]) -> bool:
        try:
            return all(file_hash(check_read(self.root, self.root / path)) == sha for path, sha in inputs.items())
        except (OSError, ValueError, InputError):
            return False

    def relative(self, path: Path) -> str:
        """An output's name in the index: relative to the project, checked to be one of our outputs."""
        return output_path(self.root, path).relative_to(self.root).as_posix()

    def save(self) -> None:
        prepare_area(self.root, CACHE_DIR)
        index = {"version": FORMAT_VERSION, "entries": self.entries}
        write_if_changed(self.path, json.dumps(index, sort_keys=True, indent=1).encode("utf-8"), self.root)
