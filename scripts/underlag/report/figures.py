"""Figures drawn from the data with matplotlib: SVG for HTML and PDF, PNG for DOCX.

Each figure comes with a caption and an alt text written from the same data, so the alt
text says what the picture shows. Meaning is never carried by colour alone: every status
colour also has a marker shape and a text label. Files are written only when their
content changed, so an unchanged figure keeps its bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import os
import re
import textwrap
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from underlag.report import model
from underlag.engine.cache import Cache, digest, package_digest
from underlag.engine.confine import prepare_area
from underlag.engine.errors import InputError
from underlag.engine.files import write_if_changed
from underlag.report.text import month_name, swedish_date

if TYPE_CHECKING:
    from underlag.report.analysis import Analysis

# Colour and marker per milestone status colour: every colour passes 3:1 against white
# (yellow is a dark ochre to get there), each has its own marker and its word is printed.
STATUS_STYLE = {
    "blå": ("#0072B2", "s"),
    "röd": ("#B42318", "X"),
    "gul": ("#9A6700", "D"),
    "grön": ("#008060", "o"),
}
ROLLOUT_COLOURS = ["#005b99", "#b34700", "#6f42c1"]  # above 5:1 on white; variants also differ by hatch
ROLLOUT_HATCHES = ["///", "...", "xx"]
INK = "#1a1a1a"
MUTED = "#595959"
ACCENT = "#005b99"
PRELIMINARY = "#8c8c8c"


@dataclass(frozen=True)
class FigureSpec:
    id: str  # the cross-reference label without "fig-"
    stem: str  # file name without extension, under figures/
    caption: str
    alt: str


@dataclass(frozen=True)
class FigureJob:
    stem: str
    inputs: Any  # JSON-able: everything the drawing reads; its hash is the cache key
    draw: Callable[[], FigureSpec]
    spec: Callable[[], FigureSpec]  # the caption and alt text alone, without drawing: what the fragments need


def figure_jobs(report: model.Report, out_dir: Path, result: Analysis | None = None) -> list[FigureJob]:
    jobs = [
        FigureJob("tidslinje", report.timeline.model_dump(mode="json"), partial(_timeline, report, out_dir),
                  partial(_timeline_spec, report)),
        FigureJob("milstolpar", report.milestones.model_dump(mode="json"), partial(_milestones, report, out_dir),
                  partial(_milestones_spec, report)),
    ]
    jobs += [FigureJob(f"utrullning-{a.id}", a.model_dump(mode="json", include={"id", "order", "short_title",
                                                                                  "rollout_variants"}),
                       partial(_rollout, a, out_dir), partial(_rollout_spec, a))
             for a in report.alternatives if a.rollout_variants]
    if result is not None:
        from underlag.report.analysis_figures import analysis_figure_jobs

        jobs += analysis_figure_jobs(report, result, out_dir)
    return jobs


def draw_figures(report: model.Report, out_dir: Path, result: Analysis | None = None,
                 cache: Cache | None = None, pool: Executor | None = None) -> list[FigureSpec]:
    """Draw the figures whose inputs changed; reuse the others from the cache.

    With a `pool` (see `figure_pool`) the figures are drawn by its workers, side by side; without
    one, here, one after another. `out_dir` is the project's figures/ folder: every file is
    written through the confinement check."""
    return start_figures(report, out_dir, result, cache, pool).wait()


@dataclass
class Drawing:
    """Figures on their way: the specs (what fragments and the assembly need) are known at once,
    the files exist once `wait` has returned."""

    specs: list[FigureSpec]
    out_dir: Path
    _pending: list[tuple[FigureJob, str, Future | None]] = field(default_factory=list)
    _cache: Cache | None = None

    def wait(self) -> list[FigureSpec]:
        """Every figure drawn (here, when there is no pool) and recorded in the cache; a drawing's
        InputError is raised here, in the build's process."""
        if any(future is None for _, _, future in self._pending):
            _setup_matplotlib()
        pending, self._pending = self._pending, []
        for job, key, future in pending:
            outcome = job.draw() if future is None else future.result()
            if isinstance(outcome, _Failed):  # a located problem from a worker (see _run_job)
                raise InputError(outcome.problems)
            if self._cache:
                self._cache.store(f"figure:{job.stem}", key, self._files(job.stem), asdict(job.spec()))
        return self.specs

    @property
    def produced(self) -> list[Path]:
        """The files still being written: the SVG and PNG of every figure not yet waited for."""
        return [path for job, _, _ in self._pending for path in self._files(job.stem)]

    def _files(self, stem: str) -> list[Path]:
        return [self.out_dir / f"{stem}.{ext}" for ext in ("svg", "png")]


