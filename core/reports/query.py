"""The query layer every report stands on: sums computed in SQL, never per-call rows in Python.

Local calendar days are computed inside SQLite exactly: the zone's UTC offset is constant
between its transitions, so `(ts + offset) / 86400000` with a CASE over the few transitions in
the data's time range (found with zoneinfo) is the local day number for every IANA zone, DST
and odd offsets (Asia/Kathmandu +05:45) included. One grouped query per report returns a row
per (day, agent, model); weeks and months are folded from days in Python.

Counters stay apart (see rows.py); `cost` sums priced calls only, and calls whose `cost` is NULL
(unknown model, or not priced yet) are counted in `unpriced_calls` / `unpriced_tokens` so a
report can say so instead of pretending they cost $0.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

BUCKET_MS = 15 * 60 * 1000        # a quarter hour: every offset in use today is a whole quarter
DAY_MS = 86_400_000
EPOCH_DAY = dt.date(1970, 1, 1)
UNKNOWN_MODEL = "unknown"
PERIODS = ("daily", "weekly", "monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Filters:
    """What to include. since/until are local calendar days (inclusive) in the report's zone;
    project is a substring of the project path; agents an explicit list (None = all)."""
    since: dt.date | None = None
    until: dt.date | None = None
    project: str | None = None
    agents: tuple[str, ...] | None = None


def day_start_ms(day: dt.date, tz: dt.tzinfo) -> int:
    """Epoch ms of local midnight starting `day` (exact across DST: zoneinfo resolves it)."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def where_clause(filters: Filters, tz: dt.tzinfo) -> tuple[str, list]:
    """SQL `WHERE ...` (or '') and its parameters for `calls`, reusable by any report."""
    parts: list[str] = []
    params: list = []
    if filters.since:
        parts.append("ts >= ?")
        params.append(day_start_ms(filters.since, tz))
    if filters.until:
        parts.append("ts < ?")
        params.append(day_start_ms(filters.until + dt.timedelta(days=1), tz))
    if filters.project:
        parts.append("instr(project, ?) > 0")
        params.append(filters.project)
    if filters.agents:
        parts.append(f"agent IN ({', '.join('?' * len(filters.agents))})")
        params.extend(filters.agents)
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _utc_offset_ms(tz: dt.tzinfo, ms: int) -> int:
    off = dt.datetime.fromtimestamp(ms / 1000, tz).utcoffset()
    return int(off.total_seconds() * 1000) if off else 0


def offset_segments(tz: dt.tzinfo, lo_ms: int, hi_ms: int) -> list[tuple[int, int]]:
    """[(from_ms, utc_offset_ms), ...] covering [lo_ms, hi_ms]: the zone's offset changes exactly
    at each from_ms (found to the millisecond by bisection; no zone changes twice in 6 hours)."""
    step = 6 * 3_600_000
    cur = _utc_offset_ms(tz, lo_ms)
    segs = [(lo_ms, cur)]
    t = lo_ms
    while t < hi_ms:
        n = min(t + step, hi_ms)
        o = _utc_offset_ms(tz, n)
        if o != cur:
            a, b = t, n                      # offset(a) == cur, offset(b) != cur
            while b - a > 1:
                m = (a + b) // 2
                if _utc_offset_ms(tz, m) == cur:
                    a = m
                else:
                    b = m
            cur = _utc_offset_ms(tz, b)
            segs.append((b, cur))
            n = b
        t = n
    return segs


def local_day_sql(tz: dt.tzinfo, lo_ms: int, hi_ms: int, column: str = "ts", *,
                  segs: list[tuple[int, int]] | None = None) -> tuple[str, list]:
    """An SQL expression (and its parameters) giving the local day number (days since
    1970-01-01 in `tz`) of `column`, exact for calls between lo_ms and hi_ms (`segs`: their
    offset_segments, when the caller has them already)."""
    segs = segs or offset_segments(tz, lo_ms, hi_ms)
    if len(segs) == 1:
        return f"(({column} + ?) / {DAY_MS})", [segs[0][1]]
    whens, params = [], []
    for (_, off), (nxt, _) in zip(segs, segs[1:]):
        whens.append(f"WHEN {column} < ? THEN ?")
        params += [nxt, off]
    params.append(segs[-1][1])
    return f"(({column} + CASE {' '.join(whens)} ELSE ? END) / {DAY_MS})", params


