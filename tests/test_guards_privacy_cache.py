"""The personal-data scan as the build runs it: `scan_project_cached`, which keeps the result and
each file's finds in `.underlag-cache` between builds.

What a writer relies on: a warning is never lost or stale because an earlier build stored it (an
edit in any file the book reads, also one outside `chapters/`, is scanned; the message comes in
the language of this run), a damaged cache is scanned again rather than trusted, and an unchanged
file is not scanned again (the preview scans at every save). The four ways of scanning giving the
same warnings is held by `privacy_scan` in every test of test_guards_privacy*.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from underlag.engine import privacy
from underlag.engine.cache import CACHE_DIR, INDEX, Cache
from underlag.engine.messages import set_language
from underlag.engine.privacy import scan_project, scan_project_cached

pytestmark = pytest.mark.usefixtures("fresh_privacy_finds")

BOOK = "project:\n  type: book\nbook:\n  title: T\n  chapters:\n    - chapters/a.qmd\n    - chapters/b.qmd\n"


def book(root: Path, files: dict[str, str | bytes]) -> Path:
    base = {"_quarto.yml": BOOK, "chapters/a.qmd": "# A\n\nRing 031-123 45 67.\n",
            "chapters/b.qmd": "# B\n\nInget här.\n"}
    for name, text in {**base, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


def build_scan(root: Path) -> list:
    """One build's scan: the cache read from disk, the scan, the cache saved."""
    cache = Cache(root)
    problems = scan_project_cached(root, cache)
    cache.save()
    return problems


def new_process() -> None:
    """What a new build process knows: nothing but the cache on disk."""
    privacy._LINE_HITS.clear()
    privacy._FOLDED.clear()


def places(problems) -> list[tuple[str, int]]:
    return [(problem.path, problem.line) for problem in problems]


def test_a_stored_warning_comes_in_the_language_of_this_run(tmp_path):
    root = book(tmp_path, {})
    try:
        set_language("sv")
        swedish = build_scan(root)
        set_language("en")
        english, expected = build_scan(root), scan_project(root)
    finally:
        set_language(None)
    assert swedish != expected
    assert english == expected


def test_an_edit_in_an_included_file_outside_the_chapters_is_scanned(tmp_path):
    root = book(tmp_path, {"chapters/b.qmd": "# B\n\n{{< include ../delar/kontakt.md >}}\n",
                           "delar/kontakt.md": "Inget nummer.\n"})
    assert places(build_scan(root)) == [("chapters/a.qmd", 3)]
    (root / "delar/kontakt.md").write_text("Mejla anna@example.se.\n", "utf-8")
    assert sorted(places(build_scan(root))) == [("chapters/a.qmd", 3), ("delar/kontakt.md", 1)]


def test_an_edited_chapter_is_scanned_and_the_stored_result_is_not_reused(tmp_path):
    root = book(tmp_path, {})
    assert places(build_scan(root)) == [("chapters/a.qmd", 3)]
    (root / "chapters/b.qmd").write_text("# B\n\nAnna har 19121212-1212.\n", "utf-8")
    new_process()
    assert places(build_scan(root)) == [("chapters/a.qmd", 3), ("chapters/b.qmd", 3)]


@pytest.fixture
def scanned_lines(monkeypatch):
    """Every line the scan looks at with `find`, and every YAML file it composes, in this test."""
    seen = {"lines": [], "yaml": []}
    find, folded = privacy.find, privacy._folded_values

    def spy_find(line):
        seen["lines"].append(line)
        return find(line)

    def spy_folded(path, root):
        seen["yaml"].append(path.name)
        return folded(path, root)

    monkeypatch.setattr(privacy, "find", spy_find)
    monkeypatch.setattr(privacy, "_folded_values", spy_folded)
    return seen


WINDOWS = {  # written on Windows: CRLF, so the text the line scan reads differs from the bytes
    "data/kontakter.yaml": b"namn: Anna\r\nnot: >\r\n  ring 031-123\r\n  45 67\r\n",
    "chapters/c.qmd": b"# C\r\n\r\nEtt ord.\r\n",
    "chapters/latin.qmd": "# Å\n\nRing 031-765 43 21.\n".encode("latin-1"),  # not UTF-8: still scanned
}


def test_an_unchanged_file_is_not_scanned_again_in_the_next_build(tmp_path, scanned_lines):
    root = book(tmp_path, WINDOWS)
    first = build_scan(root)
    assert "Ring 031-123 45 67." in scanned_lines["lines"] and scanned_lines["yaml"]
    new_process()
    (root / "chapters/b.qmd").write_text("# B\n\nNu med anna@example.se.\n", "utf-8")
    scanned_lines["lines"].clear(), scanned_lines["yaml"].clear()
    second = build_scan(root)
    assert sorted(places(second)) == sorted([*places(first), ("chapters/b.qmd", 3)])
    assert "Nu med anna@example.se." in scanned_lines["lines"]  # the edited chapter
    assert [line for line in scanned_lines["lines"] if "031" in line or "Ett ord" in line] == []
    assert scanned_lines["yaml"] == []  # no YAML file composed again


