"""The guard and the plan windows, through the real hook: the once-per-window note to Claude
past the threshold or on pace to run out, the opt-in deny past guard.quota_cap_percent, and the
window's use in the answer to a cost question. The figures come from the status line's
latest.json, as in a real session."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hook_support import Transcript, hook_env, post_tool, pre_tool, prompt, run_hook, session_start

from token_roi.guard import quota

SID = "0c9f3a2e-6b1d-4e7f-8a9b-2c3d4e5f6a7b"
SID2 = "1d0a4b3f-7c2e-4f80-9bac-3d4e5f6a7b8c"


def set_window(used: float, *, window: str = "five_hour", resets_in: int = 2 * 3600, seen_ago: int = 30) -> int:
    now = int(time.time())
    Path(quota.limits_dir()).mkdir(parents=True, exist_ok=True)
    path = Path(quota.latest_path())
    latest = json.loads(path.read_text()) if path.exists() else {}
    latest[f"claude/{window}"] = {"agent": "claude", "window": window, "used_percentage": used,
                                  "resets_at": now + resets_in, "captured_at": now - seen_ago,
                                  "seen_at": now - seen_ago, "source": "statusline", "session_id": SID}
    path.write_text(json.dumps(latest))
    return now + resets_in


@pytest.fixture
def transcript(tmp_path):
    t = Transcript(tmp_path / "claude" / "projects" / "-src-app" / f"{SID}.jsonl", SID)
    t.user()
    t.assistant("msg_01A", input=3, output=120, cache_read=1000)
    t.tool_result("msg_01A")
    return t


def context_of(result) -> str:
    if not result.stdout:
        return ""
    return result.json.get("hookSpecificOutput", {}).get("additionalContext", "")


def test_past_the_threshold_one_note_per_window(transcript):
    run_hook(session_start(SID, transcript.path))
    assert "plan limit" not in context_of(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1)))
    set_window(84.0)
    note = context_of(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=2)))
    assert "the 5-hour plan limit is at 84%" in note and "token-roi:fast-fixer" in note
    # Once per window: not again on the next call, nor with the next prompt.
    assert "plan limit" not in context_of(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/c"}, n=3)))
    assert run_hook(prompt(SID, transcript.path, "now add the export button")).stdout == ""
    # A new window (another reset time) past the threshold: a new note.
    set_window(88.0, resets_in=4 * 3600)
    assert "at 88%" in context_of(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/d"}, n=4)))


def test_on_pace_to_run_out_before_the_reset(transcript):
    run_hook(session_start(SID, transcript.path))
    # 5-hour window, 4 h left: opened 1 h ago and already 40% used -> 100% in 1.5 h.
    set_window(40.0, resets_in=4 * 3600)
    note = context_of(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=1)))
    assert "at the current pace the 5-hour plan limit (40% now) runs out in 1h30m, before it resets" in note


def test_a_note_comes_with_a_prompt_when_no_tool_ran(transcript):
    run_hook(session_start(SID, transcript.path))
    set_window(91.0, window="seven_day", resets_in=86400)
    out = run_hook(prompt(SID, transcript.path, "rename the config loader"))
    assert "the 7-day plan limit is at 91%" in context_of(out)
    assert run_hook(prompt(SID, transcript.path, "and its tests")).stdout == ""


def test_stale_or_missing_figures_say_nothing(transcript):
    run_hook(session_start(SID, transcript.path))
    set_window(95.0, seen_ago=3600)                   # an hour old: stale
    assert "plan limit" not in context_of(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=1)))


def test_cost_question_includes_the_windows_use(transcript):
    run_hook(session_start(SID, transcript.path))
    set_window(35.0, resets_in=3 * 3600)
    set_window(20.0, window="seven_day", resets_in=3 * 86400)
    text = context_of(run_hook(prompt(SID, transcript.path, "am I wasting tokens?")))
    assert "Plan limits (official, from Claude Code): 5-hour limit 35% used" in text
    assert "7-day limit 20% used" in text


def test_hard_cap_denies_past_the_quota_cap(transcript):
    env = hook_env(TOKEN_ROI_HARD_CAP="1", TOKEN_ROI_QUOTA_CAP_PERCENT="95")
    run_hook(session_start(SID, transcript.path), env=env)
    set_window(94.0)
    assert run_hook(pre_tool(SID, transcript.path, "Bash", {"command": "ls"}), env=env).stdout == ""
    set_window(96.0)
    out = run_hook(pre_tool(SID, transcript.path, "Bash", {"command": "ls"}), env=env).json["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert "5-hour plan limit is at 96% (cap 95%)" in out["permissionDecisionReason"]
    # Without the hard cap, the same figure never blocks.
    plain = hook_env(TOKEN_ROI_QUOTA_CAP_PERCENT="95")
    assert run_hook(pre_tool(SID2, transcript.path, "Bash", {"command": "ls"}), env=plain).stdout == ""
