"""The dashboard's JSON endpoints: each one calls the library the CLI uses (reports.query,
accounting, pricing, value) and shapes its result for the page. No figure is computed here that
the library does not compute; the page only lays them out.

Every handler takes a `Context` (the store for this request, zone, settings, today) and the
query parameters (a dict of str -> str) and returns a JSON-able dict. A problem with what the
page asked for raises `BadRequest`: the server answers 400 with its one-line message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import __version__, paths, pricing
from ..accounting import budget as budget_mod
from ..accounting import suggestions
from ..accounting.spend import group, judge, spend_lines, total
from ..accounting.subscriptions import fixed_total, from_config, month_bounds
from ..adapters import AGENT_NAMES
from ..config import config_path, get
from ..dates import DateError, parse_date
from ..pricing import apply as pricing_apply
from ..reports import query
from ..reports.query import Filters, Usage
from ..store import Store
from ..value import roi
from ..value.rates import Range, RatesError, roi_range

PERIODS = ("today", "7d", "30d", "month", "all", "custom")
DEFAULT_PERIOD = "30d"
RECENT_SESSIONS = 10
SESSION_SORTS = ("last", "first", "cost", "tokens", "calls", "agent", "project")
MAX_PAGE = 500
NEWEST_PAGES = 2000     # the Sessions page's default order is read from the time index this deep


class BadRequest(Exception):
    """A bad parameter: one line for the page."""


@dataclass
class Context:
    store: Store
    tz: dt.tzinfo
    cfg: dict
    today: dt.date
    git: bool = True


# -- parameters -----------------------------------------------------------------------------------

def _date(value: str, name: str) -> dt.date:
    try:
        return parse_date(value, name)
    except DateError as exc:
        raise BadRequest(str(exc)) from None


def period_filters(ctx: Context, q: dict) -> tuple[Filters, dict]:
    """Filters for ?period=today|7d|30d|month|all|custom (&since=&until= for custom), &agent=,
    &project=; and a description of the resolved period for the page."""
    period = q.get("period") or DEFAULT_PERIOD
    today = ctx.today
    if period not in PERIODS:
        raise BadRequest(f"period {period!r}: expected one of {', '.join(PERIODS)}")
    since = until = None
    if period == "today":
        since = until = today
    elif period == "7d":
        since, until = today - dt.timedelta(days=6), today
    elif period == "30d":
        since, until = today - dt.timedelta(days=29), today
    elif period == "month":
        since, until = today.replace(day=1), today
    elif period == "custom":
        since = _date(q["since"], "since") if q.get("since") else None
        until = _date(q["until"], "until") if q.get("until") else None
        if since and until and since > until:
            raise BadRequest(f"since {since} is after until {until}")
    agents = None
    if q.get("agent"):
        names = tuple(a for a in q["agent"].split(",") if a)
        for a in names:
            if a not in AGENT_NAMES:
                raise BadRequest(f"agent {a!r}: unknown agent (valid: {', '.join(AGENT_NAMES)})")
        agents = names or None
    f = Filters(since, until, q.get("project") or None, agents)
    return f, {"period": period, "since": since.isoformat() if since else None,
               "until": until.isoformat() if until else None}


# -- shapes ---------------------------------------------------------------------------------------

def usage_json(u: Usage) -> dict:
    return {
        "calls": u.calls, "totalTokens": u.total_tokens, "inputTokens": u.input_tokens,
        "outputTokens": u.output_tokens, "reasoningTokens": u.reasoning_tokens,
        "cacheReadTokens": u.cache_read_tokens, "cacheWrite5mTokens": u.cache_write_5m_tokens,
        "cacheWrite1hTokens": u.cache_write_1h_tokens, "cost": round(u.cost, 6),
        "unpricedCalls": u.unpriced_calls, "unpricedTokens": u.unpriced_tokens,
        "fullyUnpriced": u.fully_unpriced,
        "firstTs": u.first_ts, "lastTs": u.last_ts,
    }


def cache_hit_rate(u: Usage) -> float | None:
    """Share of prompt tokens read from the cache (reads / (uncached input + reads + writes))."""
    prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
    return u.cache_read_tokens / prompt if prompt else None


def _iso(ms: int | None, tz: dt.tzinfo) -> str | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="seconds")


MAX_CHART_DAYS = 3660    # a chart of every day over ten years; a wider period charts the days with data


def _days(since: dt.date, until: dt.date) -> list[str]:
    out, d = [], since
    while d <= until:
        out.append(d.isoformat())
        d += dt.timedelta(days=1)
    return out


def session_row(s, tz: dt.tzinfo) -> dict:
    return {"agent": s.agent, "sessionId": s.session_id, "project": s.project or "",
            "first": _iso(s.first_ts, tz), "last": _iso(s.last_ts, tz),
            "models": s.models_used, **usage_json(s)}


# -- endpoints ------------------------------------------------------------------------------------

def daily_parts(store, f: Filters, tz: dt.tzinfo) -> list[tuple[str, str, str, Usage]]:
    """(local day, agent, model, usage) of the filtered calls: the library's day_rows (what
    usage_by_period folds), read before the agents are folded together so the chart can stack
    by agent or by model."""
    return [((query.EPOCH_DAY + dt.timedelta(days=r[0])).isoformat(), r[1], r[2] or query.UNKNOWN_MODEL,
             query.usage_from_sums(r, 3)) for r in query.day_rows(store, f, tz)]


def day_groups(parts) -> dict[str, query.Group]:
    """daily_parts folded into a Group per day (usage_by_period's daily rows)."""
    days: dict[str, query.Group] = {}
    for day, agent, model, u in parts:
        days.setdefault(day, query.Group(key=day)).add_part(model, agent, u)
    return days


def period_total(store, f: Filters, tz: dt.tzinfo) -> query.Group:
    """The period's totals per model and overall, as query.totals(usage_by_period(...)) gives
    them, from daily_parts' index ranges."""
    days = day_groups(daily_parts(store, f, tz))
    return query.totals([days[d] for d in sorted(days)])


def session_group(store, agent: str, sid: str | None, f: Filters = Filters(),
                  tz: dt.tzinfo = dt.timezone.utc) -> query.SessionGroup:
    """One session's usage within the filters, as usage_by_session builds it (per-model split,
    project = the one most calls ran in), read through the session index."""
    where, params = query.where_clause(f, tz)
    cond = (where + " AND " if where else " WHERE ") + "agent = ? AND session_id IS ?"
    sql = (f"SELECT model, project, {query._SUMS} FROM calls INDEXED BY calls_session{cond} "
           "GROUP BY model, project")
    g = query.SessionGroup(key=sid or "", agent=agent, session_id=sid or "")
    counts: dict = {}
    for r in store.db.execute(sql, params + [agent, sid]):
        part = query.usage_from_sums(r, 2)
        g.add_part(r[0] or query.UNKNOWN_MODEL, agent, part)
        counts[r[1]] = counts.get(r[1], 0) + part.calls
    if counts:
        g.project = max(counts, key=lambda p: (counts[p], p is not None, p or ""))
    return g


def recent_sessions(store, f: Filters, tz: dt.tzinfo, n: int = RECENT_SESSIONS) -> list[query.SessionGroup]:
    """The n sessions with the latest calls in the filters, newest first: found by walking the
    time index backwards (a few rows, not the period), each then summed by session_group."""
    where, params = query.where_clause(f, tz)
    found: list[tuple[str, str | None]] = []
    cur = store.db.execute(f"SELECT agent, session_id FROM calls INDEXED BY calls_ts{where} ORDER BY ts DESC", params)
    for agent, sid in cur:
        if (agent, sid) not in found:
            found.append((agent, sid))
            if len(found) == n:
                break
    cur.close()
    return [session_group(store, agent, sid, f, tz) for agent, sid in found]


def newest_sessions(store, f: Filters, tz: dt.tzinfo, offset: int, limit: int) -> tuple[int, list[query.SessionGroup]]:
    """(how many sessions the filters hold, those from offset to offset + limit in the Sessions
    page's default order): usage_by_session's rows sorted by last call, newest first, ties by
    agent and id. Found by walking the time index backwards, a session at its last call, and
    summed by session_group: a few thousand index rows, not a grouped scan of the period."""
    where, params = query.where_clause(f, tz)
    count = store.db.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM calls{where} GROUP BY agent, session_id)",
                             params).fetchone()[0]
    found: dict[tuple, int] = {}        # (agent, session) -> its last call's ts, newest first
    cur = store.db.execute(f"SELECT ts, agent, session_id FROM calls INDEXED BY calls_ts{where} ORDER BY ts DESC",
                           params)
    oldest = None                       # the last call of the last session found (walking back)
    for ts, agent, sid in cur:
        if (agent, sid) in found:
            continue
        if len(found) >= offset + limit and ts < oldest:
            break                       # past the page, and no later session ties the last one in it
        found[(agent, sid)] = oldest = ts
    cur.close()
    order = sorted(found, key=lambda k: (-found[k], k[0], k[1] or ""))[offset:offset + limit]
    return count, [session_group(store, agent, sid, f, tz) for agent, sid in order]


