"""--json matches ccusage 20.0.24's shapes (recorded in tests/fixtures/reports/ccusage/, see
docs/ccusage-json.md): every key ccusage writes is present, with the same values."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from reports_data import call, make_store, ms

from token_roi.reports import query
from token_roi.reports.blocks import usage_blocks
from token_roi.reports.query import Filters
from token_roi.reports.shapes import blocks_json, period_json, session_json

FIX = Path(__file__).parents[1] / "fixtures" / "reports" / "ccusage"
UTC = dt.timezone.utc
REPORT_KEY = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "session": "sessions", "blocks": "blocks"}


def recorded(name: str) -> dict:
    return json.loads((FIX / f"{name}.json").read_text())


def key_paths(obj, path="$") -> set[str]:
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(f"{path}.{k}")
            out |= key_paths(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for v in obj:
            out |= key_paths(v, f"{path}[]")
    return out


def fixture_store():
    """The calls of tests/fixtures/reports/ccusage/claude-projects, with ccusage's own costs."""
    return make_store([
        call("2026-05-04T01:50:21.079Z", session="sess-a", project="/home/u/proj", model="claude-sonnet-4-6",
             inp=10, out=100, cw5=200, cr=1000, cost=0.00258),
        call("2026-05-04T03:10:00.000Z", session="sess-a", project="/home/u/proj", model="claude-opus-4-5",
             inp=5, out=50, cw1=300, cr=2000, cost=0.005275),
        call("2026-05-04T12:00:00.000Z", session="sess-a", project="/home/u/proj", model="claude-sonnet-4-6",
             inp=7, out=70, cr=500, cost=0.001221),
        call("2026-05-05T00:30:00.000Z", session="sess-a", project="/home/u/proj", model="some-unknown-model",
             inp=1, out=2, cw5=3, cr=4, cost=None),
        call("2026-05-11T09:00:00.000Z", session="sess-b", project="/home/u/other", model="claude-haiku-4-5",
             inp=20, out=200, cost=0.00102),
    ])


def ours(name: str, store, now_ms: int) -> dict:
    if name in ("daily", "weekly", "monthly"):
        groups = query.usage_by_period(store, name, Filters(), UTC, week_start=6)   # ccusage: Sunday
        return period_json(name, groups, query.totals(groups))
    if name == "session":
        sessions = query.usage_by_session(store, Filters(), UTC)
        return session_json(sessions, query.totals(sessions))
    return blocks_json(usage_blocks(store, Filters(), UTC, now_ms=now_ms), now_ms)


# Values that legitimately differ: projectPath (ccusage writes the encoded folder name, we write
# the real directory it encodes), and floats compared approximately below.
_SKIP = {"projectPath"}


def assert_same(theirs, mine, path="$"):
    if isinstance(theirs, dict):
        assert isinstance(mine, dict), path
        for k, v in theirs.items():
            assert k in mine, f"{path}.{k} missing"
            if k == "cost" and mine.get("missingPricing") and mine[k] is None and v == 0:
                continue       # (ccusage writes 0 for a model it has no price for; we write null: unknown)
            if k not in _SKIP:
                assert_same(v, mine[k], f"{path}.{k}")
    elif isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs), path
        if theirs and isinstance(theirs[0], dict) and "modelName" in theirs[0]:
            theirs = sorted(theirs, key=lambda r: r["modelName"])
            mine = sorted(mine, key=lambda r: r["modelName"])
        for i, (a, b) in enumerate(zip(theirs, mine)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, float) and not isinstance(theirs, bool):
        assert mine == pytest.approx(theirs, abs=1e-9), path
    else:
        assert mine == theirs, f"{path}: {mine!r} != {theirs!r}"


@pytest.mark.parametrize("name", ["daily", "weekly", "monthly", "session", "blocks"])
def test_every_ccusage_key_and_value_is_reproduced(name):
    theirs = recorded(name)
    mine = ours(name, fixture_store(), ms("2026-11-22T00:00:00Z"))
    assert key_paths(theirs) <= key_paths(mine), sorted(key_paths(theirs) - key_paths(mine))
    assert_same(theirs, mine)


