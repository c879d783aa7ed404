"""`token-roi budget`: month to date against the budget, the projection, a recommendation.
Exit codes for scripts: 0 healthy, 10 past the alert threshold, 11 over budget."""

from __future__ import annotations

import argparse
import datetime as dt

from ..accounting import budget as budget_mod
from ..accounting import suggestions
from ..accounting.subscriptions import from_config
from ..config import get
from ..reports.query import Filters
from .accounting import (
    add_as_of,
    add_common_arguments,
    lines_for,
    money,
    open_context,
    paint,
    print_suggestions,
    use_colour,
    wrap,
)
from .common import print_json


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
    if not get(ctx.cfg, "ai.cost_tracking_enabled", True):
        if args.json:
            print_json({"trackingEnabled": False})
        else:
            print("cost tracking is off (ai.cost_tracking_enabled: false)")
        return 0
    subs = from_config(ctx.cfg)
    # The month, plus three months before it for the "budget consistently under 50%" check.
    first = (ctx.today.replace(day=1) - dt.timedelta(days=92)).replace(day=1)
    lines = lines_for(ctx, Filters(since=first, until=ctx.today))
    b = budget_mod.evaluate(lines, ctx.cfg, subs, ctx.today)
    hints = suggestions.suggest(lines, ctx.cfg, subs, ctx.today)
    if args.json:
        print_json({**b.as_json(), "suggestions": [h.as_json() for h in hints]})
        return b.exit_code
    print(render(b, use_colour()))
    print_suggestions(hints)
    return b.exit_code


def render(b, colour: bool) -> str:
    out = [paint(f"Budget {b.month}", "bold", colour) +
           f" (as of {b.as_of.isoformat()}, day {b.days_elapsed} of {b.days_in_month})"]
    label = lambda s: f"  {s:<18}"  # noqa: E731
    if b.budget:
        used = f"{money(b.spent)} / {money(b.budget)} ({b.percent:.1f}%)"
        out.append(label("Spent") + paint(used, b.colour, colour))
    else:
        out.append(label("Spent") + money(b.spent) + "  (no budget set)")
    out.append(label("  proportional") + f"{money(b.proportional)}  per-call spend"
               + (f", of which manual entries {money(b.manual)}" if b.manual else ""))
    out.append(label("  fixed") + f"{money(b.fixed)}  subscription fees this month")
    if b.covered_value:
        out.append(label("Covered by plans") + f"{money(b.covered_value)}  menu-price value of usage the "
                   "subscriptions paid for (not spend)")
    out.append(label("Daily average") + f"{money(b.daily_average)}  per-call spend")
    projected = f"{money(b.projected)} by month end"
    if b.budget:
        projected += f" ({b.projected_percent:.1f}%)"
    out.append(label("Projected") + projected)
    status = {"healthy": "healthy", "alert": f"past the {b.threshold_percent:g}% alert threshold",
              "over": "over budget", "unset": "no budget"}[b.status]
    out.append(label("Status") + paint(status, b.colour, colour))
    # Fold the long lines on the plain text, then colour the first words.
    advice = wrap(f"{b.recommendation}: {b.advice}", 20, first=label("Recommendation"))
    out.append(advice.replace(b.recommendation, paint(b.recommendation, "bold", colour), 1))
    for note in b.notes:
        out.append(wrap(note, 20, first=label("Note")))
    return "\n".join(out)