class SessionKey(NamedTuple):
    agent: str
    session_id: str | None
    first: int | None
    last: int | None
    cost: float
    tokens: int
    calls: int
    project: str | None


def session_keys(store, f: Filters, tz: dt.tzinfo, projects: bool = False) -> list[SessionKey]:
    """Every session in the filters with what the Sessions page sorts and searches by, in
    usage_by_session's order (last call, agent, id), from one grouped pass per session (the
    session index; all time on 1M calls ~0.5-0.8 s of CPU, not usage_by_session's ~3 s grouping
    by model and project too). The page's rows are then summed by session_group.
    projects: also each session's project as usage_by_session picks it (the one most calls ran
    in), asked again per session only for the few whose calls ran in more than one; without it
    project is None. cost is the session's calls' TOTAL(cost): usage_by_session adds the same
    costs per model and project first, so the two can differ in the last bit."""
    where, params = query.where_clause(f, tz)
    extra = ", MIN(project), MAX(project), COUNT(project)" if projects else ""
    sql = ("SELECT agent, session_id, MIN(ts), MAX(ts), TOTAL(cost), SUM(input_tokens + output_tokens + "
           "reasoning_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens), COUNT(*)"
           f"{extra} FROM calls{where} GROUP BY agent, session_id")
    out = []
    for r in store.db.execute(sql, params):
        project = None
        if projects:
            if r[9] == r[6] and r[7] == r[8]:
                project = r[7]              # every call in one project
            elif r[9]:                      # several (or some calls without one): count them
                cond = (where + " AND " if where else " WHERE ") + "agent = ? AND session_id IS ?"
                counts = dict(store.db.execute(f"SELECT project, COUNT(*) FROM calls INDEXED BY calls_session{cond} "
                                               "GROUP BY project", params + [r[0], r[1]]).fetchall())
                project = max(counts, key=lambda p: (counts[p], p is not None, p or ""))
        out.append(SessionKey(r[0], r[1], r[2], r[3], float(r[4]), int(r[5] or 0), r[6], project))
    out.sort(key=lambda k: (k.last or 0, k.agent, k.session_id or ""))
    return out


