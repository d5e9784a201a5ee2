"""The analysis on small in-memory cases: totals, switching values with several alternatives,
rank acceptability against the distributions it claims to draw from, and the Report-level
assembly (weights, fully assessed alternatives, preliminary flag, production hours, risk order).

Fast (in-process, no files) so that mutation testing (tests/mutation/run.py) runs them per mutant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from underlag.report import model
from underlag.report.analysis import (analyse, effective_weights, production_hours, rank_acceptability, ranks, risk_order,
                               score_frames, switching_values, weighted_totals)

# Two criteria, four alternatives. Moving w1 = t (and w2 = 1 - t), every total is t·s1 + (1 - t)·s2:
#   a = 1 + 4t (the leader at t = 0.5), b = 4 - 3t, c = 3.5 - 1.5t, d = 1 (never ahead for t > 0),
#   e = a (ties a everywhere: never overtakes it).
# Down from 0.5, c overtakes a at t = 2.5/5.5 = 0.4545 (the nearest), b only at 3/7 = 0.4286.
# Up the other criterion (w2 = t): a = 5 - 4t, b = 1 + 3t, c = 2 + 1.5t; c overtakes at 3/5.5 = 0.5455,
# b only at 4/7 = 0.5714.
SCORES = pd.DataFrame({"c1": [5.0, 1.0, 2.0, 1.0, 5.0], "c2": [1.0, 4.0, 3.5, 1.0, 1.0]},
                      index=["a", "b", "c", "d", "e"])
WEIGHTS = pd.Series({"c1": 0.5, "c2": 0.5})


def test_switching_values_are_the_nearest_crossings_among_several_alternatives():
    c1, c2 = switching_values(SCORES, WEIGHTS)
    assert (c1.criterion, c1.weight, c2.criterion, c2.weight) == ("c1", 0.5, "c2", 0.5)
    assert c1.lower == pytest.approx(2.5 / 5.5) and c1.lower_winner == "c"
    assert c1.upper is None and c1.upper_winner is None
    assert c2.upper == pytest.approx(3 / 5.5) and c2.upper_winner == "c"
    assert c2.lower is None and c2.lower_winner is None


def test_switching_values_with_the_nearest_crossing_listed_last():
    # the same alternatives in the other order: the nearest must win wherever it stands
    c1, c2 = switching_values(SCORES.loc[["a", "c", "b", "d"]], WEIGHTS)
    assert (c1.lower, c1.lower_winner) == (pytest.approx(2.5 / 5.5), "c")
    assert (c2.upper, c2.upper_winner) == (pytest.approx(3 / 5.5), "c")
    c1, c2 = switching_values(SCORES.loc[["a", "b", "c"]], WEIGHTS)
    assert (c1.lower, c1.lower_winner, c2.upper, c2.upper_winner) == (
        pytest.approx(2.5 / 5.5), "c", pytest.approx(3 / 5.5), "c")


def test_an_alternative_parallel_to_the_leader_does_not_hide_the_others():
    # e ties a at every weight (nothing to find); the search must go on to c and b after it
    c1, c2 = switching_values(SCORES.loc[["a", "e", "b", "c", "d"]], WEIGHTS)
    assert (c1.lower_winner, c2.upper_winner) == ("c", "c")


@pytest.mark.parametrize("other, criterion, side", [
    ((1.0, 1.0), "c1", "lower"),  # with w1 = 0 both score 1: a tie at the very end, nobody overtakes
    ((5.0, 0.5), "c1", "upper"),  # the same score on c1: they tie only at w1 = 1
    ((4.75, 0.0), "c1", "upper"),  # the lines cross beyond w1 = 1 (at 4/3): outside the weights
])
def test_ties_at_the_ends_and_crossings_beyond_them_are_no_switching_values(other, criterion, side):
    scores = pd.DataFrame({"c1": [5.0, other[0]], "c2": [1.0, other[1]]}, index=["a", "x"])
    switch = {s.criterion: s for s in switching_values(scores, WEIGHTS)}[criterion]
    assert getattr(switch, side) is None and getattr(switch, f"{side}_winner") is None


def moved(weights: pd.Series, criterion: str, t: float) -> np.ndarray:
    """The method's rule: criterion's weight set to t, the others keep their proportions."""
    others = weights * (1 - t) / (1 - weights[criterion])
    return np.where(weights.index == criterion, t, others.to_numpy())


@pytest.mark.parametrize("seed", range(5))
def test_at_each_switching_value_the_winner_ties_and_nobody_overtakes_before(seed):
    rng = np.random.default_rng(seed)
    scores = pd.DataFrame(rng.uniform(1, 5, size=(4, 3)).round(1), index=list("pqrs"), columns=["x", "y", "z"])
    weights = pd.Series(rng.dirichlet([3, 3, 3]), index=scores.columns)
    matrix, leader = scores.to_numpy(), list(scores.index).index(weighted_totals(scores, weights).idxmax())
    for switch in switching_values(scores, weights):
        for bound, winner, end in ((switch.lower, switch.lower_winner, 0), (switch.upper, switch.upper_winner, 1)):
            if bound is not None:
                totals = matrix @ moved(weights, switch.criterion, bound)
                assert totals[list(scores.index).index(winner)] == pytest.approx(totals[leader])
            # strictly before the switching value (or all the way to 0 or 1 without one) the leader leads
            for t in np.linspace(switch.weight, end if bound is None else bound, 30)[1:-1]:
                totals = matrix @ moved(weights, switch.criterion, t)
                assert totals.max() <= totals[leader] + 1e-9, (switch, t)


@pytest.mark.parametrize("high, noise", [(4.0, 0.0), (4.0, 1e-16), (4.0, -1e-16), (2.2, 0.0)])
def test_a_tie_today_is_a_switching_value_at_todays_weight_on_the_side_that_breaks_it(high, noise):
    """a = 4t + 2(1 - t) and b = 2t + 4(1 - t) tie at t = 0.5: moving w1 down makes b lead, moving
    it up keeps a ahead. Rounding noise in the crossing (a few 1e-16) used to pick the side. With
    2.2 the lead changes slowly (slope 0.4): only its sign counts."""
    scores = pd.DataFrame({"c1": [high, 2.0], "c2": [2.0, high + noise]}, index=["a", "b"])
    c1, c2 = switching_values(scores, WEIGHTS)
    assert (c1.lower, c1.lower_winner, c1.upper, c1.upper_winner) == (0.5, "b", None, None)
    assert (c2.lower, c2.lower_winner, c2.upper, c2.upper_winner) == (None, None, 0.5, "b")


def test_ranks_of_equal_totals_do_not_depend_on_the_order_they_come_in():
    totals = pd.Series({"c": 2.0, "a": 3.0, "b": 3.0, "d": 3.0 + 1e-12, "e": 0.5})
    assert ranks(totals).to_dict() == {"c": 4, "a": 1, "b": 1, "d": 1, "e": 5}
    assert ranks(totals.iloc[::-1]).to_dict() == ranks(totals).to_dict()


def test_weighted_totals_use_each_criterions_own_weight():
    scores = pd.DataFrame({"y": [2.0], "x": [4.0]}, index=["a"])  # columns in another order than the weights
    assert weighted_totals(scores, pd.Series({"x": 0.25, "y": 0.75}))["a"] == pytest.approx(0.25 * 4 + 0.75 * 2)


def test_ties_share_the_better_rank_even_with_rounding_noise():
    totals = pd.Series({"a": 3.0, "b": 3.0 + 2e-10, "c": 1.0, "d": 4.0, "e": 3.0 - 2e-10})
    assert ranks(totals).to_dict() == {"a": 2, "b": 2, "c": 5, "d": 1, "e": 2}
    assert ranks(totals).dtype.kind == "i"


def test_rank_acceptability_of_fixed_scores_is_the_ranking():
    scores = pd.DataFrame({"c1": [3.0, 1.0, 5.0], "c2": [3.0, 1.0, 5.0]}, index=["a", "b", "c"])
    acceptability, total_range = rank_acceptability(scores, scores, scores, WEIGHTS, draws=400)
    assert list(acceptability.columns) == [1, 2, 3] and list(acceptability.index) == ["a", "b", "c"]
    assert acceptability.to_dict("index") == {"a": {1: 0, 2: 1, 3: 0}, "b": {1: 0, 2: 0, 3: 1},
                                              "c": {1: 1, 2: 0, 3: 0}}
    assert list(total_range.columns) == ["p05", "p50", "p95"]
    assert total_range.loc["c"].tolist() == pytest.approx([5, 5, 5]) and total_range.loc["b"].tolist() == \
        pytest.approx([1, 1, 1])


def test_identical_alternatives_share_first_place_whatever_their_order():
    scores = pd.DataFrame({"c1": [3.0, 3.0, 1.0], "c2": [2.0, 2.0, 1.0]}, index=["a", "b", "c"])
    acceptability, _ = rank_acceptability(scores, scores, scores, WEIGHTS, draws=2000)
    assert 0.4 < acceptability.at["a", 1] < 0.6 and acceptability.at["a", 1] + acceptability.at["b", 1] == 1


def test_rank_acceptability_follows_the_dirichlet_weights():
    # a leads exactly when w1 > 0.5; w1 ~ Beta(0.55·100, 0.45·100) under the default concentration
    scores = pd.DataFrame({"c1": [5.0, 1.0], "c2": [1.0, 5.0]}, index=["a", "b"])
    weights = pd.Series({"c1": 0.55, "c2": 0.45})
    acceptability, _ = rank_acceptability(scores, scores, scores, weights)
    expected = (np.random.default_rng(1).beta(55, 45, size=400_000) > 0.5).mean()  # about 0.84
    assert acceptability.at["a", 1] == pytest.approx(expected, abs=0.015)
    assert acceptability.sum(axis=0).tolist() == pytest.approx([1, 1]) and \
        acceptability.sum(axis=1).tolist() == pytest.approx([1, 1])


def test_rank_acceptability_draws_scores_from_the_triangular_range():
    # one criterion: the weight is always 1 and a total is the drawn score itself, from the
    # triangular distribution on 1..5 with mode 3: F(x) = (x - 1)² / 8 below the mode
    one = pd.Series({"c": 1.0})
    mode = pd.DataFrame({"c": [3.0, 2.0]}, index=["a", "b"])
    low, high = pd.DataFrame({"c": [1.0, 2.0]}, index=["a", "b"]), pd.DataFrame({"c": [5.0, 2.0]}, index=["a", "b"])
    acceptability, total_range = rank_acceptability(mode, low, high, one, draws=200_000)
    assert total_range.loc["a"].tolist() == pytest.approx([1 + 0.4 ** 0.5, 3, 5 - 0.4 ** 0.5], abs=0.008)
    assert total_range.loc["b"].tolist() == pytest.approx([2, 2, 2])
    assert acceptability.at["a", 1] == pytest.approx(1 - 1 / 8, abs=0.005)  # P(score > 2) = 1 - F(2)


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    low, high = SCORES - 0.5, SCORES + 0.5
    first = rank_acceptability(SCORES, low, high, WEIGHTS, draws=300)
    again = rank_acceptability(SCORES, low, high, WEIGHTS, draws=300)
    other = rank_acceptability(SCORES, low, high, WEIGHTS, draws=300, seed=1)
    pd.testing.assert_frame_equal(first[1], again[1])
    assert not first[1].equals(other[1])


# --- the Report-level assembly, from model objects built in memory ---------------------------


def criteria(status: str = "fastställd") -> model.Criteria:
    criterion = {"low": "dåligt", "high": "bra"}
    return model.Criteria.model_validate({"weights_status": status, "perspectives": [
        {"id": "p1", "name": "P1", "weight": 0.6, "criteria": [{"id": "k2", "name": "K2", "weight": 0.5, **criterion},
                                                               {"id": "k1", "name": "K1", "weight": 0.5, **criterion}]},
        {"id": "p2", "name": "P2", "weight": 0.4, "criteria": [{"id": "k3", "name": "K3", "weight": 1.0, **criterion}]},
    ]})


def alternative(id: str, order: int) -> model.Alternative:
    return model.Alternative.model_validate({"id": id, "order": order, "title": id, "short_title": id,
                                             "points": [], "swot": {}})


def assessment(alt: str, criterion: str, score: float, status: str = "fastställd") -> model.Assessment:
    return model.Assessment.model_validate({"alternative": alt, "criterion": criterion, "score": score,
                                            "low": max(1, score - 1), "high": min(5, score + 1),
                                            "rationale": "skäl", "status": status})


def task(alt: str, per_year: float, now: float, short: float, long: float) -> model.TaskTime:
    return model.TaskTime.model_validate({"task": "Journalföra", "role": "Läkare", "per_year": per_year,
                                          "minutes_now": now, "alternative": alt, "minutes_short": short,
                                          "minutes_long": long, "status": "fastställd"})


COST_SETTINGS = {"horizon_years": 10, "horizon": {"text": "tio år", "status": "fastställd"}, "discount_rate": 0.035,
                 "discount": {"text": "3,5 procent", "status": "fastställd"}, "price_year": 2025,
                 "status": "fastställd"}


def report(weights_status: str = "fastställd", assessment_status: str = "fastställd", tasks=(),
           baseline=None) -> model.Report:
    scores = {"x": (4, 2, 3), "y": (2, 5, 4), "z": (5, 5, 5)}
    if baseline:
        scores[model.ZERO_ID] = baseline  # the nollalternativ is scored like an alternative but is none
    rows = [assessment(alt, f"k{i + 1}", s, assessment_status) for alt, row in scores.items()
            for i, s in enumerate(row) if (alt, i) != ("z", 2)]  # z lacks k3: not fully assessed
    return model.Report.model_construct(criteria=criteria(weights_status), assessments=rows, task_times=list(tasks),
                                        alternatives=[alternative("y", 2), alternative("x", 1), alternative("z", 3)],
                                        cost_settings=model.CostSettings.model_validate(COST_SETTINGS), costs=[])


def test_effective_weights_multiply_perspective_and_criterion():
    assert effective_weights(criteria()).to_dict() == pytest.approx({"k1": 0.3, "k2": 0.3, "k3": 0.4})


def test_score_frames_keep_fully_assessed_alternatives_in_report_order():
    scores, low, high = score_frames(report())
    # columns in the order of data/kriterier.yaml (k2 before k1), not alphabetical
    assert list(scores.index) == ["y", "x"] and list(scores.columns) == ["k2", "k1", "k3"]
    assert scores.loc["x"].tolist() == [2, 4, 3] and low.loc["x"].tolist() == [1, 3, 2]
    assert high.loc["y"].tolist() == [5, 3, 5]


def test_analyse_puts_the_parts_together():
    result = analyse(report())
    assert result.totals.to_dict() == pytest.approx({"y": 0.3 * 2 + 0.3 * 5 + 0.4 * 4, "x": 0.3 * 4 + 0.3 * 2 + 0.4 * 3})
    assert result.ranks.to_dict() == {"y": 1, "x": 2}
    assert [s.criterion for s in result.switches] == ["k2", "k1", "k3"]
    assert result.weights.to_dict() == pytest.approx({"k1": 0.3, "k2": 0.3, "k3": 0.4})
    assert result.scores.loc["y"].tolist() == [5, 2, 4]
    assert list(result.acceptability.index) == ["y", "x"] and list(result.total_range.index) == ["y", "x"]
    assert result.preliminary is False and result.examples is False
    assert result.baseline is None  # the nollalternativ is not scored


def test_the_nollalternativ_is_a_baseline_not_a_ranked_alternative():
    result = analyse(report(baseline=(1, 2, 3)))
    assert result.baseline == pytest.approx(0.3 * 2 + 0.3 * 1 + 0.4 * 3)
    assert list(result.totals.index) == ["y", "x"] and model.ZERO_ID not in result.ranks.index


@pytest.mark.parametrize("weights_status, assessment_status", [("preliminär", "fastställd"),
                                                               ("fastställd", "förslag"),
                                                               ("exempel", "fastställd"),
                                                               ("fastställd", "exempel")])
def test_anything_unsettled_makes_the_analysis_preliminary(weights_status, assessment_status):
    result = analyse(report(weights_status, assessment_status))
    assert result.preliminary is True
    assert result.examples is ("exempel" in (weights_status, assessment_status))


def test_production_hours_per_alternative_in_report_order():
    tasks = [task("x", 120, 10, 15, 5), task("y", 60, 10, 20, 30), task("x", 30, 4, 4, 2),
             task(model.ZERO_ID, 60, 10, 10, 10)]
    hours = analyse(report(tasks=tasks)).production
    assert list(hours.index) == [model.ZERO_ID, "y", "x"]  # the nollalternativ first, then report order and list(hours.columns) == ["hours_now", "hours_short", "hours_long"]
    assert hours.loc["x"].tolist() == pytest.approx([20 + 2, 30 + 2, 10 + 1])
    assert hours.loc["y"].tolist() == pytest.approx([10, 20, 30])


def test_production_hours_without_tasks_is_an_empty_table():
    hours = production_hours([], ["x"])
    assert hours.empty and list(hours.columns) == ["hours_now", "hours_short", "hours_long"]


def test_risks_are_ordered_by_likelihood_times_consequence_then_consequence_then_id():
    def risk(id, p, c):
        return model.Risk.model_validate({"id": id, "title": id, "description": "-", "probability": p,
                                          "consequence": c, "mitigation": "-", "owner": "-", "status": "fastställd"})

    risks = [risk("r-a", 2, 2), risk("r-b", 1, 4), risk("r-c", 4, 1), risk("r-d", 3, 3), risk("r-e", 2, 2)]
    assert [r.id for r in risk_order(risks)] == ["r-d", "r-b", "r-a", "r-e", "r-c"]


def cost_line(alt: str, expected: float) -> model.CostLine:
    return model.CostLine.model_validate({"alternative": alt, "item": "drift", "first_year": 1, "last_year": 10,
                                          "low": expected, "expected": expected, "high": expected,
                                          "status": "fastställd"})


def test_analyse_ties_the_costs_to_the_scores_and_the_nollalternativ():
    # value for money needs both the weighted totals and the nollalternativ's total: the cost
    # table's extra cost per point is (cost − cost of noll) / (score − score of noll)
    base = report(baseline=(1, 2, 3))
    with_costs = base.model_copy(update={"costs": [cost_line(model.ZERO_ID, 10), cost_line("x", 20),
                                                   cost_line("y", 30)]})
    result = analyse(with_costs)
    value = result.costs.value
    assert sorted(value.index) == ["x", "y"]  # the fully assessed alternatives with costs
    assert value["score"].to_dict() == pytest.approx(result.totals.to_dict())
    assert value["gain"].to_dict() == pytest.approx((result.totals - result.baseline).to_dict())
    present = result.costs.present["expected"]
    assert value.loc["y", "extra_cost"] == pytest.approx(present["y"] - present[model.ZERO_ID])
    assert value.loc["y", "per_point"] == pytest.approx(value.loc["y", "extra_cost"] / value.loc["y", "gain"])
