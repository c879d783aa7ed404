"""`token-roi tag FEATURE`: book a session (default: this project's most recent) to a feature
and optionally a category; `--list` shows the tags, `--clear` removes one."""

from __future__ import annotations

import argparse
import datetime as dt
import os

from ..accounting import features
from ..accounting.ledger import project_root
from .accounting import add_common_arguments, open_context
from .common import UserError, print_json


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("feature", nargs="?", metavar="FEATURE", help="feature or ticket id, e.g. PRD-12")
    p.add_argument("--session", metavar="ID", help="session id (default: the most recent session of this project)")
    p.add_argument("--agent", metavar="A", help="the session's agent (default: found from the session)")
    p.add_argument("--category", metavar="C", help="book the session to this category too")
    p.add_argument("--list", action="store_true", help="list the sessions tagged so far")
    p.add_argument("--clear", action="store_true", help="remove the session's tag")
    add_common_arguments(p)


def _find_session(store, session: str | None, agent: str | None):
    if session:
        sql, params = "SELECT agent, session_id, MAX(ts), project FROM calls WHERE session_id = ?", [session]
        if agent:
            sql += " AND agent = ?"
            params.append(agent)
        rows = store.db.execute(sql + " GROUP BY agent, session_id ORDER BY 3 DESC", params).fetchall()
        if not rows:
            if agent:                       # not ingested yet (a live session): trust the user
                return agent, session, None, None
            raise UserError(f"--session {session!r}: no such session in the ledger (pass --agent to tag it anyway)")
        if len(rows) > 1:
            raise UserError(f"--session {session!r}: found for agents {', '.join(r[0] for r in rows)}; pass --agent")
        return rows[0]
    root = str(project_root())
    sql = ("SELECT agent, session_id, MAX(ts), project FROM calls WHERE session_id IS NOT NULL AND origin = 'auto' "
           "AND (project = ? OR project LIKE ? ESCAPE '\\')")
    like = root.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + os.sep + "%"
    params = [root, like]
    if agent:
        sql += " AND agent = ?"
        params.append(agent)
    row = store.db.execute(sql + " GROUP BY agent, session_id ORDER BY 3 DESC LIMIT 1", params).fetchone()
    if row is None:
        raise UserError(f"no agent session recorded for {root}; pass --session ID")
    return row


def run(args) -> int:

    ctx = open_context(args, check_ledgers=False)
    store = ctx.store
    if args.list:
        rows = store.db.execute("SELECT agent, session_id, feature, category, source, tagged_at FROM session_tags "
                                "ORDER BY tagged_at DESC").fetchall()
        if args.json:
            print_json({"tags": [{"agent": r[0], "sessionId": r[1], "feature": r[2], "category": r[3], "source": r[4],
                                  "taggedAt": dt.datetime.fromtimestamp(r[5] / 1000, dt.timezone.utc).isoformat()}
                                 for r in rows]})
        elif not rows:
            print("No sessions tagged yet.")
        for r in rows if not args.json else []:
            print(f"{r[0]:<8} {r[1]:<38} {r[2] or '-':<14} {r[3] or '-':<14} {r[4]}")
        return 0
    category = args.category.strip().lower() if args.category else None
    if category and category not in ctx.cfg["categories"]:
        raise UserError(f"--category {args.category!r}: expected one of {', '.join(ctx.cfg['categories'])}")
    if not args.clear and not args.feature and not category:
        raise UserError("give a FEATURE (or --category, --list, --clear)")
    agent, session, _last, project = _find_session(store, args.session, args.agent)
    if args.clear:
        removed = features.untag_session(store, agent, session)
        msg = f"untagged {agent} session {session}" if removed else f"{agent} session {session} had no tag"
    else:
        features.tag_session(store, agent, session, args.feature, category, source="tag")
        msg = (f"tagged {agent} session {session}" + (f" ({project})" if project else "") + " → "
               + ", ".join(x for x in (args.feature, category) if x))
    if args.json:
        print_json({"agent": agent, "sessionId": session, "feature": args.feature, "category": category,
                    "cleared": bool(args.clear)})
    else:
        print(msg)
    return 0
