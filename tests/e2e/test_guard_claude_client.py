"""The guard in the real client: Claude Code (npm `@anthropic-ai/claude-code`, pinned in
claude_stub.py, installed on first use into ~/.cache/token-roi-tests/) runs this repository as a
plugin (`claude -p ... --plugin-dir <repo>`) against a scripted Messages API on 127.0.0.1. The
assertions read what the client sent back to the API (the hooks' context and block text, as the
model would see them) and what landed in the ledger."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from claude_stub import OUTPUT_TOKENS, REPO, USAGE, Step, StubAPI, bash, claude_binary, run_claude, say
from hook_support import log_lines

pytestmark = pytest.mark.e2e

FAILING = "sh -c 'echo \"===== 1 failed, 2 passed in 0.01s =====\"; exit 1'"
NOTE = "hook additional context: token-roi: Bash has failed 3 times in a row"
BLOCK = "token-roi guard: loop on Bash"
# Fails the first four times it runs, then passes (a counter file beside it): the fix lands.
TESTS_SH = """n=$(cat .runs 2>/dev/null || echo 0); n=$((n + 1)); echo $n > .runs
if [ $n -lt 5 ]; then
  echo "FAILED tests/test_cart.py::test_discount"; echo "===== 1 failed, 2 passed in 0.02s ====="; exit 1
fi
echo "===== 3 passed in 0.02s ====="
"""


@pytest.fixture(scope="module", autouse=True)
def client():
    return claude_binary()


def ledger():
    from token_roi import paths
    return sqlite3.connect(paths.db_path())


def states() -> list[dict]:
    from token_roi.guard import state
    return [s for _, s in state.all_states()]


def last(api: StubAPI, key: str = "main") -> str:
    return api.sent(key)[-1]


def user_text(api: StubAPI) -> str:
    """The text blocks of the first user message of the last request (a command's output)."""
    content = json.loads(last(api))["messages"][0]["content"]
    return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))


def test_identical_failing_runs_are_noted_at_3_and_blocked_at_5_once(tmp_path):
    with StubAPI({"main": [bash(FAILING)] * 6 + [say("I could not make the tests pass.")]}) as api:
        run = run_claude("run the tests until they pass", api, tmp_path)
    assert run.returncode == 0, run.stderr
    sent = api.sent()
    assert len(sent) == 7
    # Request k carries the result of call k; the note after call 3, the block after call 5.
    assert [NOTE in s for s in sent] == [False, False, False, True, True, True, True]
    assert [BLOCK in s for s in sent] == [False, False, False, False, False, True, True]
    assert last(api).count(BLOCK) == 1 and last(api).count(NOTE) == 1
    assert "token-roi:fast-fixer" in last(api)
    [state] = states()
    assert state["loop_attempts"] == {"Bash": 6} and state["fast_tier_triggered"] is True
    # Every request the client made is in the ledger once, at the stub's usage.
    per_call = (USAGE["input_tokens"] + USAGE["cache_read_input_tokens"] + USAGE["cache_creation_input_tokens"]
                + OUTPUT_TOKENS)
    calls, tokens = ledger().execute(
        "SELECT count(*), sum(input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens"
        " + cache_write_1h_tokens) FROM calls").fetchone()
    assert (calls, tokens) == (7, 7 * per_call)
    # The loop's cost is what it added at full rate, not the 30k prompt every request re-read.
    assert state["loop_tokens"]["Bash"] < 6 * 1000
    assert log_lines() == []                      # no hook met an error


def test_an_edit_test_cycle_that_passes_on_the_5th_run_is_never_blocked(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "run_tests.sh").write_text(TESTS_SH)
    (work / "cart.py").write_text("RATE = 1.0\n")
    steps: list[Step] = []
    for i in range(5):
        steps.append(bash(f"echo 'RATE = 0.{9 - i}' > cart.py", "Apply the fix"))
        steps.append(bash("sh run_tests.sh"))
    with StubAPI({"main": steps + [say("The discount test passes now.")]}) as api:
        run = run_claude("the discount test fails, fix it", api, tmp_path, cwd=work)
    assert run.returncode == 0, run.stderr
    final = last(api)
    assert "===== 3 passed" in final                  # the 5th run passed, as the client saw
    assert final.count(NOTE) == 1 and BLOCK not in final
    [state] = states()
    assert state["loop_attempts"]["Bash"] == 0 and state["fast_tier_triggered"] is False
    assert state["outcomes"]["bugs_fixed"] == 1
    signals = ledger().execute("SELECT bugs_fixed, tests_failed, abandoned FROM session_signals").fetchone()
    assert signals == (1, 0, 0)
    from token_roi.cli import main
    capsys.readouterr()
    assert main(["roi", "--json", "--no-ingest", "--no-git", "-z", "UTC"]) == 0
    [row] = json.loads(capsys.readouterr().out)["sessions"]
    assert row["category"] == "VA" and row["value"]["mid"] > 0


