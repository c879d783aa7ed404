"""`token-roi limits`: the official 5-hour and 7-day plan windows, their pace, what used them,
and the history of the figures (core/limits/report.py)."""

from __future__ import annotations

import argparse
import sys

from ..limits import report as limits_report
from ..limits import today as limits_today
from ..reports.table import terminal_width, use_color
from ..store import Store
from .common import UserError, print_json


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--json", action="store_true",
                   help='{"windows": [...], "attribution": [...], "history": [...]}, latest first')
    p.add_argument("--history", action="store_true", help="list every change of the figures (text output)")
    p.add_argument("--days", type=int, default=limits_report.HISTORY_DAYS, metavar="N",
                   help=f"history to include, in days (default {limits_report.HISTORY_DAYS})")
    p.add_argument("--no-ingest", action="store_true", help="report on the ledger as it is (no ingest first)")
    p.add_argument("--background", action="store_true", help=argparse.SUPPRESS)   # the status line's refresh


def run(args: argparse.Namespace) -> int:
    if args.background:
        from ..limits import background
        return background.main()
    if args.days <= 0:
        raise UserError(f"--days {args.days}: expected a positive number of days")
    store = Store()
    try:
        if not args.no_ingest:
            from ..ingest import refresh
            stats = refresh(store)                 # also drains the status line's figures
            for w in stats.warnings:
                print(f"token-roi: warning: {w}", file=sys.stderr)
            limits_today.write_today(store)
            from ..limits import alerts
            alerts.check(store)
        found = limits_report.collect(store, history_days=args.days)
    finally:
        store.close()
    if args.json:
        print_json(found.to_json())
    else:
        print(limits_report.text(found, width=terminal_width(), colour=use_color(), history=args.history))
    return 0
