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
    real_upsert = Store.upsert_values
    calls = {"n": 0}

    def dying_upsert(self, rows):
        calls["n"] += 1
        if calls["n"] == 3:                  # the third batch dies mid-transaction
            raise KeyboardInterrupt
        return real_upsert(self, rows)

    monkeypatch.setattr(Store, "upsert_values", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        ingest_mod.ingest(store, ["claude"], show_progress=False)
    # the two committed batches: rows and cursors of exactly four sources, nothing of the third
    assert len(store.cursors("claude")) == 4
    monkeypatch.setattr(Store, "upsert_values", real_upsert)
    ingest_mod.ingest(store, ["claude"], show_progress=False)
    assert len(store.cursors("claude")) == tree.files
    assert _totals(store) == _truth(tree)


def _indexes(store: Store) -> list:
    return store.db.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                            "AND tbl_name = 'calls' ORDER BY name").fetchall()


def _calls(store: Store) -> list:
    return store.db.execute("SELECT * FROM calls ORDER BY agent, dedupe_key").fetchall()


def test_a_first_ingest_loads_in_bulk_and_lands_what_a_batched_one_does(tree, tmp_path, monkeypatch):
    from token_roi.store import Store as S
    batched, bulk = S(tmp_path / "batched.sqlite3"), S(tmp_path / "bulk.sqlite3")
    indexes = _indexes(bulk)
    assert {n for n, _ in indexes} >= set(S.BULK_INDEXES)
    ingest_mod.refresh(batched, ["claude"], show_progress=False)       # 3 MB: not worth a bulk load
    assert not ingest_mod._doubles_the_ledger(batched, [])
    seen_inside = []
    real_reprice = __import__("token_roi.pricing", fromlist=["reprice"]).reprice

    def reprice(store):
        seen_inside.append((store.db.in_transaction, {n for n, _ in _indexes(store)}))
        return real_reprice(store)

    monkeypatch.setattr("token_roi.pricing.apply.reprice", reprice)
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)      # as if these 3 MB were gigabytes
    ingest_mod.refresh(bulk, ["claude"], show_progress=False)
    # priced inside the one transaction, before the dropped indexes came back (but the index of
    # unpriced rows, back first to find what is left without a scan) ...
    assert seen_inside[0][0] is True and seen_inside[0][1] & set(S.BULK_INDEXES) == {"calls_unpriced"}
    # ... and after it, the same indexes, rows (costs included) and cursors as the batched load
    assert _indexes(bulk) == indexes
    strip = lambda rows: [r[:21] + r[22:] for r in rows]                # all but ingested_at
    assert strip(_calls(bulk)) == strip(_calls(batched)) and _totals(bulk) == _truth(tree)
    assert bulk.db.execute("SELECT count(*) FROM calls WHERE price_version IS NULL").fetchone() == (0,)
    assert len(bulk.cursors("claude")) == tree.files
    # the quarter-hour sums were built at the end (the triggers that keep them were away)
    buckets = "SELECT * FROM call_buckets ORDER BY bucket, agent, model"
    assert batched.refresh_buckets() and bulk.db.execute("SELECT count(*) FROM call_buckets_dirty").fetchone() == (0,)
    assert bulk.db.execute(buckets).fetchall() == batched.db.execute(buckets).fetchall() != []