def overview(ctx: Context, q: dict) -> dict:
    """KPI figures, the daily cost chart (stacked by agent or model) and the recent sessions."""
    f, period = period_filters(ctx, q)
    stack = q.get("stack") or "agent"
    if stack not in ("agent", "model"):
        raise BadRequest(f"stack {stack!r}: expected agent or model")
    parts = daily_parts(ctx.store, f, ctx.tz)
    days = day_groups(parts)
    total = query.totals([days[d] for d in sorted(days)])
    if days:
        first, last = min(days), max(days)
        lo = min(f.since or dt.date.fromisoformat(first), dt.date.fromisoformat(first))
        hi = max(f.until or dt.date.fromisoformat(last), dt.date.fromisoformat(last))
        if (hi - lo).days > MAX_CHART_DAYS:          # (since=0001-01-01: the days that have data)
            lo, hi = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        labels = _days(lo, hi) if (hi - lo).days <= MAX_CHART_DAYS else sorted(days)
    else:
        labels = (_days(f.since, f.until) if f.since and f.until and (f.until - f.since).days <= MAX_CHART_DAYS
                  else [])
    index = {d: i for i, d in enumerate(labels)}
    stacks: dict[str, list[Usage]] = {}
    for day, agent, model, u in parts:
        name = agent if stack == "agent" else model
        row = stacks.get(name)
        if row is None:
            row = stacks[name] = [Usage() for _ in labels]
        row[index[day]].add(u)
    series: list[dict[str, Any]] = [
        {"name": name, "cost": [round(u.cost, 6) for u in row], "tokens": [u.total_tokens for u in row],
         "unpricedCalls": [u.unpriced_calls for u in row], "total": round(sum(u.cost for u in row), 6)}
        for name, row in stacks.items()]
    series.sort(key=lambda s: (-s["total"], s["name"]))
    recent = [session_row(s, ctx.tz) for s in recent_sessions(ctx.store, f, ctx.tz)]
    return {**period, "today": ctx.today.isoformat(), "totals": usage_json(total),
            "agents": list(total.agents), "unpricedModels": total.unpriced_models,
            "chart": {"stack": stack, "labels": labels, "series": series},
            "recentSessions": recent}


