"""The value report's fast paths give the numbers of the slow ones they replaced, bit for bit, on
a realistic ledger: sessions summed without the per-model split (roi.session_sums against
query.usage_by_session), the variance's weeks summed alone (roi.weekly_usage against the query
over the whole period, kept here as it was), transcripts found in one pass (signals.transcript_paths
against the LIKE query per session) and Signals.as_dict against dataclasses.asdict.

The ledger is the dashboard's fixture plus calls that make the order of summing matter: sessions
over two projects and several days, inserted newest first (so the table's order is not time
order), no session id, no model, an unpriced model, and a zone whose offset changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
import dashboard_fixture as fx  # noqa: E402

from token_roi import pricing  # noqa: E402
from token_roi.reports import query  # noqa: E402
from token_roi.reports.query import Filters  # noqa: E402
from token_roi.rows import UsageRow  # noqa: E402
from token_roi.store import Store  # noqa: E402
from token_roi.value import roi, signals  # noqa: E402

ZONES = [ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kathmandu"), ZoneInfo("Australia/Lord_Howe")]


def _extra_rows(rnd: random.Random) -> list[UsageRow]:
    """Sessions the fixture lacks: over two projects and days (the clocks change on 2026-11-01 in
    New York), newest call inserted first, some calls with no session or model."""
    rows = []
    start = dt.datetime(2026, 10, 30, 22, tzinfo=dt.timezone.utc)
    for s in range(40):
        agent = rnd.choice(["claude", "codex", "gemini"])
        sid = None if s % 13 == 0 else f"mix-{s:03d}"
        t = start + dt.timedelta(hours=rnd.randint(0, 24 * 20))
        for i in range(rnd.randint(3, 60)):
            t += dt.timedelta(minutes=rnd.randint(1, 200))
            model = rnd.choice([m for m, _ in fx.MODELS[agent]] + [None])
            rows.append(UsageRow(
                agent=agent, dedupe_key=f"mix-{s}-{i}", ts=int(t.timestamp() * 1000), session_id=sid,
                project=rnd.choice(fx.PROJECTS[:2] + [None]), model=model,
                input_tokens=rnd.randint(1, 5000), output_tokens=rnd.randint(1, 9000),
                cache_read_tokens=rnd.randint(0, 200_000), cache_write_5m_tokens=rnd.choice([0, 1200])))
    rows.sort(key=lambda r: -r.ts)
    return rows


@pytest.fixture
def ledger():
    fx.build()
    store = Store()
    with store.transaction():
        store.upsert_calls(_extra_rows(random.Random(11)))
    pricing.reprice(store)
    yield store
    store.close()


def _filters(tz) -> list[Filters]:
    return [Filters(), Filters(dt.date(2026, 10, 25), dt.date(2026, 11, 8)), Filters(agents=("codex",)),
            Filters(agents=("claude", "gemini"), since=dt.date(2026, 11, 1)), Filters(project="acme"),
            Filters(dt.date(2026, 10, 1), dt.date(2026, 10, 31), project="billing", agents=("claude",)),
            Filters(dt.date(2030, 1, 1), dt.date(2030, 1, 31))]


def test_session_sums_are_usage_by_session_without_the_model_split(ledger):
    for tz in ZONES:
        for f in _filters(tz):
            old = query.usage_by_session(ledger, f, tz)
            new, pairs = roi.session_sums(ledger, f, tz)
            assert [(g.agent, g.session_id, g.project, g.first_ts, g.last_ts, g.cost.hex(), g.total_tokens,
                     g.calls, g.unpriced_calls) for g in old] == \
                   [(s.agent, s.session_id, s.project, s.first_ts, s.last_ts, s.cost.hex(), s.total_tokens,
                     s.calls, s.unpriced_calls) for s in new]
            where, params = query.where_clause(f, tz)
            assert pairs == set(ledger.db.execute(f"SELECT DISTINCT agent, project FROM calls{where}", params))
    # the mixed sessions are there: several projects and models in one session, no id, no model
    new, _ = roi.session_sums(ledger)
    assert any(s.session_id == "" for s in new)
    assert ledger.db.execute("SELECT COUNT(*) FROM calls WHERE model IS NULL").fetchone()[0] > 0


def _old_weekly_usage(store, filters: query.Filters, tz: dt.tzinfo) -> dict:
    """roi.weekly_usage before it read only the variance's weeks (every week of the period)."""
    lo = query.first_call_ts(store, filters, tz)
    if lo is None:
        return {}
    hi = query.first_call_ts(store, filters, tz, last=True)
    day_expr, day_params = query.local_day_sql(tz, lo, hi)
    where, params = query.where_clause(filters, tz)
    sql = (f"SELECT {day_expr} AS d, agent, project, model, "
           "SUM(input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_5m_tokens"
           " + cache_write_1h_tokens), TOTAL(cost) "
           f"FROM calls{where} GROUP BY d, agent, project, model")
    out: dict[str, dict] = {}
    for d, agent, project, model, tokens, cost in store.db.execute(sql, day_params + params):
        week = query.period_key(query.EPOCH_DAY + dt.timedelta(days=d), "weekly")
        u = out.setdefault(week, {}).setdefault((agent, project, model or query.UNKNOWN_MODEL), [0, 0.0])
        u[0] += tokens
        u[1] += cost
    return out


