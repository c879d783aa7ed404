"""The /cost-report figures for one session: pure functions over the guard state (or, when the
state has expired, the session's calls in the ledger), rendered as text or JSON. Not on the hooks'
path: `token-roi cost-report` (core/cli/cost_report.py) builds it."""

from __future__ import annotations

import datetime as dt

from ..rows import TOKEN_KINDS as KINDS
from .categorize import categorize
from .signals import from_guard_state

LOOP_MARK = 3                 # "⚠ LOOP" from this many attempts
HIGH_COST_USD = 5.0           # spending this much with an ROI score under 1 is "high cost"
VALUE_PER_FIX = 10_000        # tokens-worth of one fixed bug
VALUE_PER_TEST = 2_000        # tokens-worth of one passing test


def roi_score(bugs_fixed: int, tests_passed: int, tokens: int) -> tuple[int, float]:
    """(value in tokens-worth, score 0-10): score = min(value / tokens * 5, 10), 0 without tokens."""
    value = bugs_fixed * VALUE_PER_FIX + tests_passed * VALUE_PER_TEST
    if tokens <= 0:
        return value, 0.0
    return value, round(min(value / tokens * 5, 10.0), 2)


def from_state(state: dict) -> dict:
    """The session part of the report from a guard state."""
    tokens = {k: int(state["tokens"].get(k, 0)) for k in KINDS}
    models = sorted(({"model": m, "tokens": v.get("tokens", 0), "cost_usd": v.get("cost_usd")}
                     for m, v in (state.get("models") or {}).items()), key=lambda m: -m["tokens"])
    out = state["outcomes"]
    return {
        "session_id": state["session_id"],
        "source": "guard",
        "session_start": state.get("session_start"),
        "last_activity": state.get("last_activity"),
        "ended": bool(state.get("ended_at")),
        "tokens": {**tokens, "total": int(state["total_tokens_used"])},
        "cost_usd": round(state["cost_usd"], 6),
        "unpriced_tokens": state.get("unpriced_tokens", 0),
        "unpriced_models": state.get("unpriced_models", []),
        "models": models,
        "api_calls": state.get("api_calls", 0),
        "tool_calls": dict(sorted(state["tool_calls"].items())),
        "loop_attempts": dict(sorted(state["loop_attempts"].items())),
        "loop_tokens": dict(sorted(state["loop_tokens"].items())),
        "loop_attempts_max": int(state.get("loop_attempts_max") or 0),
        "subagents": _subagents(state),
        "category": _category(state),
        "fast_tier_triggered": bool(state.get("fast_tier_triggered")),
        "fast_tier_count": int((state.get("fast_tier") or {}).get("count", 0)),
        "outcomes": {"tests_passed": out.get("tests_passed", 0), "bugs_fixed": out.get("bugs_fixed", 0),
                     "test_runs": out.get("test_runs", 0)},
    }


def _subagents(state: dict) -> list[dict]:
    """Each subagent's own loop book (loops.py), in the order they first called a tool."""
    found = state.get("agents")
    agents: dict = found if isinstance(found, dict) else {}
    out = []
    for aid, b in agents.items():
        if not isinstance(b, dict):
            continue
        out.append({"agent_id": aid, "agent_type": b.get("agent_type"),
                    "tool_calls": dict(sorted((b.get("tool_calls") or {}).items())),
                    "loop_attempts": dict(sorted((b.get("loop_attempts") or {}).items())),
                    "loop_tokens": dict(sorted((b.get("loop_tokens") or {}).items()))})
    return out


def _category(state: dict) -> dict:
    """The session's category by the value rules (core/value/categorize.py), from the same
    signals `token-roi roi` reads (without git: the report does not look at the repository)."""
    verdict = categorize(from_guard_state(state, "claude"))
    return {"category": verdict.category, "reasons": verdict.reasons}