def start_figures(report: model.Report, out_dir: Path, result: Analysis | None = None,
                  cache: Cache | None = None, pool: Executor | None = None) -> Drawing:
    """The figures' specs now, their drawing handed to the pool's workers (or put off until `wait`
    without one): the fragments and the assembly go on while the figures are drawn."""
    out_dir = prepare_area(out_dir.parent, out_dir.name)
    code = digest(package_digest(), metadata.version("matplotlib"))  # our drawing code and helpers, by content
    jobs = figure_jobs(report, out_dir, result)
    pending: list[tuple[FigureJob, str, Future | None]] = []
    for job in jobs:
        key = digest(code, job.inputs)
        if cache is None or cache.lookup(f"figure:{job.stem}", key) is None:
            pending.append((job, key, pool.submit(_run_job, job.draw) if pool is not None else None))
    return Drawing([job.spec() for job in jobs], out_dir, pending, cache)


@dataclass(frozen=True)
class _Failed:
    problems: list  # of Problem


def _run_job(draw: Callable[[], FigureSpec]) -> FigureSpec | _Failed:
    """In a worker: an InputError comes back as its problems, since the exception itself does not
    survive pickling (it is rebuilt from its message, not from its problems)."""
    try:
        return draw()
    except InputError as exc:
        return _Failed(exc.problems)


def figure_pool(workers: int | None = None) -> Executor | None:
    """Worker processes for the figures, one per core, started now so that they import matplotlib
    while this process reads and analyses the data; None on one core or without fork.

    Forked after pandas, numpy and the model are imported here, so the workers share them and
    import only matplotlib (its import alone is about a second: off the critical path this way).
    Every file a worker writes is byte-identical to a drawing made here: matplotlib's output
    depends only on the figure and the fixed rcParams (`_setup_matplotlib`)."""
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    import underlag.report.analysis_figures  # noqa: F401  pandas, numpy, the model: shared with the workers

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_setup_matplotlib)
    pool.submit(int)  # starts the workers (the pool forks them at its first job)
    return pool


def _setup_matplotlib() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "underlag", "font.family": "DejaVu Sans", "font.size": 9,
                         "svg.fonttype": "path",
                         # data is text, never mathtext: "$\\foo$" in an event must print as written
                         "text.parse_math": False})  # glyphs as paths: no font needed where the SVG is shown


def swedish_tick_formatter():
    """Matplotlib's automatic tick labels, written the Swedish way: "2,5" and "7 000"."""
    from matplotlib.ticker import ScalarFormatter

    class SwedishFormatter(ScalarFormatter):
        def __call__(self, x, pos=None):
            label = super().__call__(x, pos)
            whole, _, decimals = label.partition(".")
            # group thousands in the integer part only, with a space as Swedish print does
            whole = re.sub(r"(?<=\d)(?=(\d{3})+$)", " ", whole)
            return whole + ("," + decimals if decimals else "")

    return SwedishFormatter(useOffset=False)


def use_swedish_numbers(fig) -> None:
    """Every axis still on matplotlib's default number format gets decimal commas: a figure
    reading "1.0 … 5.0" beside a text reading "3,22" makes the reader wonder which is right."""
    from matplotlib.ticker import ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(swedish_tick_formatter())


def save(fig, out_dir: Path, stem: str) -> None:
    import matplotlib.pyplot as plt

    use_swedish_numbers(fig)

    # The SVG (PDF and HTML) has no background of its own: on paper nothing changes, and on a
    # phone the scroll region's edge shadow shows through where a chart continues sideways.
    for ext, options in (("svg", {"metadata": {"Date": None}, "transparent": True}),
                         ("png", {"dpi": 150, "metadata": {"Software": None}})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, bbox_inches="tight", **options)
        write_if_changed(out_dir / f"{stem}.{ext}", buffer.getvalue(), root=out_dir.parent)
    plt.close(fig)


def _month_start(month: str) -> dt.date:
    year, number = month.split("-")
    return dt.date(int(year), int(number), 1)


