"""Thousands of random, truncated and wrong-typed payloads thrown at the hook for every event:
each must exit 0, print nothing, and log exactly one error line."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys

from hook_support import HOOK_SCRIPT, hook_argv, hook_env, log_lines

EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure",
          "Stop", "SubagentStop", "SessionEnd"]
TOOL_EVENTS = {"PreToolUse", "PostToolUse", "PostToolUseFailure"}


def _real(rng: random.Random, event: str) -> dict:
    p = {"session_id": f"{rng.getrandbits(128):032x}", "transcript_path": f"/tmp/nope/{rng.randrange(9)}.jsonl",
         "cwd": "/home/dev/src/acme-api", "permission_mode": "default", "hook_event_name": event}
    if event in TOOL_EVENTS:
        p.update(tool_name=rng.choice(["Bash", "Read", "Edit", "mcp__github__create_issue"]),
                 tool_input={"command": "pytest -q", "description": "Run tests"}, tool_use_id="toolu_01ABC")
        if event == "PostToolUse":
            p["tool_response"] = {"stdout": "== 3 passed in 0.1s ==", "stderr": "", "interrupted": False}
        if event == "PostToolUseFailure":
            p.update(error="Exit code 1", is_interrupt=False)
    elif event == "UserPromptSubmit":
        p["prompt"] = "how much did that cost?"
    elif event == "SessionStart":
        p.update(source="startup", model="claude-sonnet-4-6")
    elif event == "SessionEnd":
        p["reason"] = "other"
    else:
        p["stop_hook_active"] = False
    return p


def _junk_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.randrange(-10**12, 10**12)
    if kind == 1:
        return rng.random() * 1e6
    if kind == 2:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(12)))
    if kind == 3:
        return rng.choice([None, True, False])
    if kind == 4:
        return [_junk_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {str(_junk_value(rng, 3)): _junk_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def bad_payload(rng: random.Random) -> bytes:
    """A payload the hook must reject (so it logs exactly one error)."""
    event = rng.choice(EVENTS)
    real = _real(rng, event)
    kind = rng.randrange(10)
    if kind == 0:                                          # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
    if kind in (1, 2):                                     # truncated real payload
        text = json.dumps(real, separators=(",", ":")).encode()
        return text[: rng.randrange(len(text))]
    if kind == 3:                                          # JSON, but not an object
        return json.dumps(rng.choice([_junk_value(rng), [], "", 0, None])).encode()
    if kind == 4:                                          # object without the required fields
        junk = {k: v for k, v in real.items() if k not in ("session_id", "hook_event_name")}
        junk.update({str(i): _junk_value(rng) for i in range(rng.randrange(3))})
        if rng.random() < 0.5:
            junk["hook_event_name"] = event
        return json.dumps(junk).encode()
    if kind == 5:                                          # wrong types in the required fields
        field = rng.choice(["session_id", "hook_event_name", "transcript_path"])
        real[field] = rng.choice([7, 1.5, None if field != "transcript_path" else [], [], {},
                                  "" if field != "transcript_path" else 3, "   " if field == "session_id" else False])
        return json.dumps(real).encode()
    if kind == 6:                                          # event-specific field missing or mistyped
        if event in TOOL_EVENTS:
            real["tool_name"] = rng.choice([None, 3, [], ""])
        elif event == "UserPromptSubmit":
            real["prompt"] = rng.choice([None, 3, ["how much did that cost"], {"text": "cost"}])
        else:
            real["hook_event_name"] = "".join(rng.choice("abcXYZ_") for _ in range(rng.randrange(1, 20)))
        return json.dumps(real).encode()
    if kind == 7:                                          # deep nesting
        depth = rng.choice([1000, 100000])
        nested = b"[" * depth + b"]" * depth
        return (b'{"session_id":"x","hook_event_name":"Stop","x":' + nested + b"}" if rng.random() < 0.5
                else b"[" * depth)
    if kind == 8:                                          # invalid UTF-8 inside the JSON
        text = json.dumps(real).encode()
        cut = rng.randrange(1, len(text) - 1)
        return text[:cut] + b"\xff\xfe" + text[cut:]
    real["hook_event_name"] = rng.choice(["Notification", "PreCompact", "postToolUse", "", "PostToolUse\n"])
    return json.dumps(real).encode() if real["hook_event_name"] else json.dumps(real).encode()[:-1]


_DRIVER = r"""
import base64, importlib.util, io, json, sys
spec = importlib.util.spec_from_file_location("token_budget_guard", sys.argv[1])
hook = importlib.util.module_from_spec(spec)
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
spec.loader.exec_module(hook)
real_stdout = sys.stdout
results = []
for line in open(sys.argv[2]):
    raw = base64.b64decode(line)
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    code = hook.main()
    sys.stdout.flush()
    results.append([code, sys.stdout.buffer.getvalue().decode("utf-8", "replace")])
sys.stdout = real_stdout
print(json.dumps(results))
"""


def test_fuzz_every_hook_exits_0_silently_and_logs(tmp_path):
    rng = random.Random(20261122)
    env = hook_env(TOKEN_ROI_HARD_CAP="1")    # else PreToolUse returns before reading its input
    before = len(log_lines())

    # 1. One process per payload, through each event's own hooks.json command, a few at a time.
    single = [(rng.choice(EVENTS), bad_payload(rng)) for _ in range(240)]
    for start in range(0, len(single), 8):
        batch = single[start:start + 8]
        procs = [subprocess.Popen(hook_argv(ev), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env) for ev, _ in batch]
        for proc, (_, raw) in zip(procs, batch):
            out, err = proc.communicate(raw, timeout=120)
            assert proc.returncode == 0, err
            assert out == b"", (raw[:200], out)

    # 2. Thousands more through the same script's main(), many per process.
    many = [bad_payload(rng) for _ in range(4000)]
    feed = tmp_path / "payloads.b64"
    feed.write_text("\n".join(base64.b64encode(p).decode() for p in many) + "\n")
    proc = subprocess.run([sys.executable, "-S", "-E", "-c", _DRIVER, str(HOOK_SCRIPT), str(feed)],
                          capture_output=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    results = json.loads(proc.stdout)
    assert len(results) == len(many)
    for (code, out), raw in zip(results, many):
        assert code == 0 and out == "", raw[:200]

    lines = log_lines()[before:]
    assert len(lines) == len(single) + len(many)
    assert all(" hook [" in line and "error" in line for line in lines)
