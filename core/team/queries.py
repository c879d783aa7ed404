"""The `--team` reports' sums, computed on the server: the period reports from the quarter-hour
sums (call_buckets, kept by every push), sessions and blocks from grouped queries over the
calls; Python only folds the grouped rows into report rows, as the local reports do. Every row
is a member's: a day of alice and a day of bob are two rows. Under row-level security a member
sees only their own rows, a lead everyone's.

The local day of a quarter hour is computed in SQL exactly as locally (reports.query.local_day_sql:
the zone's offsets over the data's range), so a team report over one member's rows equals that
member's local report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..reports.blocks import HOUR_MS, Block, iso_ms  # (HOUR_MS: also the unit of call_hours)
from ..reports.query import (
    BUCKET_MS,
    EPOCH_DAY,
    UNKNOWN_MODEL,
    Filters,
    Group,
    SessionGroup,
    day_start_ms,
    local_day_sql,
    main_project,
    merge_sums,
    offset_segments,
    period_key,
    usage_from_sums,
)
from .config import hashed_project

if TYPE_CHECKING:
    import psycopg


class MemberGroup(Group):
    """A report row of one member (a day, week or month)."""
    __slots__ = ("member",)

    def __init__(self, *args, member: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member


class MemberSession(SessionGroup):
    __slots__ = ("member",)

    def __init__(self, *args, member: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member


class MemberBlock(Block):
    __slots__ = ("member",)

    def __init__(self, *args, member: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member


@dataclass(frozen=True)
class Scope:
    """What the team report covers: the usual filters plus one member (None: all visible)."""
    filters: Filters
    tz: dt.tzinfo
    member: str | None = None
    salt: str = ""           # the server's project salt: --project also matches a hashed key


_ROLLUP_SUMS = ("SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(reasoning_tokens)::bigint, "
                "SUM(cache_read_tokens)::bigint, SUM(cache_write_5m_tokens)::bigint, "
                "SUM(cache_write_1h_tokens)::bigint, COALESCE(SUM(cost), 0), SUM(calls)::bigint, "
                "SUM(unpriced_calls)::bigint, SUM(unpriced_tokens)::bigint, MIN(first_ts), MAX(last_ts)")
_CALL_SUMS = ("SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(reasoning_tokens)::bigint, "
              "SUM(cache_read_tokens)::bigint, SUM(cache_write_5m_tokens)::bigint, "
              "SUM(cache_write_1h_tokens)::bigint, COALESCE(SUM(cost), 0), COUNT(*), "
              "COUNT(*) FILTER (WHERE cost IS NULL), COALESCE(SUM(input_tokens + output_tokens + reasoning_tokens "
              "+ cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens) FILTER (WHERE cost IS NULL), 0)"
              "::bigint, MIN(ts), MAX(ts)")


def _pg(sql: str) -> str:
    """reports.query's SQL pieces use sqlite's `?`; psycopg's placeholder is %s."""
    return sql.replace("?", "%s")


# The sums a period report reads: (table, its time column, that column's unit in ms).
QUARTERS = ("call_buckets", "bucket", BUCKET_MS)
HOURS = ("call_hours", "hour", HOUR_MS)


