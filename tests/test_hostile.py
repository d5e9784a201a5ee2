"""A hostile contributor's corpus: each attack is committed to a small project the way a branch
would bring it, the build runs, and the exact outcome is asserted: the exit status, a Swedish
(or located) message at the file and line to fix, a canary folder OUTSIDE the project that is
byte-for-byte unchanged, and no canary text in anything the build wrote.

The folder layout of every case:
    tmp/utanfor/          the canary: files an attacker would like to read, overwrite or delete
    tmp/proj/             the project under attack (the plain test book, or the real report)
    tmp/proj-sibling/     a folder whose name starts like the project's (issue 21: by components)
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PROJECT, copy_project
from underlag.engine.messages import ENGINE, language, text

PLAIN_BOOK = Path(__file__).parent / "fixtures" / "plain-book"
SECRET = "HEMLIG-KANARIE-7f3a"  # if this text turns up in an output, an outside file was read


def tree_digest(folder: Path) -> dict[str, str]:
    """Every entry below `folder` (links not followed) with the hash of its content."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = "link:" + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "dir"
    return found


def make_canary(outside: Path) -> None:
    outside.mkdir()
    (outside / "hemlig.yaml").write_text(f"title: {SECRET}\nallowed: [{SECRET}]\n", "utf-8")
    (outside / "hemlig.md").write_text(f"{SECRET} i en fil utanför projektet.\n", "utf-8")
    (outside / "stil.css").write_text(f"/* {SECRET} */ body {{ color: red; }}\n", "utf-8")
    (outside / "gammal.md").write_text("En fil som en städning av genererade delar skulle ta bort.\n", "utf-8")
    (outside / "mal.md").write_text("Skulle skrivas över av ett genererat avsnitt.\n", "utf-8")
    (outside / "beslutsunderlag.html").write_text(f"<p>{SECRET}</p>\n", "utf-8")
    (outside / "lås.txt").write_text("Skulle kortas till en processidentitet.\n", "utf-8")
    shutil.copy(PLAIN_BOOK / "bilder/stapel.png", outside / "bild.png")
    (outside / "sub").mkdir()
    (outside / "sub" / "djup.md").write_text(f"{SECRET}\n", "utf-8")


def secret_in_outputs(project: Path) -> list[str]:
    """Regular files the build wrote (outputs, generated parts, cache) that hold the canary text."""
    hits = []
    for area in ("report", "figures", "chapters/_generated", ".underlag-cache"):
        folder = project / area
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink() and SECRET.encode() in path.read_bytes():
                hits.append(str(path))
    return hits


@dataclass
class Outcome:
    returncode: int
    stderr: str
    project: Path
    outside: Path


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "underlag", *args], cwd=project, capture_output=True,
                          text=True, timeout=300)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + "\n" + text + "\n", "utf-8")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def link(path: Path, target: str | Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def steps(*actions: Callable[[Path, Path], object], line: Callable[[Path, Path], int | None] = lambda p, o: None):
    """A setup made of several actions, returning the line the message must name."""
    def setup(project: Path, outside: Path) -> int | None:
        for action in actions:
            action(project, outside)
        return line(project, outside)
    return setup


def write(name: str, text: str) -> Callable[[Path, Path], None]:
    def action(project: Path, outside: Path) -> None:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, "utf-8")
    return action


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


# --- the messages, from the catalogue in the language the tests run in (read when the module loads) ---

def part(key: str) -> str:
    """The longest fixed stretch of a catalogue message (between its placeholders): what every line
    with that message holds, whatever the placeholders are filled with."""
    return max(re.split(r"\{[^{}]*\}", ENGINE.entries(language())[key]), key=len).strip()


def any_of(*keys: str) -> tuple[str, ...]:
    return tuple(part(key) for key in keys)


def shape(kind: str, label: str | None = None) -> str:
    """The wrong-shape message up to what was found: "book ska vara en mappning" (without a label:
    what follows the label)."""
    said = text("yaml.wrong_kind", label="\x00", kind=text(f"yaml.kind.{kind}"), found="\x01").split("\x01")[0]
    return said.replace("\x00", label) if label else said.split("\x00", 1)[1]


