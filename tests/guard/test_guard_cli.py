"""token-roi cost-report and token-roi outcome over a session the hooks recorded."""

from __future__ import annotations

import json

import pytest
from hook_support import Transcript, post_tool, post_tool_failure, session_end, stop

from token_roi.cli import main
from token_roi.guard import hook, state

SID = "7a7b2c1d-0e0f-4a1b-8c2d-3e4f5a6b7c8d"
PASS = "============================== 12 passed in 0.29s ==============================\n"
FAIL = "========================= 1 failed, 11 passed in 0.31s =========================\n"


def fire(payload: dict) -> str:
    return hook.run(json.dumps(payload).encode())


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    t = Transcript(tmp_path / "projects" / "-home-dev-src-acme-api" / f"{SID}.jsonl", SID, now=True)
    t.user()
    cmd = {"command": "pytest tests/test_cart.py"}
    for i in range(4):
        t.assistant(f"msg_{i}", input=4, output=400, cache_read=30000, cache_1h=2000 if i == 0 else 0,
                    tool=("Bash", cmd))
        fire(post_tool_failure(SID, t.path, "Bash", cmd, "Exit code 1\n" + FAIL, n=i))
    t.assistant("msg_edit", input=4, output=900, cache_read=32000, tool=("Edit", {"file_path": "/src/cart.py"}))
    fire(post_tool(SID, t.path, "Edit", {"file_path": "/src/cart.py", "old_string": "a", "new_string": "b"}, n=10))
    fire(post_tool(SID, t.path, "Bash", {"command": "pytest tests/test_cart.py -q"},
                   {"stdout": FAIL, "stderr": "", "interrupted": False, "isImage": False}, n=11))
    fire(post_tool(SID, t.path, "Read", {"file_path": "/src/tax.py"}, n=12))
    return t


def test_cost_report_text(session, capsys):
    assert main(["cost-report", "--session", SID]) == 0
    out = capsys.readouterr().out
    assert f"session {SID}" in out
    assert "Session start" in out and "UTC" in out
    assert "156,520 total" in out and "cache read 152,000" in out and "(5m 0, 1h 2,000)" in out
    assert "claude-sonnet-4-6" in out and "$" in out
    bash_line = next(line for line in out.splitlines() if line.strip().startswith("Bash"))
    assert "5 attempts" in bash_line and "⚠ LOOP" in bash_line
    assert "⚠ LOOP" not in next(line for line in out.splitlines() if line.strip().startswith("Read"))
    assert "Fast tier      triggered (1×)" in out
    assert "Cost per fix   n/a" in out
    assert "ROI score      1.4 / 10" in out          # 22 tests x 2,000 / 156,520 x 5
    assert "Assessment     loop detected, within budget" in out
    assert "today $" in out and "this month $" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_cost_report_json_and_a_fixed_bug(session, capsys):
    fire(post_tool(SID, session.path, "Bash", {"command": "pytest tests/test_cart.py"},
                   {"stdout": PASS, "stderr": "", "interrupted": False, "isImage": False}, n=20))
    assert main(["cost-report", "--session", SID, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["session_id"] == SID and r["source"] == "guard"
    assert r["tokens"]["total"] == 156_520 and r["tokens"]["cache_write_1h"] == 2000
    assert r["outcomes"] == {"tests_passed": 12 + 11, "bugs_fixed": 1, "test_runs": 6}
    assert r["cost_per_fix_usd"] == pytest.approx(r["cost_usd"])
    assert r["roi"] == {"value_tokens": 10_000 + 23 * 2_000, "score": round(56_000 / 156_520 * 5, 2)}
    # The command that failed now passes: the loop ends (its count back to 0), the bug counts as
    # fixed, and the session is judged by that outcome; the fast tier stays on record.
    assert r["loop_attempts"]["Bash"] == 0 and r["loops"] == []
    assert r["fast_tier_triggered"] is True and r["assessment"][0] == "loop resolved"
    assert r["category"]["category"] == "VA"
    assert r["main_model"] == "claude-sonnet-4-6"
    assert set(r["spend"]) >= {"today_usd", "month_usd"}


def test_spend_comes_from_the_ledger(session, capsys):
    fire(stop(SID, session.path))
    main(["cost-report", "--session", SID, "--json"])
    r = json.loads(capsys.readouterr().out)
    assert r["spend"]["today_usd"] == pytest.approx(r["cost_usd"], abs=0.01)
    assert r["spend"]["month_usd"] >= r["spend"]["today_usd"] > 0


def test_after_the_state_expires_the_ledger_still_answers(session, capsys):
    fire(session_end(SID, session.path))
    state.session_path(SID).unlink()
    session.path.unlink()
    main(["cost-report", "--session", SID])
    out = capsys.readouterr().out
    assert "from the ledger" in out and "156,520 total" in out
    assert "22 tests passed" in out                      # outcomes were kept in the ledger


def test_no_session_data_is_one_line(capsys):
    assert main(["cost-report"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no session data" in out
    assert main(["cost-report", "--session", "nope", "--json"]) == 0
    assert "no data for session nope" in json.loads(capsys.readouterr().out)["message"]


def test_outcome_command(session, capsys, monkeypatch):
    monkeypatch.setenv("CLAUDE_CODE_SESSION_ID", SID)
    assert main(["outcome", "--bugs-fixed", "2", "--tests-passed", "3"]) == 0
    assert "session now 2 fixed" in capsys.readouterr().out
    o = state.peek(SID)["outcomes"]
    assert o["bugs_fixed"] == 2 and o["tests_passed"] == 22 + 3
    assert main(["outcome"]) == 2
    assert "nothing to record" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["outcome", "--bugs-fixed", "-1"])


def test_outcome_without_any_session(capsys):
    assert main(["outcome", "--bugs-fixed", "1"]) == 2
    assert "pass --session ID" in capsys.readouterr().err
