"""Every text the guard gives Claude (additionalContext, block reasons) or the user.

Short on purpose: whatever the guard says is read by the model on the user's bill.
"""

from __future__ import annotations

FAST_TIER_AGENT = "token-roi:fast-fixer"


def tokens(n: int) -> str:
    return f"{int(n):,}"


def money(state: dict) -> str:
    """The session's cost; unpriced tokens are flagged, never shown as $0."""
    cost = state.get("cost_usd") or 0.0
    unpriced = state.get("unpriced_tokens") or 0
    if unpriced and not cost:
        names = ", ".join(state["unpriced_models"]) or "?"
        return f"cost unknown ({tokens(unpriced)} tokens of unpriced model {names})"
    text = f"${cost:,.2f}"
    if unpriced:
        text += f" + {tokens(unpriced)} unpriced tokens ({', '.join(state['unpriced_models'])})"
    return text


def main_model(state: dict) -> str | None:
    models = state.get("models") or {}
    if models:
        return max(models.items(), key=lambda kv: kv[1].get("tokens", 0))[0]
    return state.get("model")


def _who(info: dict) -> str:
    """'' for the main agent, ' (subagent <type>)' for a subagent's loop."""
    if not info.get("agent_id"):
        return ""
    return f" (subagent {info.get('agent_type') or info['agent_id'][:12]})"


def _loops_line(state: dict) -> str | None:
    from .loops import open_loops
    found = state.get("agents")
    agents: dict = found if isinstance(found, dict) else {}
    parts = []
    for aid, tool, n in sorted(open_loops(state), key=lambda x: (x[0] or "", x[1])):
        if n < 3:
            continue
        who = "" if aid is None else f" in subagent {(agents.get(aid) or {}).get('agent_type') or aid[:12]}"
        parts.append(f"{tool} x{n}{who}")
    return "loops: " + ", ".join(parts) if parts else None


def summary(state: dict) -> str:
    """One paragraph: the session's cost summary (for Claude and for the human)."""
    model = main_model(state)
    calls = sum(v for v in state["tool_calls"].values() if isinstance(v, int))
    parts = [f"{tokens(state['total_tokens_used'])} tokens, {money(state)}" + (f" ({model})" if model else ""),
             f"{calls} tool calls"]
    looping = _loops_line(state)
    if looping:
        parts.append(looping)
    out = state["outcomes"]
    if out.get("tests_passed") or out.get("bugs_fixed"):
        passed, fixed = out.get("tests_passed", 0), out.get("bugs_fixed", 0)
        parts.append(f"{passed} test{'' if passed == 1 else 's'} passed, {fixed} bug{'' if fixed == 1 else 's'} fixed")
    if state.get("fast_tier_triggered"):
        parts.append("fast tier triggered")
    return "; ".join(parts)


def _what(info: dict, attempt: int) -> str:
    if info.get("kind") == "no-progress":
        return f"returned the same result for the same call {attempt} times (no progress)"
    return f"has failed {attempt} times in a row"


def loop_warning(tool: str, attempt: int, info: dict, limits: dict) -> str:
    return (f"token-roi: {tool}{_who(info)} {_what(info, attempt)} "
            f"({tokens(info['loop_tokens'])} tokens at full rate, ${info['loop_cost']:,.2f}). "
            f"Stop and rethink before the next try: read the error once more and change the approach. "
            f"At attempt {limits['max_fix_attempts']} the guard stops the loop.")


def loop_token_warning(tool: str, info: dict, limits: dict) -> str:
    return (f"token-roi: the {tool} loop{_who(info)} has cost {tokens(info['loop_tokens'])} tokens at full rate "
            f"(${info['loop_cost']:,.2f}; limit {tokens(limits['max_loop_tokens'])}). "
            f"Change the approach or ask the user.")


def fast_tier_block(tool: str, attempt: int, info: dict, state: dict) -> str:
    head = (f"token-roi guard: loop on {tool}{_who(info)}, attempt {attempt} "
            f"({tokens(info['loop_tokens'])} tokens at full rate, ${info['loop_cost']:,.2f} in this loop). "
            f"Stop this loop now; do not retry the same call.\n")
    if info.get("agent_id"):
        return head + (f"- Stop and report back what fails (one-line error, file:line, exact message) "
                       f"instead of trying again; the session so far: {summary(state)}.")
    return head + (
        f"- If the fix is simple, delegate it to the fast-tier agent (subagent_type \"{FAST_TIER_AGENT}\") "
        f"with exactly this brief:\n"
        f"  Fix: <one-line error>\n"
        f"  File: <path>:<line>\n"
        f"  Error: <exact message>\n"
        f"  Fix in ≤ 20 lines.\n"
        f"- Otherwise stop and escalate to the human with this cost summary: session so far "
        f"{summary(state)}."
    )


def fast_tier_notice(tool: str, attempt: int, info: dict | None = None) -> str:
    if info and info.get("agent_id"):
        return f"token-roi: {tool}{_who(info)} looped {attempt} times; told the subagent to stop and report back."
    return f"token-roi: {tool} looped {attempt} times; told Claude to stop and use the fast tier or ask you."


def budget_alert(scope: str, spent: float, budget: float, percent: float) -> str:
    what = "session" if scope == "session" else "today's"
    if percent >= 100:
        return f"token-roi: {what} budget exceeded: ${spent:,.2f} of ${budget:,.2f}."
    return f"token-roi: {what} spend is at {percent:.0f}% of its budget (${spent:,.2f} of ${budget:,.2f})."


def hard_cap_reason(scope: str, spent: float, budget: float) -> str:
    what = "session" if scope == "session" else "daily"
    return (f"token-roi hard cap: the {what} budget is spent (${spent:,.2f} of ${budget:,.2f}). "
            f"Tool calls are blocked; tell the user, who can raise the budget "
            f"(TOKEN_ROI_{what.upper()}_BUDGET_USD or guard.{what}_budget_usd) or turn the hard cap off.")


def cost_context(state: dict) -> str:
    return ("token-roi (measured from this session's transcript): " + summary(state)
            + ". Run `token-roi cost-report` for the full report.")