def test_a_crash_inside_a_bulk_load_leaves_the_ledger_as_it_was(tree, tmp_path, monkeypatch):
    store = Store(tmp_path / "l.sqlite3")
    indexes = _indexes(store)
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)
    monkeypatch.setattr(ingest_mod, "BATCH_SOURCES", 2)
    real_upsert = Store.upsert_values
    calls = {"n": 0}

    def dying_upsert(self, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_upsert(self, rows)

    monkeypatch.setattr(Store, "upsert_values", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        ingest_mod.refresh(store, ["claude"], show_progress=False)
    # one transaction: no row, no cursor, and every index still there
    assert store.count_calls() == 0 and store.cursors() == {} and _indexes(store) == indexes
    monkeypatch.setattr(Store, "upsert_values", real_upsert)
    ingest_mod.refresh(store, ["claude"], show_progress=False)
    assert _totals(store) == _truth(tree) and _indexes(store) == indexes


def test_a_bad_price_file_does_not_throw_away_a_bulk_load(tree, tmp_path, monkeypatch):
    from token_roi import pricing
    from token_roi.pricing import apply  # noqa: F401  (pricing.apply below)
    store = Store(tmp_path / "l.sqlite3")
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)

    def bad(store):
        raise pricing.PricingError("prices.yaml: line 3: rates must be numbers")

    monkeypatch.setattr(pricing.apply, "reprice", bad)
    with pytest.raises(pricing.PricingError):
        ingest_mod.refresh(store, ["claude"], show_progress=False)
    assert _totals(store) == _truth(tree) and len(store.cursors("claude")) == tree.files


def test_transactions_nest_into_the_outer_one(tmp_path):
    store = Store(tmp_path / "l.sqlite3")
    with pytest.raises(RuntimeError):
        with store.transaction():
            with store.transaction():
                store.set_meta("k", "inner")
            assert store.db.in_transaction                  # the inner one did not commit
            raise RuntimeError
    assert store.get_meta("k") is None                      # rolled back with the outer one


def _line(mid: str, session: str, out: int, model: str = "claude-sonnet-4-6", minute: int = 0) -> str:
    import json
    return json.dumps({
        "parentUuid": None, "isSidechain": False, "cwd": "/home/u/p", "sessionId": session, "type": "assistant",
        "message": {"model": model, "id": mid, "type": "message", "role": "assistant", "content": [],
                    "stop_reason": "end_turn", "usage": {"input_tokens": 10, "cache_creation_input_tokens": 0,
                                                         "cache_read_input_tokens": 200000 + out,
                                                         "output_tokens": out}},
        "requestId": "req_" + mid, "uuid": "u" + mid, "timestamp": f"2026-10-01T10:{minute:02d}:00.000Z"},
        separators=(",", ":")) + "\n"


def test_a_bulk_load_prices_what_a_serial_read_prices(tmp_path, monkeypatch):
    # Each file its own batch: msg_a's better copy (a later file) replaces a row of an earlier
    # batch, and a model no price table knows stays unpriced: both must end as a serial read.
    from token_roi import pricing
    from token_roi.pricing import apply  # noqa: F401  (pricing.apply below)
    root = tmp_path / "cfg"
    proj = root / "projects" / "-home-u-p"
    proj.mkdir(parents=True)
    (proj / "s1.jsonl").write_text(_line("msg_a", "s1", 3) + _line("msg_b", "s1", 50, minute=1))
    (proj / "s2.jsonl").write_text(_line("msg_a", "s2", 900) + _line("msg_c", "s2", 7, "claude-nimbus-5-20261001"))
    (proj / "s3.jsonl").write_text("".join(_line(f"msg_d{i}", "s3", i, "claude-opus-4-6", i) for i in range(1, 40)))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    monkeypatch.setattr(ingest_mod, "BATCH_SOURCES", 1)
    serial = Store(tmp_path / "serial.sqlite3")
    ingest_mod.refresh(serial, ["claude"], show_progress=False)           # small: no bulk load
    cache_after_serial = pricing.apply.cached_models()
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1000)                # as if it were gigabytes: a bulk load
    bulk = Store(tmp_path / "bulk.sqlite3")
    ingest_mod.refresh(bulk, ["claude"], show_progress=False)
    strip = lambda rows: [r[:21] + r[22:] for r in rows]                   # all but ingested_at
    assert strip(_calls(bulk)) == strip(_calls(serial))
    rows = {r[2]: r for r in _calls(bulk)}                                  # (id, agent, dedupe_key, ...)
    assert rows["msg_a"][8] == 900 and rows["msg_a"][18] is not None       # the better copy, priced
    assert rows["msg_c"][19] == "unpriced" and rows["msg_c"][18] is None
    assert bulk.get_meta("pricing.version") == serial.get_meta("pricing.version") is not None
    assert pricing.apply.cached_models() == cache_after_serial


def _source_triggers(store: Store) -> list:
    return store.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                            "AND tbl_name = 'sources' ORDER BY name").fetchall()


def test_a_bulk_load_renews_the_source_marks_its_dropped_triggers_would_have(tree, tmp_path, monkeypatch):
    from token_roi.store import Cursor
    store = Store(tmp_path / "l.sqlite3")
    triggers = _source_triggers(store)
    assert {n for n, _ in triggers} == set(Store.BULK_SOURCE_TRIGGERS)
    store.put_cursor(Cursor("claude", "/elsewhere/gone.jsonl", 10, 10, 1, 2, None, {}))
    store.put_cursor(Cursor("codex", "/elsewhere/x.jsonl", 10, 10, 1, 3, None, {}))
    before = store.source_marks()
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)
    seen = []
    real_put = Store.put_cursors

    def put_cursors(self, cursors):
        seen.append({n for n, _ in _source_triggers(self)})
        return real_put(self, cursors)

    monkeypatch.setattr(Store, "put_cursors", put_cursors)
    ingest_mod.refresh(store, ["claude"], show_progress=False)
    assert seen and seen[0] == set()               # written without the triggers ...
    assert _source_triggers(store) == triggers     # ... which are back after
    after = store.source_marks()
    # every agent's mark is new (codex's needlessly: it only costs a walk), and none is lost
    assert after.keys() == before.keys() == {"claude", "codex"}
    assert all(after[a] != before[a] and len(after[a]) == 8 for a in after)
    assert len(store.cursors("claude")) == tree.files + 1