def _timeline(report: model.Report, out_dir: Path) -> FigureSpec:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    events = report.timeline.events
    months = sorted({e.month for e in events})
    first, last = _month_start(months[0]), _month_start(months[-1])
    end = dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.axhline(0, color=INK, linewidth=1)
    placed: dict[str, int] = {}
    for index, event in enumerate(events):
        slot = placed.get(event.month, 0)
        placed[event.month] = slot + 1
        when = event.date or _month_start(event.month) + dt.timedelta(days=8 + 9 * slot)
        height = (1 if index % 2 == 0 else -1) * (0.7 + 0.9 * ((index // 2) % 2))
        sure = event.status is None
        ax.plot([when, when], [0, height], color=MUTED, linewidth=0.8)
        ax.plot(when, 0, marker="o", markersize=7, color=ACCENT if sure else "white",
                markeredgecolor=ACCENT, markeredgewidth=1.5, zorder=3)
        label = textwrap.fill(event.text, 24) + ("" if sure else "\n(preliminär placering)")
        ax.annotate(label, (when, height), ha="center", va="bottom" if height > 0 else "top", fontsize=8,
                    color=INK)
    ax.set_xlim(first - dt.timedelta(days=6), end + dt.timedelta(days=6))
    ax.set_ylim(-2.9, 2.9)
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: _month_label(mdates.num2date(x).date())))
    ax.yaxis.set_visible(False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.plot([], [], "o", color=ACCENT, label="Datum eller månad enligt källan")
    ax.plot([], [], "o", color="white", markeredgecolor=ACCENT, label="Månad avläst ur källans bild (preliminär)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.42), ncol=2, frameon=False, fontsize=8)
    save(fig, out_dir, "tidslinje")
    return _timeline_spec(report)


def _timeline_spec(report: model.Report) -> FigureSpec:
    events = report.timeline.events
    months = sorted({e.month for e in events})
    described = "; ".join(
        f"{e.text} ({swedish_date(e.date) if e.date else month_name(e.month)}"
        f"{', preliminär placering' if e.status else ''})" for e in events)
    return FigureSpec(
        id="tidslinje",
        stem="tidslinje",
        caption=f"Tidslinje för arbetet {month_name(months[0])}–{month_name(months[-1])}",
        alt=f"Tidslinje med {len(events)} händelser i ordning: {described}.",
    )


def _month_label(day: dt.date) -> str:
    return f"{month_name(f'{day.year}-{day.month:02d}')}"


def _short_month(day: dt.date) -> str:
    """"dec. 2024": the Swedish short month, as a narrow date axis needs."""
    name = month_name(f"{day.year}-{day.month:02d}").split()[0]
    return f"{name[:3]}. {day.year}" if len(name) > 4 else f"{name} {day.year}"


def _milestones(report: model.Report, out_dir: Path) -> FigureSpec:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    milestones = report.milestones.milestones
    fig, ax = plt.subplots(figsize=(3.6, 0.36 * len(milestones) + 1.0))
    dated = [d for m in milestones for d in (m.planned, m.forecast, m.actual) if d]
    for row, milestone in enumerate(milestones):
        y = len(milestones) - row
        colour, marker = STATUS_STYLE.get(milestone.colour or "", (PRELIMINARY, "o"))
        if milestone.planned:
            ax.plot(milestone.planned, y, marker="|", markersize=14, color=INK, markeredgewidth=1.5)
        if milestone.forecast:
            ax.plot(milestone.forecast, y, marker=marker, markersize=8, color=colour,
                    markeredgecolor=INK, markeredgewidth=0.8, zorder=3)
        if milestone.actual:
            # white-edged and larger: a black star on the dark blue forecast square disappeared
            ax.plot(milestone.actual, y, marker="*", markersize=11, color=INK, markeredgecolor="white",
                    markeredgewidth=0.8, zorder=4)
        status = milestone.colour or "ej satt"
        # after the row's last mark, clear of the markers (a fixed gap in points, not in days)
        when = max((d for d in (milestone.planned, milestone.forecast, milestone.actual) if d), default=max(dated))
        ax.annotate(status + (" (prel.)" if milestone.colour_status else ""), (when, y), xytext=(8, 0),
                    textcoords="offset points", va="center", fontsize=8, color=MUTED)
    ax.set_yticks(range(len(milestones), 0, -1),
                  [f"{m.id} {m.name}" for m in milestones], fontsize=8)
    ax.set_xlim(min(dated) - dt.timedelta(days=10), max(dated) + dt.timedelta(days=25))
    ax.set_ylim(0.4, len(milestones) + 0.6)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.plot([], [], "|", color=INK, markersize=10, label="Planerad klar")
    ax.plot([], [], "*", color=INK, label="Verkligt klar")
    for name, (colour, marker) in STATUS_STYLE.items():
        meaning = next((c.meaning for c in report.milestones.legend if c.colour == name), "")
        ax.plot([], [], marker, color=colour, markeredgecolor=INK, label=f"Prognos, {name}: {meaning}")
    ax.legend(loc="upper left", bbox_to_anchor=(-0.9, -0.14), ncol=2, frameon=False, fontsize=8)
    # Swedish month names ("jan. 2025"), not ISO "2025-01"
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: _short_month(mdates.num2date(x).date())))
    fig.autofmt_xdate()
    save(fig, out_dir, "milstolpar")
    return _milestones_spec(report)


def _milestones_spec(report: model.Report) -> FigureSpec:
    milestones = report.milestones.milestones
    dated = [d for m in milestones for d in (m.planned, m.forecast, m.actual) if d]
    undated = [m.id for m in milestones if not (m.planned or m.forecast)]
    return FigureSpec(
        id="milstolpar",
        stem="milstolpar",
        caption="Milstolpeplan: planerat, prognos och verkligt datum per milstolpe, med status",
        alt=(f"Diagram över {len(milestones)} milstolpar från {swedish_date(min(dated))} till "
             f"{swedish_date(max(dated))}. "
             + " ".join(_milestone_sentence(m) for m in milestones if m.planned)
             + (f" Utan datum: {', '.join(undated)}." if undated else "")),
    )


def _milestone_sentence(m: model.Milestone) -> str:
    done = f", klar {swedish_date(m.actual)}" if m.actual else ""
    return f"{m.id} planerad {swedish_date(m.planned)}, prognos {swedish_date(m.forecast)}{done}, status {m.colour or 'ej satt'}."


def _rollout(alternative: model.Alternative, out_dir: Path) -> FigureSpec:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = [(variant, wave) for variant in alternative.rollout_variants for wave in variant.waves]
    height = 0.34 * len(rows) + 1.6
    fig, ax = plt.subplots(figsize=(6.4, height))
    handles = []
    for index, variant in enumerate(alternative.rollout_variants):
        colour, settled = ROLLOUT_COLOURS[index % len(ROLLOUT_COLOURS)], variant.status == "fastställd"
        # Each variant keeps its own hatch in every status, so the variants never differ by colour
        # alone; a settled variant is filled (white hatch on colour), an unsettled one is not.
        style = dict(facecolor=colour if settled else "white", edgecolor="white" if settled else colour,
                     linewidth=1.2, hatch=ROLLOUT_HATCHES[index % len(ROLLOUT_HATCHES)])
        handles.append(Patch(label=variant.name + ("" if settled else f" ({variant.status})"), **style))
        for wave in variant.waves:
            y = len(rows) - rows.index((variant, wave))
            ax.barh(y, wave.end_month - wave.start_month, left=wave.start_month, height=0.62, **style)
    end = max(w.end_month for _, w in rows)
    # wrapped, never shortened: "Väntetid och fortsatt design i […]" hides what the wave is
    ax.set_yticks(range(len(rows), 0, -1), [textwrap.fill(w.name, 30) for _, w in rows], fontsize=8)
    ax.set_xticks(range(0, end + 1, 6))
    ax.set_xlim(0, end + 1)
    settled = all(v.status == "fastställd" for v in alternative.rollout_variants)
    examples = any(v.status == "exempel" for v in alternative.rollout_variants)
    ax.set_xlabel("Månader efter beslut" + ("" if settled else " (exempel: ofyllda staplar)" if examples
                                            else " (preliminärt: ofyllda staplar)"))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    below_label = -0.62 / (height * fig.subplotpars.top - height * fig.subplotpars.bottom)  # inches to axes units
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, below_label),
              ncol=len(handles), frameon=False, fontsize=8)
    stem = f"utrullning-{alternative.id}"
    save(fig, out_dir, stem)
    return _rollout_spec(alternative)


def _rollout_spec(alternative: model.Alternative) -> FigureSpec:
    stem = f"utrullning-{alternative.id}"
    settled = all(v.status == "fastställd" for v in alternative.rollout_variants)
    examples = any(v.status == "exempel" for v in alternative.rollout_variants)
    described = " ".join(
        f"{v.name}: {len(v.waves)} steg under {v.duration_months} månader, "
        + ", ".join(f"{w.name} månad {w.start_month}–{w.end_month}" for w in v.waves) + "."
        for v in alternative.rollout_variants)
    return FigureSpec(
        id=stem,
        stem=stem,
        caption=f"Utrullningsalternativ för alternativ {alternative.order}, {alternative.short_title}"
                + ("" if settled else " (exempel på tidplan)" if examples else " (preliminär tidplan)"),
        alt=f"Tidplan i månader efter beslut för alternativ {alternative.order}. {described}"
            + (" Månaderna är exempel som bara visar metoden." if examples else ""),
    )
