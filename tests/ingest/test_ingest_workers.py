"""The worker processes of a big first ingest (ingest._read_all): results come back in the order
of the plan whatever order the workers finish in, a worker's error reaches the writing process, a
worker that dies leaves nothing unread, and none outlives the read."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from token_roi import ingest as ingest_mod
from token_roi import ingest_pool
from token_roi.adapters.base import ReadResult
from token_roi.cursor import Cursor
from token_roi.rows import UsageRow

PARENT = os.getpid()


class Reader:
    """Stands in for an adapter: each source names what its read does."""

    def size_hint(self, source, cursor) -> int:
        return 1

    def read(self, source, cursor) -> ReadResult:
        if source == "boom":
            raise ValueError("a bug in a reader")
        if source == "gone":
            raise FileNotFoundError(2, "No such file or directory")
        if source == "die" and os.getpid() != PARENT:
            os.kill(os.getpid(), signal.SIGKILL)          # a worker killed (the OOM killer, say)
        n = int(source) if source.isdigit() else 7
        rows = [UsageRow("claude", f"msg_{n}_{k}", 1_790_000_000_000 + n, model="m", input_tokens=k)
                for k in range(n % 5)]
        return ReadResult(rows, Cursor("claude", source, n, n, n, n, f"fp{n}"), bytes_read=n, bad_lines=n % 3)


@pytest.fixture
def parallel(monkeypatch):
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(ingest_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    import threading
    monkeypatch.setattr(threading, "active_count", lambda: 1)   # (other tests' threads: see test_ingest_fast_paths)
    monkeypatch.setattr("token_roi.pricing.catalog.prepare", lambda: None)


def read_all(sources: list[str]) -> list:
    reader = Reader()
    out = []
    for read in ingest_mod._read_all([ingest_mod.Job(reader, s, None, True) for s in sources]):
        got = read.result
        if isinstance(got, ReadResult):
            # (a worker sends the upsert's tuples; what this process read itself is UsageRows)
            rows = [r[:-1] for r in read.values] if read.values is not None else \
                [ingest_mod.row_values(r, 0)[:-1] for r in got.rows]
            got = (rows, got.cursor._values(), got.bytes_read, got.bad_lines)
        out.append((read.job.source, got))
    return out


def serial(sources: list[str]) -> list:
    out = []
    for s in sources:
        r = Reader().read(s, None)
        out.append((s, ([ingest_mod.row_values(x, 0)[:-1] for x in r.rows], r.cursor._values(),
                        r.bytes_read, r.bad_lines)))
    return out


def test_many_items_come_back_complete_and_in_order(parallel):
    sources = [str(i) for i in range(5_000)]
    got = read_all(sources)
    assert got == serial(sources)


def test_a_read_error_is_the_item_s_result_and_a_bug_is_raised(parallel):
    got = read_all(["1", "gone", "2"])
    assert [s for s, _ in got] == ["1", "gone", "2"] and isinstance(got[1][1], FileNotFoundError)
    with pytest.raises(ValueError, match="a bug in a reader"):
        read_all(["1", "boom", "2"])


def test_what_a_killed_worker_took_is_read_by_the_writing_process(parallel):
    sources = [str(i) for i in range(50)] + ["die"] + [str(i) for i in range(50, 100)] + ["die"]
    got = read_all(sources)
    expected = serial(sources)
    assert got == expected and len(got) == 102


def test_no_worker_outlives_the_read(parallel):
    import multiprocessing
    reader = Reader()
    results = ingest_mod._read_all([ingest_mod.Job(reader, str(i), None, True) for i in range(200)])
    next(results)
    workers = multiprocessing.active_children()
    assert workers and "concurrent.futures" in sys.modules     # workers are there ...
    results.close()                                            # ... the caller stops early (an error, Ctrl-C)
    assert not [p for p in workers if p.is_alive()]            # stopped and reaped


class NiceReader(Reader):
    """Each read answers with the niceness it ran at (as its bytes_read)."""

    def read(self, source, cursor) -> ReadResult:
        return ReadResult([], Cursor("claude", source, 0, 0, 0, 0, "fp"), bytes_read=os.nice(0), bad_lines=0)


def test_readers_run_behind_the_writing_process(parallel):
    # The writing process is what a first ingest waits on: the forked readers yield to it.
    reader = NiceReader()
    mine = os.nice(0)
    jobs = [ingest_mod.Job(reader, str(i), None, True) for i in range(8)]
    got = [read.result.bytes_read for read in ingest_mod._read_all(jobs)]
    assert got == [min(mine + ingest_pool.WORKER_NICE, 19)] * 8
    assert os.nice(0) == mine                     # (this process keeps its own)
