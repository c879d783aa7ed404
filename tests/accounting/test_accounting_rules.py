"""Pure accounting rules: fixed-cost shares, break-even, suggestions — on hand-built lines."""

from __future__ import annotations

import datetime as dt

import pytest

from token_roi.accounting import suggestions
from token_roi.accounting.spend import Line
from token_roi.accounting.subscriptions import Subscription, break_even, fixed_cost, fixed_total

D = dt.date


def line(day, agent="claude", model="claude-sonnet-4-5", cost=1.0, calls=1, origin="auto", category="agent-session",
         input_tokens=0, output_tokens=0, cache_read=0, covered_by=None, unpriced=0, session=None):
    return Line(day, agent, model, origin, category, None, session, calls, input_tokens, output_tokens, cache_read, 0,
                cost, unpriced, covered_by)


def test_fixed_cost_bills_active_months_and_spreads_by_day():
    sub = Subscription("Max", "claude", 100.0, D(2026, 1, 15), D(2026, 3, 10))
    # January: active from the 15th, billed in full for the month
    assert fixed_cost(sub, D(2026, 1, 1), D(2026, 1, 31)) == pytest.approx(100)
    # a week inside February (28 days): 100 × 7 / 28 = 25
    assert fixed_cost(sub, D(2026, 2, 2), D(2026, 2, 8)) == pytest.approx(25)
    # Jan 25 .. Feb 3: 7/31 of January + 3/28 of February
    assert fixed_cost(sub, D(2026, 1, 25), D(2026, 2, 3)) == pytest.approx(100 * 7 / 31 + 100 * 3 / 28)
    # April: ended in March, nothing
    assert fixed_cost(sub, D(2026, 4, 1), D(2026, 4, 30)) == 0
    # the days of a month add up to the fee
    days = [fixed_cost(sub, D(2026, 2, d), D(2026, 2, d)) for d in range(1, 29)]
    assert sum(days) == pytest.approx(100)
    both = [sub, Subscription("Pro", "codex", 20.0, D(2025, 1, 1))]
    assert fixed_total(both, D(2026, 2, 1), D(2026, 2, 28)) == pytest.approx(120)


def test_break_even_projection_when_not_yet_reached():
    sub = Subscription("Max", "claude", 100.0, D(2026, 1, 1))
    daily = {D(2026, 4, d): 4.0 for d in range(1, 11)}          # $4 a day for 10 days = $40
    b = break_even(sub, daily, D(2026, 4, 10))
    assert b.value == pytest.approx(40) and b.percent == pytest.approx(40)
    assert b.projected_value == pytest.approx(4 * 30)           # 40 / 10 days × 30
    assert b.break_even_day is None
    assert b.projected_break_even_day == D(2026, 4, 25)         # 100 / 4 = 25 days
    assert b.hint == "keep"                                     # 120 / 100 = 1.2×


def test_break_even_plan_starting_mid_month():
    sub = Subscription("Pro", "claude", 20.0, D(2026, 4, 21))
    daily = {D(2026, 4, 20): 50.0, D(2026, 4, 21): 1.0, D(2026, 4, 22): 1.0}   # the 20th is before the plan
    b = break_even(sub, daily, D(2026, 4, 22))
    # active Apr 21..30 = 10 days; 2 days elapsed, $2 -> projected $10 = 0.5 × fee -> cancel
    assert (b.value, b.days_elapsed, b.projected_value, b.hint) == (2.0, 2, 10.0, "cancel")


def test_expensive_model_on_template_like_sessions():
    day = D(2026, 5, 3)
    rules = lambda ls: [h for h in suggestions.suggest(ls, {"ai": {}}, [], D(2026, 5, 20))  # noqa: E731
                        if h.rule == "expensive-model-template-work"]
    # 4 short Opus sessions (2 calls, 600 output tokens each) worth $0.40 each = $1.60
    short = [line(day, model="claude-opus-4-5", cost=0.4, calls=2, output_tokens=600, cache_read=1, session=f"s{i}")
             for i in range(4)]
    hints = rules(short)
    assert len(hints) == 1 and hints[0].amount == pytest.approx(1.6)
    assert hints[0].text.startswith("claude-opus-4-5: 4 short, template-like jobs")
    # a long agent session of many small-output calls is real work, not template work
    agentic = [line(day, model="claude-opus-4-5", cost=30.0, calls=400, output_tokens=400 * 450, cache_read=1,
                    session="long")]
    assert rules(agentic) == []
    # the same jobs on Sonnet, or too few of them, or too little money: no hint
    assert rules([line(day, cost=0.4, calls=2, output_tokens=600, cache_read=1, session=f"s{i}")
                  for i in range(4)]) == []
    assert rules(short[:2]) == []
    assert rules([line(day, model="claude-opus-4-5", cost=0.1, calls=2, output_tokens=600, cache_read=1,
                       session=f"s{i}") for i in range(4)]) == []
    # ad-hoc manual entries on an expensive model count as jobs too
    manual = [line(day, model="o1-pro", cost=2.0, origin="manual", category="ad-hoc", output_tokens=800, cache_read=1)
              for _ in range(3)]
    assert rules(manual)[0].amount == pytest.approx(6.0)


def test_suggestion_rules_thresholds():
    day = D(2026, 5, 3)
    no_cache = line(day, agent="codex", model="gpt-5", cost=3.0, calls=25, input_tokens=2_000_000)
    few_calls = line(day, agent="codex", model="gpt-5-mini", cost=3.0, calls=5, input_tokens=2_000_000)
    rules = lambda ls: [h.rule for h in suggestions.suggest(ls, {"ai": {}}, [], D(2026, 5, 20))]  # noqa: E731
    assert rules([no_cache]) == ["no-cache-reads"]
    assert rules([few_calls]) == []
    research = line(day, category="research", cost=5.0, origin="manual", cache_read=1)
    shipping = line(day, category="ship-flow", cost=4.0, origin="manual", cache_read=1)
    assert rules([research, shipping]) == ["research-over-shipping"]
    assert rules([research, line(day, category="ship-flow", cost=6.0, cache_read=1)]) == []


def test_budget_consistently_under_half():
    cfg = {"ai": {"cost_budget_monthly": 200}}
    lines = [line(D(2026, m, 10), cost=c, cache_read=1) for m, c in ((2, 60.0), (3, 80.0), (4, 90.0))]
    hints = suggestions.suggest(lines, cfg, [], D(2026, 5, 12))
    assert [h.rule for h in hints] == ["budget-under-half"]
    # Feb 60, Mar 80, Apr 90 are all < 100; the peak 90 × 1.25 = 112.5 -> "near $112"
    assert "at most $90.00 of the $200.00 budget" in hints[0].text and "near $112" in hints[0].text
    # with a $20 subscription, April is 110 >= 100: not consistently under half
    subs = [Subscription("Pro", "claude", 20.0, D(2026, 4, 1))]
    assert suggestions.suggest(lines, cfg, subs, D(2026, 5, 12)) == []
    # one month of history is not "consistently"
    assert suggestions.suggest(lines[-1:], cfg, [], D(2026, 5, 12)) == []