def test_session_project_path_is_the_real_directory():
    mine = ours("session", fixture_store(), 0)
    assert [s["projectPath"] for s in mine["sessions"]] == ["/home/u/proj", "/home/u/other"]
    assert recorded("session")["sessions"][0]["projectPath"] == "-home-u-proj"


def test_active_block_shape_matches_ccusage():
    theirs = recorded("blocks-active")["blocks"][0]
    # The same two calls ccusage saw (90 and 30 minutes before its run), and its `now`.
    store = make_store([
        call("2026-11-22T03:07:02.509Z", model="claude-sonnet-4-6", inp=1000, out=2000, cr=10000, cost=0.036),
        call("2026-11-22T04:07:02.509Z", model="claude-sonnet-4-6", inp=1000, out=2000, cr=10000, cost=0.036),
    ])
    # ccusage's own clock at the run, recovered from its projection: tokens + rate x minutes left
    minutes_left = (theirs["projection"]["totalTokens"] - 26000) / (26000 / 60)
    now = ms(theirs["endTime"]) - round(minutes_left * 60000)
    (mine,) = blocks_json(usage_blocks(store, Filters(), UTC, now_ms=now), now)["blocks"]
    assert key_paths(theirs) <= key_paths(mine)
    for k in ("id", "startTime", "endTime", "actualEndTime", "isActive", "entries", "tokenCounts", "totalTokens"):
        assert mine[k] == theirs[k], k
    for k, v in theirs["burnRate"].items():
        assert mine["burnRate"][k] == pytest.approx(v)
    assert mine["projection"] == theirs["projection"]


def test_unpriced_models_are_flagged_in_json():
    data = ours("daily", fixture_store(), 0)
    may5 = next(d for d in data["daily"] if d["date"] == "2026-05-05")
    (b,) = may5["modelBreakdowns"]
    assert b["missingPricing"] is True and b["cost"] is None and b["unpricedTokens"] == 10
    assert may5["unpricedModels"] == ["some-unknown-model"] and may5["totalTokens"] == 10
    assert data["totals"]["unpricedModels"] == ["some-unknown-model"]
    may4 = data["daily"][0]
    assert may4["unpricedModels"] == [] and all("missingPricing" not in m for m in may4["modelBreakdowns"])


def test_our_extra_fields_keep_counters_apart():
    data = ours("daily", fixture_store(), 0)
    may4 = data["daily"][0]
    assert (may4["cacheCreationTokens"], may4["cacheCreation5mTokens"], may4["cacheCreation1hTokens"]) == (
        500, 200, 300)
    assert may4["calls"] == 3 and may4["agents"] == ["claude"]
    # breakdowns costliest first, as ccusage orders them
    assert [m["modelName"] for m in may4["modelBreakdowns"]] == ["claude-opus-4-5", "claude-sonnet-4-6"]
    assert data["totals"]["calls"] == 5


def test_cli_on_the_real_fixture_tree_matches_ccusage(tmp_path, monkeypatch, capsys):
    """End to end: the Claude reader, pricing and the report on the tree ccusage read."""
    from token_roi.cli import main
    config = tmp_path / "claude"
    shutil.copytree(FIX / "claude-projects", config / "projects")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    for name, extra in (("daily", []), ("weekly", ["--start-of-week", "sunday"]), ("monthly", []), ("session", [])):
        assert main([name, "--json", "-z", "UTC", "--breakdown", *extra]) == 0
        mine = json.loads(capsys.readouterr().out)
        theirs = recorded(name)
        key = REPORT_KEY[name]
        assert key_paths(theirs) <= key_paths(mine)
        for t, m in zip(theirs[key], mine[key]):
            for k in ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens",
                      "date", "week", "month", "sessionId", "firstActivity", "lastActivity"):
                assert m.get(k) == t.get(k), (name, k)
        for k in ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens"):
            assert mine["totals"][k] == theirs["totals"][k]
        assert mine["totals"]["unpricedModels"] == ["some-unknown-model"]
    assert main(["blocks", "--json"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert [(b["id"], b["entries"], b["totalTokens"]) for b in mine["blocks"]] == [
        (b["id"], b["entries"], b["totalTokens"]) for b in recorded("blocks")["blocks"]]
