"""100 hooks of one session fired at once (Claude runs tool calls in parallel): no update lost,
the state file valid JSON throughout."""

from __future__ import annotations

import json
import subprocess

from hook_support import Transcript, hook_argv, hook_env, post_tool, post_tool_failure, prompt, state_of

SID = "9c0d5e2a-1111-4a2b-9c3d-000000000100"


def test_100_concurrent_hooks_lose_no_update(tmp_path):
    t = Transcript(tmp_path / f"{SID}.jsonl", SID)
    t.user()
    for i in range(100):
        t.assistant(f"msg_{i:04d}", input=2, output=100 + i, cache_read=1000)
    payloads = []
    for i in range(50):
        payloads.append(post_tool(SID, t.path, "Read", {"file_path": f"/src/module_{i}.py"}, n=i))
    for i in range(30):
        payloads.append(post_tool_failure(SID, t.path, "Bash", {"command": "make test"}, "Exit code 2", n=100 + i))
    for _ in range(20):
        payloads.append(prompt(SID, t.path, "how much did that cost so far?"))
    env = hook_env()
    procs = []
    for p in payloads:
        proc = subprocess.Popen(hook_argv(p["hook_event_name"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        procs.append(proc)
    # Write every payload only once all 100 processes exist, so they really run together.
    for proc, p in zip(procs, payloads):
        proc.stdin.write(json.dumps(p).encode())
        proc.stdin.close()
    outs = []
    for proc in procs:
        proc.wait(timeout=300)
        outs.append(proc.stdout.read().decode())
        assert proc.returncode == 0, proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    for out in outs:
        if out:
            json.loads(out)                # every answer is whole JSON
    state = state_of(SID)                  # and so is the state
    assert state["tool_calls"] == {"Read": 50, "Bash": 30}
    assert state["tool_failures"] == {"Bash": 30}
    assert state["loop_attempts"] == {"Read": 0, "Bash": 30}
    assert state["api_calls"] == 100
    assert state["total_tokens_used"] == sum(2 + 100 + i + 1000 for i in range(100))
    assert len(state["actions"]) == 50
    # The warning (attempt 3) and the block (attempt 5) each went out exactly once.
    assert sum('"decision": "block"' in o for o in outs) == 1
    assert sum("3 times in a row" in o for o in outs) == 1
    assert sum("UserPromptSubmit" in o for o in outs) == 20
    leftovers = [p.name for p in tmp_path.parent.rglob(".*.tmp")]
    assert leftovers == []
