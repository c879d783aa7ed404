"""The dashboard in a real browser (headless Chromium via Playwright) against a server on a
fixture ledger and on an empty one: each page renders without errors or outside requests, the
period filter moves the numbers, a price override moves the cost, screenshots for the docs."""

from __future__ import annotations

import json
import re
import urllib.request

PAGES = ("dashboard", "sessions", "projects", "models", "budget", "prices", "about")


def api(dash, endpoint: str) -> dict:
    with urllib.request.urlopen(dash.url + "api/" + endpoint, timeout=30) as r:
        return json.loads(r.read())


def money(x: float) -> str:
    return f"${x:,.2f}"


def test_dashboard_shows_the_library_figures_with_a_real_chart(full_dashboard):
    dash = full_dashboard.open("dashboard")
    d = api(dash, "overview?period=30d")
    v = api(dash, "value?period=30d")
    assert dash.kpi("spend") == money(d["totals"]["cost"]) + "*"          # some calls have no price
    assert "calls without a price" in dash.text("#kpi-spend .sub")
    assert dash.page.get_attribute("#kpi-tokens .value span", "title") == f"{d['totals']['totalTokens']:,} tokens"
    assert dash.kpi("value") == money(v["value"]["mid"])
    assert dash.kpi("roi") == f"{v['roi']['mid']:.2f}×"
    assert dash.kpi("nva") == f"{v['nvaPercent']:.1f}%"
    chart = dash.page.evaluate("""() => { const c = Chart.getChart('cost-chart');
        return {labels: c.data.labels.length, sets: c.data.datasets.map(d => d.label),
                sum: c.data.datasets.reduce((a, d) => a + d.data.reduce((x, y) => x + y, 0), 0),
                yTitle: c.options.scales.y.title.text, tick: c.options.scales.y.ticks.callback(2.5)} }""")
    assert chart["labels"] == 30 and set(chart["sets"]) == {"claude", "codex", "gemini"}
    assert abs(chart["sum"] - d["totals"]["cost"]) < 1e-3
    assert chart["yTitle"] == "cost (USD)" and chart["tick"] == "$2.5"
    # Tooltips: hovering a bar names the agent, the money and the tokens.
    box = dash.page.query_selector("#cost-chart").bounding_box()
    dash.page.mouse.move(box["x"] + box["width"] * 0.97, box["y"] + box["height"] * 0.6)
    tooltip = dash.page.evaluate("() => { const t = Chart.getChart('cost-chart').tooltip;"
                                 " return t && t.body ? t.body.map(b => b.lines.join(' ')) : [] }")
    assert tooltip and any(re.search(r"^\w+: \$\d+\.\d\d \(", line) and "tokens" in line for line in tooltip)
    plan = dash.page.inner_text("#subs")
    assert "Claude Max 5x" in plan and "$100.00/month" in plan
    rows = dash.page.query_selector_all("[data-table=recent] tbody tr")
    assert len(rows) == 10
    dash.assert_clean()
    dash.screenshot("dashboard")


