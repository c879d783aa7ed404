"""5-hour billing windows, the way ccusage (and Anthropic's session limits) cut them.

A block starts at its first call floored to the whole UTC hour and lasts `hours`. A call more
than `hours` after the block's start, or more than `hours` after the previous call, opens a new
block; a pause longer than `hours` between calls is shown as a gap (from the last call +
`hours` to the next call). The block that `now` lies in (its end in the future and its last call
less than `hours` ago) is active: it gets a burn rate and a projection to its end.

Boundaries come from a few index lookups per block (block_spans) and the sums from one grouped
query in quarter hours, so the report never walks single calls in Python; both are exact.
"""

from __future__ import annotations

import datetime as dt
import time
from bisect import bisect_right
from dataclasses import dataclass

from .query import BUCKET_MS, UNKNOWN_MODEL, Filters, Group, bucket_rows, first_call_ts, merge_sums, usage_from_sums

HOUR_MS = 3_600_000


class Block(Group):
    __slots__ = ("start_ms", "end_ms", "is_gap", "is_active")

    def __init__(self, *args, start_ms: int = 0, end_ms: int = 0, is_gap: bool = False,
                 is_active: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.is_gap = is_gap
        self.is_active = is_active


@dataclass
class BurnRate:
    tokens_per_minute: float               # all tokens, cache included
    tokens_per_minute_indicator: float     # input + output only (ccusage's indicator figure)
    cost_per_hour: float


@dataclass
class Projection:
    total_tokens: int                      # at the block's end if the burn rate holds
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


def block_spans(store, filters: Filters, tz: dt.tzinfo, length_ms: int) -> list[tuple[int, int, int, int]]:
    """(start, end, first call, last call) of every block, found with two index lookups per
    block. A pause longer than the block length cannot fall inside one window (no two calls in a
    window are further apart than its length), so a block is exactly the calls from its first
    call to its end, and the next block starts at the first call after that end."""
    spans: list[tuple[int, int, int, int]] = []
    first = first_call_ts(store, filters, tz)
    while first is not None:
        start = first - first % HOUR_MS
        end = start + length_ms
        last = first_call_ts(store, filters, tz, after=first - 1, before=end, last=True)
        spans.append((start, end, first, first if last is None else last))
        first = first_call_ts(store, filters, tz, after=end)
    return spans


def usage_blocks(store, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc, *,
                 now_ms: int | None = None, hours: float = 5) -> list[Block]:
    """Every block (gaps included), oldest first. `now_ms` decides which block is active
    (default: the current time). `hours` must be a whole number of quarter hours."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    length = round(hours * HOUR_MS)
    if length <= 0 or length % BUCKET_MS:
        raise ValueError(f"block length {hours:g} h is not a positive multiple of 15 minutes")
    spans = block_spans(store, filters, tz, length)
    if not spans:
        return []
    blocks = [Block(key=iso_ms(start), start_ms=start, end_ms=end) for start, end, _, _ in spans]
    firsts = [first for _, _, first, _ in spans]
    # Sums per quarter hour, closed at the top like the blocks' ends: each quarter lies wholly in
    # one block (block ends are whole quarters), found by its first call.
    acc: dict[tuple, list] = {}
    for r in bucket_rows(store, filters, tz, bucket_ms=BUCKET_MS, upper_closed=True):
        merge_sums(acc, (bisect_right(firsts, r[13]) - 1, r[1], r[2] or UNKNOWN_MODEL), r, 3)   # r[13]: MIN(ts)
    for (i, agent, model), v in acc.items():
        blocks[i].add_part(model, agent, usage_from_sums(v, 0))
    out: list[Block] = []
    for i, b in enumerate(blocks):
        previous = blocks[i - 1].last_ts if i else None      # (the last call of the block before)
        if previous is not None and firsts[i] - previous > length:
            out.append(Block(key="gap-" + iso_ms(previous + length),
                             start_ms=previous + length, end_ms=firsts[i], is_gap=True))
        b.is_active = b.last_ts is not None and now_ms - b.last_ts < length and now_ms < b.end_ms
        out.append(b)
    return out


def iso_ms(ms: int) -> str:
    """JavaScript's toISOString(): UTC with milliseconds, as ccusage writes times."""
    d = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
