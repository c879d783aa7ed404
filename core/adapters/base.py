"""The one small interface every agent adapter implements.

An adapter knows three things about its agent: where its data lives (`roots`, `sources`), how to
read a source incrementally into UsageRows (`read`), and its dedupe rule (the `dedupe_key` it
puts on each row; the store keeps one row per (agent, dedupe_key), the best copy by rank).
Most adapters read JSONL and only implement `parse` (see jsonl.JsonlAdapter); SQLite-backed ones
implement `read` themselves, and an agent that rewrites one JSON document whole uses
read_whole_json.
"""

from __future__ import annotations

import os

from ..cursor import Cursor
from ..record import Record
from ..rows import UsageRow, screen
from .fields import json_object

TYPE_CHECKING = False   # typing costs the hooks ~3 ms; the annotations are never evaluated
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class Source(Record):
    __slots__ = ("agent", "path", "kind", "meta")

    def __init__(self, agent: str, path: Path | str,
                 kind: str = "jsonl",             # 'jsonl' | 'sqlite' | 'json' | 'csv'
                 meta: dict | None = None):       # adapter-specific facts (e.g. is_subagent)
        self.agent = agent
        self.path = path
        self.kind = kind
        self.meta = {} if meta is None else meta

    @property
    def key(self) -> str:
        return str(self.path)


class ReadResult(Record):
    __slots__ = ("rows", "cursor", "bytes_read", "bad_lines", "unchanged", "out_of_range")

    def __init__(self, rows: list[UsageRow],
                 cursor: Cursor,                  # where the next read starts; stored with the rows atomically
                 bytes_read: int = 0,
                 bad_lines: int = 0,              # lines skipped as unreadable in this read
                 unchanged: bool = False,         # nothing new since last time
                 out_of_range: str | None = None):  # the first row dropped by rows.screen, why
        if rows and type(rows[0]) is not tuple:   # (a worker's tuples were screened there)
            rows, dropped, why = screen(rows)
            if dropped:
                bad_lines += dropped
                cursor.bad_lines += dropped
                cursor.rows_seen = max(0, cursor.rows_seen - dropped)
                out_of_range = out_of_range or why
        self.rows = rows
        self.cursor = cursor
        self.bytes_read = bytes_read
        self.bad_lines = bad_lines
        self.unchanged = unchanged
        self.out_of_range = out_of_range


class Adapter:
    # Set by each adapter class (declared here, not given defaults: adapters.Absent finds the
    # ones it lacks in the reader it stands in for).
    name: str                    # command-line and JSON name: 'claude', 'codex', ...
    title: str                   # human name: 'Claude Code'
    untracked: str               # what this agent's local data cannot tell us (for `token-roi agents`)

    def roots(self) -> list[Path]:
        """Existing data locations on this machine, env overrides honoured."""
        raise NotImplementedError

    def sources(self) -> Iterator[Source]:
        """Every source under roots(). An unreadable folder does not stop the scan: report it
        with warn() and go on."""
        raise NotImplementedError

    def source_at(self, path: str) -> Source:
        """The Source sources() gives for the file at `path` (a tree snapshot names the files
        that changed by their paths); its key must be the path."""
        return Source(self.name, path, "jsonl")

    def root_keys(self) -> tuple[str, ...]:
        """roots() as strings (what a tree snapshot compares)."""
        return tuple(os.fspath(r) for r in self.roots())

    def listing(self) -> tuple[tuple, dict] | None:
        """After sources() ran to its end: (root_keys(), {folder: (mtime_ns, inode)}) when those
        folders' mtimes alone prove the same sources next time (every one settled, no links,
        none unreadable), else None. Lets a warm run skip the walk (see tree_snapshot)."""
        return None

    def warn(self, message: str) -> None:
        """Note a one-line problem met while scanning (what and where); ingest shows it."""
        self.__dict__.setdefault("_warnings", []).append(message)

    def take_warnings(self) -> list[str]:
        """The warnings noted since the last call, cleared."""
        return self.__dict__.pop("_warnings", [])

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        raise NotImplementedError

    def size_hint(self, source: Source, cursor: Cursor | None) -> int:
        """Bytes the next read will touch, for the progress bar."""
        try:
            size = os.stat(source.path).st_size
        except OSError:
            return 0
        return max(0, size - (cursor.offset if cursor else 0))


def read_whole_json(source: Source, cursor: Cursor | None, parse) -> ReadResult:
    """A JSON document its agent rewrites whole on every save, read again whenever its size or
    mtime changed: parse(doc, mtime_ns) -> (rows, bad records). A file that is not a JSON object
    (maybe caught mid-write) is one bad line and is read again next time."""
    with open(source.path, "rb") as f:
        st = os.fstat(f.fileno())
        if cursor is not None and cursor.size == st.st_size and cursor.mtime_ns == st.st_mtime_ns:
            return ReadResult([], cursor, unchanged=True)
        data = f.read()
    new = Cursor(source.agent, source.key, len(data), st.st_size, st.st_mtime_ns, st.st_ino, None, {})
    try:
        doc = json_object(data)
    except ValueError:
        new.size, new.bad_lines = -1, 1     # leave the size unmatched so the next run tries again
        return ReadResult([], new, bytes_read=len(data), bad_lines=1)
    rows, bad = parse(doc, st.st_mtime_ns)
    new.bad_lines, new.rows_seen = bad, len(rows)
    return ReadResult(rows, new, bytes_read=len(data), bad_lines=bad)
