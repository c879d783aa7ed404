"""ccusage-compatible JSON (field names and nesting of ccusage 20.0.24, recorded in
docs/ccusage-json.md), plus a few fields of our own that ccusage does not have.

Money follows ccusage: a model with no price contributes 0 to `totalCost` and is flagged
(`missingPricing: true` on its breakdown, listed in `unpricedModels`), never silently; its own
breakdown's `cost` is null (unknown), not 0.
"""

from __future__ import annotations

from .blocks import Block, burn_rate, iso_ms, projection
from .query import Group, SessionGroup, Usage

PERIOD_KEY = {"daily": "date", "weekly": "week", "monthly": "month"}


def _counters(u: Usage) -> dict:
    return {
        "inputTokens": u.input_tokens,
        "outputTokens": u.output_with_reasoning,
        "cacheCreationTokens": u.cache_creation_tokens,
        "cacheReadTokens": u.cache_read_tokens,
    }


def _ours(u: Usage) -> dict:
    return {
        "cacheCreation5mTokens": u.cache_write_5m_tokens,
        "cacheCreation1hTokens": u.cache_write_1h_tokens,
        "reasoningTokens": u.reasoning_tokens,
        "calls": u.calls,
        "unpricedTokens": u.unpriced_tokens,
    }


def model_breakdowns(g: Group) -> list[dict]:
    """Per-model rows, costliest first (ccusage's order)."""
    order = {m: i for i, m in enumerate(g.models_used)}
    out = []
    for model in sorted(g.models, key=lambda m: (-g.models[m].cost, order[m])):
        u = g.models[model]
        # (a model with no price at all: its cost is unknown, null, never a silent 0.0)
        row = {"modelName": model, **_counters(u), "cost": None if u.fully_unpriced else u.cost}
        if u.unpriced_calls:
            row["missingPricing"] = True
        row["totalTokens"] = u.total_tokens
        row.update(_ours(u))
        out.append(row)
    return out


def usage_row(g: Group) -> dict:
    return {
        **_counters(g),
        "totalTokens": g.total_tokens,
        "totalCost": g.cost,
        "modelsUsed": g.models_used,
        "modelBreakdowns": model_breakdowns(g),
        **_ours(g),
        "agents": list(g.agents),
        "unpricedModels": g.unpriced_models,
    }


def totals_row(t: Group) -> dict:
    return {**_counters(t), "totalTokens": t.total_tokens, "totalCost": t.cost, **_ours(t),
            "agents": list(t.agents), "unpricedModels": t.unpriced_models}


def period_json(period: str, groups: list[Group], totals: Group) -> dict:
    """{"daily"|"weekly"|"monthly": [{"date"|"week"|"month": key, ...}], "totals": {...}}"""
    key = PERIOD_KEY[period]
    return {period: [{key: g.key, **usage_row(g)} for g in groups], "totals": totals_row(totals)}


def session_json(sessions: list[SessionGroup], totals: Group) -> dict:
    rows = []
    for s in sessions:
        rows.append({
            "sessionId": s.session_id,
            "projectPath": s.project or "",
            "firstActivity": iso_ms(s.first_ts) if s.first_ts is not None else None,
            "lastActivity": iso_ms(s.last_ts) if s.last_ts is not None else None,
            **usage_row(s),
            "agent": s.agent,
        })
    return {"sessions": rows, "totals": totals_row(totals)}


def block_json(b: Block, now_ms: int) -> dict:
    rate = burn_rate(b) if b.is_active else None
    proj = projection(b, now_ms)
    return {
        "id": b.key,
        "startTime": iso_ms(b.start_ms),
        "endTime": iso_ms(b.end_ms),
        "actualEndTime": iso_ms(b.last_ts) if (b.last_ts is not None and not b.is_gap) else None,
        "isActive": b.is_active,
        "isGap": b.is_gap,
        "entries": b.calls,
        "tokenCounts": {
            "inputTokens": b.input_tokens,
            "outputTokens": b.output_with_reasoning,
            "cacheCreationInputTokens": b.cache_creation_tokens,
            "cacheReadInputTokens": b.cache_read_tokens,
        },
        "totalTokens": b.total_tokens,
        "costUSD": b.cost,
        "models": b.models_used,
        "burnRate": None if rate is None else {
            "tokensPerMinute": rate.tokens_per_minute,
            "tokensPerMinuteForIndicator": rate.tokens_per_minute_indicator,
            "costPerHour": rate.cost_per_hour,
        },
        "projection": None if proj is None else {
            "totalTokens": proj.total_tokens,
            "totalCost": proj.total_cost,
            "remainingMinutes": proj.remaining_minutes,
        },
        **_ours(b),
        "agents": list(b.agents),
        "unpricedModels": b.unpriced_models,
        "modelBreakdowns": model_breakdowns(b),
    }


def blocks_json(blocks: list[Block], now_ms: int) -> dict:
    return {"blocks": [block_json(b, now_ms) for b in blocks]}
