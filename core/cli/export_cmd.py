"""`token-roi export --format csv|json [--since --until]`: every call and every subscription fee
as flat rows, cost type kept apart (proportional / covered / fixed), for financial reporting."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from ..accounting import export
from ..accounting.subscriptions import from_config
from ..config import get
from ..reports.query import Filters
from .accounting import add_common_arguments, open_context
from .common import UserError, date_range


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("-f", "--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    p.add_argument("--since", metavar="DATE", help="first day included (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("--until", metavar="DATE", help="last day included (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("--project", metavar="TEXT", help="only projects whose path contains TEXT")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    add_common_arguments(p, json_flag=False)


def run(args) -> int:

    args.json = args.format == "json"
    ctx = open_context(args)
    since, until = date_range(args)
    subs = from_config(ctx.cfg)
    rows = list(export.call_rows(ctx.store, Filters(since=since, until=until, project=args.project or None),
                                 ctx.tz, get(ctx.cfg, "feature.branch_pattern"), subs))
    first = since or (dt.date.fromisoformat(rows[0]["date"]) if rows else None)
    last = until or max(ctx.today, dt.date.fromisoformat(rows[-1]["date"]) if rows else ctx.today)
    if first is not None:
        rows += export.fee_rows(subs, first, last)
    if args.format == "csv":
        text = export.to_csv(rows)
    else:
        text = json.dumps({"since": first.isoformat() if first else None, "until": last.isoformat(),
                           "totals": export.totals(rows), "rows": rows}, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as exc:
            raise UserError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
        print(f"wrote {len(rows):,} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
