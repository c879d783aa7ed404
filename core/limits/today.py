"""`limits/today.json`: today's spend for the status line, written after an ingest by the
background refresh (background.py), `token-roi limits` and `watch`.

today.json: {"day": "YYYY-MM-DD" (local), "written_at": Unix s, "total_usd": today's priced cost,
"unpriced_tokens": tokens of unpriced models today, "claude_sessions": {session id: its cost
today}} -- counts only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from .. import safe_io
from ..guard import quota
from ..store import Store


def today_path() -> str:
    return os.path.join(quota.limits_dir(), "today.json")


def day_start_ms(now: float) -> int:
    local = dt.datetime.fromtimestamp(now).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def today_figures(store: Store, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    start = day_start_ms(now)
    total, unpriced = store.db.execute(
        "SELECT coalesce(sum(cost), 0), coalesce(sum(CASE WHEN cost IS NULL THEN input_tokens + output_tokens "
        "+ reasoning_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens ELSE 0 END), 0) "
        "FROM calls WHERE ts >= ?", (start,)).fetchone()
    sessions = {sid: round(cost, 6) for sid, cost in store.db.execute(
        "SELECT session_id, coalesce(sum(cost), 0) FROM calls WHERE ts >= ? AND agent = 'claude' "
        "AND session_id IS NOT NULL GROUP BY session_id", (start,))}
    return {"day": time.strftime("%Y-%m-%d", time.localtime(now)), "written_at": int(now),
            "total_usd": round(total, 6), "unpriced_tokens": int(unpriced), "claude_sessions": sessions}


def write_today(store: Store, now: float | None = None) -> dict:
    figures = today_figures(store, now)
    path = today_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    safe_io.write_atomic(path, json.dumps(figures))
    return figures
