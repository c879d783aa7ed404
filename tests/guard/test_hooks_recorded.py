"""Replay what Claude Code 2.1.197 really sent this plugin's hooks (tests/fixtures/hooks/
claude-code-2.1.197, see its README) through the real hook commands, the transcript growing as
it did, and check the answers Claude Code recorded it got."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hook_support import log_lines, run_hook, state_of

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hooks" / "claude-code-2.1.197"


def test_recorded_session_replays_with_the_answers_claude_code_got(tmp_path):
    from token_roi import paths
    lines = (FIXTURE / "transcript.jsonl").read_text().splitlines(keepends=True)
    payloads = [json.loads(line) for line in (FIXTURE / "payloads.jsonl").read_text().splitlines()]
    transcript = tmp_path / "projects" / "-tmp-gt-work3" / Path(payloads[0]["transcript_path"]).name
    transcript.parent.mkdir(parents=True)
    written = 0

    def grow_to(n: int) -> None:
        nonlocal written
        if n > written:
            with open(transcript, "a", encoding="utf-8") as f:
                f.writelines(lines[written:n])
            written = n

    answers = []
    for p in payloads:
        p["transcript_path"] = str(transcript)
        event = p["hook_event_name"]
        if event in ("PreToolUse", "PostToolUseFailure"):
            # The assistant line that made this call is on disk by the time its hooks run.
            at = next(i for i, line in enumerate(lines) if f'"id":"{p["tool_use_id"]}"' in line)
            grow_to(at + 1)
        elif event in ("Stop", "SessionEnd"):
            grow_to(len(lines))
        r = run_hook(p)
        assert r.returncode == 0, r.stderr
        answers.append((event, r.stdout))

    failures = [out for event, out in answers if event == "PostToolUseFailure"]
    assert [bool(o) for o in failures] == [False, False, True, False, True, False]
    assert "3 times in a row" in json.loads(failures[2])["hookSpecificOutput"]["additionalContext"]
    block = json.loads(failures[4])
    assert block["decision"] == "block" and "token-roi:fast-fixer" in block["reason"]
    assert all(out == "" for event, out in answers if event != "PostToolUseFailure")

    state = state_of(payloads[0]["session_id"])
    assert state["total_tokens_used"] == 7 * (12 + 500 + 9000 + 40)      # the stub's usage, 7 calls
    assert state["tokens"]["cache_write_1h"] == 7 * 500
    assert state["loop_attempts"] == {"Bash": 6} and state["tool_failures"] == {"Bash": 6}
    assert state["outcomes"]["tests_passed"] == 2 and state["outcomes"]["test_runs"] == 6
    assert state["fast_tier_triggered"] is True and state["end_reason"] == "other"
    db = sqlite3.connect(paths.db_path())
    assert db.execute("SELECT count(*), sum(output_tokens) FROM calls").fetchone() == (7, 7 * 40)
    assert log_lines() == []
    # What Claude Code itself recorded receiving from these hooks in the real run:
    recorded = "".join(lines)
    assert ('"hookEvent":"PostToolUseFailure","blockingError":'
            '{"blockingError":"token-roi guard: loop on Bash, attempt 5' in recorded)
