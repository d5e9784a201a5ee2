"""Load `data/` into the `Report` model, with every problem reported at its file and line.

YAML is composed into nodes first so each value keeps its position; pydantic errors are
then mapped back to those positions. All problems of all files are collected before
anything is raised.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from . import model
from .errors import InputError, Problem, relative

Position = tuple[int, int]  # 1-based line and column
Loc = tuple[str | int, ...]


class ListFile(model.Record):
    """A file whose content is one list under a single key; the Report holds the bare list."""


class SourceList(ListFile):
    sources: list[model.SourceEntry]


class StakeholderList(ListFile):
    stakeholders: list[model.Stakeholder]


# data file -> (Report field, model of the file's content)
DATA_FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "rapport.yaml": ("meta", model.ReportMeta),
    "mal.yaml": ("goals", model.Goals),
    "tidslinje.yaml": ("timeline", model.Timeline),
    "faser.yaml": ("phases", model.Phases),
    "milstolpar.yaml": ("milestones", model.Milestones),
    "nollalternativ.yaml": ("zero_alternative", model.ZeroAlternative),
    "metod.yaml": ("method", model.Method),
    "kallor.yaml": ("sources", SourceList),
    "intressenter.yaml": ("stakeholders", StakeholderList),
    "beslut.yaml": ("decision", model.Decision),
}
ALTERNATIVES_DIR = "alternativ"
ALTERNATIVE_COUNT = (3, 5)


def load_report(root: Path) -> model.Report:
    """Read and check every data file under `root/data`; raise InputError listing all problems."""
    data = root / "data"
    problems: list[Problem] = []
    parts: dict[str, Any] = {}
    for name, (field, file_model) in DATA_FILES.items():
        loaded = _load_file(data / name, file_model, root, problems)
        if loaded is not None:
            parts[field] = getattr(loaded, field) if isinstance(loaded, ListFile) else loaded
    alternatives = [
        alt
        for path in sorted((data / ALTERNATIVES_DIR).glob("*.yaml"))
        if (alt := _load_file(path, model.Alternative, root, problems)) is not None
    ]
    parts["alternatives"] = sorted(alternatives, key=lambda a: a.order)
    if problems:
        raise InputError(problems)
    report = model.Report.model_construct(**parts)
    problems.extend(check_report(report, relative(data / ALTERNATIVES_DIR, root)))
    if problems:
        raise InputError(problems)
    return report


def read_yaml(path: Path, root: Path) -> tuple[Any, dict[Loc, Position]]:
    """Parse a YAML file into plain values plus the position of every value and key."""
    shown = relative(path, root)
    if not path.is_file():
        raise InputError([Problem(shown, None, None, "file is missing; create it or restore it from git")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError([Problem(shown, line, None, "file is not UTF-8 text; save it as UTF-8")]) from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise InputError([Problem(shown, 1, 1, "file is empty; fill in the fields it needs")])
            positions: dict[Loc, Position] = {}
            return _to_python(loader, node, (), positions), positions
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        hint = "; indent with spaces, not tabs" if "\t" in text and "tab" in str(exc) else ""
        raise InputError([Problem(shown, mark.line + 1, mark.column + 1, f"YAML syntax error: {what}{hint}")]) from None


def _to_python(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, positions: dict[Loc, Position]) -> Any:
    positions[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            result[key] = _to_python(loader, value_node, loc + (key,), positions)
            # a field's errors point at its key, where the writer looks for it
            positions[loc + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(loader, item, loc + (i,), positions) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node)
    except ValueError as exc:  # e.g. a date such as 2025-02-30
        raise yaml.MarkedYAMLError(problem=f"invalid value {node.value!r} ({exc})", problem_mark=node.start_mark) from None


def _load_file(path: Path, file_model: type[BaseModel], root: Path, problems: list[Problem]):
    shown = relative(path, root)
    try:
        value, positions = read_yaml(path, root)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    try:
        loaded = file_model.model_validate(value)
    except ValidationError as exc:
        problems.extend(_problem_from_error(shown, error, positions) for error in exc.errors())
        return None
    _attach_origins(loaded, (), positions, shown)
    return loaded


def _position(loc: Loc, positions: dict[Loc, Position]) -> Position:
    while loc not in positions and loc:
        loc = loc[:-1]
    return positions.get(loc, (1, 1))


def _problem_from_error(shown: str, error: dict, positions: dict[Loc, Position]) -> Problem:
    loc = tuple(error["loc"])
    line, column = _position(loc, positions)
    field = ".".join(str(part) for part in loc) or "file"
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        close = difflib.get_close_matches(name, _all_field_names(), n=1)
        fix = f"did you mean '{close[0]}'?" if close else "remove it or check the spelling"
        return Problem(shown, line, column, f"unknown field '{name}'; {fix}")
    if kind == "missing":
        return Problem(shown, line, column, f"{field}: required field is missing; add '{loc[-1]}: …'")
    message = error["msg"].removeprefix("Value error, ")
    return Problem(shown, line, column, f"{field}: {message}")


def _all_field_names() -> list[str]:
    names = set()
    for cls in vars(model).values():
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            names.update(cls.model_fields)
    return sorted(names)


def _attach_origins(record: BaseModel, loc: Loc, positions: dict[Loc, Position], shown: str) -> None:
    record.__pydantic_private__["_origin"] = (shown, _position(loc, positions)[0])
    for name in type(record).model_fields:
        value = getattr(record, name)
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if isinstance(item, model.Record):
                sub = loc + (name,) if index is None else loc + (name, index)
                _attach_origins(item, sub, positions, shown)


def iter_records(record: BaseModel) -> Iterator[model.Record]:
    """Every record in the tree, depth first, the given one included."""
    if isinstance(record, model.Record):
        yield record
    for name in type(record).model_fields:
        value = getattr(record, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                yield from iter_records(item)


def _where(record: model.Record, fallback: str) -> tuple[str, int | None]:
    return record.origin or (fallback, None)


def check_report(report: model.Report, alternatives_dir: str) -> list[Problem]:
    """Checks across records and files: counts, unique ids, references that must exist."""
    problems = []
    low, high = ALTERNATIVE_COUNT
    if not low <= len(report.alternatives) <= high:
        problems.append(Problem(alternatives_dir, None, None,
                                f"there are {len(report.alternatives)} alternatives; a decision basis "
                                f"compares {low}–{high}: add or remove files in this folder"))
    groups = {
        "alternative id": report.alternatives,
        "alternative order": report.alternatives,
        "rollout variant id": [v for a in report.alternatives for v in a.rollout_variants],
        "milestone id": report.milestones.milestones,
        "timeline event id": report.timeline.events,
        "source id": report.sources,
        "stakeholder id": report.stakeholders,
    }
    for what, records in groups.items():
        attr = what.split()[-1]
        counts = Counter(getattr(r, attr) for r in records)
        for record in records:
            if counts[getattr(record, attr)] > 1:
                path, line = _where(record, "data")
                problems.append(Problem(path, line, None,
                                        f"{what} '{getattr(record, attr)}' is used more than once; make it unique"))
    source_ids = {s.id for s in report.sources}
    if report.meta.based_on not in source_ids:
        path, line = _where(report.meta, "data/rapport.yaml")
        problems.append(Problem(path, line, None, f"based_on '{report.meta.based_on}' is not in data/kallor.yaml; "
                                                  "add the source there or fix the id"))
    for record in iter_records(report):
        source = getattr(record, "source", None)
        if isinstance(source, str) and source not in source_ids:
            path, line = _where(record, "data")
            problems.append(Problem(path, line, None,
                                    f"source '{source}' is not in data/kallor.yaml; add it there or fix the id"))
    for alternative in report.alternatives:
        for variant in alternative.rollout_variants:
            for wave in variant.waves:
                if wave.end_month <= wave.start_month:
                    path, line = _where(wave, "data")
                    problems.append(Problem(path, line, None,
                                            f"wave '{wave.name}' ends (month {wave.end_month}) before it starts "
                                            f"(month {wave.start_month}); swap or fix the months"))
    return problems
