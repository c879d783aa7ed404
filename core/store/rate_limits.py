"""The `rate_limit_snapshots` table's writes: append a figure when it changed, drain the status
line's spool, take the figures an adapter left in a cursor's state (Codex).

Here, beside the store, because ingest calls it; the reports' side (latest, history, staleness)
is core/limits/snapshots.py. Sources: the status line's spool (`<state dir>/limits/spool.jsonl`,
written by core/guard/quota.py, drained here by every ingest), the Codex adapter (figures carried
in a rollout's cursor state under "rate_limits"), and any later source that yields Snapshots. A
row is appended only when it changes its window's figure: a figure already stored for that
window and reset is the same observation, so re-reading a spool or a rollout is harmless.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable

from .. import paths
from ..record import Record

SPOOL_NAME = "spool.jsonl"      # the status line's (core/guard/quota.py)


def spool_path() -> str:
    return os.path.join(paths.limits_dir_str(), SPOOL_NAME)


class Snapshot(Record):
    """One figure of one window (a plain record: reports import this and skip dataclasses)."""
    __slots__ = ("agent", "window", "used_percentage", "resets_at", "captured_at", "source", "session_id",
                 "window_minutes")

    def __init__(self, agent: str,
                 window: str,                     # 'five_hour' | 'seven_day' | '<n>m'
                 used_percentage: float,          # 0-100
                 resets_at: int | None,           # Unix s
                 captured_at: int,                # Unix s: when the figure was first seen
                 source: str,                     # 'statusline' | 'codex' | ...
                 session_id: str | None = None,
                 window_minutes: int | None = None):
        self.agent = agent
        self.window = window
        self.used_percentage = used_percentage
        self.resets_at = resets_at
        self.captured_at = captured_at
        self.source = source
        self.session_id = session_id
        self.window_minutes = window_minutes

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self._fields}


def from_dict(d: dict) -> Snapshot | None:
    """A snapshot from a spool line or cursor-state entry; None when a field is unusable."""
    try:
        used = float(d["used_percentage"])
        captured = int(d["captured_at"])
        agent, window, source = str(d["agent"]), str(d["window"]), str(d.get("source") or "unknown")
    except (KeyError, TypeError, ValueError):
        return None
    resets = d.get("resets_at")
    if resets is not None:
        try:
            resets = int(resets)
        except (TypeError, ValueError):
            resets = None
    if not 0 <= used <= 1000 or captured <= 0:
        return None
    sid = d.get("session_id")
    minutes = d.get("window_minutes")
    return Snapshot(agent[:40], window[:40], used, resets, captured, source[:40],
                    str(sid)[:128] if sid else None, int(minutes) if isinstance(minutes, int) else None)


def append(db: sqlite3.Connection, snaps: Iterable[Snapshot]) -> int:
    """Insert the snapshots that change their window's figure; returns rows added. Runs inside
    the caller's transaction when there is one. Within one window (one reset time) use only
    grows, so a figure already stored for that reset is the same observation, whatever the order
    the sources are read in; reset times derived from `resets_in_seconds` drift by a second or
    two between events, hence the minute's tolerance."""
    added = 0
    for s in sorted(snaps, key=lambda s: s.captured_at):
        if s.resets_at is not None:
            seen = db.execute(
                "SELECT 1 FROM rate_limit_snapshots WHERE agent = ? AND window = ? AND used_percentage = ? "
                "AND resets_at BETWEEN ? AND ? LIMIT 1",
                (s.agent, s.window, s.used_percentage, s.resets_at - 60, s.resets_at + 60)).fetchone()
            if seen:
                continue
        else:
            prev = db.execute(
                "SELECT used_percentage, resets_at FROM rate_limit_snapshots WHERE agent = ? AND window = ? "
                "AND captured_at <= ? ORDER BY captured_at DESC, id DESC LIMIT 1",
                (s.agent, s.window, s.captured_at)).fetchone()
            if prev is not None and prev[0] == s.used_percentage and prev[1] is None:
                continue
        cur = db.execute(
            "INSERT OR IGNORE INTO rate_limit_snapshots (agent, window, used_percentage, resets_at, "
            "captured_at, source, session_id, window_minutes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (s.agent, s.window, s.used_percentage, s.resets_at, s.captured_at, s.source, s.session_id,
             s.window_minutes))
        added += cur.rowcount
    return added


def drain_spool(store, warnings: list[str] | None = None) -> int:
    """Move the status line's spool into the table. The spool is renamed first (new lines go to
    a fresh file), its rows committed, then the renamed file removed: a crash in between leaves
    the file to be drained again, which adds nothing twice."""
    path = spool_path()
    draining = path + ".draining"
    try:
        return _drain(store, path, draining, warnings)
    except OSError as exc:
        if warnings is not None:
            warnings.append(f"{path}: {exc.strerror or exc}; plan-limit figures left for the next run")
        return 0


def _drain(store, path: str, draining: str, warnings: list[str] | None) -> int:
    if not os.path.exists(draining):
        try:
            os.replace(path, draining)
        except FileNotFoundError:
            return 0
    snaps = []
    with open(draining, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                snap = from_dict(json.loads(line))
            except ValueError:
                snap = None
            if snap is None:
                if warnings is not None:
                    warnings.append(f"{draining}: line {n}: not a rate-limit snapshot, skipped")
                continue
            snaps.append(snap)
    with store.transaction():
        added = append(store.db, snaps)
    os.unlink(draining)
    return added


def from_cursor_state(agent: str, state: dict | None) -> list[Snapshot]:
    """Figures an adapter left in a source's cursor state under "rate_limits" (a list of
    snapshot dicts, newest last)."""
    if not isinstance(state, dict):
        return []
    items = state.get("rate_limits")
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if isinstance(item, dict):
            snap = from_dict({"agent": agent, **item})
            if snap is not None:
                out.append(snap)
    return out


def record_results(store, results: Iterable) -> int:
    """The figures in a batch of adapter ReadResults (their cursors' state), inside the batch's
    transaction."""
    snaps: list[Snapshot] = []
    for result in results:
        cursor = result.cursor
        if cursor is not None and isinstance(cursor.state, dict) and "rate_limits" in cursor.state:
            snaps.extend(from_cursor_state(cursor.agent, cursor.state))
    return append(store.db, snaps) if snaps else 0
