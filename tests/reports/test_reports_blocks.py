"""5-hour blocks: boundaries, gaps, the active block's burn rate and projection (fixed `now`)."""

from __future__ import annotations

import datetime as dt

import pytest
from reports_data import call, make_store, ms

from token_roi.reports.blocks import burn_rate, iso_ms, projection, usage_blocks
from token_roi.reports.query import Filters
from token_roi.reports.shapes import blocks_json

UTC = dt.timezone.utc


@pytest.fixture
def day():
    return make_store([
        call("2026-05-04T10:20:00Z", inp=1, cost=0.01),
        call("2026-05-04T12:00:00Z", inp=2, cost=0.02),
        call("2026-05-04T15:00:00.000Z", inp=4, cost=0.04),   # exactly start + 5 h: still block 1
        call("2026-05-04T15:00:00.001Z", inp=8, cost=0.08),   # 1 ms later: a new block at 15:00
        # 21:30 is more than 5 h after 15:00:00.001: a gap from 20:00:00.001 to 21:30
        call("2026-05-04T21:30:00Z", inp=500, out=500, cost=0.50, model="claude-opus-4-5"),
        call("2026-05-04T22:30:00Z", inp=1000, cr=1000, cost=1.00),
    ])


def test_block_boundaries_and_gaps(day):
    blocks = usage_blocks(day, Filters(), UTC, now_ms=ms("2026-05-10T00:00:00Z"))
    assert [(b.key, b.is_gap, b.calls, b.input_tokens) for b in blocks] == [
        ("2026-05-04T10:00:00.000Z", False, 3, 7),
        ("2026-05-04T15:00:00.000Z", False, 1, 8),
        ("gap-2026-05-04T20:00:00.001Z", True, 0, 0),
        ("2026-05-04T21:00:00.000Z", False, 2, 1500),
    ]
    assert blocks[0].end_ms == ms("2026-05-04T15:00:00Z")
    assert (blocks[2].start_ms, blocks[2].end_ms) == (ms("2026-05-04T20:00:00.001Z"), ms("2026-05-04T21:30:00Z"))
    assert not any(b.is_active for b in blocks)
    assert burn_rate(blocks[0]) is not None and projection(blocks[0], ms("2026-05-10T00:00:00Z")) is None


def test_active_block_burn_rate_and_projection(day):
    now = ms("2026-05-04T23:10:00Z")
    blocks = usage_blocks(day, Filters(), UTC, now_ms=now)
    active = blocks[-1]
    assert active.is_active and not any(b.is_active for b in blocks[:-1])
    # 3,000 tokens and $1.50 between 21:30 and 22:30 (60 minutes)
    rate = burn_rate(active)
    assert rate.tokens_per_minute == pytest.approx(50.0)
    assert rate.tokens_per_minute_indicator == pytest.approx(2000 / 60)
    assert rate.cost_per_hour == pytest.approx(1.5)
    # 170 minutes left until 02:00: 3,000 + 50 x 170 tokens, $1.50 + $1.50/60 x 170
    p = projection(active, now)
    assert (p.total_tokens, p.total_cost, p.remaining_minutes) == (11500, 5.75, 170)
    j = blocks_json(blocks, now)["blocks"][-1]
    assert j["isActive"] is True and j["burnRate"]["costPerHour"] == pytest.approx(1.5)
    assert j["projection"] == {"totalTokens": 11500, "totalCost": 5.75, "remainingMinutes": 170}
    assert j["endTime"] == "2026-05-05T02:00:00.000Z" and j["actualEndTime"] == "2026-05-04T22:30:00.000Z"
    assert j["models"] == ["claude-opus-4-5", "claude-sonnet-4-5"]
    assert j["tokenCounts"] == {"inputTokens": 1500, "outputTokens": 500,
                                "cacheCreationInputTokens": 0, "cacheReadInputTokens": 1000}


def test_block_is_not_active_after_five_quiet_hours_or_past_its_end(day):
    # 03:31Z: block end (02:00) passed
    assert not usage_blocks(day, Filters(), UTC, now_ms=ms("2026-05-05T03:31:00Z"))[-1].is_active
    # at 01:59Z the block still runs and the last call was 3.5 h ago: active
    assert usage_blocks(day, Filters(), UTC, now_ms=ms("2026-05-05T01:59:00Z"))[-1].is_active


def test_single_call_block_has_no_burn_rate():
    store = make_store([call("2026-05-04T10:20:00Z", inp=5, cost=0.1)])
    now = ms("2026-05-04T11:00:00Z")
    (b,) = usage_blocks(store, Filters(), UTC, now_ms=now)
    assert b.is_active and burn_rate(b) is None and projection(b, now) is None
    j = blocks_json([b], now)["blocks"][0]
    assert j["burnRate"] is None and j["projection"] is None


