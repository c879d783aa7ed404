"""The shortcuts a big tree takes through ingest: unchanged JSONL sources are skipped on one stat
without a read call (only where that is exactly what the reader would decide), and the progress
bar is sized only where it can be drawn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from token_roi import ingest as ingest_mod
from token_roi.adapters.base import Adapter
from token_roi.adapters.claude import ADAPTER, ClaudeAdapter
from token_roi.adapters.jsonl import JsonlAdapter
from token_roi.ingest import ingest
from token_roi.store import Store

SESSION = "7f3c2a91-5b1e-4c8a-9d2f-0e6b8a4c1d35"


def usage_line(i: int, session: str = SESSION) -> str:
    return ('{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/u/proj",'
            f'"sessionId":"{session}","version":"2.1.140","gitBranch":"main","type":"assistant",'
            f'"message":{{"model":"claude-sonnet-4-6","id":"msg_{session[:4]}{i}","type":"message",'
            '"role":"assistant","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",'
            f'"usage":{{"input_tokens":{i},"cache_creation_input_tokens":0,"cache_read_input_tokens":100,'
            f'"output_tokens":{10 * i}}}}},"requestId":"req_{session[:4]}{i}","uuid":"u{i}",'
            f'"timestamp":"2026-10-0{1 + i % 8}T10:00:0{i % 10}.000Z"}}\n')


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cfg"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    proj = root / "projects" / "-home-u-proj"
    proj.mkdir(parents=True)
    for n in range(5):
        session = f"{n}" * 8 + SESSION[8:]
        (proj / f"{session}.jsonl").write_text("".join(usage_line(i, session) for i in range(1, 4)))
    return proj


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ledger.sqlite3")
    yield s
    s.close()


def totals(store):
    return store.db.execute("SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens) FROM calls").fetchone()


def test_unchanged_sources_are_not_read_again(tree, store, monkeypatch):
    ingest(store, ["claude"], show_progress=False)
    reads = []
    real = JsonlAdapter.read
    monkeypatch.setattr(JsonlAdapter, "read", lambda self, s, c: reads.append(s.key) or real(self, s, c))
    again = ingest(store, ["claude"], show_progress=False)
    assert (again.sources, again.sources_read, reads) == (5, 0, [])
    # One file grows, one keeps its size but is rewritten (new mtime): both are read, nothing else.
    grown, touched = sorted(tree.iterdir())[:2]
    with open(grown, "a") as f:
        f.write(usage_line(7, grown.stem))
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    third = ingest(store, ["claude"], show_progress=False)
    assert sorted(reads) == sorted([str(grown), str(touched)])
    assert third.rows == 1 and totals(store) == (16, 5 * 6 + 7, 5 * 60 + 70)


def test_a_half_written_last_line_is_read_once_complete(tree, store):
    path = sorted(tree.iterdir())[0]
    with open(path, "a") as f:
        f.write(usage_line(8, path.stem)[:-40])          # no newline yet: still being written
    ingest(store, ["claude"], show_progress=False)
    assert totals(store) == (15, 30, 300)
    ingest(store, ["claude"], show_progress=False)        # same size and time: skipped on a stat
    assert totals(store) == (15, 30, 300)
    with open(path, "a") as f:
        f.write(usage_line(8, path.stem)[-40:])
    ingest(store, ["claude"], show_progress=False)
    assert totals(store) == (16, 38, 380)


class _Counting(JsonlAdapter):
    """A JSONL adapter with its own read: the stat shortcut must not decide for it."""
    name = "claude"

    def __init__(self, inner):
        self.inner, self.reads = inner, 0

    def sources(self):
        return self.inner.sources()

    def read(self, source, cursor):
        self.reads += 1
        return self.inner.read(source, cursor)


def test_adapters_with_their_own_read_are_always_asked(tree, store, monkeypatch):
    counting = _Counting(ClaudeAdapter())
    monkeypatch.setattr(ingest_mod.adapters, "available", lambda agents=None: [counting])
    ingest(store, ["claude"], show_progress=False)
    ingest(store, ["claude"], show_progress=False)
    assert counting.reads == 10
    assert ingest_mod._skips_by_stat(ADAPTER) and not ingest_mod._skips_by_stat(counting)
    assert not ingest_mod._skips_by_stat(Adapter())


def test_no_size_hints_when_stderr_is_not_a_terminal(tree, store, monkeypatch):
    ingest(store, ["claude"])
    hints = []
    real = Adapter.size_hint
    monkeypatch.setattr(Adapter, "size_hint", lambda self, s, c: hints.append(s) or real(self, s, c))
    ingest(store, ["claude"])                              # progress asked for; stderr is captured
    assert hints == [] and totals(store) == (15, 30, 300)


def _calls(store):
    cols = [r[1] for r in store.db.execute("PRAGMA table_info(calls)") if not r[1].endswith("_at")]
    return store.db.execute(f"SELECT {', '.join(cols)} FROM calls ORDER BY agent, dedupe_key").fetchall()


def _sources(store):
    return store.db.execute("SELECT agent, path, offset, size, fingerprint, state, bad_lines, rows_seen "
                            "FROM sources ORDER BY path").fetchall()


def test_parallel_read_lands_the_same_rows_and_cursors_as_a_serial_one(tree, tmp_path, monkeypatch):
    # A resumed session starts with a copy of its parent's lines (same ids, another session),
    # a garbage line and a half-written last line: ties and cursors must come out as in a serial read.
    first = sorted(tree.iterdir())[0]
    resumed = tree / ("9" * 8 + SESSION[8:] + ".jsonl")
    resumed.write_text(first.read_text() + "not json\n" + usage_line(9, resumed.stem) + usage_line(5)[:-30])
    (tree / "empty.jsonl").write_text("")
    serial, parallel = Store(tmp_path / "serial.sqlite3"), Store(tmp_path / "parallel.sqlite3")
    try:
        a = ingest(serial, ["claude"], show_progress=False)
        monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 0)
        monkeypatch.setattr(ingest_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
        # Earlier tests in the session (the browser tests' Playwright) leave threads running, and
        # ingest rightly never forks beside threads (tested below): here, compare the two reads.
        import threading
        monkeypatch.setattr(threading, "active_count", lambda: 1)
        pools = []
        from token_roi import ingest_pool
        real_pool = ingest_pool._pool
        monkeypatch.setattr(ingest_pool, "_pool", lambda: pools.append(real_pool()) or pools[-1])
        b = ingest(parallel, ["claude"], show_progress=False)
        assert len(pools) == 1 and pools[0] is not None            # the workers did read
        assert (a.sources, a.sources_read, a.rows, a.bytes_read, a.bad_lines) == \
               (b.sources, b.sources_read, b.rows, b.bytes_read, b.bad_lines) == (7, 7, 16, a.bytes_read, 1)
        assert _calls(serial) == _calls(parallel) and _sources(serial) == _sources(parallel)
    finally:
        serial.close()
        parallel.close()


def test_parallel_read_skips_a_file_that_vanished(tree, store, monkeypatch):
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(ingest_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    gone = sorted(tree.iterdir())[0]
    listed = ADAPTER.sources

    def sources():
        found = list(listed())
        gone.unlink()
        return iter(found)

    monkeypatch.setattr(ADAPTER, "sources", sources)
    stats = ingest(store, ["claude"], show_progress=False)
    assert stats.warnings == [] and stats.sources == 5 and stats.sources_read == 4
    assert totals(store) == (12, 24, 240)


def test_no_workers_are_forked_beside_other_threads(tree, store, monkeypatch):
    import threading
    monkeypatch.setattr(ingest_mod, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(ingest_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    pools = []
    from token_roi import ingest_pool
    real_pool = ingest_pool._pool
    monkeypatch.setattr(ingest_pool, "_pool", lambda: pools.append(real_pool()) or pools[-1])
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        stats = ingest(store, ["claude"], show_progress=False)
    finally:
        stop.set()
        other.join()
    assert pools == [None] and stats.sources_read == 5 and totals(store) == (15, 30, 300)


@pytest.mark.parametrize("chunk", [None, 1500, 64])
@pytest.mark.parametrize("body", ["", "x" * 10, "short\nhalf",
                                  "\n".join(f"line {i} " * 40 for i in range(300)) + "\ntail"])
def test_the_cursor_fingerprint_is_that_of_the_file_however_it_was_read(tmp_path, monkeypatch, chunk, body):
    # Taken from the bytes in memory when the file was read in one chunk, else from the file:
    # either way what the next read compares with fingerprint(f, offset).
    from token_roi.adapters import jsonl
    if chunk:
        monkeypatch.setattr(jsonl, "CHUNK", chunk)
        monkeypatch.setattr(jsonl, "WINDOW", 16)
    path = tmp_path / "s.jsonl"
    path.write_text(body)
    got = jsonl.read_incremental(ADAPTER, _source(path), None).cursor
    with open(path, "rb") as f:
        assert got.fingerprint == jsonl.fingerprint(f, got.offset)
    assert got.offset == body.rfind("\n") + 1


def _source(path):
    from token_roi.adapters.base import Source
    return Source("claude", str(path), "jsonl", {})
