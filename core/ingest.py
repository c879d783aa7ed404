"""Bring the ledger up to date: every adapter's new data into the store, then price new rows.

Each source's rows and its cursor are committed in the same transaction, so a crash leaves either
both or neither; a re-read after a crash is harmless because rows are unique per dedupe key.
Sources are committed in batches (BATCH_SOURCES files or BATCH_BYTES read, whichever comes first):
a commit per file cost more than parsing the file on trees of thousands of small transcripts.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from . import adapters
from .adapters import jsonl
from .adapters.base import JsonlAdapter
from .progress import Progress
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
    for adapter, source, cursor in plan:
        stats.sources += 1
        if cursor is not None:
            skips = stat_skips.get(adapter)
            if skips is None:
                skips = stat_skips[adapter] = _skips_by_stat(adapter)
            if skips and _unchanged(source, cursor):
                continue
        try:
            result = adapter.read(source, cursor)
        except FileNotFoundError:
            continue                 # vanished mid-scan (e.g. the agent's cleanup): nothing to read
        except PermissionError:
            stats.warnings.append(f"{source.path}: permission denied, skipped")
            continue
        except OSError as exc:
            stats.warnings.append(f"{source.path}: {exc.strerror or exc}, skipped")
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
