"""What the accounting commands (log, summary, budget, feature-cost, export, subscriptions, tag)
share: --config, bringing the ledger up to date, spend lines, colour."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .. import ingest, pricing
from ..accounting import ledger
from ..accounting.spend import spend_lines
from ..accounting.subscriptions import from_config
from ..config import get
from ..reports.query import Filters
from ..reports.table import fmt_money, terminal_width, use_color
from ..store import Store
from .common import UserError, parse_date, resolve_timezone
from .config_cmd import add_config_argument, load_or_fail

COLOURS = {"green": "\x1b[32m", "yellow": "\x1b[33m", "red": "\x1b[31m", "bold": "\x1b[1m", "dim": "\x1b[2m"}


def paint(text: str, colour: str, on: bool) -> str:
    return f"{COLOURS[colour]}{text}\x1b[0m" if on and colour in COLOURS else text


def wrap(text: str, indent: int, width: int | None = None, first: str = "") -> str:
    """`first` + text folded to the terminal width (100 by default), later lines indented."""
    return textwrap.fill(text, width=width or terminal_width(), initial_indent=first,
                         subsequent_indent=" " * indent, break_on_hyphens=False)


def print_suggestions(hints) -> None:
    if hints:
        print()
        print("Suggestions")
        for h in hints:
            print(wrap(h.text, 4, first="  - "))


def money(x: float | None) -> str:
    return fmt_money(x)


def add_common_arguments(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    add_config_argument(p)
    p.add_argument("-z", "--timezone", metavar="ZONE", help="IANA time zone for days and months (default: system)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="machine-readable output")


def add_as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", metavar="DATE",
                   help="judge the month as of this day (YYYY-MM-DD; default today)")


@dataclass
class Context:
    cfg: dict
    store: Store
    tz: dt.tzinfo
    today: dt.date
    ledger_file: Path


def open_context(args, *, refresh: bool = True, check_ledgers: bool = True) -> Context:
    """Settings, the store brought up to date (agent logs, ledger files, prices) and today's date.
    A malformed ledger line stops the command with its file and line number."""

    cfg = load_or_fail(getattr(args, "config", None))
    tz = resolve_timezone(getattr(args, "timezone", None))
    as_of = getattr(args, "as_of", None)
    today = parse_date(as_of, "--as-of") if as_of else dt.datetime.now(tz).date()
    here = ledger.ledger_path(cfg)
    store = Store()
    if refresh:
        update(store, here, show_progress=not getattr(args, "json", False))
    if check_ledgers:
        result = ledger.sync_all(store, [here] if here.exists() else [])
        if result.errors:
            more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
            raise UserError(result.errors[0] + more)
    return Context(cfg, store, tz, today, here)


def update(store, here: Path | None, *, show_progress: bool) -> None:
    """The ledger brought up to date: agent logs and ledger files (this project's by the
    settings given, too), then prices (ingest's last stage)."""
    try:
        stats = ingest.refresh(store, show_progress=show_progress and sys.stderr.isatty())
        if here is not None and here.exists():
            ledger.sync_file(store, here)
            ingest.ingest_sources(store, [])          # (pricing what that file brought)
    except pricing.PricingError as exc:     # a bad prices.yaml is the user's to fix: one line
        raise UserError(str(exc)) from None
    for w in stats.warnings:
        if w not in stats.errors:       # (malformed entries: open_context stops on them)
            print(f"token-roi: warning: {w}", file=sys.stderr)


def lines_for(ctx: Context, filters=None):
    if hasattr(ctx.store, "team_lines"):          # budget/subscriptions --team (cli/team_cmd.py)
        return ctx.store.team_lines(filters or Filters(), from_config(ctx.cfg))
    return spend_lines(ctx.store, filters=filters or Filters(), tz=ctx.tz,
                       branch_pattern=get(ctx.cfg, "feature.branch_pattern"),
                       subscriptions=from_config(ctx.cfg))


def use_colour() -> bool:
    return use_color()
