"""Multi-criteria analysis of the alternatives: pure functions on numbers, no I/O.

Method (the report's method chapter states the same, generated from these constants):
- Weighted sum: each alternative's total is the sum over criteria of effective weight
  (perspective weight × criterion weight) × score on the 1–5 scale. Higher is better.
- Switching values: one weight at a time is moved while the others keep their proportions
  (and the weights still sum to 1); the switching value is the nearest weight, up or down,
  at which another alternative overtakes the leader.
- Robustness (SMAA-style rank acceptability): weights drawn from a Dirichlet distribution
  centred on the chosen weights, scores drawn from a triangular distribution over each
  assessment's low–mode–high range, independently; the share of draws in which each
  alternative gets each rank. A fixed seed makes the numbers reproducible.
- Production impact: yearly hours for common work tasks, frequency × minutes / 60, today
  and per alternative in the short and the long term.

Plain numpy/pandas: a weighted sum and a simulation are a few lines, while the MCDA
libraries (pymcdm, scikit-criteria) add large dependencies and have no switching values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from underlag.report import model
from underlag.report.costs import Costs, analyse_costs

SEED = 20250128  # the date of the source deck: any fixed number would do
DRAWS = 10_000
CONCENTRATION = 100  # Dirichlet concentration: higher keeps drawn weights closer to the chosen ones


@dataclass(frozen=True)
class Switch:
    criterion: str
    weight: float
    lower: float | None  # the weight below which the leader loses first place, if any
    lower_winner: str | None
    upper: float | None
    upper_winner: str | None


@dataclass(frozen=True)
class Analysis:
    weights: pd.Series  # criterion -> effective weight
    scores: pd.DataFrame  # alternative x criterion
    totals: pd.Series  # alternative -> weighted total
    ranks: pd.Series  # alternative -> 1 = best
    switches: list[Switch]
    acceptability: pd.DataFrame  # alternative x rank (1..n) -> share of draws
    total_range: pd.DataFrame  # alternative -> p05, p50, p95 of simulated totals
    production: pd.DataFrame  # nollalternativ and alternatives -> hours_now, hours_short, hours_long per year
    preliminary: bool  # any input to the analysis is not settled
    examples: bool  # weights or scores only show the method: the result is an example, not an assessment
    baseline: float | None  # the nollalternativ's weighted total, when it is scored
    costs: "Costs | None" = None


def effective_weights(criteria: model.Criteria) -> pd.Series:
    return pd.Series({c.id: p.weight * c.weight for p in criteria.perspectives for c in p.criteria})


def score_frames(report: model.Report) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Scores, lows and highs as alternative x criterion frames (only assessed alternatives)."""
    rows = [(a.alternative, a.criterion, a.score, a.low, a.high) for a in report.assessments]
    frame = pd.DataFrame(rows, columns=["alternative", "criterion", "score", "low", "high"])
    order = [a.id for a in report.alternatives if a.id in set(frame.alternative)]
    criteria = [c.id for c in report.criteria.all]
    def pick(column: str) -> pd.DataFrame:
        table = frame.pivot(index="alternative", columns="criterion", values=column).reindex(columns=criteria)
        return table.loc[[a for a in order if table.loc[a].notna().all()]]  # only fully assessed alternatives

    return pick("score"), pick("low"), pick("high")


def weighted_totals(scores: pd.DataFrame, weights: pd.Series) -> pd.Series:
    return scores[weights.index] @ weights


TIE = 1e-9  # totals this close, relative to their size, are equal: floating-point noise, not a lead


def ranks(totals: pd.Series) -> pd.Series:
    """1 for the highest total; ties share the better rank. Two totals tie when they differ by
    rounding noise relative to their size: a fixed number of decimals (the old `round(9)`) split a
    pair at a rounding boundary and joined it again when every weight was halved."""
    previous, result = None, {}
    for position, (name, total) in enumerate(totals.sort_values(ascending=False).items(), 1):
        if previous is None or not math.isclose(total, previous, rel_tol=TIE):
            rank = position  # the first of a group of equal totals: the group's rank
        result[name] = rank
        previous = total
    return pd.Series(result)[totals.index]