def test_a_new_block_after_five_hours_without_a_gap():
    # calls every 2 hours: the block from 08:00 ends at 13:00, the 14:00 call opens a block; no gap
    store = make_store([call(f"2026-05-04T{h:02d}:30:00Z", inp=1) for h in (8, 10, 12, 14, 16)])
    blocks = usage_blocks(store, Filters(), UTC, now_ms=ms("2026-06-01T00:00:00Z"))
    assert [(iso_ms(b.start_ms), b.calls, b.is_gap) for b in blocks] == [
        ("2026-05-04T08:00:00.000Z", 3, False), ("2026-05-04T14:00:00.000Z", 2, False)]


def test_gap_rule_uses_the_earliest_call_of_a_minute():
    # Last call 10:00:30. The next minute holds 15:00:40 (model a, 5 h 0 m 10 s later: a gap if
    # taken alone) and 15:00:10 (model b, 4 h 59 m 40 s later: no gap). The earlier call decides:
    # a new block (more than 5 h after the 10:00 start) and no gap.
    store = make_store([call("2026-05-04T10:00:30Z", inp=1),
                        call("2026-05-04T15:00:40Z", model="a", inp=2),
                        call("2026-05-04T15:00:10Z", model="b", inp=4)])
    blocks = usage_blocks(store, Filters(), UTC, now_ms=ms("2026-06-01T00:00:00Z"))
    assert [(b.key, b.is_gap, b.input_tokens) for b in blocks] == [
        ("2026-05-04T10:00:00.000Z", False, 1), ("2026-05-04T15:00:00.000Z", False, 6)]
    assert blocks[1].models_used == ["b", "a"]
    # 20 seconds more and the pause exceeds 5 h: a gap from 15:00:30 to 15:00:31.
    store2 = make_store([call("2026-05-04T10:00:30Z", inp=1), call("2026-05-04T15:00:31Z", inp=2)],
                        path=store.path.with_name("second.sqlite3"))
    blocks = usage_blocks(store2, Filters(), UTC, now_ms=ms("2026-06-01T00:00:00Z"))
    assert [(b.key, b.is_gap) for b in blocks] == [
        ("2026-05-04T10:00:00.000Z", False), ("gap-2026-05-04T15:00:30.000Z", True),
        ("2026-05-04T15:00:00.000Z", False)]


def test_blocks_respect_filters(day):
    blocks = usage_blocks(day, Filters(since=dt.date(2026, 5, 5)), UTC, now_ms=ms("2026-06-01T00:00:00Z"))
    assert blocks == []


def ccusage_blocks(times: list[int], length: int = 5 * 3_600_000):
    """ccusage's identifySessionBlocks, call by call: [(id, first, last, n)] with gaps as ('gap-..', start, end, 0)."""
    out, start, entries = [], None, []

    def flush():
        out.append((iso_ms(start), entries[0], entries[-1], len(entries)))

    for t in sorted(times):
        if start is None:
            start, entries = t - t % 3_600_000, [t]
        elif t - start > length or t - entries[-1] > length:
            flush()
            if t - entries[-1] > length:
                out.append((f"gap-{iso_ms(entries[-1] + length)}", entries[-1] + length, t, 0))
            start, entries = t - t % 3_600_000, [t]
        else:
            entries.append(t)
    if entries:
        flush()
    return out


@pytest.mark.parametrize("seed", range(6))
def test_blocks_agree_with_a_call_by_call_reference(seed):
    import random
    rnd = random.Random(seed)
    t = ms("2026-05-01T00:00:00Z")
    calls, times = [], []
    for _ in range(300):
        # mostly short pauses, some long ones, some calls exactly on whole hours or a block end
        r = rnd.random()
        t += (rnd.randint(1, 90_000) if r < 0.7 else rnd.randint(1, 7 * 3_600_000) if r < 0.95
              else 3_600_000 - t % 3_600_000)
        times.append(t)
        calls.append(call(iso_ms(t), inp=1, model=rnd.choice(["a", "b"])))
    store = make_store(calls)
    got = usage_blocks(store, Filters(), UTC, now_ms=ms("2030-01-01T00:00:00Z"))
    mine = [(b.key, b.start_ms if b.is_gap else b.first_ts, b.end_ms if b.is_gap else b.last_ts, b.calls)
            for b in got]
    assert mine == ccusage_blocks(times)
    assert sum(b.input_tokens for b in got) == 300
