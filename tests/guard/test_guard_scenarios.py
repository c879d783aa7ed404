"""Whole sessions through the real hook script (hooks/run -> hooks/token_budget_guard.py, as
hooks/hooks.json wires it), with the payload shapes Claude Code 2.1.197 sends (see
tests/fixtures/hooks/claude-code-2.1.197): each tool call is an assistant request written to the
transcript, then its PostToolUse or PostToolUseFailure hook, then its result line. The guard must
judge them as a person would: block a loop that goes nowhere, never a run that passes."""

from __future__ import annotations

import json
import sqlite3

from hook_support import (
    Transcript,
    base,
    hook_env,
    post_tool,
    post_tool_failure,
    run_hook,
    session_end,
    session_start,
    state_of,
    stop,
)

from token_roi.cli import main

SID = "5b1e7c2a-9d40-4e6f-8a13-c07d2f9e4b61"
TEST = {"command": "python -m pytest tests/test_cart.py -q", "description": "Run the cart tests"}
FAIL_OUT = ("F..                                                                      [100%]\n"
            "=================================== FAILURES ===================================\n"
            "___________________________ test_total_with_discount ___________________________\n"
            "E       assert 90.0 == 81.0\n"
            "=========================== short test summary info ============================\n"
            "FAILED tests/test_cart.py::test_total_with_discount - assert 90.0 == 81.0\n"
            "========================= 1 failed, 2 passed in 0.04s ==========================\n")
PASS_OUT = "...                                                                      [100%]\n3 passed in 0.03s\n"


class Session:
    """One scripted session: every tool call is a request in the transcript and a hook run."""

    def __init__(self, tmp_path, *, cached_prompt: int = 30_000, env: dict | None = None, sid: str = SID):
        self.sid = sid
        self.t = Transcript(tmp_path / "claude" / "projects" / "-home-dev-src-acme-api" / f"{sid}.jsonl", sid,
                            now=True)
        self.env = env or hook_env()
        self.cached_prompt = cached_prompt
        self.n = 0
        self.t.user("the discount test fails, please fix it")
        assert run_hook(session_start(sid, self.t.path), env=self.env).stdout == ""

    def _request(self, transcript: Transcript, tool: str, tool_input: dict, *, new_input: int = 6,
                 output: int = 180, cache_write: int = 400) -> None:
        self.n += 1
        transcript.assistant(f"msg_{self.n:04d}", input=new_input, output=output, cache_read=self.cached_prompt,
                             cache_5m=cache_write, tool=(tool, tool_input))

    def ok(self, tool: str, tool_input: dict, response=None, *, agent: tuple[str, str] | None = None, **usage) -> str:
        transcript = self._where(agent)
        self._request(transcript, tool, tool_input, **usage)
        payload = post_tool(self.sid, self.t.path, tool, tool_input, response, n=self.n)
        return self._fire(payload, agent)

    def fail(self, tool: str, tool_input: dict, error: str, *, agent: tuple[str, str] | None = None, **usage) -> str:
        transcript = self._where(agent)
        self._request(transcript, tool, tool_input, **usage)
        payload = post_tool_failure(self.sid, self.t.path, tool, tool_input, error, n=self.n)
        return self._fire(payload, agent)

    def bash(self, command: dict, stdout: str, *, agent=None, **usage) -> str:
        return self.ok("Bash", command, {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False},
                       agent=agent, **usage)

    def _where(self, agent) -> Transcript:
        if agent is None:
            return self.t
        sub = self.t.subagent(agent[0])
        sub.n = self.n + 1000
        return sub

    def _fire(self, payload: dict, agent) -> str:
        if agent is not None:
            payload["agent_id"], payload["agent_type"] = agent
        r = run_hook(payload, env=self.env)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        return r.stdout

    def stop(self) -> None:
        assert run_hook(stop(self.sid, self.t.path), env=self.env).stdout == ""
        assert run_hook(session_end(self.sid, self.t.path), env=self.env).stdout == ""


def kind(out: str) -> str:
    """What one hook answer was: '' (nothing), 'note', 'block' (or 'note+user' etc.)."""
    if not out:
        return ""
    o = json.loads(out)
    if o.get("decision") == "block":
        return "block"
    return "note" if "additionalContext" in o.get("hookSpecificOutput", {}) else "other"


def failing_run(s: Session) -> str:
    return s.fail("Bash", TEST, "Exit code 1\n" + FAIL_OUT)


def roi_row(capsys) -> dict:
    capsys.readouterr()
    assert main(["roi", "--json", "--no-ingest", "--no-git", "-z", "UTC"]) == 0
    rows = {r["session"]: r for r in json.loads(capsys.readouterr().out)["sessions"]}
    return rows[SID]


