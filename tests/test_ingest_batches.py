"""Ingest commits sources in batches: still exact, and a crash between batches loses nothing."""

from __future__ import annotations

import pytest

from token_roi import ingest as ingest_mod
from token_roi.sample import generate_claude_tree
from token_roi.store import Store


def _totals(store: Store) -> tuple:
    return store.db.execute(
        "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_5m_tokens), sum(cache_write_1h_tokens) FROM calls WHERE agent = 'claude'").fetchone()


def _truth(tree) -> tuple:
    e = tree.expected
    return (e.calls, e.input, e.output, e.cache_read, e.cache_write_5m, e.cache_write_1h)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    t = generate_claude_tree(tmp_path / "claude", total_bytes=3_000_000, seed=11, huge_results=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    assert t.files > 8
    return t


def test_small_batches_count_exactly_and_keep_every_cursor(tree, monkeypatch):
    monkeypatch.setattr(ingest_mod, "BATCH_SOURCES", 3)
    store = Store()
    stats = ingest_mod.ingest(store, ["claude"], show_progress=False)
    assert stats.sources_read == tree.files
    assert _totals(store) == _truth(tree)
    assert len(store.cursors("claude")) == tree.files
    again = ingest_mod.ingest(store, ["claude"], show_progress=False)
    # nothing new (a file ending in a half-written line is looked at again, but yields nothing)
    assert again.bytes_read == 0 and again.rows == 0 and _totals(store) == _truth(tree)


def test_a_crash_between_batches_loses_and_doubles_nothing(tree, monkeypatch):
    monkeypatch.setattr(ingest_mod, "BATCH_SOURCES", 2)
    store = Store()
    real_upsert = Store.upsert_calls
    calls = {"n": 0}

    def dying_upsert(self, rows):
        calls["n"] += 1
        if calls["n"] == 5:                  # the third batch dies mid-transaction
            raise KeyboardInterrupt
        return real_upsert(self, rows)

    monkeypatch.setattr(Store, "upsert_calls", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        ingest_mod.ingest(store, ["claude"], show_progress=False)
    # the two committed batches: rows and cursors of exactly four sources, nothing of the third
    assert len(store.cursors("claude")) == 4
    monkeypatch.setattr(Store, "upsert_calls", real_upsert)
    ingest_mod.ingest(store, ["claude"], show_progress=False)
    assert len(store.cursors("claude")) == tree.files
    assert _totals(store) == _truth(tree)
