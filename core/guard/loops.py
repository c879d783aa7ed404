"""Loops: attempts per agent and tool, judged by each call's outcome.

Whose loop: the main session and every subagent (`agent_id` in the hook payload) keep their own
book. The main agent's book is the state's own `loop_attempts` / `loop_tokens` / `loops` (the
budget JSON's field names); a subagent's sits in `state["agents"][agent_id]`, with its type and
its own tool counts.

What is an attempt (per tool):
- a call that fails (PostToolUseFailure, `is_error`, or a test run that reports failures), or
- a call that repeats an identical earlier call with an identical result: no progress (polling
  that never changes, re-reading an unchanged file).
Anything else is progress. A successful call with a new result ends the tool's open loop: its
count goes back to 0 and the call is never warned or blocked. One exception keeps a fix loop
whole: while a Bash loop holds a failing test run, or the same command failing twice (the
edit -> run -> fail cycle), only a success of a command that failed in the loop, or a passing test
run of at least as many tests as the failing runs ran, ends it; a `git diff` between two runs
is neither an attempt nor the end.

The note (attempt `warn_at_attempt`) and the block (attempt `max_fix_attempts`) go out only on an
attempt, once per loop each. The loop's cost is what it added at full rate: input, output and
cache writes, never cache reads (a 30k cached prompt re-read by every request is not the loop's
doing), and its dollars.

Inputs and results are remembered as short hashes only, never themselves: the last INPUTS_KEPT
(input, result) pairs per agent and tool.
"""

from __future__ import annotations

from .. import fastjson
from ..digest import blake2b

INPUTS_KEPT = 200
AGENTS_KEPT = 50              # subagent books kept (the oldest dropped first)
# Fields that change between otherwise identical calls without changing what the call does.
_IGNORED_KEYS = frozenset({"description", "timeout", "run_in_background"})
# Result fields that vary between identical outcomes (timings, ids).
_IGNORED_RESULT_KEYS = frozenset({"duration_ms", "durationMs", "tool_use_id", "interrupted", "isImage",
                                  "backgroundTaskId", "timestamp"})


