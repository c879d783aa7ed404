"""5-hour billing windows, the way ccusage (and Anthropic's session limits) cut them.

A block starts at its first call floored to the whole UTC hour and lasts `hours`. A call more
than `hours` after the block's start, or more than `hours` after the previous call, opens a new
block; a pause longer than `hours` between calls is shown as a gap (from the last call +
`hours` to the next call). The block that `now` lies in (its end in the future and its last call
less than `hours` ago) is active: it gets a burn rate and a projection to its end.

Calls are read as per-minute sums (query.usage_by_minute), which decides every boundary exactly:
window ends are whole hours, and a minute bucket never straddles one.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from .query import Filters, Group, Usage, usage_by_minute

HOUR_MS = 3_600_000


@dataclass
class Block(Group):
    start_ms: int = 0
    end_ms: int = 0
    is_gap: bool = False
    is_active: bool = False


@dataclass
class BurnRate:
    tokens_per_minute: float            # all tokens, cache included
    tokens_per_minute_indicator: float  # input + output only (ccusage's indicator figure)
    cost_per_hour: float


@dataclass
class Projection:
    total_tokens: int                   # at the block's end if the burn rate holds
    total_cost: float
    remaining_minutes: int


def burn_rate(block: Block) -> BurnRate | None:
    """Rate between the block's first and last call (ccusage's definition); None when the block
    has a single instant of activity."""
    if block.is_gap or not block.calls or block.first_ts is None or block.last_ts is None:
        return None
    minutes = (block.last_ts - block.first_ts) / 60000
    if minutes <= 0:
        return None
    return BurnRate(block.total_tokens / minutes,
                    (block.input_tokens + block.output_with_reasoning) / minutes,
                    block.cost / minutes * 60)


def projection(block: Block, now_ms: int) -> Projection | None:
    """Tokens and cost at the active block's end if the current burn rate holds."""
    if not block.is_active or block.is_gap:
        return None
    rate = burn_rate(block)
    if rate is None:
        return None
    remaining = max(0.0, (block.end_ms - now_ms) / 60000)
    return Projection(round(block.total_tokens + rate.tokens_per_minute * remaining),
                      round(block.cost + rate.cost_per_hour / 60 * remaining, 2),
                      round(remaining))


def _new_block(first_ts: int, length_ms: int) -> Block:
    start = first_ts - first_ts % HOUR_MS
    return Block(key=iso_ms(start), start_ms=start, end_ms=start + length_ms)


def _gap(last_ts: int, next_ts: int, length_ms: int) -> Block:
    start = last_ts + length_ms
    return Block(key="gap-" + iso_ms(start), start_ms=start, end_ms=next_ts, is_gap=True)


def usage_blocks(store, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc, *,
                 now_ms: int | None = None, hours: float = 5) -> list[Block]:
    """Every block (gaps included), oldest first. `now_ms` decides which block is active
    (default: the current time)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    length = int(hours * HOUR_MS)
    out: list[Block] = []
    cur: Block | None = None

    def close(b: Block) -> None:
        b.is_active = now_ms - (b.last_ts or b.start_ms) < length and now_ms < b.end_ms
        out.append(b)

    def take(minute_rows: list) -> None:
        nonlocal cur
        first = min(u.first_ts for _, _, u in minute_rows)
        if cur is None:
            cur = _new_block(first, length)
        elif first - cur.start_ms > length or first - cur.last_ts > length:
            last = cur.last_ts
            close(cur)
            if first - last > length:
                out.append(_gap(last, first, length))
            cur = _new_block(first, length)
        for agent, model, u in minute_rows:
            cur.add_part(model, agent, u)

    pending: list = []
    pending_minute = None
    for minute, agent, model, u in usage_by_minute(store, filters, tz):
        if minute != pending_minute and pending:
            take(pending)
            pending = []
        pending_minute = minute
        pending.append((agent, model, u))
    if pending:
        take(pending)
    if cur is not None:
        close(cur)
    return out


def iso_ms(ms: int) -> str:
    """JavaScript's toISOString(): UTC with milliseconds, as ccusage writes times."""
    d = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
