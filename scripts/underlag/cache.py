"""A content-addressed cache for build stages: hashes of real inputs, never modification times.

An entry remembers the key it was made from and the sha256 of every file it produced. It is
reused only when the key matches and every file is still there with the same content, so a
deleted, edited or corrupt output (or a corrupt index) just means the stage runs again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .files import write_if_changed

CACHE_DIR = ".underlag-cache"
INDEX = "index.json"
FORMAT_VERSION = 1


def digest(*parts: Any) -> str:
    """A stable hash of JSON-able parts (bytes are hashed as they are)."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode("utf-8")
        hasher.update(hashlib.sha256(data).digest())
    return hasher.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Cache:
    def __init__(self, root: Path):
        self.path = root / CACHE_DIR / INDEX
        self.entries: dict[str, dict] = self._read()
        self.used: dict[str, str] = {}  # entry name -> "cached" or "rebuilt", for the build's summary

    def _read(self) -> dict[str, dict]:
        try:
            index = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
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
            intact = all(file_hash(Path(path)) == sha for path, sha in entry.get("files", {}).items())
        except OSError:
            return None
        if not intact:
            return None
        self.used[name] = "cached"
        return entry.get("value")

    def store(self, name: str, key: str, files: list[Path], value: Any = True) -> None:
        """Record a stage's result; `value` must not be None (None means "not cached")."""
        self.entries[name] = {"key": key, "files": {str(p): file_hash(p) for p in files}, "value": value}
        self.used[name] = "rebuilt"

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        index = {"version": FORMAT_VERSION, "entries": self.entries}
        write_if_changed(self.path, json.dumps(index, sort_keys=True, indent=1).encode("utf-8"))
