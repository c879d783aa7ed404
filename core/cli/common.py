"""Pieces every command shares: user errors, date and timezone options, output helpers."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys

from .. import adapters, dates
from ..dates import system_timezone
from ..reports.query import Filters
from .usererror import UserError, fail

__all__ = ["UserError", "fail", "parse_date", "print_json", "resolve_timezone", "system_timezone"]


def parse_date(value: str, flag: str) -> dt.date:
    """YYYY-MM-DD or YYYYMMDD (a UserError naming the flag otherwise)."""
    try:
        return dates.parse_date(value, flag)
    except dates.DateError as exc:
        raise UserError(str(exc)) from None


def resolve_timezone(name: str | None) -> dt.tzinfo:
    """An IANA zone by name, or the system's zone when none is given."""
    try:
        return dates.resolve_timezone(name)
    except dates.DateError as exc:
        raise UserError(str(exc)) from None


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", metavar="DATE", help="first day included (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("--until", metavar="DATE", help="last day included (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("-z", "--timezone", metavar="ZONE", help="IANA time zone for days and weeks (default: system)")
    p.add_argument("--project", metavar="TEXT", help="only projects whose path contains TEXT")
    p.add_argument("--agent", metavar="NAME", action="append",
                   help="only this agent (claude, codex, ...); repeatable")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def print_json(obj: object) -> None:
    """`obj` as indented JSON on stdout, strict: a NaN or infinite number is written as null."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:       # (a NaN or an infinity somewhere: rare, so looked for only then)
        text = json.dumps(_finite(obj), indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(text)
    sys.stdout.write("\n")


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def parse_agents(values: list[str] | None) -> tuple[str, ...] | None:
    """--agent values (repeatable, or comma-separated) checked against the known agents."""
    names = [n.strip().lower() for v in values or [] for n in v.split(",") if n.strip()]
    for n in names:
        if n not in adapters.AGENT_NAMES:
            raise UserError(f"--agent {n!r}: unknown agent (valid: {', '.join(adapters.AGENT_NAMES)})")
    return tuple(dict.fromkeys(names)) or None


def date_range(args: argparse.Namespace) -> tuple[dt.date | None, dt.date | None]:
    """(--since, --until) as dates, None where not given; an error when since is after until."""
    since = parse_date(args.since, "--since") if getattr(args, "since", None) else None
    until = parse_date(args.until, "--until") if getattr(args, "until", None) else None
    if since and until and since > until:
        raise UserError(f"--since {since} is after --until {until}")
    return since, until


def filters_from_args(args: argparse.Namespace):
    """(reports.query.Filters, tzinfo) from the options add_filter_arguments added."""
    tz = resolve_timezone(getattr(args, "timezone", None))
    since, until = date_range(args)
    return Filters(since, until, getattr(args, "project", None) or None,
                   parse_agents(getattr(args, "agent", None))), tz
