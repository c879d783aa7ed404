"""Reading other agents' SQLite stores without ever disturbing them.

Agents (Hermes, OpenClaw, OpenCode, Copilot, Codex's state db, Cursor) keep their databases open,
often in WAL mode, while they run. We open them read-only through a `file:…?mode=ro` URI (SQLite
then refuses any write, so we can never change their data) and retry a few times when the agent
holds a lock. Failures surface as OSError so ingest records a one-line warning and moves on.

Standard library only: hooks may import adapters.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

ATTEMPTS = 5
WAIT_S = 0.2          # doubled after each locked attempt: 0.2 + 0.4 + 0.8 + 1.6 s at most
BUSY_TIMEOUT_MS = 2000


class SqliteReadError(OSError):
    """An agent's database could not be read (locked for too long, corrupt, not a database)."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(message)
        self.filename = str(path)
        self.strerror = message


def _uri(path: Path | str) -> str:
    # Only once an agent's database exists: pathlib with urllib.parse and ipaddress is ~4 ms.
    # Characters like '?', '#' and '%' in a path would be read as URI syntax: escape them.
    return "file:" + quote(str(Path(path).absolute()), safe="/:\\") + "?mode=ro"


def _locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def connect(path: Path | str) -> sqlite3.Connection:
    """A read-only connection to `path` (raises SqliteReadError; FileNotFoundError if missing)."""
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        db = sqlite3.connect(_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        raise SqliteReadError(path, f"cannot open read-only: {exc}") from None
    return db


def query(path: Path | str, sql: str, params: tuple | dict = (), *, attempts: int = ATTEMPTS) -> list[sqlite3.Row]:
    """All rows of one query, as sqlite3.Row (access by column name), retrying while locked."""
    wait = WAIT_S
    for attempt in range(attempts):
        db = connect(path)
        try:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or attempt == attempts - 1:
                raise SqliteReadError(path, f"{'still locked after retries' if _locked(exc) else exc}") from None
        except sqlite3.DatabaseError as exc:
            raise SqliteReadError(path, f"not a readable database: {exc}") from None
        finally:
            db.close()
        time.sleep(wait)
        wait *= 2
    raise SqliteReadError(path, "still locked after retries")   # unreachable; keeps type checkers calm


def columns(path: Path | str, table: str) -> set[str]:
    """Column names of `table` ({} when the table does not exist): agents add columns over time."""
    return {r["name"] for r in query(path, "SELECT name FROM pragma_table_info(?)", (table,))}


def signature(path: Path | str) -> tuple[int, int]:
    """(size, mtime_ns) covering the database and its WAL file: in WAL mode new rows land in
    `<db>-wal` and the main file does not change until a checkpoint, so both must be watched.
    An empty WAL file is left out: opening a WAL database (even read-only) may create one, and
    that must not look like new data next time."""
    size = mtime = 0
    for p in (str(path), f"{path}-wal"):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            continue
        if st.st_size == 0 and p != str(path):
            continue
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return size, mtime


def size_hint(path: Path | str, cursor) -> int:
    """Bytes a read would cover (for the progress bar): 0 when the database and its WAL are as
    `cursor` (the source's last Cursor, or None) saw them."""
    size, mtime = signature(path)
    return 0 if cursor and (cursor.size, cursor.mtime_ns) == (size, mtime) else size
