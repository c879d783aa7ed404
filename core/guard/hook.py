"""One function per Claude Code hook event: parse the payload, update the session state, answer.

Called by hooks/token_budget_guard.py, which turns any exception into "log it, exit 0, print
nothing": the guard must never break the agent. What goes out is JSON as Claude Code reads it
(sdk.d.ts: SyncHookJSONOutput); nothing from the payload is stored except tool and model names,
counts and times.
"""

from __future__ import annotations

import os
import time

from .. import fastjson, safe_io
from . import state as st


class BadInput(Exception):
    """The payload is not what Claude Code sends for this event."""


def log(message: str) -> None:
    """One line in our log; never raises."""
    try:
        from .. import paths
        path = paths.log_path_str()
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        line = message.replace("\r", "\\r").replace("\n", "\\n")   # one entry, one line
        safe_io.append_private(path, f"{st.iso_now()} hook {line}\n")
    except Exception:  # noqa: BLE001
        pass


def log_error(event: str, exc: BaseException) -> None:
    text = str(exc).replace("\n", " ")[:300]
    line = f"[{event or '?'}] error {type(exc).__name__}: {text}"
    if not isinstance(exc, (BadInput, ValueError)):
        import traceback
        tb = traceback.extract_tb(exc.__traceback__)
        if tb:
            last = tb[-1]
            line += f" (at {os.path.basename(last.filename)}:{last.lineno})"
    log(line)


# -- payload --------------------------------------------------------------------------------------

def parse(raw: bytes) -> dict:
    if not raw or not raw.strip():
        raise BadInput("empty stdin")
    try:
        payload = fastjson.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"stdin is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise BadInput(f"stdin is JSON {type(payload).__name__}, expected an object")
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise BadInput("hook_event_name missing")
    session_id = payload.get("session_id")
    if not isinstance(session_id, str) or not session_id.strip():
        raise BadInput(f"[{event}] session_id missing")
    path = payload.get("transcript_path")
    if path is not None and not isinstance(path, str):
        raise BadInput(f"[{event}] transcript_path is {type(path).__name__}, expected a string")
    return payload


def _tool_name(payload: dict) -> str:
    name = payload.get("tool_name")
    if not isinstance(name, str) or not name:
        raise BadInput(f"[{payload['hook_event_name']}] tool_name missing")
    return name[:200]


def _context(event: str, text: str) -> dict:
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}




def _catch_up(state: dict, payload: dict) -> None:
    from . import budget, usage
    budget.note_day(state)
    if isinstance(payload.get("cwd"), str):
        state["cwd"] = payload["cwd"]
    path = payload.get("transcript_path")
    # A transcript not written yet is no error: SessionStart and UserPromptSubmit fire before a
    # new session's first line, and in print mode (-p) the first tool calls' hooks can too. By
    # Stop it must exist.
    event = payload.get("hook_event_name")
    missing_ok = event in ("SessionStart", "UserPromptSubmit") or (
        event not in ("Stop", "SubagentStop", "SessionEnd") and not (state["files"].get(path) or {}).get("cursor"))
    usage.catch_up(state, path, st.session_file(state["session_id"]), log, missing_ok=missing_ok)


# -- events ---------------------------------------------------------------------------------------

def on_session_start(payload: dict) -> dict | None:
    from . import settings
    with st.session(payload["session_id"], log) as state:
        model = payload.get("model")
        if isinstance(model, str) and model:
            state["model"] = model[:200]
        source = payload.get("source")
        if source in ("startup", "clear"):
            state["limits"] = None       # a new session reads the config file afresh
        if state.get("ended_at"):
            state["ended_at"] = state["end_reason"] = None   # resumed
        settings.for_state(state)
        _catch_up(state, payload)
    if os.environ.get("TOKEN_ROI_FEATURE"):
        _tag_feature(payload["session_id"])
    try:
        st.sweep()
    except OSError as exc:
        log(f"[SessionStart] sweep: {exc}")
    return None