LINK_IN_OUTPUT = part("confine.link_in_output")
LINK_OUT = part("confine.link_outside")
ANY_LINK = any_of("confine.link_in_output", "confine.link_outside", "confine.link_loop")
OUTSIDE = any_of("confine.outside", "sanitize.outside", "book.output_dir_outside")


# --- the attacks --------------------------------------------------------------------------------
# Each: (id, which project, setup(project, outside), command args, exit status, expected message
# start (the located place) and a fragment of the message). `{line}` is filled from the setup's return.


@dataclass(frozen=True)
class Attack:
    id: str
    real: bool  # the real report (data stages) or the plain test book
    setup: Callable[[Path, Path], int | None]
    place: str  # what a stderr line starts with, e.g. "chapters/_generated:" or "_quarto.yml:{line}:"
    message: str | tuple[str, ...]  # a fragment of the message, or fragments one of which it holds
    args: tuple[str, ...] = ("build", "--format", "html")
    status: int = 2


def _book_line(key: str) -> Callable[[Path], int]:
    return lambda project: line_of(project / "_quarto.yml", key)


def _output_file(value: str):
    def setup(project: Path, outside: Path) -> int:
        replace_in(project / "_quarto.yml", "output-file: beslutsunderlag", f"output-file: {value.format(outside=outside)}")
        return line_of(project / "_quarto.yml", "output-file")
    return setup


def _metadata_file(value: str):
    def setup(project: Path, outside: Path) -> int:
        replace_in(project / "_quarto.yml", "lang: sv-SE", f"metadata-files:\n  - {value.format(outside=outside)}\nlang: sv-SE")
        return line_of(project / "_quarto.yml", "metadata-files") + 1
    return setup


def _chapter_text(text: str, chapter: str = "chapters/tva.qmd"):
    def setup(project: Path, outside: Path) -> int:
        append(project / chapter, text.format(outside=outside))
        return len((project / chapter).read_text("utf-8").splitlines())
    return setup


def _front_matter(body: str):
    def setup(project: Path, outside: Path) -> int:
        chapter = project / "chapters/tva.qmd"
        chapter.write_text(f"---\n{body}\n---\n\n# Rubrik\n\nText.\n", "utf-8")
        return 2
    return setup


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))


def _csv_cell(text: str, file: str = "data/bedomningar.csv"):
    def setup(project: Path, outside: Path) -> int:
        path = project / file
        lines = path.read_text("utf-8").splitlines()
        lines[2] = lines[2].replace("Ingen ", f"Ingen{text}", 1)
        assert text in lines[2]
        path.write_text("\n".join(lines) + "\n", "utf-8")
        return 3
    return setup


def _sibling_include(project: Path, outside: Path) -> int:
    sibling = project.parent / (project.name + "-sibling")
    sibling.mkdir()
    (sibling / "x.md").write_text(f"{SECRET} från grannmappen.\n", "utf-8")
    append(project / "chapters/tva.qmd", f"{{{{< include ../../{sibling.name}/x.md >}}}}")
    return len((project / "chapters/tva.qmd").read_text("utf-8").splitlines())


def _sibling_image(project: Path, outside: Path) -> int:
    sibling = project.parent / (project.name + "-sibling")
    sibling.mkdir()
    shutil.copy(PLAIN_BOOK / "bilder/stapel.png", sibling / "x.png")
    append(project / "chapters/tva.qmd", f"![Bild](../../{sibling.name}/x.png){{fig-alt=\"x\"}}")
    return len((project / "chapters/tva.qmd").read_text("utf-8").splitlines())


