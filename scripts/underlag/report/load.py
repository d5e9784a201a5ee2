"""Load `data/` into the `Report` model, with every problem reported at its file and line.

YAML is composed into nodes first so each value keeps its position; CSV rows keep their
line and column. pydantic errors are mapped back to those positions. All problems of all
files are collected before anything is raised; cross-record checks live in `checks`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from underlag.report import model
from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.guarded_yaml import Loc, Position, read_text, read_yaml  # noqa: F401 (read_yaml: the loaders' API)
from underlag.report.messages import text as _

CSV_DELIMITER = ";"  # what Swedish spreadsheets write


class ListFile(model.Record):
    """A file whose content is one list under a single key; the Report holds the bare list."""


class SourceList(ListFile):
    sources: list[model.SourceEntry]


class StakeholderList(ListFile):
    stakeholders: list[model.Stakeholder]


class RiskList(ListFile):
    risks: list[model.Risk]


# data file -> (Report field, model of the file's content)
DATA_FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "rapport.yaml": ("meta", model.ReportMeta),
    "mal.yaml": ("goals", model.Goals),
    "tidslinje.yaml": ("timeline", model.Timeline),
    "faser.yaml": ("phases", model.Phases),
    "milstolpar.yaml": ("milestones", model.Milestones),
    "nollalternativ.yaml": ("zero_alternative", model.ZeroAlternative),
    "metod.yaml": ("method", model.Method),
    "kriterier.yaml": ("criteria", model.Criteria),
    "kallor.yaml": ("sources", SourceList),
    "intressenter.yaml": ("stakeholders", StakeholderList),
    "risker.yaml": ("risks", RiskList),
    "beslut.yaml": ("decision", model.Decision),
    "arende.yaml": ("case", model.Case),
    "ordlista.yaml": ("glossary", model.Glossary),
    "anteckningar.yaml": ("notes", model.Notes),
    "kalkyl.yaml": ("cost_settings", model.CostSettings),
}
ALTERNATIVES_DIR = "alternativ"
# CSV file -> (Report field, model of one row)
CSV_FILES: dict[str, tuple[str, type[model.Record]]] = {
    "bedomningar.csv": ("assessments", model.Assessment),
    "tidsatgang.csv": ("task_times", model.TaskTime),
    "kostnader.csv": ("costs", model.CostLine),
}


def load_report(root: Path) -> tuple[model.Report, list[Problem]]:
    """Read and check every data file under `root/data`.

    Returns the report and its warnings; raises InputError listing every error (and the
    warnings found with them).
    """
    from underlag.report.checks import check_report

    data = root / "data"
    problems: list[Problem] = []
    parts: dict[str, Any] = {}
    for name, (field, file_model) in DATA_FILES.items():
        loaded = _load_yaml_file(data / name, file_model, root, problems)
        if loaded is not None:
            parts[field] = getattr(loaded, field) if isinstance(loaded, ListFile) else loaded
    alternatives = [
        alt
        for path in sorted((data / ALTERNATIVES_DIR).glob("*.yaml"))
        if (alt := _load_yaml_file(path, model.Alternative, root, problems)) is not None
    ]
    parts["alternatives"] = sorted(alternatives, key=lambda a: a.order)
    for name, (field, row_model) in CSV_FILES.items():
        parts[field] = load_csv(data / name, row_model, root, problems)
    if problems:
        raise InputError(problems)
    report = model.Report.model_construct(**parts)
    problems = check_report(report, root)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return report, problems


# --- YAML -------------------------------------------------------------------------------


def _load_yaml_file(path: Path, file_model: type[BaseModel], root: Path, problems: list[Problem]):
    try:
        value, positions = read_yaml(path, root)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    return _validate(value, positions, file_model, relative(path, root), problems)


def _validate(value: Any, positions: dict[Loc, Position], file_model: type[BaseModel], shown: str,
              problems: list[Problem]):
    try:
        loaded = file_model.model_validate(value)
    except ValidationError as exc:
        problems.extend(_problems_from_errors(shown, exc.errors(), positions))
        return None
    _attach_origins(loaded, (), positions, shown)
    return loaded


# --- CSV --------------------------------------------------------------------------------


def load_csv(path: Path, row_model: type[model.Record], root: Path, problems: list[Problem]) -> list:
    """One record per row of a `;`-separated file whose header names the model's fields."""
    shown = relative(path, root)
    try:
        text = read_text(path, root)
    except InputError as exc:
        problems.extend(exc.problems)
        return []
    reader = csv.reader(io.StringIO(text), delimiter=CSV_DELIMITER)
    try:
        return _read_rows(reader, row_model, shown, problems)
    except csv.Error as exc:
        problems.append(Problem(shown, reader.line_num, None, _("load.csv_unreadable", reason=exc)))
        return []


