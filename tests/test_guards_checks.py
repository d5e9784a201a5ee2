"""The cross-record checks in-process: the real report loaded once, then changed in memory one
fault at a time; each check must name the fault at the record's own file and line.

Fast so that mutation testing (tests/mutation/run.py) can run them per mutant; the bad-input
corpus holds the same checks through the `build` command.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import PROJECT

from underlag.engine.confine import SHIPPED_TEMPLATES
from underlag.report import checks, model
from underlag.report.load import load_report
from underlag.report.messages import text


@pytest.fixture(scope="module")
def real() -> model.Report:
    report, warnings = load_report(PROJECT)
    assert warnings == []
    return report


def changed(record, **fields):
    """A copy of a (frozen) record with some fields replaced; its file and line are kept."""
    return record.model_copy(update=fields)


def shown(problems) -> list[str]:
    return [str(p) for p in problems]


def test_the_real_report_passes_every_check(real):
    assert checks.check_report(real, PROJECT) == []


def test_check_report_runs_every_check(real):
    alternatives = [changed(real.alternatives[0], order=7), *real.alternatives[1:]]
    assessments = [changed(real.assessments[0], criterion="okänt"), *real.assessments[1:]]
    timeline = changed(real.timeline, events=list(reversed(real.timeline.events)))
    faulty = changed(real, alternatives=alternatives, assessments=assessments, timeline=timeline,
                     risks=[changed(real.risks[0], alternatives=["alt9"]), *real.risks[1:]])
    problems = shown(checks.check_report(faulty, PROJECT))
    assert any("criterion 'okänt' is not in data/kriterier.yaml" in p for p in problems)
    assert any("names alternative 'alt9'" in p for p in problems)
    assert any("the alternatives are numbered 2, 3, 4, 7" in p for p in problems)
    assert any("the events are not in time order" in p for p in problems)


@pytest.mark.parametrize("count", [2, 6])
def test_three_to_five_alternatives(real, count):
    alternatives = (real.alternatives * 2)[:count]
    assert shown(checks.check_alternative_count(changed(real, alternatives=alternatives), "data/alternativ",
                                                "förslag")) == [
        f"data/alternativ: there are {count} alternatives; a decision basis compares 3–5: add or remove files in "
        "this folder"]
    for fine in (3, 5):
        assert checks.check_alternative_count(changed(real, alternatives=(real.alternatives * 2)[:fine]), "x") == []


@pytest.mark.parametrize("count, problems", [(1, 0), (2, 0), (6, 1)])
def test_a_draft_may_have_fewer_alternatives_but_never_more(real, count, problems):
    """`underlag new` starts a draft with one example alternative; the shortfall is listed by check,
    and a status beyond utkast (the report's own or publish's --status) refuses it."""
    draft = changed(real, meta=changed(real.meta, status="utkast"), alternatives=(real.alternatives * 2)[:count])
    assert len(checks.check_alternative_count(draft, "data/alternativ")) == problems
    assert len(checks.check_alternative_count(draft, "data/alternativ", "fastställd")) == 1
    listed = [line for line in checks.review_listing(draft) if line.startswith("data/alternativ:")]
    assert len(listed) == (1 if count < 3 else 0)


def test_three_alternatives_are_enough_beyond_a_draft(real):
    three = changed(real, alternatives=real.alternatives[:3])
    for status in ("utkast", "förslag", "fastställd"):
        assert checks.check_alternative_count(three, "data/alternativ", status) == []


def test_the_review_listing_gives_counts_in_digits_in_english(real):
    draft = changed(real, meta=changed(real.meta, status="utkast"), alternatives=real.alternatives[:2])
    assert text("checks.listing.few_alternatives", count="2", low="3") in checks.review_listing(draft)


def test_the_folder_of_alternatives_is_named_relative_to_the_project(real):
    problems = checks.check_report(changed(real, alternatives=real.alternatives * 2), PROJECT)
    assert [p.path for p in problems if "alternatives;" in p.message] == ["data/alternativ"]


def duplicate(real: model.Report, what: str) -> model.Report:
    """The report with the first record of a kind repeated (same id, same file and line)."""
    alt = real.alternatives[0]
    match what:
        case "alternative id":
            return changed(real, alternatives=[*real.alternatives, changed(alt, order=9)])
        case "alternative order":
            return changed(real, alternatives=[*real.alternatives, changed(alt, id="alt9")])
        case "rollout variant id":
            variants = alt.rollout_variants
            return changed(real, alternatives=[changed(alt, rollout_variants=[*variants, variants[0]]),
                                               *real.alternatives[1:]])
        case "milestone id":
            milestones = real.milestones.milestones
            return changed(real, milestones=changed(real.milestones, milestones=[*milestones, milestones[0]]))
        case "timeline event id":
            return changed(real, timeline=changed(real.timeline, events=[*real.timeline.events,
                                                                         real.timeline.events[0]]))
        case "perspective id":
            perspectives = real.criteria.perspectives
            return changed(real, criteria=changed(real.criteria, perspectives=[*perspectives, perspectives[0]]))
        case "criterion id":
            first = real.criteria.perspectives[0]
            perspective = changed(first, criteria=[*first.criteria, first.criteria[0]])
            return changed(real, criteria=changed(real.criteria,
                                                  perspectives=[perspective, *real.criteria.perspectives[1:]]))
        case "assessment of alternative and criterion":
            return changed(real, assessments=[*real.assessments, real.assessments[0]])
        case _:
            field = {"source id": "sources", "stakeholder id": "stakeholders", "risk id": "risks"}[what]
            return changed(real, **{field: [*getattr(real, field), getattr(real, field)[0]]})


KEYS = {"alternative id": "alt1", "alternative order": "1", "rollout variant id": "alt1-nuvarande",
        "milestone id": "MS1", "timeline event id": "ivis", "source id": "rg-2025-01-28",
        "stakeholder id": "referensgrupp", "perspective id": "effektmal", "criterion id": "kvalitet",
        "risk id": "patientsakerhet-overgang", "assessment of alternative and criterion": "noll/kvalitet"}


@pytest.mark.parametrize("what", KEYS)
def test_every_kind_of_id_must_be_unique(real, what):
    # a repeated alternative or perspective repeats the ids inside it too: look at this kind only
    problems = [p for p in checks.check_unique_ids(duplicate(real, what)) if p.message.startswith(f"{what} '")]
    assert len(problems) == 2 and problems[0] == problems[1]
    assert problems[0].message == f"{what} '{KEYS[what]}' is used more than once; make it unique"
    assert problems[0].severity == "error" and problems[0].path.startswith("data/")


def test_sources_must_be_known(real):
    goal = real.goals.goals[0]
    faulty = changed(real, meta=changed(real.meta, based_on="okand-kalla"),
                     goals=changed(real.goals, goals=[changed(goal, source="saknad"), *real.goals.goals[1:]]),
                     assessments=[changed(real.assessments[0], sources=["rg-2025-01-28", "fel-id"]),
                                  *real.assessments[1:]])
    assert shown(checks.check_sources(faulty)) == [
        "data/rapport.yaml:3: based_on 'okand-kalla' is not in data/kallor.yaml; add the source there or fix the id",
        f"data/mal.yaml:{goal.origin[1]}: source 'saknad' is not in data/kallor.yaml; add it there or fix the id",
        "data/bedomningar.csv:2: source 'fel-id' is not in data/kallor.yaml; add it there or fix the id",
    ]


def test_a_planned_source_cannot_back_a_fact_even_after_the_source_list(real):
    """A planned source cited is named at the citing record; records after data/kallor.yaml in the
    report (the cost lines) are checked too."""
    planned = next(s.id for s in real.sources if s.status == "planerad")
    existing = next(s.id for s in real.sources if s.status == "finns")
    assessment, cost = real.assessments[0], real.costs[0]
    faulty = changed(real, assessments=[changed(assessment, sources=[existing, planned]), *real.assessments[1:]],
                     costs=[changed(cost, sources=["fel-id"]), *real.costs[1:]])
    problems = checks.check_sources(faulty)
    assert [(p.path, p.line, p.message) for p in problems] == [
        (*assessment.origin, text("checks.source_planned", source=planned)),
        (*cost.origin, text("checks.source_unknown", source="fel-id")),
    ]
    assert planned in problems[0].message


def test_weights_must_sum_to_one_within_a_thousandth(real):
    first, *rest = real.criteria.perspectives
    for weight, fine in ((0.4005, True), (0.3995, True), (0.4015, False), (0.3985, False)):
        criteria = changed(real.criteria, perspectives=[changed(first, weight=weight), *rest])
        assert (checks.check_weights(criteria) == []) is fine, weight
    criteria = changed(real.criteria, perspectives=[changed(first, weight=0.5), *rest])
    assert shown(checks.check_weights(criteria)) == [
        "data/kriterier.yaml:6: the perspectives' weights sum to 1,1, not 1; weights are shares of the whole: "
        "adjust them"]
    criterion, *others = first.criteria
    criteria = changed(real.criteria, perspectives=[changed(first, criteria=[changed(criterion, weight=0.1234),
                                                                             *others]), *rest])
    assert shown(checks.check_weights(criteria)) == [
        "data/kriterier.yaml:8: the criteria of 'effektmal' have weights summing to 0,723, not 1; adjust them"]


def test_assessments_name_known_alternatives_and_criteria(real):
    faulty = changed(real, assessments=[changed(real.assessments[0], alternative="alt9", criterion="okänt"),
                                        *real.assessments[1:]])
    assert shown(checks.check_assessments(faulty)) == [
        "data/bedomningar.csv:2: alternative 'alt9' does not exist; use one of alt1, alt2, alt3, alt4, noll",
        "data/bedomningar.csv:2: criterion 'okänt' is not in data/kriterier.yaml; fix the id or add the criterion",
    ]


def test_risks_name_known_alternatives(real):
    risk = real.risks[0]
    faulty = changed(real, risks=[changed(risk, alternatives=["alt2", "alt9"]), *real.risks[1:]])
    assert shown(checks.check_risks(faulty)) == [
        "data/risker.yaml:7: risk 'patientsakerhet-overgang' names alternative 'alt9', which does not exist"]


def milestones(real, index: int, **fields) -> model.Report:
    items = list(real.milestones.milestones)
    items[index] = changed(items[index], **fields)
    return changed(real, milestones=changed(real.milestones, milestones=items))


def test_milestone_predecessors_exist_and_come_first(real):
    assert shown(checks.check_milestones(milestones(real, 2, predecessor="MS99"))) == [
        "data/milstolpar.yaml:32: predecessor 'MS99' of MS3 does not exist"]
    assert shown(checks.check_milestones(milestones(real, 2, predecessor="MS4"))) == [
        "data/milstolpar.yaml:32: MS3 is planned 2025-02-03 but its predecessor MS4 only 2025-02-10; move one of "
        "the dates"]
    assert checks.check_milestones(milestones(real, 3, predecessor="MS3")) == []
    assert checks.check_milestones(milestones(real, 3, predecessor="MS3", planned=dt.date(2025, 2, 3),
                                                forecast=dt.date(2025, 2, 3))) == []  # the same day is fine
    assert checks.check_milestones(milestones(real, 3, predecessor="MS3", planned=None)) == []


def test_an_actual_date_cannot_be_after_the_report(real):
    assert shown(checks.check_milestones(milestones(real, 0, actual=dt.date(2025, 1, 29)))) == [
        "data/milstolpar.yaml:17: MS1 is marked done on 2025-01-29, after the report's date 2025-01-28; an actual "
        "date cannot be in the future"]
    assert checks.check_milestones(milestones(real, 0, actual=dt.date(2025, 1, 28))) == []


def test_the_colour_agrees_with_the_dates(real):
    assert shown(checks.check_milestones(milestones(real, 0, actual=None))) == [
        "data/milstolpar.yaml:17: warning: MS1 is blue (approved) but has no actual date; add it or change the colour"]
    assert shown(checks.check_milestones(milestones(real, 2, forecast=dt.date(2025, 2, 4)))) == [
        "data/milstolpar.yaml:32: warning: MS3 is green (on plan) but its forecast 2025-02-04 is after the planned "
        "2025-02-03; use yellow or red, or update the forecast"]
    assert checks.check_milestones(milestones(real, 2, forecast=None)) == []
    assert checks.check_milestones(milestones(real, 2, planned=None)) == []
    for colour in ("röd", "gul"):
        assert shown(checks.check_milestones(milestones(real, 0, colour=colour))) == [
            f"data/milstolpar.yaml:17: warning: MS1 is done (2024-11-28) but still {colour}; use blue once it is "
            "approved"]
    assert checks.check_milestones(milestones(real, 2, colour="gul")) == []


def test_a_wave_ends_after_it_starts(real):
    alt = real.alternatives[0]
    variant = alt.rollout_variants[0]
    for end in (12, 11):
        waves = [*variant.waves[:1], changed(variant.waves[1], end_month=end), *variant.waves[2:]]
        faulty = changed(real, alternatives=[changed(alt, rollout_variants=[changed(variant, waves=waves),
                                                                            *alt.rollout_variants[1:]]),
                                             *real.alternatives[1:]])
        problems = shown(checks.check_rollout(faulty))
        assert len(problems) == 1 and problems[0].endswith(
            f"wave 'Våg 1' ends (month {end}) before it starts (month 12); swap or fix the months")


def alternative(real, **fields) -> model.Report:
    return changed(real, alternatives=[changed(real.alternatives[0], **fields), *real.alternatives[1:]])


def test_an_empty_section_must_be_named_in_saknas(real):
    assert shown(checks.check_promised_sections(alternative(real, rollout_variants=[]))) == [
        "data/alternativ/alt1-uppdaterad-millennium.yaml:2: alternative 'alt1' has no rollout_variants; add them "
        "or write 'saknas: [rollout_variants]' so the report says they are missing"]
    assert checks.check_promised_sections(alternative(real, rollout_variants=[], saknas=["rollout_variants"])) == []
    swot = changed(real.alternatives[0].swot, threats=[])
    assert "has no threats" in shown(checks.check_promised_sections(alternative(real, swot=swot)))[0]
    assert checks.check_promised_sections(alternative(real, swot=swot, saknas=["threats"])) == []


def test_a_section_with_content_should_not_be_in_saknas(real):
    assert shown(checks.check_promised_sections(alternative(real, saknas=["strengths", "assessments"]))) == [
        "data/alternativ/alt1-uppdaterad-millennium.yaml:2: warning: alternative 'alt1' lists strengths under "
        "saknas but has some; remove it from saknas"]


def test_every_criterion_is_assessed_or_the_assessments_are_named_missing(real):
    kept = [a for a in real.assessments if not (a.alternative == "alt2" and a.criterion in ("lagar", "innovation"))]
    faulty = changed(real, assessments=kept)
    assert shown(checks.check_promised_sections(faulty)) == [
        "data/alternativ/alt2-nasta-generation.yaml:2: alternative 'alt2' has no assessment for lagar, innovation in "
        "data/bedomningar.csv; add the rows or write 'saknas: [assessments]'"]
    alt2 = changed(real.alternatives[1], saknas=["assessments"])
    assert checks.check_promised_sections(changed(faulty, alternatives=[real.alternatives[0], alt2,
                                                                        *real.alternatives[2:]])) == []


def test_alternatives_are_numbered_without_gaps(real):
    orders = (1, 2, 4, 5)
    renumbered = [changed(a, order=o) for a, o in zip(real.alternatives, orders)]
    assert shown(checks.check_order(changed(real, alternatives=renumbered))) == [
        "data/alternativ/alt4-openehr.yaml:2: warning: the alternatives are numbered 1, 2, 4, 5; number them 1–4 "
        "without gaps"]
    doubled = [changed(a, order=o) for a, o in zip(real.alternatives, (1, 2, 2, 4))]
    assert checks.check_order(changed(real, alternatives=doubled)) == []  # reported as a duplicate instead
    reordered = [changed(a, order=o) for a, o in zip(real.alternatives, (2, 1, 4, 3))]
    assert checks.check_order(changed(real, alternatives=reordered)) == []


def test_timeline_dates_fit_their_month_and_months_are_in_order(real):
    first, *rest = real.timeline.events
    for date, fine in ((dt.date(2024, 12, 31), True), (dt.date(2025, 1, 1), False), (dt.date(2023, 12, 5), False)):
        timeline = changed(real.timeline, events=[changed(first, date=date), *rest])
        problems = shown(checks.check_timeline(changed(real, timeline=timeline)))
        assert problems == ([] if fine else [f"data/tidslinje.yaml:{first.origin[1]}: event 'ivis' has date {date} "
                                             "outside its month 2024-12; fix one of them"])
    timeline = changed(real.timeline, events=[*rest, first])
    assert shown(checks.check_timeline(changed(real, timeline=timeline))) == [
        f"data/tidslinje.yaml:{real.timeline.origin[1]}: warning: the events are not in time order; "
        "sort them by month"]


def test_task_times_agree_and_cover_every_alternative(real):
    rows = list(real.task_times)
    assert shown(checks.check_task_times(changed(real, task_times=[changed(rows[0], alternative="alt9"), *rows[1:]])))[0] \
        == "data/tidsatgang.csv:2: alternative 'alt9' does not exist; use one of alt1, alt2, alt3, alt4, noll"
    for field in ("per_year", "minutes_now"):
        faulty = changed(real, task_times=[rows[0], changed(rows[1], **{field: 7.0}), *rows[2:]])
        assert shown(checks.check_task_times(faulty)) == [
            "data/tidsatgang.csv:3: 'Dokumentera mottagningsbesök' (Läkare) has other per_year or minutes_now than on "
            "line 2; they describe today and must be the same on every row of the task"]
    faulty = changed(real, task_times=[rows[0], rows[2], rows[3], *rows[4:]])  # alt1 lacks the first task
    assert shown(checks.check_task_times(faulty)) == [
        "data/alternativ/alt1-uppdaterad-millennium.yaml:2: warning: alternative 'alt1' has no rows in data/tidsatgang.csv "
        "for Dokumentera mottagningsbesök (Läkare); add them so the alternatives compare"]


def test_an_alternative_with_no_task_rows_at_all_lacks_every_task(real):
    rows = [row for row in real.task_times if row.alternative != "alt1"]
    tasks = list(dict.fromkeys(f"{row.task} ({row.role})" for row in rows))
    assert len(tasks) >= 2
    alt1 = next(a for a in real.alternatives if a.id == "alt1")
    problems = checks.check_task_times(changed(real, task_times=rows))
    assert [(p.path, p.line, p.message, p.severity) for p in problems] == [
        (*alt1.origin, text("checks.task_rows_missing", id="alt1", tasks=", ".join(tasks)), "warning")]
    assert ", ".join(tasks[:2]) in problems[0].message


def test_a_record_built_in_memory_is_placed_in_data(real):
    risk = model.Risk.model_validate({"id": "ny", "title": "Ny", "description": "-", "alternatives": ["alt9"],
                                      "probability": 1, "consequence": 1, "mitigation": "-", "owner": "-",
                                      "status": "preliminär"})
    problems = checks.check_risks(changed(real, risks=[risk]))
    assert [(p.path, p.line, p.column, p.severity) for p in problems] == [("data", None, None, "error")]


def test_rows_built_in_memory_are_compared_without_a_line(real):
    def row(per_year: float) -> model.TaskTime:
        return model.TaskTime.model_validate({"task": "Skriva", "role": "Sjuksköterska", "per_year": per_year,
                                              "minutes_now": 5, "alternative": "alt1", "minutes_short": 5,
                                              "minutes_long": 5, "status": "preliminär"})

    problems = checks.check_task_times(changed(real, alternatives=real.alternatives[:1], task_times=[row(10), row(20)]))
    assert shown(problems) == [
        "data: 'Skriva' (Sjuksköterska) has other per_year or minutes_now than on line ?; they describe today and "
        "must be the same on every row of the task"]


# --- what `underlag check` lists for writers -----------------------------------------------------


def test_the_review_listing_places_each_note_at_its_line(swedish_in_this_test, real):
    listed = checks.review_listing(changed(real, alternatives=real.alternatives[:3]))
    notes = real.notes.notes
    assert notes and all(note.origin[0] == "data/anteckningar.yaml" for note in notes)
    assert listed[:len(notes)] == [f"data/anteckningar.yaml:{note.origin[1]}: anteckning om {note.about}: {note.text}"
                                   for note in notes]


@pytest.mark.parametrize("count, line", [
    (1, "data/alternativ: utkastet har ett alternativ; ett beslutsunderlag jämför minst tre, så lägg till fler "
        "innan rapporten blir ett förslag"),
    (2, "data/alternativ: utkastet har två alternativ; ett beslutsunderlag jämför minst tre, så lägg till fler "
        "innan rapporten blir ett förslag"),
    (3, None), (4, None)])
def test_the_review_listing_names_a_drafts_shortfall_of_alternatives(swedish_in_this_test, real, count, line):
    listed = [entry for entry in checks.review_listing(changed(real, alternatives=real.alternatives[:count]))
              if entry.startswith("data/alternativ:")]
    assert listed == ([line] if line else [])


def test_the_review_listing_counts_what_is_not_final_by_status(swedish_in_this_test, real):
    # one assessment made a förslag, so that all three statuses are counted
    report = changed(real, assessments=[changed(real.assessments[0], status="förslag"), *real.assessments[1:]])
    counts = {status: sum(s == status for _, _, s in checks.non_final_items(report))
              for status in ("exempel", "preliminär", "förslag")}
    assert all(counts.values())
    assert checks.review_listing(report)[-1] == (
        f"{sum(counts.values())} uppgifter är inte fastställda: {counts['exempel']} exempel, "
        f"{counts['preliminär']} preliminära, {counts['förslag']} förslag. Exempel måste bytas mot bedömningar "
        "innan rapporten publiceras som förslag eller fastställd.")
    # a status nobody has is left out of the sentence
    assert ", 0 " not in checks.review_listing(real)[-1] and "förslag." not in checks.review_listing(real)[-1]


def test_only_items_that_are_not_fastställd_stop_a_final_publication(real):
    first, second = real.assessments[:2]
    report = changed(real, assessments=[changed(first, status="fastställd"), changed(second, status="preliminär")])
    found = [(record, status) for record, field, status in checks.non_final_items(report)
             if isinstance(record, model.Assessment)]
    assert found == [(report.assessments[1], "preliminär")]


# --- the proposal, the case, the costs -----------------------------------------------------------


def test_a_decision_point_may_hold_only_known_placeholders(real):
    decision = changed(real.decision, interim_points=["Ta del av {okänd} och {alternativ}"], final_points=["{}"])
    use = "use {antal_alternativ}, {metodavsnitt}, {slutdatum}, {alternativ}, {alternativ_kort}"
    assert shown(checks.check_decision(changed(real, decision=decision))) == [
        f"data/beslut.yaml:7: unknown placeholder '{{okänd}}' in a decision point; {use}",
        f"data/beslut.yaml:7: unknown placeholder '{{}}' in a decision point; {use}"]


def test_a_final_proposal_names_an_alternative_and_a_known_milestone(real):
    decision = changed(real.decision, stage="slutligt", proposed_alternative="alt9", final_report_milestone="m99")
    assert shown(checks.check_decision(changed(real, decision=decision))) == [
        "data/beslut.yaml:7: stage is slutligt but proposed_alternative ('alt9') is no alternative; name one of "
        "alt1, alt2, alt3, alt4",
        "data/beslut.yaml:7: final_report_milestone 'm99' is not in data/milstolpar.yaml; name the milestone at "
        "which the decision basis is ready"]
    unnamed = changed(real.decision, stage="slutligt", proposed_alternative=None)
    assert shown(checks.check_decision(changed(real, decision=unnamed))) == [
        "data/beslut.yaml:7: stage is slutligt but proposed_alternative ('') is no alternative; name one of "
        "alt1, alt2, alt3, alt4"]
    # an interim report proposes no alternative yet
    interim = changed(real.decision, stage="lägesrapport", proposed_alternative="alt9")
    assert checks.check_decision(changed(real, decision=interim)) == []


def settled(real: model.Report) -> model.Report:
    """The report with every number the analysis rests on preliminär instead of exempel."""
    return changed(real, criteria=changed(real.criteria, weights_status="preliminär"),
                   cost_settings=changed(real.cost_settings, status="preliminär"),
                   assessments=[changed(a, status="preliminär") for a in real.assessments],
                   costs=[changed(c, status="preliminär") for c in real.costs])


@pytest.mark.parametrize("example", ["weights", "assessment", "cost_settings", "cost_line"])
def test_a_final_proposal_on_example_numbers_is_warned_about(real, example):
    report = settled(real)
    assert not checks.analysis_inputs_are_examples(report)
    report = changed(report, **{
        "weights": lambda: {"criteria": changed(report.criteria, weights_status="exempel")},
        "assessment": lambda: {"assessments": [*report.assessments[:-1],
                                               changed(report.assessments[-1], status="exempel")]},
        "cost_settings": lambda: {"cost_settings": changed(report.cost_settings, status="exempel")},
        "cost_line": lambda: {"costs": [*report.costs[:-1], changed(report.costs[-1], status="exempel")]},
    }[example]())
    assert checks.analysis_inputs_are_examples(report)
    decision = changed(report.decision, stage="slutligt", proposed_alternative="alt1")
    problems = checks.check_decision(changed(report, decision=decision))
    assert [(str(p), p.severity) for p in problems] == [(
        "data/beslut.yaml:7: warning: the proposal chooses an alternative, but scores, weights or costs are examples; "
        "replace the examples with assessments before the proposal goes to the board", "warning")]
    assert checks.check_decision(changed(settled(real), decision=decision)) == []


def test_every_required_impact_is_assessed_or_says_why_not(real):
    case = real.case
    assert [i.id for i in case.impacts] == list(model.REQUIRED_IMPACTS)
    faulty = changed(case, impacts=[changed(case.impacts[0], points=[], missing=None), *case.impacts[2:]],
                     preparation=[], preparation_missing=None)
    assert shown(checks.check_case(changed(real, case=faulty))) == [
        "data/arende.yaml:9: the impact assessment 'arbetsmiljo' is missing; add it under impacts (without points, "
        "with a sentence in 'missing', if it is not done)",
        "data/arende.yaml:24: the impact assessment 'patientsakerhet' has neither points nor 'missing'; write a "
        "sentence saying it is not done yet",
        "data/arende.yaml:9: the preparation is empty; add who has been consulted or write a sentence in "
        "preparation_missing"]
    said = changed(case, impacts=[changed(i, points=[], missing="Inte gjord än.") for i in case.impacts],
                   preparation=[], preparation_missing="Ingen har hörts än.")
    assert checks.check_case(changed(real, case=said)) == []


def test_cost_lines_name_known_alternatives_within_the_horizon(real):
    horizon = real.cost_settings.horizon_years
    first = real.costs[0]
    costs = [changed(first, alternative="alt9", last_year=horizon + 1), changed(first, last_year=horizon),
             *[c for c in real.costs[1:] if c.alternative != "alt2"]]
    problems = checks.check_costs(changed(real, costs=costs))
    assert [(str(p), p.severity) for p in problems] == [
        ("data/kostnader.csv:2: alternative 'alt9' does not exist; use one of alt1, alt2, alt3, alt4, noll", "error"),
        (f"data/kostnader.csv:2: last_year {horizon + 1} is after the cost model's horizon ({horizon} years in "
         "data/kalkyl.yaml); shorten the period or change the horizon", "error"),
        ("data/alternativ/alt2-nasta-generation.yaml:2: warning: 'alt2' has no rows in data/kostnader.csv; add them "
         "so the costs compare", "warning")]
    # no cost lines at all: the cost model is simply not used, nothing is missing
    assert checks.check_costs(changed(real, costs=[])) == []


def test_the_nollalternativ_needs_cost_rows_too(real):
    costs = [c for c in real.costs if c.alternative != model.ZERO_ID]
    assert len(costs) < len(real.costs)
    problems = checks.check_costs(changed(real, costs=costs))
    assert [(p.severity, f"'{model.ZERO_ID}' has no rows" in p.message) for p in problems] == [("warning", True)]


# --- the text: abbreviations, counts, the writers' prose per alternative ----------------------------


def chapters(root, **files: str):
    for name, text in files.items():
        path = root / "chapters" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def warnings(problems) -> list[str]:
    assert all(p.severity == "warning" for p in problems)
    return shown(problems)


def test_an_unexplained_abbreviation_is_named_once_at_its_first_use(real, tmp_path):
    root = chapters(tmp_path, **{
        "01.qmd": "# Om XYZ\n\nSe @fig-ABC och {{< var QQQ >}} och {#sec-DEF}.\n{## KOM: en kommentar ##}\n"
                  "IT-stöd, LM-anmälan och QR-kod. QR igen, XYZ igen.\n",
        "_generated/g.qmd": "NNN\n"})
    assert warnings(checks.check_glossary(real, root)) == [
        "chapters/01.qmd:5: warning: the abbreviation QR is not explained; add it to data/ordlista.yaml",
        "chapters/01.qmd:5: warning: the abbreviation QR-kod is not explained; add it to data/ordlista.yaml",
        "chapters/01.qmd:1: warning: the abbreviation XYZ is not explained; add it to data/ordlista.yaml"]


def test_an_abbreviation_in_the_data_is_placed_at_its_record(real, tmp_path):
    risk = changed(real.risks[0], description="Risk för ZZQ.", id="zzq-risk")
    report = changed(real, risks=[risk, *real.risks[1:]])
    assert warnings(checks.check_glossary(report, chapters(tmp_path))) == [
        f"{risk.origin[0]}:{risk.origin[1]}: warning: the abbreviation ZZQ is not explained; add it to "
        "data/ordlista.yaml"]


def test_the_fragment_templates_in_use_are_read_for_abbreviations(real, tmp_path):
    (tmp_path / "templates" / "fragments").mkdir(parents=True)
    (tmp_path / "templates" / "fragments" / "egen.md.j2").write_text("Text om QQX.\n{% if x %}YYQ{% endif %}\n")
    files = checks.prose_files(chapters(tmp_path, **{"01.qmd": "x\n"}))
    assert files[0] == tmp_path / "chapters" / "01.qmd" and tmp_path / "templates/fragments/egen.md.j2" in files
    assert warnings(checks.check_glossary(real, tmp_path)) == [
        "templates/fragments/egen.md.j2:1: warning: the abbreviation QQX is not explained; add it to "
        "data/ordlista.yaml"]


def test_comment_and_fence_lines_are_skipped_even_when_indented(real, tmp_path):
    """A writer's comment ({## … ##}) and a fence line (:::, indented or not) are not prose, even
    where the placeholder stripping would leave a capitalised word behind."""
    root = chapters(tmp_path, **{"01.qmd": "{## se {x} KMA ##}\n::: KMB\n   ::: KMC\n  {## se {y} KMD ##}\nKME\n"})
    assert warnings(checks.check_glossary(real, root)) == [
        "chapters/01.qmd:5: warning: the abbreviation KME is not explained; add it to data/ordlista.yaml"]


def test_a_chapter_with_bytes_that_are_not_utf8_is_still_read(real, tmp_path):
    chapters(tmp_path, **{"01.qmd": ""})
    (tmp_path / "chapters" / "01.qmd").write_bytes(b"Om \xff\xfe KMF.\n")
    assert warnings(checks.check_glossary(real, tmp_path)) == [
        "chapters/01.qmd:1: warning: the abbreviation KMF is not explained; add it to data/ordlista.yaml"]


def test_the_generated_chapters_are_skipped_but_the_fragments_after_them_are_read(real, tmp_path):
    (tmp_path / "templates" / "fragments").mkdir(parents=True)
    (tmp_path / "templates" / "fragments" / "egen.md.j2").write_text("Text om KMG.\n")
    chapters(tmp_path, **{"_generated/g.qmd": "KMH\n"})
    assert warnings(checks.check_glossary(real, tmp_path)) == [
        "templates/fragments/egen.md.j2:1: warning: the abbreviation KMG is not explained; add it to "
        "data/ordlista.yaml"]


def test_data_after_the_glossary_and_data_built_in_memory_are_read(real, tmp_path):
    """The glossary's own terms are skipped, not everything after them (data/kalkyl.yaml); a record
    built in memory has no file and is placed in data."""
    settings = real.cost_settings
    horizon = changed(settings.horizon, text="Horisont enligt KMJ.")
    risk = model.Risk.model_validate({"id": "ny", "title": "Ny", "description": "Risk för KMK.", "alternatives": [],
                                      "probability": 1, "consequence": 1, "mitigation": "-", "owner": "-",
                                      "status": "preliminär"})
    report = changed(real, cost_settings=changed(settings, horizon=horizon), risks=[risk, *real.risks])
    problems = checks.check_glossary(report, chapters(tmp_path))
    assert [(p.path, p.line, p.message) for p in problems] == [
        (*horizon.origin, text("checks.abbreviation_unexplained", abbreviation="KMJ")),
        ("data", None, text("checks.abbreviation_unexplained", abbreviation="KMK"))]


def test_the_shipped_fragments_are_read_unless_the_project_overrides_them(tmp_path):
    shipped = sorted((SHIPPED_TEMPLATES / "fragments").glob("*.j2"))
    assert len(shipped) >= 2
    own = tmp_path / "templates" / "fragments" / shipped[0].name
    own.parent.mkdir(parents=True)
    own.write_text("Egen text.\n")
    assert checks.prose_files(chapters(tmp_path, **{"01.qmd": "x\n"})) == [
        tmp_path / "chapters" / "01.qmd", own, *shipped[1:]]


def test_a_count_in_the_text_that_the_data_contradicts(real, tmp_path):
    # as many milestones as there are number words: the data's count is then shown in digits
    many = len(checks.NUMBER_WORDS)
    report = changed(real, milestones=changed(real.milestones, milestones=(real.milestones.milestones * many)[:many]))
    assert len(real.alternatives) == 4 and len(real.criteria.perspectives) == 4
    root = chapters(tmp_path, **{
        "01.qmd": "Vi jämför fyra vägar och 3 perspektiv.\nTre Alternativ, 2–3 alternativ, 99 milstolpar.\n",
        "_generated/g.qmd": "tio vägar\n"})
    fix = "let a generated part give the number or correct the text"
    assert warnings(checks.check_prose_counts(report, root)) == [
        f"chapters/01.qmd:1:26: warning: the text says 3 perspektiv but the data has fyra; {fix}",
        f"chapters/01.qmd:2:1: warning: the text says Tre Alternativ but the data has fyra; {fix}",
        f"chapters/01.qmd:2:33: warning: the text says 99 milstolpar but the data has {many}; {fix}"]


def test_counts_are_read_in_chapters_after_the_generated_ones_and_in_bytes_that_are_not_utf8(real, tmp_path):
    """chapters/_generated sorts before a chapter named in lower case, which must still be read."""
    assert len(real.criteria.perspectives) == 4
    root = chapters(tmp_path, **{"_generated/g.qmd": "tio vägar\n", "zz.qmd": ""})
    (root / "chapters" / "zz.qmd").write_bytes(b"Om \xff\xfe: tre perspektiv.\n")
    problems = checks.check_prose_counts(real, root)
    assert [(p.path, p.line, p.column, p.message) for p in problems] == [
        ("chapters/zz.qmd", 1, 8, text("checks.count_differs", stated="tre perspektiv", actual="fyra"))]


def test_a_writers_text_for_no_alternative_is_named(real, tmp_path):
    # a near name is suggested by spelling (alt2-nasta, alt4nastagen), a long one by the part before
    # the first hyphen of both names (alt3-… for the id alt3-b), and nothing close gets the list of ids
    report = changed(real, alternatives=[changed(a, id="alt3-b") if a.id == "alt3" else a for a in real.alternatives])
    long = "alt3-en-mycket-lang-beskrivning-av-vagen"
    root = chapters(tmp_path, **{f"alternativ/{stem}.qmd": "x\n" for stem in
                                 ("alt1", "alt2-nasta", long, "alt4nastagen", "zzz")})
    nowhere = "chapters/alternativ/{0}.qmd:1: warning: this text is shown nowhere: no alternative has the id '{0}' " \
              "(the file name without .qmd); "
    meant = "did you mean {}.qmd? The alternatives' ids are in data/alternativ/*.yaml"
    assert warnings(checks.check_alternative_prose(report, root)) == [
        nowhere.format("alt2-nasta") + meant.format("alt2"),
        nowhere.format(long) + meant.format("alt3-b"),
        nowhere.format("alt4nastagen") + meant.format("alt4"),
        nowhere.format("zzz") + "rename the file to one of alt1, alt2, alt3-b, alt4 followed by .qmd"]
