"""The value report behind `token-roi roi`: every session valued and categorised, then folded
into value streams (projects), overlap, agents, weeks, sessions to review, the human-equivalent
table and the weekly variance. `build()` returns plain data; `as_json()` is the one object the
CLI prints with --json (views.py and markdown.py render the same data).

Attribution: a session belongs to the local week and day of its first activity; its git figures
are the commits made in its window [first activity, last activity + WINDOW_PAD_MS] in its
project's repository. NVA % is the share of cost spent in NVA sessions.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..config import get
from ..reports import query
from . import categorize as cat
from . import gitstats, records
from . import signals as sig
from .estimate import Estimate, heuristic
from .rates import Range, hourly_rate, load_table, roi_range
from .variance import ModelUsage, scale, split_cost_variance, variance

WINDOW_PAD_MS = 15 * 60 * 1000     # a commit made just after the agent's last call is still its work
BASELINE_WEEKS = 3
NO_PROJECT = "(no project)"


@dataclass
class SessionValue:
    agent: str
    session_id: str
    project: str | None
    first_ts: int
    last_ts: int
    day: str                      # local date of first activity
    week: str                     # local Monday of that date
    cost: float
    tokens: int
    calls: int
    unpriced_calls: int
    signals: sig.Signals
    git: gitstats.GitFigures | None
    reverted: int
    verdict: cat.Verdict
    estimate: Estimate

    @property
    def value(self) -> Range:
        return self.estimate.value

    @property
    def roi(self) -> Range | None:
        return self.roi_of(self.value)

    def roi_of(self, value: Range) -> Range | None:
        """The ROI of `value` (this session's, computed once by a caller that needs both)."""
        # Every call unpriced: the cost is unknown, not $0, so there is no ratio to give.
        if self.calls and self.unpriced_calls == self.calls:
            return None
        return roi_range(value, self.cost)

    @property
    def window(self) -> tuple[int, int]:
        return self.first_ts, self.last_ts + WINDOW_PAD_MS


def _sum(ranges) -> Range:
    lo = mid = hi = 0.0
    for r in ranges:
        lo, mid, hi = lo + r.low, mid + r.mid, hi + r.high
    return Range(lo, mid, hi)


def _r(x: float | None, nd: int = 6):
    return None if x is None else round(x, nd)


def range_json(r: Range | None, nd: int = 4) -> dict | None:
    return None if r is None else {"low": round(r.low, nd), "mid": round(r.mid, nd), "high": round(r.high, nd)}


@lru_cache(maxsize=4096)
def project_name(path: str | None) -> str:
    if not path:
        return NO_PROJECT
    return os.path.basename(path.rstrip("/\\")) or path


@dataclass
class Report:
    sessions: list[SessionValue]
    tz: dt.tzinfo
    region: str
    seniority: str
    threshold_percent: float
    weekly: dict = field(default_factory=dict)   # week -> {(agent, project, model): [tokens, cost]}: the judged
                                                 # week and its baseline (weekly_usage)
    latest_week: str | None = None               # the week the variance judges (None: the last with usage)
    git_projects: dict = field(default_factory=dict)   # project -> commits list or None
    agent_names: list = field(default_factory=list)    # every agent and project (None as "") of the calls,
    project_paths: list = field(default_factory=list)  # sorted: the variance's scopes

    # -- the views --------------------------------------------------------------------------------
    def projects(self) -> list[dict]:
        groups: dict[str | None, list[SessionValue]] = {}
        for s in self.sessions:
            groups.setdefault(s.project, []).append(s)
        rows = [_stream_row({"project": p, "name": project_name(p)}, ss) for p, ss in groups.items()]
        return sorted(rows, key=lambda r: (-r["cost"], r["name"]))

    def agents(self) -> list[dict]:
        groups: dict[str, list[SessionValue]] = {}
        for s in self.sessions:
            groups.setdefault(s.agent, []).append(s)
        rows = [_stream_row({"agent": a}, ss) for a, ss in groups.items()]
        for r in rows:
            del r["agents"]
        return sorted(rows, key=lambda r: (-r["cost"], r["agent"]))

    def overlap(self) -> list[dict]:
        by_project: dict[str | None, dict[str, list[SessionValue]]] = {}
        for s in self.sessions:
            by_project.setdefault(s.project, {}).setdefault(s.agent, []).append(s)
        rows = []
        for project, agents in by_project.items():
            if len(agents) < 2:
                continue
            spend = {a: sum(s.cost for s in ss) for a, ss in agents.items()}
            order = sorted(spend, key=lambda a: (-spend[a], a))
            primary = order[0]
            others = [{"agent": a, "cost": _r(spend[a]), "sessions": len(agents[a])} for a in order[1:]]
            rows.append({"project": project, "name": project_name(project), "agents": order,
                         "primary_agent": primary, "primary_cost": _r(spend[primary]),
                         "primary_sessions": len(agents[primary]), "others": others,
                         "recoverable": _r(sum(spend[a] for a in order[1:]))})
        return sorted(rows, key=lambda r: (-r["recoverable"], r["name"]))

    def weeks(self) -> list[dict]:
        groups: dict[str, list[SessionValue]] = {}
        for s in self.sessions:
            groups.setdefault(s.week, []).append(s)
        rows = []
        for week in sorted(groups):
            ss = groups[week]
            row = _stream_row({"week": week}, ss)
            del row["agents"]
            git = self._git_for(ss)
            row.update({k: (None if git is None else git.as_dict()[k])
                        for k in ("prs", "commits", "lines_added", "lines_removed", "reverts")})
            rows.append(row)
        return rows

    def _git_for(self, sessions: list[SessionValue]) -> gitstats.GitFigures | None:
        """Git figures over the sessions' windows, per project repository (None: no repository)."""
        windows: dict[str, list] = {}
        for s in sessions:
            if s.project is not None and self.git_projects.get(s.project) is not None:
                windows.setdefault(s.project, []).append(s.window)
        if not windows:
            return None
        out = gitstats.GitFigures()
        seen_roots: set = set()
        for project in windows:
            commits = self.git_projects[project]
            if id(commits) in seen_roots:   # two project paths in one repository: counted once
                continue
            seen_roots.add(id(commits))
            same_repo = [w for p, ws in windows.items() if self.git_projects[p] is commits for w in ws]
            f = gitstats.figures_in(commits, same_repo)
            for k in ("commits", "prs", "lines_added", "lines_removed", "reverts"):
                setattr(out, k, getattr(out, k) + getattr(f, k))
        return out

    def sessions_to_review(self) -> list[dict]:
        rows = []
        for s in self.sessions:
            value = s.value
            roi = s.roi_of(value)
            if s.estimate.quality in ("failed", "harmful") or (roi is not None and roi.mid < 1):
                rows.append({**self._ids(s), "quality": s.estimate.quality, "what_happened": what_happened(s),
                             "reasons": s.verdict.reasons, "cost": _r(s.cost),
                             "unpriced_calls": s.unpriced_calls, "value": range_json(value),
                             "roi": range_json(roi)})
        return sorted(rows, key=lambda r: (-r["cost"], r["date"], r["session"]))

    def human_equivalent(self) -> list[dict]:
        rows = []
        for s in self.sessions:
            e = s.estimate
            value = s.value
            rows.append({**self._ids(s), "via": e.source, "role": e.role, "hours": range_json(e.hours),
                         "rate": range_json(e.rate), "quality": e.quality, "quality_factor": e.factor,
                         "basis": e.basis, "cost": _r(s.cost), "unpriced_calls": s.unpriced_calls,
                         "value": range_json(value),
                         "roi": range_json(s.roi_of(value))})
        return sorted(rows, key=lambda r: (r["date"], r["agent"], r["session"]))

    def _ids(self, s: SessionValue) -> dict:
        return {"date": s.day, "agent": s.agent, "project": s.project, "name": project_name(s.project),
                "session": s.session_id, "category": s.verdict.category, "category_by": s.verdict.by}

    def variance(self) -> dict:
        weeks = sorted(self.weekly)
        if self.latest_week:
            weeks = sorted(set(weeks) | {self.latest_week})
            weeks = weeks[:weeks.index(self.latest_week) + 1]
        if not weeks:
            return {"week": None, "baseline_weeks": [], "threshold_percent": self.threshold_percent,
                    "cost": None, "tokens": None, "nva_pct": None, "roi": None,
                    "agents": [], "projects": [], "alerts": []}
        latest = dt.date.fromisoformat(weeks[-1])
        base_weeks = [(latest - dt.timedelta(days=7 * i)).isoformat() for i in range(BASELINE_WEEKS, 0, -1)]
        latest_key = latest.isoformat()
        alerts: list[str] = []

        def scope(label: str, match) -> dict:
            out = self._variance_for(latest_key, base_weeks, match)
            for metric in ("cost", "tokens", "nva_pct", "roi"):
                m = out[metric]
                if m is None:
                    continue
                pct = m.get("percent")
                m["alert"] = bool(pct is not None and abs(pct) > self.threshold_percent and not m["favourable"])
                if m["alert"]:
                    alerts.append(_alert_text(label, metric, m))
            return out

        overall = scope("all agents", lambda a, p: True)
        agents, projects = self.agent_names, self.project_paths
        return {"week": latest_key, "baseline_weeks": base_weeks, "threshold_percent": self.threshold_percent,
                **overall,
                "agents": [{"agent": a, **scope(f"agent {a}", lambda x, p, a=a: x == a)} for a in agents],
                "projects": [{"project": p or None, "name": project_name(p),
                              **scope(f"project {project_name(p)}", lambda x, q, p=p: (q or "") == p)}
                             for p in projects],
                "alerts": alerts}

    def _variance_for(self, latest: str, base_weeks: list[str], match) -> dict:
        def usages(week: str) -> dict[str, list[float]]:
            out: dict[str, list[float]] = {}
            for (a, p, m), (tokens, cost) in self.weekly.get(week, {}).items():
                if match(a, p):
                    u = out.setdefault(m, [0, 0.0])
                    u[0] += tokens
                    u[1] += cost
            return out
        act = usages(latest)
        base: dict[str, list[float]] = {}
        for w in base_weeks:
            for m, (t, c) in usages(w).items():
                u = base.setdefault(m, [0, 0.0])
                u[0] += t
                u[1] += c
        act_mu = [ModelUsage(m, t, c) for m, (t, c) in sorted(act.items())]
        base_mu = scale([ModelUsage(m, t, c) for m, (t, c) in sorted(base.items())], 1 / BASELINE_WEEKS)
        if not act_mu and not base_mu:
            return {"cost": None, "tokens": None, "nva_pct": None, "roi": None}
        cv = split_cost_variance(base_mu, act_mu)
        cost = {k: _r(v) if isinstance(v, float) else v for k, v in cv.as_dict().items()}
        cost["percent"] = _r(cv.total / cv.baseline * 100, 4) if cv.baseline else None
        tokens = variance(sum(m.tokens for m in act_mu), sum(m.tokens for m in base_mu), higher_is_better=False)
        ss_act = [s for s in self.sessions if s.week == latest and match(s.agent, s.project)]
        ss_base = [s for s in self.sessions if s.week in base_weeks and match(s.agent, s.project)]
        nva = roi = None
        a_nva, b_nva = _nva_pct(ss_act), _nva_pct(ss_base)
        if a_nva is not None and b_nva is not None:
            nva = variance(a_nva, b_nva, higher_is_better=False)
        a_roi, b_roi = _roi_mid(ss_act), _roi_mid(ss_base)
        if a_roi is not None and b_roi is not None:
            roi = variance(a_roi, b_roi, higher_is_better=True)
        return {"cost": cost, "tokens": _round_var(tokens), "nva_pct": _round_var(nva), "roi": _round_var(roi)}

    # -- the one JSON object ----------------------------------------------------------------------
    PARTS = ("benchmark", "projects", "overlap", "agents", "weeks", "sessions_to_review", "human_equivalent",
             "variance", "sessions")

    def as_json(self, only: tuple[str, ...] | None = None) -> dict:
        """The whole object, or only the PARTS named (a page that shows a few views need not
        build the others: sessions and human_equivalent are a row per session)."""
        parts = {"benchmark": lambda: {"region": self.region, "seniority": self.seniority},
                 "projects": lambda: [_json_stream(r) for r in self.projects()],
                 "overlap": self.overlap,
                 "agents": lambda: [_json_stream(r) for r in self.agents()],
                 "weeks": lambda: [_json_stream(r) for r in self.weeks()],
                 "sessions_to_review": self.sessions_to_review,
                 "human_equivalent": self.human_equivalent,
                 "variance": self.variance,
                 "sessions": lambda: [session_json(s) for s in self.sessions]}
        unknown = set(only or ()) - set(parts)
        if unknown:
            raise ValueError(f"as_json: no part {', '.join(sorted(unknown))} (parts: {', '.join(self.PARTS)})")
        return {k: make() for k, make in parts.items() if only is None or k in only}


def _stream_row(head: dict, ss: list[SessionValue]) -> dict:
    cost = sum(s.cost for s in ss)
    value = _sum(s.value for s in ss)
    agents = sorted({s.agent for s in ss})
    categories = dict.fromkeys(cat.CATEGORIES, 0)
    for s in ss:
        if s.verdict.category in categories:
            categories[s.verdict.category] += 1
    return {**head, "sessions": len(ss), "agents": agents, "cost": cost,
            "unpriced_calls": sum(s.unpriced_calls for s in ss), "value": value,
            "roi": roi_range(value, cost), "nva_pct": _nva_pct(ss), "categories": categories}


def _json_stream(r: dict) -> dict:
    out = dict(r)
    out["cost"] = _r(r["cost"])
    out["value"] = range_json(r["value"])
    out["roi"] = range_json(r["roi"])
    out["nva_pct"] = _r(r["nva_pct"], 2)
    return out


def _nva_pct(ss: list[SessionValue]) -> float | None:
    cost = sum(s.cost for s in ss)
    if cost <= 0:
        return None
    return sum(s.cost for s in ss if s.verdict.category == "NVA") / cost * 100


def _roi_mid(ss: list[SessionValue]) -> float | None:
    cost = sum(s.cost for s in ss)
    return sum(s.value.mid for s in ss) / cost if cost > 0 else None


def _round_var(v: dict | None) -> dict | None:
    if v is None:
        return None
    return {k: (_r(x, 6) if isinstance(x, float) else x) for k, x in v.items()}


_METRIC_NAMES = {"cost": "cost", "tokens": "tokens", "nva_pct": "NVA %", "roi": "ROI"}


def _alert_text(label: str, metric: str, m: dict) -> str:
    direction = "up" if (m.get("total", m.get("variance")) or 0) > 0 else "down"
    base, act = m["baseline"], m["actual"]
    if metric == "cost":
        fig = f"${base:,.2f} -> ${act:,.2f}"
    elif metric == "tokens":
        fig = f"{base:,.0f} -> {act:,.0f}"
    elif metric == "nva_pct":
        fig = f"{base:.1f}% -> {act:.1f}%"
    else:
        fig = f"{base:.1f}x -> {act:.1f}x"
    return (f"silent regression: {_METRIC_NAMES[metric]} of {label} {direction} {abs(m['percent']):.1f}% "
            f"against the {BASELINE_WEEKS}-week average ({fig})")


def what_happened(s: SessionValue) -> str:
    """The session in a few counted words (signals only, never content)."""
    g = s.signals
    parts = []
    if g.has_tool_signals:
        failed = f", {g.tool_failures} failed" if g.tool_failures else ""
        parts.append(cat._n(g.total_tool_calls, "tool call") + failed)
        if g.loop_attempts_max:
            parts.append(f"loop of {g.loop_attempts_max} attempts")
        if g.fast_tier_fired:
            parts.append("fast tier fired")
        if g.tests_passed or g.tests_failed:
            parts.append(f"tests {g.tests_passed} passed / {g.tests_failed} failing")
        if g.bugs_fixed:
            parts.append(f"{g.bugs_fixed} fixed")
        parts.append(f"{cat._n(g.edits, 'edit')}, {cat._n(g.reads, 'read')}")
        if g.abandoned:
            parts.append("abandoned after failures")
    else:
        minutes = max(0, s.last_ts - s.first_ts) / 60000
        parts.append(f"{s.calls} API call{'' if s.calls == 1 else 's'} over {minutes:.0f} min, no tool signals")
    if s.git is not None and s.git.commits:
        parts.append(f"{s.git.commits} commit{'' if s.git.commits == 1 else 's'}")
    if s.reverted:
        parts.append(f"{s.reverted} reverted later")
    return "; ".join(parts)


def session_json(s: SessionValue) -> dict:
    value = s.value
    return {"agent": s.agent, "session": s.session_id, "project": s.project, "date": s.day, "week": s.week,
            "category": s.verdict.category, "category_by": s.verdict.by, "reasons": s.verdict.reasons,
            "cost": _r(s.cost), "tokens": s.tokens, "unpriced_calls": s.unpriced_calls,
            "via": s.estimate.source, "value": range_json(value), "roi": range_json(s.roi_of(value)),
            "signals": s.signals.as_dict(), "git": s.git.as_dict() if s.git else None,
            "reverted_later": s.reverted}


# -- building -------------------------------------------------------------------------------------

def build(store, filters: query.Filters = query.Filters(), tz: dt.tzinfo = dt.timezone.utc, cfg: dict | None = None,
          *, git: bool = True, week: dt.date | None = None) -> Report:
    """week: any day of the week the variance should judge (default: the last week with usage)."""
    cfg = cfg or {}
    region = get(cfg, "benchmark.region", "us-west")
    seniority = get(cfg, "benchmark.seniority", "senior")
    threshold = float(get(cfg, "variance.threshold_percent", 20))
    table = load_table()
    rates: dict[str, Range] = {}

    def rate_of(role: str) -> Range:
        if role not in rates:
            rates[role] = hourly_rate(role, region, seniority, table)
        return rates[role]

    groups, pairs = session_sums(store, filters, tz)
    known = sig.load_all(store.db)
    # Claude Code sessions from before the guard was installed: count their transcripts once.
    stale = [(g.session_id, g.last_ts) for g in groups if g.agent == "claude" and g.session_id
             and (known.get(("claude", g.session_id)) is None
                  or (known[("claude", g.session_id)].source == "transcript"
                      and (known[("claude", g.session_id)].last_ts or 0) < (g.last_ts or 0)))]
    if stale:
        known.update(sig.from_transcripts(store, stale))
    overrides = records.categories(store.db)
    estimates = records.model_estimates(store.db)

    # One `git log` per project over the whole report (later reverts included).
    git_projects: dict[str | None, list | None] = {}
    if git:
        since: dict[str, int] = {}
        for g in groups:
            if g.project and g.first_ts is not None:
                since[g.project] = min(since.get(g.project, g.first_ts), g.first_ts)
        roots = {p: gitstats.repo_root(p) for p in since}
        root_since: dict[str, int] = {}
        for project, root in roots.items():
            if root is not None:
                root_since[str(root)] = min(root_since.get(str(root), since[project]), since[project])
        histories = {root: gitstats.history(root, lo) for root, lo in root_since.items()}
        for project, root in roots.items():
            git_projects[project] = None if root is None else histories[str(root)]

    sessions = []
    week_of: dict[dt.date, str] = {}
    for g in groups:
        k = (g.agent, g.session_id)
        s = known.get(k)
        if s is None:
            s = sig.Signals(g.agent, g.session_id, "none", first_ts=g.first_ts, last_ts=g.last_ts)
            first, last = g.first_ts, g.last_ts
        else:
            first = min(x for x in (g.first_ts, s.first_ts) if x is not None)
            last = max(x for x in (g.last_ts, s.last_ts) if x is not None)
        commits = git_projects.get(g.project)
        window = [(first, last + WINDOW_PAD_MS)]
        figures = gitstats.figures_in(commits, window) if commits is not None else None
        reverted = gitstats.reverted_later(commits, window) if commits else 0
        verdict = cat.categorize(s, figures, reverted, overrides.get(k))
        est = estimates.get(k) or heuristic(s, figures, verdict.category, last - first, rate_of, reverted=reverted)
        day = dt.datetime.fromtimestamp(first / 1000, tz).date()
        week_key = week_of.get(day)
        if week_key is None:
            week_key = week_of[day] = query.period_key(day, "weekly")
        sessions.append(SessionValue(
            g.agent, g.session_id, g.project, first, last, day.isoformat(),
            week_key, g.cost, g.total_tokens, g.calls, g.unpriced_calls,
            s, figures, reverted, verdict, est))
    sessions.sort(key=lambda s: (s.first_ts, s.agent, s.session_id))
    latest = query.period_key(week, "weekly") if week else None
    return Report(sessions, tz, region, seniority, threshold, weekly_usage(store, filters, tz, latest),
                  latest, git_projects, sorted({a for a, _ in pairs}), sorted({p or "" for _, p in pairs}))


class SessionSums:
    """What the report needs of one session's calls: usage_by_session's figures without the
    per-model split (cost summed over the same parts in the same order, so the same float)."""
    __slots__ = ("agent", "session_id", "project", "first_ts", "last_ts", "cost", "total_tokens", "calls",
                 "unpriced_calls")

    def __init__(self, agent, session_id, project, first_ts, last_ts, cost, total_tokens, calls, unpriced_calls):
        self.agent, self.session_id, self.project = agent, session_id, project
        self.first_ts, self.last_ts = first_ts, last_ts
        self.cost, self.total_tokens, self.calls, self.unpriced_calls = cost, total_tokens, calls, unpriced_calls


_TOKENS = ("input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_5m_tokens"
           " + cache_write_1h_tokens")


def session_sums(store, filters: query.Filters = query.Filters(), tz: dt.tzinfo = dt.timezone.utc
                 ) -> tuple[list[SessionSums], set]:
    """(the sessions as query.usage_by_session gives them, oldest last activity first; every
    (agent, project) the filtered calls hold).

    The same grouped query (so the same plan and the same order of calls in each group), with only
    the sums the report reads, folded into tuples rather than a Usage per model: the cost of a
    session is still 0.0 + each (model, project) part's TOTAL(cost) in the query's order, the
    float usage_by_session adds up."""
    where, params = query.where_clause(filters, tz)
    sql = (f"SELECT agent, session_id, project, SUM({_TOKENS}), TOTAL(cost), COUNT(*), SUM(cost IS NULL), "
           f"MIN(ts), MAX(ts) FROM calls{where} GROUP BY agent, session_id, model, project")
    acc: dict[tuple, list] = {}
    pairs: set = set()
    for agent, sid, project, tokens, cost, calls, unpriced, first, last in store.db.execute(sql, params):
        pairs.add((agent, project))
        a = acc.get((agent, sid))
        if a is None:
            acc[(agent, sid)] = [{project: calls}, 0.0 + cost, tokens, calls, unpriced, first, last]
            continue
        counts = a[0]
        counts[project] = counts.get(project, 0) + calls
        a[1] += cost
        a[2] += tokens
        a[3] += calls
        a[4] += unpriced
        if first < a[5]:
            a[5] = first
        if last > a[6]:
            a[6] = last
    out = []
    for (agent, sid), (counts, cost, tokens, calls, unpriced, first, last) in acc.items():
        # the project most calls ran in, as usage_by_session picks it
        project = next(iter(counts)) if len(counts) == 1 else \
            max(counts, key=lambda p: (counts[p], p is not None, p or ""))
        out.append(SessionSums(agent, sid or "", project, first, last, cost, tokens, calls, unpriced))
    out.sort(key=lambda s: (s.last_ts or 0, s.agent, s.session_id))
    return out, pairs


def variance_weeks(latest: str) -> list[str]:
    """The week the variance judges and the BASELINE_WEEKS before it, oldest first."""
    d = dt.date.fromisoformat(latest)
    return [(d - dt.timedelta(days=7 * i)).isoformat() for i in range(BASELINE_WEEKS, -1, -1)]


_PLAN = re.compile(r"^(?:SCAN|SEARCH) calls(?: USING (?:COVERING )?INDEX (\w+))?(?: \(.*\))?$")


def _access_path(store, sql: str, params: list) -> str | None:
    """' INDEXED BY <index>' or ' NOT INDEXED': how SQLite reads `calls` for sql (None: a plan
    this cannot name). A narrower query forced onto the same path meets each group's calls in the
    same order, so its float sums are the wider query's, bit for bit."""
    found = [r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql, params) if " calls" in f" {r[3]}"]
    m = _PLAN.match(found[0]) if len(found) == 1 else None
    if m is None:
        return None
    return f" INDEXED BY {m.group(1)}" if m.group(1) else " NOT INDEXED"