def _value_module():
    """core/value's report builder and its rates."""
    return roi, Range, RatesError, roi_range


def _range(r) -> dict | None:
    return None if r is None else {"low": round(r.low, 4), "mid": round(r.mid, 4), "high": round(r.high, 4)}


def value(ctx: Context, q: dict) -> dict:
    """Estimated value, ROI and NVA % of the period (core/value), with the value streams
    (projects), their overlap and the agents. {"available": false, "reason"} when the value
    module cannot run."""
    f, period = period_filters(ctx, q)
    mod = _value_module()
    if mod is None:
        return {**period, "available": False, "reason": "the value module (core/value) is not installed"}
    roi, Range, RatesError, roi_range = mod
    try:
        report = roi.build(ctx.store, f, ctx.tz, ctx.cfg, git=ctx.git)
    except RatesError as exc:
        return {**period, "available": False, "reason": str(exc)}
    # (only the parts this page shows: the per-session rows are most of the work on a big ledger)
    data = report.as_json(("benchmark", "projects", "overlap", "agents", "sessions_to_review"))
    # The period's totals fold the library's per-agent rows: value ranges add, ROI is the
    # library's roi_range of the sums, NVA % is cost-weighted as roi._nva_pct does.
    cost = sum(a["cost"] or 0.0 for a in data["agents"])
    low = sum(a["value"]["low"] for a in data["agents"] if a["value"])
    mid = sum(a["value"]["mid"] for a in data["agents"] if a["value"])
    high = sum(a["value"]["high"] for a in data["agents"] if a["value"])
    total_value = Range(low, mid, high)
    nva_cost = sum((a["nva_pct"] or 0.0) * (a["cost"] or 0.0) / 100 for a in data["agents"])
    categories: dict[str, int] = {}
    for a in data["agents"]:
        for c, n in (a.get("categories") or {}).items():
            categories[c] = categories.get(c, 0) + n
    return {**period, "available": bool(data["agents"]), "reason": None if data["agents"] else "no sessions",
            "sessions": len(report.sessions), "cost": round(cost, 6), "value": _range(total_value),
            "roi": _range(roi_range(total_value, cost)),
            "nvaPercent": round(nva_cost / cost * 100, 2) if cost > 0 else None,
            "categories": categories, "benchmark": data["benchmark"],
            "projects": data["projects"], "overlap": data["overlap"], "agents": data["agents"],
            "sessionsToReview": data["sessions_to_review"][:20]}


