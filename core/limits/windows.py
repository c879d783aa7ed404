"""The plan windows as the reports show them: current use, pace, time to exhaustion, staleness.

Pace: the burn over the last hour of snapshots (at least two, 5 minutes apart, in the current
window), else the average since the window opened (its reset minus its length); projected use at
reset = use now + burn x time left; exhaustion = when that line reaches 100%. Both are estimates
and labelled so; the use itself is official. A window whose reset has passed since its last
figure is shown as an estimate (calibrated points per dollar x the ledger's cost since the reset)
when a calibration exists, else with no figure.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass

from . import snapshots
from .attribution import attribute
from .snapshots import WINDOW_SECONDS, Snapshot

RECENT_S = 3600
MIN_SPAN_S = 300


@dataclass
class Pace:
    burn_per_hour: float            # points per hour
    projected_at_reset: float       # points
    exhausts_at: int | None         # Unix s, None when not before the reset
    method: str                     # 'recent' | 'window-average'


@dataclass
class WindowView:
    agent: str
    window: str
    used_percentage: float | None
    resets_at: int | None
    captured_at: int | None
    last_seen_at: int | None
    source: str                     # 'official' | 'estimate'
    origin: str                     # where the figure came from: 'statusline' | 'codex' | 'ledger'
    stale: bool
    pace: Pace | None
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def pace(snaps: list[Snapshot], now: float) -> Pace | None:
    """Pace of the current window of `snaps` (one agent and window, oldest first)."""
    if not snaps:
        return None
    last = snaps[-1]
    length = WINDOW_SECONDS.get(last.window)
    if length is None or last.resets_at is None or last.resets_at <= now:
        return None
    current = [s for s in snaps if s.resets_at == last.resets_at]
    recent = [s for s in current if s.captured_at >= last.captured_at - RECENT_S]
    rate = None
    method = "recent"
    if len(recent) >= 2 and last.captured_at - recent[0].captured_at >= MIN_SPAN_S:
        rate = (last.used_percentage - recent[0].used_percentage) / (last.captured_at - recent[0].captured_at)
    if rate is None or rate < 0:
        elapsed = now - (last.resets_at - length)
        if elapsed <= 60:
            return None
        rate = last.used_percentage / elapsed
        method = "window-average"
    left = last.resets_at - now
    projected = last.used_percentage + rate * left
    exhausts = None
    if rate > 0 and projected >= 100:
        exhausts = int(now + max(0.0, 100 - last.used_percentage) / rate)
    return Pace(round(rate * 3600, 2), round(projected, 1), exhausts, method)


def views(db: sqlite3.Connection, now: float | None = None) -> list[WindowView]:
    """One view per agent and window, newest figure first within an agent."""
    now = time.time() if now is None else now
    out = []
    for latest in snapshots.latest(db):
        snaps = snapshots.history(db, agent=latest.agent, window=latest.window,
                                  since=int(now) - 2 * WINDOW_SECONDS.get(latest.window, 7 * 86400))
        seen = snapshots.last_seen(latest)
        if latest.resets_at is not None and latest.resets_at <= now:
            out.append(_after_reset(db, latest, snaps, now, seen))
            continue
        out.append(WindowView(latest.agent, latest.window, latest.used_percentage, latest.resets_at,
                              latest.captured_at, seen, "official", latest.source,
                              now - seen > snapshots.STALE_S, pace(snaps, now)))
    out.sort(key=lambda v: (v.agent, -(v.captured_at or 0), WINDOW_SECONDS.get(v.window, 0)))
    return out


def _after_reset(db: sqlite3.Connection, latest: Snapshot, snaps: list[Snapshot], now: float, seen: int) -> WindowView:
    length = WINDOW_SECONDS.get(latest.window, 0)
    resets = latest.resets_at or 0
    periods = int((now - resets) // length) + 1 if length else 1
    new_reset = resets + periods * length if length else None
    calibration = attribute(db, snaps, resets - 1)
    used = None
    note = "the window has reset since the last official figure"
    if calibration is not None and calibration.points_per_usd and new_reset is not None:
        cost = db.execute("SELECT coalesce(sum(cost), 0) FROM calls WHERE agent = ? AND ts >= ? AND ts <= ?",
                          (latest.agent, (new_reset - length) * 1000, int(now * 1000))).fetchone()[0]
        used = round(calibration.points_per_usd * cost, 1)
        note += f"; estimated from the ledger's ${cost:,.2f} since at the last window's points per dollar"
    return WindowView(latest.agent, latest.window, used, new_reset, latest.captured_at, seen, "estimate",
                      "ledger", True, None, note)