def cost_report(capsys) -> dict:
    capsys.readouterr()
    assert main(["cost-report", "--session", SID, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# -- the scenarios --------------------------------------------------------------------------------

def test_identical_failing_runs_note_at_3_and_block_at_5_once(tmp_path, capsys):
    s = Session(tmp_path)
    outs = [failing_run(s) for _ in range(7)]
    assert [kind(o) for o in outs] == ["", "", "note", "", "block", "", ""]
    note = json.loads(outs[2])["hookSpecificOutput"]["additionalContext"]
    assert "Bash has failed 3 times in a row" in note
    block = json.loads(outs[4])
    assert block["reason"].startswith("token-roi guard: loop on Bash, attempt 5")
    assert "token-roi:fast-fixer" in block["reason"]
    assert "told Claude to stop" in block["systemMessage"]
    state = state_of(SID)
    assert state["loop_attempts"] == {"Bash": 7} and state["fast_tier_triggered"] is True
    assert state["outcomes"]["bugs_fixed"] == 0 and state["outcomes"]["tests_failed"] == 1
    s.stop()
    # Ended inside the loop, tests still failing: waste, by both reports.
    row = roi_row(capsys)
    assert row["category"] == "NVA"
    assert cost_report(capsys)["category"]["category"] == "NVA"


def test_edit_test_cycle_passing_on_the_5th_run_is_never_blocked(tmp_path, capsys):
    s = Session(tmp_path)
    assert s.ok("Read", {"file_path": "/home/dev/src/acme-api/cart.py"}) == ""
    outs = []
    for i in range(4):
        s.ok("Edit", {"file_path": "/home/dev/src/acme-api/cart.py", "old_string": f"rate = {i}",
                      "new_string": f"rate = {i + 1}"})
        # A look at the diff between runs is neither an attempt nor the loop's end.
        assert s.bash({"command": "git diff --stat"}, f" cart.py | {i + 1} +-\n") == ""
        outs.append(failing_run(s))
    s.ok("Edit", {"file_path": "/home/dev/src/acme-api/cart.py", "old_string": "rate = 4", "new_string": "rate = 0.9"})
    outs.append(s.bash(TEST, PASS_OUT))
    assert [kind(o) for o in outs] == ["", "", "note", "", ""]        # the passing 5th run: nothing
    state = state_of(SID)
    assert state["loop_attempts"]["Bash"] == 0 and state["fast_tier_triggered"] is False
    assert state["outcomes"]["bugs_fixed"] == 1 and state["outcomes"]["tests_failed"] == 0
    assert state["loop_attempts_max"] == 4
    s.stop()
    row = roi_row(capsys)
    assert row["category"] == "VA" and row["value"]["mid"] > 0          # quality not "failed" (factor 0)
    assert "1 bug fixed" in row["reasons"] and "loop of 4 attempts on the way" in row["reasons"]
    report = cost_report(capsys)
    assert report["category"]["category"] == "VA"
    assert report["loops"] == [] and report["assessment"][0] == "loop resolved"


def test_a_pass_after_two_failures_ends_the_loop_quietly(tmp_path):
    s = Session(tmp_path)
    outs = [failing_run(s), failing_run(s), s.bash(TEST, PASS_OUT)]
    assert outs == ["", "", ""]
    state = state_of(SID)
    assert state["loop_attempts"] == {"Bash": 0}
    assert state["outcomes"]["bugs_fixed"] == 1 and state["outcomes"]["tests_passed"] == 3
    # A new loop later counts from 1 again and warns again at 3.
    again = [s.fail("Bash", {"command": "make lint"}, "Exit code 2\nE501 line too long") for _ in range(3)]
    assert [kind(o) for o in again] == ["", "", "note"]


def test_a_subagents_loop_is_its_own(tmp_path):
    s = Session(tmp_path)
    assert [kind(failing_run(s)) for _ in range(2)] == ["", ""]
    fixer = ("a3f9c2e17b4d5e60", "token-roi:fast-fixer")
    sub = [s.fail("Bash", TEST, "Exit code 1\n" + FAIL_OUT, agent=fixer, new_input=40) for _ in range(5)]
    assert [kind(o) for o in sub] == ["", "", "note", "", "block"]
    assert "Bash (subagent token-roi:fast-fixer) has failed 3 times" in \
        json.loads(sub[2])["hookSpecificOutput"]["additionalContext"]
    block = json.loads(sub[4])["reason"]
    assert "report back" in block and "subagent_type" not in block     # the fixer is not told to delegate to itself
    state = state_of(SID)
    assert state["loop_attempts"] == {"Bash": 2}                         # the parent's count did not move
    book = state["agents"][fixer[0]]
    assert book["agent_type"] == "token-roi:fast-fixer" and book["loop_attempts"] == {"Bash": 5}
    assert state["tool_calls"] == {"Bash": 7} and book["tool_calls"] == {"Bash": 5}
    # The parent's own third failure is its own attempt 3: its note, not a second block.
    assert kind(failing_run(s)) == "note"
    # The parent's run passing ends the parent's loop only.
    assert s.bash(TEST, PASS_OUT) == ""
    state = state_of(SID)
    assert state["loop_attempts"] == {"Bash": 0} and state["agents"][fixer[0]]["loop_attempts"] == {"Bash": 5}


def test_the_cost_report_shows_the_main_agent_and_each_subagent(tmp_path, capsys):
    s = Session(tmp_path)
    for _ in range(3):
        failing_run(s)
    for _ in range(4):
        s.fail("Bash", {"command": "npm test"}, "Exit code 1\nTests: 1 failed, 4 passed, 5 total",
               agent=("b77e01", "Explore"))
    capsys.readouterr()
    assert main(["cost-report", "--session", SID]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    main_at = next(i for i, line in enumerate(lines) if "Loop attempts per tool · main agent" in line)
    sub_at = next(i for i, line in enumerate(lines) if line.strip().startswith("Subagent Explore (b77e01)"))
    assert "3 attempts  (3 calls)  ⚠ LOOP" in lines[main_at + 1]
    assert "4 attempts  (4 calls)  ⚠ LOOP" in lines[sub_at + 1]


def test_polling_with_no_change_is_a_loop_and_a_change_ends_it(tmp_path):
    s = Session(tmp_path)
    poll = {"command": "curl -s http://127.0.0.1:8080/deploy/42/status"}
    # The first answer is news; each identical one after it is an attempt that went nowhere.
    outs = [s.bash(poll, '{"state": "pending"}\n') for _ in range(6)]
    assert [kind(o) for o in outs] == ["", "", "", "note", "", "block"]
    assert "returned the same result for the same call 3 times (no progress)" in \
        json.loads(outs[3])["hookSpecificOutput"]["additionalContext"]
    assert state_of(SID)["loop_attempts"]["Bash"] == 5
    assert s.bash(poll, '{"state": "done"}\n') == ""
    assert state_of(SID)["loop_attempts"]["Bash"] == 0
    # Re-reading a file that changed in between is progress, not a loop.
    for i in range(4):
        s.ok("Edit", {"file_path": "/a.py", "old_string": str(i), "new_string": str(i + 1)})
        assert s.ok("Read", {"file_path": "/a.py"}, {"type": "text", "file": {"filePath": "/a.py",
                    "content": f"x = {i + 1}\n", "numLines": 1, "startLine": 1, "totalLines": 1}}) == ""
    assert state_of(SID)["loop_attempts"]["Read"] == 0


def test_the_loop_token_note_counts_full_rate_tokens_not_the_cached_prompt(tmp_path):
    # Every request re-reads a 30k cached prompt, as Claude Code's do: five failing runs re-read
    # 150k tokens of cache, which is not what the loop cost.
    s = Session(tmp_path, cached_prompt=30_000)
    outs = [failing_run(s) for _ in range(4)]
    assert [kind(o) for o in outs] == ["", "", "note", ""]
    note = json.loads(outs[2])["hookSpecificOutput"]["additionalContext"]
    assert "limit" not in note                              # no token note beside the attempt note
    state = state_of(SID)
    assert state["tokens"]["cache_read"] >= 4 * 30_000
    assert state["loop_tokens"]["Bash"] == 3 * (6 + 180 + 400)   # requests 2-4 at full rate

    # The same loop sending 20k new tokens per request crosses the 50,000 limit once, on a failure.
    s2 = Session(tmp_path / "big", cached_prompt=30_000, sid="c41d0e7a-2f88-4b19-a6e3-5d90b1f27c08")
    cargo_fail = "Exit code 101\ntest result: FAILED. 3 passed; 1 failed; 0 ignored"
    outs = [s2.fail("Bash", {"command": "cargo test"}, cargo_fail, new_input=20_000) for _ in range(7)]
    token_notes = [i for i, o in enumerate(outs) if o and "tokens at full rate" in o and "limit 50,000" in o]
    assert token_notes == [3]          # attempt 4: 3 x (20,000 + 180 + 400) full-rate tokens since attempt 1
    assert "61,740 tokens at full rate" in outs[3] and kind(outs[4]) == "block"


def test_a_failing_run_reported_by_post_tool_use_failure_counts_as_failing(tmp_path):
    # Claude Code sends no PostToolUse for a failed call, only PostToolUseFailure (with `error`).
    s = Session(tmp_path)
    payload = base("PostToolUseFailure", SID, s.t.path, tool_name="Bash", tool_input=TEST,
                   tool_use_id="toolu_fake0001", error="Exit code 1\n" + FAIL_OUT, is_interrupt=False,
                   duration_ms=99, prompt_id="813ebcbf-f661-45f4-8c0c-9ae9c0806b6b", effort={"level": "high"})
    for _ in range(3):
        r = run_hook(payload)
    assert kind(r.stdout) == "note"
    state = state_of(SID)
    assert state["tool_failures"] == {"Bash": 3} and state["outcomes"]["test_runs"] == 3


def test_the_session_ends_in_the_ledger_with_its_signals(tmp_path):
    s = Session(tmp_path)
    failing_run(s)
    s.bash(TEST, PASS_OUT)
    s.stop()
    from token_roi import paths
    db = sqlite3.connect(paths.db_path())
    calls = db.execute("SELECT count(*), sum(cache_read_tokens) FROM calls").fetchone()
    assert calls == (2, 2 * 30_000)
    row = db.execute("SELECT bugs_fixed, tests_failed, abandoned FROM session_signals WHERE session_id = ?",
                     (SID,)).fetchone()
    assert row == (1, 0, 0)
