"""The plan-limit figures as the reports read them: latest per window, history, staleness.
Writes (append, the spool, cursor states) are core/store/rate_limits.py."""

from __future__ import annotations

import sqlite3
import time

from ..guard import quota
from ..store.rate_limits import Snapshot, append, drain_spool, from_dict  # noqa: F401 - the limits API

STALE_S = quota.STALE_S
WINDOW_SECONDS = quota.WINDOW_SECONDS


def _row(r: tuple) -> Snapshot:
    return Snapshot(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])


_COLUMNS = "agent, window, used_percentage, resets_at, captured_at, source, session_id, window_minutes"


def history(db: sqlite3.Connection, *, since: int | None = None, agent: str | None = None,
            window: str | None = None) -> list[Snapshot]:
    """Every snapshot, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM rate_limit_snapshots WHERE captured_at >= ?"
    params: list = [since or 0]
    if agent:
        sql += " AND agent = ?"
        params.append(agent)
    if window:
        sql += " AND window = ?"
        params.append(window)
    return [_row(r) for r in db.execute(sql + " ORDER BY captured_at, id", params)]


def latest(db: sqlite3.Connection) -> list[Snapshot]:
    """The newest snapshot of each agent and window."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM rate_limit_snapshots s WHERE id = (SELECT id FROM rate_limit_snapshots "
        "WHERE agent = s.agent AND window = s.window ORDER BY captured_at DESC, id DESC LIMIT 1) "
        "ORDER BY agent, window").fetchall()
    return [_row(r) for r in rows]


def last_seen(snap: Snapshot) -> int:
    """When this figure was last confirmed: the status line renews `seen_at` in latest.json while
    the figure holds (the table keeps only changes)."""
    live = quota.read_latest().get(f"{snap.agent}/{snap.window}")
    if (isinstance(live, dict) and live.get("used_percentage") == snap.used_percentage
            and live.get("resets_at") == snap.resets_at):
        seen = live.get("seen_at")
        if isinstance(seen, (int, float)):
            return max(int(seen), snap.captured_at)
    return snap.captured_at


def is_stale(snap: Snapshot, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return now - last_seen(snap) > STALE_S
