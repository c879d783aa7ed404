"""What used a plan window: percentage points per session, project and model.

Method (docs/limits.md, "Attribution"). The official figures say how full a window is, not who
filled it; the ledger says what each session, project and model cost, not how much of the window
that was. Between the window's first and last snapshot the window grew by dU points while the
ledger booked dC dollars of this agent's usage (at full API rates), so one dollar of usage is
k = dU / dC points ("calibrated"). Each group's share of the window is k times its cost in the
window. The percentages are reported rounded (to a whole point, Claude Code), so dU is known to
+-1 point: the range is (dU - 1) / dC .. (dU + 1) / dC times each cost; with dU under 5 points the
data is called thin. What k times the ledger's cost does not cover (use before the first
snapshot at a different rate, claude.ai or another machine on the same account) is shown as
unexplained.

Without two snapshots that differ ("share"), each group gets the window's current use times its
share of the ledger's cost: an upper bound, right only if all of the window's use is in this
ledger; the range is then 0 .. that figure.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .snapshots import WINDOW_SECONDS, Snapshot

THIN_POINTS = 5.0
GROUPS = {"session": "session_id", "project": "project", "model": "model"}


@dataclass
class Share:
    key: str
    cost_usd: float
    points: float
    low: float
    high: float


@dataclass
class Attribution:
    agent: str
    window: str
    method: str                     # 'calibrated' | 'share' | 'none'
    window_start: int               # Unix s
    used_percentage: float
    ledger_cost_usd: float          # this agent's priced usage in the window
    unpriced_calls: int
    points_per_usd: float | None
    points_per_usd_range: tuple[float, float] | None
    thin: bool
    explained_points: float | None
    unexplained_points: float | None
    note: str
    groups: dict[str, list[Share]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "groups"}
        out["points_per_usd_range"] = list(self.points_per_usd_range) if self.points_per_usd_range else None
        out["groups"] = {name: [s.__dict__ for s in shares] for name, shares in self.groups.items()}
        return out


def _cost(db: sqlite3.Connection, agent: str, lo_ms: int, hi_ms: int) -> float:
    return db.execute("SELECT coalesce(sum(cost), 0) FROM calls WHERE agent = ? AND ts > ? AND ts <= ?",
                      (agent, lo_ms, hi_ms)).fetchone()[0]


def attribute(db: sqlite3.Connection, snaps: list[Snapshot], now: float, top: int = 10) -> Attribution | None:
    """Attribution of the current window of `snaps` (one agent and window, oldest first)."""
    if not snaps:
        return None
    last = snaps[-1]
    length = WINDOW_SECONDS.get(last.window)
    if length is None or last.resets_at is None:
        return None
    start = last.resets_at - length
    current = [s for s in snaps if s.resets_at == last.resets_at and s.captured_at >= start]
    start_ms, now_ms = start * 1000, int(now * 1000)
    total = _cost(db, last.agent, start_ms - 1, now_ms)
    unpriced = db.execute("SELECT count(*) FROM calls WHERE agent = ? AND ts >= ? AND ts <= ? AND cost IS NULL",
                          (last.agent, start_ms, now_ms)).fetchone()[0]
    used = last.used_percentage
    k = k_range = None
    method = "none"
    thin = True
    if len(current) >= 2:
        first = current[0]
        d_used = last.used_percentage - first.used_percentage
        d_cost = _cost(db, last.agent, first.captured_at * 1000, last.captured_at * 1000)
        if d_used > 0 and d_cost > 0:
            k = d_used / d_cost
            k_range = (max(d_used - 1, 0) / d_cost, (d_used + 1) / d_cost)
            method = "calibrated"
            thin = d_used < THIN_POINTS
    if method == "none" and total > 0:
        method = "share"
    groups: dict[str, list[Share]] = {}
    if method != "none":
        for name, column in GROUPS.items():
            rows = db.execute(
                f"SELECT coalesce({column}, '(unknown)'), coalesce(sum(cost), 0) FROM calls WHERE agent = ? "
                f"AND ts >= ? AND ts <= ? GROUP BY 1 HAVING sum(cost) > 0 ORDER BY 2 DESC LIMIT ?",
                (last.agent, start_ms, now_ms, top)).fetchall()
            shares = []
            for key, cost in rows:
                if method == "calibrated" and k is not None and k_range is not None:
                    shares.append(Share(str(key), round(cost, 4), round(k * cost, 2),
                                        round(k_range[0] * cost, 2), round(k_range[1] * cost, 2)))
                else:
                    upper = used * cost / total
                    shares.append(Share(str(key), round(cost, 4), round(upper, 2), 0.0, round(upper, 2)))
            groups[name] = shares
    explained = round(k * total, 2) if k is not None else (used if method == "share" else None)
    if method == "calibrated":
        note = (f"from {len(current)} snapshots, {current[-1].used_percentage - current[0].used_percentage:g} "
                f"points over ${_cost(db, last.agent, current[0].captured_at * 1000, last.captured_at * 1000):,.2f} "
                f"of ledger usage; ranges are the +-1 point rounding of the official figures"
                + ("; thin data (under 5 points)" if thin else ""))
    elif method == "share":
        note = ("no two differing snapshots in this window yet: each share is the window's use times its "
                "share of the ledger's cost, an upper bound that assumes all of the window's use is in this ledger")
    else:
        note = "no usage of this agent in the ledger during this window"
    return Attribution(last.agent, last.window, method, start, used, round(total, 4), unpriced, k, k_range, thin,
                       explained, round(used - explained, 2) if explained is not None else None, note, groups)