ATTACKS = [
    # writes and deletes through links where the tool writes (issue 13, items 1 and 2)
    Attack("generated-folder-link-out", True,
           lambda p, o: link(p / "chapters/_generated", Path("../..") / o.name),
           "chapters/_generated:", ANY_LINK),
    Attack("generated-folder-link-inside", True,
           lambda p, o: link(p / "chapters/_generated", "../data"), "chapters/_generated:",
           LINK_IN_OUTPUT),
    Attack("figures-folder-link", True, lambda p, o: link(p / "figures", o), "figures:", ANY_LINK),
    Attack("figure-file-link", True,
           lambda p, o: link(p / "figures/tidslinje.svg", o / "gammal.md"), "figures/tidslinje.svg:", ANY_LINK),
    Attack("report-folder-link", False, lambda p, o: link(p / "report", o), "report:", ANY_LINK),
    Attack("report-subfolder-link", False, lambda p, o: link(p / "report/versions", o), "report/versions:", ANY_LINK),
    Attack("cache-folder-link", False, lambda p, o: link(p / ".underlag-cache", o), ".underlag-cache:", ANY_LINK),
    Attack("lock-file-link", False, lambda p, o: link(p / ".underlag.lock", o / "lås.txt"), ".underlag.lock:",
           ANY_LINK),
    Attack("output-file-absolute", False, _output_file("{outside}/beslutsunderlag"), "_quarto.yml:{line}:",
           part("book.output_file_path")),
    Attack("output-file-parent", False, _output_file("../../utanfor/beslutsunderlag"), "_quarto.yml:{line}:",
           part("book.output_file_path")),
    Attack("quarto-output-dir-outside", False,
           steps(lambda p, o: replace_in(p / "_quarto.yml", "type: book", "type: book\n  output-dir: ../utanfor"),
                 line=lambda p, o: line_of(p / "_quarto.yml", "output-dir")),
           "_quarto.yml:{line}:", OUTSIDE, ("check",)),
    Attack("profile-file-link", False, lambda p, o: link(p / "_quarto-kort.yml", o / "hemlig.yaml"),
           "_quarto-kort.yml:", LINK_OUT, ("build", "--format", "html", "--profile", "kort")),
    Attack("output-file-subfolder", False, _output_file("a/b"), "_quarto.yml:{line}:", part("book.output_file_path")),
    # outside files read into outputs (item 7) and links out of the project
    Attack("data-file-link", True, lambda p, o: link(p / "data/mal.yaml", o / "hemlig.yaml"), "data/mal.yaml:",
           LINK_OUT),
    Attack("data-folder-link", True, lambda p, o: link(p / "data/alternativ", o / "sub"), "data/alternativ:",
           LINK_OUT),
    Attack("variables-link", False, lambda p, o: link(p / "_variables.yml", o / "hemlig.yaml"), "_variables.yml:",
           LINK_OUT),
    Attack("quarto-yml-link", False, lambda p, o: link(p / "_quarto.yml", o / "hemlig.yaml"), "_quarto.yml:",
           LINK_OUT),
    Attack("chapter-link", False, lambda p, o: link(p / "chapters/tva.qmd", o / "hemlig.md"), "chapters/tva.qmd:",
           LINK_OUT),
    Attack("chapters-folder-link", False, lambda p, o: link(p / "chapters/delar", o / "sub"), "chapters/delar:",
           LINK_OUT),
    Attack("stylesheet-link", False, lambda p, o: link(p / "templates/html/style.css", o / "stil.css"),
           "templates/html/style.css:", LINK_OUT),
    Attack("image-link", False, lambda p, o: link(p / "bilder/stapel.png", o / "bild.png"), "chapters/ett.qmd:9:22:",
           OUTSIDE),
    Attack("link-loop", False, steps(lambda p, o: link(p / "chapters/l1", "l2"), lambda p, o: link(p / "chapters/l2", "l1")),
           "chapters/l1:", part("confine.link_loop")),
    Attack("image-link-loop", False,
           steps(lambda p, o: link(p / "bilder/slinga.png", "slinga.png"),
                 _chapter_text('![Bild](../bilder/slinga.png){{fig-alt="x"}}'),
                 line=lambda p, o: len((p / "chapters/tva.qmd").read_text("utf-8").splitlines())),
           "chapters/tva.qmd:{line}:9:", text("sanitize.what.image", url="../bilder/slinga.png")),
    Attack("chapter-absolute-path", False,
           lambda p, o: replace_in(p / "_quarto.yml", "- chapters/tva.qmd", f"- {o}/hemlig.md"),
           "_quarto.yml:", "is outside the project"),
    Attack("metadata-file-absolute", False, _metadata_file("{outside}/hemlig.yaml"), "_quarto.yml:{line}:",
           OUTSIDE),
    Attack("metadata-file-etc-passwd", False, _metadata_file("/etc/passwd"), "_quarto.yml:{line}:",
           OUTSIDE),
    Attack("metadata-file-parent", False, _metadata_file("../utanfor/hemlig.yaml"), "_quarto.yml:{line}:",
           OUTSIDE),
    Attack("bibliography-outside", False,
           lambda p, o: replace_in(p / "_quarto.yml", "lang: sv-SE", f"bibliography: {o}/hemlig.yaml\nlang: sv-SE"),
           "_quarto.yml:", "is outside the project"),
    Attack("bibliography-json-wrong-shape", False,
           steps(write("refs.json", "[1, 2]"), lambda p, o: replace_in(p / "_quarto.yml", "lang: sv-SE",
                                                                        "bibliography: refs.json\nlang: sv-SE"),
                 _chapter_text("Enligt [@smith].")),
           "refs.json:1:1:", part("book.bibliography_shape")),
    Attack("bibliography-json-broken", False,
           steps(write("refs.json", '[{"id": "smith",'), lambda p, o: replace_in(p / "_quarto.yml", "lang: sv-SE",
                                                                                 "bibliography: refs.json\nlang: sv-SE"),
                 _chapter_text("Enligt [@smith].")),
           "refs.json:1:", part("book.bibliography_json")),
    Attack("include-sibling-prefix", False, _sibling_include, "chapters/tva.qmd:{line}:", "points outside the project"),
    Attack("image-sibling-prefix", False, _sibling_image, "chapters/tva.qmd:{line}:", OUTSIDE),
    # YAML without the guard (item 9) and the wrong shape (items 10, 12)
    Attack("billion-laughs-front-matter", False,
           _front_matter(BILLION_LAUGHS + "title: *j"), "chapters/tva.qmd:", "too many values"),
    Attack("billion-laughs-allow-list", False, steps(write("data/tillatna-uppgifter.yaml", BILLION_LAUGHS + "allowed: *j\n")),
           "data/tillatna-uppgifter.yaml:", "too many values"),
    Attack("deep-nesting-front-matter", False, _front_matter("title: " + "[" * 5000 + "]" * 5000),
           "chapters/tva.qmd:2:", "nested too deeply"),
    Attack("deep-nesting-quarto-yml", False,
           lambda p, o: append(p / "_quarto.yml", "x: " + "[" * 5000 + "]" * 5000), "_quarto.yml:", "nested too deeply"),
    Attack("allow-list-is-a-list", False, steps(write("data/tillatna-uppgifter.yaml", "- 0701234567\n")),
           "data/tillatna-uppgifter.yaml:1:1:", text("privacy.allow_not_list")),
    Attack("allow-list-allowed-is-a-mapping", False, steps(write("data/tillatna-uppgifter.yaml", "allowed:\n  a: b\n")),
           "data/tillatna-uppgifter.yaml:1:1:", text("privacy.allow_not_list")),
    Attack("variables-is-a-list", False, steps(write("_variables.yml", "- a\n- b\n")),
           "_variables.yml:1:1:", shape("mapping")),
    Attack("book-is-a-list", False, steps(write("_quarto.yml", "book:\n  - chapters/ett.qmd\nlang: sv-SE\n")),
           "_quarto.yml:1:1:", shape("mapping", "book")),
    Attack("front-matter-is-a-list", False, _front_matter("- a\n- b"), "chapters/tva.qmd:2:", shape("mapping")),
    Attack("front-matter-title-is-a-mapping", False, _front_matter("title:\n  a: b"), "chapters/tva.qmd:2:",
           shape("text", "title")),
    Attack("metadata-file-is-a-list", False, steps(write("meta.yml", "- a\n"), _metadata_file("meta.yml")),
           "meta.yml:1:1:", shape("mapping")),
    # control and bidi characters, the Excel BOM (items 11, 12)
    Attack("nul-in-chapter", False, _chapter_text("Text med \x00 mitt i."), "chapters/tva.qmd:{line}:10:", "U+0000"),
    Attack("escape-in-chapter", False, _chapter_text("Text \x1b[31m röd"), "chapters/tva.qmd:{line}:6:", "U+001B"),
    Attack("bidi-override-in-chapter", False, _chapter_text("Kostnad \u202e000 01\u202c kr"),
           "chapters/tva.qmd:{line}:9:", "U+202E"),
    Attack("bidi-isolate-in-include", False,
           lambda p, o: append(p / "chapters/delar/detalj.md", "Belopp \u2067100\u2069 kr"),
           "chapters/delar/detalj.md:", "U+2067"),
    Attack("nul-in-csv-cell", True, _csv_cell("\x00"), "data/bedomningar.csv:3:", "U+0000"),
    Attack("soh-in-csv-cell", True, _csv_cell("\x01"), "data/bedomningar.csv:3:", "U+0001"),
    Attack("escape-in-csv-cell", True, _csv_cell("\x1b"), "data/bedomningar.csv:3:", "U+001B"),
    Attack("bidi-override-in-csv-cell", True, _csv_cell("\u202e"), "data/bedomningar.csv:3:", "U+202E"),
    Attack("bidi-override-in-yaml", True,
           lambda p, o: replace_in(p / "data/mal.yaml", "goals:", "# \u202e\ngoals:"), "data/mal.yaml:", "U+202E"),
    Attack("bidi-in-variables", False, steps(write("_variables.yml", "region:\n  namn: Test\u202eregionen\n")),
           "_variables.yml:2:", "U+202E"),
    # other failures that were tracebacks or unlocated (item 11, 12)
    Attack("var-holds-a-mapping", False, _chapter_text("Region: {{{{< var region >}}}}."), "chapters/tva.qmd:{line}:9:",
           "is a group of values"),
    Attack("var-holds-a-list", False,
           steps(write("_variables.yml", "lista: [a, b]\n"), _chapter_text("Lista: {{{{< var lista >}}}}.")),
           "chapters/tva.qmd:", "is a list"),
    Attack("yes-no-flag-is-text", False,
           steps(lambda p, o: append(p / "_quarto.yml", "brief: no"), line=lambda p, o: line_of(p / "_quarto.yml", "brief:")),
           "_quarto.yml:{line}:", text("book.flag_is_text", key="brief", value="no", meant="false")),
    Attack("lang-not-a-tag", False,
           steps(lambda p, o: replace_in(p / "_quarto.yml", "lang: sv-SE", "lang: svenska"),
                 line=lambda p, o: line_of(p / "_quarto.yml", "lang:")),
           "_quarto.yml:{line}:", text("book.language_tag", tag="svenska")),
    Attack("corrupt-png-html", False,
           lambda p, o: (p / "bilder/stapel.png").write_bytes((p / "bilder/stapel.png").read_bytes()[:100]),
           "chapters/ett.qmd:9:22:", part("sanitize.unreadable_image")),
    Attack("corrupt-png-docx", False,
           lambda p, o: (p / "bilder/stapel.png").write_bytes((p / "bilder/stapel.png").read_bytes()[:100]),
           "chapters/ett.qmd:9:22:", part("sanitize.unreadable_image"), ("build", "--format", "docx")),
    Attack("corrupt-png-pdf", False,
           lambda p, o: (p / "bilder/stapel.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image"),
           "chapters/ett.qmd:9:22:", part("sanitize.unreadable_image"), ("build", "--format", "pdf")),
    Attack("corrupt-svg", False,
           steps(write("bilder/stapel.svg", "<svg><g></svg>"), _chapter_text('![Bild](../bilder/stapel.svg){{fig-alt="x"}}'),
                 line=lambda p, o: len((p / "chapters/tva.qmd").read_text("utf-8").splitlines())),
           "chapters/tva.qmd:{line}:9:", part("sanitize.unreadable_image")),
    Attack("docx-styles-wrong-shape", False,
           steps(write("templates/docx/styles.yaml", "page: [2.4]\nstyles: {}\nheader: x\nfooter: y\n")),
           "templates/docx/styles.yaml:1:1:", shape("mapping", "page"), ("build", "--format", "docx")),
    Attack("check-with-outside-link", True, lambda p, o: link(p / "data/risker.yaml", o / "hemlig.yaml"),
           "data/risker.yaml:", LINK_OUT, ("check",)),
    Attack("lint-with-outside-link", False, lambda p, o: link(p / "chapters/tva.qmd", o / "hemlig.md"),
           "chapters/tva.qmd:", LINK_OUT, ("lint",)),
]


