"""Session and daily dollar budgets: one soft alert per threshold, and the opt-in hard cap.

Today's spend is the sum, over the sessions guarded today, of what each spent since the local
day began: each session notes its cost at its first hook of the day (`cost_by_day`) and writes
its share to `daily/<day>.json` (only when a daily budget is set).
"""

from __future__ import annotations

import os
import time

from .. import fastjson, safe_io
from . import state as st

DAYS_KEPT = 7


def today() -> str:
    return time.strftime("%Y-%m-%d", time.localtime())


def note_day(state: dict) -> None:
    """Remember the session's cost at the start of today (before reading today's new usage)."""
    days = state["cost_by_day"]
    day = today()
    if day not in days:
        days[day] = state["cost_usd"]
        for old in sorted(days)[:-DAYS_KEPT]:
            del days[old]


def session_cost_today(state: dict) -> float:
    return max(0.0, state["cost_usd"] - state["cost_by_day"].get(today(), state["cost_usd"]))


def _daily_path(day: str) -> str:
    return os.path.join(os.path.dirname(st.sessions_dir_str()), "daily", f"{day}.json")


def daily_spend(state: dict) -> float:
    """Today's spend across guarded sessions, with this session's share brought up to date."""
    path = _daily_path(today())
    with st.locked(path):
        try:
            shares = fastjson.loads(safe_io.read_regular(path))
            if not isinstance(shares, dict):
                shares = {}
        except (OSError, ValueError):
            shares = {}
        shares[state["session_id"]] = round(session_cost_today(state), 6)
        safe_io.write_atomic(path, fastjson.dumps(shares))
    return sum(v for v in shares.values() if isinstance(v, (int, float)))


def spends(state: dict, limits: dict) -> list[tuple[str, float, float]]:
    """(scope, spent, budget) for each budget that is set."""
    out = []
    if limits.get("session_budget_usd"):
        out.append(("session", state["cost_usd"], limits["session_budget_usd"]))
    if limits.get("daily_budget_usd"):
        out.append(("daily", daily_spend(state), limits["daily_budget_usd"]))
    return out


def alerts(state: dict, limits: dict) -> list[tuple[str, float, float, float]]:
    """Thresholds crossed for the first time: (scope, spent, budget, percent)."""
    given = state["budget_alerts"]
    out = []
    for scope, spent, budget in spends(state, limits):
        percent = spent / budget * 100
        for level in (100.0, float(limits["alert_threshold_percent"])):
            key = f"{scope}:{level:g}:{today() if scope == 'daily' else ''}"
            if percent >= level:
                if key not in given:
                    given.append(key)
                    # Crossing 100% also covers the soft threshold: one message, not two.
                    soft = f"{scope}:{float(limits['alert_threshold_percent']):g}:{today() if scope == 'daily' else ''}"
                    if soft not in given:
                        given.append(soft)
                    out.append((scope, spent, budget, percent))
                break
    return out


def over_cap(state: dict, limits: dict) -> tuple[str, float, float] | None:
    for scope, spent, budget in spends(state, limits):
        if spent >= budget:
            return scope, spent, budget
    return None