def _tag_feature(session_id: str) -> None:
    """Book the session to $TOKEN_ROI_FEATURE (never over an explicit `token-roi tag`)."""
    from ..accounting.features import tag_from_env
    from ..store import Store
    try:
        store = Store()
        try:
            tag_from_env(store, "claude", session_id)
        finally:
            store.close()
    except Exception as exc:  # noqa: BLE001 - a tag is never worth failing the hook over
        log(f"[SessionStart] feature tag: {type(exc).__name__}: {exc}")


def _agent(payload: dict) -> tuple[str | None, str | None]:
    """(agent_id, agent_type) of a call made inside a subagent; (None, None) for the main agent."""
    aid = payload.get("agent_id")
    if not isinstance(aid, str) or not aid.strip():
        return None, None
    kind = payload.get("agent_type")
    return aid.strip()[:100], kind[:100] if isinstance(kind, str) and kind else None


def on_tool_result(payload: dict) -> dict | None:
    """PostToolUse and PostToolUseFailure: count the call in its agent's loop book, judge it by
    its outcome (loops.py), parse test outcomes, answer with at most one note or one block."""
    from . import budget, loops, settings
    event = payload["hook_event_name"]
    tool = _tool_name(payload)
    failed = event == "PostToolUseFailure"
    response = payload.get("tool_response")
    error = payload.get("error")
    if not failed and isinstance(response, dict) and response.get("is_error") is True:
        failed = True
    agent_id, agent_type = _agent(payload)
    tool_input = payload.get("tool_input")
    command = tool_input.get("command") if tool == "Bash" and isinstance(tool_input, dict) else None
    summary = None
    if isinstance(command, str):
        from . import outcomes
        summary = outcomes.parse_summary(outcomes.bash_output(response, error))
    result = loops.result_hash(response, error if isinstance(error, str) else None)
    notes: list[str] = []
    user_notes: list[str] = []
    block_reason = None
    with st.session(payload["session_id"], log) as state:
        limits = settings.for_state(state, read_file=state.get("limits") is None)
        _catch_up(state, payload)
        info = loops.record_call(state, tool, tool_input, failed, result=result, agent_id=agent_id,
                                 agent_type=agent_type, test=summary)
        verdict = loops.decide(state, tool, info, limits)
        attempt = info["attempt"]
        if verdict["block"] or verdict["warn"] or verdict["token_warn"]:
            from . import messages  # only when there is something to say
        if verdict["block"]:
            block_reason = messages.fast_tier_block(tool, attempt, info, state)
            state["fast_tier_triggered"] = True
            ft = state["fast_tier"]
            ft["count"] = ft.get("count", 0) + 1
            ft.setdefault("events", []).append({"tool": tool, "attempt": attempt, "at": st.iso_now(),
                                                "loop_tokens": info["loop_tokens"], "agent_id": agent_id})
            del ft["events"][:-20]
            user_notes.append(messages.fast_tier_notice(tool, attempt, info))
        elif verdict["warn"]:
            notes.append(messages.loop_warning(tool, attempt, info, limits))
        if verdict["token_warn"]:
            notes.append(messages.loop_token_warning(tool, info, limits))
        if summary and isinstance(command, str):
            from . import outcomes
            outcomes.record_run(state, command, summary, loop_fixed=info["fix"])
        from . import quota
        notes.extend(quota.safe_notes(state, limits, log))     # plan windows past their threshold
        for scope, spent, budget_usd, percent in budget.alerts(state, limits):
            from . import messages
            text = messages.budget_alert(scope, spent, budget_usd, percent)
            notes.append(text)
            user_notes.append(text)
        action = {"at": st.iso_now(), "event": event, "tool": tool, "ok": not (failed or info["kind"] == "failed"),
                  "attempt": attempt if info["is_attempt"] else 0, "kind": info["kind"]}
        if agent_id:
            action["agent_id"] = agent_id
        st.add_action(state, action)
    out: dict = {}
    if block_reason:
        # Claude Code turns `decision: block` into a blocking error shown to Claude for
        # PostToolUse and PostToolUseFailure alike (checked in 2.1.197), so the text goes once.
        out["decision"] = "block"
        out["reason"] = block_reason
    if notes:
        out.update(_context(event, "\n".join(notes)))
    if user_notes:
        out["systemMessage"] = "\n".join(user_notes)
    return out or None