def test_a_subagents_loop_is_counted_apart_from_its_parents(tmp_path):
    marker = "SUBTASK-7f3a"
    delegate = Step("Agent", {"description": "Fix the cart test", "subagent_type": "token-roi:fast-fixer",
                              "prompt": f"{marker} Fix: test_discount fails\nFile: cart.py:1\n"
                                        "Error: assert 90.0 == 81.0\nFix in <= 20 lines."})
    scripts = {"main": [bash(FAILING), bash(FAILING), delegate, say("The fixer could not fix it either.")],
               marker: [bash(FAILING)] * 5 + [say("Still failing: assert 90.0 == 81.0 at cart.py:1.")]}
    with StubAPI(scripts) as api:
        run = run_claude("run the tests until they pass", api, tmp_path)
    assert run.returncode == 0, run.stderr
    sub = api.sent(marker)
    assert len(sub) == 6
    # The subagent's own attempts 3 and 5: its note and its block, naming it, telling it to report back.
    assert "Bash (subagent token-roi:fast-fixer) has failed 3 times in a row" in sub[3]
    assert "loop on Bash (subagent token-roi:fast-fixer), attempt 5" in sub[5] and "report back" in sub[5]
    # The parent made 2 failing calls: no note reached it, whatever its subagent did.
    assert not any("has failed 3 times" in s or BLOCK in s for s in api.sent("main"))
    [state] = states()
    assert state["loop_attempts"] == {"Bash": 2, "Agent": 0}
    [(agent_id, book)] = state["agents"].items()
    assert agent_id and book["agent_type"] == "token-roi:fast-fixer" and book["loop_attempts"] == {"Bash": 5}


def test_cost_report_by_its_short_name_in_print_mode_after_setup(tmp_path, monkeypatch):
    bin_dir = Path(sys.executable).parent          # `token-roi` of this environment on PATH
    env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}
    # Without the user command, print mode does not know the short name ...
    with StubAPI({"main": [say("unused")]}) as api:
        before = run_claude("/cost-report", api, tmp_path / "a", env_extra=env, args=())
    assert "Unknown command" in before.stdout + before.stderr and api.sent() == []
    # ... the plugin's namespaced name works ...
    with StubAPI({"main": [say("Here is the report.")]}) as api:
        namespaced = run_claude("/token-roi:cost-report", api, tmp_path / "b", env_extra=env, args=())
    assert namespaced.returncode == 0 and "token-roi cost report · session" in user_text(api)
    # ... and after `token-roi setup claude` the short one does too.
    config = tmp_path / "c" / "home" / ".claude"
    config.mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    setup = subprocess.run([str(bin_dir / "token-roi"), "setup", "claude"], capture_output=True, text=True,
                           env={**env, "CLAUDE_CONFIG_DIR": str(config), "HOME": str(tmp_path)})
    assert setup.returncode == 0, setup.stderr
    with StubAPI({"main": [say("Here is the report.")]}) as api:
        short = run_claude("/cost-report", api, tmp_path / "c", env_extra=env, args=())
    assert short.returncode == 0, short.stderr
    assert "token-roi cost report · session" in user_text(api)


def test_a_skill_folder_with_only_skill_md_runs_no_hooks(tmp_path):
    skill = tmp_path / "home" / ".claude" / "skills" / "token-roi"
    skill.mkdir(parents=True)
    shutil.copy(REPO / "SKILL.md", skill / "SKILL.md")
    with StubAPI({"main": [bash("echo hello"), say("ok")]}) as api:
        env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "home" / ".claude")}
        run = _run_without_plugin(api, tmp_path, env)
    assert run.returncode == 0, run.stderr
    assert "Measured token usage, cost and ROI" in api.sent()[0]          # the skill is offered
    assert states() == []                                                 # and no hook ran


def _run_without_plugin(api: StubAPI, tmp_path: Path, env: dict):
    import os
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "TOKEN_ROI_"))}
    full.update({"HOME": str(tmp_path / "home"), "ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": "sk-ant-test-stub",
                 "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
                 "TOKEN_ROI_HOME": os.environ["TOKEN_ROI_HOME"]}, **env)
    return subprocess.run([str(claude_binary()), "-p", "say hello", "--allowedTools", "Bash", "--model",
                           "claude-sonnet-4-6"], cwd=work, env=full, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