def _exact(weekly: dict) -> dict:
    return {w: {k: (t, c.hex()) for k, (t, c) in keys.items()} for w, keys in weekly.items()}


def test_weekly_usage_reads_the_judged_weeks_with_the_sums_of_the_whole_period(ledger):
    checked = 0
    for tz in ZONES:
        for f in _filters(tz):
            full = _old_weekly_usage(ledger, f, tz)
            for latest in [None, "2026-10-26", "2026-11-02", "2026-11-16", "2027-01-04"]:
                judged = latest or (max(full) if full else None)
                want = {w: full[w] for w in (roi.variance_weeks(judged) if judged else []) if w in full}
                assert _exact(roi.weekly_usage(ledger, f, tz, latest)) == _exact(want)
                checked += bool(want)
    assert checked > 40


def test_the_narrow_weekly_query_keeps_the_whole_periods_plan(ledger):
    """What keeps the sums equal: the narrow query reads `calls` the way the wide one did."""
    tz = ZONES[0]
    lo, hi = query.first_call_ts(ledger, Filters(), tz), query.first_call_ts(ledger, Filters(), tz, last=True)
    paths = {roi._access_path(ledger, *roi._weekly_sql(f, tz, lo, hi)) for f in _filters(tz)}
    assert paths <= {" NOT INDEXED", " INDEXED BY calls_ts", " INDEXED BY calls_session"} and len(paths) >= 2


def test_report_variance_scopes_are_every_agent_and_project_of_the_calls(ledger):
    for tz in ZONES[:2]:
        for f in _filters(tz):
            report = roi.build(ledger, f, tz, {}, git=False)
            full = _old_weekly_usage(ledger, f, tz)
            assert report.agent_names == sorted({a for w in full.values() for (a, _, _) in w})
            assert report.project_paths == sorted({p or "" for w in full.values() for (_, p, _) in w})
            v = report.variance()
            assert v["week"] == (max(full) if full else None)
            assert [a["agent"] for a in v["agents"]] == report.agent_names


def test_transcript_paths_are_the_like_query_per_session(tmp_path):
    store = Store()
    paths = ["/h/.claude/projects/-a/S1.jsonl", "/h/.claude/projects/-b/s1.jsonl", "/h/.claude/projects/-a/s2.JSONL",
             "C:\\Users\\d\\.claude\\projects\\x\\s3.jsonl", "/h/p/s4.jsonl/", "/h/p/s4.jsonl.bak",
             "/h/p/a_b.jsonl", "/h/p/axb.jsonl", "/h/p/50%.jsonl", "/h/p/subagents/agent-s5.jsonl", "s6.jsonl",
             "/h/p/ü7.jsonl", "/h/p/Ü8.jsonl", "/h/p/mix\\s9.jsonl", "/h/p/mix/s9.jsonl"]
    with store.transaction():
        for p in paths:
            store.db.execute("INSERT INTO sources (agent, path, updated_at) VALUES (?, ?, 0)", (p and "claude", p))
        store.db.execute("INSERT INTO sources (agent, path, updated_at) VALUES ('codex', '/c/s10.jsonl', 0)")
    ids = ["S1", "s1", "s2", "S2", "s3", "s4", "a_b", "axb", "a%", "50%", "s5", "agent-s5", "s6", "ü7", "Ü7",
           "ü8", "Ü8", "s9", "s10", "", "x/s1", "x\\s3", "nope"]
    want = {s: signals.transcript_path(store.db, s) for s in ids}
    assert signals.transcript_paths(store.db, ids) == {s: p for s, p in want.items() if p}
    assert want["S1"] == want["s1"] == "/h/.claude/projects/-a/S1.jsonl"     # LIKE folds ASCII case
    assert want["a_b"] == "/h/p/a_b.jsonl" and want["50%"] == "/h/p/50%.jsonl"
    assert want["Ü7"] is None and want["s6"] is None and want["s10"] is None
    store.close()


def test_signals_as_dict_is_asdict_plus_two_figures():
    s = signals.Signals("claude", "s", "guard", {"Bash": 3, "Edit": 2}, {"Bash": 1}, 4, 7, True, 12, 1, 2, 2, 0,
                        1_000, 95_000, True)
    odd = signals.Signals("codex", "t", tool_calls={"x": [1, {"y": 2}]}, first_ts=None)
    for sig in (s, odd, signals.Signals("gemini", "u")):
        d = sig.as_dict()
        assert d == {**dataclasses.asdict(sig), "tool_failures": sig.tool_failures,
                     "duration_s": sig.duration_ms // 1000}
        assert list(d) == [f.name for f in dataclasses.fields(sig)] + ["tool_failures", "duration_s"]
        assert d["tool_calls"] is not sig.tool_calls
    d = odd.as_dict()
    d["tool_calls"]["x"][1]["y"] = 3
    assert odd.tool_calls["x"][1]["y"] == 2


def test_as_json_parts_are_the_whole_objects(ledger):
    report = roi.build(ledger, Filters(), ZONES[1], {}, git=False)
    whole = report.as_json()
    assert list(whole) == list(roi.Report.PARTS)
    for only in [("projects", "overlap", "agents", "sessions_to_review", "benchmark"), ("variance",), ()]:
        assert report.as_json(only) == {k: whole[k] for k in whole if k in only}
    with pytest.raises(ValueError, match="no part human"):
        report.as_json(("human",))