def _normalise(value, ignored: frozenset = _IGNORED_KEYS):
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {str(k): _normalise(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [_normalise(v, ignored) for v in value]
    return value


def _hash(value) -> str:
    text = fastjson.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


def input_hash(tool_input) -> str:
    return _hash(_normalise(tool_input))


def _feed(h, value, depth: int = 0) -> None:
    """Feed a JSON value to a hash, unambiguously (type tags, lengths), without serialising it."""
    if isinstance(value, str):
        data = value.encode("utf-8", "replace")
        h.update(b"s%d:" % len(data))
        h.update(data)
    elif isinstance(value, dict):
        h.update(b"{%d" % len(value))
        for key in sorted(value, key=str):
            if depth == 0 and key in _IGNORED_RESULT_KEYS:
                continue
            _feed(h, str(key), depth + 1)
            _feed(h, value[key], depth + 1)
        h.update(b"}")
    elif isinstance(value, list):
        h.update(b"[%d" % len(value))
        for item in value:
            _feed(h, item, depth + 1)
        h.update(b"]")
    else:
        h.update(b"v" + repr(value).encode("utf-8", "replace"))


def result_hash(tool_response, error=None) -> str:
    """A short hash of what the call produced (its response, or a failure's error text), as it
    came (timings and ids left out): a Read result can be a whole file, so it is hashed, not
    serialised or normalised (190 KB: ~0.4 ms, where serialising it took ~1.7 ms)."""
    h = blake2b(digest_size=8)
    _feed(h, tool_response)
    _feed(h, error, 1)
    return h.hexdigest()


def full_rate_tokens(state: dict) -> int:
    """The session's tokens billed at full rate: everything but cache reads."""
    tokens = state.get("tokens") or {}
    return sum(int(n) for kind, n in tokens.items() if kind != "cache_read" and isinstance(n, int))


def book(state: dict, agent_id: str | None, agent_type: str | None = None) -> dict:
    """The loop book of one agent: the state itself for the main agent, else its subagent entry."""
    if not agent_id:
        return state
    agents = state.get("agents")
    if not isinstance(agents, dict):
        agents = state["agents"] = {}
    entry = agents.get(agent_id)
    if not isinstance(entry, dict):
        entry = agents[agent_id] = {"agent_type": None, "loop_attempts": {}, "loop_tokens": {}, "loops": {},
                                    "tool_calls": {}, "tool_failures": {}}
        while len(agents) > AGENTS_KEPT:
            del agents[next(iter(agents))]
    for key in ("loop_attempts", "loop_tokens", "loops", "tool_calls", "tool_failures"):
        if not isinstance(entry.get(key), dict):
            entry[key] = {}
    if agent_type and not entry.get("agent_type"):
        entry["agent_type"] = agent_type[:100]
    return entry


def _loop(owner: dict, tool: str) -> dict:
    loops = owner["loops"]
    entry = loops.get(tool)
    if not isinstance(entry, dict):
        entry = loops[tool] = {}
    entry.setdefault("seen", [])            # input+result hashes of this tool's calls
    entry.setdefault("failed_inputs", [])   # input hashes that failed in the open loop
    entry.setdefault("fix", False)          # the open loop is a fix loop (see the module doc)
    entry.setdefault("started_tokens", 0)
    entry.setdefault("started_cost", 0.0)
    entry.setdefault("warned", False)
    entry.setdefault("token_warned", False)
    entry.setdefault("blocked", False)
    return entry


def record_call(state: dict, tool: str, tool_input, failed: bool, *, result: str = "",
                agent_id: str | None = None, agent_type: str | None = None,
                test: dict | None = None) -> dict:
    """Count one finished tool call. `result` is result_hash() of what it produced; `test` the
    test runner summary its output held (outcomes.parse_summary), if any. Returns
    {"attempt": n (the open loop's count after this call), "is_attempt": bool, "kind":
    "failed" | "no-progress" | "progress" | "resolved", "loop_tokens", "loop_cost",
    "agent_id", "agent_type", "fix": bool (a fix loop ended by a passing test run)}."""
    owner = book(state, agent_id, agent_type)
    entry = _loop(owner, tool)
    digest = input_hash(tool_input)
    pair = digest + ":" + result
    summary = test or {}
    test_failed = int(summary.get("failed", 0)) > 0
    test_passed = not test_failed and int(summary.get("passed", 0)) > 0
    tool_failed = failed
    failed = failed or test_failed
    attempts = owner["loop_attempts"].get(tool, 0)
    if not isinstance(attempts, int) or isinstance(attempts, bool):
        attempts = 0
    no_progress = not failed and pair in entry["seen"]
    is_attempt = failed or no_progress
    kind = "failed" if failed else "no-progress" if no_progress else "progress"
    fixed = False
    if is_attempt:
        if attempts == 0:
            # The loop starts with this call: the tokens it spends count from here.
            entry["started_tokens"] = full_rate_tokens(state)
            entry["started_cost"] = state.get("cost_usd") or 0.0
            entry["warned"] = entry["token_warned"] = entry["blocked"] = False
            entry["failed_inputs"] = []
            entry["fix"] = False
            entry["fix_tests"] = 0
        attempts += 1
        if failed:
            if tool == "Bash" and (test_failed or digest in entry["failed_inputs"]):
                entry["fix"] = True
            if test_failed:
                entry["fix_tests"] = max(int(entry.get("fix_tests") or 0),
                                         int(summary.get("passed", 0)) + int(summary.get("failed", 0)))
            if digest not in entry["failed_inputs"]:
                entry["failed_inputs"].append(digest)
                del entry["failed_inputs"][:-20]
        state["loop_attempts_total"] = int(state.get("loop_attempts_total") or 0) + 1
        state["loop_attempts_max"] = max(int(state.get("loop_attempts_max") or 0), attempts)
    elif attempts:
        broader = test_passed and int(summary.get("passed", 0)) >= int(entry.get("fix_tests") or 0)
        ends = not entry["fix"] or broader or digest in entry["failed_inputs"]
        if ends:
            kind = "resolved"
            fixed = entry["fix"] and test_passed
            attempts = 0
            entry["warned"] = entry["token_warned"] = entry["blocked"] = entry["fix"] = False
            entry["failed_inputs"] = []
    if pair not in entry["seen"]:
        entry["seen"].append(pair)
        if len(entry["seen"]) > INPUTS_KEPT:
            del entry["seen"][: len(entry["seen"]) - INPUTS_KEPT]
    owner["loop_attempts"][tool] = attempts
    for counts in ((state, owner) if owner is not state else (state,)):
        counts["tool_calls"][tool] = counts["tool_calls"].get(tool, 0) + 1
        if tool_failed:
            counts["tool_failures"][tool] = counts["tool_failures"].get(tool, 0) + 1
    loop_tokens = max(0, full_rate_tokens(state) - entry["started_tokens"]) if attempts else 0
    owner["loop_tokens"][tool] = loop_tokens
    return {"attempt": attempts, "is_attempt": is_attempt, "kind": kind, "loop_tokens": loop_tokens,
            "loop_cost": max(0.0, (state.get("cost_usd") or 0.0) - entry["started_cost"]) if attempts else 0.0,
            "agent_id": agent_id, "agent_type": owner.get("agent_type") if agent_id else None, "fix": fixed}


def decide(state: dict, tool: str, outcome: dict, limits: dict) -> dict:
    """Which notices this call earns: only an attempt (a failing or no-progress result) earns
    any, each at most once per loop; marks them given."""
    out = {"warn": False, "block": False, "token_warn": False}
    if not outcome.get("is_attempt"):
        return out
    entry = _loop(book(state, outcome.get("agent_id")), tool)
    attempt = outcome["attempt"]
    if attempt >= limits["max_fix_attempts"] and not entry["blocked"]:
        entry["blocked"] = entry["warned"] = True
        out["block"] = True
    elif attempt >= limits["warn_at_attempt"] and not entry["warned"] and not entry["blocked"]:
        entry["warned"] = True
        out["warn"] = True
    if outcome["loop_tokens"] >= limits["max_loop_tokens"] and not entry["token_warned"]:
        entry["token_warned"] = True
        out["token_warn"] = not out["block"]   # the block message already carries the figures
    return out


def open_loops(state: dict) -> list[tuple[str | None, str, int]]:
    """(agent_id or None for the main agent, tool, attempts) of every loop still open."""
    out: list[tuple[str | None, str, int]] = []
    owners: list[tuple[str | None, dict]] = [(None, state)]
    agents = state.get("agents")
    if isinstance(agents, dict):
        owners += [(aid, b) for aid, b in agents.items() if isinstance(b, dict)]
    for aid, owner in owners:
        for tool, n in (owner.get("loop_attempts") or {}).items():
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                out.append((aid, tool, n))
    return out
