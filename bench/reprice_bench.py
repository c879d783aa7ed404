"""Time pricing.reprice() on N synthetic calls (default 1,000,000) in a scratch ledger.

    python bench/reprice_bench.py [N]

Rows spread over two years and 15 models (Claude with and without long-context tiers and price
periods, OpenAI, Gemini, DeepSeek's off-peak window, '<synthetic>' and an unknown model). Times:
cold (every row unpriced), warm (nothing to do), 5,000 new calls, and after editing prices.yaml
(every row again).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

home = tempfile.mkdtemp(prefix="bench-reprice-")
os.environ["TOKEN_ROI_HOME"] = home

from token_roi import pricing  # noqa: E402
from token_roi.rows import UsageRow  # noqa: E402
from token_roi.store import Store  # noqa: E402

MODELS = {
    "claude-sonnet-4-5-20250929": 30, "claude-sonnet-4-6": 25, "claude-opus-4-6": 10,
    "claude-opus-4-5-20251101": 8, "claude-haiku-4-5-20251001": 10, "claude-opus-4-1-20250805": 2,
    "<synthetic>": 1, "gpt-5": 4, "gpt-5-codex": 3, "gemini-2.5-pro": 2, "gemini-2.5-flash": 2,
    "acme-coder-9": 1, "claude-sonnet-4-20250514": 1, "o3": 0.5, "deepseek-chat": 0.5,
}


def rows(n: int, rnd: random.Random):
    names, weights = list(MODELS), list(MODELS.values())
    start, span = 1_735_689_600_000, 700 * 86_400_000          # 2025-01-01, ~2 years
    for i in range(n):
        yield UsageRow(agent="claude", dedupe_key=f"msg_{i:09d}", ts=start + rnd.randrange(span),
                       session_id=f"s{i // 400}", project="/home/u/proj", model=rnd.choices(names, weights)[0],
                       input_tokens=rnd.choice((1, 3, 8, 2000)), output_tokens=rnd.randrange(1, 4000),
                       cache_read_tokens=rnd.randrange(0, 250_000), cache_write_5m_tokens=rnd.choice((0, 0, 500, 4000)),
                       cache_write_1h_tokens=rnd.choice((0, 0, 800, 12000)))


def vars_of(row: UsageRow) -> dict:
    return {f: getattr(row, f) for f in UsageRow.__slots__}


def timed(label: str, store: Store) -> None:
    t, cpu = time.perf_counter(), time.process_time()
    n = pricing.reprice(store)
    print(f"{label:<45} {n:>9,} rows {time.perf_counter() - t:7.2f} s wall {time.process_time() - cpu:6.2f} s cpu",
          flush=True)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    store = Store()
    t = time.perf_counter()
    with store.transaction():
        store.upsert_calls(rows(n, random.Random(7)))
    print(f"{'insert (setup, not timed below)':<45} {n:>9,} rows {time.perf_counter() - t:7.2f} s", flush=True)
    timed("reprice cold (every row unpriced)", store)
    timed("reprice warm (nothing new)", store)
    with store.transaction():
        store.upsert_calls(UsageRow(**{**vars_of(r), "dedupe_key": "new_" + r.dedupe_key})
                           for r in rows(5_000, random.Random(8)))
    timed("reprice after a session (5,000 new calls)", store)
    (Path(home) / "prices.yaml").write_text("claude-sonnet-4-5: {input: 2.5, output: 12}\n")
    timed("reprice after editing prices.yaml (all rows)", store)
    for source, count, usd in store.db.execute(
            "SELECT price_source, count(*), sum(cost) FROM calls GROUP BY 1 ORDER BY 1"):
        print(f"  {source:<13} {count:>9,} calls  " + (f"${usd:,.2f}" if usd is not None else "cost unknown"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