@pytest.fixture
def arena(tmp_path):
    outside = tmp_path / "utanfor"
    make_canary(outside)
    return tmp_path, outside


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_attack_is_refused_at_its_place(arena, attack):
    tmp_path, outside = arena
    project = tmp_path / "proj"
    if attack.real:
        copy_project(project)
    else:
        shutil.copytree(PLAIN_BOOK, project)
    before = tree_digest(outside)
    line = attack.setup(project, outside)
    result = run(project, *attack.args)
    assert result.returncode == attack.status, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    place = attack.place.format(line=line)
    located = [text for text in result.stderr.splitlines() if text.startswith(place)]
    fragments = attack.message if isinstance(attack.message, tuple) else (attack.message,)
    assert located and any(f in line for line in located for f in fragments), result.stderr[-3000:]
    assert tree_digest(outside) == before, "a file outside the project was changed, created or deleted"
    assert not secret_in_outputs(project)


# --- attacks that come the way they would on a build server: committed on a branch, then cloned ---


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=Angripare", "-c", "user.email=a@example.org", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, check=True, capture_output=True)


def _commit_generated_link(origin: Path) -> None:  # the issue's own case: `ln -s ../.. chapters/_generated`
    (origin / "chapters/_generated").symlink_to("../..")


def _commit_report(origin: Path) -> None:  # a crafted "previous build" the cache could take for ours
    (origin / "report").mkdir()
    (origin / "report/beslutsunderlag.html").write_text("<script>alert(1)</script>\n", "utf-8")


