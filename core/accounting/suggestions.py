"""Optimisation hints drawn from the spend lines. Each rule needs enough data to be worth saying
and names the money involved.

- an expensive model on template-like work: short sessions (a few calls, little output) or
  ad-hoc manual entries run on an Opus-class model
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
# A template-like job: a short exchange (boilerplate, a rename, a commit message), not an agent
# working through a task; agent sessions make many calls with small outputs, so judge sessions.
TEMPLATE_MAX_CALLS = 5
TEMPLATE_MAX_OUTPUT = 2_000
MIN_JOBS = 3
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
    sessions: dict = {}
    for l in lines:
        if l.origin == "auto" and l.session_id:
            sessions.setdefault((l.agent, l.session_id), []).append(l)
    jobs: dict[str, list] = {}                        # model -> [job count, cost]
    for parts in sessions.values():
        t = total(parts)
        if t.calls <= TEMPLATE_MAX_CALLS and t.output_tokens <= TEMPLATE_MAX_OUTPUT:
            for model in {l.model for l in parts if EXPENSIVE.search(l.model)}:
                acc = jobs.setdefault(model, [0, 0.0])
                acc[0] += 1
                acc[1] += sum(l.cost for l in parts if l.model == model)
    for l in lines:
        if (l.origin == "manual" and l.category == "ad-hoc" and EXPENSIVE.search(l.model)
                and l.output_tokens <= TEMPLATE_MAX_OUTPUT * l.calls):
            acc = jobs.setdefault(l.model, [0, 0.0])
            acc[0] += l.calls
            acc[1] += l.cost
    out = []
    for model, (count, cost) in sorted(jobs.items(), key=lambda kv: -kv[1][1]):
        if count >= MIN_JOBS and cost >= MIN_DOLLARS:
            out.append(Suggestion(
                "expensive-model-template-work",
                f"{model}: {count:,} short, template-like jobs (at most {TEMPLATE_MAX_CALLS} calls and "
                f"{TEMPLATE_MAX_OUTPUT:,} output tokens each) cost ${cost:,.2f} — a Sonnet/Haiku-class model "
                "would do them for a fraction", cost))
    return out


def _no_cache_reads(lines: list[Line]) -> list[Suggestion]:
    out = []
    # Agents' own usage only: caching is the agent's setting, a manual entry rarely reports it.
    auto = [l for l in lines if l.origin == "auto"]
    for (agent, model), t in group(auto, lambda l: (l.agent, l.model)).items():
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
                           f"research cost ${research:,.2f} this month, more than shipping "
                           f"(ship-flow ${shipping:,.2f}) — "
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
