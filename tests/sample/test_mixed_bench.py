"""The mixed benchmark's Codex generator (bench/mixed_bench.py): its ground truth is what the
codex adapter books from the tree it writes, traps included (re-emitted totals, resumes whose
total goes down, thread_spawn replays of the parent, archived copies)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ledger_sums import summer

from token_roi.ingest import ingest
from token_roi.store import Store

BENCH = Path(__file__).resolve().parents[2] / "bench"
sums = summer("codex", "input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")


def _bench():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("mixed_bench", BENCH / "mixed_bench.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_codex_generator_truth_equals_what_the_adapter_books(tmp_path, monkeypatch):
    tree = _bench().generate_codex_tree(tmp_path / "codex", total_bytes=1_500_000, seed=8)
    # The traps are there, or the comparison proves nothing.
    assert tree["reemits"] > 0 and tree["resumes"] > 0
    assert tree["subagent_files"] > 0 and tree["archived_copies"] > 0
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    store = Store()
    stats = ingest(store, agents=["codex"], show_progress=False)
    assert stats.bad_lines == 0
    t = tree["truth"]
    # Rows keep cached input out of input and reasoning out of output; Codex counts them inside.
    assert sums(store) == (tree["calls"], (t["input"] - t["cached"], t["cached"],
                                           t["output"] - t["reasoning"], t["reasoning"]))
    by_day = dict((d, n) for d, n in store.db.execute(
        "SELECT date(ts / 1000, 'unixepoch'), sum(input_tokens + cache_read_tokens) FROM calls "
        "WHERE agent = 'codex' GROUP BY 1"))
    assert by_day == {d: v["input"] for d, v in tree["truth_by_day"].items()}
    # Summing every last_token_usage books the re-emissions and the replays again.
    assert tree["naive_last_sum"]["sessions"]["input"] > 1.2 * t["input"]
