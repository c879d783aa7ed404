"""The forked readers of a big first ingest (ingest._Workers): results come back in the order of
the plan whatever order the workers finish in, a worker's error reaches the writing process, and
a worker that dies leaves nothing unread."""

from __future__ import annotations

import os
import signal

import pytest

from token_roi import ingest as ingest_mod
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
    for _, source, _, got in ingest_mod._read_all([(reader, s, None, True) for s in sources]):
        if isinstance(got, ReadResult):
            # (a worker sends the upsert's tuples; what this process read itself is UsageRows)
            rows = [r[:-1] if type(r) is tuple else ingest_mod.row_values(r, 0)[:-1] for r in got.rows]
            got = (rows, got.cursor._values(), got.bytes_read, got.bad_lines)
        out.append((source, got))
    return out


def serial(sources: list[str]) -> list:
    out = []
    for s in sources:
        r = Reader().read(s, None)
        out.append((s, ([ingest_mod.row_values(x, 0)[:-1] for x in r.rows], r.cursor._values(),
                        r.bytes_read, r.bad_lines)))
    return out


def test_more_items_than_the_task_pipe_holds_come_back_complete_and_in_order(parallel):
    sources = [str(i) for i in range(20_000)]               # 80 KB of item numbers: a 64 KB pipe takes them in goes
    got = read_all(sources)
    assert not ingest_mod._JOBS
    assert got == serial(sources)


def test_a_read_error_is_the_item_s_result_and_a_bug_is_raised(parallel):
    got = read_all(["1", "gone", "2"])
    assert [s for s, _ in got] == ["1", "gone", "2"] and isinstance(got[1][1], FileNotFoundError)
    with pytest.raises(ValueError, match="a bug in a reader"):
        read_all(["1", "boom", "2"])
    assert not ingest_mod._JOBS


def test_what_a_killed_worker_took_is_read_by_the_writing_process(parallel):
    sources = [str(i) for i in range(50)] + ["die"] + [str(i) for i in range(50, 100)] + ["die"]
    got = read_all(sources)
    expected = serial(sources)
    assert got == expected and len(got) == 102


def test_no_worker_outlives_the_read(parallel, monkeypatch):
    pools = []
    real = ingest_mod._pool_for
    monkeypatch.setattr(ingest_mod, "_pool_for", lambda todo, pricer=None: pools.append(real(todo, pricer)) or pools[-1])
    reader = Reader()
    results = ingest_mod._read_all([(reader, str(i), None, True) for i in range(40)])
    next(results)
    pids = list(pools[0].pids)
    assert len(pids) == 2 and all(_alive(p) for p in pids)     # workers are there (running or done) ...
    results.close()                                            # ... the caller stops early (an error, Ctrl-C)
    assert not [p for p in pids if _alive(p)]                  # stopped and reaped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_result_pipes_hold_a_megabyte_where_the_system_allows():
    # With the default 64 KB a worker waited for the writing process more than it parsed.
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are fixed here")
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            limit = int(f.read())
    except OSError:
        pytest.skip("no pipe size limit to read")
    r, w = os.pipe()
    try:
        ingest_mod._widen(w)
        assert fcntl.fcntl(w, fcntl.F_GETPIPE_SZ) == (1 << 20 if limit >= 1 << 20 else 65536)
    finally:
        os.close(r)
        os.close(w)


class NiceReader(Reader):
    """Each read answers with the niceness it ran at (as its bytes_read)."""

    def read(self, source, cursor) -> ReadResult:
        return ReadResult([], Cursor("claude", source, 0, 0, 0, 0, "fp"), bytes_read=os.nice(0), bad_lines=0)


def test_readers_run_behind_the_writing_process(parallel):
    # The writing process is what a first ingest waits on: the forked readers yield to it.
    reader = NiceReader()
    mine = os.nice(0)
    got = [r.bytes_read for _, _, _, r in ingest_mod._read_all([(reader, str(i), None, True) for i in range(8)])]
    assert got == [min(mine + ingest_mod.WORKER_NICE, 19)] * 8
    assert os.nice(0) == mine                     # (this process keeps its own)
