"""token-roi outcome: record what a session achieved that test output cannot show (counts only)."""

from __future__ import annotations

import argparse

from ..guard import hook, outcomes
from ..guard import state as st
from .common import UserError, print_json


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0 or n > 1_000_000:
        raise argparse.ArgumentTypeError(f"{value}: expected 0 to 1000000")
    return n


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--bugs-fixed", type=_count, default=0, metavar="N", help="bugs fixed in this session")
    p.add_argument("--tests-passed", type=_count, default=0, metavar="N",
                   help="tests passed, beyond those seen in test output")
    p.add_argument("--session", metavar="ID",
                   help="session id (default: Claude Code's current session, else the most recent one)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:

    if not args.bugs_fixed and not args.tests_passed:
        raise UserError("nothing to record: give --bugs-fixed N and/or --tests-passed N")
    session_id, _ = st.find_session(args.session)
    if not session_id:
        raise UserError("no session to record the outcome in: no guard state found; pass --session ID")
    try:
        with st.session(session_id, hook.log) as state:
            outcomes.record_manual(state, tests_passed=args.tests_passed, bugs_fixed=args.bugs_fixed)
            totals = {k: state["outcomes"][k] for k in ("tests_passed", "bugs_fixed", "test_runs")}
    except OSError as exc:
        raise UserError(f"{st.session_path(session_id)}: cannot write the session state: "
                        f"{exc.strerror or exc}", 1) from None
    if args.json:
        print_json({"session_id": session_id, "recorded": {"bugs_fixed": args.bugs_fixed,
                    "tests_passed": args.tests_passed}, "outcomes": totals})
    else:
        print(f"token-roi: recorded for session {session_id}: {args.bugs_fixed} bugs fixed, "
              f"{args.tests_passed} tests passed (session now {totals['bugs_fixed']} fixed, "
              f"{totals['tests_passed']} tests passed).")
    return 0
