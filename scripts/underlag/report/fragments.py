"""Generated Markdown fragments: every part of a chapter that repeats data.

Each `templates/fragments/<name>.md.j2` (the project's own, else the packaged one) becomes `chapters/_generated/<name>.md`, which a
chapter pulls in with `{{< include _generated/<name>.md >}}`. Every value a template
prints is escaped for Markdown unless it is `Markup` built here, so data stays text.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

import jinja2

from underlag.report import model
from underlag.engine.errors import InputError, Problem
from underlag.engine.escape import Markup, markdown
from underlag.report.figures import FigureSpec
from underlag.engine.confine import SHIPPED_TEMPLATES, output_path, prepare_area
from underlag.engine.files import write_if_changed
from underlag.engine.privacy import EMAIL
from underlag.report.load import iter_records
from underlag.report.analysis import CONCENTRATION, DRAWS, SEED, risk_order
from underlag.report.checks import PLACEHOLDER, analysis_inputs_are_examples
from underlag.report.costs import ITEM_NAMES
from underlag.report.text import iso_date, kronor_text, mnkr, month_name, number, number_word, percent, swedish_date
from underlag.report.messages import text as _

TEMPLATE_DIR = "templates/fragments"
OUTPUT_DIR = "chapters/_generated"
FIGURE_PATH = "../figures"  # as seen from chapters/, where the fragments are included
PROSE_DIR = "alternativ"  # chapters/alternativ/<id>.qmd: a writer's text about one alternative
STATUS_MARKS = {"exempel": "exempel", "preliminär": "preliminär", "förslag": "förslag"}
EXAMPLE_LABEL = "Exempel – siffrorna är inte bedömningar"
METHOD_LABEL = "sec-analysmetod"  # where {metodavsnitt} in a decision point points


def _finalize(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, Markup) else markdown(value)


def email_link(address: object) -> Markup | str:
    """An e-mail address as a link (mailto: in the web page, the PDF and the DOCX), so a reader
    can write to it with one tap; anything that is not an address stays text."""
    text = str(address or "").strip()
    return Markup(f"<{text}>") if EMAIL.fullmatch(text) else markdown(text)  # as the privacy guard knows one


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiling the templates is most of the fragments' time (0,1 s of 0,16 s): Jinja keeps the
    compiled code, by template source, in its per-user temporary folder (created 0700, and refused
    when another user owns it), outside the project so that no restored `.underlag-cache` can
    hand a build code to run; None where no such folder can be had."""
    try:
        return _QuietBytecodeCache()
    except (OSError, RuntimeError):
        return None


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full or read-only temporary folder costs the next build a compile, no more
            pass


