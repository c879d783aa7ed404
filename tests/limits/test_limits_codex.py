"""Codex rollouts' rate_limits into rate_limit_snapshots: the current `resets_at` shape and the
older `resets_in_seconds` one, limits-only events (`info: null`), changes only, no duplicates on
re-reads, and nothing from a subagent's replay of its parent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from token_roi.adapters.codex import rate_limit_snapshots
from token_roi.ingest import ingest
from token_roi.limits import snapshots
from token_roi.store import Store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "codex"
SESSION = "0199d000-aaaa-7bbb-8ccc-000000000001"
T0 = 1_768_500_000      # 2026-01-15T18:00:00Z


def iso(t: float) -> str:
    import datetime as dt
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def token_count(t: float, total: int | None, limits: dict) -> dict:
    info = None
    if total is not None:
        usage = {"input_tokens": total, "cached_input_tokens": 0, "output_tokens": 100, "reasoning_output_tokens": 0,
                 "total_tokens": total + 100}
        info = {"total_token_usage": usage, "last_token_usage": usage, "model_context_window": 272000}
    return {"timestamp": iso(t), "type": "event_msg",
            "payload": {"type": "token_count", "info": info, "rate_limits": limits}}


def new_shape(five: float, seven: float) -> dict:
    return {"limit_id": "codex", "primary": {"used_percent": five, "window_minutes": 300, "resets_at": T0 + 9000},
            "secondary": {"used_percent": seven, "window_minutes": 10080, "resets_at": T0 + 300_000},
            "credits": None, "plan_type": "pro"}


def old_shape(five: float, seven: float, t: float) -> dict:
    """Older builds: seconds until the reset, counted from the event's time."""
    return {"primary": {"used_percent": five, "window_minutes": 300, "resets_in_seconds": T0 + 9000 - t},
            "secondary": {"used_percent": seven, "window_minutes": 10080, "resets_in_seconds": int(T0 + 300_000 - t)}}


def write_rollout(home: Path, name: str, lines: list[dict], session: str = SESSION) -> Path:
    path = home / "sessions" / "2026" / "01" / "15" / f"rollout-2026-01-15T18-00-00-{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    head = [{"timestamp": iso(T0), "type": "session_meta", "payload": {"id": session, "cwd": "/src/app"}},
            {"timestamp": iso(T0), "type": "turn_context", "payload": {"model": "gpt-5-codex", "cwd": "/src/app"}}]
    path.write_text("".join(json.dumps(x) + "\n" for x in head + lines))
    return path


@pytest.fixture
def codex_home(tmp_path, monkeypatch):
    home = tmp_path / "codex"
    home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    return home


def stored() -> list[tuple]:
    store = Store()
    try:
        return [(s.window, s.used_percentage, s.resets_at, s.captured_at, s.source, s.session_id, s.window_minutes)
                for s in snapshots.history(store.db, agent="codex")]
    finally:
        store.close()


def run_ingest() -> None:
    store = Store()
    try:
        ingest(store, ["codex"], show_progress=False)
    finally:
        store.close()


@pytest.mark.parametrize("shape", ["resets_at", "resets_in_seconds"])
def test_both_shapes_give_the_same_snapshots(codex_home, shape):
    def limits(five, seven, t):
        return new_shape(five, seven) if shape == "resets_at" else old_shape(five, seven, t)
    lines = [token_count(T0 + 5, None, limits(10.0, 30.0, T0 + 5)),           # limits only (info null)
             token_count(T0 + 20, 5000, limits(10.0, 30.0, T0 + 20)),         # re-emitted: same figures
             token_count(T0 + 21, 5000, limits(10.0, 30.0, T0 + 21)),
             token_count(T0 + 600, 9000, limits(14.0, 31.0, T0 + 600)),
             token_count(T0 + 1200, 15000, limits(14.0, 31.0, T0 + 1200))]
    write_rollout(codex_home, SESSION, lines)
    run_ingest()
    assert stored() == [
        ("five_hour", 10.0, T0 + 9000, T0 + 5, "codex", SESSION, 300),
        ("seven_day", 30.0, T0 + 300_000, T0 + 5, "codex", SESSION, 10080),
        ("five_hour", 14.0, T0 + 9000, T0 + 600, "codex", SESSION, 300),
        ("seven_day", 31.0, T0 + 300_000, T0 + 600, "codex", SESSION, 10080),
    ]
    run_ingest()                                   # nothing new: nothing added
    assert len(stored()) == 4


def test_appended_events_add_only_the_changes(codex_home):
    path = write_rollout(codex_home, SESSION, [token_count(T0 + 5, 5000, new_shape(10.0, 30.0))])
    run_ingest()
    with path.open("a") as f:
        f.write(json.dumps(token_count(T0 + 900, 8000, new_shape(10.0, 30.0))) + "\n")
        f.write(json.dumps(token_count(T0 + 960, 9000, new_shape(12.0, 30.0))) + "\n")
    run_ingest()
    assert [(w, u) for w, u, *_ in stored()] == [("five_hour", 10.0), ("seven_day", 30.0), ("five_hour", 12.0)]


def test_two_sessions_reporting_the_same_account_figure_store_it_once(codex_home):
    write_rollout(codex_home, SESSION, [token_count(T0 + 5, 5000, new_shape(10.0, 30.0))])
    other = "0199d000-aaaa-7bbb-8ccc-000000000002"
    write_rollout(codex_home, other, [token_count(T0 + 50, 7000, new_shape(10.0, 30.0))], session=other)
    run_ingest()
    assert [(w, u, c) for w, u, _, c, *_ in stored()] == [("five_hour", 10.0, T0 + 5), ("seven_day", 30.0, T0 + 5)]


def test_the_fixture_rollouts_record_their_figures_once(tmp_path, monkeypatch):
    """tests/fixtures/codex: a session, its subagent and fork (which replay the parent) and an
    archived copy all carry the same account figures."""
    home = tmp_path / "codex"
    shutil.copytree(FIXTURE, home)
    monkeypatch.setenv("CODEX_HOME", str(home))
    run_ingest()
    rows = stored()
    assert [(w, u, r) for w, u, r, *_ in rows] == [("five_hour", 12.0, 1768480000), ("seven_day", 41.0, 1768900000)]


def test_unusable_figures_are_skipped():
    assert rate_limit_snapshots(None, 1000) == []
    assert rate_limit_snapshots({"primary": {"used_percent": "x"}}, 1000) == []
    got = rate_limit_snapshots({"primary": {"used_percent": 5, "window_minutes": 60, "resets_at": 5000},
                                "secondary": {"used_percent": True}}, 1_000_000)
    assert got == [{"window": "60m", "used_percentage": 5.0, "resets_at": 5000, "captured_at": 1000,
                    "source": "codex", "session_id": None, "window_minutes": 60}]
