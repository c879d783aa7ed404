"""`token-roi watch`: a live terminal view -- the active 5-hour block and its burn rate, the plan
windows with their pace, and the current Claude Code session -- redrawn every few seconds until
Ctrl-C. New usage is ingested every --ingest-every seconds; alerts are checked then too."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from ..guard import state as guard_state
from ..guard.messages import money, summary
from ..guard.quota import WINDOW_LABEL, duration
from ..limits import report as limits_report
from ..limits import today as limits_today
from ..reports.blocks import burn_rate, projection, usage_blocks
from ..reports.query import Filters
from ..reports.table import fmt_compact, fmt_money, terminal_width, use_color
from ..store import Store
from .common import UserError, system_timezone

CLEAR = "\x1b[H\x1b[2J"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--interval", type=float, default=5.0, metavar="SECONDS", help="redraw every SECONDS (default 5)")
    p.add_argument("--ingest-every", type=float, default=30.0, metavar="SECONDS",
                   help="read new agent usage every SECONDS (default 30)")
    p.add_argument("--once", action="store_true", help="draw one frame and exit (no screen clearing)")


def block_lines(store: Store, now: float) -> list[str]:
    now_ms = int(now * 1000)
    blocks = usage_blocks(store, Filters(), system_timezone(), now_ms=now_ms)
    active = next((b for b in reversed(blocks) if b.is_active), None)
    if active is None:
        return ["Block: no active 5-hour block (no usage in the last 5 hours)"]
    unpriced = f" (+{active.unpriced_calls} unpriced calls)" if active.unpriced_calls else ""
    lines = [f"Block: started {time.strftime('%H:%M', time.localtime(active.start_ms / 1000))}, "
             f"{duration((active.end_ms - now_ms) / 1000)} left; {fmt_compact(active.total_tokens)} tokens, "
             f"{fmt_money(active.cost)}{unpriced}"]
    rate = burn_rate(active)
    proj = projection(active, now_ms)
    if rate is not None:
        ahead = f"; projected {fmt_money(proj.total_cost)} by the block's end" if proj else ""
        lines.append(f"Burn:  {fmt_compact(round(rate.tokens_per_minute))} tokens/min, "
                     f"{fmt_money(rate.cost_per_hour)}/h{ahead}")
    return lines


def limit_lines(store: Store, now: float) -> list[str]:
    found = limits_report.collect(store, now, history_days=1)
    if not found.windows:
        return ["Limits: no official figures yet (token-roi setup claude --statusline; Codex writes them itself)"]
    lines = []
    for v in found.windows:
        used = "—" if v.used_percentage is None else f"{v.used_percentage:.0f}%"
        text = f"Limits: {v.agent} {WINDOW_LABEL.get(v.window, v.window)} {used} ({v.source}"
        text += ", stale)" if v.stale and v.source == "official" else ")"
        if v.resets_at:
            text += f", resets in {duration(v.resets_at - now)}"
        if v.pace:
            text += f", pace {v.pace.projected_at_reset:.0f}% at reset"
            if v.pace.exhausts_at:
                text += f", runs out in {duration(v.pace.exhausts_at - now)}"
        lines.append(text)
    return lines


def session_lines() -> list[str]:
    state = guard_state.latest_state()
    if state is None:
        return ["Session: no Claude Code session seen by the guard"]
    return [f"Session: {state['session_id'][:8]}… {money(state)}; {summary(state)}"]


def frame(store: Store, now: float) -> str:
    head = f"token-roi watch — {time.strftime('%H:%M:%S', time.localtime(now))} (Ctrl-C to stop)"
    return "\n".join([head, "", *block_lines(store, now), "", *limit_lines(store, now), "", *session_lines()])


def _ingest(store: Store) -> None:
    from ..ingest import refresh
    from ..limits import alerts
    refresh(store, show_progress=False)
    limits_today.write_today(store)
    alerts.check(store)


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or args.ingest_every <= 0:
        raise UserError("--interval and --ingest-every take a positive number of seconds")
    # SIGTERM ends the view as Ctrl-C does (the terminal gets its cursor back).
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    store = Store()
    out = sys.stdout
    live = not args.once and out.isatty()
    colour = use_color()
    try:
        if live:
            out.write(HIDE_CURSOR)
        last_ingest = 0.0
        while True:
            now = time.time()
            if now - last_ingest >= args.ingest_every:
                _ingest(store)
                last_ingest = now
            text = frame(store, now)
            width = terminal_width()
            text = "\n".join(line[:width] for line in text.splitlines())
            if colour:
                text = text.replace("token-roi watch", "\x1b[1;36mtoken-roi watch\x1b[0m", 1)
            out.write((CLEAR if live else "") + text + "\n")
            out.flush()
            if args.once:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    finally:
        if live:
            out.write(SHOW_CURSOR + "\n")
            out.flush()
        store.close()
