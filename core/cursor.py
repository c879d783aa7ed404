"""Where the last read of one source stopped (see adapters/base.py and adapters/jsonl.py).

Kept apart from token_roi.store (which re-exports it) so the hooks, which read transcripts on
every tool call, do not import sqlite3 until they write to the ledger (Stop, SessionEnd).
"""

from __future__ import annotations

from .record import Record


class Cursor(Record):
    __slots__ = ("agent", "path", "offset", "size", "mtime_ns", "inode", "fingerprint", "state",
                 "bad_lines", "rows_seen")

    def __init__(self, agent: str, path: str, offset: int = 0, size: int = 0, mtime_ns: int = 0,
                 inode: int | None = None, fingerprint: str | None = None, state: dict | None = None,
                 bad_lines: int = 0, rows_seen: int = 0):
        self.agent = agent
        self.path = path
        self.offset = offset
        self.size = size
        self.mtime_ns = mtime_ns
        self.inode = inode
        self.fingerprint = fingerprint
        self.state = {} if state is None else state    # a fresh dict per cursor
        self.bad_lines = bad_lines
        self.rows_seen = rows_seen
