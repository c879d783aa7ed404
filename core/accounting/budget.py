"""Month to date against `ai.cost_budget_monthly`: spend, projection, health, recommendation.

Spend = proportional (per-call spend no subscription covers, automatic and manual) + fixed (the
fees of the plans active this month, billed in full). The projection scales only the
proportional part: proportional ÷ days elapsed × days in the month, then adds the fixed fees —
a fee does not grow with the days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .. import config as config_mod
from .spend import Line, plural, total
from .subscriptions import Subscription, fixed_total, month_bounds

EXIT_HEALTHY, EXIT_ALERT, EXIT_OVER = 0, 10, 11
INCREASE_ABOVE = 1.5    # projected beyond 150% of the budget: cutting that much is unrealistic


@dataclass
class Budget:
    month: str                       # 'YYYY-MM'
    as_of: dt.date
    days_elapsed: int
    days_in_month: int
    budget: float | None
    threshold_percent: float
    proportional: float              # month to date
    manual: float                    # of which from manual ledger entries
    fixed: float                     # subscription fees this month
    covered_value: float             # menu-price value of usage the plans covered (not spend)
    unpriced_calls: int
    unpriced_models: list[str]
    stage: str | None
    suggested: str | None            # stage's suggested range when no budget is set
    recommendation: str = ""
    advice: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def spent(self) -> float:
        return self.proportional + self.fixed

    @property
    def daily_average(self) -> float:
        return self.proportional / self.days_elapsed if self.days_elapsed else 0.0

    @property
    def projected_proportional(self) -> float:
        return self.daily_average * self.days_in_month

    @property
    def projected(self) -> float:
        return self.projected_proportional + self.fixed

    @property
    def percent(self) -> float | None:
        return self.spent / self.budget * 100 if self.budget else None

    @property
    def projected_percent(self) -> float | None:
        return self.projected / self.budget * 100 if self.budget else None

    @property
    def status(self) -> str:
        """'healthy' | 'alert' (past the threshold) | 'over' (past the budget) | 'unset'."""
        if not self.budget:
            return "unset"
        if self.spent > self.budget:
            return "over"
        percent = self.percent
        if percent is not None and percent >= self.threshold_percent:
            return "alert"
        return "healthy"

    @property
    def colour(self) -> str:
        return {"healthy": "green", "alert": "yellow", "over": "red"}.get(self.status, "")

    @property
    def exit_code(self) -> int:
        return {"alert": EXIT_ALERT, "over": EXIT_OVER}.get(self.status, EXIT_HEALTHY)

    def as_json(self) -> dict:
        r6 = lambda x: None if x is None else round(x, 6)  # noqa: E731
        return {
            "month": self.month, "asOf": self.as_of.isoformat(), "daysElapsed": self.days_elapsed,
            "daysInMonth": self.days_in_month, "budget": self.budget,
            "alertThresholdPercent": self.threshold_percent,
            "spent": r6(self.spent), "proportionalCost": r6(self.proportional), "manualCost": r6(self.manual),
            "fixedCost": r6(self.fixed), "coveredValue": r6(self.covered_value),
            "percentUsed": None if self.percent is None else round(self.percent, 2),
            "dailyAverage": r6(self.daily_average), "projectedProportional": r6(self.projected_proportional),
            "projected": r6(self.projected),
            "projectedPercent": None if self.projected_percent is None else round(self.projected_percent, 2),
            "status": self.status, "colour": self.colour, "exitCode": self.exit_code,
            "recommendation": self.recommendation, "advice": self.advice,
            "unpricedCalls": self.unpriced_calls, "unpricedModels": self.unpriced_models,
            "stage": self.stage, "suggestedBudget": self.suggested, "notes": self.notes,
        }


def month_lines(lines: list[Line], as_of: dt.date) -> list[Line]:
    first, _ = month_bounds(as_of)
    return [l for l in lines if first <= l.day <= as_of]


def evaluate(lines: list[Line], cfg: dict, subs: list[Subscription], as_of: dt.date) -> Budget:
    """`lines` may span more than the month: only the month of `as_of`, up to `as_of`, counts."""
    first, last = month_bounds(as_of)
    mine = month_lines(lines, as_of)
    t = total(mine)
    manual = sum(l.proportional for l in mine if l.origin == "manual")
    budget = config_mod.get(cfg, "ai.cost_budget_monthly")
    stage = config_mod.get(cfg, "company.stage")
    b = Budget(
        month=f"{as_of.year:04d}-{as_of.month:02d}", as_of=as_of, days_elapsed=(as_of - first).days + 1,
        days_in_month=last.day, budget=float(budget) if budget else None,
        threshold_percent=float(config_mod.get(cfg, "ai.cost_alert_threshold_percent", 80)),
        proportional=t.proportional, manual=manual, fixed=fixed_total(subs, first, last),
        covered_value=t.covered_value, unpriced_calls=t.unpriced_calls, unpriced_models=t.unpriced_models,
        stage=stage, suggested=None if budget else config_mod.suggested_budget(stage))
    _recommend(b)
    if b.unpriced_calls:
        b.notes.append(f"{plural(b.unpriced_calls, 'call')} without a price ({', '.join(b.unpriced_models)}): "
                       "spend may be higher than shown")
    return b


def _recommend(b: Budget) -> None:
    days_left = b.days_in_month - b.days_elapsed
    if not b.budget:
        b.recommendation = "set a budget"
        b.advice = ("set ai.cost_budget_monthly" +
                    (f" (suggested for the {b.stage} stage: {b.suggested}/month)" if b.suggested else
                     " (company.stage idea/mvp/growth/scale suggests a range)"))
        return
    if b.status == "over" or b.projected > b.budget * INCREASE_ABOVE:
        b.recommendation = "increase budget"
        target = max(b.projected, b.spent)
        b.advice = (f"the month is on course for ${target:,.2f} against ${b.budget:,.2f}: raise the budget to "
                    f"about ${_round_up(target):,.0f} or cut usage sharply")
    elif b.projected > b.budget:
        b.recommendation = "reduce usage"
        room = max(b.budget - b.spent, 0.0)
        per_day = room / days_left if days_left else 0.0
        b.advice = (f"projected ${b.projected:,.2f} exceeds the ${b.budget:,.2f} budget: keep per-call spend under "
                    f"${per_day:,.2f}/day for the {days_left} days left (now ${b.daily_average:,.2f}/day)")
    else:
        b.recommendation = "stay the course"
        b.advice = f"projected ${b.projected:,.2f} is within the ${b.budget:,.2f} budget"


def _round_up(x: float, step: float = 10.0) -> float:
    return -(-x // step) * step
