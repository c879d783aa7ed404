"""Hermes agent: `state.db` (SQLite, read-only) in `${HERMES_HOME:-~/.hermes}` and per profile.

Hermes keeps no per-call log, only running totals: one `sessions` row per session (main loop)
and `session_model_usage` rows per (session, model, billing route, task), where rows with a
non-empty `task` are auxiliary calls (vision, compression, titles) missing from `sessions`.
Summing those totals on every read would count the same tokens again each time, so each read
compares the totals with the snapshot kept in the cursor state and books only the growth, as one
row per changed total. A row's dedupe key is the total's identity plus the cumulative counters
after the growth, so re-reading the same totals produces the same keys.

Counters: Hermes stores input without cache (its normalize_usage subtracts cached tokens) and
counts reasoning inside output; rows carry output minus reasoning, reasoning apart.
Recorded cost: `actual_cost_usd` when set, else `estimated_cost_usd`; a subscription's 0 stays 0
in recorded_cost while our own price shows the menu price.
"""

from __future__ import annotations

import os

from ...cursor import Cursor
from ...rows import UsageRow
from .. import sqlite_ro
from ..base import Adapter, ReadResult, Source
from . import places

TYPE_CHECKING = False   # annotations only: most machines running a report have no Hermes
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

COUNTERS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
AUX_KEY = ("session_id", "model", "billing_provider", "billing_base_url", "billing_mode", "task")
COSTS = ("actual_cost_usd", "estimated_cost_usd")
SESSION_COLUMNS = ("id", "model", "cwd", "git_branch", "started_at", "ended_at", "last_activity_at") + COUNTERS + COSTS
AUX_COLUMNS = AUX_KEY + ("first_seen", "last_seen") + COUNTERS + COSTS