def _read_rows(reader, row_model: type[model.Record], shown: str, problems: list[Problem]) -> list:
    header = next(reader)
    header_problems = _check_header(shown, header, row_model)
    if header_problems:
        problems.extend(header_problems)
        return []
    records = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(shown, line, None, _("load.csv_cell_count", cells=len(cells), header=len(header),
                                                          delimiter=CSV_DELIMITER)))
            continue
        row, positions, failed = {}, {(): (line, 1)}, []
        for column, (name, cell) in enumerate(zip(header, cells), 1):
            positions[(name,)] = (line, column)
            try:
                value = _csv_value(row_model.model_fields[name].annotation, cell.strip())
            except ValueError as exc:
                failed.append(Problem(shown, line, column, f"{name}: {exc}"))
                continue
            if value is not None:
                row[name] = value
        row_problems: list[Problem] = []
        if (record := _validate(row, positions, row_model, shown, row_problems)) is not None and not failed:
            records.append(record)
        # a cell that could not be read is reported once, not again as "missing"
        unread = {p.column for p in failed}
        missing = {_("load.required_missing", prefix=f"{name}: ", name=name) for name in header} if unread else set()
        problems += failed + [p for p in row_problems if not (p.column in unread and p.message in missing)]
    return records


def _check_header(shown: str, header: list[str], row_model: type[model.Record]) -> list[Problem]:
    fields = list(row_model.model_fields)
    if len(header) == 1 and "," in header[0]:
        return [Problem(shown, 1, 1, _("load.csv_no_delimiter", delimiter=CSV_DELIMITER))]
    problems = []
    for column, name in enumerate(header, 1):
        if name not in fields:
            close = closest_field(name, [f for f in fields if f not in header], fields)
            problems.append(Problem(shown, 1, column, _("load.csv_unknown_column_did_you_mean", name=name, close=close[0])
                                    if close else _("load.csv_unknown_column", name=name,
                                                    columns=CSV_DELIMITER.join(fields))))
    for name in fields:
        if name not in header and row_model.model_fields[name].is_required():
            problems.append(Problem(shown, 1, None, _("load.csv_missing_column", name=name,
                                                      columns=CSV_DELIMITER.join(fields))))
    return problems


SWEDISH_NUMBER = re.compile(r"^[−-]?\d+(,\d+)?$")


def _csv_value(annotation: Any, cell: str) -> Any:
    """Text as the column's value; numbers are Swedish (3,5, 12 500), never guessed."""
    if cell == "":
        return None
    if annotation in (float, int):
        cell = re.sub(r"(?<=\d)[ \u00a0](?=\d{3}\b)", "", cell)  # 12 500: thousands separated by a space
        if SWEDISH_NUMBER.match(cell):
            return float(cell.replace("−", "-").replace(",", "."))
        if re.fullmatch(r"[−-]?\d+\.\d+", cell):
            raise ValueError(_("load.decimal_point", cell=cell))
        raise ValueError(_("load.not_a_number", cell=cell))
    if annotation == list[str]:
        return [part.strip() for part in cell.split(",") if part.strip()]
    return cell


# --- errors and origins -----------------------------------------------------------------


def _position(loc: Loc, positions: dict[Loc, Position]) -> Position:
    while loc not in positions and loc:
        loc = loc[:-1]
    return positions.get(loc, (1, 1))


# How to fix, by field name and by pydantic error type (the field's hint wins): catalogue keys.
FIELD_HINTS = {name: f"hint.field.{name}" for name in ("id", "version", "diarienummer", "weight", "score", "low",
                                                        "high", "month")}
TYPE_HINTS = {kind: f"hint.type.{kind}" for kind in ("literal_error", "int_parsing", "string_type", "string_too_long",
                                                      "list_type", "date_from_datetime_parsing", "date_type",
                                                      "float_parsing")}
# pydantic's own sentences, by error type, in the writer's language (the rest keep pydantic's English)
PYDANTIC_MESSAGES = ("literal_error", "less_than_equal", "less_than", "greater_than", "greater_than_equal",
                     "string_pattern_mismatch", "int_parsing", "int_from_float", "float_parsing", "string_type",
                     "string_too_short", "string_too_long", "too_short", "list_type", "date_from_datetime_parsing",
                     "date_type", "bool_parsing", "model_type", "dict_type")


