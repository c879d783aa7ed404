"""Bring the ledger up to date: the one pipeline every write into the ledger goes through.

    sources (every agent's adapter, then the manual ledger files: adapters/entries)
      -> plan: which sources have something new (their cursors; a warm run: tree_snapshot)
      -> read: each source from its cursor (a big first ingest: in worker processes)
      -> write: rows and the cursor that produced them in one transaction, in plan order
      -> price: pricing.apply.reprice, then the costs people typed on manual entries (last stage)

`refresh()` runs all of it (reports, `token-roi ingest`); `ingest_sources()` runs it for a few
named sources (the guard's Stop hook records its session's transcripts, `token-roi log` its
ledger file). A crash leaves a source's rows and cursor both written or neither; a re-read is
harmless because rows are unique per dedupe key, the best copy by rank (UsageRow.rank).
Sources are committed in batches (BATCH_SOURCES files or BATCH_BYTES read, whichever first):
a commit per file cost more than parsing the file on trees of thousands of small transcripts.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from . import adapters, pricing, tree_snapshot
from .adapters import entries, jsonl
from .adapters.base import Adapter, ReadResult, Source
from .adapters.entries import EntriesRead
from .adapters.jsonl import JsonlAdapter
from .cursor import Cursor
from .pricing import apply
from .progress import Progress
from .store import Store, health, rate_limits, row_values

BATCH_SOURCES = 400
BATCH_BYTES = 64 * 1024 * 1024
PARALLEL_BYTES = 64 * 1024 * 1024    # below this a serial read finishes before workers pay off
ROW_BYTES = 16 * 1024                # Claude Code transcripts hold about one API call per 16 KB


@dataclass
class IngestStats:
    sources: int = 0              # sources scanned
    sources_read: int = 0         # sources with something new
    rows: int = 0                 # rows inserted or replaced by a better copy
    rows_removed: int = 0         # manual entries gone from their file
    mirrored: int = 0             # ledger files whose entries were written again
    bytes_read: int = 0
    bad_lines: int = 0
    warnings: list[str] = field(default_factory=list)   # one line each: what and where
    errors: list[str] = field(default_factory=list)     # malformed manual entries (also in warnings)


@dataclass
class Job:
    """One source to read: its adapter, where its last read stopped, and whether a worker
    process may read it (a pure JSONL reader: see _skips_by_stat)."""
    adapter: Adapter
    source: Source
    cursor: Cursor | None
    parallel: bool = False
    limit: int | None = None       # bytes read at most (a hook's bound; the cursor goes on next time)


@dataclass
class Read:
    """What reading a job gave: the adapter's result, or the OSError met; `values` the rows as
    the upsert's parameter tuples when a worker read it (else built at the write)."""
    job: Job
    result: ReadResult | OSError
    values: list[tuple[Any, ...]] | None = None


# -- the whole pipeline --------------------------------------------------------------------------

def refresh(store: Store, agents: list[str] | None = None, *, show_progress: bool = True) -> IngestStats:
    """What every report does first: every source's new data into the ledger, then pricing.
    A load that at least doubles the ledger (a first ingest) runs as one bulk transaction,
    pricing included, with the secondary indexes built once at the end (Store.bulk_load).
    Raises PricingError on a bad prices.yaml (the rows read are kept, priced next time)."""
    stats = IngestStats()
    walked: list[tuple[Adapter, list[tuple[str, str]], Any]] = []
    lost = health.lost_before(store)
    jobs = _plan(store, agents, stats, walked)
    bulk = _doubles_the_ledger(store, jobs)
    problem = None
    with store.bulk_load() if bulk else nullcontext():
        _read_and_write(store, jobs, stats, show_progress)
        if bulk:
            store.restore_early(("calls_unpriced",))    # (pricing finds what is left through it)
        try:
            _price(store)
        except pricing.PricingError as exc:
            problem = exc
    if problem is not None:
        raise problem
    tree_snapshot.save(store, walked)
    rate_limits.drain_spool(store, stats.warnings)      # the status line's plan-limit figures
    health.after_refresh(store, lost, stats.warnings)
    return stats


ingest = refresh     # (`token-roi ingest` and the reports run the same pipeline)


def ingest_sources(store: Store, sources: Iterable[tuple[Adapter, Source]], *, price: bool = True,
                   limit: int | None = None) -> IngestStats:
    """The pipeline for named sources only (no walk): the Stop hook's session transcripts,
    a ledger file just written. `price=False` leaves pricing to the next report (a hook
    keeps its budget); `limit` bounds the bytes read of each JSONL source this time."""
    stats = IngestStats()
    jobs = [Job(adapter, source, store.get_cursor(adapter.name, source.key), limit=limit)
            for adapter, source in sources]
    stats.sources = len(jobs)
    _read_and_write(store, jobs, stats, show_progress=False)
    if price:
        _price(store)
    return stats


def _price(store: Store) -> None:
    """The last stage: price what is unpriced or priced under another table, then pin the costs
    people typed on manual entries."""
    apply.reprice(store)
    apply.pin_given_costs(store)