def test_first_render_shows_the_library_figures_from_the_early_request(full_dashboard):
    """The first render path: index.html's head asks for the overview before app.js and Chart.js
    load, and app.js takes that answer. At the first render (body[data-first], before the value
    and plan cards fill) the KPI cards and the chart must already hold the library's figures,
    from exactly one overview request, for the default view and for a linked one."""
    import datetime as dt

    import dashboard_fixture as fx

    from token_roi.reports import query
    from token_roi.store import Store
    dash = full_dashboard
    for route, params, since in (("dashboard", "period=30d&stack=agent", dt.date(2026, 10, 22)),
                                 ("dashboard?stack=model&period=7d", "period=7d&stack=model", dt.date(2026, 11, 14))):
        dash.requests.clear()
        dash.page.goto("about:blank")
        dash.page.goto(dash.url + "#/" + route)
        dash.page.wait_for_selector("body[data-first]", timeout=20000)
        store = Store()
        try:
            lib = query.totals(query.usage_by_period(store, "daily", query.Filters(since, fx.TODAY), fx.TZ))
        finally:
            store.close()
        assert dash.kpi("spend") == money(lib.cost) + "*"          # the unknown model's calls: a lower bound
        assert dash.page.get_attribute("#kpi-tokens .value span", "title") == f"{lib.total_tokens:,} tokens"
        assert dash.text("#kpi-tokens .sub") == f"{lib.calls:,} calls"
        chart = dash.page.evaluate("""() => { const c = Chart.getChart('cost-chart');
            return {n: c.data.labels.length,
                    sum: c.data.datasets.reduce((a, d) => a + d.data.reduce((x, y) => x + y, 0), 0)} }""")
        assert chart["n"] == (fx.TODAY - since).days + 1 and abs(chart["sum"] - lib.cost) < 1e-3
        overview = [u for u in dash.requests if "/api/overview" in u]
        assert overview == [dash.url + "api/overview?" + params], overview
        assert dash.page.evaluate("window.earlyFetch") is None                 # taken, never reused
        # Asked from the head, while the page was parsed: app.js (deferred) runs only after.
        asked, parsed = dash.page.evaluate("""() => [performance.getEntriesByType('resource')
            .find(e => e.name.includes('/api/overview')).startTime,
            performance.getEntriesByType('navigation')[0].domInteractive]""")
        assert asked < parsed
        assert dash.page.evaluate("performance.getEntriesByName('first-render').length") == 1
        dash.wait()
        dash.assert_clean()                                                    # no CSP refusal either
    # The page groups digits by hand (no ICU on the first render's path): Intl's text, always.
    mismatches = dash.page.evaluate("""() => {
        const values = [0, 0.004, 0.005, 0.015, 1.005, 2.5, 9.995, 999.995, 1000, 1234.5678, 99999.999, 1e6 + 0.125,
                        123456789.987, 7.881267125, -0.004, -1.5, -1234.567, -1000000];
        for (let i = 0; i < 3000; i++)
            values.push(Math.round(Math.random() * 10 ** (1 + i % 12)) / [1, 8, 100, 1000][i % 4] * (i % 7 ? 1 : -1));
        const int = new Intl.NumberFormat("en-US"), out = [];
        for (const v of values.map(x => x || 0)) {     // -0: Intl writes "$-0", we "$0"
            const n = Math.round(v) || 0;           // counts are whole, and never -0 (Intl writes "-0")
            if (intFmt.format(n) !== int.format(n)) out.push(["int", n, intFmt.format(n)]);
            const m = (v < 0 && Math.round(v * 100) !== 0 ? "-$" : "$")
                + Math.abs(v).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
            if (money(v) !== m) out.push(["money", v, money(v), m]);
            const t = "$" + Number(v).toLocaleString("en-US", {maximumFractionDigits: 2});
            if (moneyTick(v) !== t) out.push(["tick", v, moneyTick(v), t]);
        }
        return out; }""")
    assert mismatches == [], mismatches[:5]
    # Another page asks for no overview at all.
    dash.requests.clear()
    dash.page.goto("about:blank")
    dash.open("models")
    assert not [u for u in dash.requests if "/api/overview" in u]


def test_period_filter_changes_the_numbers(full_dashboard):
    dash = full_dashboard.open("dashboard")
    spend_30 = dash.kpi("spend")
    dash.click_and_wait("#period button[data-period='7d']")
    assert "period=7d" in dash.page.url
    d7 = api(dash, "overview?period=7d")
    spend_7 = dash.kpi("spend")
    assert spend_7 != spend_30 and spend_7.rstrip("*") == money(d7["totals"]["cost"])
    assert dash.text("#period-text") == f"{d7['since']} – {d7['until']}"
    assert dash.page.evaluate("Chart.getChart('cost-chart').data.labels.length") == 7
    dash.click_and_wait("#period button[data-period='custom']")
    dash.page.fill("#since", "2026-11-02")
    dash.page.fill("#until", "2026-11-04")
    dash.click_and_wait("#apply-range")
    dc = api(dash, "overview?period=custom&since=2026-11-02&until=2026-11-04")
    assert dash.kpi("spend").rstrip("*") == money(dc["totals"]["cost"])
    assert dash.page.evaluate("Chart.getChart('cost-chart').data.labels") == ["2026-11-02", "2026-11-03", "2026-11-04"]
    dash.click_and_wait("#stack button[data-stack='model']")
    labels = dash.page.evaluate("Chart.getChart('cost-chart').data.datasets.map(d => d.label)")
    by_model = api(dash, "overview?period=custom&since=2026-11-02&until=2026-11-04&stack=model")
    assert set(labels) == {s["name"] for s in by_model["chart"]["series"]}
    assert any(label.startswith("claude-") for label in labels)
    dash.assert_clean()


