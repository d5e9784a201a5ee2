"""The cost model: yearly costs per alternative and the nollalternativ, totals over the horizon,
present value, and how cost compares with the weighted score. Pure functions, no I/O.

Method (the economics chapter states the same, generated from these functions):
- Each row of data/kostnader.csv is a cost item of one alternative with a low, expected and high
  amount in mnkr per year for the years first_year…last_year (year 1 is the first year after the
  decision). An alternative's cost for a year is the sum of its rows for that year.
- Present value: the cost of year t is divided by (1 + r)^t, with r the real discount rate in
  data/kalkyl.yaml; amounts are in the price level of its price_year.
- The band from low to high adds all low and all high amounts: an outer bound, since the items
  are not likely to all land at the same end.
- Value for money is measured against the nollalternativ: the extra cost (present value, expected)
  per point of weighted score gained. The best buy has the lowest extra cost per point.
- The switching value is how much more (present value) the best buy may cost before another
  alternative gives more score per krona.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from underlag.report import model

ITEMS = ("investering", "licens", "drift", "avveckling", "intern-tid", "produktionsbortfall")
ITEM_NAMES = {"investering": "Investering", "licens": "Licenser", "drift": "Drift",
              "avveckling": "Avveckling och avtal", "intern-tid": "Intern tid",
              "produktionsbortfall": "Produktionsbortfall"}
LEVELS = ("low", "expected", "high")


@dataclass(frozen=True)
class Costs:
    horizon: int
    rate: float
    price_year: int
    order: list[str]  # the nollalternativ first, then the alternatives that have costs
    yearly: dict[str, pd.DataFrame]  # id -> year (1..horizon) x low/expected/high, mnkr
    by_item: pd.DataFrame  # id x item -> expected total over the horizon, mnkr
    totals: pd.DataFrame  # id -> low/expected/high total over the horizon, mnkr
    present: pd.DataFrame  # id -> low/expected/high present value, mnkr
    value: pd.DataFrame  # alternative -> score, gain, extra_cost, per_point (vs the nollalternativ)
    best_buy: str | None
    switching: float | None  # mnkr (present value) the best buy may cost more and still be the best buy
    switching_to: str | None
    examples: bool  # any amount, the horizon or the rate only shows the method

    @property
    def empty(self) -> bool:
        return not self.yearly


def yearly_costs(lines: list[model.CostLine], horizon: int) -> pd.DataFrame:
    """Year x low/expected/high for one alternative's rows."""
    years = pd.RangeIndex(1, horizon + 1, name="year")
    frame = pd.DataFrame(0.0, index=years, columns=list(LEVELS))
    for line in lines:
        span = range(line.first_year, min(line.last_year, horizon) + 1)
        for level in LEVELS:
            frame.loc[list(span), level] += getattr(line, level)
    return frame


def present_value(yearly: pd.DataFrame, rate: float) -> pd.Series:
    factors = pd.Series([(1 + rate) ** -year for year in yearly.index], index=yearly.index)
    return yearly.mul(factors, axis=0).sum()


def analyse_costs(report: model.Report, totals: pd.Series | None = None, baseline: float | None = None) -> Costs:
    """The cost model, tied to the weighted totals and the nollalternativ's total when given."""
    settings = report.cost_settings
    ids = [model.ZERO_ID] + [a.id for a in report.alternatives]
    order = [i for i in ids if any(line.alternative == i for line in report.costs)]
    yearly = {i: yearly_costs([line for line in report.costs if line.alternative == i], settings.horizon_years)
              for i in order}
    by_item = pd.DataFrame(
        {item: {i: sum(line.expected * (min(line.last_year, settings.horizon_years) - line.first_year + 1)
                       for line in report.costs if line.alternative == i and line.item == item) for i in order}
         for item in ITEMS}).reindex(order)
    sums = pd.DataFrame({i: yearly[i].sum() for i in order}).T.reindex(order)
    present = pd.DataFrame({i: present_value(yearly[i], settings.discount_rate) for i in order}).T.reindex(order)
    value = value_for_money(present, totals, baseline)
    best, switching, switching_to = switching_value(value)
    examples = settings.status == "exempel" or any(line.status == "exempel" for line in report.costs)
    return Costs(settings.horizon_years, settings.discount_rate, settings.price_year, order, yearly, by_item,
                 sums, present, value, best, switching, switching_to, examples)


def value_for_money(present: pd.DataFrame, totals: pd.Series | None, baseline: float | None) -> pd.DataFrame:
    """Per alternative: weighted score, gain over the nollalternativ, extra cost and extra cost per point."""
    columns = ["score", "gain", "extra_cost", "per_point"]
    if totals is None or baseline is None or model.ZERO_ID not in present.index:
        return pd.DataFrame(columns=columns, dtype=float)
    rows = {}
    zero_cost = present.at[model.ZERO_ID, "expected"]
    for alt, score in totals.items():
        if alt not in present.index:
            continue
        gain = float(score - baseline)
        extra = float(present.at[alt, "expected"] - zero_cost)
        rows[alt] = {"score": float(score), "gain": gain, "extra_cost": extra,
                     "per_point": extra / gain if gain > 0 else float("nan")}
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def switching_value(value: pd.DataFrame) -> tuple[str | None, float | None, str | None]:
    """The best buy (lowest extra cost per point gained), and how much more it may cost before
    another alternative's cost per point is lower: gain_best × per_point_other − extra_best."""
    buyable = value.dropna(subset=["per_point"])
    if buyable.empty:
        return None, None, None
    best = buyable.per_point.idxmin()
    margins = {other: buyable.at[best, "gain"] * buyable.at[other, "per_point"] - buyable.at[best, "extra_cost"]
               for other in buyable.index if other != best}
    if not margins:
        return best, None, None
    runner_up = min(margins, key=margins.get)
    return best, float(margins[runner_up]), runner_up
