"""token-roi categorize SESSION VA|NVA|BVA --why "...": a person's verdict on a session, which
the value report shows as 'user' with the reason (beats the rules in core/value/categorize.py)."""

from __future__ import annotations

import argparse

from ..store import Store
from ..value import records
from ..value.categorize import CATEGORIES
from .common import UserError, print_json
from .session_arg import resolve_session


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("session", metavar="SESSION", help="session id (or a unique prefix of it)")
    p.add_argument("category", nargs="?", metavar="VA|NVA|BVA",
                   help="value-added, non-value-added (waste) or business-value-added (overhead)")
    p.add_argument("--why", metavar="TEXT", help="the reason, shown in the reports (required with a category)")
    p.add_argument("--agent", metavar="NAME", help="the session's agent, when two agents share the id")
    p.add_argument("--clear", action="store_true", help="remove the override: the rules decide again")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:

    category = (args.category or "").upper()
    if not args.clear:
        if category not in CATEGORIES:
            raise UserError(f"category {args.category!r}: expected VA, NVA or BVA" if args.category
                            else "give a category (VA, NVA or BVA) or --clear")
        why = (args.why or "").strip()
        if not why:
            raise UserError("--why: give the reason for the category (it is shown in the reports)")
        if len(why) > 500:
            raise UserError("--why: keep the reason under 500 characters")
    store = Store()
    try:
        agent, session_id = resolve_session(store, args.session, args.agent)
        if args.clear:
            removed = records.clear_category(store, agent, session_id)
            result = {"agent": agent, "session": session_id, "cleared": removed}
            text = (f"token-roi: {agent} session {session_id}: override removed; the rules decide again."
                    if removed else f"token-roi: {agent} session {session_id} had no override.")
        else:
            records.set_category(store, agent, session_id, category, why)
            result = {"agent": agent, "session": session_id, "category": category, "category_by": "user",
                      "reason": why}
            text = f"token-roi: {agent} session {session_id} is now {category} (user: {why})."
    finally:
        store.close()
    if args.json:
        print_json(result)
    else:
        print(text)
    return 0
