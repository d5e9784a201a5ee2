"""Checks across records and files, run after every file has loaded on its own.

Each check returns problems pointing at the record's own file and line. Errors stop the
build; warnings are reported and stop it only under `--strict`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from . import model
from .errors import Problem, relative

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
    ]


def _problem(record: model.Record, message: str, severity: str = "error") -> Problem:
    path, line = record.origin or ("data", None)
    return Problem(path, line, None, message, severity)


def check_alternative_count(report: model.Report, alternatives_dir: str) -> list[Problem]:
    low, high = ALTERNATIVE_COUNT
    if low <= len(report.alternatives) <= high:
        return []
    return [Problem(alternatives_dir, None, None,
                    f"there are {len(report.alternatives)} alternatives; a decision basis compares {low}–{high}: "
                    "add or remove files in this folder")]


def _duplicates(what: str, records: Iterable[model.Record], key) -> list[Problem]:
    records = list(records)
    counts = Counter(key(r) for r in records)
    return [_problem(r, f"{what} '{key(r)}' is used more than once; make it unique")
            for r in records if counts[key(r)] > 1]


def check_unique_ids(report: model.Report) -> list[Problem]:
    by_id = lambda r: r.id  # noqa: E731
    return [
        *_duplicates("alternative id", report.alternatives, by_id),
        *_duplicates("alternative order", report.alternatives, lambda a: a.order),
        *_duplicates("rollout variant id", (v for a in report.alternatives for v in a.rollout_variants), by_id),
        *_duplicates("milestone id", report.milestones.milestones, by_id),
        *_duplicates("timeline event id", report.timeline.events, by_id),
        *_duplicates("source id", report.sources, by_id),
        *_duplicates("stakeholder id", report.stakeholders, by_id),
        *_duplicates("perspective id", report.criteria.perspectives, by_id),
        *_duplicates("criterion id", report.criteria.all, by_id),
        *_duplicates("risk id", report.risks, by_id),
        *_duplicates("assessment of alternative and criterion", report.assessments,
                     lambda a: f"{a.alternative}/{a.criterion}"),
    ]


def check_sources(report: model.Report) -> list[Problem]:
    from .load import iter_records

    known = {s.id for s in report.sources}
    problems = []
    if report.meta.based_on not in known:
        problems.append(_problem(report.meta, f"based_on '{report.meta.based_on}' is not in data/kallor.yaml; "
                                              "add the source there or fix the id"))
    for record in iter_records(report):
        cited = getattr(record, "sources", None) or [getattr(record, "source", None)]
        for source in cited:
            if isinstance(source, str) and source not in known:
                problems.append(_problem(record, f"source '{source}' is not in data/kallor.yaml; "
                                                 "add it there or fix the id"))
    return problems


def check_weights(criteria: model.Criteria) -> list[Problem]:
    problems = []
    total = sum(p.weight for p in criteria.perspectives)
    if abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(_problem(criteria, f"the perspectives' weights sum to {_num(total)}, not 1; "
                                           "weights are shares of the whole: adjust them"))
    for perspective in criteria.perspectives:
        total = sum(c.weight for c in perspective.criteria)
        if abs(total - 1) > WEIGHT_TOLERANCE:
            problems.append(_problem(perspective, f"the criteria of '{perspective.id}' have weights summing to "
                                                  f"{_num(total)}, not 1; adjust them"))
    return problems


def _num(value: float) -> str:
    return f"{value:.3g}".replace(".", ",")


def check_assessments(report: model.Report) -> list[Problem]:
    alternatives = {a.id for a in report.alternatives}
    criteria = {c.id for c in report.criteria.all}
    problems = []
    for assessment in report.assessments:
        if assessment.alternative not in alternatives:
            problems.append(_problem(assessment, f"alternative '{assessment.alternative}' does not exist; "
                                                 f"use one of {', '.join(sorted(alternatives))}"))
        if assessment.criterion not in criteria:
            problems.append(_problem(assessment, f"criterion '{assessment.criterion}' is not in data/kriterier.yaml; "
                                                 "fix the id or add the criterion"))
    return problems


def check_risks(report: model.Report) -> list[Problem]:
    alternatives = {a.id for a in report.alternatives}
    return [_problem(risk, f"risk '{risk.id}' names alternative '{alt}', which does not exist")
            for risk in report.risks for alt in risk.alternatives if alt not in alternatives]


def check_milestones(report: model.Report) -> list[Problem]:
    by_id = {m.id: m for m in report.milestones.milestones}
    report_date = report.meta.date
    problems = []
    for m in report.milestones.milestones:
        if m.predecessor is not None:
            before = by_id.get(m.predecessor)
            if before is None:
                problems.append(_problem(m, f"predecessor '{m.predecessor}' of {m.id} does not exist"))
            elif before.planned and m.planned and before.planned > m.planned:
                problems.append(_problem(m, f"{m.id} is planned {m.planned} but its predecessor {before.id} only "
                                            f"{before.planned}; move one of the dates"))
        if m.actual and m.actual > report_date:
            problems.append(_problem(m, f"{m.id} is marked done on {m.actual}, after the report's date "
                                        f"{report_date}; an actual date cannot be in the future"))
        problems += _colour_warnings(m)
    return problems


def _colour_warnings(m: model.Milestone) -> list[Problem]:
    """The status colour should agree with the dates (legend in data/milstolpar.yaml)."""
    if m.colour == "blå" and not m.actual:
        return [_problem(m, f"{m.id} is blue (approved) but has no actual date; add it or change the colour",
                         "warning")]
    if m.colour == "grön" and m.forecast and m.planned and m.forecast > m.planned:
        return [_problem(m, f"{m.id} is green (on plan) but its forecast {m.forecast} is after the planned "
                            f"{m.planned}; use yellow or red, or update the forecast", "warning")]
    if m.colour in ("röd", "gul") and m.actual:
        return [_problem(m, f"{m.id} is done ({m.actual}) but still {m.colour}; use blue once it is approved",
                         "warning")]
    return []


def check_rollout(report: model.Report) -> list[Problem]:
    return [_problem(wave, f"wave '{wave.name}' ends (month {wave.end_month}) before it starts "
                           f"(month {wave.start_month}); swap or fix the months")
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
            problems.append(_problem(alt, f"alternative '{alt.id}' has no assessment for "
                                          f"{', '.join(unassessed)} in data/bedomningar.csv; add the rows or "
                                          "write 'saknas: [assessments]'"))
        for section, has_content in filled.items():
            if not has_content and section not in alt.saknas:
                problems.append(_problem(alt, f"alternative '{alt.id}' has no {section}; add them or write "
                                              f"'saknas: [{section}]' so the report says they are missing"))
            if has_content and section in alt.saknas and section != "assessments":
                problems.append(_problem(alt, f"alternative '{alt.id}' lists {section} under saknas but has "
                                              "some; remove it from saknas", "warning"))
    return problems


def check_order(report: model.Report) -> list[Problem]:
    orders = sorted(a.order for a in report.alternatives)
    if orders == list(range(1, len(orders) + 1)) or len(set(orders)) != len(orders):
        return []
    return [_problem(report.alternatives[-1], f"the alternatives are numbered {', '.join(map(str, orders))}; "
                                              f"number them 1–{len(orders)} without gaps", "warning")]


def check_timeline(report: model.Report) -> list[Problem]:
    problems = []
    for event in report.timeline.events:
        if event.date and event.date.strftime("%Y-%m") != event.month:
            problems.append(_problem(event, f"event '{event.id}' has date {event.date} outside its month "
                                            f"{event.month}; fix one of them"))
    months = [e.month for e in report.timeline.events]
    if months != sorted(months):
        problems.append(_problem(report.timeline, "the events are not in time order; sort them by month",
                                 "warning"))
    return problems


def check_task_times(report: model.Report) -> list[Problem]:
    """Each task has one frequency and one time today, and a row for every alternative."""
    alternatives = {a.id for a in report.alternatives}
    problems, first_seen = [], {}
    covered: dict[str, set[tuple[str, str]]] = {}
    for row in report.task_times:
        if row.alternative not in alternatives:
            problems.append(_problem(row, f"alternative '{row.alternative}' does not exist; "
                                          f"use one of {', '.join(sorted(alternatives))}"))
        key = (row.task, row.role)
        covered.setdefault(row.alternative, set()).add(key)
        first = first_seen.setdefault(key, row)
        if (first.per_year, first.minutes_now) != (row.per_year, row.minutes_now):
            problems.append(_problem(row, f"'{row.task}' ({row.role}) has other per_year or minutes_now than on "
                                          f"line {first.origin[1] if first.origin else '?'}; they describe today "
                                          "and must be the same on every row of the task"))
    for alt in report.alternatives:
        missing = [f"{task} ({role})" for task, role in first_seen if (task, role) not in covered.get(alt.id, set())]
        if missing:
            problems.append(_problem(alt, f"alternative '{alt.id}' has no rows in data/tidsatgang.csv for "
                                          f"{', '.join(missing)}; add them so the alternatives compare", "warning"))
    return problems
