"""Bring the ledger up to date: every adapter's new data into the store, then price new rows.

Each source's rows and its cursor are committed in the same transaction, so a crash leaves either
both or neither; a re-read after a crash is harmless because rows are unique per dedupe key.
Sources are committed in batches (BATCH_SOURCES files or BATCH_BYTES read, whichever comes first):
a commit per file cost more than parsing the file on trees of thousands of small transcripts.
An unchanged JSONL source costs one stat (a warm run has thousands). A big read (a first ingest)
parses in forked worker processes; this process alone writes, in the serial order.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from . import adapters
from .adapters import jsonl
from .adapters.base import JsonlAdapter, ReadResult
from .progress import Progress
from .rows import UsageRow
from .store import Store

BATCH_SOURCES = 400
BATCH_BYTES = 64 * 1024 * 1024


@dataclass
class IngestStats:
    sources: int = 0
    sources_read: int = 0
    rows: int = 0                    # rows inserted or replaced by a better copy
    bytes_read: int = 0
    bad_lines: int = 0
    warnings: list[str] = field(default_factory=list)   # one line each: what and where


def ingest(store: Store, agents: list[str] | None = None, *, show_progress: bool = True) -> IngestStats:
    stats = IngestStats()
    work = []
    for adapter in adapters.available(agents):
        try:
            for source in adapter.sources():
                work.append((adapter, source))
        except OSError as exc:
            stats.warnings.append(f"{adapter.name}: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        stats.warnings.extend(adapter.take_warnings())
    cursors = store.cursors()
    plan = [(a, s, cursors.get((a.name, s.key))) for a, s in work]
    # The bar is drawn on a terminal only; sizing it costs a stat per source, so only there.
    progress = None
    if show_progress and sys.stderr.isatty():
        progress = Progress(sum(a.size_hint(s, c) for a, s, c in plan))
    batch: list = []
    batch_bytes = 0

    def commit() -> None:
        with store.transaction():
            for result in batch:
                stats.rows += store.upsert_calls(result.rows)
                store.put_cursor(result.cursor)
        batch.clear()

    stat_skips: dict = {}
    todo = []
    for adapter, source, cursor in plan:
        stats.sources += 1
        skips = stat_skips.get(adapter)
        if skips is None:
            skips = stat_skips[adapter] = _skips_by_stat(adapter)
        if skips and cursor is not None and _unchanged(source, cursor):
            continue
        todo.append((adapter, source, cursor, skips))

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
    return stats


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
        for adapter, source, cursor, parallel in todo:
            if not parallel:
                yield adapter, source, cursor, _read_one(adapter, source, cursor)
                continue
            got = next(results)
            if isinstance(got, tuple):
                rows, new_cursor, bytes_read, bad_lines, unchanged = got
                got = ReadResult([UsageRow(*r) for r in rows], new_cursor, bytes_read, bad_lines, unchanged)
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
    """In a worker: read one source; the rows go back as plain tuples (cheaper to pickle)."""
    adapter, source, cursor, _ = _JOBS[i]
    result = _read_one(adapter, source, cursor)
    if isinstance(result, OSError):
        return result
    return ([r._values() for r in result.rows], result.cursor, result.bytes_read, result.bad_lines,
            result.unchanged)


def _skips_by_stat(adapter) -> bool:
    """Whether the adapter reads through jsonl.read_incremental, whose first test is _unchanged's:
    then an unchanged source costs one stat here, and no read call (a warm run has thousands)."""
    return isinstance(adapter, JsonlAdapter) and type(adapter).read is JsonlAdapter.read


def _unchanged(source, cursor) -> bool:
    try:
        st = os.stat(source.path)
    except OSError:
        return False                 # let the read meet the error and report it as it does
    return jsonl._same(cursor, st)


def refresh(store: Store, agents: list[str] | None = None, *, show_progress: bool = True) -> IngestStats:
    """What every report does first: ingest what is new, then price what is unpriced."""
    stats = ingest(store, agents, show_progress=show_progress)
    # Manual entries from git-tracked ledger files (`token-roi log`) join the agents' rows;
    # a cost a person typed on an entry stays that entry's cost after pricing.
    from .accounting import ledger
    ledger.refresh_hook(store, stats.warnings)
    from . import pricing
    pricing.reprice(store)
    ledger.pin_given_costs(store)
    return stats
