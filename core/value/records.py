"""What people (and the model) record about a session: a category override and a model
estimate of its human-equivalent value. Sessions are named by id (or a unique prefix of it),
with the agent when two agents share an id."""

from __future__ import annotations

import time

from ..ingest import ingest
from .estimate import Estimate
from .rates import Range


class RecordError(Exception):
    """One line for the user: which session, what is wrong."""


def resolve_or_ingest(store, session: str, agent: str | None = None) -> tuple[str, str]:
    """resolve_session, reading new agent logs first when the session is not in the ledger yet
    (a live Claude Code session reaches the ledger on Stop)."""
    try:
        return resolve_session(store.db, session, agent)
    except RecordError as exc:
        if "not in the ledger" not in str(exc):
            raise
    ingest(store, [agent] if agent else None, show_progress=False)
    return resolve_session(store.db, session, agent)


def resolve_session(db, session: str, agent: str | None = None) -> tuple[str, str]:
    """(agent, session_id) of the ledger session named `session` (exact id, else a unique prefix
    of at least 4 characters)."""
    session = (session or "").strip()
    if not session:
        raise RecordError("SESSION: give a session id (see `token-roi session`)")
    cond, args = "", []
    if agent:
        cond, args = " AND agent = ?", [agent]
    found = db.execute(f"SELECT DISTINCT agent, session_id FROM calls WHERE session_id = ?{cond}",
                       [session] + args).fetchall()
    if not found and len(session) >= 4:
        found = db.execute(f"SELECT DISTINCT agent, session_id FROM calls WHERE substr(session_id, 1, ?) = ?{cond}",
                           [len(session), session] + args).fetchall()
    if not found:
        who = f" for agent {agent}" if agent else ""
        raise RecordError(f"session {session!r}{who}: not in the ledger (see `token-roi session` for ids)")
    if len(found) > 1:
        names = ", ".join(f"{a}:{s}" for a, s in found[:5])
        raise RecordError(f"session {session!r} is ambiguous ({names}); give the full id or --agent")
    return found[0][0], found[0][1]


def set_category(store, agent: str, session_id: str, category: str, reason: str) -> None:
    with store.transaction():
        store.db.execute("INSERT OR REPLACE INTO session_categories VALUES (?, ?, ?, ?, ?)",
                         (agent, session_id, category, reason, int(time.time() * 1000)))


def clear_category(store, agent: str, session_id: str) -> bool:
    with store.transaction():
        cur = store.db.execute("DELETE FROM session_categories WHERE agent = ? AND session_id = ?", (agent, session_id))
    return cur.rowcount > 0


def categories(db) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r[0], r[1]): (r[2], r[3]) for r in db.execute(
        "SELECT agent, session_id, category, reason FROM session_categories")}


def set_value(store, agent: str, session_id: str, e: Estimate) -> None:
    with store.transaction():
        store.db.execute("INSERT OR REPLACE INTO session_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (agent, session_id, e.role, e.hours.low, e.hours.mid, e.hours.high,
                          e.rate.low, e.rate.mid, e.rate.high, e.quality, int(time.time() * 1000)))


def clear_value(store, agent: str, session_id: str) -> bool:
    with store.transaction():
        cur = store.db.execute("DELETE FROM session_values WHERE agent = ? AND session_id = ?", (agent, session_id))
    return cur.rowcount > 0


def model_estimates(db) -> dict[tuple[str, str], Estimate]:
    out = {}
    for r in db.execute("SELECT agent, session_id, role, hours_low, hours_mid, hours_high, rate_low, rate_mid, "
                        "rate_high, quality FROM session_values"):
        out[(r[0], r[1])] = Estimate("model-estimate", r[2], Range(r[3], r[4], r[5]), Range(r[6], r[7], r[8]),
                                     r[9], "recorded with token-roi value set")
    return out
