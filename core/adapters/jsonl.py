"""Incremental reading of append-only JSONL logs.

A cursor remembers the offset of the last complete line consumed, the file's size, mtime and
inode, and a fingerprint of sampled bytes before the offset. Next time:
- same size and mtime: nothing to read;
- grown, same inode and fingerprint: read from the offset only;
- replaced, truncated or rewritten (fingerprint differs): read again from byte 0. Re-reading is
  safe because the store keeps one row per dedupe key.
A last line without its newline is left for the next read: it may still be being written.
Reads restart at the last line boundary (no partial line is carried between chunks), so a
line longer than a chunk is read again with a larger one.
"""

from __future__ import annotations

import os

from ..cursor import Cursor
from ..digest import blake2b
from ..rows import UsageRow
from ..safe_io import opener
from .base import Adapter, ReadResult, Source

CHUNK = 16 * 1024 * 1024
WINDOW = 64 * 1024
SAMPLE = 4096


def fingerprint(f, offset: int) -> str:
    """Hash of the file's first bytes and the bytes just before `offset`."""
    h = blake2b(digest_size=16)
    f.seek(0)
    h.update(f.read(min(SAMPLE, offset)))
    tail = max(0, offset - SAMPLE)
    f.seek(tail)
    h.update(f.read(offset - tail))
    return h.hexdigest()


def fingerprint_of(data, offset: int) -> str:
    """fingerprint() from the file's first `offset` bytes already in memory (data[:offset])."""
    h = blake2b(digest_size=16)
    view = memoryview(data)
    h.update(view[:min(SAMPLE, offset)])
    h.update(view[max(0, offset - SAMPLE):offset])
    return h.hexdigest()


def same_stat(size: int, mtime_ns: int, inode: int | None, st: os.stat_result) -> bool:
    """Whether the file still has the size, mtime and inode (None: not recorded) a cursor holds."""
    return size == st.st_size and mtime_ns == st.st_mtime_ns and (inode is None or inode == st.st_ino)


def _same(cursor: Cursor, st: os.stat_result) -> bool:
    return same_stat(cursor.size, cursor.mtime_ns, cursor.inode, st)


class JsonlAdapter(Adapter):
    """Append-only JSONL logs: reads only new complete lines, re-reads rewritten files."""

    def parse(self, buf: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        """Turn complete lines (buf ends with a newline) into rows; return (rows, bad lines).
        `state` persists between reads of this source (e.g. the last model seen)."""
        raise NotImplementedError

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        return read_incremental(self, source, cursor)


def read_incremental(adapter: JsonlAdapter, source: Source, cursor: Cursor | None,
                     limit: int | None = None) -> ReadResult:
    """`limit`: stop after about that many bytes (a hook's bound); the cursor then asks for the
    rest next time. Only a regular file is read (a FIFO or device raises OSError, never blocks)."""
    path = source.path
    old = cursor
    # Most sources are unchanged on a warm run: a stat answers that without opening the file.
    if old is not None and _same(old, os.stat(path)):
        return ReadResult([], old, unchanged=True)
    with open(path, "rb", opener=opener) as f:
        st = os.fstat(f.fileno())
        if old is not None and _same(old, st):
            return ReadResult([], old, unchanged=True)
        start = 0
        state: dict = {}
        bad_total = old.bad_lines if old else 0
        rows_seen = old.rows_seen if old else 0
        if (old is not None and old.offset <= st.st_size
                and (old.inode is None or old.inode == st.st_ino)
                and old.fingerprint == fingerprint(f, old.offset)):
            start, state = old.offset, dict(old.state)
        else:
            bad_total = rows_seen = 0   # a fresh read of a rewritten file recounts from scratch

        rows = []
        bad = 0
        offset = start
        partial = False
        step = CHUNK if limit is None else max(WINDOW, min(CHUNK, limit))
        size = step
        first = None                        # the first chunk of a read from byte 0
        while True:
            # Each read starts at a line boundary, so no partial line is carried and joined.
            # Small files are read whole: asking for a full chunk would allocate one anyway.
            want = min(size, max(st.st_size - offset, 0) + WINDOW)
            if st.st_size - offset > size:
                # Mid-file: end the read at the last newline of the chunk, found in a small
                # window first, so the chunk needs no copy to drop a partial line.
                window = min(WINDOW, size)
                f.seek(offset + size - window)
                nl = f.read(window).rfind(b"\n")
                if nl >= 0:
                    want = size - window + nl + 1
            f.seek(offset)
            chunk = f.read(want)
            if not chunk:
                break
            if offset == 0:
                first = chunk
            cut = chunk.rfind(b"\n")
            if cut < 0:
                if len(chunk) < want or want < size:
                    break                   # the last line has no newline yet (all there is was read)
                size *= 2                   # one line longer than the chunk: read more of it
                continue
            new_rows, new_bad = adapter.parse(chunk if cut + 1 == len(chunk) else chunk[: cut + 1], source, state)
            rows.extend(new_rows)
            bad += new_bad
            offset += cut + 1
            if len(chunk) < want:           # reached the end of the file
                break
            if limit is not None and offset - start >= limit:
                partial = True              # the rest on the next read
                break
            first = None                    # (not one chunk: the samples are read from the file)
            size = step
        # A half-written last line stays unconsumed (offset < size): the write that completes it
        # changes the size, and the next read starts at that line.
        # The fingerprint of the bytes just parsed: most files are read whole in one chunk, and
        # reading its samples again costs two seeks and reads per file (thousands on a first ingest).
        mark = fingerprint_of(first, offset) if first is not None and offset <= len(first) else fingerprint(f, offset)
        new = Cursor(source.agent, source.key, offset, -1 if partial else st.st_size, st.st_mtime_ns, st.st_ino,
                     mark, state, bad_total + bad, rows_seen + len(rows))
    return ReadResult(rows, new, bytes_read=offset - start, bad_lines=bad)
