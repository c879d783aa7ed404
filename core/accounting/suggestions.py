"""Optimisation hints drawn from the spend lines. Each rule needs enough data to be worth saying
and names the money involved.

- an expensive model on template-like work: Opus-class calls averaging little output
- no cache reads: an agent/model with many calls and large input but zero cache reads
- research outspending shipping: category research costs more than ship-flow
- a budget consistently under 50%: the last complete months all used less than half
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .. import config as config_mod
from .spend import Line, group, total
from .subscriptions import fixed_total, month_bounds

# Model families priced well above the workhorse tier of their provider.
EXPENSIVE = re.compile(r"opus|o1-pro|o3-pro|gpt-5-pro|gpt-4\.5|-pro-", re.I)
TEMPLATE_OUTPUT_PER_CALL = 1_000     # short answers: boilerplate, renames, small edits
MIN_CALLS = 20
MIN_DOLLARS = 1.0
NO_CACHE_MIN_INPUT = 1_000_000


@dataclass
class Suggestion:
    rule: str
    text: str
    amount: float                    # the USD the hint is about

    def as_json(self) -> dict:
        return {"rule": self.rule, "text": self.text, "amount": round(self.amount, 6)}


def suggest(lines: list[Line], cfg: dict, subs, as_of: dt.date) -> list[Suggestion]:
    """Hints for the month of `as_of` (lines of earlier months feed the budget rule)."""
    first, _ = month_bounds(as_of)
    month = [l for l in lines if first <= l.day <= as_of]
    out: list[Suggestion] = []
    out += _expensive_on_templates(month)
    out += _no_cache_reads(month)
    out += _research_over_shipping(month)
    out += _budget_under_half(lines, cfg, subs, as_of)
    return out


def _expensive_on_templates(lines: list[Line]) -> list[Suggestion]:
    out = []
    for model, t in group((l for l in lines if EXPENSIVE.search(l.model)), lambda l: l.model).items():
        if t.calls < MIN_CALLS or t.value < MIN_DOLLARS:
            continue
        per_call = t.output_tokens / t.calls
        if per_call < TEMPLATE_OUTPUT_PER_CALL:
            out.append(Suggestion(
                "expensive-model-template-work",
                f"{model}: {t.calls:,} calls averaging {per_call:,.0f} output tokens cost ${t.value:,.2f} — "
                "short, template-like work; a cheaper model (Sonnet/Haiku class) would do it for a fraction",
                t.value))
    return out


def _no_cache_reads(lines: list[Line]) -> list[Suggestion]:
    out = []
    for (agent, model), t in group(lines, lambda l: (l.agent, l.model)).items():
        if t.calls >= MIN_CALLS and t.input_tokens >= NO_CACHE_MIN_INPUT and t.cache_read_tokens == 0:
            out.append(Suggestion(
                "no-cache-reads",
                f"{agent} · {model}: {t.calls:,} calls and {t.input_tokens:,} input tokens with no cache reads — "
                "enable prompt caching (cache reads bill at a tenth of input)", t.value))
    return out


def _research_over_shipping(lines: list[Line]) -> list[Suggestion]:
    by = group(lines, lambda l: l.category)
    research = by.get("research", total([])).value
    shipping = by.get("ship-flow", total([])).value
    if research >= MIN_DOLLARS and research > shipping:
        return [Suggestion("research-over-shipping",
                           f"research cost ${research:,.2f} this month, more than shipping (ship-flow ${shipping:,.2f}) — "
                           "check the research is turning into shipped work", research - shipping)]
    return []


def _budget_under_half(lines: list[Line], cfg: dict, subs, as_of: dt.date) -> list[Suggestion]:
    budget = config_mod.get(cfg, "ai.cost_budget_monthly")
    if not budget:
        return []
    spent = []
    month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    for _ in range(3):                          # the last three complete months with any usage
        m_first, m_last = month_bounds(month_end)
        mine = [l for l in lines if m_first <= l.day <= m_last]
        if mine:
            spent.append(total(mine).proportional + fixed_total(subs, m_first, m_last))
        month_end = m_first - dt.timedelta(days=1)
    if len(spent) >= 2 and all(s < budget * 0.5 for s in spent):
        peak = max(spent)
        return [Suggestion("budget-under-half",
                           f"the last {len(spent)} months used at most ${peak:,.2f} of the ${budget:,.2f} budget "
                           f"(under 50%) — a budget near ${max(peak * 1.25, 1):,.0f} would make alerts meaningful",
                           budget - peak)]
    return []
