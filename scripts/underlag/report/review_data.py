"""Where a generated text came from in data/: every value of every YAML and CSV file with
its file, line and field, found again by the text it printed.

Uses the loader's own readers (positions of every YAML value, CSV line and column), so it
points where `underlag check` would, and it works on data that no longer validates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from underlag.engine.errors import InputError
from underlag.report.load import CSV_DELIMITER, read_text, read_yaml
from underlag.report.text import number, swedish_date

SHORT = 3  # a value shorter than this is only matched when it is a whole cell


@dataclass(frozen=True)
class DataValue:
    file: str
    line: int
    field: str  # e.g. milestones[0].name, or a CSV column
    record: str  # the field's record (its path without the last part): values of one row belong together
    forms: tuple[str, ...]  # how the value can look in the document, normalised


def normalise(text: str) -> str:
    text = text.replace('"', "”").replace("“", "”").replace("'", "’").replace("‘", "’")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _forms(value) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ()
    if isinstance(value, dt.date):
        return (value.isoformat(), swedish_date(value))
    if isinstance(value, (int, float)):
        whole = float(value).is_integer()
        return tuple(dict.fromkeys([number(value, 0 if whole else 1), number(value, 2), str(value)]))
    if isinstance(value, str) and value.strip():
        return (value,)
    return ()


def _field(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class DataIndex:
    def __init__(self, root: Path):
        self.values: list[DataValue] = []
        data = root / "data"
        for path in sorted(data.rglob("*.yaml")) + sorted(data.rglob("*.yml")):
            self._yaml(path, root)
        for path in sorted(data.rglob("*.csv")):
            self._csv(path, root)

    def _add(self, file: str, line: int, loc: tuple, value) -> None:
        forms = tuple(f for f in (normalise(f) for f in _forms(value)) if f)
        if forms:
            self.values.append(DataValue(file, line, _field(loc), _field(loc[:-1]), forms))

    def _yaml(self, path: Path, root: Path) -> None:
        try:
            value, positions = read_yaml(path, root)
        except InputError:
            return
        shown = path.relative_to(root).as_posix()

        def walk(node, loc: tuple) -> None:
            if isinstance(node, dict):
                for key, item in node.items():
                    walk(item, loc + (key,))
            elif isinstance(node, list):
                for index, item in enumerate(node):
                    walk(item, loc + (index,))
            else:
                self._add(shown, positions.get(loc, (1, 1))[0], loc, node)

        walk(value, ())

    def _csv(self, path: Path, root: Path) -> None:
        try:
            text = read_text(path, root)
        except InputError:
            return
        shown = path.relative_to(root).as_posix()
        reader = csv.reader(io.StringIO(text), delimiter=CSV_DELIMITER)
        try:
            header = next(reader, [])
            for cells in reader:
                for name, cell in zip(header, cells):
                    self._add(shown, reader.line_num, (f"rad {reader.line_num}", name), cell.strip())
        except csv.Error:
            return

    def find(self, text: str, focus: str = "", row: tuple[str, ...] = (),
             prefer: frozenset[str] = frozenset()) -> DataValue | None:
        """The data value a printed text (a paragraph or cell) shows; `focus` is the part a
        reviewer marked, `row` the other cells of a table row (they tell which record it is),
        `prefer` the data files the text's neighbours came from (when the same words are in two
        files, e.g. a milestone that is also a timeline event)."""
        text, focus = normalise(text), normalise(focus)
        if not text:
            return None
        self._build_lookup()
        # a value printed as the whole text beats any value inside it (the score's first key), so
        # the slower search for values inside the text runs only when no whole match exists
        candidates = self._whole.get(text) or [(value, form) for form, value in self._long if form in text]
        if not candidates:
            return None
        in_row = {id(value): value for cell in {normalise(cell) for cell in row if cell.strip()}
                  for value, _ in self._whole.get(cell, ())}
        records: dict[tuple[str, str], int] = {}
        for value in in_row.values():
            records[(value.file, value.record)] = records.get((value.file, value.record), 0) + 1

        def score(candidate):
            value, form = candidate
            on_focus = bool(focus) and (focus in form or form in focus)
            return (form == text, on_focus, records.get((value.file, value.record), 0),
                    form == text and value.file in prefer, len(form))

        return max(candidates, key=score)[0]

    def _build_lookup(self) -> None:
        """Every value by each of its forms, once: the preview asks for a thousand blocks a build."""
        if hasattr(self, "_whole"):
            return
        self._whole: dict[str, list[tuple[DataValue, str]]] = {}
        self._long: list[tuple[str, DataValue]] = []
        for value in self.values:
            for form in value.forms:
                self._whole.setdefault(form, []).append((value, form))
                if len(form) >= SHORT:
                    self._long.append((form, value))
