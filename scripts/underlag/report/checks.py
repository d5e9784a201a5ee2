"""Checks across records and files, run after every file has loaded on its own.

Each check returns problems pointing at the record's own file and line. Errors stop the
build; warnings are reported and stop it only under `--strict`.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from underlag.report import model
from underlag.engine.confine import SHIPPED_TEMPLATES
from underlag.engine.errors import Problem, relative
from underlag.engine.messages import language
from underlag.report.messages import text as _
from underlag.report.text import NUMBER_WORDS, number_word

ALTERNATIVE_COUNT = (3, 5)  # a decision basis compares this many alternatives
WEIGHT_TOLERANCE = 0.001
SWOT_SECTIONS = ("strengths", "weaknesses", "opportunities", "threats")


def check_report(report: model.Report, root: Path) -> list[Problem]:
    alternatives_dir = relative(root / "data" / "alternativ", root)
    return [
        *check_alternative_count(report, alternatives_dir),
        *check_unique_ids(report),
        *check_sources(report),
        *check_weights(report.criteria),
        *check_assessments(report),
        *check_risks(report),
        *check_milestones(report),
        *check_rollout(report),
        *check_promised_sections(report),
        *check_order(report),
        *check_timeline(report),
        *check_task_times(report),
        *check_decision(report),
        *check_case(report),
        *check_costs(report),
        *check_glossary(report, root),
        *check_prose_counts(report, root),
        *check_alternative_prose(report, root),
    ]


def check_alternative_prose(report: model.Report, root: Path) -> list[Problem]:
    """A writer's file in chapters/alternativ/ is included only when its name is an alternative's id:
    any other name would be dropped without a word (fragments.writers_prose)."""
    from underlag.report.fragments import PROSE_DIR

    ids = [alt.id for alt in report.alternatives]
    problems = []
    for path in sorted((root / "chapters" / PROSE_DIR).glob("*.qmd")):
        if path.stem in ids:
            continue
        close = difflib.get_close_matches(path.stem, ids, n=1, cutoff=0.3) or \
            [i for i in ids if i.split("-")[0] == path.stem.split("-")[0]][:1]
        message = _("checks.prose_without_alternative_did_you_mean", stem=path.stem, close=close[0]) if close \
            else _("checks.prose_without_alternative", stem=path.stem, ids=", ".join(ids))
        problems.append(Problem(relative(path, root), 1, None, message, "warning"))
    return problems


def _problem(record: model.Record, message: str, severity: str = "error") -> Problem:
    path, line = record.origin or ("data", None)
    return Problem(path, line, None, message, severity)


def check_alternative_count(report: model.Report, alternatives_dir: str, status: str | None = None) -> list[Problem]:
    """3–5 alternatives. A draft (status utkast) may have fewer while the writers add them one by one
    (`underlag new` starts with one example); `underlag check` then names the shortfall among what is
    not final, and a version with a status beyond utkast (`status`, else the report's) is refused."""
    low, high = ALTERNATIVE_COUNT
    count = len(report.alternatives)
    if count <= high and (count >= low or (status or report.meta.status) == "utkast"):
        return []
    return [Problem(alternatives_dir, None, None,
                    _("checks.alternative_count", n=len(report.alternatives), low=low, high=high))]


def _duplicates(what: str, records: Iterable[model.Record], key) -> list[Problem]:
    records = list(records)
    counts = Counter(key(r) for r in records)
    return [_problem(r, _("checks.duplicate", what=_(f"checks.what.{what}"), value=key(r)))
            for r in records if counts[key(r)] > 1]


def check_unique_ids(report: model.Report) -> list[Problem]:
    by_id = lambda r: r.id  # noqa: E731
    return [
        *_duplicates("alternative_id", report.alternatives, by_id),
        *_duplicates("alternative_order", report.alternatives, lambda a: a.order),
        *_duplicates("rollout_variant_id", (v for a in report.alternatives for v in a.rollout_variants), by_id),
        *_duplicates("milestone_id", report.milestones.milestones, by_id),
        *_duplicates("timeline_event_id", report.timeline.events, by_id),
        *_duplicates("source_id", report.sources, by_id),
        *_duplicates("stakeholder_id", report.stakeholders, by_id),
        *_duplicates("perspective_id", report.criteria.perspectives, by_id),
        *_duplicates("criterion_id", report.criteria.all, by_id),
        *_duplicates("risk_id", report.risks, by_id),
        *_duplicates("assessment", report.assessments,
                     lambda a: f"{a.alternative}/{a.criterion}"),
    ]


def check_sources(report: model.Report) -> list[Problem]:
    from underlag.report.load import iter_records

    known = {s.id for s in report.sources}
    problems = []
    if report.meta.based_on not in known:
        problems.append(_problem(report.meta, _("checks.based_on_unknown", id=report.meta.based_on)))
    planned = {s.id for s in report.sources if s.status == "planerad"}
    for record in iter_records(report):
        if isinstance(record, model.SourceEntry):
            continue
        cited = getattr(record, "sources", None) or [getattr(record, "source", None)]
        for source in cited:
            if isinstance(source, str) and source not in known:
                problems.append(_problem(record, _("checks.source_unknown", source=source)))
            elif source in planned:
                # a source that does not exist yet cannot back a fact
                problems.append(_problem(record, _("checks.source_planned", source=source)))
    return problems


def check_weights(criteria: model.Criteria) -> list[Problem]:
    problems = []
    total = sum(p.weight for p in criteria.perspectives)
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(_problem(criteria, _("checks.perspective_weights", total=_num(total))))
    for perspective in criteria.perspectives:
        total = sum(c.weight for c in perspective.criteria)
        if abs(total - 1) > WEIGHT_TOLERANCE:
            problems.append(_problem(perspective, _("checks.criteria_weights", id=perspective.id, total=_num(total))))
    return problems


def _num(value: float) -> str:
    return f"{value:.3g}".replace(".", ",")


def check_assessments(report: model.Report) -> list[Problem]:
    alternatives = {a.id for a in report.alternatives} | {model.ZERO_ID}
    criteria = {c.id for c in report.criteria.all}
    problems = []
    for assessment in report.assessments:
        if assessment.alternative not in alternatives:
            problems.append(_problem(assessment, _("checks.alternative_unknown", id=assessment.alternative,
                                                   ids=", ".join(sorted(alternatives)))))
        if assessment.criterion not in criteria:
            problems.append(_problem(assessment, _("checks.criterion_unknown", id=assessment.criterion)))
    return problems


def check_risks(report: model.Report) -> list[Problem]:
    alternatives = {a.id for a in report.alternatives}
    return [_problem(risk, _("checks.risk_alternative_unknown", risk=risk.id, alternative=alt))
            for risk in report.risks for alt in risk.alternatives if alt not in alternatives]


def check_milestones(report: model.Report) -> list[Problem]:
    by_id = {m.id: m for m in report.milestones.milestones}
    report_date = report.meta.date
    problems = []
    for m in report.milestones.milestones:
        if m.predecessor is not None:
            before = by_id.get(m.predecessor)
            if before is None:
                problems.append(_problem(m, _("checks.predecessor_unknown", predecessor=m.predecessor, id=m.id)))
            elif before.planned and m.planned and before.planned > m.planned:
                problems.append(_problem(m, _("checks.predecessor_later", id=m.id, planned=m.planned,
                                              predecessor=before.id, before=before.planned)))
        if m.actual and m.actual > report_date:
            problems.append(_problem(m, _("checks.actual_in_future", id=m.id, actual=m.actual, date=report_date)))
        problems += _colour_warnings(m)
    return problems


def _colour_warnings(m: model.Milestone) -> list[Problem]:
    """The status colour should agree with the dates (legend in data/milstolpar.yaml)."""
    if m.colour == "blå" and not m.actual:
        return [_problem(m, _("checks.blue_without_actual", id=m.id), "warning")]
    if m.colour == "grön" and m.forecast and m.planned and m.forecast > m.planned:
        return [_problem(m, _("checks.green_but_late", id=m.id, forecast=m.forecast, planned=m.planned), "warning")]
    if m.colour in ("röd", "gul") and m.actual:
        return [_problem(m, _("checks.done_but_colour", id=m.id, actual=m.actual, colour=m.colour), "warning")]
    return []


def check_rollout(report: model.Report) -> list[Problem]:
    return [_problem(wave, _("checks.wave_order", name=wave.name, end=wave.end_month, start=wave.start_month))
            for alt in report.alternatives for variant in alt.rollout_variants for wave in variant.waves
            if wave.end_month <= wave.start_month]


def check_promised_sections(report: model.Report) -> list[Problem]:
    """Every alternative fills every part the report promises, or says `saknas` for it."""
    criteria = [c.id for c in report.criteria.all]
    problems = []
    for alt in report.alternatives:
        filled = {
            "rollout_variants": bool(alt.rollout_variants),
            **{section: bool(getattr(alt.swot, section)) for section in SWOT_SECTIONS},
            "assessments": True,
        }
        assessed = {a.criterion for a in report.assessments if a.alternative == alt.id}
        unassessed = [c for c in criteria if c not in assessed]
        if unassessed and "assessments" not in alt.saknas:
            problems.append(_problem(alt, _("checks.unassessed", id=alt.id, criteria=", ".join(unassessed))))
        for section, has_content in filled.items():
            if not has_content and section not in alt.saknas:
                problems.append(_problem(alt, _("checks.section_empty", id=alt.id, section=section)))
            if has_content and section in alt.saknas and section != "assessments":
                problems.append(_problem(alt, _("checks.saknas_but_filled", id=alt.id, section=section), "warning"))
    return problems


def check_order(report: model.Report) -> list[Problem]:
    orders = sorted(a.order for a in report.alternatives)
    if orders == list(range(1, len(orders) + 1)) or len(set(orders)) != len(orders):
        return []
    return [_problem(report.alternatives[-1], _("checks.order_gaps", orders=", ".join(map(str, orders)),
                                                n=len(orders)), "warning")]


def check_timeline(report: model.Report) -> list[Problem]:
    problems = []
    for event in report.timeline.events:
        if event.date and event.date.strftime("%Y-%m") != event.month:
            problems.append(_problem(event, _("checks.event_outside_month", id=event.id, date=event.date,
                                              month=event.month)))
    months = [e.month for e in report.timeline.events]
    if months != sorted(months):
        problems.append(_problem(report.timeline, _("checks.events_unsorted"), "warning"))
    return problems


def check_task_times(report: model.Report) -> list[Problem]:
    """Each task has one frequency and one time today, and a row for every alternative."""
    alternatives = {a.id for a in report.alternatives} | {model.ZERO_ID}
    problems, first_seen = [], {}
    covered: dict[str, set[tuple[str, str]]] = {}
    for row in report.task_times:
        if row.alternative not in alternatives:
            problems.append(_problem(row, _("checks.alternative_unknown", id=row.alternative,
                                            ids=", ".join(sorted(alternatives)))))
        key = (row.task, row.role)
        covered.setdefault(row.alternative, set()).add(key)
        first = first_seen.setdefault(key, row)
        if (first.per_year, first.minutes_now) != (row.per_year, row.minutes_now):
            problems.append(_problem(row, _("checks.task_today_differs", task=row.task, role=row.role,
                                            line=first.origin[1] if first.origin else "?")))
    for alt in report.alternatives:
        missing = [f"{task} ({role})" for task, role in first_seen if (task, role) not in covered.get(alt.id, set())]
        if missing:
            problems.append(_problem(alt, _("checks.task_rows_missing", id=alt.id, tasks=", ".join(missing)), "warning"))
    return problems


PLACEHOLDERS = ("antal_alternativ", "metodavsnitt", "slutdatum", "alternativ", "alternativ_kort")
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def check_decision(report: model.Report) -> list[Problem]:
    """The proposal fits its stage: a final proposal names an existing alternative; placeholders are known."""
    d = report.decision
    problems = []
    for point in d.interim_points + d.final_points:
        for name in PLACEHOLDER.findall(point):
            if name not in PLACEHOLDERS:
                problems.append(_problem(d, _("checks.placeholder_unknown", name="{" + name + "}",
                                              known=", ".join("{" + p + "}" for p in PLACEHOLDERS))))
    alternatives = {a.id for a in report.alternatives}
    if d.stage == "slutligt" and d.proposed_alternative not in alternatives:
        problems.append(_problem(d, _("checks.proposed_unknown", proposed=d.proposed_alternative or "",
                                      ids=", ".join(sorted(alternatives)))))
    elif d.stage == "slutligt" and analysis_inputs_are_examples(report):
        problems.append(_problem(d, _("checks.proposal_on_examples"), "warning"))
    if d.final_report_milestone not in {m.id for m in report.milestones.milestones}:
        problems.append(_problem(d, _("checks.final_milestone_unknown", id=d.final_report_milestone)))
    return problems


def analysis_inputs_are_examples(report: model.Report) -> bool:
    """True while any number the ranking or the costs rest on only shows the method."""
    return (report.criteria.weights_status == "exempel"
            or any(a.status == "exempel" for a in report.assessments)
            or report.cost_settings.status == "exempel"
            or any(c.status == "exempel" for c in report.costs))


def check_case(report: model.Report) -> list[Problem]:
    case = report.case
    ids = [i.id for i in case.impacts]
    problems = [_problem(case, _("checks.impact_missing", id=required))
                for required in model.REQUIRED_IMPACTS if required not in ids]
    problems += [_problem(i, _("checks.impact_empty", id=i.id)) for i in case.impacts if not i.points and not i.missing]
    if not case.preparation and not case.preparation_missing:
        problems.append(_problem(case, _("checks.preparation_empty")))
    return problems


def check_costs(report: model.Report) -> list[Problem]:
    known = {a.id for a in report.alternatives} | {model.ZERO_ID}
    horizon = report.cost_settings.horizon_years
    problems = []
    for line in report.costs:
        if line.alternative not in known:
            problems.append(_problem(line, _("checks.alternative_unknown", id=line.alternative,
                                             ids=", ".join(sorted(known)))))
        if line.last_year > horizon:
            problems.append(_problem(line, _("checks.cost_beyond_horizon", year=line.last_year, horizon=horizon)))
    costed = {line.alternative for line in report.costs}
    if report.costs:
        for alt in [report.zero_alternative, *report.alternatives]:
            if alt.id not in costed:
                problems.append(_problem(alt, _("checks.costs_missing", id=alt.id), "warning"))
    return problems


def non_final_items(report: model.Report) -> list[tuple[model.Record, str, str]]:
    """(record, field, status) for every item that is not fastställd: what stops a final publication.
    The publish gate ranks these; a status the model does not know counts as not final."""
    from underlag.report.load import iter_records

    found = []
    for record in iter_records(report):
        for field in item_status_fields(type(record)):
            value = getattr(record, field, None)
            if value is None or value == "fastställd":
                continue
            if isinstance(record, model.Decision) and field == "status" and value == "förslag":
                continue  # the proposal to the board is a förslag by nature, even in a final report
            found.append((record, field, value))
    return found


def item_status_fields(record_type) -> list[str]:
    """The fields typed as an item's status (model.Status), whatever they are called; the document's
    own status and a source's state (planerad, finns) are other vocabularies."""
    from typing import get_args

    return [name for name, info in record_type.model_fields.items()
            if info.annotation == model.Status or model.Status in get_args(info.annotation)]


# --- the text: abbreviations and counts ----------------------------------------------------

ABBREVIATION = re.compile(r"(?<![\w/-])([A-ZÅÄÖ]{2,})(-[a-zåäö]+)?(?![a-zåäö])")
TEXT_FIELDS_SKIPPED = {"id", "source", "sources", "alternative", "criterion", "ref", "predecessor", "item",
                       "status", "colour", "colour_status", "weights_status", "based_on", "stage", "term",
                       "explanation", "about", "email", "proposed_alternative", "final_report_milestone", "lang"}


def prose_files(root: Path) -> list[Path]:
    """The text writers and templates put in the report: chapters and the fragment templates in use
    (the project's own, and the packaged one for every name the project does not override)."""
    own = {p.name: p for p in (root / "templates/fragments").glob("*.j2")}
    shipped = {p.name: p for p in (SHIPPED_TEMPLATES / "fragments").glob("*.j2")}
    return sorted((root / "chapters").rglob("*.qmd")) + [path for _, path in sorted({**shipped, **own}.items())]


def _text_lines(report: model.Report, root: Path) -> Iterator[tuple[str, int, str]]:
    """(file, line, text) for every line of prose and every text value in the data."""
    from underlag.report.load import iter_records

    for path in prose_files(root):
        if "_generated" in path.parts:
            continue
        shown = relative(path, root)  # once per file: it resolves the path on disk
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            if not line.lstrip().startswith(("{##", "{%", ":::")):
                yield shown, number, re.sub(r"\{[#@][^}]*\}|@\w[\w-]*|\{\{.*?\}\}", "", line)
    for record in iter_records(report):
        if isinstance(record, (model.Term, model.WriterNote)):
            continue
        path, line = record.origin or ("data", None)
        for name in type(record).model_fields:
            value = getattr(record, name)
            if isinstance(value, str) and name not in TEXT_FIELDS_SKIPPED:
                yield path, line, value


def check_glossary(report: model.Report, root: Path) -> list[Problem]:
    """Every abbreviation used in chapters, templates and data is explained in data/ordlista.yaml."""
    explained = {t.term for t in report.glossary.terms}
    first_use: dict[str, tuple[str, int]] = {}
    for path, line, text in _text_lines(report, root):
        for match in ABBREVIATION.finditer(text):
            bare, compound = match.group(1), match.group(0)
            # 'LM-anmälan' is explained as a whole or by 'LM'; 'IT-stöd' by 'IT'
            if bare not in explained and compound not in explained:
                first_use.setdefault(compound if match.group(2) else bare, (path, line))
    return [Problem(path, line, None, _("checks.abbreviation_unexplained", abbreviation=abbreviation), "warning")
            for abbreviation, (path, line) in sorted(first_use.items())]


COUNTED = {  # noun in prose -> what in the data it counts
    "vägar": "alternatives", "vägarna": "alternatives", "handlingsalternativ": "alternatives",
    "handlingsalternativen": "alternatives", "alternativ": "alternatives", "alternativen": "alternatives",
    "milstolpar": "milestones", "perspektiv": "perspectives", "faser": "phases", "mål": "goals",
}
WORD_VALUES = {word: value for value, word in enumerate(NUMBER_WORDS) if value >= 2}
STATED_COUNT = re.compile(r"(?<![\d–-])\b(\d+|" + "|".join(WORD_VALUES) + r")\s+(" + "|".join(COUNTED) + r")\b",
                          re.IGNORECASE)


def data_counts(report: model.Report) -> dict[str, int]:
    return {"alternatives": len(report.alternatives), "milestones": len(report.milestones.milestones),
            "perspectives": len(report.criteria.perspectives), "phases": len(report.phases.phases),
            "goals": len(report.goals.goals)}


def check_prose_counts(report: model.Report, root: Path) -> list[Problem]:
    """A count written in a chapter that the data contradicts ('fyra vägar' with five alternatives)."""
    counts = data_counts(report)
    problems = []
    for path in sorted((root / "chapters").rglob("*.qmd")):
        if "_generated" in path.parts:
            continue
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            for match in STATED_COUNT.finditer(line):
                word, noun = match.group(1).lower(), match.group(2).lower()
                stated = int(word) if word.isdigit() else WORD_VALUES[word]
                actual = counts[COUNTED[noun]]
                if stated != actual:
                    problems.append(Problem(relative(path, root), number, match.start() + 1,
                                            _("checks.count_differs", stated=match.group(0),
                                              actual=NUMBER_WORDS[actual] if actual < len(NUMBER_WORDS) else actual),
                                            "warning"))
    return problems


NOT_FINAL_STATUSES = (("exempel", "checks.listing.status.exempel"), ("preliminär", "checks.listing.status.preliminär"),
                      ("förslag", "checks.listing.status.förslag"))


def review_listing(report: model.Report) -> list[str]:
    """What `underlag check` lists for writers: the notes in data/anteckningar.yaml and how much is not final."""
    lines = []
    for note in report.notes.notes:
        path, line = note.origin or ("data/anteckningar.yaml", None)
        lines.append(_("checks.listing.note", path=path, line=line, about=note.about, text=note.text))
    low = ALTERNATIVE_COUNT[0]
    # Swedish says small counts in words ("två alternativ"); English gets digits
    in_words = (lambda n: number_word(n, True)) if language() == "sv" else str
    if len(report.alternatives) < low:
        lines.append(_("checks.listing.few_alternatives", count=in_words(len(report.alternatives)), low=in_words(low)))
    counts = Counter(status for _item, _where, status in non_final_items(report))
    if counts:
        parts = [_(key, n=counts[status]) for status, key in NOT_FINAL_STATUSES if counts[status]]
        lines.append(_("checks.listing.not_final", total=sum(counts.values()), parts=", ".join(parts)))
    return lines