def sessions(ctx: Context, q: dict) -> dict:
    """Sessions of the period, filtered (?q= substring of id or project), sorted and paged."""
    f, period = period_filters(ctx, q)
    sort = q.get("sort") or "last"
    if sort not in SESSION_SORTS:
        raise BadRequest(f"sort {sort!r}: expected one of {', '.join(SESSION_SORTS)}")
    desc = (q.get("dir") or "desc") != "asc"
    try:
        limit = min(max(int(q.get("limit") or 50), 1), MAX_PAGE)
        offset = max(int(q.get("offset") or 0), 0)
    except ValueError:
        raise BadRequest("limit and offset must be whole numbers") from None
    text = (q.get("q") or "").lower()
    if sort == "last" and desc and not text and offset + limit <= NEWEST_PAGES:
        count, page = newest_sessions(ctx.store, f, ctx.tz, offset, limit)
        return {**period, "sort": sort, "dir": "desc", "count": count, "offset": offset, "limit": limit,
                "totals": usage_json(period_total(ctx.store, f, ctx.tz)),
                "sessions": [session_row(s, ctx.tz) for s in page]}
    rows = session_keys(ctx.store, f, ctx.tz, projects=bool(text) or sort == "project")
    if text:
        rows = [r for r in rows if text in (r.session_id or "").lower() or text in (r.project or "").lower()]
    keys = {"last": lambda r: r.last or 0, "first": lambda r: r.first or 0, "cost": lambda r: r.cost,
            "tokens": lambda r: r.tokens, "calls": lambda r: r.calls, "agent": lambda r: r.agent,
            "project": lambda r: r.project or ""}
    rows.sort(key=keys[sort], reverse=desc)      # stable: ties stay in usage_by_session's order
    page = [session_group(ctx.store, r.agent, r.session_id, f, ctx.tz) for r in rows[offset:offset + limit]]
    return {**period, "sort": sort, "dir": "desc" if desc else "asc", "count": len(rows),
            "offset": offset, "limit": limit, "totals": usage_json(period_total(ctx.store, f, ctx.tz)),
            "sessions": [session_row(s, ctx.tz) for s in page]}


def session_detail(ctx: Context, q: dict) -> dict:
    """One session: tokens by kind, per model, and from core/value its category, value range,
    ROI and loop attempts."""
    agent, sid = q.get("agent"), q.get("id")
    if not agent or not sid:
        raise BadRequest("agent and id are required")
    group = session_group(ctx.store, agent, sid)
    if not group.calls:
        raise BadRequest(f"no session {sid!r} of agent {agent!r} in the ledger")
    models = [{"model": m, **usage_json(group.models[m]), "cacheHitRate": cache_hit_rate(group.models[m])}
              for m in sorted(group.models, key=lambda m: (-group.models[m].cost, m))]
    out = {"agent": agent, "sessionId": sid, "project": group.project,
           "first": _iso(group.first_ts, ctx.tz), "last": _iso(group.last_ts, ctx.tz),
           **usage_json(group), "cacheHitRate": cache_hit_rate(group), "models": models, "value": None}
    mod = _value_module()
    if mod is not None and group.first_ts is not None and group.last_ts is not None:
        roi = mod[0]
        first = dt.datetime.fromtimestamp(group.first_ts / 1000, ctx.tz).date()
        last = dt.datetime.fromtimestamp(group.last_ts / 1000, ctx.tz).date()
        try:
            report = roi.build(ctx.store, Filters(first, last, None, (agent,)), ctx.tz, ctx.cfg, git=ctx.git)
        except mod[2] as exc:
            out["valueError"] = str(exc)
        else:
            for s in report.sessions:
                if s.session_id == sid:
                    out["value"] = roi.session_json(s)
                    out["value"]["whatHappened"] = roi.what_happened(s)
                    break
    return out