def environment(root: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        # the project's own templates/fragments/<name> first, the packaged one for every other name
        loader=jinja2.FileSystemLoader([root / TEMPLATE_DIR, SHIPPED_TEMPLATES / "fragments"]),
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # `{#` starts Quarto labels ({#sec-x}), so Jinja comments use {## … ##}
        comment_start_string="{##",
        comment_end_string="##}",
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(iso=iso_date, datum=swedish_date, month=month_name, number=number, raw=Markup,
                       percent=percent, mnkr=mnkr, kronor=kronor_text, word=number_word,
                       email=email_link)
    return env


def write_fragments(report: model.Report, figures: list[FigureSpec], root: Path, result=None,
                    changes=None) -> list[Path]:
    """Render every fragment template; return the paths whose content changed."""
    env = environment(root)
    sources = {s.id: s for s in report.sources}
    env.globals["grid_table"] = grid_table
    env.filters.update(mark=lambda p: _mark(p, report.meta.based_on, sources),
                       bullets=lambda ps, numbered=False, depth=0: _bullets(ps, report.meta.based_on, sources, numbered, depth))
    context = {
        "report": report,
        "figures": {spec.id: figure_markdown(spec) for spec in figures},
        "unsettled": unsettled_count(report),
        "sources": sources,
        "prose": writers_prose(report, root),
        "analysis": result,
        "changes": changes,
        "names": {a.id: f"alternativ {a.order}" for a in report.alternatives},
        "alternatives": {a.id: a for a in report.alternatives},
        "criteria": {c.id: c for c in report.criteria.all},
        "risks": risk_order(report.risks),
        "method": {"draws": DRAWS, "seed": SEED, "concentration": CONCENTRATION},
        "zero": report.zero_alternative,
        "all_names": {report.zero_alternative.id: "nollalternativet",
                      **{a.id: f"alternativ {a.order}" for a in report.alternatives}},
        "example_label": Markup(EXAMPLE_LABEL),
        "examples": analysis_inputs_are_examples(report),
        "item_names": ITEM_NAMES,
        "decision_points": lambda brief=False: decision_points(report, root, brief),
        "count": lambda n, neuter=False: number_word(n, neuter),
        "accessibility": accessibility_record(root),
    }
    out_dir = prepare_area(root, OUTPUT_DIR)
    changed = []
    problems = []
    for name in sorted(env.list_templates(extensions=["j2"])):
        try:
            text = env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            problems.append(Problem(_template_shown(root, name), line, None, _("fragments.template_error", message=exc.message)))
            continue
        target = out_dir / name.removesuffix(".j2")
        if write_if_changed(target, text.encode("utf-8"), root):
            changed.append(target)
    if problems:
        raise InputError(problems)
    written = {name.removesuffix(".j2") for name in env.list_templates(extensions=["j2"])}
    for stale in out_dir.glob("*.md"):  # a part whose template is gone must not linger
        if stale.name not in written:
            output_path(root, stale).unlink()
    return changed


ACCESSIBILITY_RECORD = "data/tillganglighet.yaml"  # written by `underlag accessibility`


def accessibility_record(root: Path) -> dict | None:
    """What the last accessibility check found (None before the first check), with its date as
    a date: the statement is written from it, never from what we hope is true."""
    from underlag.engine.guarded_yaml import read_yaml

    path = root / ACCESSIBILITY_RECORD
    if not path.is_file():
        return None
    record = read_yaml(path, root)[0]
    record["granskad"] = dt.date.fromisoformat(str(record["granskad"]))
    return record


def _template_shown(root: Path, name: str) -> str:
    """Where a fragment template is: the project's own, else the packaged one (a full path)."""
    own = f"{TEMPLATE_DIR}/{name}"
    return own if (root / own).is_file() else str(SHIPPED_TEMPLATES / "fragments" / name)


def decision_points(report: model.Report, root: Path, brief: bool = False) -> list[Markup]:
    """The decision points of the current stage, with counts, section and date filled in from data.

    In the brief, which holds no method chapter, the method is named instead of referenced.
    """
    d = report.decision
    milestone = next((m for m in report.milestones.milestones if m.id == d.final_report_milestone), None)
    day = milestone and (milestone.forecast or milestone.planned)
    proposed = next((a for a in report.alternatives if a.id == d.proposed_alternative), None)
    values = {
        "antal_alternativ": markdown(number_word(len(report.alternatives), neuter=True)),
        "metodavsnitt": "den stora rapporten" if brief else f"@{METHOD_LABEL}",
        "slutdatum": f"den {swedish_date(day)}" if day else "när datumet är satt",
        "alternativ": markdown(f"alternativ {proposed.order}, {proposed.short_title},") if proposed else "",
        "alternativ_kort": markdown(f"alternativ {proposed.order}") if proposed else "",
    }
    points = []
    for point in d.points:
        # the point's own text is escaped; only the filled-in values may hold a cross-reference
        pieces = PLACEHOLDER.split(point)
        text = "".join(values.get(piece, "") if i % 2 else markdown(piece) for i, piece in enumerate(pieces))
        points.append(Markup(re.sub(r" ,", ",", text.replace(",,", ","))))
    return points


def writers_prose(report: model.Report, root: Path) -> dict[str, Markup]:
    """Include lines for `chapters/alternativ/<id>.qmd`, where writers add prose to an alternative."""
    return {
        alt.id: Markup(f"{{{{< include ../{PROSE_DIR}/{alt.id}.qmd >}}}}")
        for alt in report.alternatives
        if (root / "chapters" / PROSE_DIR / f"{alt.id}.qmd").is_file()
    }


def figure_markdown(spec: FigureSpec) -> Markup:
    # pandoc unescapes these inside the attribute; '#' too, so "{#sec-x}" in data is never read as a label
    alt = re.sub(r'([\\"{}<>@`#])', r"\\\1", spec.alt)
    return Markup(f'![{markdown(spec.caption)}]({FIGURE_PATH}/{spec.stem}){{#fig-{spec.id} fig-alt="{alt}"}}')


def _mark(point, primary: str, sources: dict[str, model.SourceEntry]) -> Markup:
    """How a statement shows where it stands: '(preliminär)', or its source when not the main one."""
    parts = []
    if getattr(point, "status", None) in STATUS_MARKS:
        parts.append(f"*({STATUS_MARKS[point.status]})*")
    source = getattr(point, "source", None)
    if source and source != primary:
        parts.append(f"(källa: {markdown(sources[source].title)})")
    return Markup(" " + " ".join(parts) if parts else "")


def _bullets(points: list[model.Point], primary: str, sources, numbered: bool = False, depth: int = 0) -> Markup:
    lines = []
    for index, point in enumerate(points, 1):
        bullet = f"{index}." if numbered else "-"
        lines.append(f"{'    ' * depth}{bullet} {markdown(point.text)}{_mark(point, primary, sources)}")
        if point.points:
            lines.append(_bullets(point.points, primary, sources, False, depth + 1))
    return Markup("\n".join(lines))


def grid_table(header: list[str], rows: list[list[list[str]]], width: int = 36) -> Markup:
    """A pandoc grid table whose cells hold lists (e.g. SWOT as 2×2); cell lines are Markdown."""
    def wrap(lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            indent = "  " if line.startswith("- ") else ""
            out += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                                 break_on_hyphens=False) or [""]
        return out

    columns = len(header)
    widest = max([width] + [len(line) for row in rows for cell in row for line in wrap(cell)])
    rule = "+" + "+".join("-" * (widest + 2) for _ in range(columns)) + "+"
    # ":=" in the header rule aligns every column left
    lines = [rule, "| " + " | ".join(h.ljust(widest) for h in header) + " |", rule.replace("+-", "+:").replace("-", "=")]
    for row in rows:
        cells = [wrap(cell) for cell in row]
        height = max(len(c) for c in cells)
        for i in range(height):
            lines.append("| " + " | ".join((c[i] if i < len(c) else "").ljust(widest) for c in cells) + " |")
        lines.append(rule)
    return Markup("\n".join(lines))


def unsettled_count(report: model.Report) -> dict[str, int]:
    """How many statements are not settled, by status; shown in the report's summary."""
    counts: dict[str, int] = {}
    for record in iter_records(report):
        status = getattr(record, "status", None) or getattr(record, "colour_status", None)
        if status in STATUS_MARKS:
            counts[status] = counts.get(status, 0) + 1
    return counts