# -- plan ------------------------------------------------------------------------------------------

def _sources_of(agents: list[str] | None) -> list[Adapter]:
    """The agents' adapters (default: every agent), then the manual ledger files, always."""
    return [*adapters.available(agents), entries.ADAPTER]


def _plan(store: Store, agents: list[str] | None, stats: IngestStats,
          walked: list[tuple[Adapter, list[tuple[str, str]], Any]] | None = None) -> list[Job]:
    """Every source with something to read. `walked` gets (adapter, [(key, path), ...], listing)
    of each adapter whose sources were all known, for tree_snapshot.save once the reads are
    committed. A warm run has thousands of unchanged files: where the tree snapshot holds (no
    folder changed) each costs one stat against it; else one stat against a light index of the
    cursors after a walk. Full cursors are decoded only for the files that changed."""
    snap = tree_snapshot.load(store)
    marks = store.source_marks() if snap else {}
    known: dict[tuple[str, str], tuple[int, int, int | None]] | None = None
    changed: list[tuple[Adapter, Source, tuple[str, str], bool, bool]] = []

    def cursor_index() -> dict[tuple[str, str], tuple[int, int, int | None]]:
        nonlocal known
        if known is None:
            known = store.cursor_stats()
        return known

    for adapter in _sources_of(agents):
        name, skips = adapter.name, _skips_by_stat(adapter)
        if skips and name in snap:
            found = tree_snapshot.check(snap[name], adapter, marks, cursor_index)
            if found is not None:
                stats.sources += len(found.sources)
                for path, had in found.changed:
                    source = adapter.source_at(path)
                    changed.append((adapter, source, (name, source.key), skips, had))
                if found.listing is not None and walked is not None:
                    walked.append((adapter, [(p, p) for p in found.sources], found.listing))
                continue
        listed: list[tuple[str, str]] = []
        # (an adapter whose sources once read stay sources: its few cursors name them too)
        # (asked of the class: adapters.Absent stands in for an agent not here, and asking the
        # instance anything it lacks imports that agent's reader)
        keeps = getattr(type(adapter), "keeps_sources", False)
        own = store.cursors(name) if keeps else None
        try:
            for source in _all_sources(adapter, own):
                key = (name, source.key)
                if not _storable(source.key):
                    adapter.warn(f"{_shown(source.key)}: its name is not valid UTF-8: skipped (rename it to read it)")
                    continue
                listed.append((source.key, str(source.path)))
                stats.sources += 1
                seen = key in own if own is not None else cursor_index().get(key)
                if skips and seen is not None and not isinstance(seen, bool):
                    try:
                        st = os.stat(source.path)
                    except OSError:
                        pass             # let the read meet the error and report it as it does
                    else:
                        if jsonl.same_stat(*seen, st):
                            continue     # what its cursor recorded: nothing new
                changed.append((adapter, source, key, skips, bool(seen)))
        except OSError as exc:
            stats.warnings.append(f"{adapter.name}: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
            stats.warnings.extend(adapter.take_warnings())
            continue
        warnings = adapter.take_warnings()
        if warnings:
            stats.warnings.extend(warnings)
        elif skips and walked is not None:
            walked.append((adapter, listed, adapter.listing()))
    if sum(1 for item in changed if item[4]) > 64:
        cursors = store.cursors()
        return [Job(a, s, cursors.get(k), sk) for a, s, k, sk, _ in changed]
    return [Job(a, s, store.get_cursor(*k) if had else None, sk) for a, s, k, sk, had in changed]


def _all_sources(adapter: Adapter, remembered: dict[tuple[str, str], Cursor] | None) -> Iterator[Source]:
    """adapter.sources(), then every other source of `remembered` (the cursors of an adapter
    whose sources once read stay sources, `keeps_sources`: a ledger file in another checkout)."""
    listed = set()
    for source in adapter.sources():
        listed.add(source.key)
        yield source
    for _agent, key in remembered or {}:
        if key not in listed:
            yield adapter.source_at(key)


def _storable(path: str) -> bool:
    """Whether a path can be stored as text: a name with bytes that are not UTF-8 comes from
    os.listdir surrogate-escaped, which SQLite's text cannot hold."""
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(path: str) -> str:
    """A path for a warning line, its undecodable bytes shown as U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


def _skips_by_stat(adapter: Adapter) -> bool:
    """Whether the adapter reads through jsonl.read_incremental, whose first test is the one
    _plan makes (size, mtime, inode as the cursor recorded): then an unchanged source costs one
    stat there and no read call, and a worker process may read it."""
    return isinstance(adapter, JsonlAdapter) and type(adapter).read is JsonlAdapter.read


def _doubles_the_ledger(store: Store, jobs: list[Job]) -> bool:
    """Whether the reads ahead (a big read: a few MB are never worth rebuilding indexes for) will
    bring at least as many calls as the ledger holds. Sizes are summed only as far as needed
    (each costs a stat, and a first ingest has thousands of files)."""
    total, need, counted = 0, PARALLEL_BYTES, False
    for job in jobs:
        total += job.adapter.size_hint(job.source, job.cursor)
        if total >= need:
            if counted:
                return True
            need, counted = max(need, store.count_calls() * ROW_BYTES), True
            if total >= need:
                return True
    return False


def _at_least(jobs: Iterable[Job], size: int) -> bool:
    """Whether the reads of `jobs` touch at least `size` bytes, summed only as far as needed."""
    total = 0
    for job in jobs:
        total += job.adapter.size_hint(job.source, job.cursor)
        if total >= size:
            return True
    return False


# -- read and write ----------------------------------------------------------------------------------

def _read_and_write(store: Store, jobs: list[Job], stats: IngestStats, show_progress: bool) -> None:
    # The bar is drawn on a terminal only; sizing it costs a stat per source, so only there.
    progress = None
    if show_progress and sys.stderr.isatty():
        progress = Progress(sum(job.adapter.size_hint(job.source, job.cursor) for job in jobs))
    batch: list[Read] = []
    batch_bytes = 0
    for read in _read_all(jobs):
        job, result = read.job, read.result
        if isinstance(result, FileNotFoundError):
            continue                 # vanished mid-scan (e.g. the agent's cleanup): nothing to read
        if isinstance(result, PermissionError):
            stats.warnings.append(f"{job.source.path}: permission denied, skipped")
            continue
        if isinstance(result, OSError):
            stats.warnings.append(f"{job.source.path}: {result.strerror or result}, skipped")
            continue
        if isinstance(job.adapter, Adapter) and "_warnings" in job.adapter.__dict__:
            stats.warnings.extend(job.adapter.take_warnings())     # (what a read noted: Hermes's old schema)
        if progress:
            progress.advance(result.bytes_read or job.adapter.size_hint(job.source, job.cursor))
        if isinstance(result, EntriesRead):
            stats.errors.extend(result.errors)
            stats.warnings.extend(result.errors)
        if result.unchanged:
            continue
        batch.append(read)
        batch_bytes += result.bytes_read
        if len(batch) >= BATCH_SOURCES or batch_bytes >= BATCH_BYTES:
            _write(store, batch, stats)
            batch_bytes = 0
        stats.sources_read += 1
        stats.bytes_read += result.bytes_read
        stats.bad_lines += result.bad_lines
        if result.out_of_range:
            stats.warnings.append(f"{job.source.path}: bad line skipped: {result.out_of_range}")
    if batch:
        _write(store, batch, stats)
    for adapter in {id(job.adapter): job.adapter for job in jobs}.values():
        stats.warnings.extend(adapter.take_warnings())
    if progress:
        progress.close()


def _write(store: Store, batch: list[Read], stats: IngestStats) -> None:
    """One transaction for a batch: its rows (one executemany), then its cursors."""
    now = int(time.time() * 1000)
    with store.transaction():
        values: list[tuple[Any, ...]] = []
        for read in batch:
            result = read.result
            assert isinstance(result, ReadResult)
            if read.values is not None:
                values += read.values
            else:
                values += [row_values(row, now) for row in result.rows]
            if isinstance(result, EntriesRead) and result.entries is not None:
                written, removed = store.mirror_entries(result.cursor.path, result.entries)
                stats.rows += written
                stats.rows_removed += removed
                stats.mirrored += 1
        stats.rows += store.upsert_values(values)
        results = [read.result for read in batch if isinstance(read.result, ReadResult)]
        store.put_cursors([result.cursor for result in results])
        rate_limits.record_results(store, results)    # plan-limit figures an adapter found (Codex)
    batch.clear()


def read_one(job: Job) -> ReadResult | OSError:
    try:
        if job.limit is not None and isinstance(job.adapter, JsonlAdapter) and _skips_by_stat(job.adapter):
            return jsonl.read_incremental(job.adapter, job.source, job.cursor, limit=job.limit)
        return job.adapter.read(job.source, job.cursor)
    except OSError as exc:
        return exc


def _read_all(jobs: list[Job]) -> Iterator[Read]:
    """Each job's read, in order: in this process, or for a big read (PARALLEL_BYTES of pure
    JSONL sources, two cores or more: a first ingest) in worker processes (see ingest_pool)."""
    if _wants_workers(jobs):
        # (imported here: concurrent.futures and multiprocessing cost every report ~30 ms, and
        # only a big read uses them)
        from . import ingest_pool
        for job, (result, values) in zip(jobs, ingest_pool.read_all(jobs, read_one)):
            yield Read(job, result, values)
        return
    for job in jobs:
        yield Read(job, read_one(job))


def _wants_workers(jobs: list[Job]) -> bool:
    """Whether a read is big enough for worker processes (and there are two cores for them)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    parallel = [job for job in jobs if job.parallel]
    return cores >= 2 and len(parallel) >= 2 and _at_least(parallel, PARALLEL_BYTES)