def switching_values(scores: pd.DataFrame, weights: pd.Series) -> list[Switch]:
    """For each criterion, the nearest weights (down and up) at which the leader is overtaken.

    With w_i = t and the other weights scaled by (1 - t) / (1 - w_i), every total is linear in t:
    T_a(t) = t * s_ai + (1 - t) * R_a / (1 - w_i), where R_a = sum over j != i of w_j * s_aj.
    """
    totals = weighted_totals(scores, weights)
    leader = totals.idxmax()
    switches = []
    for criterion, weight in weights.items():
        rest = (scores.drop(columns=criterion) * weights.drop(criterion)).sum(axis=1) / (1 - weight)
        lower = upper = lower_winner = upper_winner = None
        for other in scores.index.drop(leader):
            # T_leader(t) - T_other(t) = t * (ds - dr) + dr, with ds, dr the differences in s_i and R
            ds = scores.at[leader, criterion] - scores.at[other, criterion]
            dr = rest[leader] - rest[other]
            if ds == dr:
                continue
            t = float(dr / (dr - ds))
            if not 0 < t < 1:  # at 0 or 1 the totals only tie: nobody overtakes
                continue
            if math.isclose(t, weight, rel_tol=TIE):
                # tied today: the other leads as soon as the weight moves the way the leader's
                # lead (its slope in t is ds - dr) falls, so today's weight is the switching
                # value on that side only (rounding noise in t used to pick the side)
                t, below, above = float(weight), ds - dr > 0, ds - dr < 0
            else:
                below, above = t < weight, t > weight
            if below and (lower is None or t > lower):
                lower, lower_winner = t, other
            if above and (upper is None or t < upper):
                upper, upper_winner = t, other
        switches.append(Switch(criterion, float(weight), lower, lower_winner, upper, upper_winner))
    return switches


def rank_acceptability(scores: pd.DataFrame, low: pd.DataFrame, high: pd.DataFrame, weights: pd.Series,
                       draws: int = DRAWS, seed: int = SEED,
                       concentration: float = CONCENTRATION) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share of draws giving each alternative each rank, and the 5/50/95 percentiles of its total."""
    rng = np.random.default_rng(seed)
    drawn_weights = rng.dirichlet(weights.to_numpy() * concentration, size=draws)  # draws x criteria
    mode = scores.to_numpy()
    lo, hi = low.to_numpy(), high.to_numpy()
    flat = lo == hi  # numpy's triangular needs low < high
    drawn_scores = rng.triangular(np.where(flat, lo - 1e-9, lo), mode, np.where(flat, hi + 1e-9, hi),
                                  size=(draws, *mode.shape))  # draws x alternatives x criteria
    totals = np.einsum("dac,dc->da", drawn_scores, drawn_weights)
    order = np.argsort(-totals, axis=1, kind="stable")
    rank_of = np.empty_like(order)
    rank_of[np.arange(draws)[:, None], order] = np.arange(order.shape[1])
    n = len(scores.index)
    shares = np.stack([(rank_of == r).mean(axis=0) for r in range(n)], axis=1)
    acceptability = pd.DataFrame(shares, index=scores.index, columns=range(1, n + 1))
    percentiles = np.percentile(totals, [5, 50, 95], axis=0).T
    total_range = pd.DataFrame(percentiles, index=scores.index, columns=["p05", "p50", "p95"])
    return acceptability, total_range


def production_hours(task_times: list[model.TaskTime], alternatives: list[str]) -> pd.DataFrame:
    """Yearly hours spent on the listed tasks, today and per alternative short and long term."""
    frame = pd.DataFrame([t.model_dump() for t in task_times])
    if frame.empty:
        return pd.DataFrame(columns=["hours_now", "hours_short", "hours_long"])
    for when in ("now", "short", "long"):
        frame[f"hours_{when}"] = frame.per_year * frame[f"minutes_{when}"] / 60
    hours = frame.groupby("alternative")[["hours_now", "hours_short", "hours_long"]].sum()
    return hours.reindex([a for a in alternatives if a in hours.index])


def baseline_total(report: model.Report, weights: pd.Series) -> float | None:
    """The nollalternativ's weighted total, when every criterion is scored for it."""
    scores = {a.criterion: a.score for a in report.assessments if a.alternative == model.ZERO_ID}
    if set(weights.index) - set(scores):
        return None
    return float(sum(weights[c] * scores[c] for c in weights.index))


def analyse(report: model.Report) -> Analysis:
    weights = effective_weights(report.criteria)
    scores, low, high = score_frames(report)
    totals = weighted_totals(scores, weights)
    acceptability, total_range = rank_acceptability(scores, low, high, weights)
    preliminary = (report.criteria.weights_status != "fastställd"
                   or any(a.status != "fastställd" for a in report.assessments))
    examples = (report.criteria.weights_status == "exempel"
                or any(a.status == "exempel" for a in report.assessments))
    baseline = baseline_total(report, weights)
    return Analysis(
        weights=weights,
        scores=scores,
        totals=totals,
        ranks=ranks(totals),
        switches=switching_values(scores, weights),
        acceptability=acceptability,
        total_range=total_range,
        production=production_hours(report.task_times, [model.ZERO_ID] + [a.id for a in report.alternatives]),
        preliminary=preliminary,
        examples=examples,
        baseline=baseline,
        costs=analyse_costs(report, totals, baseline),
    )


def risk_order(risks: list[model.Risk]) -> list[model.Risk]:
    """Most serious first (likelihood × consequence, then consequence); numbered R1, R2, … in this order."""
    return sorted(risks, key=lambda r: (-r.probability * r.consequence, -r.consequence, r.id))
