"""`underlag labels` lists what a writer can refer to, with file:line and title, generated parts too."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from underlag.commands.cli import main
from underlag.engine.messages import text

CHAPTER = """# Inledning {#sec-inledning}

Text.

![En stapel](../stapel.png){#fig-stapel fig-alt="En stapel"}

{{< include _generated/tabell.md >}}

```markdown
# Inte en rubrik {#sec-i-kod}
```
"""
TABLE = """| a | b |
|---|---|
| 1 | 2 |

: Siffror {#tbl-siffror}
"""


def test_labels_lists_every_target_with_place_and_title(tmp_path, capsys):
    (tmp_path / "chapters/_generated").mkdir(parents=True)
    (tmp_path / "chapters/ett.qmd").write_text(CHAPTER, "utf-8")
    (tmp_path / "chapters/_generated/tabell.md").write_text(TABLE, "utf-8")
    shutil.copy(Path(__file__).parent / "fixtures/plain-book/bilder/stapel.png", tmp_path / "stapel.png")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"title": "Etiketter", "chapters": ["chapters/ett.qmd"]}, "lang": "sv-SE"}), "utf-8")
    assert main(["labels", "--project", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == text("cli.labels_header")
    assert [line.split() for line in lines[1:]] == [
        ["@sec-inledning", "chapters/ett.qmd:1", "Inledning"],
        ["@fig-stapel", "chapters/ett.qmd:5", "En", "stapel"],
        ["@tbl-siffror", "chapters/_generated/tabell.md:5", "Siffror"],
    ]


def test_a_book_without_labels_says_how_to_make_one(tmp_path, capsys):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/ett.qmd").write_text("# Ett\n\nText.\n", "utf-8")
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump({
        "book": {"title": "Tom", "chapters": ["chapters/ett.qmd"]}, "lang": "sv-SE"}), "utf-8")
    assert main(["labels", "--project", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == text("cli.labels_none")