def models(ctx: Context, q: dict) -> dict:
    """Spend, tokens and cache hit rate per model over the period."""
    f, period = period_filters(ctx, q)
    total = period_total(ctx.store, f, ctx.tz)
    rows = []
    for m in sorted(total.models, key=lambda m: (-total.models[m].cost, -total.models[m].total_tokens, m)):
        u = total.models[m]
        rows.append({"model": m, **usage_json(u), "cacheHitRate": cache_hit_rate(u)})
    return {**period, "totals": {**usage_json(total), "cacheHitRate": cache_hit_rate(total)}, "models": rows}


def _accounting_lines(ctx: Context, since: dt.date, until: dt.date):
    subs = from_config(ctx.cfg)
    lines = spend_lines(ctx.store, filters=Filters(since=since, until=until), tz=ctx.tz,
                        branch_pattern=get(ctx.cfg, "feature.branch_pattern"), subscriptions=subs)
    return lines, subs


def subscriptions(ctx: Context, q: dict) -> dict:
    """Each flat-fee plan's break-even this month (what `token-roi subscriptions` shows)."""
    m_first, m_last = month_bounds(ctx.today)
    lines, subs = _accounting_lines(ctx, m_first, ctx.today)
    judged = judge(lines, subs, ctx.today)
    t = total(lines)
    return {"month": f"{ctx.today.year:04d}-{ctx.today.month:02d}", "asOf": ctx.today.isoformat(),
            "configured": len(subs), "fixedCost": round(fixed_total(subs, m_first, m_last), 6),
            "proportionalCost": round(t.proportional, 6), "coveredValue": round(t.covered_value, 6),
            "subscriptions": [b.as_json() for b in judged]}


def budget(ctx: Context, q: dict) -> dict:
    """Month to date against the budget, the projection, health and the daily spend behind it
    (what `token-roi budget` shows)."""
    first = (ctx.today.replace(day=1) - dt.timedelta(days=92)).replace(day=1)
    lines, subs = _accounting_lines(ctx, first, ctx.today)
    b = budget_mod.evaluate(lines, ctx.cfg, subs, ctx.today)
    hints = suggestions.suggest(lines, ctx.cfg, subs, ctx.today)
    m_first, m_last = month_bounds(ctx.today)
    by_day = group(budget_mod.month_lines(lines, ctx.today), lambda l: l.day)
    labels = _days(m_first, m_last)
    daily = [round(by_day[d].proportional, 6) if d in by_day else 0.0
             for d in (dt.date.fromisoformat(x) for x in labels)]
    return {**b.as_json(), "suggestions": [h.as_json() for h in hints],
            "daily": {"labels": labels, "proportional": daily}, "plans": len(from_config(ctx.cfg))}


def prices(ctx: Context, q: dict) -> dict:
    """The effective price of every model in the ledger (prices.yaml first, then genai-prices),
    the overrides themselves, and each model's cost so far."""
    try:
        overrides = pricing.load_overrides()
        override_error = None
    except pricing.PricingError as exc:
        overrides, override_error = {}, str(exc)
    total = period_total(ctx.store, Filters(), ctx.tz)
    rows = []
    for m in sorted(total.models, key=lambda m: (-total.models[m].cost, m)):
        u = total.models[m]
        try:
            rates = pricing_apply.rates_for(m) if m != query.UNKNOWN_MODEL else None
        except pricing.PricingError as exc:
            rates, override_error = None, override_error or str(exc)
        rows.append({"model": m, "rates": rates.to_dict() if rates else None,
                     "source": rates.source if rates else "unpriced", "calls": u.calls,
                     "totalTokens": u.total_tokens, "cost": round(u.cost, 6), "unpricedCalls": u.unpriced_calls})
    return {"file": str(pricing.overrides_path()), "error": override_error,
            "overrides": {k: v.to_dict() for k, v in overrides.items()},
            "models": rows, "totalCost": round(total.cost, 6), "unpricedCalls": total.unpriced_calls}


