"""Pieces every command shares: user errors, date and timezone options, output helpers."""

from __future__ import annotations

import argparse
import json
import datetime as dt
import sys


class UserError(Exception):
    """A problem with what the user asked for: one line to stderr, non-zero exit."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def fail(message: str, code: int) -> int:
    print(f"token-roi: {message}", file=sys.stderr)
    return code


def log_exception(exc: BaseException) -> str:
    from ..paths import log_path
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now().isoformat()} cli\n")
            import traceback    # (only here: it costs every command ~3 ms of imports)
            f.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        return "(log unavailable)"
    return str(path)


def parse_date(value: str, flag: str) -> dt.date:
    """YYYY-MM-DD or YYYYMMDD."""
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise UserError(f"{flag} {value!r}: expected a date as YYYY-MM-DD or YYYYMMDD")


# UTC has one offset and no rules: no zone database needed (zoneinfo's import, which asks
# sysconfig for TZPATH, costs a report ~3 ms).
_UTC_NAMES = ("UTC", "Etc/UTC")


def system_timezone() -> dt.tzinfo:
    """The machine's zone with its DST rules ($TZ, else /etc/localtime), not just today's offset:
    a fixed offset would put summer days of a winter-run report an hour off."""
    import os
    name = os.environ.get("TZ", "").lstrip(":")
    if name in _UTC_NAMES:
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def resolve_timezone(name: str | None) -> dt.tzinfo:
    """An IANA zone by name, or the system's zone when none is given."""
    if not name:
        return system_timezone()
    if name in _UTC_NAMES:
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"--timezone {name!r}: not a known IANA time zone (e.g. Europe/Berlin, UTC)") from None


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", metavar="DATE", help="first day included (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("--until", metavar="DATE", help="last day included (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("-z", "--timezone", metavar="ZONE", help="IANA time zone for days and weeks (default: system)")
    p.add_argument("--project", metavar="TEXT", help="only projects whose path contains TEXT")
    p.add_argument("--agent", metavar="NAME", action="append",
                   help="only this agent (claude, codex, ...); repeatable")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False))
    sys.stdout.write("\n")


def parse_agents(values: list[str] | None) -> tuple[str, ...] | None:
    """--agent values (repeatable, or comma-separated) checked against the known agents."""
    from ..adapters import AGENT_NAMES
    names = [n.strip().lower() for v in values or [] for n in v.split(",") if n.strip()]
    for n in names:
        if n not in AGENT_NAMES:
            raise UserError(f"--agent {n!r}: unknown agent (valid: {', '.join(AGENT_NAMES)})")
    return tuple(dict.fromkeys(names)) or None


def resolve_session(store, session: str, agent: str | None) -> tuple[str, str]:
    """(agent, session id) of the SESSION argument (an id or a unique prefix) and its --agent
    value, reading new agent logs when the session is not in the ledger yet."""
    from ..value import records
    try:
        return records.resolve_or_ingest(store, session, parse_agents([agent])[0] if agent else None)
    except records.RecordError as exc:
        raise UserError(str(exc)) from None


def date_range(args: argparse.Namespace) -> tuple[dt.date | None, dt.date | None]:
    """(--since, --until) as dates, None where not given; an error when since is after until."""
    since = parse_date(args.since, "--since") if getattr(args, "since", None) else None
    until = parse_date(args.until, "--until") if getattr(args, "until", None) else None
    if since and until and since > until:
        raise UserError(f"--since {since} is after --until {until}")
    return since, until


def filters_from_args(args: argparse.Namespace):
    """(reports.query.Filters, tzinfo) from the options add_filter_arguments added."""
    from ..reports.query import Filters
    tz = resolve_timezone(getattr(args, "timezone", None))
    since, until = date_range(args)
    return Filters(since, until, getattr(args, "project", None) or None,
                   parse_agents(getattr(args, "agent", None))), tz