@dataclass
class Usage:
    """Summed counters of some set of calls, each kept apart."""
    input_tokens: int = 0           # uncached input
    output_tokens: int = 0          # excluding reasoning
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cost: float = 0.0               # USD of the priced calls only
    calls: int = 0
    unpriced_calls: int = 0         # calls with no price (cost NULL): tokens counted, cost unknown
    unpriced_tokens: int = 0
    first_ts: int | None = None     # epoch ms of the first / last call
    last_ts: int | None = None

    @property
    def cache_creation_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def output_with_reasoning(self) -> int:
        """ccusage's outputTokens: everything billed at the output rate."""
        return self.output_tokens + self.reasoning_tokens

    @property
    def total_tokens(self) -> int:
        return (self.input_tokens + self.output_tokens + self.reasoning_tokens + self.cache_read_tokens
                + self.cache_write_5m_tokens + self.cache_write_1h_tokens)

    @property
    def fully_unpriced(self) -> bool:
        return self.calls > 0 and self.unpriced_calls == self.calls

    def add(self, o: Usage) -> None:
        self.input_tokens += o.input_tokens
        self.output_tokens += o.output_tokens
        self.reasoning_tokens += o.reasoning_tokens
        self.cache_read_tokens += o.cache_read_tokens
        self.cache_write_5m_tokens += o.cache_write_5m_tokens
        self.cache_write_1h_tokens += o.cache_write_1h_tokens
        self.cost += o.cost
        self.calls += o.calls
        self.unpriced_calls += o.unpriced_calls
        self.unpriced_tokens += o.unpriced_tokens
        if o.first_ts is not None and (self.first_ts is None or o.first_ts < self.first_ts):
            self.first_ts = o.first_ts
        if o.last_ts is not None and (self.last_ts is None or o.last_ts > self.last_ts):
            self.last_ts = o.last_ts


class Group(Usage):
    """Usage of one report row (a day, week, month, session or block) with its per-model split."""
    __slots__ = ("key", "models", "agents")

    def __init__(self, *args, key: str = "", models: dict[str, Usage] | None = None,
                 agents: list[str] | None = None, **counters):
        super().__init__(*args, **counters)
        self.key = key
        self.models = {} if models is None else models   # in first-use order
        self.agents = [] if agents is None else agents   # in first-use order

    @property
    def models_used(self) -> list[str]:
        return sorted(self.models, key=lambda m: (self.models[m].first_ts or 0))

    @property
    def unpriced_models(self) -> list[str]:
        """Models with at least one unpriced call in this row."""
        return [m for m in self.models_used if self.models[m].unpriced_calls]

    def add_part(self, model: str, agent: str, part: Usage) -> None:
        self.add(part)
        self.models.setdefault(model, Usage()).add(part)
        if agent not in self.agents:
            self.agents.append(agent)


def totals(groups: Sequence[Group], key: str = "total") -> Group:
    """One Group summing report rows (models and agents merged)."""
    out = Group(key=key)
    for g in groups:
        for model, part in g.models.items():
            out.add(part)
            out.models.setdefault(model, Usage()).add(part)
        for a in g.agents:
            if a not in out.agents:
                out.agents.append(a)
    return out


# Selected after the grouping columns by every aggregate query (see usage_from_sums).
_SUMS = (
    "SUM(input_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(cache_read_tokens), "
    "SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), TOTAL(cost), COUNT(*), "
    "SUM(cost IS NULL), "
    "TOTAL(CASE WHEN cost IS NULL THEN input_tokens + output_tokens + reasoning_tokens + cache_read_tokens"
    " + cache_write_5m_tokens + cache_write_1h_tokens ELSE 0 END), "
    "MIN(ts), MAX(ts)"
)


def usage_from_sums(r: Sequence[Any], start: int) -> Usage:
    return Usage(int(r[start]), int(r[start + 1]), int(r[start + 2]), int(r[start + 3]), int(r[start + 4]),
                 int(r[start + 5]), float(r[start + 6]), int(r[start + 7]), int(r[start + 8]),
                 int(r[start + 9]), r[start + 10], r[start + 11])


def period_key(day: dt.date, period: str, week_start: int = 0) -> str:
    """The row key ccusage uses: daily 'YYYY-MM-DD'; weekly the first day of the week
    'YYYY-MM-DD' (week_start 0=Monday .. 6=Sunday); monthly 'YYYY-MM'."""
    if period == "daily":
        return day.isoformat()
    if period == "weekly":
        return (day - dt.timedelta(days=(day.weekday() - week_start) % 7)).isoformat()
    if period == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    raise ValueError(f"unknown period {period!r}")


def usage_by_period(store, period: str, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc,
                    *, week_start: int = 0) -> list[Group]:
    """Usage per local day / week / month, oldest first. Each Group's `key` is the ccusage key
    (see period_key); `models` holds the per-model split for --breakdown and modelsUsed."""
    acc: dict[tuple, list] = {}
    key_of: dict[int, str] = {}
    for r in day_rows(store, filters, tz):
        key = key_of.get(r[0])
        if key is None:
            key = key_of[r[0]] = period_key(EPOCH_DAY + dt.timedelta(days=r[0]), period, week_start)
        merge_sums(acc, (key, r[1], r[2] or UNKNOWN_MODEL), r, 3)
    return _groups(acc, lambda key: Group(key=key))


