"""Session signals: saved by the real guard hooks on Stop, counted from a transcript for sessions
the guard never saw, and judged by the VA / NVA / BVA rules."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hook_support import (
    Transcript,
    post_tool,
    post_tool_failure,
    run_hook,
    stop,
)

from token_roi.cli import main
from token_roi.value import gitstats, signals
from token_roi.value.categorize import categorize

SID = "7d2c9a10-4b3e-4f8a-9c61-2e5d8b7a0f13"
PYTEST_FAIL = "collected 12 items\n\n========================= 1 failed, 11 passed in 0.31s =========================\n"
PYTEST_PASS = "collected 12 items\n\n============================== 12 passed in 0.29s ==============================\n"


def bash(stdout):
    return {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False}


def saved_row(session_id):
    from token_roi import paths
    db = sqlite3.connect(paths.db_path())
    db.row_factory = sqlite3.Row
    return db.execute("SELECT * FROM session_signals WHERE session_id = ?", (session_id,)).fetchone()


def roi_sessions(capsys):
    capsys.readouterr()
    assert main(["roi", "--json", "--no-ingest", "--no-git", "-z", "UTC"]) == 0
    return {s["session"]: s for s in json.loads(capsys.readouterr().out)["sessions"]}


@pytest.fixture
def transcript(tmp_path):
    t = Transcript(tmp_path / "claude" / "projects" / "-home-dev-src-acme-api" / f"{SID}.jsonl", SID)
    t.user()
    t.assistant("msg_01A", input=3, output=120, cache_read=12000)
    return t


def test_stop_saves_the_guard_signals_and_the_rules_call_it_va(transcript, capsys):
    for i, (tool, tool_input, response) in enumerate([
            ("Read", {"file_path": "/src/parse.py"}, None),
            ("Edit", {"file_path": "/src/parse.py", "old_string": "a", "new_string": "b"}, None),
            ("Bash", {"command": "pytest -q"}, bash(PYTEST_FAIL)),
            ("Edit", {"file_path": "/src/parse.py", "old_string": "b", "new_string": "c"}, None),
            ("Bash", {"command": "pytest -q"}, bash(PYTEST_PASS))]):
        assert run_hook(post_tool(SID, transcript.path, tool, tool_input, response, n=i)).returncode == 0
    assert run_hook(stop(SID, transcript.path)).returncode == 0
    row = saved_row(SID)
    assert row["source"] == "guard" and row["agent"] == "claude"
    assert json.loads(row["tool_calls"]) == {"Bash": 2, "Edit": 2, "Read": 1}
    assert (row["tests_passed"], row["tests_failed"], row["bugs_fixed"], row["edits"], row["reads"]) == (12, 0, 1, 2, 1)
    assert row["abandoned"] == 0 and row["fast_tier_fired"] == 0 and row["tool_failures"] == 0
    assert row["first_ts"] <= row["last_ts"]
    s = roi_sessions(capsys)[SID]
    assert s["category"] == "VA" and s["reasons"][:2] == ["1 bug fixed", "12 tests passing"]


def test_a_session_ending_on_failures_is_abandoned_and_nva(transcript, capsys):
    for i in range(4):
        run_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "make"}, "exit 2", n=i))
    run_hook(stop(SID, transcript.path))
    row = saved_row(SID)
    # four identical failing calls: attempts 1..4, all failed, the last one too
    assert (row["abandoned"], row["tool_failures"], row["loop_attempts_max"]) == (1, 4, 4)
    assert json.loads(row["failures_by_tool"]) == {"Bash": 4}
    s = roi_sessions(capsys)[SID]
    assert s["category"] == "NVA"
    assert s["reasons"] == ["abandoned: ended right after failures with no later success",
                            "4 of 4 tool calls failed, nothing fixed, passed or committed"]


def test_transcript_signals_for_a_session_the_guard_never_saw(transcript, monkeypatch, capsys):
    transcript.tool_result("msg_01A", "1 failed", is_error=True)
    transcript.assistant("msg_01B", tool=("Read", {"file_path": "/src/a.py"}))
    transcript.tool_result("msg_01B")
    transcript.assistant("msg_01C", tool=("Edit", {"file_path": "/src/a.py", "old_string": "x", "new_string": "y"}))
    transcript.assistant("msg_01C", tool=("Edit", {"file_path": "/src/a.py", "old_string": "x", "new_string": "y"}))
    transcript.tool_result("msg_01C")
    s = signals.from_transcript(transcript.path.read_text().splitlines())
    assert (s.session_id, s.source) == (SID, "transcript")
    assert s.tool_calls == {"Bash": 1, "Read": 1, "Edit": 1}     # the repeated copy counted once
    assert s.failures_by_tool == {"Bash": 1} and (s.edits, s.reads, s.abandoned) == (1, 1, False)
    assert s.first_ts < s.last_ts
    # Through the report: the claude adapter reads the transcript, roi counts its tools once
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(transcript.path.parent.parent.parent))
    capsys.readouterr()
    assert main(["roi", "--json", "--no-git", "-z", "UTC"]) == 0
    got = {x["session"]: x for x in json.loads(capsys.readouterr().out)["sessions"]}[SID]
    assert got["signals"]["source"] == "transcript"
    assert got["signals"]["tool_calls"] == {"Bash": 1, "Read": 1, "Edit": 1}
    assert got["category"] == "VA" and got["reasons"] == ["1 edit made"]
    assert saved_row(SID)["source"] == "transcript"


def sig(**kw):
    return signals.Signals("claude", "s", "guard", **kw)


def test_rules_in_order():
    # a loop that ended in a fix is VA, noted
    v = categorize(sig(tool_calls={"Bash": 9, "Edit": 3}, edits=3, loop_attempts_max=5, bugs_fixed=1))
    assert (v.category, v.reasons) == ("VA", ["1 bug fixed", "3 edits made", "loop of 5 attempts on the way"])
    # the same loop with nothing fixed is waste
    v = categorize(sig(tool_calls={"Bash": 9, "Edit": 3}, edits=3, loop_attempts_max=5))
    assert (v.category, v.reasons) == ("NVA", ["loop of 5 attempts on one tool, nothing fixed or passed"])
    # many failures but a commit landed (and stayed): not waste
    git = gitstats.GitFigures(commits=1, lines_added=10)
    v = categorize(sig(tool_calls={"Bash": 4}, failures_by_tool={"Bash": 3}), git)
    assert v.category == "VA" and v.reasons == ["1 commit in its window (+10/-0 lines)"]
    # nothing at all from a watched session: overhead
    assert categorize(sig(tool_calls={"Bash": 2})).reasons == ["no edits, tests or commits (2 tool calls)"]
    # a claude session nobody watched, outside any repository
    v = categorize(signals.Signals("claude", "s"), None)
    assert (v.category, v.reasons) == ("BVA", ["no tool signals recorded (session not watched by the guard)",
                                               "project is not a git repository"])
    # the user's verdict wins over everything
    v = categorize(sig(fast_tier_fired=True), None, 2, ("VA", "the loop found a real bug"))
    assert (v.category, v.by, v.reasons) == ("VA", "user", ["the loop found a real bug"])


def test_guard_state_of_an_older_file_and_windows():
    s = signals.from_guard_state({"session_id": "x", "session_start": "2026-05-04T01:00:00.250Z",
                                  "last_activity": "garbage", "tool_calls": {"Read": 2, "Bad": "x", "Neg": -1}})
    assert (s.tool_calls, s.first_ts, s.last_ts, s.duration_ms) == ({"Read": 2}, 1777856400250, None, 0)
    assert gitstats.merge_windows([(5, 9), (1, 3), (2, 6), (20, 30)]) == [(1, 9), (20, 30)]


def test_loop_attempts_accumulate_over_stops_beyond_the_kept_actions():
    def act(sec, attempt):
        return {"at": f"2026-05-04T01:00:{sec:02d}.000Z", "event": "PostToolUse", "tool": "Bash",
                "ok": True, "attempt": attempt}
    first = {"session_id": "s", "session_start": "2026-05-04T01:00:00.000Z",
             "last_activity": "2026-05-04T01:00:03.500Z", "actions": [act(1, 0), act(2, 1), act(3, 2)]}
    s1 = signals.from_guard_state(first)
    assert (s1.loop_attempts_total, s1.loop_attempts_max) == (2, 2)
    # the next turn: the oldest action fell out of the kept 50, two new ones came in
    second = dict(first, last_activity="2026-05-04T01:00:09.000Z", actions=[act(2, 1), act(3, 2), act(7, 1), act(8, 0)])
    s2 = signals.from_guard_state(second, previous=s1)
    assert (s2.loop_attempts_total, s2.loop_attempts_max) == (3, 2)
