"""The typed model of everything in `data/`: one `Report` object for every later stage.

Field names are English (they are identifiers); the values are the report's Swedish text.
Every record remembers the file and line it was read from (`origin`), so later checks can
point a writer at the right place.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from underlag.report.messages import text as _

# How settled a piece of content is. Anything but `fastställd` is shown as such in the report.
# `exempel`: a number that only shows the method (a placeholder, not an assessment);
# `preliminär`: real but unsettled; `förslag`: proposed, not decided.
Status = Literal["exempel", "preliminär", "förslag", "fastställd"]
NON_FINAL: tuple[str, ...] = ("exempel", "preliminär", "förslag")
DocumentStatus = Literal["utkast", "förslag", "fastställd"]
Colour = Literal["blå", "röd", "gul", "grön"]
# Ids become cross-reference labels and file names: lower-case letters, digits and hyphens.
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]


MAX_TEXT = 5000  # characters in one text field: a board report has no longer paragraphs


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT)
    _origin: tuple[str, int] | None = PrivateAttr(default=None)

    @property
    def origin(self) -> tuple[str, int] | None:
        """(file, line) the record was read from, when it came from a file."""
        return self._origin


class Point(Record):
    """One statement in the report: a fact with its source, or content marked as not settled."""

    text: str = Field(min_length=1)
    source: str | None = Field(default=None, description="id of an entry in data/kallor.yaml")
    status: Status | None = None
    points: list[Point] = Field(default_factory=list, description="sub-points")

    @model_validator(mode="before")
    @classmethod
    def _from_plain_string(cls, value):
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sourced_or_marked(self):
        if self.source is None and self.status is None:
            raise ValueError(_("model.point_needs_source"))
        return self


class ReportMeta(Record):
    """data/rapport.yaml; also read by Quarto as a metadata file."""

    title: str
    subtitle: str | None = None
    short_title: str
    organisation: str
    date: dt.date
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    status: DocumentStatus
    diarienummer: str | None = Field(default=None, pattern=r"^[A-ZÅÄÖ]{1,4} \d{4}-\d{5}$")
    lang: str = "sv-SE"
    based_on: str = Field(description="id in data/kallor.yaml of the document the report was written from")


class Goals(Record):
    goals: list[Point]


class TimelineEvent(Record):
    id: Id
    text: str
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    date: dt.date | None = None
    note: str | None = None
    source: str | None = None
    status: Status | None = None


class Timeline(Record):
    title: str
    heading: str
    events: list[TimelineEvent]


class WorkPackage(Record):
    id: Id
    name: str
    points: list[Point] = Field(default_factory=list)


class Phase(Record):
    id: Id
    name: str
    period: str
    start: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    end: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    work_packages: list[WorkPackage]


class Track(Record):
    """Work that runs beside the phases: the regional experience gathering, the external review."""

    id: Id
    name: str
    purpose: Point
    activities: list[Point]


class Phases(Record):
    phases: list[Phase]
    tracks: list[Track]


class ColourMeaning(Record):
    colour: Colour
    meaning: str


class Milestone(Record):
    id: str
    name: str
    planned: dt.date | None = None
    forecast: dt.date | None = None
    actual: dt.date | None = None
    comment: str | None = None
    colour: Colour | None = None
    colour_status: Status | None = Field(
        default=None, description="set when the colour is not given by the source"
    )
    predecessor: str | None = Field(default=None, description="id of the milestone that must come first")


class Milestones(Record):
    note: str
    legend: list[ColourMeaning]
    milestones: list[Milestone]
    source: str


class Wave(Record):
    name: str
    units: str
    start_month: int = Field(ge=0, description="months after the decision")
    end_month: int = Field(gt=0)


class RolloutVariant(Record):
    id: Id
    name: str
    scope: str
    order_of_units: str
    waves: list[Wave] = Field(min_length=1)
    prerequisites: list[Point] = Field(default_factory=list)
    status: Status
    source: str | None = None

    @property
    def duration_months(self) -> int:
        return max(w.end_month for w in self.waves) - min(w.start_month for w in self.waves)


class Swot(Record):
    strengths: list[Point] = Field(default_factory=list)
    weaknesses: list[Point] = Field(default_factory=list)
    opportunities: list[Point] = Field(default_factory=list)
    threats: list[Point] = Field(default_factory=list)


# Parts of an alternative that may be left empty only when named in `saknas`.
Section = Literal["rollout_variants", "strengths", "weaknesses", "opportunities", "threats", "assessments"]


class Alternative(Record):
    """One action alternative: one file in data/alternativ/."""

    id: Id
    order: int = Field(ge=1)
    title: str
    early_title: str | None = Field(default=None, description="wording in the early proposal")
    short_title: str
    subtitle: str | None = None
    points: list[Point]
    consequences: list[Point] = Field(default_factory=list)
    rollout_variants: list[RolloutVariant] = Field(default_factory=list)
    swot: Swot
    saknas: list[Section] = Field(
        default_factory=list, description="parts the report promises that do not exist yet, said out loud"
    )


ZERO_ID = "noll"  # the nollalternativ's id in data/bedomningar.csv, tidsatgang.csv and kostnader.csv


class ZeroAlternative(Record):
    """Nollalternativet: what happens if no further action is taken. A reference, not a choice."""

    id: Literal["noll"] = ZERO_ID
    short_title: str = "Nollalternativ"
    title: str
    description: str
    points: list[Point]
    consequences: list[Point] = Field(default_factory=list)


Score = Annotated[float, Field(ge=1, le=5)]


class Criterion(Record):
    id: Id
    name: str
    weight: float = Field(gt=0, le=1, description="share of the perspective's weight, 0–1")
    low: str = Field(description="what a score of 1 means")
    high: str = Field(description="what a score of 5 means")


class Perspective(Record):
    """A perspective from the evaluation method, with its weight and criteria (two levels)."""

    id: Id
    name: str
    weight: float = Field(gt=0, le=1, description="share of the total, 0–1; all perspectives sum to 1")
    criteria: list[Criterion] = Field(min_length=1)


class Criteria(Record):
    """data/kriterier.yaml."""

    weights_status: Status = Field(description="how settled the weights are")
    perspectives: list[Perspective] = Field(min_length=1)

    @property
    def all(self) -> list[Criterion]:
        return [c for p in self.perspectives for c in p.criteria]


class Assessment(Record):
    """One row of data/bedomningar.csv: an alternative's score on one criterion."""

    alternative: str
    criterion: str
    score: Score
    low: Score = Field(description="lowest plausible score")
    high: Score = Field(description="highest plausible score")
    rationale: str = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    status: Status

    @model_validator(mode="after")
    def _range_holds_score(self):
        if not self.low <= self.score <= self.high:
            raise ValueError(_("model.score_outside_range", score=_num(self.score), low=_num(self.low),
                               high=_num(self.high)))
        return self


