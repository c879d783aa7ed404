"""Cost variance of the latest week against a baseline, split the management-accounting way.

For models m with baseline tokens b_m at price p_m per token and actual tokens a_m at q_m:
  volume = (A - B) * P                       more or fewer tokens, at the baseline's mix and prices
  mix    = sum_m (a_m/A - b_m/B) * A * p_m   a shift between cheaper and dearer models
  rate   = sum_m (q_m - p_m) * a_m           a price change or a cache-hit change within a model
where A, B are total tokens and P = baseline cost / B. The three add up to actual - baseline
exactly (algebraically); `rate` is taken as the remainder so they also add up in floating point.
A model new in the latest week has no baseline price: its own price stands in, so it moves
`mix`, not `rate`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelUsage:
    model: str
    tokens: float          # (a baseline week averages several: not whole)
    cost: float


@dataclass(frozen=True)
class CostVariance:
    baseline: float
    actual: float
    total: float        # actual - baseline; positive = spent more (unfavourable)
    volume: float
    mix: float
    rate: float

    def as_dict(self) -> dict:
        return {"baseline": self.baseline, "actual": self.actual, "total": self.total,
                "volume": self.volume, "mix": self.mix, "rate": self.rate,
                "favourable": self.total <= 0}


def split_cost_variance(baseline: list[ModelUsage], actual: list[ModelUsage]) -> CostVariance:
    base_cost = sum(m.cost for m in baseline)
    act_cost = sum(m.cost for m in actual)
    total = act_cost - base_cost
    big_b = sum(m.tokens for m in baseline)
    big_a = sum(m.tokens for m in actual)
    if big_b == 0 or big_a == 0:
        # Nothing to compare the mix or prices with: it is all a change in volume.
        return CostVariance(base_cost, act_cost, total, total, 0.0, 0.0)
    base_price = {m.model: m.cost / m.tokens for m in baseline if m.tokens}
    act_price = {m.model: m.cost / m.tokens for m in actual if m.tokens}
    base_tokens = {m.model: m.tokens for m in baseline}
    act_tokens = {m.model: m.tokens for m in actual}
    avg_price = base_cost / big_b
    volume = (big_a - big_b) * avg_price
    mix = 0.0
    for model in set(base_tokens) | set(act_tokens):
        p = base_price.get(model, act_price.get(model, 0.0))
        mix += (act_tokens.get(model, 0) / big_a - base_tokens.get(model, 0) / big_b) * big_a * p
    rate = total - volume - mix
    return CostVariance(base_cost, act_cost, total, volume, mix, rate)


def scale(usages: list[ModelUsage], factor: float) -> list[ModelUsage]:
    """A baseline of several weeks as one average week (factor = 1 / weeks)."""
    return [ModelUsage(m.model, m.tokens * factor, m.cost * factor) for m in usages]


def variance(actual: float, baseline: float, *, higher_is_better: bool) -> dict:
    """A plain variance for tokens, NVA % or ROI, with its direction."""
    diff = actual - baseline
    # No baseline: a percentage only when nothing changed (0 -> 0 is 0%, 0 -> x has none).
    pct = (diff / baseline * 100.0) if baseline else (0.0 if diff == 0 else None)
    return {"baseline": baseline, "actual": actual, "variance": diff, "percent": pct,
            "favourable": diff >= 0 if higher_is_better else diff <= 0}
