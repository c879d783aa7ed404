"""What `token-roi limits`, `watch` and the dashboard's Limits page show: the windows with their
pace, the attribution of each current window, and the history of the official figures."""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass

from ..guard.quota import WINDOW_LABEL, WINDOW_SECONDS, duration
from ..reports.table import Column, Row, render
from ..store import Store
from . import snapshots
from .attribution import Attribution, attribute
from .windows import WindowView, views

HISTORY_DAYS = 7
METHOD = ("Use and reset times are the official figures (Claude Code's status line, Codex rollouts). "
          "Pace (use at reset if the recent burn holds) and attribution are estimates: attribution "
          "calibrates points per dollar of ledger usage from the window's snapshots (docs/limits.md).")


@dataclass
class LimitsReport:
    now: float
    windows: list[WindowView]
    attribution: list[Attribution]
    history: list[snapshots.Snapshot]

    def to_json(self) -> dict:
        out_windows = []
        for v in self.windows:
            d = v.to_dict()
            d["resets_in_seconds"] = int(v.resets_at - self.now) if v.resets_at else None
            out_windows.append(d)
        return {
            "generated_at": int(self.now),
            "method": METHOD,
            "windows": out_windows,
            "attribution": [a.to_dict() for a in self.attribution],
            "history": [s.to_dict() for s in reversed(self.history)],   # latest first
        }


def collect(store: Store, now: float | None = None, *, history_days: int = HISTORY_DAYS) -> LimitsReport:
    now = time.time() if now is None else now
    windows = views(store.db, now)
    found = []
    for v in windows:
        if v.source != "official":
            continue
        snaps = snapshots.history(store.db, agent=v.agent, window=v.window,
                                  since=int(now) - WINDOW_SECONDS.get(v.window, 7 * 86400) - 60)
        a = attribute(store.db, snaps, now)
        if a is not None:
            found.append(a)
    history = snapshots.history(store.db, since=int(now) - history_days * 86400)
    return LimitsReport(now, windows, found, history)


def _ago(seconds: float) -> str:
    return "now" if seconds < 60 else duration(seconds) + " ago"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def windows_table(report: LimitsReport, *, width: int, colour: bool) -> str:
    now = report.now
    columns = [Column("Agent", "left"), Column("Window", "left"), Column("Used"), Column("Resets in"),
               Column("Pace at reset", drop=2), Column("Runs out", drop=3), Column("Figure", "left", drop=1),
               Column("Seen", drop=4)]
    rows = []
    for v in report.windows:
        pace = v.pace
        runs_out = "—"
        if pace and pace.exhausts_at:
            runs_out = "in " + duration(pace.exhausts_at - now)
        figure = v.source + (" (stale)" if v.stale and v.source == "official" else "")
        style = ""
        if v.used_percentage is not None and (v.used_percentage >= 90 or (pace and pace.projected_at_reset >= 100)):
            style = "warn"
        if v.stale:
            style = "dim"
        rows.append(Row([v.agent, WINDOW_LABEL.get(v.window, v.window), _pct(v.used_percentage),
                         duration(v.resets_at - now) if v.resets_at else "—",
                         f"{pace.projected_at_reset:.0f}% ({pace.burn_per_hour:g}/h)" if pace else "—",
                         runs_out, figure, _ago(now - v.last_seen_at) if v.last_seen_at else "—"], style))
    return render(columns, rows, width=width, color=colour)


def attribution_text(a: Attribution, *, width: int, colour: bool, top: int = 5) -> str:
    label = WINDOW_LABEL.get(a.window, a.window)
    lines = [textwrap.fill(f"What used the {a.agent} {label} window ({a.used_percentage:g}% used) — estimate, "
                           f"{a.method}: {a.note}.", width)]
    if a.unpriced_calls:
        lines.append(textwrap.fill(f"({a.unpriced_calls} calls of unpriced models in this window are not counted)",
                                   width, initial_indent="  ", subsequent_indent="  "))
    if a.explained_points is not None and a.method == "calibrated":
        lines.append(textwrap.fill(f"The ledger explains {a.explained_points:g} points; unexplained "
                                   f"{a.unexplained_points:g} (use before the first snapshot, other devices, "
                                   f"claude.ai).", width, initial_indent="  ", subsequent_indent="  "))
    for name, shares in a.groups.items():
        if not shares:
            continue
        columns = [Column(name.capitalize(), "left", shrink=True, min_width=12), Column("Cost"),
                   Column("Points"), Column("Range")]
        rows = [[s.key, f"${s.cost_usd:,.2f}", f"{s.points:.1f}", f"{s.low:.1f}–{s.high:.1f}"] for s in shares[:top]]
        lines.append("")
        lines.append(render(columns, rows, width=width, color=colour))
    return "\n".join(lines)


def text(report: LimitsReport, *, width: int, colour: bool, history: bool = False) -> str:
    if not report.windows:
        return ("No plan-limit figures yet. Claude Code reports them to its status line on Pro/Max plans "
                "(`token-roi setup claude --statusline`); Codex writes them into its rollouts.")
    parts = [windows_table(report, width=width, colour=colour)]
    for a in report.attribution:
        parts.append(attribution_text(a, width=width, colour=colour))
    if history:
        columns = [Column("Captured", "left"), Column("Agent", "left"), Column("Window", "left"),
                   Column("Used"), Column("Resets", "left"), Column("Source", "left")]
        rows = [[time.strftime("%Y-%m-%d %H:%M", time.localtime(s.captured_at)), s.agent,
                 WINDOW_LABEL.get(s.window, s.window), f"{s.used_percentage:g}%",
                 time.strftime("%m-%d %H:%M", time.localtime(s.resets_at)) if s.resets_at else "—", s.source]
                for s in reversed(report.history)]
        parts.append(render(columns, rows, width=width, color=colour, title="History (latest first)"))
    else:
        n = len(report.history)
        parts.append(f"{n} change{'' if n == 1 else 's'} of the official figures in the last {HISTORY_DAYS} days "
                     f"(--history lists them).")
    parts.append(textwrap.fill(METHOD, width))
    return "\n\n".join(parts)
