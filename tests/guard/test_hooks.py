"""The guard hooks driven as Claude Code drives them: the real script, a process per event, the
JSON Claude Code sends on stdin, transcripts written line by line as a session runs."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hook_support import (
    MODEL,
    Transcript,
    base,
    expected_cost,
    hook_env,
    log_lines,
    post_tool,
    post_tool_failure,
    pre_tool,
    prompt,
    run_hook,
    session_end,
    session_start,
    state_of,
    stop,
)

SID = "3f1e4c7a-9b2d-4e61-8a0f-5c2b7d9e1a44"
PYTEST_FAIL = ("============================= test session starts ==============================\n"
               "collected 12 items\n\ntests/test_parse.py ...F........                          [100%]\n\n"
               "=================================== FAILURES ===================================\n"
               "___________________________ test_parse_empty_line ____________________________\n"
               "E       AssertionError: assert 1 == 0\n"
               "=========================== short test summary info ============================\n"
               "FAILED tests/test_parse.py::test_parse_empty_line - AssertionError: assert 1 == 0\n"
               "========================= 1 failed, 11 passed in 0.31s =========================\n")
PYTEST_PASS = ("============================= test session starts ==============================\n"
               "collected 12 items\n\ntests/test_parse.py ............                          [100%]\n\n"
               "============================== 12 passed in 0.29s ==============================\n")


@pytest.fixture
def transcript(tmp_path):
    t = Transcript(tmp_path / "claude" / "projects" / "-home-dev-src-acme-api" / f"{SID}.jsonl", SID)
    t.user()
    return t


def quiet(result):
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    return result


# -- state and usage ------------------------------------------------------------------------------

def test_session_start_creates_the_state_file_and_says_nothing(transcript):
    transcript.assistant("msg_01A", input=3, output=40, cache_read=12342, cache_1h=576)
    quiet(run_hook(session_start(SID, transcript.path)))
    state = state_of(SID)
    assert state["session_id"] == SID
    assert state["session_start"].endswith("Z")
    assert state["model"] == MODEL
    for field in ("total_tokens_used", "actions", "loop_attempts", "fast_tier_triggered", "tool_calls"):
        assert field in state
    assert state["total_tokens_used"] == 3 + 40 + 12342 + 576
    assert state["tokens"]["cache_write_1h"] == 576
    # The config file's guard values (its defaults here) were read once and cached for the session.
    assert state["limits"]["max_fix_attempts"] == 5 and state["limits"]["warn_at_attempt"] == 3


def test_usage_is_read_incrementally_and_streaming_copies_count_once(transcript):
    # First read sees only the early streaming copy (placeholder output); the next read sees the
    # final copies of the same message.id, plus the copy per content block.
    transcript.assistant("msg_01A", input=3, output=1, cache_read=12342, cache_1h=576)
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/src/a.py"}, n=1)))
    first = state_of(SID)
    assert first["total_tokens_used"] == 3 + 1 + 12342 + 576
    offset = first["files"][str(transcript.path)]["cursor"]["offset"]
    assert offset == transcript.path.stat().st_size
    transcript.assistant("msg_01A", input=3, output=117, cache_read=12342, cache_1h=576)
    transcript.assistant("msg_01A", input=3, output=117, cache_read=12342, cache_1h=576,
                         tool=("Read", {"file_path": "/src/b.py"}))
    transcript.tool_result("msg_01A")
    transcript.assistant("msg_01B", input=5, output=300, cache_read=12918, cache_5m=1200)
    transcript.half_line()           # being written: must not be read yet
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/src/b.py"}, n=2)))
    state = state_of(SID)
    assert state["tokens"] == {"input": 8, "output": 417, "cache_read": 12342 + 12918, "cache_write_5m": 1200,
                               "cache_write_1h": 576, "reasoning": 0}
    assert state["api_calls"] == 2
    want = (expected_cost(MODEL, input_tokens=3, output_tokens=117, cache_read_tokens=12342, cache_write_1h_tokens=576)
            + expected_cost(MODEL, input_tokens=5, output_tokens=300, cache_read_tokens=12918,
                            cache_write_5m_tokens=1200))
    assert state["cost_usd"] == pytest.approx(want, abs=1e-6)
    assert state["models"][MODEL]["tokens"] == state["total_tokens_used"]
    assert state["tool_calls"] == {"Read": 2}
    # The half line is still unread, and the next hook reads it once it is complete.
    assert state["files"][str(transcript.path)]["cursor"]["offset"] < transcript.path.stat().st_size


def test_sidechain_replay_of_an_old_call_is_not_counted_again(transcript):
    transcript.assistant("msg_01A", output=100)
    for i in range(80):                          # push msg_01A out of the recent-calls window
        transcript.assistant(f"msg_02{i:03d}", output=10)
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1)))
    before = state_of(SID)["total_tokens_used"]
    transcript.assistant("msg_01A", output=100, sidechain=True, request_id="req_btw")   # /btw replay
    transcript.assistant("msg_03NEW", output=50, sidechain=True, request_id="req_btw2")  # the side answer
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=2)))
    assert state_of(SID)["total_tokens_used"] == before + 3 + 50


def test_subagent_transcripts_count_in_the_session(transcript):
    transcript.assistant("msg_01A", output=100)
    sub = transcript.subagent("a1b2c3")
    sub.assistant("msg_01SUB", input=10, output=200)
    quiet(run_hook(post_tool(SID, transcript.path, "Task", {"description": "x", "prompt": "y"}, n=1)))
    state = state_of(SID)
    assert state["total_tokens_used"] == 103 + 210
    assert set(state["models"]) == {MODEL, "claude-haiku-4-5-20251001"}


def test_unknown_model_is_unpriced_not_free(transcript):
    transcript.assistant("msg_01A", output=100, model="claude-nimbus-5-20261001")
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1)))
    state = state_of(SID)
    assert state["unpriced_tokens"] == 103
    assert state["unpriced_models"] == ["claude-nimbus-5-20261001"]
    assert state["models"]["claude-nimbus-5-20261001"]["cost_usd"] is None


def test_rewritten_transcript_is_recounted_not_doubled(transcript):
    transcript.assistant("msg_01A", output=100)
    transcript.assistant("msg_01B", output=200)
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1)))
    assert state_of(SID)["total_tokens_used"] == 103 + 203
    # Claude Code rewrites the file (compaction/resume): the same calls and one more, from byte 0.
    text = transcript.path.read_text().replace('"gitBranch":"main"', '"gitBranch":"main2"')
    transcript.path.write_text(text)
    transcript.assistant("msg_01C", output=300)
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=2)))
    assert state_of(SID)["total_tokens_used"] == 103 + 203 + 303


# -- loops ----------------------------------------------------------------------------------------

def test_five_identical_failures_are_attempts_one_to_five_warned_at_3_blocked_at_5(transcript):
    call = {"command": "pytest tests/test_parse.py -q", "description": "Run the parser tests"}
    outputs = []
    attempts = []
    for i in range(1, 8):
        transcript.assistant(f"msg_{i:03d}", output=150, cache_read=2000,
                             tool=("Bash", call))
        r = run_hook(post_tool_failure(SID, transcript.path, "Bash", call, "Exit code 1\n" + PYTEST_FAIL, n=i))
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
        attempts.append(state_of(SID)["loop_attempts"]["Bash"])
    assert attempts == [1, 2, 3, 4, 5, 6, 7]
    assert outputs[0] == outputs[1] == outputs[3] == outputs[5] == outputs[6] == ""
    warn = json.loads(outputs[2])
    assert warn["hookSpecificOutput"]["hookEventName"] == "PostToolUseFailure"
    assert "3 times" in warn["hookSpecificOutput"]["additionalContext"]
    assert "decision" not in warn
    block = json.loads(outputs[4])
    assert block["decision"] == "block"
    reason = block["reason"]
    for line in ("Fix: <one-line error>", "File: <path>:<line>", "Error: <exact message>", "Fix in ≤ 20 lines."):
        assert line in reason
    assert "token-roi:fast-fixer" in reason and "escalate to the human" in reason
    assert "$" in reason and "tokens" in reason
    assert "hookSpecificOutput" not in block          # the reason reaches Claude once
    assert "systemMessage" in block
    state = state_of(SID)
    assert state["fast_tier_triggered"] is True
    assert state["fast_tier"]["count"] == 1
    assert state["tool_failures"]["Bash"] == 7
    # Nothing from the call's input or output is kept.
    raw = json.dumps(state)
    assert "pytest tests/test_parse.py" not in raw and "AssertionError" not in raw


def test_block_on_a_successful_repeat_uses_post_tool_use_decision(transcript):
    call = {"file_path": "/src/app.py"}
    outs = [run_hook(post_tool(SID, transcript.path, "Read", call, n=i)).stdout for i in range(6)]
    # The first read is novel; reads 2..6 repeat it: attempts 1..5.
    assert state_of(SID)["loop_attempts"]["Read"] == 5
    assert outs[0] == outs[1] == outs[2] == outs[4] == ""
    assert "additionalContext" in json.loads(outs[3])["hookSpecificOutput"]
    block = json.loads(outs[5])
    assert block["decision"] == "block" and "hookSpecificOutput" not in block


def test_success_ends_the_loop_and_a_new_loop_warns_again(transcript):
    call = {"command": "cargo build"}
    for i in range(3):
        run_hook(post_tool_failure(SID, transcript.path, "Bash", call, "Exit code 101", n=i))
    assert state_of(SID)["loop_attempts"]["Bash"] == 3
    # A success between two runs of a fix loop (the same command failing again and again) is
    # neither an attempt nor its end.
    r = run_hook(post_tool(SID, transcript.path, "Bash", {"command": "git diff"}, n=10))
    assert state_of(SID)["loop_attempts"]["Bash"] == 3 and r.stdout == ""
    # The command that failed now succeeds: the loop ends, unwarned.
    r = run_hook(post_tool(SID, transcript.path, "Bash", call, n=11))
    assert state_of(SID)["loop_attempts"]["Bash"] == 0 and r.stdout == ""
    outs = [run_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "make"}, "Exit code 2",
                                       n=20 + i)).stdout
            for i in range(3)]
    assert outs[:2] == ["", ""] and "additionalContext" in outs[2]


def test_loop_attempts_are_per_tool(transcript):
    for i in range(4):
        run_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "npm test"}, "Exit code 1", n=i))
        quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": f"/src/f{i}.ts"}, n=100 + i)))
    state = state_of(SID)
    assert state["loop_attempts"] == {"Bash": 4, "Read": 0}
    assert state["tool_calls"] == {"Bash": 4, "Read": 4}


def test_loop_token_warning_once(transcript):
    call = {"command": "go test ./..."}
    outs = []
    for i in range(1, 5):
        # Every request re-reads a 30k cached prompt (not the loop's cost) and sends 20,000 new tokens.
        transcript.assistant(f"msg_{i:03d}", input=20_000, output=500, cache_read=30000, cache_5m=500,
                             tool=("Bash", call))
        outs.append(run_hook(post_tool_failure(SID, transcript.path, "Bash", call, "Exit code 1\nFAIL", n=i),
                             env=hook_env(TOKEN_ROI_WARN_AT_ATTEMPT="9", TOKEN_ROI_MAX_FIX_ATTEMPTS="9")).stdout)
    # The loop starts at attempt 1; attempt 4 is the first 50,000 full-rate tokens past it.
    assert outs[:3] == ["", "", ""]
    ctx = json.loads(outs[3])["hookSpecificOutput"]["additionalContext"]
    assert "63,000 tokens at full rate" in ctx and "limit 50,000" in ctx
    assert state_of(SID)["loop_tokens"]["Bash"] == 3 * 21000


def test_env_limits_override_defaults(transcript):
    env = hook_env(TOKEN_ROI_WARN_AT_ATTEMPT="1", TOKEN_ROI_MAX_FIX_ATTEMPTS="2")
    edit = {"file_path": "/a", "old_string": "x", "new_string": "y"}
    outs = [run_hook(post_tool_failure(SID, transcript.path, "Edit", edit,
                                       "String to replace not found in file.", n=i), env=env).stdout for i in range(2)]
    assert "additionalContext" in json.loads(outs[0])["hookSpecificOutput"]
    assert json.loads(outs[1])["decision"] == "block"


def test_config_file_limits_are_read_at_session_start(transcript, tmp_path):
    pytest.importorskip("yaml")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("guard:\n  warn_at_attempt: 2\n  max_fix_attempts: 4\n")
    env = hook_env(TOKEN_ROI_CONFIG=str(cfg))
    quiet(run_hook(session_start(SID, transcript.path), env=env))
    assert state_of(SID)["limits"]["max_fix_attempts"] == 4
    outs = [run_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "tox"}, "Exit code 1", n=i),
                     env=env).stdout
            for i in range(4)]
    assert outs[0] == "" and "additionalContext" in outs[1] and outs[2] == ""
    assert json.loads(outs[3])["decision"] == "block"
    # The environment still wins over the file.
    env2 = hook_env(TOKEN_ROI_CONFIG=str(cfg), TOKEN_ROI_MAX_FIX_ATTEMPTS="6")
    quiet(run_hook(post_tool(SID, transcript.path, "Bash", {"command": "tox"}, n=9), env=env2))  # ends the loop
    quiet(run_hook(post_tool(SID, transcript.path, "Bash", {"command": "pwd"}, n=10), env=env2))
    outs = [run_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "tox -e py"}, "Exit code 1", n=20 + i),
                     env=env2).stdout for i in range(6)]
    assert [bool(o) for o in outs] == [False, True, False, False, False, True]


# -- outcomes -------------------------------------------------------------------------------------

def test_test_runs_give_tests_passed_and_a_fixed_bug(transcript):
    call = {"command": "python -m pytest tests/test_parse.py", "description": "Run tests"}
    run_hook(post_tool_failure(SID, transcript.path, "Bash", call, "Exit code 1\n" + PYTEST_FAIL, n=1))
    quiet(run_hook(post_tool(SID, transcript.path, "Edit",
                             {"file_path": "/src/parse.py", "old_string": "a", "new_string": "b"}, n=2)))
    run_hook(post_tool(SID, transcript.path, "Bash", {"command": "python  -m pytest tests/test_parse.py"},
                       {"stdout": PYTEST_PASS, "stderr": "", "interrupted": False, "isImage": False}, n=3))
    out = state_of(SID)["outcomes"]
    assert out["bugs_fixed"] == 1
    assert out["tests_passed"] == 12
    assert out["test_runs"] == 2
    assert "test_parse_empty_line" not in json.dumps(out)


# -- prompts, budgets, hard cap -------------------------------------------------------------------

def test_cost_question_gets_the_session_summary_and_the_prompt_is_not_stored(transcript):
    transcript.assistant("msg_01A", input=3, output=117, cache_read=12342, cache_1h=576)
    r = run_hook(prompt(SID, transcript.path, "Quick check — am I wasting tokens on this zebra refactor?"))
    ctx = r.json["hookSpecificOutput"]
    assert ctx["hookEventName"] == "UserPromptSubmit"
    assert "13,038 tokens" in ctx["additionalContext"] and "$" in ctx["additionalContext"]
    assert "zebra" not in json.dumps(state_of(SID))
    quiet(run_hook(prompt(SID, transcript.path, "Rename the zebra module to giraffe")))
    r = run_hook(prompt(SID, transcript.path, "how much did that cost?"))
    assert "additionalContext" in r.json["hookSpecificOutput"]


def test_session_budget_soft_alert_once(transcript):
    env = hook_env(TOKEN_ROI_SESSION_BUDGET_USD="0.10")
    transcript.assistant("msg_01A", input=20000, output=1000)        # $0.075 at sonnet rates: 75%
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1), env=env))
    transcript.assistant("msg_01B", input=2000, output=100)           # $0.0825: past 80%
    r = run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=2), env=env)
    assert "82%" in r.json["systemMessage"] and "82%" in r.json["hookSpecificOutput"]["additionalContext"]
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/c"}, n=3), env=env))
    transcript.assistant("msg_01C", input=10000, output=100)          # past 100%
    r = run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/d"}, n=4), env=env)
    assert "budget exceeded" in r.json["systemMessage"]
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/e"}, n=5), env=env))


def test_hard_cap_is_opt_in_and_denies_past_the_budget(transcript):
    transcript.assistant("msg_01A", input=20000, output=2000)        # $0.09
    call = {"command": "pytest"}
    quiet(run_hook(pre_tool(SID, transcript.path, "Bash", call), env=hook_env(TOKEN_ROI_SESSION_BUDGET_USD="0.05")))
    env = hook_env(TOKEN_ROI_SESSION_BUDGET_USD="0.05", TOKEN_ROI_HARD_CAP="1")
    r = run_hook(pre_tool(SID, transcript.path, "Bash", call), env=env)
    out = r.json["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] == "deny"
    assert "$0.09 of $0.05" in out["permissionDecisionReason"]
    quiet(run_hook(pre_tool(SID, transcript.path, "Bash", call),
                   env=hook_env(TOKEN_ROI_SESSION_BUDGET_USD="5", TOKEN_ROI_HARD_CAP="1")))


def test_daily_budget_adds_up_sessions(tmp_path):
    env = hook_env(TOKEN_ROI_DAILY_BUDGET_USD="0.10", TOKEN_ROI_HARD_CAP="1")
    outs = []
    for k in range(2):
        sid = f"sess-{k}"
        t = Transcript(tmp_path / f"{sid}.jsonl", sid)
        quiet(run_hook(session_start(sid, t.path), env=env))
        t.assistant(f"msg_{k}", input=15000, output=0)                # $0.045 each
        outs.append(run_hook(post_tool(sid, t.path, "Read", {"file_path": "/a"}), env=env).stdout)
    assert outs[0] == ""
    assert "today's spend is at 90%" in json.loads(outs[1])["systemMessage"]
    t.assistant("msg_x", input=5000, output=0)
    r = run_hook(pre_tool("sess-1", t.path, "Read", {"file_path": "/b"}), env=env)
    assert r.json["hookSpecificOutput"]["permissionDecision"] == "deny"


# -- ledger, end of session, override -------------------------------------------------------------

def test_stop_and_session_end_put_the_usage_in_the_ledger(transcript):
    from token_roi import paths
    transcript.assistant("msg_01A", input=3, output=117, cache_read=12342, cache_1h=576)
    transcript.subagent("f00d").assistant("msg_01SUB", input=10, output=200)
    quiet(run_hook(stop(SID, transcript.path)))
    db = sqlite3.connect(paths.db_path())
    rows = db.execute(
        "SELECT dedupe_key, session_id, is_subagent, output_tokens FROM calls ORDER BY dedupe_key").fetchall()
    assert rows == [("msg_01A", SID, 0, 117), ("msg_01SUB", SID, 1, 200)]
    transcript.assistant("msg_01B", output=50)
    quiet(run_hook(session_end(SID, transcript.path)))
    quiet(run_hook(session_end(SID, transcript.path)))            # twice: nothing doubled
    assert db.execute("SELECT count(*), sum(output_tokens) FROM calls").fetchone() == (3, 367)
    assert state_of(SID)["ended_at"] and state_of(SID)["end_reason"] == "prompt_input_exit"
    transcript.path.unlink()                                       # Claude Code's cleanup
    assert db.execute("SELECT count(*) FROM calls").fetchone() == (3,)


def test_budget_file_override_is_the_session_file(transcript, tmp_path):
    target = tmp_path / "budget" / "l2.json"
    env = hook_env(TOKEN_ROI_BUDGET_FILE=str(target))
    quiet(run_hook(post_tool(SID, transcript.path, "Grep", {"pattern": "TODO"}), env=env))
    assert json.loads(target.read_text())["tool_calls"] == {"Grep": 1}


# -- never break Claude Code ----------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"not json", b'{"session_id": "x", "hook_event_name": "PostToolUse"',
                                 b"[1,2,3]", b'{"hook_event_name": "PostToolUse"}', b"\xff\xfe\x00garbage",
                                 b'{"session_id": 7, "hook_event_name": "Stop"}'])
def test_malformed_stdin_exits_0_silently_and_logs(raw):
    before = len(log_lines())
    quiet(run_hook(raw))
    assert len(log_lines()) == before + 1


def test_unknown_event_is_logged(transcript):
    quiet(run_hook(base("TeleportToMars", SID, transcript.path)))
    assert "unknown event 'TeleportToMars'" in log_lines()[-1]


def test_missing_transcript_still_counts_the_call(tmp_path):
    missing = tmp_path / "gone" / "x.jsonl"
    quiet(run_hook(post_tool(SID, missing, "Read", {"file_path": "/a"})))
    assert state_of(SID)["tool_calls"] == {"Read": 1}
    # (Print mode runs the first tool hooks before the transcript is written: no log line yet.)
    quiet(run_hook(stop(SID, missing)))
    assert any("No such file" in line for line in log_lines())


def test_corrupt_state_file_is_set_aside_and_replaced(transcript):
    from token_roi.guard import state
    path = state.session_path(SID)
    path.parent.mkdir(parents=True)
    path.write_text('{"session_id": "3f1e", "tool_calls": {')
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"})))
    assert state_of(SID)["tool_calls"] == {"Read": 1}
    assert path.with_name(path.name + ".corrupt").exists()
    assert "not JSON" in "\n".join(log_lines())
    path.write_text('["a list"]')
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"})))
    assert state_of(SID)["tool_calls"] == {"Read": 1}


def test_unwritable_state_location_exits_0_silently(transcript, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = hook_env(TOKEN_ROI_BUDGET_FILE=str(blocker / "sub" / "state.json"))
    for payload in (post_tool(SID, transcript.path, "Read", {"file_path": "/a"}), session_start(SID, transcript.path),
                    prompt(SID, transcript.path, "how much did that cost"), stop(SID, transcript.path)):
        quiet(run_hook(payload, env=env))
    assert sum("NotADirectoryError" in line for line in log_lines()) >= 4


def test_no_log_location_at_all_still_exits_0(transcript, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    quiet(run_hook(b"garbage", env=hook_env(TOKEN_ROI_HOME=str(blocker / "home"))))
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}),
                   env=hook_env(TOKEN_ROI_HOME=str(blocker / "home"))))


def test_hook_works_without_site_packages_and_outside_the_repo(transcript, tmp_path):
    """The plugin as installed: copied elsewhere, its hooks.json command run by /bin/sh -c as
    Claude Code runs it, with -S (no pip-installed token_roi)."""
    import shutil

    from hook_support import REPO, hook_command
    plugin = tmp_path / "plugin-copy"
    shutil.copytree(REPO / "core", plugin / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "hooks", plugin / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    import subprocess
    transcript.assistant("msg_01A", output=100)
    command = hook_command("PostToolUse", plugin)
    assert "-S" in command.split()
    proc = subprocess.run(["/bin/sh", "-c", command],
                          input=json.dumps(post_tool(SID, transcript.path, "Read", {"file_path": "/a"})).encode(),
                          capture_output=True, env=hook_env(CLAUDE_PLUGIN_ROOT=str(plugin)), cwd=str(tmp_path))
    assert proc.returncode == 0 and proc.stdout == b""
    assert state_of(SID)["total_tokens_used"] == 103
    assert not any("error" in line for line in log_lines())


def test_subagent_growth_and_a_lost_sidecar(transcript):
    from token_roi.guard import state as st
    transcript.assistant("msg_01A", output=100)
    sub = transcript.subagent("beef")
    sub.assistant("msg_S1", input=10, output=1)                     # streaming copy
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1)))
    assert state_of(SID)["total_tokens_used"] == 103 + 11
    sub.assistant("msg_S1", input=10, output=200)                   # its final copy, next read
    sub.assistant("msg_S2", input=10, output=300)
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=2)))
    state = state_of(SID)
    assert state["total_tokens_used"] == 103 + 210 + 310
    assert state["subagents"]["files"] == 1
    assert str(sub.path) not in state["files"]                      # kept in the sidecar
    side = st.session_path(SID).with_suffix(".subagents.json")
    side.write_text("{broken")
    sub.assistant("msg_S3", input=10, output=400)
    quiet(run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/c"}, n=3)))
    # The sidecar is rebuilt from the subagent file itself: nothing lost, nothing doubled.
    assert state_of(SID)["total_tokens_used"] == 103 + 210 + 310 + 410
    assert json.loads(side.read_text())


def test_hard_cap_from_the_config_file(transcript, tmp_path):
    pytest.importorskip("yaml")
    from token_roi import paths
    transcript.assistant("msg_01A", input=20000, output=2000)        # $0.09
    cfg = tmp_path / "config.yaml"
    cfg.write_text("guard:\n  session_budget_usd: 0.05\n  hard_cap: true\n")
    env = hook_env(TOKEN_ROI_CONFIG=str(cfg))
    quiet(run_hook(session_start(SID, transcript.path), env=env))
    assert (paths.state_dir() / "guard-hard-cap").exists()
    r = run_hook(pre_tool(SID, transcript.path, "Bash", {"command": "ls"}), env=env)
    assert r.json["hookSpecificOutput"]["permissionDecision"] == "deny"
    # TOKEN_ROI_HARD_CAP=0 turns it off for this environment.
    quiet(run_hook(pre_tool(SID, transcript.path, "Bash", {"command": "ls"}),
                   env=hook_env(TOKEN_ROI_CONFIG=str(cfg), TOKEN_ROI_HARD_CAP="0")))
    # A new session under a config without the cap removes the flag again.
    cfg.write_text("guard:\n  session_budget_usd: 0.05\n")
    quiet(run_hook(session_start("other-session", transcript.path), env=env))
    assert not (paths.state_dir() / "guard-hard-cap").exists()


def test_pre_tool_use_without_the_hard_cap_does_nothing(transcript):
    from token_roi.guard import state as st
    quiet(run_hook(pre_tool(SID, transcript.path, "Bash", {"command": "ls"})))
    quiet(run_hook(b"not even json", event="PreToolUse"))
    assert not st.session_path(SID).exists() and log_lines() == []


def test_subagent_stop_records_the_subagent_calls(transcript):
    from token_roi import paths
    sub = transcript.subagent("c0ffee")
    sub.assistant("msg_01SUB", input=10, output=200)
    payload = base("SubagentStop", SID, transcript.path, stop_hook_active=False, agent_id="c0ffee",
                   agent_type="token-roi:fast-fixer", agent_transcript_path=str(sub.path),
                   last_assistant_message="Changed src/cart.py:41; tests pass.")
    quiet(run_hook(payload))
    assert state_of(SID)["total_tokens_used"] == 210
    db = sqlite3.connect(paths.db_path())
    assert db.execute("SELECT dedupe_key, is_subagent FROM calls").fetchall() == [("msg_01SUB", 1)]


def test_new_session_start_before_the_transcript_exists_logs_nothing(tmp_path):
    quiet(run_hook(session_start(SID, tmp_path / "not-yet.jsonl")))
    assert state_of(SID)["session_id"] == SID
    assert log_lines() == []


def test_stop_saves_the_value_signals_of_the_session(transcript):
    from token_roi import paths
    transcript.assistant("msg_01A", output=100)
    for i in range(4):
        run_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "pytest"}, "Exit code 1", n=i))
    quiet(run_hook(post_tool(SID, transcript.path, "Edit", {"file_path": "/a.py", "old_string": "a", "new_string": "b"},
                             n=9)))
    state = state_of(SID)
    assert (state["loop_attempts_max"], state["loop_attempts_total"]) == (4, 4)
    quiet(run_hook(stop(SID, transcript.path)))
    db = sqlite3.connect(paths.db_path())
    row = db.execute("SELECT source, loop_attempts_max, loop_attempts_total, edits FROM session_signals "
                     "WHERE session_id = ?", (SID,)).fetchone()
    assert row == ("guard", 4, 4, 1)
