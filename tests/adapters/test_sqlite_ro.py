"""Other agents' SQLite stores: read-only, retried while locked, failures as OSError."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from token_roi.adapters import sqlite_ro


def make_db(path, wal=False):
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x INTEGER, y TEXT)")
    db.execute("INSERT INTO t VALUES (1, 'a')")
    db.commit()
    return db


def test_reads_rows_by_name_and_never_writes(tmp_path):
    path = tmp_path / "odd name #1?.db"          # URI metacharacters in the path
    make_db(path).close()
    rows = sqlite_ro.query(path, "SELECT x, y FROM t")
    assert [(r["x"], r["y"]) for r in rows] == [(1, "a")]
    assert sqlite_ro.columns(path, "t") == {"x", "y"}
    assert sqlite_ro.columns(path, "missing") == set()
    with pytest.raises(sqlite_ro.SqliteReadError):
        sqlite_ro.query(path, "INSERT INTO t VALUES (2, 'b')")
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone()[0] == 1


def test_retries_until_the_agent_releases_its_lock(tmp_path, monkeypatch):
    path = tmp_path / "agent.db"
    make_db(path).close()
    monkeypatch.setattr(sqlite_ro, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(sqlite_ro, "WAIT_S", 0.05)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO t VALUES (2, 'b')")
    release = threading.Timer(0.2, lambda: writer.execute("COMMIT"))
    release.start()
    try:
        rows = sqlite_ro.query(path, "SELECT x FROM t ORDER BY x", attempts=8)
    finally:
        release.join()
    assert [r["x"] for r in rows] == [1, 2]


def test_lock_held_too_long_is_an_oserror_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "agent.db"
    make_db(path).close()
    monkeypatch.setattr(sqlite_ro, "BUSY_TIMEOUT_MS", 10)
    monkeypatch.setattr(sqlite_ro, "WAIT_S", 0.01)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OSError) as info:
            sqlite_ro.query(path, "SELECT x FROM t", attempts=2)
    finally:
        writer.execute("ROLLBACK")
    assert info.value.filename == str(path)
    assert "locked" in info.value.strerror


def test_not_a_database_and_missing_file(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(OSError, match="not a readable database"):
        sqlite_ro.query(bad, "SELECT 1 FROM t")
    with pytest.raises(FileNotFoundError):
        sqlite_ro.query(tmp_path / "absent.db", "SELECT 1")
    assert not (tmp_path / "absent.db").exists()


def test_signature_sees_rows_still_in_the_wal_file(tmp_path):
    path = tmp_path / "wal.db"
    db = make_db(path, wal=True)
    before = sqlite_ro.signature(path)
    db.execute("INSERT INTO t VALUES (2, 'b')")
    db.commit()                                   # lands in wal.db-wal; no checkpoint yet
    assert sqlite_ro.signature(path) != before
    db.close()


def test_signature_ignores_the_empty_wal_a_reader_leaves_behind(tmp_path):
    path = tmp_path / "wal.db"
    db = make_db(path, wal=True)
    db.close()                                    # checkpointed: no -wal file any more
    before = sqlite_ro.signature(path)
    sqlite_ro.query(path, "SELECT x FROM t")      # a WAL reader may create an empty -wal
    assert sqlite_ro.signature(path) == before