def _commit_cache_index(origin: Path) -> None:
    (origin / ".underlag-cache").mkdir()
    (origin / ".underlag-cache/index.json").write_text('{"version": 2, "entries": {}}\n', "utf-8")


def _commit_lock_link(origin: Path) -> None:
    (origin / ".underlag.lock").symlink_to("../utanfor/lås.txt")


COMMITTED = {
    "generated-folder-link-up-two": (_commit_generated_link, "chapters/_generated:", ANY_LINK),
    "report-committed": (_commit_report, "report/beslutsunderlag.html:", part("confine.committed_output")),
    "cache-index-committed": (_commit_cache_index, ".underlag-cache/index.json:", part("confine.committed_output")),
    "lock-link-committed": (_commit_lock_link, ".underlag.lock:", ANY_LINK),
}


@pytest.mark.parametrize("case", COMMITTED)
def test_attack_committed_to_a_branch_is_refused_in_a_clone(arena, case):
    tmp_path, outside = arena
    plant, place, message = COMMITTED[case]
    (tmp_path / "gammal.md").write_text("Bredvid klonen: en städning av genererade delar skulle ta bort den.\n")
    origin = copy_project(tmp_path / "origin")
    git("init", "-q", cwd=origin)
    plant(origin)
    git("add", "-A", "-f", cwd=origin)  # -f: past .gitignore, as an attacker would
    git("commit", "-q", "-m", "Förbättrad text", cwd=origin)
    git("clone", "-q", str(origin), str(tmp_path / "clone"), cwd=tmp_path)

    def outside_the_clone() -> dict[str, str]:  # the canary, the folder above, and the origin repository
        return {name: digest for name, digest in tree_digest(tmp_path).items()
                if not name.startswith("clone/") and name != "clone"}

    before = outside_the_clone()
    result = run(tmp_path / "clone", "build", "--format", "html")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    fragments = message if isinstance(message, tuple) else (message,)
    assert any(line.startswith(place) and any(f in line for f in fragments) for line in result.stderr.splitlines()), \
        result.stderr
    assert outside_the_clone() == before
    assert not secret_in_outputs(tmp_path / "clone")


