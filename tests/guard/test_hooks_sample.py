"""Session totals against ground truth: a realistic session (streaming copies, /btw replays,
subagents, 5m/1h cache writes) fed to the hooks as it is written, in pieces cut anywhere, even
mid-line. The state must end exactly at the sample's true totals."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess

import pytest
from hook_support import hook_argv, hook_env, post_tool, state_of

from token_roi.guard import hook
from token_roi.sample import append_session


@pytest.mark.parametrize("seed", [3, 11])
def test_hook_totals_match_the_sample_ground_truth(tmp_path, seed):
    src, tree = append_session(tmp_path / "gen", total_bytes=600_000, seed=seed,
                               when=dt.datetime(2026, 11, 1, 9, 30), traps=True)
    assert tree.expected.calls > 20
    assert tree.every_line.total > tree.expected.total    # the traps are there: naive counting is wrong
    sid = src.stem
    live = tmp_path / "live" / "projects" / src.parent.name / src.name
    live.parent.mkdir(parents=True)
    data = src.read_bytes()
    subs = list((src.with_suffix("") / "subagents").glob("*.jsonl"))
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 40)) + [len(data)]
    pos = 0
    for i, cut in enumerate(cuts):
        with open(live, "ab") as f:
            f.write(data[pos:cut])
        pos = cut
        if i == len(cuts) // 2:
            for sub in subs:                          # the subagent's file appears mid-session
                target = live.with_suffix("") / "subagents" / sub.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(sub.read_bytes())
        payload = post_tool(sid, live, "Read", {"file_path": f"/src/f{i}.py"}, n=i)
        if i % 10 == 0:                               # some through the real script
            proc = subprocess.run(hook_argv("PostToolUse"), input=json.dumps(payload).encode(),
                                  capture_output=True, env=hook_env())
            assert proc.returncode == 0 and proc.stdout == b""
        else:
            assert hook.run(json.dumps(payload).encode()) == ""
    want = tree.expected
    state = state_of(sid)
    assert state["tokens"]["input"] == want.input
    assert state["tokens"]["output"] == want.output
    assert state["tokens"]["cache_read"] == want.cache_read
    assert state["tokens"]["cache_write_5m"] == want.cache_write_5m
    assert state["tokens"]["cache_write_1h"] == want.cache_write_1h
    assert state["total_tokens_used"] == want.total
    assert state["api_calls"] == want.calls