def test_every_page_renders_on_the_full_ledger(full_dashboard):
    dash = full_dashboard
    for page in PAGES:
        dash.open(page)
        assert dash.page.query_selector("main h1"), page
        assert dash.page.query_selector_all("main [data-empty]") == [] or page == "projects", page
        dash.assert_clean()
        if page in ("projects", "models", "budget"):
            dash.screenshot(page)
    # Charts on the pages that have them, with unit-bearing axes.
    dash.open("models")
    assert dash.page.evaluate("Chart.getChart('models-chart').options.scales.x.title.text") == "cost (USD)"
    assert dash.page.query_selector_all("[data-table=models] tbody tr")
    dash.open("budget")
    assert dash.page.get_attribute("#health", "data-status") == "healthy"
    assert "green" in dash.page.get_attribute("#health", "class")
    dash.open("projects")
    names = dash.page.inner_text("[data-table=projects]")
    assert "acme-api" in names and "billing" in names
    assert dash.page.query_selector("[data-table=overlap]")


def test_every_chart_draws_offline(full_dashboard):
    """Chart.js is a trimmed build (core/dashboard/vendor/build-chartjs.sh): each page's chart must
    find its controllers, scales and elements in it and draw every dataset, with nothing but the
    dashboard's own server reachable (no CDN, no network)."""
    dash = full_dashboard
    dash.page.context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(dash.url) else r.abort())
    drawn = """id => { const c = Chart.getChart(id);
        return [c.options.indexAxis,
                c.data.datasets.map((d, i) => [d.type || c.config.type, c.getDatasetMeta(i).data.length])]; }"""
    for page, canvas, axis, types in (("dashboard", "cost-chart", "x", {"bar"}),
                                      ("projects", "projects-chart", "x", {"bar"}),
                                      ("models", "models-chart", "y", {"bar"}),
                                      ("budget", "budget-chart", "x", {"bar", "line"})):
        dash.open(page)
        dash.assert_clean()
        index_axis, sets = dash.page.evaluate(drawn, canvas)
        assert index_axis == axis and {t for t, _ in sets} == types, (page, index_axis, sets)
        assert all(n > 0 for _, n in sets), (page, sets)
    # The budget line is dashed and drawn without points (the line and point elements are in the build).
    assert dash.page.evaluate("Chart.getChart('budget-chart').getDatasetMeta(2).dataset.options.borderDash") == [6, 4]


def test_sessions_sort_filter_and_detail(full_dashboard):
    dash = full_dashboard.open("sessions?period=all")
    count = api(dash, "sessions?period=all")["count"]
    assert dash.text("#sessions-summary").startswith(f"{count:,} sessions")
    dash.click_and_wait("[data-table=sessions] th:has-text('Cost')")
    top = api(dash, "sessions?period=all&sort=cost&dir=desc&limit=1")["sessions"][0]
    first_cost = dash.text("[data-table=sessions] tbody tr:first-child td:last-child")
    assert first_cost.rstrip("*") == money(top["cost"])
    dash.page.fill("#session-search", "billing")
    dash.page.evaluate("delete document.body.dataset.ready")
    dash.page.press("#session-search", "Enter")
    dash.wait()
    projects = dash.page.eval_on_selector_all("[data-table=sessions] tbody tr td:nth-child(3)",
                                              "els => els.map(e => e.innerText)")
    assert projects and set(projects) == {"billing"}
    # The session with guard signals: its detail shows loop attempts, category and value.
    agent, sid = full_dashboard.facts["loop_session"]
    dash.open(f"session?agent={agent}&id={sid}")
    assert dash.text("#loop-attempts") == "max 4, total 7"
    assert dash.text("#kpi-category .value") in ("VA", "NVA", "BVA")
    assert dash.kpi("value").startswith("$")
    kinds = dash.page.inner_text("[data-table=kinds]")
    for kind in ("Uncached input", "Output", "Cache read", "Cache write 5m", "Cache write 1h"):
        assert kind in kinds
    dash.assert_clean()
    dash.screenshot("session")
    # Clicking a row in the list opens that session.
    dash.open("sessions?period=all")
    dash.click_and_wait("[data-table=sessions] tbody tr:first-child")
    assert "#/session?" in dash.page.url and dash.page.query_selector("[data-table=kinds]")


