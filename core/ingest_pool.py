"""The worker processes of a big read (a first ingest): sources parsed in forked processes
(concurrent.futures), CHUNK_SOURCES sources a task, while the ingesting process alone writes, in
the plan's order, so a source's rows and cursor still land in one transaction and ties between
copies of a call in several files resolve as in a serial read.

ingest imports this module only for a big read (concurrent.futures and multiprocessing cost
every report ~30 ms otherwise). What it buys is in docs/benchmarks.md ("Architecture: before
and after").
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from .adapters.base import Adapter, ReadResult, Source
from .cursor import Cursor
from .pricing import catalog
from .store import row_values

CHUNK_SOURCES = 64                   # sources per task handed to a worker (16: ~10% more CPU, no faster)
MAX_WORKERS = 4
# Workers run a little behind the writing process: a first ingest waits on the writer (it alone
# writes every row, in order), and readers beside it on two cores took a share of its CPU.
WORKER_NICE = 5


class Job(Protocol):
    """ingest.Job: a source to read, and whether a worker may read it."""
    adapter: Adapter
    source: Source
    cursor: Cursor | None
    parallel: bool


ReadOne = Callable[[Any], "ReadResult | OSError"]
Got = tuple[ReadResult | OSError, "list[tuple[Any, ...]] | None"]

_JOBS: list[Any] = []            # what the forked workers read, by index (inherited at the fork)
_READ: list[ReadOne] = []


def read_all(jobs: Sequence[Job], read_one: ReadOne) -> Iterator[Got]:
    """(result, values) of each job in order: `read_one(job)`'s result, and for a job a worker
    read, its rows as the upsert's parameter tuples (else None). Serial where no worker can be
    forked (no fork, as on Windows; other threads in this process, beside which a child can be
    left on a held lock)."""
    pool = _pool()
    if pool is None:
        for job in jobs:
            yield read_one(job), None
        return
    _JOBS[:], _READ[:] = jobs, [read_one]
    try:
        tasks: dict[int, tuple[Future[list[bytes | OSError]], int]] = {}
        parallel = [i for i, job in enumerate(jobs) if job.parallel]
        for start in range(0, len(parallel), CHUNK_SOURCES):
            chunk = parallel[start:start + CHUNK_SOURCES]
            future = pool.submit(_read_chunk, chunk)
            for position, i in enumerate(chunk):
                tasks[i] = (future, position)
        # While the workers parse, this process has time to spare: load the price tables now.
        catalog.prepare()
        for i, job in enumerate(jobs):
            if i not in tasks:
                yield read_one(job), None
                continue
            future, position = tasks.pop(i)
            try:
                got = future.result()[position]
            except BrokenProcessPool:        # a worker killed (the OOM killer, say): read it here
                yield read_one(job), None
                continue
            if isinstance(got, OSError):
                yield got, None
                continue
            values, cursor_values, bytes_read, bad_lines, unchanged, out_of_range = marshal.loads(got)
            yield ReadResult([], Cursor(*cursor_values), bytes_read, bad_lines, unchanged, out_of_range), values
    finally:
        pool.shutdown(wait=True, cancel_futures=True)     # (stopped early: the rest is not read)
        _JOBS.clear()
        _READ.clear()


def _pool() -> ProcessPoolExecutor | None:
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        return ProcessPoolExecutor(min(cores, MAX_WORKERS), multiprocessing.get_context("fork"),
                                   initializer=_start_worker)
    except OSError:                  # e.g. no more processes: read serially
        return None


def _start_worker() -> None:
    try:
        os.nice(WORKER_NICE)
    except OSError:
        pass


def _read_chunk(indexes: list[int]) -> list[bytes | OSError]:
    """In a worker: read these jobs; each result goes back marshalled (half pickle's cost for
    tens of thousands of plain tuples) as the upsert's parameter tuples, so the writing process,
    the one a first ingest waits for, builds nothing."""
    now = int(time.time() * 1000)
    out: list[bytes | OSError] = []
    for i in indexes:
        result = _READ[0](_JOBS[i])
        if isinstance(result, OSError):
            out.append(result)
            continue
        out.append(marshal.dumps(([row_values(r, now) for r in result.rows], result.cursor._values(),
                                  result.bytes_read, result.bad_lines, result.unchanged, result.out_of_range)))
    return out
