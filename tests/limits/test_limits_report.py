"""`token-roi limits`: windows latest first, pace, staleness, and attribution checked by hand.

The fixture, with T = now and the 5-hour window resetting at T + 3h (so it opened at T - 2h):
- official figures (status line): 10% at T - 90 min, 30% at T - 30 min;
- ledger (claude): session A (project alpha, opus) $1.00 at T - 100 min and $2.00 at T - 60 min;
  session B (project beta, sonnet) $6.00 at T - 45 min; session C $50.00 at T - 3 h (before the
  window); a codex call of $100.00 inside it (another agent's quota).
By hand: between the snapshots the window grew 20 points while the ledger booked $2 + $6 = $8,
so k = 2.5 points per dollar, 2.375..2.625 with the +-1 point rounding. A: $3 -> 7.5 points
(7.125..7.875); B: $6 -> 15 (14.25..15.75); the ledger explains 2.5 x $9 = 22.5 of 30 points.
Pace: 20 points in the last hour of figures = 20/h; 3 h left -> 90% at reset.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from token_roi.cli import main
from token_roi.guard import quota
from token_roi.limits import snapshots
from token_roi.limits.attribution import attribute
from token_roi.limits.snapshots import Snapshot
from token_roi.limits.windows import pace
from token_roi.store import Store

H = 3600
M = 60


def add_call(store: Store, key: str, agent: str, ts_s: int, session: str, project: str, model: str,
             cost: float) -> None:
    store.db.execute(
        "INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, cost, "
        "price_source, price_version, ingested_at) VALUES (?, ?, ?, ?, ?, ?, 1000, 100, ?, 'override', 'test', 0)",
        (agent, key, ts_s * 1000, session, project, model, cost))


@pytest.fixture
def fixture_store():
    now = int(time.time())
    resets = now + 3 * H
    store = Store()
    with store.transaction():
        add_call(store, "a1", "claude", now - 100 * M, "A", "/p/alpha", "claude-opus-4-1", 1.0)
        add_call(store, "a2", "claude", now - 60 * M, "A", "/p/alpha", "claude-opus-4-1", 2.0)
        add_call(store, "b1", "claude", now - 45 * M, "B", "/p/beta", "claude-sonnet-4-5", 6.0)
        add_call(store, "c1", "claude", now - 3 * H, "C", "/p/beta", "claude-sonnet-4-5", 50.0)
        add_call(store, "x1", "codex", now - 50 * M, "X", "/p/alpha", "gpt-5-codex", 100.0)
        snapshots.append(store.db, [
            Snapshot("claude", "five_hour", 10.0, resets, now - 90 * M, "statusline", "A"),
            Snapshot("claude", "five_hour", 30.0, resets, now - 30 * M, "statusline", "B"),
            Snapshot("claude", "seven_day", 12.0, now + 4 * 86400, now - 30 * M, "statusline", "B")])
    yield store, now, resets
    store.close()


def test_attribution_matches_the_hand_computation(fixture_store):
    store, now, _ = fixture_store
    a = attribute(store.db, snapshots.history(store.db, agent="claude", window="five_hour"), now)
    assert a.method == "calibrated" and not a.thin
    assert a.points_per_usd == pytest.approx(2.5)
    assert a.points_per_usd_range == pytest.approx((2.375, 2.625))
    assert a.ledger_cost_usd == pytest.approx(9.0)
    assert a.explained_points == pytest.approx(22.5) and a.unexplained_points == pytest.approx(7.5)
    sessions = {s.key: (s.cost_usd, s.points, s.low, s.high) for s in a.groups["session"]}
    assert sessions["A"] == pytest.approx((3.0, 7.5, 7.125, 7.875), abs=0.006)
    assert sessions["B"] == pytest.approx((6.0, 15.0, 14.25, 15.75), abs=0.006)
    assert set(sessions) == {"A", "B"}                     # C is before the window, X is codex
    assert {s.key: s.points for s in a.groups["project"]} == {"/p/beta": 15.0, "/p/alpha": 7.5}
    assert {s.key: s.points for s in a.groups["model"]} == {"claude-sonnet-4-5": 15.0, "claude-opus-4-1": 7.5}


def test_one_snapshot_gives_shares_as_an_upper_bound(fixture_store):
    store, now, resets = fixture_store
    one = [Snapshot("claude", "five_hour", 30.0, resets, now - 30 * M, "statusline")]
    a = attribute(store.db, one, now)
    assert a.method == "share" and a.thin
    assert {s.key: (s.points, s.low, s.high) for s in a.groups["session"]} == {"A": (10.0, 0.0, 10.0),
                                                                                 "B": (20.0, 0.0, 20.0)}


def test_a_small_rise_is_called_thin(fixture_store):
    store, now, resets = fixture_store
    snaps = [Snapshot("claude", "five_hour", 28.0, resets, now - 90 * M, "statusline"),
             Snapshot("claude", "five_hour", 30.0, resets, now - 30 * M, "statusline")]
    a = attribute(store.db, snaps, now)
    assert a.method == "calibrated" and a.thin
    assert a.points_per_usd_range == pytest.approx((1 / 8, 3 / 8))


def test_pace_from_the_recent_figures_and_the_window_average(fixture_store):
    store, now, resets = fixture_store
    p = pace(snapshots.history(store.db, agent="claude", window="five_hour"), now)
    assert p.method == "recent" and p.burn_per_hour == pytest.approx(20.0)
    assert p.projected_at_reset == pytest.approx(90.0) and p.exhausts_at is None
    # One figure: the average since the window opened (2 h ago): 30 points / 2 h = 15/h -> 75%.
    p1 = pace([Snapshot("claude", "five_hour", 30.0, resets, now - 30 * M, "statusline")], now)
    assert p1.method == "window-average" and p1.projected_at_reset == pytest.approx(75.0)
    # Faster: 50 points in the last hour, 60% now -> 100% in 48 minutes, before the reset.
    fast = [Snapshot("claude", "five_hour", 10.0, resets, now - 60 * M, "statusline"),
            Snapshot("claude", "five_hour", 60.0, resets, now, "statusline")]
    p2 = pace(fast, now)
    assert p2.exhausts_at == pytest.approx(now + 48 * M, abs=2)
    # The status line uses the average since the window opened: 60 points in 2 h = 30/h, 40 left -> 80 min.
    assert quota.pace(60.0, resets, "five_hour", now)["exhausts_in"] == 80 * M


def test_limits_json_latest_first_with_staleness(fixture_store, capsys):
    store, now, resets = fixture_store
    store.close()
    assert main(["limits", "--json", "--no-ingest"]) == 0
    out = json.loads(capsys.readouterr().out)
    windows = out["windows"]
    assert [(w["agent"], w["window"]) for w in windows] == [("claude", "five_hour"), ("claude", "seven_day")]
    five = windows[0]
    assert five["used_percentage"] == 30.0 and five["resets_at"] == resets and five["source"] == "official"
    assert five["captured_at"] == now - 30 * M
    assert five["stale"] is True                         # last seen 30 minutes ago
    assert five["pace"]["projected_at_reset"] == pytest.approx(90.0, abs=0.2)
    assert {"agent", "window", "used_percentage", "resets_at", "captured_at", "source", "stale"} <= set(five)
    history = [(h["captured_at"], h["window"], h["used_percentage"]) for h in out["history"]]
    assert sorted(history, reverse=True) == history                                   # latest first
    assert sorted(history) == [(now - 90 * M, "five_hour", 10.0), (now - 30 * M, "five_hour", 30.0),
                               (now - 30 * M, "seven_day", 12.0)]
    assert out["attribution"][0]["method"] == "calibrated"
    # The status line confirmed the same figure a minute ago: fresh.
    Path(quota.limits_dir()).mkdir(parents=True, exist_ok=True)
    Path(quota.latest_path()).write_text(json.dumps({"claude/five_hour": {
        "agent": "claude", "window": "five_hour", "used_percentage": 30.0, "resets_at": resets,
        "captured_at": now - 30 * M, "seen_at": now - 60, "source": "statusline"}}))
    assert main(["limits", "--json", "--no-ingest"]) == 0
    five = json.loads(capsys.readouterr().out)["windows"][0]
    assert five["stale"] is False and five["last_seen_at"] == now - 60


def test_a_window_that_reset_is_an_estimate(fixture_store, capsys):
    store, now, resets = fixture_store
    # An older window that reset two hours ago.
    with store.transaction():
        store.db.execute("DELETE FROM rate_limit_snapshots")
        old_reset = now - 2 * H
        snapshots.append(store.db, [
            Snapshot("claude", "five_hour", 10.0, old_reset, now - 5 * H + 10 * M, "statusline"),
            Snapshot("claude", "five_hour", 60.0, old_reset, now - 2 * H - 10 * M, "statusline")])
        add_call(store, "d1", "claude", now - 4 * H, "D", "/p/gamma", "claude-opus-4-1", 50.0)
    store.close()
    assert main(["limits", "--json", "--no-ingest"]) == 0
    five = json.loads(capsys.readouterr().out)["windows"][0]
    # 50 points over the $100 between the figures (D's $50 and C's $50): 0.5 per dollar; since
    # the reset at T - 2h the ledger has A's $1 and $2 and B's $6: $9 -> 4.5%.
    assert five["source"] == "estimate" and five["stale"] is True
    assert five["used_percentage"] == pytest.approx(4.5)
    assert five["resets_at"] == old_reset + 5 * H


def test_limits_text_names_the_method(fixture_store, capsys):
    fixture_store[0].close()
    assert main(["limits", "--no-ingest"]) == 0
    text = capsys.readouterr().out
    assert "5-hour" in text and "30%" in text and "official (stale)" in text
    assert "What used the claude 5-hour window (30% used) — estimate, calibrated" in text
    assert "unexplained 7.5" in text


def test_no_figures_says_how_to_get_them(capsys):
    assert main(["limits", "--no-ingest"]) == 0
    assert "No plan-limit figures yet" in capsys.readouterr().out