def test_a_crash_between_a_bulk_load_and_its_sums_leaves_every_quarter_hour_dirty(tree, tmp_path, monkeypatch):
    # The rows commit with every quarter hour marked dirty; the sums follow in a second
    # transaction. Dying between the two leaves a ledger any writer brings up to date.
    clean = Store(tmp_path / "clean.sqlite3")
    store = Store(tmp_path / "l.sqlite3")
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)
    ingest_mod.refresh(clean, ["claude"], show_progress=False)
    real = Store.refresh_buckets

    def dying(self, everything=False):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "refresh_buckets", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest_mod.refresh(store, ["claude"], show_progress=False)
    monkeypatch.setattr(Store, "refresh_buckets", real)
    other = Store(tmp_path / "l.sqlite3")            # (another process's view of it)
    assert _totals(other) == _truth(tree) and len(other.cursors("claude")) == tree.files
    dirty = {r[0] for r in other.db.execute("SELECT bucket FROM call_buckets_dirty")}
    assert dirty == {r[0] for r in other.db.execute("SELECT DISTINCT ts / 900000 FROM calls")} != set()
    assert other.refresh_buckets()
    buckets = "SELECT * FROM call_buckets ORDER BY bucket, agent, model"
    got, want = other.db.execute(buckets).fetchall(), clean.db.execute(buckets).fetchall()
    assert [r[:9] + r[10:] for r in got] == [r[:9] + r[10:] for r in want]      # tokens, counts, times
    assert [r[9] for r in got] == pytest.approx([r[9] for r in want])          # cost (summed in another order)


def test_a_bulk_load_leaves_nothing_in_the_log_for_the_next_writer_to_copy(tree, tmp_path, monkeypatch):
    import threading
    threads = threading.active_count()
    store = Store(tmp_path / "l.sqlite3")
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)
    ingest_mod.refresh(store, ["claude"], show_progress=False)
    assert store.db.execute("SELECT count(*) FROM call_buckets_dirty").fetchone() == (0,)
    assert threading.active_count() == threads                # (done within refresh: no thread left)
    written, copied = _log_frames(tmp_path / "l.sqlite3")
    assert written == copied > 0                              # every page of both transactions was copied
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone() == (256,)      # (put back: 4 MB of 16 KB pages)


def test_the_bulk_decision_stats_only_as_many_files_as_it_needs(monkeypatch):
    import random
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1000)
    monkeypatch.setattr(ingest_mod, "ROW_BYTES", 10)

    class Sized:
        def __init__(self):
            self.asked = 0

        def size_hint(self, source, cursor):
            self.asked += 1
            return source

    class Ledger:
        def __init__(self, calls):
            self.calls, self.counted = calls, 0

        def count_calls(self):
            self.counted += 1
            return self.calls

    rng = random.Random(5)
    for _ in range(500):
        sizes = [rng.choice((0, 1, 50, 200, 700)) for _ in range(rng.randrange(0, 30))]
        ledger, adapter = Ledger(rng.choice((0, 10, 50, 100, 150, 400, 1000))), Sized()
        todo = [ingest_mod.Job(adapter, size, None, True) for size in sizes]
        total = sum(sizes)
        want = total >= 1000 and ledger.calls * 10 <= total            # what it decides: as before
        assert ingest_mod._doubles_the_ledger(ledger, todo) is want
        assert ledger.counted == (total >= 1000)                        # the ledger counted only past 1000 bytes
        if want:                                                        # ... and no file stat'ed past the answer
            assert sum(sizes[:adapter.asked - 1]) < max(1000, ledger.calls * 10) <= sum(sizes[:adapter.asked])


