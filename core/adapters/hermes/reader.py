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
        split: dict = dict(state.get("split", {}))     # sessions booked by day and model
        parts: dict = dict(state.get("parts", {}))     # their per-day and per-model snapshots
        days, mains = _days_and_models(source.path)
        if days is None and not state.get("no_daily") and sessions:
            self.warn(f"{source.path}: an older Hermes database (no session_daily_usage): each session's "
                      "usage is booked at its last activity, not on the days it happened (update Hermes)")
        for s in sessions:
            sid = str(s.get("id"))
            ident = f"{profile}/{sid}"
            if ident in seen_sessions and ident not in split:
                # (booked whole by an earlier version: a split now would count its past again)
                row = self._book(ident, seen_sessions, s, s, sid, s.get("model"))
                if row:
                    rows.append(row)
                continue
            split[ident] = 1
            rows.extend(_book_split(self.name, ident, sid, s, seen_sessions, parts,
                                    (days or {}).get(sid, []), mains.get(sid, [])))

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

        new_state = {"sessions": seen_sessions, "aux": seen_aux, "split": split, "parts": parts,
                     "no_daily": days is None}
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
        return _growth_row(self.name, f"{ident}@{','.join(str(x) for x in now[:-1])},{cost_now}",
                           _ts_ms(totals.get("last_seen"), session.get("last_activity_at"), session.get("ended_at"),
                                  totals.get("first_seen"), session.get("started_at")),
                           sid, session, model, delta, cost_delta)



def _growth_row(agent: str, dedupe_key: str, ts, sid: str, session: dict, model, counts, cost) -> UsageRow:
    """The row booking `counts` (in COUNTERS order) of a session's growth. Hermes counts reasoning
    inside output: it is moved apart, as the row's counters never overlap."""
    d = dict(zip(COUNTERS, counts))
    reasoning = d["reasoning_tokens"]
    return UsageRow(
        agent=agent,
        dedupe_key=dedupe_key,
        ts=ts,
        session_id=sid,
        project=session.get("cwd") or None,
        model=model or None,
        input_tokens=d["input_tokens"],
        output_tokens=max(0, d["output_tokens"] - reasoning),
        reasoning_tokens=reasoning,
        cache_read_tokens=d["cache_read_tokens"],
        cache_write_5m_tokens=d["cache_write_tokens"],
        git_branch=session.get("git_branch") or None,
        recorded_cost=cost,
    )

# -- a session's growth split by activity day and by model ----------------------------------------
# Current Hermes keeps, beside each session's running totals, `session_daily_usage` (the same
# counters per session and local activity day) and, in `session_model_usage`, rows with an empty
# task per model of the main loop (a mid-session model switch). A session's growth since the last
# read (the `sessions` totals: the authority) is split over the days whose counters grew and over
# the models whose counters grew, so a session spanning midnight is booked on each day and each
# model's share is priced at its own rate. What neither table explains (usage from before Hermes
# kept them, a gateway's absolute totals) goes to the last activity day and the session's model.

DAY_COLUMNS = ("session_id", "day") + COUNTERS + COSTS
MAIN_COLUMNS = AUX_KEY + ("first_seen", "last_seen") + COUNTERS + COSTS


def _days_and_models(path) -> tuple[dict | None, dict]:
    """({session: [day rows]} or None without the daily table, {session: [main-loop model rows]})."""
    days: dict | None = None
    have = sqlite_ro.columns(path, "session_daily_usage")
    if {"session_id", "day"} <= have:
        days = {}
        wanted = [c for c in DAY_COLUMNS if c in have]
        for r in map(dict, sqlite_ro.query(path, f"SELECT {', '.join(wanted)} FROM session_daily_usage ORDER BY day")):
            days.setdefault(r.get("session_id"), []).append(r)
    mains: dict = {}
    have = sqlite_ro.columns(path, "session_model_usage")
    if "task" in have and "session_id" in have:
        wanted = [c for c in MAIN_COLUMNS if c in have]
        for r in map(dict, sqlite_ro.query(path, f"SELECT {', '.join(wanted)} FROM session_model_usage "
                                                 "WHERE task IS NULL OR task = ''")):
            mains.setdefault(r.get("session_id"), []).append(r)
    for rows in mains.values():
        rows.sort(key=lambda r: (_num(r.get("last_seen")), _num(r.get("first_seen"))))
    return days, mains


def _local_day(ts_ms: int) -> str:
    import time
    return time.strftime("%Y-%m-%d", time.localtime(ts_ms / 1000))