def from_ledger(session_id: str, group, outcomes: dict | None) -> dict:
    """The session part from the ledger (a reports.query.SessionGroup), after its state expired:
    no loop or tool figures, those lived in the state only."""
    tokens = {"input": group.input_tokens, "output": group.output_tokens,
              "cache_read": group.cache_read_tokens, "cache_write_5m": group.cache_write_5m_tokens,
              "cache_write_1h": group.cache_write_1h_tokens, "reasoning": group.reasoning_tokens}
    models = sorted(({"model": m, "tokens": u.total_tokens,
                      "cost_usd": None if u.unpriced_calls else round(u.cost, 6)}
                     for m, u in group.models.items()), key=lambda m: -m["tokens"])
    start = (dt.datetime.fromtimestamp(group.first_ts / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
             if group.first_ts else None)
    out = outcomes or {}
    return {
        "session_id": session_id,
        "source": "ledger",
        "session_start": start,
        "last_activity": None,
        "ended": True,
        "tokens": {**tokens, "total": group.total_tokens},
        "cost_usd": round(group.cost, 6),
        "unpriced_tokens": group.unpriced_tokens,
        "unpriced_models": group.unpriced_models,
        "models": models,
        "api_calls": group.calls,
        "tool_calls": {},
        "loop_attempts": {},
        "loop_tokens": {},
        "loop_attempts_max": 0,
        "subagents": [],
        "category": None,
        "fast_tier_triggered": False,
        "fast_tier_count": 0,
        "outcomes": {"tests_passed": out.get("tests_passed", 0), "bugs_fixed": out.get("bugs_fixed", 0),
                     "test_runs": out.get("test_runs", 0)},
    }


def complete(report: dict, limits: dict, spend: dict | None) -> dict:
    """Add the judgements: cost per fix, ROI score, loops, assessment, budgets and spend."""
    fixed = report["outcomes"]["bugs_fixed"]
    passed = report["outcomes"]["tests_passed"]
    total = report["tokens"]["total"]
    cost_known = not (report["unpriced_tokens"] and not report["cost_usd"])
    report["cost_known"] = cost_known
    report["main_model"] = report["models"][0]["model"] if report["models"] else None
    report["cost_per_fix_usd"] = round(report["cost_usd"] / fixed, 6) if fixed and cost_known else None
    value, score = roi_score(fixed, passed, total)
    report["roi"] = {"value_tokens": value, "score": score}
    # Open loops only: a loop that ended in a success is history, not a warning.
    report["loops"] = sorted(t for t, n in report["loop_attempts"].items() if n >= LOOP_MARK)
    report["subagent_loops"] = [{"agent_id": a["agent_id"], "agent_type": a["agent_type"], "tool": t, "attempts": n}
                                for a in report.get("subagents", []) for t, n in a["loop_attempts"].items()
                                if n >= LOOP_MARK]
    assessment = []
    if report["loops"] or report["subagent_loops"]:
        assessment.append("loop detected")
    elif report["fast_tier_triggered"] or report.get("loop_attempts_max", 0) >= LOOP_MARK:
        assessment.append("loop resolved")
    threshold = float(limits.get("alert_threshold_percent") or 80)
    high = False
    if limits.get("session_budget_usd") and report["cost_usd"] >= limits["session_budget_usd"] * threshold / 100:
        high = True
    daily = limits.get("daily_budget_usd")
    if spend and daily and spend.get("today_usd", 0) >= daily * threshold / 100:
        high = True
    if score < 1 and report["cost_usd"] >= HIGH_COST_USD:
        high = True
    assessment.append("high cost" if high else "within budget")
    report["assessment"] = assessment
    report["budgets"] = {"session_budget_usd": limits.get("session_budget_usd"),
                         "daily_budget_usd": limits.get("daily_budget_usd"),
                         "alert_threshold_percent": threshold,
                         "hard_cap": bool(limits.get("hard_cap"))}
    report["spend"] = spend
    return report


# -- text -----------------------------------------------------------------------------------------

def _n(x: int) -> str:
    return f"{int(x):,}"


def _plural(n: int, word: str) -> str:
    return f"{_n(n)} {word if n == 1 else word + 's'}"


def _usd(x: float | None) -> str:
    return "unknown" if x is None else f"${x:,.2f}"


def _when(iso: str | None, tz: dt.tzinfo | None) -> str:
    if not iso:
        return "unknown"
    try:
        t = dt.datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return iso
    local = t.astimezone(tz) if tz else t.astimezone()
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def _tool_lines(calls: dict, attempts: dict) -> list[str]:
    if not calls:
        return ["    no tool calls"]
    tool_w = max(len(tool) for tool in calls)
    out = []
    for tool, n_calls in sorted(calls.items(), key=lambda kv: (-attempts.get(kv[0], 0), kv[0])):
        n = attempts.get(tool, 0)
        mark = "  ⚠ LOOP" if n >= LOOP_MARK else ""
        out.append(f"    {tool:<{tool_w}}  {n:>3} attempt{'' if n == 1 else 's'}  ({_plural(n_calls, 'call')}){mark}")
    return out


def render(report: dict, tz: dt.tzinfo | None = None) -> str:
    t = report["tokens"]
    lines = [f"token-roi cost report · session {report['session_id']}"
             + (" (ended; from the ledger)" if report["source"] == "ledger" else "")]
    rows = [("Session start", _when(report["session_start"], tz))]
    rows.append(("Tokens", f"{_n(t['total'])} total · input {_n(t['input'])} · output {_n(t['output'])}"
                 + (f" · reasoning {_n(t['reasoning'])}" if t["reasoning"] else "")))
    rows.append(("", f"cache read {_n(t['cache_read'])} · cache write {_n(t['cache_write_5m'] + t['cache_write_1h'])}"
                 f" (5m {_n(t['cache_write_5m'])}, 1h {_n(t['cache_write_1h'])})"))
    cost = _usd(report["cost_usd"]) if report["cost_known"] else "unknown"
    if report["unpriced_tokens"]:
        cost += f" + {_n(report['unpriced_tokens'])} tokens unpriced ({', '.join(report['unpriced_models'])})"
    models = ", ".join(m["model"] for m in report["models"]) or "none seen"
    rows.append(("Cost", f"{cost} · {models}"))
    o = report["outcomes"]
    if report["cost_per_fix_usd"] is not None:
        per_fix = f"{_usd(report['cost_per_fix_usd'])} ({o['bugs_fixed']} fixed)"
    else:
        per_fix = "n/a (no bug fixed yet)" if not o["bugs_fixed"] else "unknown (unpriced model)"
    rows.append(("Cost per fix", per_fix))
    rows.append(("Outcomes", f"{_plural(o['tests_passed'], 'test')} passed · {_plural(o['bugs_fixed'], 'bug')} fixed · "
                 f"{_plural(o['test_runs'], 'test run')}"))
    width = max(len(k) for k, _ in rows)
    lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    lines.append("  Loop attempts per tool" + ("" if report["source"] == "ledger" or not report["subagents"]
                                              else " · main agent"))
    if report["source"] == "ledger":
        lines.append("    (not kept after the session's guard state expired)")
    elif not report["tool_calls"]:
        lines.append("    no tool calls yet")
    else:
        sub_calls: dict[str, int] = {}
        for a in report["subagents"]:
            for tool, n in a["tool_calls"].items():
                sub_calls[tool] = sub_calls.get(tool, 0) + n
        main_calls = {t: n - sub_calls.get(t, 0) for t, n in report["tool_calls"].items()
                      if n - sub_calls.get(t, 0) > 0}
        lines += _tool_lines(main_calls, report["loop_attempts"])
        for a in report["subagents"]:
            lines.append(f"  Subagent {a['agent_type'] or 'agent'} ({a['agent_id'][:12]})")
            lines += _tool_lines(a["tool_calls"], a["loop_attempts"])
    fast = (f"triggered ({report['fast_tier_count']}×)" if report["fast_tier_triggered"] else "not triggered")
    roi = report["roi"]
    tail = [("Fast tier", fast),
            ("ROI score", f"{roi['score']:.1f} / 10 (value {_n(roi['value_tokens'])} tokens-worth, "
                          f"{_n(t['total'])} tokens used)"),
            ("Assessment", ", ".join(report["assessment"]))]
    if report.get("category"):
        c = report["category"]
        tail.append(("Category", f"{c['category']} (token-roi roi's rules, without git)"))
        tail += [("", f"· {reason}") for reason in c["reasons"]]
    b = report["budgets"]
    budgets = []
    if b["session_budget_usd"]:
        budgets.append(f"session {_usd(b['session_budget_usd'])}")
    if b["daily_budget_usd"]:
        budgets.append(f"daily {_usd(b['daily_budget_usd'])}")
    if budgets:
        tail.append(("Budgets", " · ".join(budgets) + f" (alert at {b['alert_threshold_percent']:g}%"
                     + (", hard cap on)" if b["hard_cap"] else ")")))
    s = report["spend"]
    if s:
        unpriced = s.get("today_unpriced_calls", 0) + s.get("month_unpriced_calls", 0)
        tail.append(("Spend", f"today {_usd(s['today_usd'])} · this month {_usd(s['month_usd'])} (ledger, all agents"
                     + (", some calls unpriced)" if unpriced else ")")))
    else:
        tail.append(("Spend", "ledger unavailable"))
    width = max(width, max(len(k) for k, _ in tail))
    lines += [f"  {k:<{width}}  {v}" for k, v in tail]
    return "\n".join(lines)
