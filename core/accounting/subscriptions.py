"""Fixed cost: flat-fee plans (config `subscriptions`), what usage they cover, their break-even.

A plan covers the automatic usage of its agent on the days it is active (start..end inclusive);
that usage is reported as its menu-price value, not as spend. Manual ledger entries are never
covered: a person logged them as spend. A monthly fee is billed per calendar month in which the
plan is active on any day, and spread evenly over that month's days when a report covers part
of a month (so the days of a month add up to the fee).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

# Hint thresholds on the month's (projected) covered value as a multiple of the fee.
CANCEL_BELOW = 0.8      # pay-as-you-go would have been clearly cheaper
UPGRADE_FROM = 3.0      # heavy use: the plan's usage limits, not its price, are the constraint


@dataclass(frozen=True)
class Subscription:
    plan: str
    agent: str
    monthly_fee: float
    start: dt.date
    end: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def active_in(self, first: dt.date, last: dt.date) -> bool:
        return self.start <= last and (self.end is None or self.end >= first)


def from_config(cfg: dict) -> list[Subscription]:
    return [Subscription(s["plan"], s["agent"], float(s["monthly_fee"]), dt.date.fromisoformat(str(s["start"])),
                         dt.date.fromisoformat(str(s["end"])) if s.get("end") else None)
            for s in cfg.get("subscriptions") or []]


def covering(subs, agent: str, day: dt.date) -> str | None:
    """The plan paying for `agent`'s usage on `day` (the first listed when several are active)."""
    for s in subs:
        if s.agent == agent and s.active_on(day):
            return s.plan
    return None


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def fixed_cost(sub: Subscription, first: dt.date, last: dt.date) -> float:
    """The share of `sub`'s fees falling in first..last (inclusive): for each calendar month the
    plan is active in, fee × (days of the month inside first..last) / days in the month."""
    total = 0.0
    month = first.replace(day=1)
    while month <= last:
        m_first, m_last = month_bounds(month)
        if sub.active_in(m_first, m_last):
            days = (min(last, m_last) - max(first, m_first)).days + 1
            total += sub.monthly_fee * days / m_last.day
        month = m_last + dt.timedelta(days=1)
    return total


def fixed_total(subs, first: dt.date, last: dt.date) -> float:
    return sum(fixed_cost(s, first, last) for s in subs)


@dataclass
class BreakEven:
    plan: str
    agent: str
    fee: float
    value: float                 # menu-price value of the usage it covered, month to date
    unpriced_calls: int
    days_elapsed: int
    days_in_month: int
    projected_value: float       # value at the month's end at the daily average so far
    break_even_day: dt.date | None   # day the cumulative value reached the fee (None: not yet)
    projected_break_even_day: dt.date | None
    hint: str                    # 'keep' | 'cancel' | 'upgrade'
    reason: str

    @property
    def percent(self) -> float | None:
        return self.value / self.fee * 100 if self.fee else None

    def as_json(self) -> dict:
        return {
            "plan": self.plan, "agent": self.agent, "monthlyFee": self.fee,
            "coveredValue": round(self.value, 6),
            "breakEvenPercent": None if self.percent is None else round(self.percent, 2),
            "projectedValue": round(self.projected_value, 6), "daysElapsed": self.days_elapsed,
            "daysInMonth": self.days_in_month, "unpricedCalls": self.unpriced_calls,
            "breakEvenDay": self.break_even_day.isoformat() if self.break_even_day else None,
            "projectedBreakEvenDay": (self.projected_break_even_day.isoformat()
                                      if self.projected_break_even_day else None),
            "hint": self.hint, "reason": self.reason,
        }


def break_even(sub: Subscription, daily_value: dict[dt.date, float], as_of: dt.date,
               unpriced_calls: int = 0) -> BreakEven:
    """Judge one plan for the month containing `as_of`, from the menu-price value of the usage it
    covered per day (days after as_of are ignored)."""
    m_first, m_last = month_bounds(as_of)
    first = max(m_first, sub.start)
    last = min(as_of, sub.end or as_of)
    value, running, reached = 0.0, 0.0, None
    for day in sorted(daily_value):
        if first <= day <= last:
            running += daily_value[day]
            if reached is None and sub.monthly_fee > 0 and running >= sub.monthly_fee:
                reached = day
    value = running
    elapsed = max((last - first).days + 1, 0)
    active_days = max((min(m_last, sub.end or m_last) - first).days + 1, 0)
    per_day = value / elapsed if elapsed else 0.0
    projected = per_day * active_days if last < min(m_last, sub.end or m_last) else value
    projected_day = None
    if reached is None and per_day > 0:
        needed_days = -(-sub.monthly_fee // per_day)   # ceil
        candidate = first + dt.timedelta(days=int(needed_days) - 1)
        if candidate <= min(m_last, sub.end or m_last):
            projected_day = candidate
    ratio = projected / sub.monthly_fee if sub.monthly_fee else float("inf")
    if ratio < CANCEL_BELOW:
        hint = "cancel"
        reason = (f"usage worth ${projected:,.2f} this month at menu prices is below the ${sub.monthly_fee:,.2f} "
                  "fee: paying per use would cost less")
    elif ratio >= UPGRADE_FROM:
        hint = "upgrade"
        reason = (f"usage worth {ratio:.1f}× the fee: the plan pays off; if you hit its usage limits, "
                  "a higher tier is worth it")
    else:
        hint = "keep"
        reason = f"usage worth {ratio:.1f}× the fee: the plan pays for itself"
    return BreakEven(sub.plan, sub.agent, sub.monthly_fee, value, unpriced_calls, elapsed, m_last.day,
                     projected, reached, projected_day, hint, reason)
