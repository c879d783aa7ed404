"""The dashboard's JSON API over HTTP, on a fixture ledger and on an empty one: every figure must
be the library's own (reports.query, accounting, pricing, value), the period filter must move
them, the price editor must validate and re-price, and the server must stay on loopback."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import sys
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
import dashboard_fixture as fx  # noqa: E402

from token_roi import pricing  # noqa: E402
from token_roi.dashboard.server import Settings, start_in_thread  # noqa: E402
from token_roi.reports import query  # noqa: E402
from token_roi.store import Store  # noqa: E402


class Client:
    def __init__(self, url: str):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port

    def request(self, method: str, path: str, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        data = None
        headers = dict(headers or {})
        if method == "POST":                 # (what the dashboard's page sends: its own origin)
            headers.setdefault("Origin", f"http://{self.host}:{self.port}")
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        ctype = r.getheader("Content-Type") or ""
        return r.status, (json.loads(raw) if ctype.startswith("application/json") else raw), r

    def get(self, endpoint: str, **params):
        qs = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        status, body, _ = self.request("GET", f"/api/{endpoint}" + (f"?{qs}" if qs else ""))
        return status, body

    def ok(self, endpoint: str, **params):
        status, body = self.get(endpoint, **params)
        assert status == 200, body
        return body

    def post(self, endpoint: str, body):
        status, out, _ = self.request("POST", f"/api/{endpoint}", body)
        return status, out


def _serve(git=False):
    server, url = start_in_thread(Settings(tz=fx.TZ, today=fx.TODAY, git=git))
    return server, Client(url)


@pytest.fixture
def full():
    facts = fx.build()
    server, client = _serve()
    yield client, facts
    server.shutdown()
    server.server_close()


@pytest.fixture
def empty():
    Store().close()
    server, client = _serve()
    yield client
    server.shutdown()
    server.server_close()


def _library_totals(since=None, until=None, agents=None) -> query.Group:
    store = Store()
    try:
        return query.totals(query.usage_by_period(store, "daily", query.Filters(since, until, None, agents), fx.TZ))
    finally:
        store.close()


# -- overview -------------------------------------------------------------------------------------

def test_overview_kpis_are_the_report_totals_and_the_period_moves_them(full):
    client, _ = full
    d30 = client.ok("overview")
    assert (d30["period"], d30["since"], d30["until"]) == ("30d", "2026-10-22", "2026-11-20")
    lib = _library_totals(dt.date(2026, 10, 22), fx.TODAY)
    assert d30["totals"]["calls"] == lib.calls > 0
    assert d30["totals"]["totalTokens"] == lib.total_tokens
    assert d30["totals"]["cost"] == pytest.approx(lib.cost, abs=1e-5)
    assert d30["totals"]["unpricedCalls"] == lib.unpriced_calls > 0        # the unknown model is flagged
    d7 = client.ok("overview", period="7d")
    lib7 = _library_totals(dt.date(2026, 11, 14), fx.TODAY)
    assert d7["totals"]["calls"] == lib7.calls
    assert d7["totals"]["cost"] == pytest.approx(lib7.cost, abs=1e-5)
    assert 0 < d7["totals"]["cost"] < d30["totals"]["cost"]
    everything = client.ok("overview", period="all")
    assert everything["totals"]["calls"] == _library_totals().calls
    month = client.ok("overview", period="month")
    assert month["since"] == "2026-11-01"


def test_chart_stacks_add_up_to_the_totals_by_agent_and_by_model(full):
    client, _ = full
    for stack in ("agent", "model"):
        d = client.ok("overview", period="30d", stack=stack)
        chart = d["chart"]
        assert chart["labels"][0] == "2026-10-22" and chart["labels"][-1] == "2026-11-20"
        assert len(chart["labels"]) == 30
        assert all(len(s["cost"]) == 30 for s in chart["series"])
        assert sum(sum(s["cost"]) for s in chart["series"]) == pytest.approx(d["totals"]["cost"], abs=1e-4)
        assert sum(sum(s["tokens"]) for s in chart["series"]) == d["totals"]["totalTokens"]
    by_agent = client.ok("overview", stack="agent")["chart"]["series"]
    assert {s["name"] for s in by_agent} == {"claude", "codex", "gemini"}
    claude = _library_totals(dt.date(2026, 10, 22), fx.TODAY, ("claude",))
    assert sum(next(s for s in by_agent if s["name"] == "claude")["cost"]) == pytest.approx(claude.cost, abs=1e-4)
    by_model = client.ok("overview", stack="model")["chart"]["series"]
    assert fx.UNPRICED_MODEL in {s["name"] for s in by_model}
    assert sum(next(s for s in by_model if s["name"] == fx.UNPRICED_MODEL)["unpricedCalls"]) > 0


def test_recent_sessions_newest_first(full):
    client, _ = full
    recent = client.ok("overview")["recentSessions"]
    assert len(recent) == 10
    lasts = [r["last"] for r in recent]
    assert lasts == sorted(lasts, reverse=True)
    assert recent[0]["last"].startswith("2026-11-20")
    store = Store()
    try:
        lib = query.usage_by_session(store, query.Filters(dt.date(2026, 10, 22), fx.TODAY), fx.TZ)[-10:][::-1]
    finally:
        store.close()
    assert [(r["agent"], r["sessionId"]) for r in recent] == [(s.agent, s.session_id) for s in lib]
    for r, s in zip(recent, lib):
        assert (r["calls"], r["totalTokens"], r["project"], r["models"]) == (
            s.calls, s.total_tokens, s.project, s.models_used)
        assert r["cost"] == pytest.approx(s.cost, abs=1e-6)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Asia/Beirut"])
def test_daily_sums_are_the_grouped_query_over_the_calls(zone):
    """The overview's (day, agent, model) sums come from the library's day_rows (quarter-hour
    sums or index ranges); they must be the plain grouped query over the calls themselves:
    across DST changes, a half-hour DST (Lord Howe), +05:45 (Kathmandu), a clock going back at
    midnight (Beirut), NULL models, an agent filter; counts exact, cost to the last bits."""
    from zoneinfo import ZoneInfo

    from token_roi.dashboard import api
    from token_roi.rows import UsageRow
    tz = ZoneInfo(zone)
    start = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
    rows = []
    for i in range(6000):       # about hourly from March to late November: every 2026 change
        ts = start + i * 3_830_000 + (i * 7919) % 600_000
        agent = ("claude", "codex", "gemini")[i % 3]
        model = None if i % 11 == 0 else f"{agent}-model-{i % 2}"
        rows.append(UsageRow(agent=agent, dedupe_key=f"k{i}", ts=ts, session_id=f"s{i // 40}", project="/p",
                             model=model, input_tokens=i % 997, output_tokens=(i * 31) % 1000,
                             reasoning_tokens=i % 5, cache_read_tokens=(i * 13) % 5000,
                             cache_write_5m_tokens=i % 3, cache_write_1h_tokens=i % 2))
    store = Store()
    try:
        with store.transaction():
            store.upsert_calls(rows)
            # Prices by hand (no price table knows these names): thirds of a cent, so sums carry bits.
            store.db.execute("UPDATE calls SET cost = (input_tokens + output_tokens) / 3e5 WHERE model IS NOT NULL")
        for f in (query.Filters(), query.Filters(dt.date(2026, 3, 20), dt.date(2026, 4, 10)),
                  query.Filters(dt.date(2026, 10, 1), dt.date(2026, 11, 5), None, ("codex", "gemini"))):
            got = {(day, agent, model): u for day, agent, model, u in api.daily_parts(store, f, tz)}
            lo, hi = query.first_call_ts(store, f, tz), query.first_call_ts(store, f, tz, last=True)
            day_expr, day_params = query.local_day_sql(tz, lo, hi)
            where, params = query.where_clause(f, tz)
            want = {((query.EPOCH_DAY + dt.timedelta(days=r[0])).isoformat(), r[1], r[2] or query.UNKNOWN_MODEL):
                    query.usage_from_sums(r, 3) for r in store.db.execute(
                        f"SELECT {day_expr} AS d, agent, model, {query._SUMS} FROM calls{where} "
                        "GROUP BY d, agent, model",
                        day_params + params)}
            assert got.keys() == want.keys() and len(got) > 100
            for k, u in want.items():
                v = got[k]
                assert (v.calls, v.total_tokens, v.input_tokens, v.output_tokens, v.reasoning_tokens,
                        v.cache_read_tokens, v.cache_write_5m_tokens, v.cache_write_1h_tokens, v.unpriced_calls,
                        v.unpriced_tokens, v.first_ts, v.last_ts) == (
                        u.calls, u.total_tokens, u.input_tokens, u.output_tokens, u.reasoning_tokens,
                        u.cache_read_tokens, u.cache_write_5m_tokens, u.cache_write_1h_tokens, u.unpriced_calls,
                        u.unpriced_tokens, u.first_ts, u.last_ts), k
                assert v.cost == pytest.approx(u.cost, rel=1e-13, abs=1e-15), k
    finally:
        store.close()


def test_bad_period_parameters_get_one_line_errors(full):
    client, _ = full
    status, body = client.get("overview", period="fortnight")
    assert status == 400 and "period 'fortnight'" in body["error"] and "7d" in body["error"]
    status, body = client.get("overview", period="custom", since="2026-11-10", until="2026-11-01")
    assert status == 400 and "after" in body["error"]
    status, body = client.get("overview", period="custom", since="10/11/2026")
    assert status == 400 and "YYYY-MM-DD" in body["error"]
    status, body = client.get("overview", stack="colour")
    assert status == 400
    status, body = client.get("overview", agent="skynet")
    assert status == 400 and "unknown agent" in body["error"]
    status, body = client.get("nothing-here")
    assert status == 404


def test_custom_range_and_agent_filter(full):
    client, _ = full
    d = client.ok("overview", period="custom", since="2026-11-01", until="2026-11-05", agent="codex")
    lib = _library_totals(dt.date(2026, 11, 1), dt.date(2026, 11, 5), ("codex",))
    assert d["totals"]["calls"] == lib.calls
    assert d["agents"] in ([], ["codex"])
    assert d["chart"]["labels"] == [f"2026-11-0{i}" for i in range(1, 6)]


def test_meta_names_the_agents_the_library_knows(full):
    client, _ = full
    store = Store()
    try:
        assert client.ok("meta")["agentsInLedger"] == query.known_agents(store) == ["claude", "codex", "gemini"]
    finally:
        store.close()


# -- value, sessions, models ----------------------------------------------------------------------

def test_value_figures_come_from_the_value_report(full):
    client, facts = full
    v = client.ok("value", period="all")
    assert v["available"] is True
    from token_roi.value import roi
    store = Store()
    try:
        report = roi.build(store, query.Filters(), fx.TZ, {}, git=False).as_json()
    finally:
        store.close()
    assert v["sessions"] == len(report["sessions"]) == len(facts["sessions"])
    assert v["value"]["mid"] == pytest.approx(sum(a["value"]["mid"] for a in report["agents"]), rel=1e-6)
    assert v["roi"]["mid"] == pytest.approx(v["value"]["mid"] / v["cost"], rel=1e-3)
    nva = next(s for s in report["sessions"] if (s["agent"], s["session"]) == facts["nva_session"])
    assert nva["category"] == "NVA"
    assert v["nvaPercent"] == pytest.approx(nva["cost"] / v["cost"] * 100, abs=0.01)
    assert {p["name"] for p in v["projects"]} == {"acme-api", "billing", "docs-site"}
    assert v["overlap"], "three agents share the projects: overlap must list them"
    assert all(len(o["agents"]) >= 2 for o in v["overlap"])


def test_sessions_sort_filter_and_page(full):
    client, facts = full
    d = client.ok("sessions", period="all", sort="cost", dir="desc", limit=5)
    assert d["count"] == len(facts["sessions"])
    costs = [s["cost"] for s in d["sessions"]]
    assert len(costs) == 5 and costs == sorted(costs, reverse=True)
    page2 = client.ok("sessions", period="all", sort="cost", dir="desc", limit=5, offset=5)
    assert page2["sessions"][0]["cost"] <= costs[-1]
    asc = client.ok("sessions", period="all", sort="tokens", dir="asc", limit=500)
    toks = [s["totalTokens"] for s in asc["sessions"]]
    assert toks == sorted(toks)
    billing = client.ok("sessions", period="all", q="billing", limit=500)
    assert billing["count"] == sum(1 for s in facts["sessions"] if s[2].endswith("billing"))
    assert all(s["project"].endswith("billing") for s in billing["sessions"])
    status, body = client.get("sessions", sort="colour")
    assert status == 400


def test_sessions_default_order_from_the_time_index_is_the_librarys(full):
    """The default Sessions page (newest first, no search) walks the time index instead of
    grouping every session: its count, totals and every page must be usage_by_session's, sorted
    as the other orders are (ties on the last call by agent and id; two sessions made to tie)."""
    from token_roi.rows import UsageRow
    client, _ = full
    store = Store()
    try:
        last = store.db.execute("SELECT MAX(ts) FROM calls").fetchone()[0]
        with store.transaction():
            store.upsert_calls([UsageRow(agent=a, dedupe_key=f"tie-{a}-{i}", ts=last - 60_000 * i,
                                         session_id=f"tie-{a}", project="/home/dev/tie", model="gpt-5",
                                         input_tokens=100 + i, output_tokens=5)
                                for a in ("claude", "codex") for i in range(3)])   # codex: walked first
        for period, since in (("all", None), ("30d", dt.date(2026, 10, 22)), ("7d", dt.date(2026, 11, 14))):
            lib = query.usage_by_session(store, query.Filters(since, fx.TODAY if since else None), fx.TZ)
            total = query.totals(lib)
            lib.sort(key=lambda s: s.last_ts or 0, reverse=True)         # the page's own sort of the library rows
            want = [(s.agent, s.session_id, s.calls, s.total_tokens, round(s.cost, 6), s.project, s.models_used)
                    for s in lib]
            for offset, limit in ((0, 50), (0, 1), (1, 3), (7, 5), (len(lib) - 2, 10)):
                d = client.ok("sessions", period=period, offset=offset, limit=limit)
                assert d["count"] == len(lib)
                assert d["totals"]["calls"] == total.calls and d["totals"]["totalTokens"] == total.total_tokens
                assert d["totals"]["cost"] == pytest.approx(total.cost, abs=1e-6)
                got = [(s["agent"], s["sessionId"], s["calls"], s["totalTokens"], s["cost"], s["project"], s["models"])
                       for s in d["sessions"]]
                assert got == want[offset:offset + limit], (period, offset, limit)
        first_two = client.ok("sessions", period="all", limit=2)["sessions"]
        assert [s["sessionId"] for s in first_two] == ["tie-claude", "tie-codex"]
    finally:
        store.close()


def test_sessions_in_every_other_order_and_searched_are_the_librarys(full):
    """Sorted by anything but newest first, or searched, the page reads one row per session
    (session_keys) instead of usage_by_session's grouping by model and project: count, totals
    and every page must still be usage_by_session's rows, filtered by the search as before and
    sorted with its order kept for ties. Sessions whose calls ran in several projects (one tied,
    one with calls without a project) get the project usage_by_session picks."""
    from token_roi.rows import UsageRow
    client, _ = full
    store = Store()
    try:
        last = store.db.execute("SELECT MAX(ts) FROM calls").fetchone()[0]
        mixed = [("multi-a", ["/home/dev/zeta", "/home/dev/alpha", "/home/dev/alpha"]),
                 ("multi-tie", ["/home/dev/beta", "/home/dev/alpha"]),
                 ("multi-none", [None, None, "/home/dev/gamma"]),
                 ("none-only", [None, None])]
        with store.transaction():
            store.upsert_calls([UsageRow(agent="codex", dedupe_key=f"mix-{sid}-{i}", ts=last - 3_600_000 - 60_000 * i,
                                         session_id=sid, project=proj, model="gpt-5", input_tokens=100 + i,
                                         output_tokens=7)
                                for sid, projects in mixed for i, proj in enumerate(projects)])
        keys = {"last": lambda s: s.last_ts or 0, "first": lambda s: s.first_ts or 0, "cost": lambda s: s.cost,
                "tokens": lambda s: s.total_tokens, "calls": lambda s: s.calls, "agent": lambda s: s.agent,
                "project": lambda s: s.project or ""}
        for period, since in (("all", None), ("7d", dt.date(2026, 11, 14))):
            lib_all = query.usage_by_session(store, query.Filters(since, fx.TODAY if since else None), fx.TZ)
            total = query.totals(lib_all)
            for sort, direction, text in (("cost", "desc", ""), ("cost", "asc", ""), ("tokens", "desc", ""),
                                          ("calls", "asc", ""), ("first", "desc", ""), ("last", "asc", ""),
                                          ("agent", "asc", ""), ("project", "desc", ""), ("project", "asc", ""),
                                          ("last", "desc", "alpha"), ("cost", "desc", "billing"),
                                          ("calls", "desc", "MULTI"), ("last", "desc", "gamma")):
                lib = [s for s in lib_all if not text or text.lower() in (s.session_id or "").lower()
                       or text.lower() in (s.project or "").lower()]
                lib.sort(key=keys[sort], reverse=direction == "desc")
                want = [(s.agent, s.session_id, s.calls, s.total_tokens, round(s.cost, 6), s.project or "",
                         s.models_used) for s in lib]
                for offset, limit in ((0, 500), (3, 4)):
                    d = client.ok("sessions", period=period, sort=sort, dir=direction, q=text or None,
                                  offset=offset, limit=limit)
                    assert d["count"] == len(lib), (period, sort, direction, text)
                    assert d["totals"]["calls"] == total.calls and d["totals"]["totalTokens"] == total.total_tokens
                    assert d["totals"]["cost"] == pytest.approx(total.cost, abs=1e-6)
                    got = [(s["agent"], s["sessionId"], s["calls"], s["totalTokens"], s["cost"], s["project"],
                            s["models"]) for s in d["sessions"]]
                    assert got == want[offset:offset + limit], (period, sort, direction, text, offset)
        multi = client.ok("sessions", period="all", q="multi", limit=10)["sessions"]
        picked = {s["sessionId"]: s["project"] for s in multi}
        assert picked == {"multi-a": "/home/dev/alpha", "multi-tie": "/home/dev/beta", "multi-none": ""}
        assert [s["project"] for s in client.ok("sessions", period="all", q="gamma")["sessions"]] == []
    finally:
        store.close()


def test_session_detail_tokens_by_kind_loops_category_and_value(full):
    client, facts = full
    agent, sid = facts["loop_session"]
    d = client.ok("session", agent=agent, id=sid)
    kinds = ("inputTokens", "outputTokens", "reasoningTokens", "cacheReadTokens", "cacheWrite5mTokens",
             "cacheWrite1hTokens")
    assert sum(d[k] for k in kinds) == d["totalTokens"] > 0
    assert sum(m["calls"] for m in d["models"]) == d["calls"]
    assert sum(m["cost"] for m in d["models"]) == pytest.approx(d["cost"], abs=1e-5)
    assert d["value"]["signals"]["loop_attempts_max"] == 4
    assert d["value"]["category"] in ("VA", "NVA", "BVA")
    assert d["value"]["value"]["low"] <= d["value"]["value"]["mid"] <= d["value"]["value"]["high"]
    agent, sid = facts["nva_session"]
    nva = client.ok("session", agent=agent, id=sid)
    assert nva["value"]["category"] == "NVA" and nva["value"]["category_by"] != "rules"
    status, body = client.get("session", agent="claude", id="no-such-session")
    assert status == 400 and "no session" in body["error"]


def test_models_spend_tokens_and_cache_hit_rate(full):
    client, _ = full
    d = client.ok("models", period="all")
    lib = _library_totals()
    assert {m["model"] for m in d["models"]} == set(lib.models)
    for m in d["models"]:
        u = lib.models[m["model"]]
        assert m["cost"] == pytest.approx(u.cost, abs=1e-5) and m["totalTokens"] == u.total_tokens
        prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
        assert m["cacheHitRate"] == pytest.approx(u.cache_read_tokens / prompt)
    unpriced = next(m for m in d["models"] if m["model"] == fx.UNPRICED_MODEL)
    assert unpriced["fullyUnpriced"] is True and unpriced["cost"] == 0


# -- accounting -----------------------------------------------------------------------------------

def test_budget_and_subscriptions_are_the_accounting_figures(full):
    client, _ = full
    b = client.ok("budget")
    assert b["month"] == "2026-11" and b["budget"] == 300 and b["fixedCost"] == 100
    assert b["spent"] == pytest.approx(b["proportionalCost"] + b["fixedCost"], abs=1e-5)
    assert b["status"] == "healthy" and b["colour"] == "green"
    assert len(b["daily"]["labels"]) == 30
    assert sum(b["daily"]["proportional"]) == pytest.approx(b["proportionalCost"], abs=1e-4)
    assert b["unpricedCalls"] > 0 and fx.UNPRICED_MODEL in b["unpricedModels"]
    s = client.ok("subscriptions")
    assert s["configured"] == 1
    plan = s["subscriptions"][0]
    assert plan["plan"] == "Claude Max 5x" and plan["monthlyFee"] == 100
    assert plan["coveredValue"] == pytest.approx(s["coveredValue"], abs=1e-5)
    assert plan["coveredValue"] > 0
    assert plan["breakEvenPercent"] == pytest.approx(plan["coveredValue"], abs=0.01)   # fee is $100
    assert plan["hint"] in ("keep", "cancel", "upgrade")


# -- prices ---------------------------------------------------------------------------------------

def test_price_override_is_validated_written_and_moves_the_cost(full):
    client, _ = full
    before = client.ok("prices")
    gpt5 = next(m for m in before["models"] if m["model"] == "gpt-5")
    assert gpt5["source"] == "genai-prices" and gpt5["cost"] > 0
    total_before = client.ok("overview", period="all")["totals"]["cost"]

    status, body = client.post("prices", {"model": "gpt-5", "rates": {"input": "cheap"}})
    assert status == 400 and "input" in body["error"] and "'cheap'" in body["error"]
    status, body = client.post("prices", {"model": "gpt-5", "rates": {"input": -1}})
    assert status == 400 and ">= 0" in body["error"]
    status, body = client.post("prices", {"model": "gpt-5", "rates": {"inptu": 1}})
    assert status == 400 and "unknown field" in body["error"]
    status, body = client.post("prices", {"model": "", "rates": {"input": 1}})
    assert status == 400
    assert not pricing.overrides_path().exists(), "a rejected override must not write the file"

    status, body = client.post("prices", {"model": "gpt-5", "rates": {"input": 12.5, "output": 100}})
    assert status == 200, body
    assert body["repriced"] >= gpt5["calls"]
    assert "gpt-5" in pricing.overrides_path().read_text()
    after = client.ok("prices")
    gpt5_after = next(m for m in after["models"] if m["model"] == "gpt-5")
    assert gpt5_after["source"] == "override" and gpt5_after["rates"]["input"] == 12.5
    assert gpt5_after["cost"] > gpt5["cost"] * 5
    total_after = client.ok("overview", period="all")["totals"]["cost"]
    assert total_after - total_before == pytest.approx(gpt5_after["cost"] - gpt5["cost"], rel=1e-6)

    # Pricing the unknown model makes its calls priced.
    status, body = client.post("prices", {"model": fx.UNPRICED_MODEL, "rates": {"input": 2, "output": 8}})
    assert status == 200, body
    assert client.ok("overview", period="all")["totals"]["unpricedCalls"] == 0

    status, body = client.post("prices/remove", {"model": "gpt-5"})
    assert status == 200 and body["removed"] == "gpt-5"
    back = next(m for m in client.ok("prices")["models"] if m["model"] == "gpt-5")
    assert back["source"] == "genai-prices" and back["cost"] == pytest.approx(gpt5["cost"], abs=1e-6)
    status, body = client.post("prices/remove", {"model": "gpt-5"})
    assert status == 400 and "no override" in body["error"]


def test_broken_prices_file_is_reported_not_crashed(full):
    client, _ = full
    pricing.overrides_path().write_text("gpt-5: {input: [1, 2]}\n")
    d = client.ok("prices")
    assert d["error"] and "prices.yaml" in d["error"] and "input" in d["error"]
    status, body = client.post("prices", {"model": "gpt-5", "rates": {"input": 1}})
    assert status == 400 and "prices.yaml" in body["error"]


# -- empty ledger ---------------------------------------------------------------------------------

def test_every_endpoint_answers_on_an_empty_ledger(empty):
    client = empty
    for period in ("today", "7d", "30d", "month", "all"):
        d = client.ok("overview", period=period)
        assert d["totals"]["calls"] == 0 and d["totals"]["cost"] == 0 and d["recentSessions"] == []
        assert all(s["cost"] == [] or not any(s["cost"]) for s in d["chart"]["series"])
    assert client.ok("overview", period="all")["chart"]["labels"] == []
    assert len(client.ok("overview", period="7d")["chart"]["labels"]) == 7
    v = client.ok("value")
    assert v["available"] is False and v["reason"]
    assert client.ok("sessions")["count"] == 0
    m = client.ok("models")
    assert m["models"] == [] and m["totals"]["cacheHitRate"] is None
    b = client.ok("budget")
    assert b["spent"] == 0 and b["status"] == "unset"
    s = client.ok("subscriptions")
    assert s["configured"] == 0 and s["subscriptions"] == []
    p = client.ok("prices")
    assert p["models"] == [] and p["error"] is None
    meta = client.ok("meta")
    assert meta["agentsInLedger"] == [] and meta["firstCall"] is None


# -- the server -----------------------------------------------------------------------------------

def test_page_and_vendored_chart_library_are_served(empty):
    client = empty
    status, body, r = client.request("GET", "/")
    assert status == 200 and b"/vendor/chart.umd.min.js" in body and b"/app.js" in body
    assert "text/html" in r.getheader("Content-Type")
    status, body, r = client.request("GET", "/vendor/chart.umd.min.js")
    assert status == 200 and b"Chart.js v4" in body[:200]
    assert "javascript" in r.getheader("Content-Type")
    for path in ("/app.js", "/style.css", "/vendor/chart.js-LICENSE.md"):
        assert client.request("GET", path)[0] == 200
    for path in ("/../api.py", "/%2e%2e/server.py", "/nope.js", "/vendor/../../api.py"):
        assert client.request("GET", path)[0] == 404


def test_assets_are_named_by_their_hash_and_only_those_urls_are_cached_for_good(empty):
    """The page names each script and the stylesheet as /path?v=<hash of what is served there>:
    that URL is immutable (a returning browser keeps the code and its compiled form); any other
    URL of the file, and the page itself, are asked for again."""
    import hashlib
    import re
    client = empty
    status, html, r = client.request("GET", "/")
    assert r.getheader("Cache-Control") == "no-store"
    refs = dict(re.findall(rb'(?:src|href)="(/[\w./-]+\.(?:js|css))\?v=([0-9a-f]+)"', html))
    assert set(refs) == {b"/app.js", b"/style.css", b"/vendor/chart.umd.min.js"}
    # The scripts are asked for as the response commits, by the very URLs the tags name.
    assert r.getheader("Link") == ", ".join(f"<{p.decode()}?v={refs[p].decode()}>; rel=preload; as=script"
                                            for p in (b"/app.js", b"/vendor/chart.umd.min.js"))
    for path, version in refs.items():
        status, body, r = client.request("GET", f"{path.decode()}?v={version.decode()}")
        assert status == 200 and hashlib.sha256(body).hexdigest().startswith(version.decode())
        assert "immutable" in r.getheader("Cache-Control")
        for other in (path.decode(), f"{path.decode()}?v=0123456789abcdef"):
            status, again, r = client.request("GET", other)
            assert status == 200 and again == body and r.getheader("Cache-Control") == "no-cache"


def test_the_vendored_chart_library_asks_to_be_compiled_as_it_loads():
    """Its first line is V8's explicit compile hint: every function compiled while the file
    streams in, off the main thread (build-chartjs.sh writes it; a rebuild must keep it)."""
    from token_roi.dashboard.server import STATIC
    first = (STATIC / "vendor" / "chart.umd.min.js").read_bytes().split(b"\n", 1)[0]
    assert first == b"//# allFunctionsCalledOnLoad"


def test_the_preferred_port_is_the_same_for_a_ledger_and_yields_when_taken(tmp_path):
    import socket

    from token_roi.dashboard.server import PREFERRED_PORTS, Settings, make_server, preferred_port
    a = tmp_path / "a" / "ledger.sqlite3"
    assert preferred_port(a) == preferred_port(a) in PREFERRED_PORTS
    assert preferred_port() == preferred_port() in PREFERRED_PORTS     # the default ledger
    assert len({preferred_port(tmp_path / str(i) / "ledger.sqlite3") for i in range(20)}) > 15
    want = preferred_port(a)
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", want))
        except OSError:
            pytest.skip(f"port {want} is in use on this machine")
    first = make_server(port=None, settings=Settings(store_path=a))
    try:
        assert first.server_address[1] == want
        second = make_server(port=None, settings=Settings(store_path=a))    # taken: any free one
        try:
            assert second.server_address[1] not in (0, want)
        finally:
            second.server_close()
    finally:
        first.server_close()
    again = make_server(port=None, settings=Settings(store_path=a))         # free again: the same
    try:
        assert again.server_address[1] == want
    finally:
        again.server_close()


def test_the_page_starts_the_default_overview_and_its_request_takes_it_once(full, monkeypatch):
    """Serving index.html starts the default overview (what the page's head asks for next); the
    page's request takes that answer, once; any other request drops it, later ones compute anew."""
    from token_roi.dashboard import api, server
    client, _ = full
    started = []

    def marked(ctx, q):
        started.append(dict(q))
        return {**api.GET["overview"](ctx, q), "fromEarly": True}
    monkeypatch.setattr(api, "overview", marked)
    lib = _library_totals(dt.date(2026, 10, 22), fx.TODAY)
    assert client.request("GET", "/")[0] == 200
    first = client.ok("overview", period="30d", stack="agent")
    assert first.get("fromEarly") and started == [server.EARLY_QUERY]
    assert first["totals"]["calls"] == lib.calls and first["totals"]["cost"] == pytest.approx(lib.cost, abs=1e-5)
    again = client.ok("overview", period="30d", stack="agent")
    assert "fromEarly" not in again and {**first, "fromEarly": None} == {**again, "fromEarly": None}
    client.request("GET", "/")
    assert "fromEarly" not in client.ok("overview", period="7d", stack="agent")   # not what was started
    assert "fromEarly" not in client.ok("overview", period="30d", stack="agent")  # the 7d request dropped it
    client.request("GET", "/")
    client.ok("meta")
    assert "fromEarly" not in client.ok("overview", period="30d", stack="agent")  # so does any other
    client.request("HEAD", "/")
    assert "fromEarly" not in client.ok("overview", period="30d", stack="agent")
    monkeypatch.setattr(server, "EARLY_WAIT_S", 0.0)
    client.request("GET", "/")
    assert "fromEarly" not in client.ok("overview", period="30d", stack="agent")  # too old to be taken


def test_the_inline_head_script_is_the_one_the_csp_allows():
    """index.html's one inline script (the early overview request) runs only if its sha256 is in
    the Content-Security-Policy: editing the script without the hash would silently drop it."""
    import base64
    import hashlib
    import re

    from token_roi.dashboard.server import STATIC
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(inline) == 1 and "fetch(" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert html.index("<script>") < html.index('rel="stylesheet"')      # a stylesheet would hold it back


def test_loopback_only_and_writes_need_json(empty):
    client = empty
    status, body, _ = client.request("GET", "/api/meta", headers={"Host": "evil.example:8080"})
    assert status == 403
    status, body, _ = client.request("GET", "/api/meta", headers={"Host": f"localhost:{client.port}"})
    assert status == 200
    conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
    conn.request("POST", "/api/prices", body=b"model=gpt-5&input=1",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    assert r.status == 415
    conn.close()
    assert not pricing.overrides_path().exists()
    status, body, _ = client.request("POST", "/api/prices", body=None,
                                     headers={"Content-Type": "application/json", "Content-Length": "0"})
    assert status == 400


def test_default_bind_is_loopback_on_a_free_port():
    from token_roi.dashboard.server import make_server, url_of
    a, b = make_server(), make_server()
    try:
        assert a.server_address[0] == "127.0.0.1" and b.server_address[0] == "127.0.0.1"
        assert a.server_address[1] != b.server_address[1] and a.server_address[1] > 0
        assert url_of(a) == f"http://127.0.0.1:{a.server_address[1]}/"
    finally:
        a.server_close()
        b.server_close()


def test_cli_dashboard_command(capsys):
    from token_roi.cli import COMMANDS, main
    assert COMMANDS["dashboard"][0] == "dashboard"
    assert main(["dashboard", "--port", "70000", "--no-open", "--no-ingest"]) == 2
    assert "--port 70000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["dashboard", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--no-open" in out and "--host" in out and "127.0.0.1" in out


def test_cli_serves_the_ledger_on_loopback_until_stopped(tmp_path):
    """`token-roi dashboard --no-open` as a person runs it: prints the URL, answers there."""
    import os
    import socket
    import subprocess
    import urllib.request

    from token_roi.dashboard.server import preferred_port
    fx.build()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred_port()))
            free = True
        except OSError:
            free = False
    proc = subprocess.Popen([sys.executable, "-m", "token_roi.cli", "dashboard", "--no-open", "-z", "UTC"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        assert line.startswith("token-roi dashboard: http://127.0.0.1:"), (
            line, proc.stderr.read() if proc.poll() else "")
        url = line.split()[2]
        if free:        # the same port at every launch for this ledger, when nothing else has it
            assert url == f"http://127.0.0.1:{preferred_port()}/"
        with urllib.request.urlopen(url + "api/overview?period=all", timeout=30) as r:
            d = json.loads(r.read())
        assert d["totals"]["calls"] == _library_totals().calls > 0
        with urllib.request.urlopen(url, timeout=30) as r:
            assert b"token-roi dashboard" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
