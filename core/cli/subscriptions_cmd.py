"""`token-roi subscriptions`: for each flat-fee plan, the menu-price value of the usage it covered
this month against its fee, the break-even point, how close the month is to it, and a
keep / cancel / upgrade hint. Fixed cost decides keep/cancel; per-call spend is shown apart."""

from __future__ import annotations

import argparse

from ..accounting.spend import group, judge, plural, total
from ..accounting.subscriptions import fixed_total, from_config, month_bounds
from ..config import config_path
from ..reports.query import Filters
from ..reports.table import Column, money_column, render, terminal_width
from .accounting import add_as_of, add_common_arguments, lines_for, money, open_context, paint, use_colour, wrap
from .common import print_json

HINT_COLOUR = {"keep": "green", "cancel": "red", "upgrade": "yellow"}


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    add_common_arguments(p)
    add_as_of(p)
    p.add_argument("--team", action="store_true", help="over the team server: every member's usage and plans")


def run(args) -> int:

    if getattr(args, "team", False):
        from .team_cmd import open_team_context
        ctx = open_team_context(args)
    else:
        ctx = open_context(args)
    subs = from_config(ctx.cfg)
    m_first, m_last = month_bounds(ctx.today)
    lines = lines_for(ctx, Filters(since=m_first, until=ctx.today))
    judged = judge(lines, subs, ctx.today)
    t = total(lines)
    fixed = fixed_total(subs, m_first, m_last)
    uncovered = {a: g for a, g in group((l for l in lines if not l.covered_by), lambda l: l.agent).items()}
    month = f"{ctx.today.year:04d}-{ctx.today.month:02d}"
    if args.json:
        print_json({"month": month, "asOf": ctx.today.isoformat(), "fixedCost": round(fixed, 6),
                    "proportionalCost": round(t.proportional, 6), "coveredValue": round(t.covered_value, 6),
                    "subscriptions": [b.as_json() for b in judged],
                    "payPerUseByAgent": [{"agent": a, "proportionalCost": round(g.proportional, 6),
                                          "calls": g.calls} for a, g in uncovered.items()]})
        return 0
    colour, width = use_colour(), terminal_width()
    print(paint(f"Subscriptions {month}", "bold", colour) + f" (as of {ctx.today.isoformat()})")
    print(wrap(f"Fixed {money(fixed)} in fees · per-call spend outside plans {money(t.proportional)} · "
               f"usage the plans covered worth {money(t.covered_value)} at menu prices", 4, first="  "))
    if not subs:
        file, _ = config_path(getattr(args, "config", None))
        print(f"\nNo subscriptions configured. Add them to {file}:\n"
              "  subscriptions:\n    - {plan: Claude Max 5x, agent: claude, monthly_fee: 100, start: 2026-01-01}")
    elif not judged:
        print("\nNo subscription is active this month.")
    else:
        cols = [Column("Plan", "left", shrink=True, min_width=10), Column("Agent", "left"), money_column("Fee"),
                Column("Covered value"), Column("Break-even", "right", lambda v, c: f"{v:.0f}%"),
                money_column("Projected", drop=1), Column("Break-even day", "left", drop=2), Column("Hint", "left")]
        rows = []
        for b in judged:
            value = money(b.value) + ("*" if b.unpriced_calls else "")
            day = (b.break_even_day.isoformat() if b.break_even_day else
                   f"~{b.projected_break_even_day.isoformat()}" if b.projected_break_even_day else "not this month")
            rows.append([b.plan, b.agent, b.fee, value, b.percent or 0.0, b.projected_value, day,
                         paint(b.hint, HINT_COLOUR[b.hint], colour)])
        print()
        print(render(cols, rows, width=width, color=False))
        print()
        for b in judged:
            text = wrap(f"{b.plan}: {b.hint} — {b.reason}", 4, first="  ")
            print(text.replace(f"{b.plan}: {b.hint}", f"{b.plan}: {paint(b.hint, HINT_COLOUR[b.hint], colour)}", 1))
            if b.unpriced_calls:
                print(f"    * {b.unpriced_calls:,} covered calls without a price: the value is a lower bound")
    if uncovered:
        print("\nPay-per-use (not covered by a plan), this month:")
        for a, g in uncovered.items():
            print(f"  {a:<12} {money(g.proportional):>12}  {plural(g.calls, 'call')}")
    return 0
