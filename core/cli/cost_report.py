"""token-roi cost-report: one Claude Code session's tokens, cost, loops, fast tier and ROI score,
plus today's and this month's spend from the ledger (what /cost-report and the skill run)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from ..guard import hook, ledger, settings
from ..guard import state as st
from ..ingest import refresh
from ..reports import query
from ..store import Store
from ..value import cost_report as rp
from .common import print_json, resolve_timezone


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--session", metavar="ID",
                   help="session id (default: Claude Code's current session, else the most recent one)")
    p.add_argument("-z", "--timezone", metavar="ZONE", help="IANA time zone for times and days (default: system)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _catch_up(session_id: str) -> dict | None:
    """Bring a live session's state up to date with its transcript (the last turn's usage is
    written after the last hook ran)."""
    existing = st.peek(session_id)
    if not existing or not existing.get("transcript_path"):
        return existing
    try:
        with st.session(session_id, hook.log) as state:
            hook._catch_up(state, {"transcript_path": existing["transcript_path"]})
            return state
    except Exception as exc:  # noqa: BLE001 - a stale view beats no report
        hook.log(f"[cost-report] catch-up failed: {type(exc).__name__}: {exc}")
        return existing


def _ledger_figures(session_id: str | None, want_session: bool, tz: dt.tzinfo):
    """(today's and this month's spend, the session's ledger group, its saved outcomes)."""

    store = Store()
    try:
        try:
            refresh(store, show_progress=False)
        except Exception as exc:  # noqa: BLE001 - report what the ledger already holds
            print(f"token-roi: warning: ledger refresh failed: {exc}", file=sys.stderr)
        today = dt.datetime.now(tz).date()
        day = query.totals(query.usage_by_period(store, "daily", query.Filters(since=today, until=today), tz))
        month = query.totals(query.usage_by_period(
            store, "daily", query.Filters(since=today.replace(day=1), until=today), tz))
        spend = {"today_usd": round(day.cost, 6), "month_usd": round(month.cost, 6),
                 "today_unpriced_calls": day.unpriced_calls, "month_unpriced_calls": month.unpriced_calls,
                 "today_calls": day.calls, "month_calls": month.calls}
        group = outcomes = None
        if want_session and session_id:
            for g in query.usage_by_session(store):
                if g.session_id == session_id and g.agent == "claude":
                    group = g
            outcomes = ledger.load_outcomes(store, session_id)
        return spend, group, outcomes
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:

    tz = resolve_timezone(args.timezone)
    session_id, state = st.find_session(args.session)
    if state is not None and session_id is not None:
        state = _catch_up(session_id) or state
    try:
        spend, group, outcomes = _ledger_figures(session_id, state is None, tz)
    except Exception as exc:  # noqa: BLE001 - the session part still stands on its own
        print(f"token-roi: warning: ledger unavailable: {exc}", file=sys.stderr)
        spend, group, outcomes = None, None, None
    if state is not None:
        report = rp.from_state(state)
    elif group is not None and session_id is not None:
        report = rp.from_ledger(session_id, group, outcomes)
    else:
        message = (f"no data for session {session_id} yet" if session_id else "no session data yet")
        message += ": the token-roi hooks record it while Claude Code runs"
        if args.json:
            print_json({"session_id": session_id, "message": message, "spend": spend})
        else:
            print(f"token-roi: {message}.")
        return 0
    limits = settings.resolve(settings.from_config_file())
    report = rp.complete(report, limits, spend)
    if args.json:
        print_json(report)
    else:
        print(rp.render(report, tz))
    return 0