# --- outcomes other than a refusal ---------------------------------------------------------------


def test_excel_csv_with_bom_is_accepted(arena):
    tmp_path, outside = arena
    project = copy_project(tmp_path / "proj")
    for name in ("bedomningar.csv", "tidsatgang.csv"):
        path = project / "data" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    result = run(project, "check")
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("prefix", ["#(1200+34)", "Figur*", '#read("/etc/passwd")'])
def test_citation_prefix_is_text_in_every_format(arena, prefix):
    """Item 11: the prefix of `[prefix -@fig-x]` went raw into Typst (`#(1200+34)` printed 1234)."""
    from conftest import docx_text, html_tree, pdf_text

    def plain(text: str) -> str:  # quotation marks differ by format; the text must not
        return re.sub(r"[“”\"]", '"', text.replace("\u00a0", " "))

    tmp_path, outside = arena
    project = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    append(project / "chapters/tva.qmd", f"Se [{prefix} -@fig-stapel] här.")
    result = run(project, "build")
    assert result.returncode == 0, result.stderr[-3000:]
    report = project / "report"
    shown = plain(f"Se {prefix} 1.1 här.")
    pdf = plain(pdf_text(report / "beslutsunderlag.pdf"))
    assert shown in pdf and "1234" not in pdf and "root:" not in pdf
    assert shown in plain(html_tree(report / "beslutsunderlag.html").text_content())
    assert shown in plain(docx_text(report / "beslutsunderlag.docx"))


