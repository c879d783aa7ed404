"""The dashboard's Limits page in headless Chromium: the windows with their pace, the history
chart drawn from the official figures, and the attribution tables -- the same figures as
`token-roi limits --json` -- with no errors and no outside requests; and the empty state."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from token_roi.limits import snapshots
from token_roi.limits.snapshots import Snapshot
from token_roi.store import Store

H, M = 3600, 60


def _server(browser):
    import dashboard_fixture as fx
    from conftest import VIEWPORT, Dashboard

    from token_roi.dashboard.server import Settings, start_in_thread
    server, url = start_in_thread(Settings(tz=fx.TZ, today=fx.TODAY, git=False))
    context = browser.new_context(viewport=VIEWPORT)
    return server, context, Dashboard(context.new_page(), url)


@pytest.fixture
def limits_dashboard(browser):
    now = int(time.time())
    store = Store()
    with store.transaction():
        calls = (("a1", 100, "A", "/p/alpha", 1.0), ("a2", 60, "A", "/p/alpha", 2.0), ("b1", 45, "B", "/p/beta", 6.0))
        for key, minutes, session, project, cost in calls:
            store.db.execute(
                "INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
                "cost, price_source, ingested_at) VALUES ('claude', ?, ?, ?, ?, 'claude-opus-4-1', 1000, 100, ?, "
                "'override', 0)", (key, (now - minutes * M) * 1000, session, project, cost))
        snapshots.append(store.db, [
            Snapshot("claude", "five_hour", 10.0, now + 3 * H, now - 90 * M, "statusline", "A"),
            Snapshot("claude", "five_hour", 30.0, now + 3 * H, now - 30 * M, "statusline", "B"),
            Snapshot("claude", "seven_day", 12.0, now + 4 * 86400, now - 30 * M, "statusline", "B"),
            Snapshot("codex", "five_hour", 55.0, now + 2 * H, now - 20 * M, "codex", "X")])
    store.close()
    server, context, dash = _server(browser)
    yield dash
    context.close()
    server.shutdown()
    server.server_close()


@pytest.mark.e2e
def test_limits_page_shows_windows_history_and_attribution(limits_dashboard):
    dash = limits_dashboard.open("limits")
    with urllib.request.urlopen(dash.url + "api/limits?days=7", timeout=30) as r:
        d = json.loads(r.read())
    assert dash.kpi("claude-five_hour") == "30%"
    assert dash.kpi("codex-five_hour") == "55%"
    assert "pace 90% at reset" in dash.text("#kpi-claude-five_hour .sub")
    rows = dash.page.query_selector_all("[data-table=limits-windows] tbody tr")
    assert len(rows) == len(d["windows"]) == 3
    chart = dash.page.evaluate("""() => { const c = Chart.getChart('limits-chart');
        return c.data.datasets.map(s => [s.label, s.data.map(p => p.y)]) }""")
    assert sorted(chart) == [["claude 5-hour", [10, 30]], ["claude 7-day", [12]], ["codex 5-hour", [55]]]
    sessions = dash.text("[data-table=attribution-five_hour-session]")
    assert "7.5" in sessions and "15.0" in sessions and "7.1–7.9" in sessions
    assert dash.page.get_attribute("[data-method]", "data-method") == "calibrated"
    dash.assert_clean()
    dash.screenshot("limits")


@pytest.mark.e2e
def test_limits_page_empty(browser):
    Store().close()
    server, context, dash = _server(browser)
    try:
        dash.open("limits")
        assert "No plan-limit figures yet" in dash.text("main")
        dash.assert_clean()
    finally:
        context.close()
        server.shutdown()
        server.server_close()