def on_pre_tool_use(payload: dict) -> dict | None:
    """The opt-in hard cap: deny tool calls once a budget is spent."""
    from . import budget, settings
    _tool_name(payload)
    cached = st.peek(payload["session_id"])
    limits = settings.resolve(cached.get("limits") if cached else None)
    if not limits["hard_cap"] or not (limits["session_budget_usd"] or limits["daily_budget_usd"]
                                      or limits["quota_cap_percent"]):
        return None
    from . import quota
    capped = quota.over_cap(limits)              # a plan window past guard.quota_cap_percent
    if capped:
        return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                       "permissionDecisionReason": quota.cap_reason(*capped)}}
    if not (limits["session_budget_usd"] or limits["daily_budget_usd"]):
        return None
    with st.session(payload["session_id"], log) as state:
        limits = settings.for_state(state, read_file=state.get("limits") is None)
        _catch_up(state, payload)
        hit = budget.over_cap(state, limits) if limits["hard_cap"] else None
    if not hit:
        return None
    from . import messages
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": messages.hard_cap_reason(*hit)}}


def asks_about_cost(prompt: str) -> bool:
    """Does the prompt ask about cost or waste? (questions.py; matched, never stored.)"""
    from .questions import asks_about_cost as asks
    return asks(prompt)


def on_user_prompt(payload: dict) -> dict | None:
    """A question about cost or waste gets the session's measured figures as context."""
    from . import messages
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        raise BadInput("[UserPromptSubmit] prompt missing")
    if not asks_about_cost(prompt):
        from . import quota
        found = quota.prompt_notes(payload["session_id"], log)
        return _context("UserPromptSubmit", "\n".join(found)) if found else None
    from . import quota
    with st.session(payload["session_id"], log) as state:
        _catch_up(state, payload)
        text = messages.cost_context(state)
        window_use = quota.context_line()        # the plan windows' use, when known
    return _context("UserPromptSubmit", text + (" " + window_use if window_use else ""))


def on_stop(payload: dict) -> dict | None:
    """Stop / SubagentStop / SessionEnd: bring the state up to date and the usage into the ledger."""
    import copy
    event = payload["hook_event_name"]
    with st.session(payload["session_id"], log) as state:
        _catch_up(state, payload)
        if event == "SessionEnd":
            state["ended_at"] = st.iso_now()
            reason = payload.get("reason")
            state["end_reason"] = reason[:40] if isinstance(reason, str) else None
        snapshot = copy.deepcopy(state)
    path = payload.get("transcript_path")
    if path:
        from . import ledger
        ledger.record_session(path, log, snapshot)
    return None


HANDLERS = {
    "SessionStart": on_session_start,
    "PostToolUse": on_tool_result,
    "PostToolUseFailure": on_tool_result,
    "PreToolUse": on_pre_tool_use,
    "UserPromptSubmit": on_user_prompt,
    "Stop": on_stop,
    "SubagentStop": on_stop,
    "SessionEnd": on_stop,
}


def handle(payload: dict) -> str:
    """The hook's whole job for one parsed payload: the text for stdout ('' = say nothing)."""
    handler = HANDLERS.get(payload["hook_event_name"])
    if handler is None:
        raise BadInput(f"unknown event {payload['hook_event_name'][:60]!r}")
    out = handler(payload)
    return fastjson.dumps(out, ensure_ascii=False) if out else ""


def run(raw: bytes) -> str:
    """stdin bytes in, stdout text out; never raises: errors are logged and answered with silence."""
    started = time.monotonic()
    event = ""
    try:
        payload = parse(raw)
        event = payload["hook_event_name"][:40]
        return handle(payload)
    except BaseException as exc:  # noqa: BLE001 - never break Claude Code
        log_error(event, exc)
        return ""
    finally:
        if os.environ.get("TOKEN_ROI_HOOK_TIMING"):
            log(f"[{event}] took {(time.monotonic() - started) * 1000:.1f} ms")