def test_mathtext_in_a_timeline_event_is_printed_as_text(arena):
    tmp_path, outside = arena
    project = copy_project(tmp_path / "proj")
    replace_in(project / "data/tidslinje.yaml", "text: Samordningsgrupp IVIS startar",
               "text: 'Samordningsgrupp $\\foo$ och $x^2$ startar'")
    result = run(project, "build", "--format", "html")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr


def test_missing_project_folder_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "finns-inte"
    result = run(tmp_path, "build", "--project", str(missing))
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert not missing.exists()


def test_full_disk_inside_typst_is_explained(tmp_path):
    """Typst writes the PDF itself: /dev/full answers every write with ENOSPC."""
    from underlag.engine.assemble import assemble
    from underlag.engine.book import read_book
    from underlag.engine.errors import ToolError
    from underlag.engine.render.pandoc import DocumentInfo
    from underlag.engine.render.pdf import render_pdf

    project = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    book = read_book(project)
    assembled = assemble(book)
    source = tmp_path / "book.md"
    source.write_text(assembled.text, "utf-8")
    work = tmp_path / "work"
    work.mkdir()
    from underlag.engine.messages import text

    explained = re.escape(text("tool.typst_write_failed", name="full", reason="REASON")).replace("REASON", ".*")
    with pytest.raises(ToolError, match=explained) as raised:
        render_pdf(book, source, DocumentInfo.from_book(book), work, Path("/dev/full"), assembled.images)
    assert "No space left on device" in str(raised.value)


def test_read_only_report_folder_is_explained(tmp_path):
    """A report/ the build may not write in: an explained error, not a PermissionError traceback.
    Root ignores permission bits, so as root the folder is made immutable instead (chattr +i)."""
    project = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    report = project / "report"
    report.mkdir()
    lock = ["chattr", "+i", str(report)] if os.geteuid() == 0 else ["chmod", "555", str(report)]
    unlock = ["chattr", "-i", str(report)] if os.geteuid() == 0 else ["chmod", "755", str(report)]
    subprocess.run(lock, check=True)
    try:
        result = run(project, "build", "--format", "html")
    finally:
        subprocess.run(unlock, check=True)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "/report" in result.stderr and "check that the folder is writable" in result.stderr


def test_a_copied_project_builds_clean_from_its_own_cache(tmp_path):
    """Issue 13, item 13: the cache names files relative to the project, so `cp -a` keeps it valid."""
    original = shutil.copytree(PLAIN_BOOK, tmp_path / "proj")
    assert run(original, "build", "--format", "html").returncode == 0
    copy = tmp_path / "proj2"
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)
    shutil.rmtree(original)  # the copy must not depend on the original in any way
    result = run(copy, "build", "--format", "html")
    assert result.returncode == 0, result.stderr
    assert "Nothing changed" in result.stderr  # its own outputs, recognised by content
    append(copy / "chapters/tva.qmd", "En ny mening i kopian.")
    result = run(copy, "build", "--format", "html")
    assert result.returncode == 0 and "Nothing changed" not in result.stderr
    assert "En ny mening i kopian." in (copy / "report/beslutsunderlag.html").read_text("utf-8")
    assert not original.exists()