def _problems_from_errors(shown: str, errors: list[dict], positions: dict[Loc, Position]) -> list[Problem]:
    """One problem per pydantic error; a missing field that an unknown one was meant to be is
    reported once, as the typo."""
    suggested = set()
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        line, column = _position(loc, positions)
        if error["type"] == "extra_forbidden":
            missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing" and tuple(e["loc"][:-1]) == loc[:-1]]
            close = closest_field(str(loc[-1]), missing)
            suggested.update((loc[:-1], name) for name in close)
            problems.append(Problem(shown, line, column, _("load.unknown_field_did_you_mean", name=loc[-1], close=close[0])
                                    if close else _("load.unknown_field", name=loc[-1])))
    for error in errors:
        loc = tuple(error["loc"])
        line, column = _position(loc, positions)
        field = ".".join(str(part) for part in loc)
        prefix = f"{field}: " if field else ""
        kind = error["type"]
        if kind == "extra_forbidden" or (kind == "missing" and (loc[:-1], loc[-1]) in suggested):
            continue
        if kind == "missing":
            problems.append(Problem(shown, line, column, _("load.required_missing", prefix=prefix, name=loc[-1])))
            continue
        message = _pydantic_message(error)
        if kind == "model_type" and not loc:
            message = _("load.not_a_mapping")
        hint = FIELD_HINTS.get(str(loc[-1]) if loc else "") if kind != "value_error" else None
        hint = hint or TYPE_HINTS.get(kind)
        problems.append(Problem(shown, line, column, f"{prefix}{message}" + (f"; {_(hint)}" if hint else "")))
    return problems


def _number(value: float) -> str:
    """5.0 as 5 and 0.25 as 0,25: how the writer writes numbers in the data's Swedish columns."""
    return str(int(value)) if value.is_integer() else str(value).replace(".", ",")


def _pydantic_message(error: dict) -> str:
    """pydantic's sentence in the writer's language, from the error's type and context; our own
    validators (value_error) already speak it."""
    if error["type"] not in PYDANTIC_MESSAGES:
        return error["msg"].removeprefix("Value error, ")
    context = {key: _number(value) if isinstance(value, float) else str(value)
               for key, value in (error.get("ctx") or {}).items()}
    if "expected" in context:  # pydantic joins the choices with " or "
        context["expected"] = context["expected"].replace(" or ", _("pydantic.or"))
    try:
        return _(f"pydantic.{error['type']}", **context)
    except KeyError:  # a context this pydantic version does not give: its own words are better than none
        return error["msg"]


# What a Swedish writer calls a field, by meaning -> the field's name in the schema (report/model.py).
# Spelling mistakes are left to difflib; this table catches the words difflib cannot relate
# ("prognos" is nothing like "forecast").
FIELD_SYNONYMS = {
    "titel": "title", "rubrik": "title", "namn": "name", "benämning": "name", "kortnamn": "short_title",
    "kort_titel": "short_title", "korttitel": "short_title", "undertitel": "subtitle", "text": "text",
    "beskrivning": "description", "prognos": "forecast", "planerad": "planned", "planerat": "planned",
    "faktisk": "actual", "utfall": "actual", "datum": "date", "kommentar": "comment", "anteckning": "note",
    "färg": "colour", "farg": "colour", "color": "colour", "föregångare": "predecessor", "källa": "source",
    "kalla": "source", "källor": "sources", "kallor": "sources", "vikt": "weight", "vikter": "weight",
    "poäng": "score", "betyg": "score", "motivering": "rationale", "kriterium": "criterion",
    "alternativ": "alternative", "risk": "risks", "risker": "risks", "sannolikhet": "probability",
    "konsekvens": "consequence", "konsekvenser": "consequences", "åtgärd": "mitigation", "ägare": "owner",
    "agare": "owner", "ansvarig": "owner", "punkter": "points", "punkt": "points", "styrkor": "strengths",
    "svagheter": "weaknesses", "möjligheter": "opportunities", "hot": "threats", "ordning": "order",
    "mål": "goals", "mal": "goals", "händelser": "events", "månad": "month", "manad": "month",
    "faser": "phases", "fas": "phases", "spår": "tracks", "omfattning": "scope", "vågor": "waves",
    "förutsättningar": "prerequisites", "roll": "role", "uppgift": "task", "kostnad": "costs",
    "kostnader": "costs", "belopp": "expected", "förväntat": "expected", "lägst": "low", "högst": "high",
    "låg": "low", "hög": "high", "organisation": "organisation", "diarienr": "diarienummer",
    "språk": "lang", "sprak": "lang", "kontakt": "contact", "epost": "email", "e-post": "email",
    "syfte": "purpose", "aktiviteter": "activities", "arbetspaket": "work_packages", "period": "period",
    "start": "start", "slut": "end", "förklaring": "explanation", "term": "term", "termer": "terms",
}


def closest_field(name: str, missing: list[str], fields: list[str] | None = None) -> list[str]:
    """The field a writer most likely meant: by meaning (the synonym table), then a required field
    that is missing right there, then the closest spelling among all fields ([] when none is close)."""
    fields = fields if fields is not None else _all_field_names()
    meant = FIELD_SYNONYMS.get(name.lower())
    if meant and meant in fields and meant != name:
        return [meant]
    return difflib.get_close_matches(name, missing, n=1, cutoff=0.5) or difflib.get_close_matches(name, fields, n=1)


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