def test_price_override_is_validated_and_moves_the_cost(full_dashboard):
    dash = full_dashboard.open("prices")
    before = next(m for m in api(dash, "prices")["models"] if m["model"] == "gpt-5")
    total_before = api(dash, "overview?period=all")["totals"]["cost"]
    dash.page.click("button[data-edit='gpt-5']")
    assert dash.page.input_value("#ov-model") == "gpt-5"
    assert dash.page.input_value("#ov-input") == "1.25"
    dash.page.fill("#ov-input", "abc")
    dash.page.click("#ov-save")
    dash.page.wait_for_selector("#price-message .error")
    message = dash.text("#price-message .error")
    assert "prices.yaml" in message and "'input'" in message and "'abc'" in message
    dash.errors = [e for e in dash.errors if "400 (Bad Request)" not in e]    # that refusal was expected
    assert next(m for m in api(dash, "prices")["models"] if m["model"] == "gpt-5")["source"] == "genai-prices"
    dash.page.fill("#ov-input", "12.5")
    dash.page.fill("#ov-output", "100")
    dash.page.click("#ov-save")
    dash.page.wait_for_selector("#price-message .ok")
    assert "re-priced" in dash.text("#price-message .ok")
    after = next(m for m in api(dash, "prices")["models"] if m["model"] == "gpt-5")
    assert after["source"] == "override" and after["cost"] > before["cost"]
    row = dash.page.inner_text("[data-table=prices] tr:has(button[data-edit='gpt-5'])")
    assert "override" in row and money(after["cost"]) in row and "12.5" in row
    dash.screenshot("prices")
    # The dashboard's spend moved by exactly the model's change.
    dash.open("dashboard?period=all")
    total_after = api(dash, "overview?period=all")["totals"]["cost"]
    assert abs((total_after - total_before) - (after["cost"] - before["cost"])) < 1e-5   # 6-decimal rounding
    assert dash.kpi("spend").rstrip("*") == money(total_after)
    # Removing the override restores genai-prices' price.
    dash.open("prices")
    dash.page.click("button[data-remove='gpt-5']")
    dash.page.wait_for_selector("#price-message .ok")
    back = next(m for m in api(dash, "prices")["models"] if m["model"] == "gpt-5")
    assert back["source"] == "genai-prices" and abs(back["cost"] - before["cost"]) < 1e-6
    dash.assert_clean()


def test_every_page_works_on_an_empty_ledger(empty_dashboard):
    dash = empty_dashboard
    for page in PAGES:
        dash.open(page)
        assert dash.page.query_selector("main h1"), page
        dash.assert_clean()
    dash.open("dashboard")
    assert dash.kpi("spend") == "$0.00"
    assert dash.kpi("tokens") == "0"
    assert dash.text("#kpi-value .value") == "not available"
    assert dash.page.query_selector("main [data-empty]")
    assert "No subscriptions configured" in dash.text("#subs")
    dash.screenshot("dashboard-empty")
    dash.open("sessions")
    assert "No sessions match" in dash.text("main")
    dash.open("prices")
    assert "nothing to price" in dash.text("#price-table")
    dash.open("budget")
    assert dash.page.get_attribute("#health", "data-status") == "unset"