def _day_bounds(day: str) -> tuple[int, int] | None:
    """[start, end) in epoch ms of a local day 'YYYY-MM-DD' (Hermes writes date('now', 'localtime'))."""
    import time
    try:
        y, m, d = (int(x) for x in day.split("-"))
        start = time.mktime((y, m, d, 0, 0, 0, 0, 0, -1))
        end = time.mktime((y, m, d + 1, 0, 0, 0, 0, 0, -1))
    except (ValueError, OverflowError, OSError):
        return None
    return int(start * 1000), int(end * 1000)


def _vector(row: dict, cost_key: str | None) -> list:
    return [int(_num(row.get(c))) for c in COUNTERS] + [_num(row.get(cost_key)) if cost_key else 0.0]


def _growth(key: str, row: dict, cost_key: str | None, parts: dict) -> list:
    now = _vector(row, cost_key)
    before = parts.get(key) or [0] * len(now)
    parts[key] = now
    return [max(0, n - b) for n, b in zip(now, before)]


def _fit(items: list, total: list, fallback) -> list:
    """[(key, vector)] whose sums equal `total` in every place: what they lack goes to `fallback`'s
    entry, what they hold beyond it is cut from the last ones."""
    out = [[k, list(v)] for k, v in items]
    for c, want in enumerate(total):
        have = sum(v[c] for _, v in out)
        if have < want:
            entry = next((e for e in out if e[0] == fallback), None)
            if entry is None:
                entry = [fallback, [0] * len(total)]
                out.append(entry)
            entry[1][c] += want - have
        elif have > want:
            extra = have - want
            for _, v in reversed(out):
                cut = min(v[c], extra)
                v[c] -= cut
                extra -= cut
    return [(k, v) for k, v in out if any(v)]


def _cells(days: list, models: list, width: int) -> dict:
    """Each (day, model) cell's share: days and models walked in time order, every counter filled
    from both sides at once (exact when only one day or one model grew since the last read)."""
    cells: dict = {}
    for c in range(width):
        i = j = 0
        left_d = [v[c] for _, v in days]
        left_m = [v[c] for _, v in models]
        while i < len(days) and j < len(models):
            take = min(left_d[i], left_m[j])
            if take > 0:
                cell = cells.setdefault((days[i][0], models[j][0]), [0] * width)
                cell[c] += take
            left_d[i] -= take
            left_m[j] -= take
            if left_d[i] <= 1e-12:
                i += 1
            if left_m[j] <= 1e-12:
                j += 1
    return cells


def _book_split(agent: str, ident: str, sid: str, s: dict, seen: dict, parts: dict,
                day_rows: list, model_rows: list) -> list[UsageRow]:
    cost_key = ("actual_cost_usd" if s.get("actual_cost_usd") is not None
                else "estimated_cost_usd" if s.get("estimated_cost_usd") is not None else None)
    now = _snapshot(s)
    before = seen.get(ident) or [0] * len(COUNTERS) + [None]
    seen[ident] = now
    total = [max(0, n - b) for n, b in zip(now[:-1], before[:-1])]
    total.append(max(0.0, (now[-1] or 0.0) - (before[-1] or 0.0)) if cost_key else 0.0)
    last = _ts_ms(s.get("last_activity_at"), s.get("ended_at"), s.get("started_at"))
    grown_days = [(r.get("day"), _growth(f"{ident}/d/{r.get('day')}", r, cost_key, parts)) for r in day_rows]
    by_model = {}
    grown_models = []
    for r in model_rows:
        route = "|".join(str(r.get(k) or "") for k in AUX_KEY[1:5])
        by_model[route] = r
        grown_models.append((route, _growth(f"{ident}/m/{route}", r, cost_key, parts)))
    if not any(total):
        return []
    fallback_day = _local_day(last) if last else None
    days = _fit([(d, v) for d, v in grown_days if any(v)], total, fallback_day)
    models = _fit([(m, v) for m, v in grown_models if any(v)], total, None)
    rows = []
    cells = _cells(days, models, len(total))
    for (day, route), v in sorted(cells.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        if not any(v):
            continue
        model_row = by_model.get(route) if route is not None else None
        model = (model_row.get("model") if model_row else None) or s.get("model")
        ts = _ts_ms(model_row.get("last_seen"), model_row.get("first_seen")) if model_row else last
        bounds = _day_bounds(day) if day else None
        if bounds is not None:
            ts = min(max(ts or bounds[0], bounds[0]), bounds[1] - 1)
        rows.append(_growth_row(agent, f"{ident}/{day}/{route or ''}@{','.join(str(x) for x in now[:-1])},{now[-1]}",
                                ts, sid, s, model, v, round(v[-1], 9) if cost_key else None))
    return rows


ADAPTER = HermesAdapter()
