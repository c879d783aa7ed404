"""The human tables of the usage reports (JSON is in shapes.py)."""

from __future__ import annotations

import datetime as dt
import re

from .blocks import Block, burn_rate, projection
from .query import Group, SessionGroup, Usage, totals
from .table import Column, Row, fmt_compact, fmt_int, fmt_money, int_column, render

PERIOD_TITLE = {"daily": "Date", "weekly": "Week of", "monthly": "Month"}
_DATE_SUFFIX = re.compile(r"-\d{8}$")


def short_model(name: str) -> str:
    """claude-sonnet-4-5-20250929 -> sonnet-4-5 (the table's Models column is narrow)."""
    name = _DATE_SUFFIX.sub("", name)
    return name[len("claude-"):] if name.startswith("claude-") else name


def cost_cell(u: Usage) -> str:
    """$1.23, with '*' when some calls have no price (then the figure is a lower bound), and
    'n/a*' when none has: an unknown price is never shown as $0."""
    if u.fully_unpriced:
        return "n/a*"
    return fmt_money(u.cost) + ("*" if u.unpriced_calls else "")


def unpriced_footnote(t: Group) -> str | None:
    models = t.unpriced_models
    if not models:
        return None
    noun = "model" if len(models) == 1 else "models"
    return f"* includes unpriced {noun} {', '.join(models)}: tokens counted, cost unknown"


def local_time(ms: int | None, tz: dt.tzinfo) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def _usage_columns() -> list[Column]:
    return [
        Column("Models", "left", drop=2, shrink=True, min_width=16),
        int_column("Input", drop=3),
        int_column("Output", drop=3),
        int_column("Cache Write", drop=4),
        int_column("Cache Read", drop=4),
        int_column("Total Tokens"),
        Column("Cost", "right"),
    ]


def _usage_values(u: Usage, models: str) -> list:
    return [models, u.input_tokens, u.output_with_reasoning, u.cache_creation_tokens,
            u.cache_read_tokens, u.total_tokens, cost_cell(u)]


def _models_text(g: Group) -> str:
    return ", ".join(short_model(m) for m in g.models_used)


def _breakdown_rows(g: Group, lead: int) -> list[Row]:
    rows = []
    for model in sorted(g.models, key=lambda m: (-g.models[m].cost, m)):
        rows.append(Row([""] * lead + _usage_values(g.models[model], "└ " + short_model(model)), "dim"))
    return rows


def _finish(table: str, totals: Group) -> str:
    note = unpriced_footnote(totals)
    return table + ("\n" + note if note else "")


def period_table(period: str, groups: list[Group], totals: Group, *, breakdown: bool = False,
                 width: int = 100, color: bool = False, show_agents: bool = False) -> str:
    cols = [Column(PERIOD_TITLE[period], "left")]
    if show_agents:
        cols.append(Column("Agents", "left", drop=6, optional=True))
    cols += _usage_columns()
    lead = len(cols) - 7
    rows: list[Row] = []
    for g in groups:
        head = [g.key] + ([", ".join(g.agents)] if show_agents else [])
        rows.append(Row(head + _usage_values(g, _models_text(g)), "warn" if g.unpriced_calls else ""))
        if breakdown:
            rows.extend(_breakdown_rows(g, lead))
    total = Row(["Total"] + ([""] if show_agents else []) + _usage_values(totals, ""), "bold")
    return _finish(render(cols, rows, totals=total, width=width, color=color), totals)


def session_table(sessions: list[SessionGroup], totals: Group, tz: dt.tzinfo, *, breakdown: bool = False,
                  width: int = 100, color: bool = False, show_agents: bool = False) -> str:
    cols = [Column("Project", "left", shrink=True, min_width=12), Column("Session", "left", drop=2)]
    if show_agents:
        cols.append(Column("Agent", "left", drop=6, optional=True))
    cols += _usage_columns() + [Column("Last Activity", "left", drop=1)]
    lead = len(cols) - 8
    rows: list[Row] = []
    for s in sessions:
        head = [_short_project(s.project), s.session_id[:8]] + ([s.agent] if show_agents else [])
        rows.append(Row(head + _usage_values(s, _models_text(s)) + [local_time(s.last_ts, tz)],
                        "warn" if s.unpriced_calls else ""))
        if breakdown:
            rows.extend(Row([*r.values, ""], r.style) for r in _breakdown_rows(s, lead))
    total = Row(["Total", ""] + ([""] if show_agents else []) + _usage_values(totals, "") + [""], "bold")
    return _finish(render(cols, rows, totals=total, width=width, color=color), totals)


def _short_project(path: str | None) -> str:
    """The last two path parts: enough to tell projects apart in a narrow column."""
    if not path:
        return "(unknown)"
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return "/".join(parts[-2:]) if parts else path


def _duration(ms: int) -> str:
    minutes = max(0, round(ms / 60000))
    if minutes >= 48 * 60:
        return f"{minutes // 1440}d {minutes % 1440 // 60}h"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def blocks_table(blocks: list[Block], tz: dt.tzinfo, now_ms: int, *, breakdown: bool = False,
                 width: int = 100, color: bool = False) -> str:
    cols = [Column("Block Start", "left"), Column("Status", "left"),
            Column("Models", "left", drop=2, shrink=True, min_width=10),
            int_column("Tokens"), Column("Cost", "right"), int_column("Calls", drop=1)]
    rows: list[Row] = []
    notes: list[str] = []
    for b in blocks:
        if b.is_gap:
            gap = f"gap {_duration(b.end_ms - b.start_ms)}"
            rows.append(Row([local_time(b.start_ms, tz), gap, "", "", "", ""], "dim"))
            continue
        if b.is_active:
            status = f"ACTIVE {_duration(now_ms - b.start_ms)} in, {_duration(b.end_ms - now_ms)} left"
        else:
            status = _duration((b.last_ts or b.start_ms) - b.start_ms)
        rows.append(Row([local_time(b.start_ms, tz), status, _models_text(b), b.total_tokens, cost_cell(b), b.calls],
                        "bold" if b.is_active else ("warn" if b.unpriced_calls else "")))
        if breakdown:
            for model in sorted(b.models, key=lambda m: (-b.models[m].cost, m)):
                u = b.models[model]
                rows.append(Row(["", "", "└ " + short_model(model), u.total_tokens, cost_cell(u), u.calls], "dim"))
        if b.is_active:
            proj = projection(b, now_ms)
            rate = burn_rate(b)
            if proj is not None:
                rows.append(Row(["", "PROJECTED", "(current burn rate)", proj.total_tokens,
                                 fmt_money(proj.total_cost) + ("*" if b.unpriced_calls else ""), ""], "warn"))
            if rate is not None:
                notes.append(f"Active block burn rate: {fmt_int(round(rate.tokens_per_minute))} tokens/min "
                             f"({fmt_compact(round(rate.tokens_per_minute * 60))}/h), "
                             f"{fmt_money(rate.cost_per_hour)}/h; "
                             f"ends {local_time(b.end_ms, tz)}")
            else:
                notes.append("Active block: one moment of activity so far, no burn rate yet; "
                             f"ends {local_time(b.end_ms, tz)}")
    real = [b for b in blocks if not b.is_gap]
    t = totals(real)
    total = Row(["Total", f"{len(real)} blocks", "", t.total_tokens, cost_cell(t), t.calls], "bold")
    out = render(cols, rows, totals=total, width=width, color=color)
    for n in notes:
        out += "\n" + n
    return _finish(out, t)
