"""token-roi value set|show|clear SESSION: the human-equivalent value of a session as the model
itself judged it (the 'model-estimate' source; every other session gets the heuristic)."""

from __future__ import annotations

import argparse

from ..config import get
from ..reports.query import Filters
from ..store import Store
from ..value import records, roi
from ..value.estimate import Estimate, parse_triple
from ..value.rates import QUALITY, RatesError, hourly_rate, load_table
from ..value.views import money_range, plain_range, roi_text
from .common import UserError, print_json
from .config_cmd import add_config_argument, load_or_fail
from .session_arg import resolve_session


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("action", choices=("set", "show", "clear"),
                   help="set: record the estimate; show: the session's value now; clear: back to the heuristic")
    p.add_argument("session", metavar="SESSION", help="session id (or a unique prefix of it)")
    p.add_argument("--agent", metavar="NAME", help="the session's agent, when two agents share the id")
    p.add_argument("--role", metavar="ROLE", help="closest professional role (see human-rates.yaml: "
                                                   "software-engineer, qa-engineer, ...)")
    p.add_argument("--hours", metavar="L,M,H", help="human hours low,mid,high (e.g. 1,2,4)")
    p.add_argument("--rate", metavar="L,M,H",
                   help="hourly rate low,mid,high in USD (default: the role's rate for benchmark.region/seniority)")
    p.add_argument("--quality", metavar="Q",
                   help="full-replacement (1.0), with-edits (0.7), draft-only (0.4) or failed (0.0)")
    add_config_argument(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _estimate(args: argparse.Namespace, cfg: dict) -> Estimate:

    missing = [f for f in ("role", "hours", "quality") if not getattr(args, f)]
    if missing:
        raise UserError(f"value set needs --{', --'.join(missing)} (e.g. --role software-engineer "
                        "--hours 1,2,4 --quality with-edits)")
    if args.quality not in QUALITY:
        raise UserError(f"--quality {args.quality!r}: expected one of {', '.join(QUALITY)}")
    try:
        table = load_table()
    except RatesError as exc:
        raise UserError(str(exc)) from None
    if args.role not in table["roles"]:
        raise UserError(f"--role {args.role!r}: unknown role (known: {', '.join(table['roles'])})")
    try:
        hours = parse_triple(args.hours, "--hours")
        if hours.high > 1000:
            raise ValueError(f"--hours {args.hours!r}: more than 1000 hours for one session")
        if args.rate:
            rate = parse_triple(args.rate, "--rate")
            if rate.high > 10_000:
                raise ValueError(f"--rate {args.rate!r}: more than $10,000 an hour")
        else:
            rate = hourly_rate(args.role, get(cfg, "benchmark.region", "us-west"),
                               get(cfg, "benchmark.seniority", "senior"), table)
    except (ValueError, RatesError) as exc:
        raise UserError(str(exc)) from None
    return Estimate("model-estimate", args.role, hours, rate, args.quality, "recorded with token-roi value set")


def run(args: argparse.Namespace) -> int:

    cfg = load_or_fail(getattr(args, "config", None))
    estimate = _estimate(args, cfg) if args.action == "set" else None
    store = Store()
    try:
        agent, session_id = resolve_session(store, args.session, args.agent)
        if estimate is not None:
            records.set_value(store, agent, session_id, estimate)
        elif args.action == "clear":
            records.clear_value(store, agent, session_id)
        # Only this session's agent and project: its category needs the project's git history.
        project = store.db.execute(
            "SELECT project FROM calls WHERE agent = ? AND session_id = ? AND project IS NOT NULL "
            "GROUP BY project ORDER BY COUNT(*) DESC LIMIT 1", (agent, session_id)).fetchone()
        report = roi.build(store, Filters(agents=(agent,), project=project[0] if project else None), cfg=cfg)
    finally:
        store.close()
    row = next(r for r in report.human_equivalent() if r["session"] == session_id)
    if args.json:
        print_json(row)
        return 0
    verb = {"set": "recorded", "clear": "cleared; back to the heuristic", "show": "value"}[args.action]
    print(f"token-roi: {agent} session {session_id}: {verb}\n"
          f"  via {row['via']}, {row['category']} ({row['category_by']}), role {row['role']}, "
          f"hours {plain_range(row['hours'])}, rate {plain_range(row['rate'], money=True)}/h, "
          f"quality {row['quality']} ({row['quality_factor']:g})\n"
          f"  value {money_range(row['value'])}, cost ${row['cost']:,.2f}, ROI {roi_text(row['roi'])}")
    return 0