def day_rows(store, filters: Filters, tz: dt.tzinfo) -> list[tuple] | sqlite3.Cursor:
    """(local day number, agent, model, *_SUMS) of the filtered calls, one row per (day, agent,
    model), days ascending.

    Without a project filter they are summed from the quarter-hour sums (call_buckets: thousands
    of rows where the calls are millions; the grouped query costs ~1.7 µs a call, which a warm
    report over a big ledger cannot afford). A project filter, an offset that is no whole quarter
    hour or a read-only ledger whose sums are behind: the grouped query over the calls."""
    lo = first_call_ts(store, filters, tz)
    if lo is None:
        return []
    hi = first_call_ts(store, filters, tz, last=True)
    if hi is None:
        hi = lo
    if not filters.project:
        rows = _day_rows_from_buckets(store, filters, tz, lo, hi)
        if rows is not None:
            return rows
    day_expr, day_params = local_day_sql(tz, lo, hi)
    where, params = where_clause(filters, tz)
    sql = (f"SELECT {day_expr} AS d, agent, model, {_SUMS} FROM calls{where} "
           "GROUP BY d, agent, model ORDER BY d, agent, model")
    return store.db.execute(sql, day_params + params)


def _day_rows_from_buckets(store, filters: Filters, tz: dt.tzinfo, lo: int, hi: int):
    """day_rows from the quarter-hour sums (call_buckets): a local day is a whole number of
    quarter hours wherever every UTC offset met is one (all zones today; not some historical
    ones, nor times before 1970). None when they cannot serve (such an offset, or a read-only
    ledger whose sums are behind): then the caller sums the calls."""
    segs = offset_segments(tz, lo, hi)
    if lo < 0 or any(off % BUCKET_MS for _, off in segs) or not store.refresh_buckets():
        return None
    day_expr, day_params = local_day_sql(tz, lo, hi, column=f"(bucket * {BUCKET_MS})", segs=segs)
    sql = (f"SELECT {day_expr} AS d, agent, model, SUM(input_tokens), SUM(output_tokens), SUM(reasoning_tokens), "
           "SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), TOTAL(cost), "
           "SUM(calls), SUM(unpriced_calls), SUM(unpriced_tokens), MIN(first_ts), MAX(last_ts) "
           "FROM call_buckets WHERE bucket >= ? AND bucket <= ?")
    params = [*day_params, lo // BUCKET_MS, hi // BUCKET_MS]
    if filters.agents:
        sql += f" AND agent IN ({', '.join('?' * len(filters.agents))})"
        params += filters.agents
    # (lo and hi are the first and last matching calls, and since/until are local midnights,
    # themselves quarter hours: the buckets from lo's to hi's hold exactly the calls between)
    return store.summed(sql + " GROUP BY d, agent, model ORDER BY d, agent, model", params)


def agent_models(store, agents: tuple[str, ...] | None) -> list[tuple[str, str | None]]:
    """Every (agent, model) in the ledger (of `agents` when given), in (agent, model) order with
    no model first: from the quarter-hour sums (a few thousand rows), or the calls when those
    cannot be brought up to date (a read-only ledger)."""
    table = "call_buckets" if store.refresh_buckets() else "calls"
    sql = f"SELECT DISTINCT agent, model FROM {table}"
    params: tuple = ()
    if agents:
        sql += f" WHERE agent IN ({', '.join('?' * len(agents))})"
        params = tuple(agents)
    return store.db.execute(sql + " ORDER BY agent, model IS NOT NULL, model", params).fetchall()


def merge_sums(acc: dict, k: tuple, r: tuple, start: int) -> None:
    """Add one aggregate row's _SUMS (from column `start`) into acc[k]: tight, no objects."""
    cur = acc.get(k)
    if cur is None:
        acc[k] = list(r[start:start + 12])
        return
    for i in range(10):
        cur[i] += r[start + i]
    if r[start + 10] < cur[10]:
        cur[10] = r[start + 10]
    if r[start + 11] > cur[11]:
        cur[11] = r[start + 11]


def _groups(acc: dict, make) -> list:
    """Groups (made by make(key)) from merge_sums'd sums keyed (group key, agent, model), in key order."""
    groups: dict = {}
    for (key, agent, model), v in acc.items():
        g = groups.get(key)
        if g is None:
            g = groups[key] = make(key)
        g.add_part(model, agent, usage_from_sums(v, 0))
    return [groups[k] for k in sorted(groups)]


class SessionGroup(Group):
    __slots__ = ("agent", "session_id", "project")

    def __init__(self, *args, agent: str = "", session_id: str = "", project: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.session_id = session_id
        self.project = project      # the session's working directory (the one most calls ran in)


def usage_by_session(store, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc) -> list[SessionGroup]:
    """Usage per (agent, session), ordered by last activity, oldest first. Subagent calls count
    in their parent session (adapters give them the parent's session_id)."""
    where, params = where_clause(filters, tz)
    sql = (f"SELECT agent, session_id, model, project, {_SUMS} FROM calls{where} "
           "GROUP BY agent, session_id, model, project")
    sessions: dict[tuple, SessionGroup] = {}
    project_calls: dict[tuple, dict[str | None, int]] = {}
    for r in store.db.execute(sql, params):
        k = (r[0], r[1])
        s = sessions.get(k)
        if s is None:
            s = sessions[k] = SessionGroup(key=r[1] or "", agent=r[0], session_id=r[1] or "")
        part = usage_from_sums(r, 4)
        s.add_part(r[2] or UNKNOWN_MODEL, r[0], part)
        counts = project_calls.setdefault(k, {})
        counts[r[3]] = counts.get(r[3], 0) + part.calls
    for k, s in sessions.items():
        s.project = main_project(project_calls[k])
    return sorted(sessions.values(), key=lambda s: (s.last_ts or 0, s.agent, s.session_id))


def main_project(calls_by_project: dict[str | None, int]) -> str | None:
    """A session's project: the one most of its calls name (a known one before none, then by
    name, so the choice never depends on the order rows come in)."""
    return max(calls_by_project, key=lambda p: (calls_by_project[p], p is not None, p or ""))


def usage_by_bucket(store, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc, *,
                    bucket_ms: int = BUCKET_MS, upper_closed: bool = False
                    ) -> Iterator[tuple[int, str, str, Usage]]:
    """(bucket, agent, model, usage) in time order. Bucket b spans [b*bucket_ms, (b+1)*bucket_ms),
    or with upper_closed (b*bucket_ms, (b+1)*bucket_ms], which puts a call exactly on a boundary
    with the calls before it (how 5-hour blocks treat their end)."""
    for r in bucket_rows(store, filters, tz, bucket_ms=bucket_ms, upper_closed=upper_closed):
        yield r[0], r[1], r[2] or UNKNOWN_MODEL, usage_from_sums(r, 3)


def bucket_rows(store, filters: Filters, tz: dt.tzinfo, *, bucket_ms: int = BUCKET_MS, upper_closed: bool = False):
    """usage_by_bucket's raw rows: (bucket, agent, model, *_SUMS), for callers that fold many."""
    where, params = where_clause(filters, tz)
    b = f"(ts - 1) / {int(bucket_ms)}" if upper_closed else f"ts / {int(bucket_ms)}"
    return store.db.execute(
        f"SELECT {b} AS b, agent, model, {_SUMS} FROM calls{where} GROUP BY b, agent, model ORDER BY b", params)


def first_call_ts(store, filters: Filters, tz: dt.tzinfo, *, after: int | None = None,
                  before: int | None = None, last: bool = False) -> int | None:
    """The time of the first (or `last`) call matching filters in (after, before], found by
    walking the ts index: no scan."""
    where, params = where_clause(filters, tz)
    parts = [where[len(" WHERE "):]] if where else []
    if after is not None:
        parts.append("ts > ?")
        params.append(after)
    if before is not None:
        parts.append("ts <= ?")
        params.append(before)
    cond = (" WHERE " + " AND ".join(parts)) if parts else ""
    row = store.db.execute(f"SELECT ts FROM calls INDEXED BY calls_ts{cond} ORDER BY ts "
                           f"{'DESC' if last else 'ASC'} LIMIT 1", params).fetchone()
    return row[0] if row else None


def fetch_calls_ordered(store, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc
                        ) -> Iterator[sqlite3.Row]:
    """Per-call rows in time order, streamed from SQLite (never all in memory): for analyses
    that truly need single calls. Columns: every `calls` column."""
    where, params = where_clause(filters, tz)
    cur = store.db.cursor()
    cur.row_factory = sqlite3.Row
    yield from cur.execute(f"SELECT * FROM calls{where} ORDER BY ts, id", params)


def known_agents(store) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT DISTINCT agent FROM calls ORDER BY agent")]


def has_calls(store, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc) -> bool:
    where, params = where_clause(filters, tz)
    return store.db.execute(f"SELECT 1 FROM calls{where} LIMIT 1", params).fetchone() is not None