def test_a_bulk_load_into_a_ledger_priced_under_another_table_prices_the_old_rows_again(tree, tmp_path, monkeypatch):
    # Only a load into an empty ledger may take the stale rows to be the unpriced ones.
    from token_roi import pricing
    from token_roi.rows import UsageRow
    store = Store(tmp_path / "l.sqlite3")
    with store.transaction():
        store.upsert_calls([UsageRow("claude", "old-1", 1777859421000, model="claude-sonnet-4-5-20250929",
                                     input_tokens=1000, output_tokens=100)])
    pricing.reprice(store)
    with store.transaction():                                     # as if priced under another table
        store.db.execute("UPDATE calls SET cost = 123.0, price_version = 'older'")
        store.set_meta("pricing.version", "older")
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)
    ingest_mod.refresh(store, ["claude"], show_progress=False)
    version = pricing.current_version()
    assert store.db.execute("SELECT DISTINCT price_version FROM calls").fetchall() == [(version,)]
    cost = store.db.execute("SELECT cost FROM calls WHERE dedupe_key = 'old-1'").fetchone()[0]
    assert cost == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
    fresh = Store(tmp_path / "fresh.sqlite3")
    ingest_mod.refresh(fresh, ["claude"], show_progress=False)
    assert fresh.db.execute("SELECT DISTINCT price_version FROM calls").fetchall() == [(version,)]


def test_a_new_ledger_has_16_kb_pages_and_an_old_one_keeps_its_own(tmp_path):
    import sqlite3
    new = Store(tmp_path / "new.sqlite3")
    assert new.db.execute("PRAGMA page_size").fetchone() == (16384,)
    assert new.db.execute("PRAGMA wal_autocheckpoint").fetchone() == (256,)          # still ~4 MB of log
    old = sqlite3.connect(tmp_path / "old.sqlite3")                                   # as SQLite makes them
    old.execute("CREATE TABLE t (x)")
    old.close()
    kept = Store(tmp_path / "old.sqlite3")
    assert kept.db.execute("PRAGMA page_size").fetchone() == (4096,)
    assert kept.db.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    assert kept.count_calls() == 0 and kept.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _log_frames(path) -> tuple[int, int]:
    """(frames in the write-ahead log, frames of it already copied into the ledger), read from
    the wal-index header in the -shm file (SQLite's file format: mxFrame at byte 16, nBackfill at
    byte 96, native byte order), without running a checkpoint that would copy them itself."""
    import sys
    with open(f"{path}-shm", "rb") as f:
        head = f.read(136)
    return int.from_bytes(head[16:20], sys.byteorder), int.from_bytes(head[96:100], sys.byteorder)


def _team_log_triggers(store: Store) -> list:
    return store.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                            "AND name LIKE 'team_log_%' ORDER BY name").fetchall()


def _bulk_refresh_watching_team_triggers(store: Store, monkeypatch) -> list[set[str]]:
    """A first ingest as one bulk load; the team log's triggers present at each batch's write."""
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 1_000_000)
    seen: list[set[str]] = []
    real_put = Store.put_cursors

    def put_cursors(self, cursors):
        seen.append({n for n, _ in _team_log_triggers(self)})
        return real_put(self, cursors)

    monkeypatch.setattr(Store, "put_cursors", put_cursors)
    ingest_mod.refresh(store, ["claude"], show_progress=False)
    return seen


def test_a_bulk_load_without_a_team_drops_the_idle_team_log_triggers_and_puts_them_back(tree, tmp_path, monkeypatch):
    from token_roi.store.migrations import TEAM_LOG_TRIGGERS
    store = Store(tmp_path / "l.sqlite3")
    triggers = _team_log_triggers(store)
    assert {n for n, _ in triggers} == set(TEAM_LOG_TRIGGERS)
    seen = _bulk_refresh_watching_team_triggers(store, monkeypatch)
    assert seen and seen[0] == set()                     # written without them (they would log nothing) ...
    assert _team_log_triggers(store) == triggers         # ... and they are back after
    assert store.db.execute("SELECT count(*) FROM team_log").fetchone()[0] == 0
    assert _totals(store) == _truth(tree)
    # once a team sync switches the log on, the triggers log what is written next
    store.set_meta("team.log", "1")
    store.db.execute("UPDATE calls SET input_tokens = input_tokens WHERE id = (SELECT min(id) FROM calls)")
    assert store.db.execute("SELECT count(*) FROM team_log").fetchone()[0] == 1


def test_a_bulk_load_with_the_team_log_on_logs_every_row(tree, tmp_path, monkeypatch):
    from token_roi.store.migrations import TEAM_LOG_TRIGGERS
    store = Store(tmp_path / "l.sqlite3")
    store.set_meta("team.log", "1")                      # (a team sync has switched it on)
    seen = _bulk_refresh_watching_team_triggers(store, monkeypatch)
    assert seen and seen[0] == set(TEAM_LOG_TRIGGERS)    # kept: every row written is logged
    logged, calls = store.db.execute(
        "SELECT (SELECT count(DISTINCT call_id) FROM team_log), (SELECT count(*) FROM calls)").fetchone()
    assert logged == calls == tree.expected.calls
