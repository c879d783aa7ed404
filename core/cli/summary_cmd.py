"""`token-roi summary --period daily|weekly|monthly`: spend by category, model, agent and
feature with the budget's health, and a regenerated summary.md next to the ledger file."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from ..accounting import budget as budget_mod
from ..accounting import suggestions, summary
from ..accounting.spend import cost_text
from ..accounting.subscriptions import from_config, month_bounds
from ..reports.query import Filters
from ..reports.table import Column, int_column, money_column, render, terminal_width
from .accounting import add_common_arguments, lines_for, money, open_context, paint, print_suggestions, use_colour, wrap
from .common import parse_date, print_json


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("-p", "--period", choices=("daily", "weekly", "monthly"), default="monthly",
                   help="the day, ISO week or month to summarise (default monthly)")
    p.add_argument("--date", metavar="DATE", help="a day inside the period (default today)")
    p.add_argument("--project", metavar="TEXT", help="only projects whose path contains TEXT")
    p.add_argument("--no-write", action="store_true", help="do not regenerate summary.md")
    add_common_arguments(p)


def run(args) -> int:

    args.as_of = None
    ctx = open_context(args)
    day = parse_date(args.date, "--date") if args.date else ctx.today
    first, last = summary.window(args.period, day)
    as_of = min(last, ctx.today) if first <= ctx.today else last
    m_first, _ = month_bounds(as_of)
    since = min(first, (m_first - dt.timedelta(days=92)).replace(day=1))
    subs = from_config(ctx.cfg)
    lines = lines_for(ctx, Filters(since=since, until=max(last, as_of), project=args.project or None))
    b = budget_mod.evaluate(lines, ctx.cfg, subs, as_of)
    hints = suggestions.suggest(lines, ctx.cfg, subs, as_of)
    s = summary.summarise(lines, args.period, first, last, subs, b, hints)

    written = None
    if not args.no_write and ctx.ledger_file.parent.is_dir():
        written = ctx.ledger_file.parent / "summary.md"
        command = f"token-roi summary --period {args.period}" + (f" --project {args.project}" if args.project else "")
        text = summary.markdown(s, dt.datetime.now(ctx.tz), command)
        tmp = written.with_name(f".summary.md.{os.getpid()}")
        try:
            tmp.write_text(text + "\n", encoding="utf-8")
            os.replace(tmp, written)
        except OSError as exc:
            print(f"token-roi: warning: {written}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            written = None

    if args.json:
        print_json({**s.as_json(), "summaryFile": str(written) if written else None})
        return 0
    colour, width = use_colour(), terminal_width()
    t = s.totals
    print(paint(f"AI cost summary — {summary.label(s.period, s.first)}", "bold", colour)
          + f" ({s.first.isoformat()} to {s.last.isoformat()})")
    if not t.calls:
        print("  No usage in this period.")
    print(f"  Spend {money(s.spend)} = proportional {money(t.proportional)}"
          f" (manual entries {money(s.manual)}) + fixed {money(s.fixed)}")
    if t.covered_value:
        print(f"  Covered by subscriptions: {money(t.covered_value)} menu-price value (not spend)")
    if t.unpriced_calls:
        print(f"  * {t.unpriced_calls:,} call{'s' if t.unpriced_calls != 1 else ''} without a price "
              f"({', '.join(t.unpriced_models)}): tokens counted, cost unknown")
    if b.budget:
        print("  Budget health: " + paint(f"{b.colour} ({b.status})", b.colour, colour)
              + f" — {money(b.spent)} / {money(b.budget)} ({b.percent:.1f}%) in {b.month},"
              f" projected {money(b.projected)}: {b.recommendation}")
    else:
        print(wrap(f"Budget health: no budget set — {b.advice}", 4, first="  "))
    for title, d in (("Category", s.by_category), ("Model", s.by_model), ("Agent", s.by_agent),
                     ("Feature", s.by_feature)):
        if not d:
            continue
        cols = [Column(title, "left", shrink=True, min_width=10), int_column("Calls"),
                int_column("Manual", drop=2), int_column("Tokens", drop=1),
                Column("Per-call spend"), money_column("Covered value", drop=3),
                Column("Share", "right", lambda v, c: f"{v:.1f}%")]
        rows = [[str(k), g.calls, g.entries, g.tokens, cost_text(g.proportional, g), g.covered_value,
                 g.value / t.value * 100 if t.value else 0.0] for k, g in d.items()]
        print()
        print(render(cols, rows, width=width, color=colour))
    print_suggestions(hints)
    if written:
        print(f"\nwrote {written}")
    return 0
