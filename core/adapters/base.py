"""The one small interface every agent adapter implements.

An adapter knows three things about its agent: where its data lives (`roots`, `sources`), how to
read a source incrementally into UsageRows (`read`), and its dedupe rule (the `dedupe_key` it
puts on each row; the store keeps one row per (agent, dedupe_key), the best copy by rank).
Most adapters read JSONL and only implement `parse` (see JsonlAdapter); SQLite-backed ones
implement `read` themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..rows import UsageRow
from ..store import Cursor
from . import jsonl


@dataclass
class Source:
    agent: str
    path: Path
    kind: str = "jsonl"          # 'jsonl' | 'sqlite' | 'json' | 'csv'
    meta: dict = field(default_factory=dict)  # adapter-specific facts (e.g. is_subagent)

    @property
    def key(self) -> str:
        return str(self.path)


@dataclass
class ReadResult:
    rows: list[UsageRow]
    cursor: Cursor               # where the next read starts; stored with the rows atomically
    bytes_read: int = 0
    bad_lines: int = 0           # lines skipped as unreadable in this read
    unchanged: bool = False      # nothing new since last time


class Adapter:
    name: str = ""               # command-line and JSON name: 'claude', 'codex', ...
    title: str = ""              # human name: 'Claude Code'
    untracked: str = ""          # what this agent's local data cannot tell us (for `token-roi agents`)

    def roots(self) -> list[Path]:
        """Existing data locations on this machine, env overrides honoured."""
        raise NotImplementedError

    def sources(self) -> Iterator[Source]:
        """Every source under roots(). An unreadable folder does not stop the scan: report it
        with warn() and go on."""
        raise NotImplementedError

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


class JsonlAdapter(Adapter):
    """Append-only JSONL logs: reads only new complete lines, re-reads rewritten files."""

    def parse(self, buf: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        """Turn complete lines (buf ends with a newline) into rows; return (rows, bad lines).
        `state` persists between reads of this source (e.g. the last model seen)."""
        raise NotImplementedError

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        return jsonl.read_incremental(self, source, cursor)