def test_preview_survives_a_wrong_allow_list(tmp_path):
    """Item 10: a list where the allow-list wants a mapping killed the watcher thread; now the error
    is in the page and in the terminal, and the next edit is still picked up."""
    import time
    import urllib.request

    project = copy_project(tmp_path / "proj")
    process = subprocess.Popen([sys.executable, "-m", "underlag", "preview", "--port", "0"], cwd=project,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def fetch(url: str) -> str:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8")

    def wait_for(url: str, condition) -> str:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            page = fetch(url)
            if condition(page):
                return page
            time.sleep(0.3)
        raise AssertionError("the page never changed")

    try:
        url = None
        while url is None:
            line = process.stdout.readline()
            assert line, "the preview stopped before it served"
            lines.append(line)
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = match.group(0) if match else None
        allow = project / "data/tillatna-uppgifter.yaml"
        allow.write_text("- 0701234567\n", "utf-8")
        page = wait_for(url, lambda p: text("preview.panel.failed_title") in p)
        assert "data/tillatna-uppgifter.yaml:1:1:" in page
        allow.write_text("allowed: []\n", "utf-8")
        append(project / "chapters/10-fortsatt-arbete.qmd", "Efter felet ses ändringen.")
        wait_for(url, lambda p: text("preview.panel.failed_title") not in p and "Efter felet ses ändringen." in p)
    finally:
        process.send_signal(2)
        output, _ = process.communicate(timeout=30)
        lines.append(output)
    terminal = "".join(lines)
    assert "data/tillatna-uppgifter.yaml:1:1:" in terminal  # the message itself, not just a count
    assert "Traceback" not in terminal


# --- the guarded YAML loader, directly ---------------------------------------------------------

YAML_CASES = [
    ("end_month: 012", {"end_month": 12}),  # YAML 1.1 read 10 (octal)
    ("answer: no", {"answer": "no"}),  # YAML 1.1 read False
    ("answer: yes", {"answer": "yes"}),
    ("switch: on", {"switch": "on"}),
    ("time: 1:20", {"time": "1:20"}),  # YAML 1.1 read 80 (sexagesimal)
    ("flag: true", {"flag": True}),
    ("octal: 0o17", {"octal": 15}),
    ("month: 2024-12", {"month": "2024-12"}),
    ("big: 1e3", {"big": 1000.0}),
]


@pytest.mark.parametrize("text, expected", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_yaml_reads_numbers_and_words_as_yaml_1_2(text, expected):
    from underlag.engine.guarded_yaml import parse_yaml

    assert parse_yaml(text, "x.yml")[0] == expected


def test_billion_laughs_fails_fast_and_located():
    from underlag.engine.errors import InputError
    from underlag.engine.guarded_yaml import parse_yaml

    with pytest.raises(InputError) as raised:  # 205 s of work for the same text in front matter before the guard
        parse_yaml(BILLION_LAUGHS + "title: *j\n", "x.yml", first_line=5)
    problem = raised.value.problems[0]
    assert problem.path == "x.yml" and problem.line and problem.line >= 5 and "too many values" in problem.message


def test_confinement_compares_components_not_string_prefixes(tmp_path):
    """Issue 21, item 4: `/x/proj-sibling` starts with the string `/x/proj` but is not inside it."""
    from underlag.engine.confine import check_read, inside, output_path
    from underlag.engine.errors import InputError

    project, sibling = tmp_path / "proj", tmp_path / "proj-sibling"
    for folder in (project / "report", sibling / "report"):
        folder.mkdir(parents=True)
    (sibling / "x.md").write_text("grannen\n", "utf-8")
    assert str(sibling / "x.md").startswith(str(project))
    assert not inside(sibling / "x.md", project)
    assert inside(project / "report" / ".." / "x.md", project)
    with pytest.raises(InputError, match=re.escape(part("confine.outside"))):
        check_read(project, project / ".." / "proj-sibling" / "x.md")
    with pytest.raises(InputError, match=re.escape(text("confine.not_output_area"))):
        output_path(project, project / "report" / ".." / ".." / "proj-sibling" / "report" / "x.html")
    with pytest.raises(InputError, match=re.escape(text("confine.not_output_area"))):
        output_path(project, project / "reportage" / "x.html")  # a name that starts like an output area