def weekly_usage(store, filters: query.Filters, tz: dt.tzinfo, latest: str | None = None) -> dict:
    """{week: {(agent, project, model): [tokens, cost]}} from the calls (by call time), for the
    weeks the variance reads: the week `latest` (default: the week of the last call) and the
    BASELINE_WEEKS before it. The other weeks are not read: summing them was most of a long
    report's time."""
    hi = query.first_call_ts(store, filters, tz, last=True)
    if hi is None:
        return {}
    if latest is None:
        latest = query.period_key(dt.datetime.fromtimestamp(hi / 1000, tz).date(), "weekly")
    weeks = variance_weeks(latest)
    since = dt.date.fromisoformat(weeks[0])
    until = dt.date.fromisoformat(weeks[-1]) + dt.timedelta(days=6)
    narrow = query.Filters(max(since, filters.since) if filters.since else since,
                           min(until, filters.until) if filters.until else until, filters.project, filters.agents)
    # The calls of each (day, agent, project, model) are summed in the order the query over the
    # whole period meets them, which its plan decides: the narrow query is held to that plan.
    lo = query.first_call_ts(store, filters, tz)
    if lo is None:
        return {}
    sql, params = _weekly_sql(filters, tz, lo, hi)
    path = _access_path(store, sql, params)
    if path is not None:
        lo = query.first_call_ts(store, narrow, tz)
        if lo is None:
            return {}
        hi = query.first_call_ts(store, narrow, tz, last=True)
        if hi is None:
            hi = lo
        sql, params = _weekly_sql(narrow, tz, lo, hi, path)
    out: dict[str, dict] = {}
    key_of: dict[int, str] = {}
    for d, agent, project, model, tokens, cost in store.db.execute(sql, params):
        week = key_of.get(d)
        if week is None:
            week = key_of[d] = query.period_key(query.EPOCH_DAY + dt.timedelta(days=d), "weekly")
        if week not in weeks:
            continue
        u = out.setdefault(week, {}).setdefault((agent, project, model or query.UNKNOWN_MODEL), [0, 0.0])
        u[0] += tokens
        u[1] += cost
    return out


def _weekly_sql(filters: query.Filters, tz: dt.tzinfo, lo: int, hi: int, path: str = "") -> tuple[str, list]:
    day_expr, day_params = query.local_day_sql(tz, lo, hi)
    where, params = query.where_clause(filters, tz)
    return (f"SELECT {day_expr} AS d, agent, project, model, SUM({_TOKENS}), TOTAL(cost) "
            f"FROM calls{path}{where} GROUP BY d, agent, project, model"), day_params + params
