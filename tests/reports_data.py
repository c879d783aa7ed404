"""Ledger rows for the report tests, inserted directly (no adapter or pricing involved)."""

from __future__ import annotations

import datetime as dt

from token_roi.rows import UsageRow
from token_roi.store import Store


def ms(iso: str) -> int:
    """'2026-03-10T02:30:00Z' (or with .fff) -> epoch milliseconds."""
    return int(round(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000))


_n = [0]


def call(ts: str, *, agent="claude", session="sess-1", project="/home/u/proj", model="claude-sonnet-4-5",
         inp=0, out=0, reasoning=0, cr=0, cw5=0, cw1=0, cost: float | None = 0.0, key=None) -> tuple:
    _n[0] += 1
    row = UsageRow(agent=agent, dedupe_key=key or f"k{_n[0]}", ts=ms(ts), session_id=session, project=project,
                   model=model, input_tokens=inp, output_tokens=out, reasoning_tokens=reasoning,
                   cache_read_tokens=cr, cache_write_5m_tokens=cw5, cache_write_1h_tokens=cw1)
    return row, cost


def make_store(calls: list[tuple], path=None) -> Store:
    """A ledger holding `calls` (from call()); cost None = unpriced, as pricing leaves it."""
    store = Store(path)
    with store.transaction():
        store.upsert_calls([r for r, _ in calls])
        for r, cost in calls:
            store.db.execute(
                "UPDATE calls SET cost = ?, price_source = ?, price_version = 'test' "
                "WHERE agent = ? AND dedupe_key = ?",
                (cost, "unpriced" if cost is None else "genai-prices", r.agent, r.dedupe_key))
    return store