def _num(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _cost(row: dict) -> float | None:
    if row.get("actual_cost_usd") is not None:
        return _num(row["actual_cost_usd"])
    if row.get("estimated_cost_usd") is not None:
        return _num(row["estimated_cost_usd"])
    return None


def _snapshot(row: dict) -> list:
    cost = _cost(row)
    return [int(_num(row.get(c))) for c in COUNTERS] + [None if cost is None else round(cost, 9)]


def _ts_ms(*candidates) -> int:
    for value in candidates:
        if value is None or value == "":
            continue
        try:
            t = float(value)
        except (TypeError, ValueError):
            continue
        if t > 0:
            return int(t * 1000) if t < 1e11 else int(t)    # epoch seconds; tolerate ms
    return 0


class HermesAdapter(Adapter):
    name = "hermes"
    title = "Hermes agent"
    untracked = ("no per-call log: usage is booked as the growth of per-session running totals "
                 "between reads (time resolution = how often token-roi reads); usage a session "
                 "accrued before the first read lands at its last activity time")

    def _homes(self) -> list[tuple[str, Path]]:
        """(profile, home) for the default home, HERMES_HOME (which a profile run points at its
        profile folder) and every `profiles/<name>`, each once; none (known from two stats,
        without pathlib) when neither base folder exists."""
        if not places.present():
            return []
        from pathlib import Path
        default = Path.home() / ".hermes"
        env = os.environ.get("HERMES_HOME")
        candidates = [Path(env).expanduser()] if env else []
        candidates.append(default)
        for base in list(candidates):
            profiles = base / "profiles"
            if profiles.is_dir():
                candidates.extend(sorted(p for p in profiles.iterdir() if p.is_dir()))
        out, seen = [], set()
        for home in candidates:
            real = home.resolve()
            if real in seen:
                continue
            seen.add(real)
            if real == default.resolve():
                profile = "default"
            elif real.parent.name == "profiles":
                profile = real.name
            else:
                profile = str(real)
            out.append((profile, home))
        return out

    def roots(self) -> list[Path]:
        return [home for _, home in self._homes() if (home / "state.db").is_file()]

    def sources(self) -> Iterator[Source]:
        for profile, home in self._homes():
            db = home / "state.db"
            if db.is_file():
                yield Source(self.name, db, kind="sqlite", meta={"profile": profile})

    def size_hint(self, source: Source, cursor: Cursor | None) -> int:
        return sqlite_ro.size_hint(source.path, cursor)

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        size, mtime = sqlite_ro.signature(source.path)
        if cursor is not None and (cursor.size, cursor.mtime_ns) == (size, mtime):
            return ReadResult([], cursor, unchanged=True)
        profile = source.meta.get("profile", "default")
        state = dict(cursor.state) if cursor else {}
        seen_sessions: dict = dict(state.get("sessions", {}))
        seen_aux: dict = dict(state.get("aux", {}))
        rows: list[UsageRow] = []

        # Named columns only (never the prompt text Hermes keeps beside them); older schemas
        # lack some of them.
        have = sqlite_ro.columns(source.path, "sessions")
        wanted = [c for c in SESSION_COLUMNS if c in have]
        sessions = ([dict(r) for r in sqlite_ro.query(source.path, f"SELECT {', '.join(wanted)} FROM sessions")]
                    if "id" in have else [])        # a state.db Hermes has not set up yet
        by_id = {s.get("id"): s for s in sessions}
        for s in sessions:
            sid = str(s.get("id"))
            row = self._book(f"{profile}/{sid}", seen_sessions, s, s, sid, s.get("model"))
            if row:
                rows.append(row)

        have = sqlite_ro.columns(source.path, "session_model_usage")
        if "task" in have:
            wanted = [c for c in AUX_COLUMNS if c in have]
            aux = sqlite_ro.query(source.path, f"SELECT {', '.join(wanted)} FROM session_model_usage "
                                               "WHERE task IS NOT NULL AND task != ''")
            for a in map(dict, aux):
                ident = "|".join(str(a.get(k) or "") for k in AUX_KEY)
                parent = by_id.get(a.get("session_id"), {})
                row = self._book(f"{profile}/aux/{ident}", seen_aux, a, parent,
                                 str(a.get("session_id")), a.get("model") or parent.get("model"))
                if row:
                    rows.append(row)

        new_state = {"sessions": seen_sessions, "aux": seen_aux}
        # The signature taken before reading: a write during the read (or the empty -wal our
        # own first read-only open creates) makes the next ingest read again, harmlessly.
        new = Cursor(self.name, source.key, 0, size, mtime, os.stat(source.path).st_ino, None, new_state,
                     0, (cursor.rows_seen if cursor else 0) + len(rows))
        return ReadResult(rows, new, bytes_read=size)

    def _book(self, ident: str, seen: dict, totals: dict, session: dict, sid: str, model) -> UsageRow | None:
        """One row for the growth of `totals` since the snapshot in `seen`, which is updated."""
        now = _snapshot(totals)
        before = seen.get(ident) or [0] * len(COUNTERS) + [None]
        seen[ident] = now
        # A counter that went down (a rewritten session) books nothing; the rest still count.
        delta = [max(0, n - b) for n, b in zip(now[:-1], before[:-1])]
        cost_now, cost_before = now[-1], before[-1]
        cost_delta = None if cost_now is None else round(cost_now - (cost_before or 0.0), 9)
        if not any(delta) and not cost_delta:
            return None
        d = dict(zip(COUNTERS, delta))
        reasoning = d["reasoning_tokens"]
        return UsageRow(
            agent=self.name,
            dedupe_key=f"{ident}@{','.join(str(x) for x in now[:-1])},{cost_now}",
            ts=_ts_ms(totals.get("last_seen"), session.get("last_activity_at"), session.get("ended_at"),
                      totals.get("first_seen"), session.get("started_at")),
            session_id=sid,
            project=session.get("cwd") or None,
            model=model or None,
            input_tokens=d["input_tokens"],
            output_tokens=max(0, d["output_tokens"] - reasoning),
            reasoning_tokens=reasoning,
            cache_read_tokens=d["cache_read_tokens"],
            cache_write_5m_tokens=d["cache_write_tokens"],
            git_branch=session.get("git_branch") or None,
            recorded_cost=cost_delta,
        )


ADAPTER = HermesAdapter()
