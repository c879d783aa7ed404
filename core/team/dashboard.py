"""`token-roi dashboard --team`: the dashboard's Overview, Sessions and Models pages answered
from the team server, read with the person's own login (row-level security applies: a member
sees their own rows, a lead everyone's). The server still listens on loopback only, for the
person who ran it. The other pages (value, plans, budget, prices) stay those of this machine's
ledger; /api/meta says the team mode is on, and the chart stacks by member too.

The answers have the local endpoints' shapes (dashboard/api.py), with a `member` on each session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..reports.query import EPOCH_DAY, UNKNOWN_MODEL, Group, Usage, totals, usage_from_sums
from . import server
from .config import TeamConfig, redact
from .queries import Scope, day_rows
from .queries import sessions as team_sessions

STACKS = ("agent", "model", "member")


class TeamSource:
    """The team server behind the endpoints: a connection per request (the server's threads)."""

    def __init__(self, cfg: TeamConfig):
        self.cfg = cfg
        conn = server.connect(cfg.url)          # (a bad URL or login stops `dashboard --team` at once)
        try:
            server.check_schema(conn)
            info = server.meta(conn)
            self.salt, self.login = info.get("project_salt", ""), conn.info.user
        finally:
            conn.close()

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        conn = server.connect(self.cfg.url)
        try:
            return fn(conn, *args)
        finally:
            conn.close()

    def scope(self, f, tz: dt.tzinfo, q: dict) -> Scope:
        return Scope(f, tz, q.get("member") or None, self.salt)


def install(api: Any, cfg: TeamConfig) -> TeamSource:
    """Point api.GET's overview, sessions, models and meta at the team server."""
    source = TeamSource(cfg)
    local_meta = api.GET["meta"]

    def parts(ctx, f, q) -> list[tuple[str, str, str, str, Usage]]:
        rows = source.run(day_rows, source.scope(f, ctx.tz, q))
        return [((EPOCH_DAY + dt.timedelta(days=int(r[0]))).isoformat(), r[1], r[2], r[3] or UNKNOWN_MODEL,
                 usage_from_sums(r, 4)) for r in rows]

    def total_of(found) -> Group:
        days: dict[str, Group] = {}
        for day, _member, agent, model, u in found:
            days.setdefault(day, Group(key=day)).add_part(model, agent, u)
        return totals([days[d] for d in sorted(days)])

    def session_row(s, tz) -> dict:
        return {**api.session_row(s, tz), "member": s.member}

    def overview(ctx, q: dict) -> dict:
        f, period = api.period_filters(ctx, q)
        stack = q.get("stack") or "agent"
        if stack not in STACKS:
            raise api.BadRequest(f"stack {stack!r}: expected one of {', '.join(STACKS)}")
        found = parts(ctx, f, q)
        total = total_of(found)
        days = sorted({p[0] for p in found})
        if days:
            lo = min(f.since or dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[0]))
            hi = max(f.until or dt.date.fromisoformat(days[-1]), dt.date.fromisoformat(days[-1]))
            labels = api._days(lo, hi)
        else:
            labels = api._days(f.since, f.until) if f.since and f.until else []
        index = {d: i for i, d in enumerate(labels)}
        stacks: dict[str, list[Usage]] = {}
        for day, member, agent, model, u in found:
            name = {"agent": agent, "model": model, "member": member}[stack]
            row = stacks.setdefault(name, [Usage() for _ in labels])
            row[index[day]].add(u)
        series: list[dict[str, Any]] = [
            {"name": name, "cost": [round(u.cost, 6) for u in row], "tokens": [u.total_tokens for u in row],
             "unpricedCalls": [u.unpriced_calls for u in row], "total": round(sum(u.cost for u in row), 6)}
            for name, row in stacks.items()]
        series.sort(key=lambda s: (-s["total"], s["name"]))
        recent = source.run(team_sessions, source.scope(f, ctx.tz, q))[-api.RECENT_SESSIONS:][::-1]
        return {**period, "today": ctx.today.isoformat(), "totals": api.usage_json(total),
                "agents": list(total.agents), "unpricedModels": total.unpriced_models,
                "chart": {"stack": stack, "labels": labels, "series": series},
                "recentSessions": [session_row(s, ctx.tz) for s in recent],
                "members": sorted({p[1] for p in found})}

    def sessions(ctx, q: dict) -> dict:
        f, period = api.period_filters(ctx, q)
        sort = q.get("sort") or "last"
        if sort not in (*api.SESSION_SORTS, "member"):
            raise api.BadRequest(f"sort {sort!r}: expected one of {', '.join(api.SESSION_SORTS)}, member")
        desc = (q.get("dir") or "desc") != "asc"
        try:
            limit = min(max(int(q.get("limit") or 50), 1), api.MAX_PAGE)
            offset = max(int(q.get("offset") or 0), 0)
        except ValueError:
            raise api.BadRequest("limit and offset must be whole numbers") from None
        rows = source.run(team_sessions, source.scope(f, ctx.tz, q))
        text = (q.get("q") or "").lower()
        if text:
            rows = [s for s in rows if text in s.session_id.lower() or text in (s.project or "").lower()
                    or text in s.member.lower()]
        keys: dict[str, Callable[[Any], Any]] = {
            "last": lambda s: s.last_ts or 0, "first": lambda s: s.first_ts or 0, "cost": lambda s: s.cost,
            "tokens": lambda s: s.total_tokens, "calls": lambda s: s.calls, "agent": lambda s: s.agent,
            "project": lambda s: s.project or "", "member": lambda s: s.member}
        total = totals(list(rows))
        rows.sort(key=keys[sort], reverse=desc)
        return {**period, "sort": sort, "dir": "desc" if desc else "asc", "count": len(rows), "offset": offset,
                "limit": limit, "totals": api.usage_json(total),
                "sessions": [session_row(s, ctx.tz) for s in rows[offset:offset + limit]]}

    def models(ctx, q: dict) -> dict:
        f, period = api.period_filters(ctx, q)
        total = total_of(parts(ctx, f, q))
        out = []
        for m in sorted(total.models, key=lambda m: (-total.models[m].cost, -total.models[m].total_tokens, m)):
            u = total.models[m]
            out.append({"model": m, **api.usage_json(u), "cacheHitRate": api.cache_hit_rate(u)})
        return {**period, "totals": {**api.usage_json(total), "cacheHitRate": api.cache_hit_rate(total)},
                "models": out}

    def meta(ctx, q: dict) -> dict:
        return {**local_meta(ctx, q), "team": {"server": redact(cfg.url), "login": source.login,
                                               "pages": ["dashboard", "sessions", "models"]}}

    api.GET.update({"overview": overview, "sessions": sessions, "models": models, "meta": meta})
    api.overview = overview          # (the server computes the first overview early, by this name)
    return source