def _num(value: float) -> str:
    return f"{value:g}".replace(".", ",")


class Risk(Record):
    id: Id
    title: str
    description: str
    alternatives: list[str] = Field(default_factory=list, description="alternative ids; empty means all")
    probability: int = Field(ge=1, le=5, description="1 = mycket låg … 5 = mycket hög")
    consequence: int = Field(ge=1, le=5, description="1 = mycket liten … 5 = mycket stor")
    mitigation: str
    owner: str = Field(description="who answers for the mitigation")
    status: Status
    source: str | None = None


class TaskTime(Record):
    """One row of data/tidsatgang.csv: time for a common work task now and with an alternative."""

    task: str
    role: str
    per_year: float = Field(gt=0, description="times per year in the whole region")
    minutes_now: float = Field(gt=0, description="minutes per time with today's systems")
    alternative: str
    minutes_short: float = Field(gt=0, description="minutes per time during the first years")
    minutes_long: float = Field(gt=0, description="minutes per time once the alternative is in place")
    sources: list[str] = Field(default_factory=list)
    status: Status


class Method(Record):
    purpose: list[Point]
    must_describe: list[Point]
    presentation: str
    presentation_parts: dict[str, str]
    source: str


class SourceEntry(Record):
    id: Id
    title: str
    kind: str
    group: str | None = None
    status: Literal["finns", "planerad", "pågår"]
    method: bool = Field(default=True, description="listed among the underlag of the evaluation method")


class Stakeholder(Record):
    id: Id
    name: str
    involvement: Point


DecisionStage = Literal["lägesrapport", "slutligt"]


class Decision(Record):
    """Förslag till beslut, by the stage the work is in.

    While the analysis is not done (`lägesrapport`) the board adopts `interim_points`; when it
    is done (`slutligt`) it adopts `final_points`, which name `proposed_alternative`. Points may
    hold placeholders filled from the data: {antal_alternativ}, {metodavsnitt}, {slutdatum},
    {alternativ}, {alternativ_kort}.
    """

    stage: DecisionStage
    status: Status
    addressee: str = Field(description="who decides, e.g. 'Regionstyrelsen'")
    interim_note: str = Field(description="one sentence shown above the points while the stage is lägesrapport")
    interim_points: list[str] = Field(min_length=1)
    final_points: list[str] = Field(min_length=1)
    proposed_alternative: str | None = Field(default=None, description="alternative id; required when stage is slutligt")
    final_report_milestone: str = Field(description="id of the milestone when the final decision basis is ready")

    @property
    def points(self) -> list[str]:
        return self.final_points if self.stage == "slutligt" else self.interim_points


