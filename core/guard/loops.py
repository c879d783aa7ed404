"""Loop attempts, counted per tool name.

An attempt is a call of a tool that fails, repeats an earlier call's input (normalised), or
follows a failure of that same tool. A tool's `loop_attempts` is its number of attempts since
its last novel successful call, which sets it back to 0. So five identical failing calls are
attempts 1..5, and a hundred reads of different files are none.

Inputs are remembered as short hashes only (never the input itself), the last INPUTS_KEPT per
tool. The warning and the fast-tier block each fire once per loop: the flags reset when the loop
ends (a novel successful call).
"""

from __future__ import annotations

from .. import fastjson
from ..digest import blake2b

INPUTS_KEPT = 200
# Fields that change between otherwise identical calls without changing what the call does.
_IGNORED_KEYS = frozenset({"description", "timeout", "run_in_background"})


def _normalise(value):
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items() if k not in _IGNORED_KEYS}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def input_hash(tool_input) -> str:
    text = fastjson.dumps(_normalise(tool_input), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)
    return blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


def _loop(state: dict, tool: str) -> dict:
    loops = state["loops"]
    entry = loops.get(tool)
    if not isinstance(entry, dict):
        entry = loops[tool] = {}
    entry.setdefault("last_failed", False)
    entry.setdefault("inputs", [])
    entry.setdefault("started_tokens", 0)
    entry.setdefault("started_cost", 0.0)
    entry.setdefault("warned", False)
    entry.setdefault("token_warned", False)
    entry.setdefault("blocked", False)
    return entry


def record_call(state: dict, tool: str, tool_input, failed: bool) -> dict:
    """Count one finished tool call; return what it means:
    {"attempt": n, "warn": bool, "block": bool, "token_warn": bool, "loop_tokens": n}
    where warn/block/token_warn are true only the first time in a loop."""
    entry = _loop(state, tool)
    digest = input_hash(tool_input)
    repeat = digest in entry["inputs"]
    attempt_call = failed or repeat or entry["last_failed"]
    attempts = state["loop_attempts"].get(tool, 0)
    if not isinstance(attempts, int):
        attempts = 0
    if attempt_call:
        if attempts == 0:
            # The loop starts with the call before this one: the tokens it spent count from now.
            entry["started_tokens"] = state["total_tokens_used"]
            entry["started_cost"] = state["cost_usd"]
            entry["warned"] = entry["token_warned"] = entry["blocked"] = False
        attempts += 1
        state["loop_attempts_total"] = state.get("loop_attempts_total", 0) + 1
        state["loop_attempts_max"] = max(state.get("loop_attempts_max", 0), attempts)
    else:
        attempts = 0
        entry["warned"] = entry["token_warned"] = entry["blocked"] = False
    entry["last_failed"] = bool(failed)
    if not repeat:
        entry["inputs"].append(digest)
        if len(entry["inputs"]) > INPUTS_KEPT:
            del entry["inputs"][: len(entry["inputs"]) - INPUTS_KEPT]
    state["loop_attempts"][tool] = attempts
    state["tool_calls"][tool] = state["tool_calls"].get(tool, 0) + 1
    if failed:
        state["tool_failures"][tool] = state["tool_failures"].get(tool, 0) + 1
    loop_tokens = max(0, state["total_tokens_used"] - entry["started_tokens"]) if attempts else 0
    state["loop_tokens"][tool] = loop_tokens
    return {"attempt": attempts, "loop_tokens": loop_tokens,
            "loop_cost": max(0.0, state["cost_usd"] - entry["started_cost"]) if attempts else 0.0}


def decide(state: dict, tool: str, outcome: dict, limits: dict) -> dict:
    """Which notices this call earns, each at most once per loop; marks them given."""
    entry = _loop(state, tool)
    attempt = outcome["attempt"]
    out = {"warn": False, "block": False, "token_warn": False}
    if attempt >= limits["max_fix_attempts"] and not entry["blocked"]:
        entry["blocked"] = entry["warned"] = True
        out["block"] = True
    elif attempt >= limits["warn_at_attempt"] and not entry["warned"] and not entry["blocked"]:
        entry["warned"] = True
        out["warn"] = True
    if attempt and outcome["loop_tokens"] >= limits["max_loop_tokens"] and not entry["token_warned"]:
        entry["token_warned"] = True
        out["token_warn"] = not out["block"]   # the block message already carries the figures
    return out