def test_the_cache_keeps_the_finds_of_the_files_as_they_are_now_only(tmp_path):
    root = book(tmp_path, {})
    for text in ("# B\n\nEtt.\n", "# B\n\nTvå.\n", "# B\n\nTre.\n"):
        (root / "chapters/b.qmd").write_text(text, "utf-8")
        build_scan(root)
    stored = json.loads((root / CACHE_DIR / INDEX).read_text("utf-8"))["entries"]["stage:privacy-files"]["value"]
    assert len(stored["lines"]) == 3  # _quarto.yml, a.qmd, b.qmd as it is now
    assert len(stored["folded"]) == 1  # _quarto.yml


@pytest.mark.parametrize("damage", [
    {"lines": "not a mapping"},
    {"lines": {"*": "not a list"}},
    {"lines": {"*": [[1, 2, 3]]}},  # a find of the wrong length
    {"lines": {"*": ["not a list"]}},
    {"folded": {"*": [[1, 2, 3, 4, 5, 6]]}},
    {"folded": {"*": [[]]}},
])
def test_damaged_stored_finds_are_scanned_again(tmp_path, damage):
    root = book(tmp_path, {"data/a.yaml": "not: >\n  ring 031-123\n  45 67\n"})
    expected = places(scan_project(root))
    build_scan(root)
    index_file = root / CACHE_DIR / INDEX
    index = json.loads(index_file.read_text("utf-8"))
    stored = index["entries"]["stage:privacy-files"]["value"]
    for kind, value in damage.items():
        stored[kind] = {content: value["*"] for content in stored[kind]} if isinstance(value, dict) else value
    del index["entries"]["stage:privacy"]
    index_file.write_text(json.dumps(index), "utf-8")
    new_process()
    assert places(build_scan(root)) == expected


def test_the_finds_stored_by_a_build_of_other_code_are_not_used(tmp_path, monkeypatch):
    root = book(tmp_path, {})
    build_scan(root)
    index_file = root / CACHE_DIR / INDEX
    index = json.loads(index_file.read_text("utf-8"))
    stored = index["entries"]["stage:privacy-files"]["value"]["lines"]
    for content in stored:
        stored[content] = []  # what a build of code that found nothing would have stored ...
    del index["entries"]["stage:privacy"]
    index_file.write_text(json.dumps(index), "utf-8")
    new_process()
    monkeypatch.setattr("underlag.engine.cache.package_digest", lambda: "other code")  # ... under its key
    assert places(build_scan(root)) == [("chapters/a.qmd", 3)]


def test_the_memory_of_finds_stays_bounded_in_a_long_session():
    for number in range(1100):
        privacy._line_hits(f"rad {number}\n")
    assert 0 < len(privacy._LINE_HITS) <= 1001


def test_without_a_cache_the_scan_is_the_plain_one(tmp_path):
    root = book(tmp_path, {})
    assert scan_project_cached(root) == scan_project(root) != []
    assert not (root / CACHE_DIR).exists()


def test_a_build_with_nothing_changed_takes_the_stored_result_without_scanning(tmp_path, monkeypatch):
    root = book(tmp_path, WINDOWS)
    first = build_scan(root)
    new_process()
    scans = []
    scan = privacy._scan
    monkeypatch.setattr(privacy, "_scan", lambda root: scans.append(root) or scan(root))
    assert build_scan(root) == first and scans == []


@pytest.mark.parametrize("new_file", ["data/ny.yaml", "data/del/ny.csv", "chapters/ny.qmd", "chapters/del/ny.md",
                                      "_quarto-ny.yml"])
def test_a_file_added_after_a_build_is_scanned(tmp_path, new_file):
    root = book(tmp_path, {})
    build_scan(root)
    (root / new_file).parent.mkdir(parents=True, exist_ok=True)
    (root / new_file).write_text("kontakt: anna@example.se\n" if new_file.endswith(("yaml", "yml"))
                                 else "id;kontakt\n1;anna@example.se\n" if new_file.endswith("csv")
                                 else "# Ny\n\nanna@example.se\n", "utf-8")
    assert new_file in [problem.path for problem in build_scan(root)]


def test_the_result_stored_by_a_build_of_other_code_is_not_used(tmp_path, monkeypatch):
    root = book(tmp_path, {})
    build_scan(root)
    index_file = root / CACHE_DIR / INDEX
    index = json.loads(index_file.read_text("utf-8"))
    index["entries"]["stage:privacy"]["value"] = []  # what a build of code that found nothing stored ...
    index_file.write_text(json.dumps(index), "utf-8")
    assert build_scan(root) == []  # (the stored result is what a build with the same code takes)
    monkeypatch.setattr("underlag.engine.cache.package_digest", lambda: "other code")  # ... under its key
    assert places(build_scan(root)) == [("chapters/a.qmd", 3)]
