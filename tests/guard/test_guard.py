"""The guard library without processes: loop rules, limits precedence, state files, ROI formula."""

from __future__ import annotations

import json
import os
import time

import pytest

from token_roi.guard import hook, loops, settings, state
from token_roi.value import cost_report as report

LIMITS = settings.resolve(None)


def call(s: dict, tool: str, tool_input, failed: bool = False) -> tuple[int, dict]:
    info = loops.record_call(s, tool, tool_input, failed)
    return info["attempt"], loops.decide(s, tool, info, LIMITS)


def test_defaults():
    assert (LIMITS["warn_at_attempt"], LIMITS["max_fix_attempts"], LIMITS["max_loop_tokens"]) == (3, 5, 50_000)
    assert LIMITS["hard_cap"] is False and LIMITS["session_budget_usd"] is None
    assert LIMITS["alert_threshold_percent"] == 80


def test_five_identical_failures_are_attempts_1_to_5():
    s = state.new_state("s")
    got = [call(s, "Bash", {"command": "pytest -q"}, failed=True) for _ in range(5)]
    assert [a for a, _ in got] == [1, 2, 3, 4, 5]
    assert [v["warn"] for _, v in got] == [False, False, True, False, False]
    assert [v["block"] for _, v in got] == [False, False, False, False, True]


def test_a_hundred_reads_of_different_files_are_not_attempts():
    s = state.new_state("s")
    got = [call(s, "Read", {"file_path": f"/src/pkg/module_{i}.py"}) for i in range(100)]
    assert all(a == 0 for a, _ in got)
    assert s["tool_calls"]["Read"] == 100 and s["loop_attempts"]["Read"] == 0


def test_repeats_are_normalised():
    s = state.new_state("s")
    assert call(s, "Bash", {"command": "pytest  -q\n", "description": "Run tests"})[0] == 0
    assert call(s, "Bash", {"command": "pytest -q", "description": "Run the tests again", "timeout": 60000})[0] == 1
    assert call(s, "Bash", {"command": "pytest -q -x"})[0] == 0


def test_hook_run_matches_the_loop_rules_in_process(tmp_path):
    """The same hundred-reads rule through hook.run (what the script calls), no transcript."""
    for i in range(100):
        out = hook.run(json.dumps({"session_id": "s1", "transcript_path": str(tmp_path / "none.jsonl"), "cwd": "/p",
                                   "hook_event_name": "PostToolUse", "tool_name": "Read",
                                   "tool_input": {"file_path": f"/f{i}"}, "tool_response": {"type": "text"},
                                   "tool_use_id": f"t{i}"}).encode())
        assert out == ""
    s = state.peek("s1")
    assert s["loop_attempts"] == {"Read": 0} and s["tool_calls"] == {"Read": 100}


def test_limits_env_beats_file_beats_default(monkeypatch):
    assert settings.resolve({"max_fix_attempts": 7})["max_fix_attempts"] == 7
    monkeypatch.setenv("TOKEN_ROI_MAX_FIX_ATTEMPTS", "9")
    monkeypatch.setenv("TOKEN_ROI_SESSION_BUDGET_USD", "$12.50")
    monkeypatch.setenv("TOKEN_ROI_HARD_CAP", "yes")
    monkeypatch.setenv("TOKEN_ROI_MAX_LOOP_TOKENS", "lots")          # unusable: ignored
    got = settings.resolve({"max_fix_attempts": 7, "max_loop_tokens": 20000})
    assert got["max_fix_attempts"] == 9 and got["session_budget_usd"] == 12.5 and got["hard_cap"] is True
    assert got["max_loop_tokens"] == 20000
    monkeypatch.setenv("TOKEN_ROI_WARN_AT_ATTEMPT", "12")            # never warn after the block
    assert settings.resolve(None)["warn_at_attempt"] == 9


def test_config_file_values(monkeypatch, tmp_path):
    pytest.importorskip("yaml")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("guard:\n  max_fix_attempts: 6\n  session_budget_usd: 3\n  hard_cap: true\n"
                   "ai:\n  cost_alert_threshold_percent: 50\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(cfg))
    got = settings.resolve(settings.from_config_file())
    assert got["max_fix_attempts"] == 6 and got["session_budget_usd"] == 3.0
    assert got["hard_cap"] is True and got["alert_threshold_percent"] == 50


def test_session_file_names_cannot_escape_the_folder():
    assert state.file_name("3f1e4c7a-9b2d-4e61-8a0f-5c2b7d9e1a44") == "3f1e4c7a-9b2d-4e61-8a0f-5c2b7d9e1a44.json"
    for bad in ("../../etc/passwd", "..", "a/b", "x" * 300, "tab\tid"):
        name = state.file_name(bad)
        assert name.startswith("id-") and "/" not in name


def test_sweep_removes_ended_and_idle_sessions():
    now = time.time()
    for sid, ended in (("live", None), ("ended-old", now - 2 * 86400), ("ended-new", now - 600), ("idle", None)):
        s = state.new_state(sid)
        s["ended_at"] = state.iso_now(ended) if ended else None
        state.save(state.session_path(sid), s)
    old = now - 8 * 86400
    os.utime(state.session_path("idle"), (old, old))
    state.session_path("idle").with_suffix(".keys").write_text("msg_1\n")
    os.utime(state.session_path("idle"), (old, old))
    assert state.sweep(now) == 2
    assert sorted(p.name for p in state.sessions_dir().iterdir()) == ["ended-new.json", "live.json"]


def test_roi_score_formula():
    assert report.roi_score(0, 0, 0) == (0, 0.0)
    assert report.roi_score(1, 0, 100_000) == (10_000, 0.5)
    assert report.roi_score(2, 10, 40_000) == (40_000, 5.0)
    assert report.roi_score(5, 50, 1_000) == (150_000, 10.0)       # capped
    assert report.roi_score(3, 0, 0) == (30_000, 0.0)               # no tokens: 0


def test_assessment():
    s = state.new_state("s")
    s["cost_usd"], s["total_tokens_used"] = 9.0, 2_000_000
    r = report.complete(report.from_state(s), LIMITS, None)
    assert r["assessment"] == ["high cost"]                         # $9, nothing to show for it
    s["loop_attempts"]["Bash"] = 3
    s["outcomes"]["bugs_fixed"] = 100
    r = report.complete(report.from_state(s), LIMITS, None)
    assert r["assessment"] == ["loop detected", "within budget"]
    assert r["cost_per_fix_usd"] == 0.09
    r = report.complete(report.from_state(s), dict(LIMITS, session_budget_usd=10.0), None)
    assert r["assessment"] == ["loop detected", "high cost"]        # 90% of the budget
