"""Figures of the analysis: totals with uncertainty, switching values,
rank acceptability, production impact and the risk matrix.

Okabe–Ito colours that pass 3:1 on white, plus hatches, markers and printed numbers, so no
figure needs colour to be read. Alt texts are sentences built from the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from pathlib import Path

from underlag.report import model
from underlag.report.analysis import Analysis, risk_order
from underlag.report.figures import INK, FigureJob, FigureSpec, save
from underlag.report.text import number, percent

SERIES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000"]  # ≥ 3:1 on white
HATCHES = ["", "///", "...", "xx", "\\\\\\"]
PRELIMINARY_NOTE = " Uppgifterna är preliminära."
EXAMPLE_NOTE = " Siffrorna är exempel som bara visar metoden, inte bedömningar."
ZERO_NAME = "Nollalt."


def analysis_figure_jobs(report: model.Report, result: Analysis, out_dir: Path) -> list[FigureJob]:
    """One job per figure, each keyed on just the numbers it draws; a job pickles (a worker draws it)."""
    if result.scores.empty:
        return []
    names = {model.ZERO_ID: ZERO_NAME, **{a.id: f"Alt. {a.order}" for a in report.alternatives}}
    criteria = {c.id: c.name for c in report.criteria.all}
    frame = lambda f: f.to_json(orient="split", double_precision=12)  # noqa: E731
    marked = (result.preliminary, result.examples)
    jobs = [
        FigureJob("analys-summor", [frame(result.totals.to_frame()), frame(result.total_range), names, marked,
                                    result.baseline],
                  partial(_totals, result, names, out_dir), partial(_totals_spec, result, names)),
        FigureJob("analys-vaxling", [[asdict(s) for s in result.switches], frame(result.totals.to_frame()),
                                     criteria, names, marked],
                  partial(_switching, report, result, names, out_dir),
                  partial(_switching_spec, report, result, names)),
        FigureJob("analys-rangordning", [frame(result.acceptability), names, marked],
                  partial(_acceptability, result, names, out_dir), partial(_acceptability_spec, result, names)),
        FigureJob("risk-matris", [r.model_dump(mode="json") for r in report.risks],
                  partial(_risk_matrix, report, out_dir), partial(_risk_matrix_spec, report)),
    ]
    if not result.production.empty:
        jobs.insert(3, FigureJob("analys-produktion", [frame(result.production), names, marked],
                                 partial(_production, result, names, out_dir),
                                 partial(_production_spec, result, names)))
    costs = result.costs
    if costs is not None and not costs.empty:
        jobs.append(FigureJob("ekonomi-kumulativ", [{k: frame(v) for k, v in costs.yearly.items()}, names,
                                                    costs.examples],
                              partial(_cumulative_costs, costs, names, out_dir),
                              partial(_cumulative_costs_spec, costs, names)))
    return jobs


def contrast(first, second) -> float:
    """WCAG contrast ratio of two colours (any form matplotlib understands)."""
    import matplotlib.colors as mcolors

    def luminance(colour) -> float:
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in mcolors.to_rgb(colour)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _suffix(result: Analysis) -> str:
    return " (exempel)" if result.examples else " (preliminärt)" if result.preliminary else ""


def _note(result: Analysis) -> str:
    return EXAMPLE_NOTE if result.examples else PRELIMINARY_NOTE if result.preliminary else ""


def _totals(result: Analysis, names, out_dir: Path) -> FigureSpec:
    import matplotlib.pyplot as plt

    order = result.totals.sort_values().index
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(order) + 1.0))
    low = result.total_range.loc[order, "p05"]
    high = result.total_range.loc[order, "p95"]
    y = range(len(order))
    ax.barh(y, result.totals[order], color="#0072B2", height=0.55)
    ax.errorbar(result.totals[order], y, xerr=[result.totals[order] - low, high - result.totals[order]],
                fmt="none", ecolor=INK, capsize=4, linewidth=1.2)
    for row, alt in enumerate(order):
        ax.text(high[alt] + 0.04, row, number(result.totals[alt], 2), va="center", fontsize=8, color=INK)
    ax.set_yticks(list(y), [names[a] for a in order], fontsize=8)
    ax.set_xlim(1, 5)
    if result.baseline is not None:  # the nollalternativ is the yardstick
        ax.axvline(result.baseline, color=INK, linestyle="--", linewidth=1)
        ax.text(result.baseline, len(order) - 0.45, f" Nollalternativet {number(result.baseline, 2)}", fontsize=8,
                color=INK, va="bottom")
    ax.set_xlabel("Viktad poäng 1–5 (strecken visar 5–95 % av dragningarna)")
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    save(fig, out_dir, "analys-summor")
    return _totals_spec(result, names)


def _totals_spec(result: Analysis, names) -> FigureSpec:
    ranked = result.totals.sort_values(ascending=False)
    described = ", ".join(f"{names[a]} {number(v, 2)} (mellan {number(result.total_range.at[a, 'p05'], 2)} och "
                          f"{number(result.total_range.at[a, 'p95'], 2)})" for a, v in ranked.items())
    return FigureSpec("analys-summor", "analys-summor", f"Viktad poäng per alternativ med osäkerhet{_suffix(result)}",
                      f"Stapeldiagram över viktad poäng, från högst till lägst: {described}."
                      + (f" Nollalternativet, som alternativen jämförs med, får {number(result.baseline, 2)}."
                         if result.baseline is not None else "")
                      + _note(result))


def _switching(report, result: Analysis, names, out_dir: Path) -> FigureSpec:
    import matplotlib.pyplot as plt

    criteria = {c.id: c.name for c in report.criteria.all}
    leader = names[result.totals.idxmax()]
    switches = result.switches
    fig, ax = plt.subplots(figsize=(6.4, 0.36 * len(switches) + 1.2))
    for row, s in enumerate(reversed(switches)):
        low, high = s.lower or 0, s.upper or 1
        ax.plot([low, high], [row, row], color="#0072B2", linewidth=5, solid_capstyle="butt")
        ax.plot(s.weight, row, marker="D", color=INK, markersize=6)
        if s.lower is not None:
            ax.text(low - 0.01, row, f"{names[s.lower_winner]} ", ha="right", va="center", fontsize=8, color=INK)
        if s.upper is not None:
            ax.text(high + 0.01, row, f" {names[s.upper_winner]}", ha="left", va="center", fontsize=8, color=INK)
    ax.set_yticks(range(len(switches)), [criteria[s.criterion] for s in reversed(switches)], fontsize=8)
    ax.set_xlim(-0.08, 1.1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.set_xlabel(f"Vikt där {leader} förblir först (stapel) och vald vikt (romb)")
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    save(fig, out_dir, "analys-vaxling")
    return _switching_spec(report, result, names)


def _switching_spec(report, result: Analysis, names) -> FigureSpec:
    criteria = {c.id: c.name for c in report.criteria.all}
    leader = names[result.totals.idxmax()]
    switches = result.switches
    changing = [s for s in switches if s.lower is not None or s.upper is not None]
    described = " ".join(_switch_sentence(s, criteria, names) for s in changing) or \
        "Ingen enskild vikt kan ändra vilket alternativ som kommer först."
    return FigureSpec("analys-vaxling", "analys-vaxling",
                      f"Brytpunkter: hur långt varje vikt kan ändras innan {leader} tappar första platsen{_suffix(result)}",
                      f"Diagram över brytpunkter för {len(switches)} kriterier. {described}"
                      + _note(result))


def _switch_sentence(s, criteria, names) -> str:
    parts = []
    if s.lower is not None:
        parts.append(f"sjunker under {percent(s.lower)} tar {names[s.lower_winner]} över")
    if s.upper is not None:
        parts.append(f"stiger över {percent(s.upper)} tar {names[s.upper_winner]} över")
    return f"Om vikten för {criteria[s.criterion].lower()} ({percent(s.weight)}) " + " och om den ".join(parts) + "."


def _acceptability(result: Analysis, names, out_dir: Path) -> FigureSpec:
    import matplotlib.pyplot as plt

    table = result.acceptability
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(table) + 1.3))
    left = [0.0] * len(table)
    for rank in table.columns:
        shares = table[rank].to_numpy()
        colour = SERIES[(rank - 1) % len(SERIES)]
        ax.barh(range(len(table)), shares, left=left, color="white", edgecolor=colour,
                hatch=HATCHES[(rank - 1) % len(HATCHES)], linewidth=1.2, height=0.6, label=f"Plats {rank}")
        for row, share in enumerate(shares):
            if share >= 0.08:
                ax.text(left[row] + share / 2, row, percent(share, table_style=True), ha="center", va="center",
                        fontsize=8, color=INK,
                        bbox=dict(facecolor="white", edgecolor="none", pad=1))
        left = [a + b for a, b in zip(left, shares)]
    ax.set_yticks(range(len(table)), [names[a] for a in table.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.set_xlabel("Andel av dragningarna")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=len(table.columns), frameon=False, fontsize=8)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    save(fig, out_dir, "analys-rangordning")
    return _acceptability_spec(result, names)


def _acceptability_spec(result: Analysis, names) -> FigureSpec:
    table = result.acceptability
    described = " ".join(f"{names[a]} rankas först i {percent(table.at[a, 1])} av dragningarna." for a in
                         table[1].sort_values(ascending=False).index)
    return FigureSpec("analys-rangordning", "analys-rangordning",
                      f"Hur ofta varje alternativ hamnar på varje plats när vikter och poäng varieras{_suffix(result)}",
                      f"Staplat stapeldiagram över placeringar. {described}"
                      + _note(result))


def _production(result: Analysis, names, out_dir: Path) -> FigureSpec:
    import matplotlib.pyplot as plt

    hours = result.production / 1000
    now = hours.hours_now.iloc[0]
    base = hours.at[model.ZERO_ID, "hours_long"] if model.ZERO_ID in hours.index else None
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    x = range(len(hours))
    ax.bar([i - 0.2 for i in x], hours.hours_short, width=0.38, color="white", edgecolor="#D55E00", hatch="///",
           label="Kort sikt")
    ax.bar([i + 0.2 for i in x], hours.hours_long, width=0.38, color="#0072B2", label="Lång sikt")
    ax.axhline(now, color=INK, linestyle=":", linewidth=1, label=f"I dag ({number(now)})")
    if base is not None:
        ax.axhline(base, color=INK, linestyle="--", linewidth=1, label=f"Nollalternativet, lång sikt ({number(base)})")
    ax.set_xticks(list(x), [names[a] for a in hours.index], fontsize=8)
    ax.set_ylabel("Tusen timmar per år")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    save(fig, out_dir, "analys-produktion")
    return _production_spec(result, names)


def _production_spec(result: Analysis, names) -> FigureSpec:
    hours = result.production / 1000
    now = hours.hours_now.iloc[0]
    base = hours.at[model.ZERO_ID, "hours_long"] if model.ZERO_ID in hours.index else None
    described = " ".join(f"{names[a]}: {number(hours.at[a, 'hours_short'])} kort sikt och "
                         f"{number(hours.at[a, 'hours_long'])} lång sikt." for a in hours.index)
    return FigureSpec("analys-produktion", "analys-produktion",
                      f"Tid för vanliga arbetsmoment, tusen timmar per år{_suffix(result)}",
                      f"Stapeldiagram. I dag {number(now)} tusen timmar per år"
                      + (f", i nollalternativet {number(base)} tusen på lång sikt" if base is not None else "")
                      + f". {described}"
                      + _note(result))


def _risk_matrix(report: model.Report, out_dir: Path) -> FigureSpec:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    risks = risk_order(report.risks)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for p in range(1, 6):
        for c in range(1, 6):
            level = p * c
            shade = "#f2f2f2" if level < 8 else ("#fde0c5" if level < 15 else "#f6b8b0")
            ax.add_patch(Rectangle((c - 0.5, p - 0.5), 1, 1, facecolor=shade, edgecolor="white", linewidth=2))
    cells: dict[tuple[int, int], list[str]] = {}
    for index, risk in enumerate(risks, 1):
        cells.setdefault((risk.consequence, risk.probability), []).append(f"R{index}")
    for (c, p), labels in cells.items():
        ax.text(c, p, "\n".join(", ".join(labels[i:i + 2]) for i in range(0, len(labels), 2)), ha="center",
                va="center", fontsize=8, color=INK, fontweight="bold")
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(range(1, 6))
    ax.set_yticks(range(1, 6))
    ax.set_xlabel("Konsekvens (1 = mycket liten, 5 = mycket stor)")
    ax.set_ylabel("Sannolikhet (1 = mycket låg, 5 = mycket hög)")
    ax.set_aspect("equal")
    save(fig, out_dir, "risk-matris")
    return _risk_matrix_spec(report)


def _risk_matrix_spec(report: model.Report) -> FigureSpec:
    risks = risk_order(report.risks)
    described = "; ".join(f"R{i} {r.title}: sannolikhet {r.probability}, konsekvens {r.consequence}"
                          for i, r in enumerate(risks, 1))
    preliminary = any(r.status != "fastställd" for r in risks)
    return FigureSpec("risk-matris", "risk-matris",
                      "Riskmatris: sannolikhet och konsekvens" + (" (preliminärt)" if preliminary else ""),
                      f"Riskmatris med {len(risks)} risker, de allvarligaste först: {described}."
                      + (PRELIMINARY_NOTE if preliminary else ""))


def _cumulative_costs(costs, names, out_dir: Path) -> FigureSpec:
    """Cumulative cost per alternative over the horizon, expected as a line, low–high as a band."""
    import matplotlib.pyplot as plt

    from underlag.report.text import MINUS

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    styles = ["--", "-", "-", "-", "-", "-"]
    markers = ["", "o", "s", "D", "^", "v"]
    ends = []
    for index, alt in enumerate(costs.order):
        cumulative = costs.yearly[alt].cumsum()
        colour = INK if alt == model.ZERO_ID else SERIES[(index - 1) % len(SERIES)]
        years = list(cumulative.index)
        ax.fill_between(years, cumulative["low"], cumulative["high"], color=colour, alpha=0.10, linewidth=0)
        ax.plot(years, cumulative["expected"], linestyle=styles[min(index, 1)], marker=markers[index % len(markers)],
                markersize=3.5, color=colour, linewidth=1.6 if alt != model.ZERO_ID else 1.2)
        ends.append((cumulative["expected"].iloc[-1], names[alt], colour))
    # direct labels at the right end, pushed apart so they never overlap
    ends.sort()
    gap = (max(e[0] for e in ends) - min(0, min(e[0] for e in ends))) * 0.075 or 1
    placed = []
    for value, label, colour in ends:
        y = max(value, placed[-1] + gap) if placed else value
        placed.append(y)
        ax.text(costs.horizon + 0.25, y, label, va="center", fontsize=8, color=colour)
    ax.set_xlim(1, costs.horizon + 1.6)
    ax.set_xticks(range(1, costs.horizon + 1))
    ax.set_xlabel("År efter beslutet")
    ax.set_ylabel("Kostnad hittills, mnkr")
    ax.yaxis.set_major_formatter(lambda v, _: number(v).replace("-", MINUS))
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    save(fig, out_dir, "ekonomi-kumulativ")
    return _cumulative_costs_spec(costs, names)


def _cumulative_costs_spec(costs, names) -> FigureSpec:
    described = "; ".join(
        f"{names[alt]} {number(costs.totals.at[alt, 'expected'])} mnkr (mellan {number(costs.totals.at[alt, 'low'])} "
        f"och {number(costs.totals.at[alt, 'high'])})" for alt in costs.order)
    note = EXAMPLE_NOTE if costs.examples else ""
    return FigureSpec("ekonomi-kumulativ", "ekonomi-kumulativ",
                      "Kostnad hittills år för år, troligt värde med band från lågt till högt"
                      + (" (exempel)" if costs.examples else ""),
                      f"Linjediagram över kostnaden summerad år för år under {costs.horizon} år. Nollalternativet är "
                      f"streckat. Summa efter {costs.horizon} år: {described}.{note}")