def _where(scope: Scope, *, rollup: bool, level: tuple[str, str, int] = QUARTERS) -> tuple[list[str], list]:
    f: Any = scope.filters           # (a Record: its fields are set in __init__ through object.__setattr__)
    parts: list[str] = []
    params: list[Any] = []
    lo = day_start_ms(f.since, scope.tz) if f.since else None
    hi = day_start_ms(f.until + dt.timedelta(days=1), scope.tz) if f.until else None
    if rollup:        # (local midnights are whole quarter hours, or hours: the sums hold exactly those calls)
        _, column, unit = level
        if lo is not None:
            parts.append(f"{column} >= %s")
            params.append(lo // unit)
        if hi is not None:
            parts.append(f"{column} < %s")
            params.append(hi // unit)
    else:
        if lo is not None:
            parts.append("ts >= %s")
            params.append(lo)
        if hi is not None:
            parts.append("ts < %s")
            params.append(hi)
        if f.project:
            parts.append("(strpos(project, %s) > 0 OR project = %s)")
            params += [f.project, hashed_project(scope.salt, f.project)]
    if f.agents:
        parts.append("agent = ANY(%s)")
        params.append(list(f.agents))
    if scope.member:
        parts.append("member = %s")
        params.append(scope.member)
    return parts, params


def _reading(cur: psycopg.Cursor) -> None:
    """For this transaction's report queries: room to hash-aggregate a year of a team's quarter
    hours in memory (the default 4 MB sorted them on disk), and no JIT compilation (~0.1 s of
    compiling for queries that run in about a second). 10M calls, 700,800 quarter-hour rows, one
    EXPLAIN ANALYZE each on a loaded machine: 2.3 s -> 1.6 s (noisy: 0.6-1.5 s in later runs)."""
    cur.execute("SET LOCAL work_mem = '64MB'")
    cur.execute("SET LOCAL jit = off")


def _sql_where(parts: list[str]) -> str:
    return (" WHERE " + " AND ".join(parts)) if parts else ""


def day_rows(conn: psycopg.Connection, scope: Scope) -> list[tuple]:
    """(local day number, member, agent, model, *sums) of the scope, one row per (day, member,
    agent, model), days ascending: from the quarter-hour sums (or the calls, with a project filter
    or an offset that is no whole quarter hour)."""
    rollup = not getattr(scope.filters, "project", None)
    parts, params = _where(scope, rollup=rollup)
    table, first, last = ("call_buckets", "first_ts", "last_ts") if rollup else ("calls", "ts", "ts")
    with conn.cursor() as cur:
        _reading(cur)
        if rollup:    # (the first and last quarter hours by the bucket index, then their calls' times)
            where = _sql_where(parts)
            cur.execute(f"SELECT (SELECT MIN(first_ts) FROM call_buckets{where}{' AND' if parts else ' WHERE'} "
                        f"bucket = (SELECT MIN(bucket) FROM call_buckets{where})), "
                        f"(SELECT MAX(last_ts) FROM call_buckets{where}{' AND' if parts else ' WHERE'} "
                        f"bucket = (SELECT MAX(bucket) FROM call_buckets{where}))", params * 4)
        else:
            cur.execute(f"SELECT MIN({first}), MAX({last}) FROM {table}{_sql_where(parts)}", params)
        bounds = cur.fetchone()
        if not bounds or bounds[0] is None:
            conn.rollback()
            return []
        lo, hi = int(bounds[0]), int(bounds[1])
        segs = offset_segments(scope.tz, lo, hi)
        if rollup and (lo < 0 or any(off % BUCKET_MS for _, off in segs)):
            rollup = False            # (an offset that is no whole quarter hour: sum the calls)
            parts, params = _where(scope, rollup=False)
        if rollup:
            # whole-hour offsets changing on whole hours (most zones): the hours, a quarter of the
            # rows; else the quarter hours
            hourly = all(off % HOUR_MS == 0 for _, off in segs) and all(at % HOUR_MS == 0 for at, _ in segs[1:])
            level = HOURS if hourly else QUARTERS
            table, column, unit = level
            parts, params = _where(scope, rollup=True, level=level)
            day_expr, day_params = local_day_sql(scope.tz, lo, hi, column=f"({column}::bigint * {unit})", segs=segs)
            sums = _ROLLUP_SUMS
        else:
            day_expr, day_params = local_day_sql(scope.tz, lo, hi, column="ts", segs=segs)
            sums, table = _CALL_SUMS, "calls"
        cur.execute(f"SELECT {_pg(day_expr)} AS d, member, agent, model, {sums} FROM {table}{_sql_where(parts)} "
                    "GROUP BY d, member, agent, model ORDER BY d, member, agent, model", day_params + params)
        rows = cur.fetchall()
    conn.rollback()
    return rows


def period_groups(conn: psycopg.Connection, period: str, scope: Scope, *, week_start: int = 0) -> list[MemberGroup]:
    """Usage per (local day / week / month, member), oldest first, then by member."""
    rows = day_rows(conn, scope)
    acc: dict[tuple, list] = {}
    key_of: dict[int, str] = {}
    for r in rows:
        key = key_of.get(r[0])
        if key is None:
            key = key_of[r[0]] = period_key(EPOCH_DAY + dt.timedelta(days=int(r[0])), period, week_start)
        merge_sums(acc, ((key, r[1]), r[2], r[3] or UNKNOWN_MODEL), r, 4)
    groups: dict[tuple, MemberGroup] = {}
    for ((key, member), agent, model), v in acc.items():
        g = groups.get((key, member))
        if g is None:
            g = groups[(key, member)] = MemberGroup(key=key, member=member)
        g.add_part(model, agent, usage_from_sums(tuple(v), 0))
    return [groups[k] for k in sorted(groups)]


def sessions(conn: psycopg.Connection, scope: Scope) -> list[MemberSession]:
    """Usage per (member, agent, session), by last activity, oldest first."""
    parts, params = _where(scope, rollup=False)
    with conn.cursor() as cur:
        _reading(cur)
        cur.execute(f"SELECT member, agent, session_id, model, project, {_CALL_SUMS} FROM calls{_sql_where(parts)} "
                    "GROUP BY member, agent, session_id, model, project", params)
        rows = cur.fetchall()
    conn.rollback()
    out: dict[tuple, MemberSession] = {}
    project_calls: dict[tuple, dict[str | None, int]] = {}
    for r in rows:
        k = (r[0], r[1], r[2])
        s = out.get(k)
        if s is None:
            s = out[k] = MemberSession(key=r[2] or "", agent=r[1], session_id=r[2] or "", member=r[0])
        part = usage_from_sums(r, 5)
        s.add_part(r[3] or UNKNOWN_MODEL, r[1], part)
        counts = project_calls.setdefault(k, {})
        counts[r[4]] = counts.get(r[4], 0) + part.calls
    for k, s in out.items():
        s.project = main_project(project_calls[k])
    return sorted(out.values(), key=lambda s: (s.last_ts or 0, s.member, s.agent, s.session_id))


def blocks(conn: psycopg.Connection, scope: Scope, *, now_ms: int, hours: float) -> list[MemberBlock]:
    """Each member's 5-hour blocks (gaps included), by start then member. The server sums each
    member's calls per quarter hour closed at the top (a call exactly at a block's end belongs to
    it, as locally); block ends are whole quarters, so each quarter lies in one block, and the
    blocks are cut from the quarters' first and last calls, exactly as from the calls."""
    length = round(hours * HOUR_MS)
    parts, params = _where(scope, rollup=False)
    with conn.cursor() as cur:
        _reading(cur)
        cur.execute(f"SELECT member, (ts - 1) / {BUCKET_MS} AS b, agent, model, {_CALL_SUMS} FROM calls"
                    f"{_sql_where(parts)} GROUP BY member, b, agent, model ORDER BY member, b", params)
        rows = cur.fetchall()
    conn.rollback()
    out: list[MemberBlock] = []
    by_member: dict[str, list[tuple]] = {}
    for r in rows:
        by_member.setdefault(r[0], []).append(r)
    for member, quarters in by_member.items():
        mine: list[MemberBlock] = []
        current: MemberBlock | None = None
        acc: dict[tuple, list] = {}
        quarter_min: dict[int, int] = {}
        for r in quarters:
            quarter_min[r[1]] = min(quarter_min.get(r[1], int(r[14])), int(r[14]))
        for r in quarters:
            first_ts = quarter_min[r[1]]
            if current is None or first_ts > current.end_ms:
                start = first_ts - first_ts % HOUR_MS
                current = MemberBlock(key=iso_ms(start), start_ms=start, end_ms=start + length, member=member)
                mine.append(current)
            merge_sums(acc, (len(mine) - 1, r[2], r[3] or UNKNOWN_MODEL), r, 4)
        for (i, agent, model), v in acc.items():
            mine[i].add_part(model, agent, usage_from_sums(tuple(v), 0))
        for i, b in enumerate(mine):
            prev = mine[i - 1] if i else None
            if prev is not None and prev.last_ts is not None and b.first_ts is not None \
                    and b.first_ts - prev.last_ts > length:
                out.append(MemberBlock(key="gap-" + iso_ms(prev.last_ts + length), start_ms=prev.last_ts + length,
                                       end_ms=b.first_ts, is_gap=True, member=member))
            b.is_active = b.last_ts is not None and now_ms - b.last_ts < length and now_ms < b.end_ms
            out.append(b)
    out.sort(key=lambda b: (b.start_ms, b.member))
    return out


_SPEND_COST = "CASE WHEN origin = 'manual' AND recorded_cost IS NOT NULL THEN recorded_cost ELSE cost END"


def team_subscriptions(conn: psycopg.Connection, member: str | None = None) -> list[dict]:
    """Every member's plans (as config.yaml's `subscriptions` entries), each plan named
    'member: plan' so two members' plans of one name stay apart."""
    with conn.cursor() as cur:
        _reading(cur)
        cur.execute("SELECT member, plan, agent, monthly_fee, start_date, end_date FROM subscriptions "
                    + ("WHERE member = %s " if member else "") + "ORDER BY member, plan, start_date",
                    (member,) if member else ())
        rows = cur.fetchall()
    conn.rollback()
    return [{"plan": f"{r[0]}: {r[1]}", "agent": r[2], "monthly_fee": r[3], "start": r[4], "end": r[5]}
            for r in rows]


def spend_lines(conn: psycopg.Connection, scope: Scope, subscriptions: list) -> list:
    """accounting.spend's Lines over the team (budget, subscriptions): per local day, agent,
    model and origin, summed on the server per quarter hour and member; usage is covered by a
    plan of its own member (plans named 'member: plan', see team_subscriptions). Categories,
    features and sessions are not sent to the server: every line's category is '(team)'."""
    from ..accounting.spend import Line
    from ..accounting.subscriptions import covering
    parts, params = _where(scope, rollup=False)
    with conn.cursor() as cur:
        _reading(cur)
        cur.execute(f"SELECT ts / {BUCKET_MS}, member, agent, model, origin, COUNT(*), SUM(input_tokens)::bigint, "
                    "SUM(output_tokens + reasoning_tokens)::bigint, SUM(cache_read_tokens)::bigint, "
                    "SUM(cache_write_5m_tokens + cache_write_1h_tokens)::bigint, "
                    f"COALESCE(SUM({_SPEND_COST}), 0), COUNT(*) FILTER (WHERE ({_SPEND_COST}) IS NULL) "
                    f"FROM calls{_sql_where(parts)} GROUP BY 1, 2, 3, 4, 5", params)
        rows = cur.fetchall()
    conn.rollback()
    by_member: dict[str, list] = {}
    for s in subscriptions:
        by_member.setdefault(s.plan.split(": ", 1)[0], []).append(s)
    merged: dict[tuple, Any] = {}
    for r in rows:
        day = dt.datetime.fromtimestamp(int(r[0]) * BUCKET_MS / 1000, scope.tz).date()
        member, agent, model, origin = r[1], r[2], r[3] or UNKNOWN_MODEL, r[4] or "auto"
        plan = covering(by_member.get(member, []), agent, day) if origin == "auto" else None
        key = (day, agent, model, origin, plan)
        line = merged.get(key)
        if line is None:
            merged[key] = Line(day, agent, model, origin, "(team)", None, None, int(r[5]), int(r[6]), int(r[7]),
                               int(r[8]), int(r[9]), float(r[10]), int(r[11]), plan)
        else:
            line.calls += int(r[5])
            line.input_tokens += int(r[6])
            line.output_tokens += int(r[7])
            line.cache_read_tokens += int(r[8])
            line.cache_write_tokens += int(r[9])
            line.cost += float(r[10])
            line.unpriced_calls += int(r[11])
    return sorted(merged.values(), key=lambda l: (l.day, l.agent, l.model, l.origin))
