"""Store.summed: a report's grouping over the quarter-hour sums is kept until the sums change,
and never served for sums it was not computed from."""

from __future__ import annotations

import sqlite3
import time
from zoneinfo import ZoneInfo

from reports_data import call, make_store

from token_roi.reports import query
from token_roi.reports.query import Filters


def _store(tmp_path):
    return make_store([
        call("2026-03-09T23:50:00Z", inp=1, out=10, cost=0.5),
        call("2026-03-10T08:00:00Z", inp=2, out=20, cost=1.25, model="claude-opus-4-1"),
        call("2026-03-10T09:30:00Z", inp=3, out=30, cost=None, agent="codex", model="gpt-5"),
    ], tmp_path / "ledger.sqlite3")


def _daily(store, tz="Europe/Berlin"):
    return [(g.key, g.output_tokens, round(g.cost, 6))
            for g in query.usage_by_period(store, "daily", Filters(), ZoneInfo(tz))]


def _groupings(store):
    """The GROUP BY queries over call_buckets the store runs while `fn` runs."""
    seen: list[str] = []

    def note(sql: str) -> None:
        if "FROM call_buckets" in sql and "GROUP BY" in sql and "sums_cache" not in sql:
            seen.append(sql)

    store.db.set_trace_callback(note)
    return seen


def test_asking_again_reads_the_kept_answer(tmp_path):
    store = _store(tmp_path)
    first = _daily(store)
    assert first == [("2026-03-10", 60, 1.75)]            # Berlin: 23:50Z on the 9th is the 10th
    seen = _groupings(store)
    assert _daily(store) == first and seen == []
    assert _daily(store, "UTC") == [("2026-03-09", 10, 0.5), ("2026-03-10", 50, 1.25)]
    assert len(seen) == 1                                  # another zone: another question


def test_new_calls_and_new_prices_are_never_answered_from_the_old_sums(tmp_path):
    store = _store(tmp_path)
    assert _daily(store) == [("2026-03-10", 60, 1.75)]
    row, _ = call("2026-03-11T12:00:00Z", inp=1, out=7)
    with store.transaction():
        store.upsert_calls([row])
    assert _daily(store) == [("2026-03-10", 60, 1.75), ("2026-03-11", 7, 0.0)]
    with store.transaction():
        store.db.execute("UPDATE calls SET cost = 2.0 WHERE output_tokens = 7")
    assert _daily(store) == [("2026-03-10", 60, 1.75), ("2026-03-11", 7, 2.0)]
    # and the table holds the answers of the current sums only
    marks = {r[0] for r in store.db.execute("SELECT mark FROM sums_cache")}
    assert marks == {store.db.execute("SELECT value FROM meta WHERE key = 'sums_mark'").fetchone()[0]}


def test_an_answer_computed_while_the_sums_changed_is_not_kept(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    store = _store(tmp_path)
    store.refresh_buckets()
    other = sqlite3.connect(path, isolation_level=None)

    class Racing:
        """The store's connection, with another process re-summing right after the grouping ran."""
        def __init__(self, db):
            self.db = db

        def execute(self, sql, *args):
            cur = self.db.execute(sql, *args)
            if "FROM call_buckets" in sql and "GROUP BY" in sql and "sums_cache" not in sql:
                rows = cur.fetchall()
                other.execute("UPDATE meta SET value = 'renewed' WHERE key = 'sums_mark'")
                return iter_cursor(rows)
            return cur

        def __getattr__(self, name):
            return getattr(self.db, name)

    class iter_cursor(list):
        def fetchall(self):
            return list(self)

    real = store.db
    store.db = Racing(real)
    try:
        # (WAL: the read transaction still sees the old mark; the other connection's write lands)
        _daily(store)
    finally:
        store.db = real
    kept = store.db.execute("SELECT mark FROM sums_cache").fetchall()
    assert kept == [], "rows computed from the old sums were kept under the new mark"
    other.close()


def test_a_busy_ledger_answers_at_once_without_keeping(tmp_path):
    store = _store(tmp_path)
    store.refresh_buckets()
    other = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")          # another process writing (a long first ingest)
    try:
        t = time.monotonic()
        assert _daily(store) == [("2026-03-10", 60, 1.75)]
        assert time.monotonic() - t < 2, "waited for the writer just to keep an answer"
        assert store.db.execute("SELECT COUNT(*) FROM sums_cache").fetchone()[0] == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _daily(store) == [("2026-03-10", 60, 1.75)]
    assert store.db.execute("SELECT COUNT(*) FROM sums_cache").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
