"""`token-roi feature-cost ID`: a feature's total and entry count, by agent, by category
(phase), and its timeline."""

from __future__ import annotations

import argparse

from ..accounting.feature_cost import feature_cost, features_seen
from ..accounting.spend import cost_text, plural
from ..reports.query import Filters
from ..reports.table import Column, int_column, money_column, render, terminal_width
from .accounting import add_common_arguments, lines_for, money, open_context, paint, use_colour
from .common import date_range, print_json


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("feature", metavar="ID", help="feature or ticket id, e.g. PRD-12 (case-insensitive)")
    p.add_argument("--since", metavar="DATE", help="first day included (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="last day included (YYYY-MM-DD)")
    add_common_arguments(p)


def run(args) -> int:

    ctx = open_context(args)
    since, until = date_range(args)
    lines = lines_for(ctx, Filters(since=since, until=until))
    fc = feature_cost(lines, args.feature.strip())
    if args.json:
        print_json(fc.as_json())
        return 0
    t = fc.totals
    colour, width = use_colour(), terminal_width()
    if not t.calls or t.first_day is None or t.last_day is None:
        known = features_seen(lines)
        print(f"No usage booked to feature {args.feature}." +
              (f" Features seen: {', '.join(known[:12])}{' …' if len(known) > 12 else ''}." if known else
               " Book work to a feature with `token-roi log --feature`, `token-roi tag`, TOKEN_ROI_FEATURE"
               " or feature.branch_pattern."))
        return 0
    print(paint(f"Feature {fc.feature}", "bold", colour) +
          f" — {t.first_day.isoformat()} to {t.last_day.isoformat()}")
    print(f"  Per-call spend {cost_text(t.proportional, t)} over {plural(t.calls, 'call')} "
          f"({plural(t.entries, 'manual entry')}), {t.tokens:,} tokens".replace("entrys", "entries"))
    if t.covered_value:
        print(f"  Covered by subscriptions: {money(t.covered_value)} menu-price value (not spend); "
              f"total value {money(t.value)}")
    if t.unpriced_calls:
        print(f"  * {plural(t.unpriced_calls, 'call')} without a price ({', '.join(t.unpriced_models)}): "
              "tokens counted, cost unknown")
    for title, d in (("Agent", fc.by_agent), ("Category", fc.by_category), ("Date", fc.timeline)):
        cols = [Column(title, "left", min_width=10), int_column("Calls"), int_column("Manual", drop=2),
                int_column("Tokens", drop=1), Column("Per-call spend"), money_column("Covered value", drop=3)]
        rows = [[str(k), g.calls, g.entries, g.tokens, cost_text(g.proportional, g), g.covered_value]
                for k, g in d.items()]
        print()
        print(render(cols, rows, totals=["Total", t.calls, t.entries, t.tokens, cost_text(t.proportional, t),
                                         t.covered_value] if title == "Date" else None, width=width, color=colour))
    return 0
