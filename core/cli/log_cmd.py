"""`token-roi log`: append a manual entry to the project's git-tracked ledger file and show its
effect on the month's budget."""

from __future__ import annotations

import argparse
import datetime as dt

from ..accounting import budget as budget_mod
from ..accounting import entries, features
from ..accounting.subscriptions import from_config
from ..config import get
from ..pricing.apply import price_usage
from ..reports.query import Filters
from ..rows import MAX_TOKENS
from .accounting import add_common_arguments, lines_for, money, open_context, update
from .common import UserError, print_json

MAX_COST = 1_000_000_000    # USD an entry (the ledger entry schema's maximum)
# The earliest and latest --at: a time whose day and month every zone can name.
FIRST_YEAR, LAST_YEAR = 1970, 9998


def _count(flag: str):
    def parse(value: str) -> int:
        try:
            n = int(value.replace(",", "").replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if n < 0:
            raise argparse.ArgumentTypeError(f"{value!r}: expected 0 or more")
        return n
    parse.__name__ = flag
    return parse


def _usd(value: str) -> float:
    try:
        x = float(value.lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an amount in USD") from None
    if x < 0 or x != x or x == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r}: expected an amount of 0 or more")
    return x


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--model", required=True, metavar="M", help="model name, e.g. claude-sonnet-4-5")
    p.add_argument("--input-tokens", required=True, type=_count("input"), metavar="N", help="uncached input tokens")
    p.add_argument("--output-tokens", required=True, type=_count("output"), metavar="N")
    p.add_argument("--cache-read", type=_count("cache-read"), default=0, metavar="N", help="cache-read tokens")
    p.add_argument("--cache-write", type=_count("cache-write"), default=0, metavar="N",
                   help="cache-write tokens (5-minute)")
    p.add_argument("--cost", type=_usd, metavar="USD", help="what it cost (default: from the price table)")
    p.add_argument("--agent", required=True, metavar="A", help="claude, codex, cursor, chatgpt, ...")
    p.add_argument("--category", required=True, metavar="C",
                   help="ship-flow, agent-session, research, ad-hoc (more in config `categories`)")
    p.add_argument("--feature", metavar="ID", help="feature/ticket (default: $TOKEN_ROI_FEATURE, else the branch)")
    p.add_argument("--session", metavar="S", help="session id, to group entries")
    p.add_argument("--notes", metavar="TEXT", help="a short note (stored in the ledger file)")
    p.add_argument("--at", metavar="WHEN", help="when it happened: YYYY-MM-DD or ISO time (default now)")
    add_common_arguments(p)


def _when(value: str | None, tz: dt.tzinfo) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.timezone.utc)
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--at {value!r}: expected YYYY-MM-DD or an ISO time such as 2026-11-22T14:05") from None
    if when.tzinfo is None:
        when = when.replace(hour=when.hour or 12) if len(value) <= 10 else when   # a bare date: its noon
        when = when.replace(tzinfo=tz)
    if not FIRST_YEAR <= when.year <= LAST_YEAR or not FIRST_YEAR < when.astimezone(dt.timezone.utc).year < 9999:
        raise UserError(f"--at {value!r}: out of range (years {FIRST_YEAR} to {LAST_YEAR})")
    return when


def run(args) -> int:

    ctx = open_context(args, refresh=False, check_ledgers=False)
    cfg = ctx.cfg
    if not get(cfg, "ai.cost_tracking_enabled", True):
        print("cost tracking is off (ai.cost_tracking_enabled: false): nothing logged")
        return 0
    category = args.category.strip().lower()
    if category not in cfg["categories"]:
        raise UserError(f"--category {args.category!r}: expected one of {', '.join(cfg['categories'])} "
                        "(add more under `categories` in the config)")
    for flag, n in (("--input-tokens", args.input_tokens), ("--output-tokens", args.output_tokens),
                    ("--cache-read", args.cache_read), ("--cache-write", args.cache_write)):
        if n > MAX_TOKENS:
            raise UserError(f"{flag} {n}: out of range (at most {MAX_TOKENS:,} tokens an entry)")
    if args.cost is not None and args.cost > MAX_COST:
        raise UserError(f"--cost {args.cost:g}: out of range (at most ${MAX_COST:,.0f} an entry)")
    when = _when(args.at, ctx.tz)
    feature = features.feature_for_new_entry(args.feature, get(cfg, "feature.branch_pattern"))
    tokens = dict(input_tokens=args.input_tokens, output_tokens=args.output_tokens,
                  cache_read_tokens=args.cache_read, cache_write_tokens=args.cache_write)
    if args.cost is not None:
        cost, source = args.cost, "given"
    else:
        cost, source = _price(args.model, tokens, when)
    try:
        entry = entries.make_entry(agent=args.agent.strip(), model=args.model.strip(), category=category,
                                   cost_usd=cost, cost_source=source, feature=feature, session=args.session,
                                   notes=args.notes, when=when, **tokens)
    except entries.LedgerError as exc:
        raise UserError(str(exc)) from None
    try:
        entries.append_entry(ctx.ledger_file, entry)
    except OSError as exc:
        raise UserError(f"{ctx.ledger_file}: cannot write: {exc.strerror or exc}") from None

    update(ctx.store, ctx.ledger_file, show_progress=not args.json)
    day = when.astimezone(ctx.tz).date()
    month = lines_for(ctx, Filters(since=day.replace(day=1), until=day))
    b = budget_mod.evaluate(month, cfg, from_config(cfg), day)
    if args.json:
        print_json({"entry": entry, "ledgerFile": str(ctx.ledger_file), "budget": b.as_json()})
        return 0
    cost_text = money(cost) if cost is not None else f"unpriced (no price for {args.model}; pass --cost)"
    if b.budget:
        impact = f"Budget: {money(b.spent)} / {money(b.budget)} ({b.percent:.1f}%)"
    else:
        impact = f"Month to date: {money(b.spent)} (no budget set" + (
            f"; suggested for {b.stage}: {b.suggested}" if b.suggested else "") + ")"
    print(f"Entry logged: {cost_text} · {impact}")
    if b.status in ("alert", "over"):
        print(f"  {b.recommendation}: {b.advice}")
    return 0


def _price(model: str, tokens: dict, when: dt.datetime) -> tuple[float | None, str]:
    cost, _source = price_usage(model, input_tokens=tokens["input_tokens"], output_tokens=tokens["output_tokens"],
                                cache_read_tokens=tokens["cache_read_tokens"],
                                cache_write_5m_tokens=tokens["cache_write_tokens"],
                                ts_ms=int(when.timestamp() * 1000))
    return (cost, "price-table") if cost is not None else (None, "unpriced")
