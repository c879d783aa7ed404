"""The `--team` usage reports' JSON and tables: the local reports' shapes (reports/shapes.py,
reports/text.py) with a `member` field and column. The command that runs them is
cli/team_cmd.py's run_report."""

from __future__ import annotations

import sys

from ..reports import shapes, text
from ..reports.blocks import Block
from ..reports.query import Group, SessionGroup
from ..reports.table import Column, Row, render
from .queries import MemberBlock, MemberGroup, MemberSession


def empty_note(empty: bool, as_json: bool) -> int:
    if empty:
        print("No team usage matches these filters (pushed with `token-roi team sync`).",
              file=sys.stderr if as_json else sys.stdout)
    return 0


def members_of(rows) -> list[str]:
    return sorted({r.member for r in rows})


def period_json(period: str, groups: list[MemberGroup], total: Group) -> dict:
    key = shapes.PERIOD_KEY[period]
    return {period: [{key: g.key, "member": g.member, **shapes.usage_row(g)} for g in groups],
            "totals": {**shapes.totals_row(total), "members": members_of(groups)}}


def session_json(found: list[MemberSession], total: Group) -> dict:
    out = shapes.session_json(list[SessionGroup](found), total)
    for row, s in zip(out["sessions"], found):
        row["member"] = s.member
    out["totals"]["members"] = members_of(found)
    return out


def period_table(period: str, groups: list[MemberGroup], total: Group, *, breakdown: bool, width: int,
                 color: bool) -> str:
    cols = [Column(text.PERIOD_TITLE[period], "left"), Column("Member", "left"),
            Column("Agents", "left", drop=6, optional=True), *text._usage_columns()]
    rows: list[Row] = []
    for g in groups:
        rows.append(Row([g.key, g.member, ", ".join(g.agents), *text._usage_values(g, text._models_text(g))],
                        "warn" if g.unpriced_calls else ""))
        if breakdown:
            rows.extend(text._breakdown_rows(g, 3))
    foot = Row(["Total", f"{len(members_of(groups))} members", "", *text._usage_values(total, "")], "bold")
    return text._finish(render(cols, rows, totals=foot, width=width, color=color), total)


def session_table(found: list[MemberSession], total: Group, tz, *, breakdown: bool, width: int, color: bool) -> str:
    cols = [Column("Member", "left"), Column("Project", "left", shrink=True, min_width=12),
            Column("Session", "left", drop=2), Column("Agent", "left", drop=6, optional=True),
            *text._usage_columns(), Column("Last Activity", "left", drop=1)]
    rows: list[Row] = []
    for s in found:
        rows.append(Row([s.member, text._short_project(s.project), s.session_id[:8], s.agent,
                         *text._usage_values(s, text._models_text(s)), text.local_time(s.last_ts, tz)],
                        "warn" if s.unpriced_calls else ""))
        if breakdown:
            rows.extend(Row([*r.values, ""], r.style) for r in text._breakdown_rows(s, 4))
    foot = Row(["Total", "", "", "", *text._usage_values(total, ""), ""], "bold")
    return text._finish(render(cols, rows, totals=foot, width=width, color=color), total)


def blocks_tables(found: list[MemberBlock], tz, now_ms: int, *, breakdown: bool, width: int, color: bool) -> str:
    """One blocks table per member (each member's windows are their own), under its name."""
    out = []
    for member in members_of(found):
        mine: list[Block] = [b for b in found if b.member == member]
        out.append(f"Member: {member}\n" + text.blocks_table(mine, tz, now_ms, breakdown=breakdown, width=width,
                                                             color=color))
    return "\n\n".join(out)
