"""Spend for one day, week or month: totals kept apart (proportional, fixed, covered value), by
category, model, agent and feature, the month's budget health, suggestions; and the same as the
human-readable `summary.md` written next to the ledger file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from .budget import Budget
from .spend import Line, Totals, cost_text, group, plural, total
from .subscriptions import fixed_total, month_bounds
from .suggestions import Suggestion

PERIODS = ("daily", "weekly", "monthly")
NO_FEATURE = "(none)"


def window(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The day, the ISO week (Monday first) or the calendar month containing `day`."""
    if period == "daily":
        return day, day
    if period == "weekly":
        first = day - dt.timedelta(days=day.weekday())
        return first, first + dt.timedelta(days=6)
    if period == "monthly":
        return month_bounds(day)
    raise ValueError(period)


def label(period: str, first: dt.date) -> str:
    if period == "daily":
        return first.isoformat()
    if period == "weekly":
        return f"week of {first.isoformat()}"
    return f"{first.year:04d}-{first.month:02d}"


@dataclass
class Summary:
    period: str
    first: dt.date
    last: dt.date
    totals: Totals
    manual: float
    fixed: float
    by_category: dict
    by_model: dict
    by_agent: dict
    by_feature: dict
    budget: Budget | None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def spend(self) -> float:
        return self.totals.proportional + self.fixed

    def as_json(self) -> dict:
        def rows(d: dict, name: str) -> list[dict]:
            return [{name: k, **t.as_json(), "share": _share(t, self.totals)} for k, t in d.items()]
        return {
            "period": self.period, "label": label(self.period, self.first), "since": self.first.isoformat(),
            "until": self.last.isoformat(),
            "totals": {**self.totals.as_json(), "manualCost": round(self.manual, 6),
                       "fixedCost": round(self.fixed, 6), "spend": round(self.spend, 6)},
            "byCategory": rows(self.by_category, "category"), "byModel": rows(self.by_model, "model"),
            "byAgent": rows(self.by_agent, "agent"), "byFeature": rows(self.by_feature, "feature"),
            "budget": self.budget.as_json() if self.budget else None,
            "suggestions": [s.as_json() for s in self.suggestions],
        }


def _share(t: Totals, whole: Totals) -> float:
    return round(t.value / whole.value * 100, 2) if whole.value else 0.0


def summarise(lines: list[Line], period: str, first: dt.date, last: dt.date, subs,
              budget: Budget | None = None, suggestions: Sequence[Suggestion] = ()) -> Summary:
    mine = [l for l in lines if first <= l.day <= last]
    return Summary(
        period, first, last, total(mine),
        manual=sum(l.proportional for l in mine if l.origin == "manual"),
        fixed=fixed_total(subs, first, last),
        by_category=group(mine, lambda l: l.category),
        by_model=group(mine, lambda l: l.model),
        by_agent=group(mine, lambda l: l.agent),
        by_feature=group(mine, lambda l: l.feature or NO_FEATURE),
        budget=budget, suggestions=list(suggestions))


# -- summary.md -----------------------------------------------------------------------------------

def _m(x: float) -> str:
    return f"${x:,.2f}"


def markdown(s: Summary, generated: dt.datetime, command: str) -> str:
    t = s.totals
    out = [f"# AI cost summary — {label(s.period, s.first)}", "",
           f"{s.first.isoformat()} to {s.last.isoformat()} · "
           f"generated {generated.strftime('%Y-%m-%d %H:%M %Z').strip()} "
           f"by `{command}` (regenerated on every run: edit the ledger, not this file)", ""]
    b = s.budget
    if b is not None and b.budget:
        out += [f"**Budget health: {b.colour}** ({b.status}) — {_m(b.spent)} of {_m(b.budget)} "
                f"({b.percent:.1f}%) in {b.month} as of {b.as_of.isoformat()}; projected {_m(b.projected)}. "
                f"Recommendation: {b.recommendation} — {b.advice}.", ""]
    elif b is not None:
        out += [f"**Budget health: no budget set** — {b.advice}.", ""]
    out += ["| Cost | USD |", "|---|---:|",
            f"| Proportional (per-call spend) | {_m(t.proportional)} |",
            f"| … of which manual ledger entries | {_m(s.manual)} |",
            f"| Fixed (subscription fees) | {_m(s.fixed)} |",
            f"| **Spend** | **{_m(s.spend)}** |",
            f"| Covered by subscriptions (menu-price value, not spend) | {_m(t.covered_value)} |", ""]
    if t.unpriced_calls:
        out += [f"\\* {plural(t.unpriced_calls, 'call')} without a price ({', '.join(t.unpriced_models)}): "
                "tokens counted, cost unknown.", ""]
    for title, name, d in (("By category", "Category", s.by_category), ("By model", "Model", s.by_model),
                           ("By agent", "Agent", s.by_agent), ("By feature", "Feature", s.by_feature)):
        out += [f"## {title}", ""]
        if not d:
            out += ["No usage in this period.", ""]
            continue
        out += [f"| {name} | Calls | Manual entries | Tokens | Per-call spend | Covered value | Share |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for k, g in d.items():
            out.append(f"| {_md_cell(str(k))} | {g.calls:,} | {g.entries:,} | {g.tokens:,} | "
                       f"{_md_cell(cost_text(g.proportional, g))} | {_m(g.covered_value)} | {_share(g, t):.1f}% |")
        out.append("")
    if s.suggestions:
        out += ["## Suggestions", ""] + [f"- {x.text}" for x in s.suggestions] + [""]
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")