class Contact(Record):
    """Handläggare: who answers questions about the paper."""

    name: str
    role: str
    email: str
    status: Status | None = Field(default=None, description="set while the contact is a placeholder")


class Impact(Record):
    """One konsekvensbeskrivning: patientsäkerhet, arbetsmiljö, juridik, informationssäkerhet, jämlik vård."""

    id: Id
    title: str
    points: list[Point] = Field(default_factory=list)
    missing: str | None = Field(default=None, description="the one sentence shown while there are no points")


class Preparation(Record):
    """Beredning: who was consulted, when."""

    who: str
    when: dt.date | str = Field(description="a date (YYYY-MM-DD), or text such as 'planerad'")
    what: str
    source: str | None = None
    status: Status | None = None


class Attachment(Record):
    title: str
    ref: str | None = Field(default=None, description="cross-reference label in the report, e.g. sec-bilaga-intressenter")
    separate: bool = Field(default=False, description="a document of its own, not part of this report")


REQUIRED_IMPACTS = ("patientsakerhet", "arbetsmiljo", "juridik", "informationssakerhet", "jamlik-vard")


class Case(Record):
    """data/arende.yaml: the parts of a tjänsteskrivelse that are not the analysis."""

    contact: Contact
    in_brief: list[Point] = Field(min_length=1, description="Ärendet i korthet: a few sentences")
    impacts: list[Impact]
    preparation: list[Preparation] = Field(default_factory=list)
    preparation_missing: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    send_to: list[Point] = Field(default_factory=list)


class Term(Record):
    term: str
    explanation: str
    status: Status | None = Field(default=None, description="set when the explanation is not certain")


class Glossary(Record):
    """data/ordlista.yaml: every abbreviation and term the text uses, explained."""

    terms: list[Term]


class WriterNote(Record):
    """A note for writers (a doubt about the source): listed by `underlag check`, never printed in the board paper."""

    about: str = Field(description="what the note concerns: a file, an id, a chapter")
    text: str


class Notes(Record):
    notes: list[WriterNote] = Field(default_factory=list)


CostItem = Literal["investering", "licens", "drift", "avveckling", "intern-tid", "produktionsbortfall"]


class CostLine(Record):
    """One row of data/kostnader.csv: a cost item of one alternative, per year over a span of years."""

    alternative: str
    item: CostItem
    first_year: int = Field(ge=1)
    last_year: int = Field(ge=1)
    low: float = Field(ge=0, description="mnkr per year, lowest plausible")
    expected: float = Field(ge=0, description="mnkr per year, most likely")
    high: float = Field(ge=0, description="mnkr per year, highest plausible")
    sources: list[str] = Field(default_factory=list)
    status: Status

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.expected <= self.high:
            raise ValueError(_("model.expected_outside_range", expected=_num(self.expected), low=_num(self.low),
                               high=_num(self.high)))
        if self.last_year < self.first_year:
            raise ValueError(_("model.last_before_first", last=self.last_year, first=self.first_year))
        return self


class CostSettings(Record):
    """data/kalkyl.yaml: the horizon and discount rate of the cost model, each with source or status."""

    horizon_years: int = Field(ge=1, le=50)
    horizon: Point = Field(description="why this horizon: text with source or status")
    discount_rate: float = Field(ge=0, lt=0.5, description="real discount rate per year, e.g. 0.035")
    discount: Point = Field(description="why this rate: text with source or status")
    price_year: int
    status: Status = Field(description="how settled the cost figures are as a whole")


class Report(Record):
    meta: ReportMeta
    goals: Goals
    timeline: Timeline
    phases: Phases
    milestones: Milestones
    alternatives: list[Alternative]
    zero_alternative: ZeroAlternative
    method: Method
    criteria: Criteria
    assessments: list[Assessment]
    risks: list[Risk]
    task_times: list[TaskTime]
    sources: list[SourceEntry]
    stakeholders: list[Stakeholder]
    decision: Decision
    case: Case
    glossary: Glossary
    notes: Notes
    cost_settings: CostSettings
    costs: list[CostLine]
