"""The schema a ledger ends with, pinned: a fresh ledger and one upgraded from an old version
(migrated up to m005, holding rows written then) must end with the same tables, columns,
indexes and triggers, and that is the schema in ledger_schema.txt beside this file. A new
migration changes it on purpose: regenerate the file with

    TOKEN_ROI_WRITE_SCHEMA=1 python -m pytest tests/store/test_ledger_schema.py

and review its diff with the migration."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from token_roi.store import Store
from token_roi.store.migrations import MIGRATIONS

PINNED = Path(__file__).with_name("ledger_schema.txt")


def schema_of(path: Path) -> str:
    """Every table, index, view and trigger with its SQL (whitespace and comments folded), and
    every table's columns as PRAGMA table_info reports them, sorted: a text to compare."""
    db = sqlite3.connect(path)
    try:
        lines = []
        for kind, name, sql in db.execute("SELECT type, name, sql FROM sqlite_master "
                                          "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"):
            text = re.sub(r"--[^\n]*", "", sql or "")
            lines.append(f"{kind} {name}: {' '.join(text.split())}")
            if kind == "table":
                for _cid, col, decl, notnull, default, pk in db.execute(f"PRAGMA table_info({name})"):
                    lines.append(f"  column {name}.{col} {decl} notnull={notnull} default={default} pk={pk}")
        applied = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")]
        lines.append("migrations: " + ", ".join(applied))
        return "\n".join(lines) + "\n"
    finally:
        db.close()


def old_ledger(path: Path) -> None:
    """A ledger as token-roi left it at m005 (the migrations run as Store.migrate ran them
    then), with a call, a cursor and a meta value in it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at INTEGER)")
    names = [m.__name__ for m in MIGRATIONS]
    for migration in MIGRATIONS[:names.index("m005_day_sums") + 1]:
        db.execute("BEGIN IMMEDIATE")
        migration(db)
        db.execute("INSERT INTO _migrations VALUES (?, ?)", (migration.__name__, 1_790_000_000))
        db.execute("COMMIT")
    db.execute("INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
               "cache_read_tokens, rank, ingested_at) VALUES ('claude', 'msg_01', 1790000000000, 's1', '/p', "
               "'claude-sonnet-4-5-20250929', 1200, 300, 50000, 281474976761850, 1790000000001)")
    db.execute("INSERT INTO sources (agent, path, offset, size, mtime_ns, inode, updated_at) "
               "VALUES ('claude', '/p/s1.jsonl', 4096, 4096, 1790000000000000000, 12, 1790000000002)")
    db.execute("INSERT INTO meta VALUES ('pricing.version', 'old')")
    db.close()


def test_a_fresh_and_an_upgraded_ledger_end_with_the_pinned_schema(tmp_path):
    Store(tmp_path / "fresh.sqlite3").close()
    old_ledger(tmp_path / "old.sqlite3")
    upgraded = Store(tmp_path / "old.sqlite3")
    # what was in it is still there, under the new schema
    rows = upgraded.db.execute("SELECT agent, dedupe_key, input_tokens, cache_read_tokens, speed FROM calls").fetchall()
    assert rows == [("claude", "msg_01", 1200, 50000, None)]
    assert upgraded.get_cursor("claude", "/p/s1.jsonl").offset == 4096
    assert upgraded.get_meta("pricing.version") == "old"
    upgraded.close()
    fresh, old = schema_of(tmp_path / "fresh.sqlite3"), schema_of(tmp_path / "old.sqlite3")
    assert old == fresh
    if os.environ.get("TOKEN_ROI_WRITE_SCHEMA"):
        PINNED.write_text(fresh)
    assert fresh == PINNED.read_text(), f"the ledger schema moved: see {PINNED.name} (this file's docstring)"