def save_price(ctx: Context, body: dict) -> dict:
    """Write one override through pricing.save_override (validated against the schema), then
    re-price the ledger. A bad value raises BadRequest with pricing's own message."""
    model = body.get("model") if isinstance(body, dict) else None
    rates = body.get("rates") if isinstance(body, dict) else None
    if not isinstance(model, str) or not model.strip():
        raise BadRequest("model: enter the model name the override is for")
    if not isinstance(rates, dict) or not rates:
        raise BadRequest(f"{model}: enter at least the input rate (USD per million tokens)")
    try:
        saved = pricing_apply.save_override(model.strip(), rates)
        repriced = pricing_apply.reprice(ctx.store)
    except pricing.PricingError as exc:
        raise BadRequest(str(exc)) from None
    return {"saved": {"model": model.strip(), **saved.to_dict()}, "repriced": repriced}


def remove_price(ctx: Context, body: dict) -> dict:
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, str) or not model.strip():
        raise BadRequest("model: which override to remove")
    try:
        removed = pricing_apply.remove_override(model.strip())
        repriced = pricing_apply.reprice(ctx.store) if removed else 0
    except pricing.PricingError as exc:
        raise BadRequest(str(exc)) from None
    if not removed:
        raise BadRequest(f"{model}: no override for this model in {pricing.overrides_path()}")
    return {"removed": model.strip(), "repriced": repriced}


def meta(ctx: Context, q: dict) -> dict:
    """What the About page and the filters need: where the files are, what the ledger holds."""
    store = ctx.store
    first = query.first_call_ts(store, Filters(), ctx.tz)
    last = query.first_call_ts(store, Filters(), ctx.tz, last=True)
    return {"version": __version__, "ledger": str(store.path), "pricesFile": str(pricing.overrides_path()),
            "configFile": str(config_path()[0]), "log": str(paths.log_path()),
            "timezone": str(getattr(ctx.tz, "key", None) or ctx.tz), "today": ctx.today.isoformat(),
            "agentsSupported": list(AGENT_NAMES),
            "agentsInLedger": sorted({a for a, _ in query.agent_models(store, None)}),   # (known_agents, by seeks)
            "firstCall": _iso(first, ctx.tz), "lastCall": _iso(last, ctx.tz),
            "periods": list(PERIODS), "defaultPeriod": DEFAULT_PERIOD}


def limits(ctx: Context, q: dict) -> dict:
    """The plan windows, their pace, what used them and the figures' history (`token-roi limits --json`)."""
    import sqlite3

    from ..limits import report as limits_report
    try:
        days = int(q.get("days") or limits_report.HISTORY_DAYS)
    except ValueError:
        raise BadRequest(f"days={q.get('days')!r}: expected a whole number of days") from None
    if not 0 < days <= 90:
        raise BadRequest(f"days={days}: expected 1 to 90")
    try:
        return limits_report.collect(ctx.store, history_days=days).to_json()
    except sqlite3.OperationalError:          # a ledger from before the limits table, opened read-only
        return {"windows": [], "attribution": [], "history": [], "method": limits_report.METHOD}


GET = {"overview": overview, "value": value, "sessions": sessions, "session": session_detail,
       "models": models, "subscriptions": subscriptions, "budget": budget, "prices": prices, "meta": meta,
       "limits": limits}
POST = {"prices": save_price, "prices/remove": remove_price}
