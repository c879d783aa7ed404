"""Bring the ledger up to date: every adapter's new data into the store, then price new rows.

Each source's rows and its cursor are committed in the same transaction, so a crash leaves either
both or neither; a re-read after a crash is harmless because rows are unique per dedupe key.
Sources are committed in batches (BATCH_SOURCES files or BATCH_BYTES read, whichever comes first):
a commit per file cost more than parsing the file on trees of thousands of small transcripts.
An unchanged JSONL source costs one stat (a warm run has thousands). A big read (a first ingest)
parses in forked worker processes; this process alone writes, in the serial order.
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from contextlib import nullcontext

from . import adapters, tree_snapshot
from .adapters import jsonl
from .adapters.base import JsonlAdapter, ReadResult
from .cursor import Cursor
from .progress import Progress
from .record import Record
from .store import Store, row_values

BATCH_SOURCES = 400
BATCH_BYTES = 64 * 1024 * 1024


class IngestStats(Record):
    __slots__ = ("sources", "sources_read", "rows", "bytes_read", "bad_lines", "warnings")

    def __init__(self, sources: int = 0, sources_read: int = 0,
                 rows: int = 0,                  # rows inserted or replaced by a better copy
                 bytes_read: int = 0, bad_lines: int = 0,
                 warnings: list[str] | None = None):   # one line each: what and where
        self.sources = sources
        self.sources_read = sources_read
        self.rows = rows
        self.bytes_read = bytes_read
        self.bad_lines = bad_lines
        self.warnings = [] if warnings is None else warnings


def ingest(store: Store, agents: list[str] | None = None, *, show_progress: bool = True) -> IngestStats:
    stats = IngestStats()
    walked: list = []
    _run(store, _plan(store, agents, stats, walked), stats, show_progress)
    tree_snapshot.save(store, walked)
    return stats


def _plan(store: Store, agents: list[str] | None, stats: IngestStats, walked: list | None = None) -> list:
    """(adapter, source, cursor or None, skips_by_stat) of every source with something to read.
    `walked` gets (adapter, [(key, path), ...], listing) of each adapter whose sources were all
    known, for tree_snapshot.save once the reads are committed."""
    # A warm run has thousands of unchanged files. Where the tree snapshot holds (no folder
    # changed), each costs one stat against it and only the files that moved are read (a report
    # during a session); else one stat against a light index of the cursors after a walk. Full
    # cursors (JSON state and all) are decoded only for the files that changed.
    snap = tree_snapshot.load(store)
    marks = store.source_marks() if snap else {}
    known = None
    changed = []
    stat, same = os.stat, jsonl.same_stat
    for adapter in adapters.available(agents):
        name, skips = adapter.name, _skips_by_stat(adapter)
        if skips and name in snap:
            found = tree_snapshot.check(snap[name], adapter, marks)
            if found is not None:
                stats.sources += len(found.sources)
                for path in found.changed:
                    source = adapter.source_at(path)
                    changed.append((adapter, source, (name, source.key), skips, True))
                if found.changed and walked is not None:
                    walked.append((adapter, [(p, p) for p in found.sources], found.listing))
                continue
        listed = []
        try:
            for source in adapter.sources():
                if known is None:
                    known = store.cursor_stats()
                key = (name, source.key)
                listed.append((key[1], source.path))
                stats.sources += 1
                seen = known.get(key)
                if skips and seen is not None:
                    try:
                        st = stat(source.path)
                    except OSError:
                        pass             # let the read meet the error and report it as it does
                    else:
                        if same(*seen, st):
                            continue     # what its cursor recorded: nothing new
                changed.append((adapter, source, key, skips, seen is not None))
        except OSError as exc:
            stats.warnings.append(f"{adapter.name}: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        else:
            warnings = adapter.take_warnings()
            if warnings:
                stats.warnings.extend(warnings)
            elif skips and walked is not None:
                walked.append((adapter, listed, adapter.listing()))
            continue
        stats.warnings.extend(adapter.take_warnings())
    if sum(1 for item in changed if item[4]) > 64:
        cursors = store.cursors()
        return [(a, s, cursors.get(k), sk) for a, s, k, sk, _ in changed]
    return [(a, s, store.get_cursor(*k) if had else None, sk) for a, s, k, sk, had in changed]


def _run(store: Store, todo: list, stats: IngestStats, show_progress: bool) -> None:
    # The bar is drawn on a terminal only; sizing it costs a stat per source, so only there.
    progress = None
    if show_progress and sys.stderr.isatty():
        progress = Progress(sum(a.size_hint(s, c) for a, s, c, _ in todo))
    batch: list = []
    batch_bytes = 0

    def commit() -> None:
        with store.transaction():
            for result in batch:
                stats.rows += store.upsert_calls(result.rows)
                store.put_cursor(result.cursor)
        batch.clear()

    for adapter, source, cursor, result in _read_all(todo):
        if isinstance(result, FileNotFoundError):
            continue                 # vanished mid-scan (e.g. the agent's cleanup): nothing to read
        if isinstance(result, PermissionError):
            stats.warnings.append(f"{source.path}: permission denied, skipped")
            continue
        if isinstance(result, OSError):
            stats.warnings.append(f"{source.path}: {result.strerror or result}, skipped")
            continue
        if progress:
            progress.advance(result.bytes_read or adapter.size_hint(source, cursor))
        if result.unchanged:
            continue
        batch.append(result)
        batch_bytes += result.bytes_read
        if len(batch) >= BATCH_SOURCES or batch_bytes >= BATCH_BYTES:
            commit()
            batch_bytes = 0
        stats.sources_read += 1
        stats.bytes_read += result.bytes_read
        stats.bad_lines += result.bad_lines
    if batch:
        commit()
    if progress:
        progress.close()


def _read_one(adapter, source, cursor):
    try:
        return adapter.read(source, cursor)
    except OSError as exc:
        return exc


def _read_all(todo: list):
    """(adapter, source, cursor, ReadResult or the OSError met) for each item, in order. Sources
    of pure JSONL readers (see _skips_by_stat) are parsed in worker processes when there are
    enough bytes to pay for them; the caller writes every result itself, in this order, so the
    rows and cursor of a source still land in one transaction and ties between copies of a
    call in several files resolve as in a serial read."""
    pool = _pool_for(todo)
    if pool is None:
        for adapter, source, cursor, _ in todo:
            yield adapter, source, cursor, _read_one(adapter, source, cursor)
        return
    try:
        results = pool.imap(_work, [i for i, item in enumerate(todo) if item[3]], chunksize=4)
        # While the workers parse, this process has time to spare: load the price tables that
        # pricing the new rows will want, rather than after the workers, on one core.
        from .pricing import catalog
        catalog.prepare()
        for adapter, source, cursor, parallel in todo:
            if not parallel:
                yield adapter, source, cursor, _read_one(adapter, source, cursor)
                continue
            got = next(results)
            if isinstance(got, bytes):
                rows, cursor_values, bytes_read, bad_lines, unchanged = marshal.loads(got)
                got = ReadResult(rows, Cursor(*cursor_values), bytes_read, bad_lines, unchanged)
            yield adapter, source, cursor, got
    finally:
        pool.terminate()
        _JOBS.clear()


PARALLEL_BYTES = 64 * 1024 * 1024    # below this a serial read finishes before workers pay off
_JOBS: list = []                     # what the forked workers read, by index


def _pool_for(todo: list):
    """A pool of forked workers, or None: one core, few bytes to read, or no fork (Windows,
    macOS' default) where a worker would re-import everything and pickle the adapters."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or sum(1 for item in todo if item[3]) < 2:
        return None                  # (before importing multiprocessing: a warm run reads nothing)
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return None                  # forking beside other threads can leave a child on a held lock
    if sum(a.size_hint(s, c) for a, s, c, parallel in todo if parallel) < PARALLEL_BYTES:
        return None
    _JOBS[:] = todo
    try:
        return multiprocessing.get_context("fork").Pool(min(cores, 4))
    except OSError:                  # e.g. no semaphores in a sandbox: read serially
        _JOBS.clear()
        return None


def _work(i: int):
    """In a worker: read one source; the rows go back as the upsert's parameter tuples (cheaper
    to pickle, and the writing process, the one that limits a first ingest, builds nothing)."""
    adapter, source, cursor, _ = _JOBS[i]
    result = _read_one(adapter, source, cursor)
    if isinstance(result, OSError):
        return result
    now = int(time.time() * 1000)
    # (marshal, not the pool's pickle: half the cost for tens of thousands of plain tuples)
    return marshal.dumps(([row_values(r, now) for r in result.rows], result.cursor._values(), result.bytes_read,
                          result.bad_lines, result.unchanged))


def _skips_by_stat(adapter) -> bool:
    """Whether the adapter reads through jsonl.read_incremental, whose first test is the one
    _plan makes (size, mtime, inode as the cursor recorded): then an unchanged source costs one
    stat there, and no read call (a warm run has thousands)."""
    return isinstance(adapter, JsonlAdapter) and type(adapter).read is JsonlAdapter.read


def refresh(store: Store, agents: list[str] | None = None, *, show_progress: bool = True) -> IngestStats:
    """What every report does first: ingest what is new, then price what is unpriced.
    A load that at least doubles the ledger (a first ingest) runs as one bulk transaction,
    pricing included, with the secondary indexes built once at the end (Store.bulk_load)."""
    stats = IngestStats()
    walked: list = []
    todo = _plan(store, agents, stats, walked)
    from . import pricing
    from .accounting import ledger
    problem = None
    with store.bulk_load() if _doubles_the_ledger(store, todo) else nullcontext():
        _run(store, todo, stats, show_progress)
        # Manual entries from git-tracked ledger files (`token-roi log`) join the agents' rows;
        # a cost a person typed on an entry stays that entry's cost after pricing.
        ledger.refresh_hook(store, stats.warnings)
        try:
            pricing.reprice(store)
        except pricing.PricingError as exc:
            problem = exc            # (a bad prices.yaml): the rows read are kept, priced next time
        else:
            ledger.pin_given_costs(store)
    if problem is not None:
        raise problem
    tree_snapshot.save(store, walked)
    return stats


ROW_BYTES = 16 * 1024     # Claude Code transcripts hold about one API call per 16 KB


def _doubles_the_ledger(store: Store, todo: list) -> bool:
    """Whether the reads ahead (a big read: a few MB are never worth rebuilding indexes for) will
    bring at least as many calls as the ledger holds."""
    total = sum(a.size_hint(s, c) for a, s, c, _ in todo)
    return total >= PARALLEL_BYTES and store.count_calls() * ROW_BYTES <= total
