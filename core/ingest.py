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
from itertools import chain

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


EARLY_SOURCES = 256    # new files listed, with no cursor in the ledger at all: a first ingest under way


def _plan(store: Store, agents: list[str] | None, stats: IngestStats, walked: list | None = None,
          first_ingest=None) -> list:
    """(adapter, source, cursor or None, skips_by_stat) of every source with something to read.
    `walked` gets (adapter, [(key, path), ...], listing) of each adapter whose sources were all
    known, for tree_snapshot.save once the reads are committed. `first_ingest` is called once
    the walk has listed EARLY_SOURCES files into a ledger without cursors (see refresh)."""
    # A warm run has thousands of unchanged files. Where the tree snapshot holds (no folder
    # changed), each costs one stat against it and only the files that moved are read (a report
    # during a session); else one stat against a light index of the cursors after a walk. Full
    # cursors (JSON state and all) are decoded only for the files that changed.
    snap = tree_snapshot.load(store)
    marks = store.source_marks() if snap else {}
    known = None
    changed = []
    stat, same = os.stat, jsonl.same_stat

    def cursor_index() -> dict:
        nonlocal known
        if known is None:
            known = store.cursor_stats()
        return known

    for adapter in adapters.available(agents):
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
        listed = []
        try:
            for source in adapter.sources():
                if known is None:
                    known = cursor_index()
                key = (name, source.key)
                listed.append((key[1], source.path))
                if first_ingest is not None and len(listed) >= EARLY_SOURCES and not known:
                    first_ingest()
                    first_ingest = None
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


def _run(store: Store, todo: list, stats: IngestStats, show_progress: bool, pricer=None) -> None:
    # The bar is drawn on a terminal only; sizing it costs a stat per source, so only there.
    progress = None
    if show_progress and sys.stderr.isatty():
        progress = Progress(sum(a.size_hint(s, c) for a, s, c, _ in todo))
    batch: list = []
    batch_bytes = 0

    def commit() -> None:
        with store.transaction():
            mark = (store.db.execute("SELECT max(id) FROM calls").fetchone()[0] or 0) if pricer else 0
            # One executemany for the batch's rows, one for its cursors (hundreds of sources,
            # one call each cost the writing process ~0.05 s on 1 GB).
            stats.rows += store.upsert_values(chain.from_iterable(_values(batch)))
            store.put_cursors([result.cursor for result in batch])
            if pricer is not None:
                pricer.price_after(store, mark)   # (while the workers parse on: see refresh)
        batch.clear()

    for adapter, source, cursor, result in _read_all(todo, pricer):
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


def _values(batch: list):
    """Each result's rows as the upsert's parameter tuples (a worker's come as such already)."""
    now = int(time.time() * 1000)
    for result in batch:
        rows = result.rows
        yield rows if type(rows) is list and rows and type(rows[0]) is tuple else [row_values(r, now) for r in rows]


def _read_one(adapter, source, cursor):
    try:
        return adapter.read(source, cursor)
    except OSError as exc:
        return exc


def _read_all(todo: list, pricer=None):
    """(adapter, source, cursor, ReadResult or the OSError met) for each item, in order. Sources
    of pure JSONL readers (see _skips_by_stat) are parsed in worker processes when there are
    enough bytes to pay for them; the caller writes every result itself, in this order, so the
    rows and cursor of a source still land in one transaction and ties between copies of a
    call in several files resolve as in a serial read. `pricer` (a NewRowPricer) gets its
    lookup process forked beside the workers."""
    pool = _pool_for(todo, pricer)
    if pool is None:
        for adapter, source, cursor, _ in todo:
            yield adapter, source, cursor, _read_one(adapter, source, cursor)
        return
    try:
        if pricer is None or pricer.lookups is None:
            # While the workers parse, this process has time to spare: load the price tables
            # that pricing the new rows will want, rather than after the workers, on one core.
            from .pricing import catalog
            catalog.prepare()
        for i, (adapter, source, cursor, parallel) in enumerate(todo):
            got = pool.result(i) if parallel else None
            if got is None:          # not a worker's, or its worker is gone: read it here
                yield adapter, source, cursor, _read_one(adapter, source, cursor)
                continue
            if isinstance(got, bytes):
                rows, cursor_values, bytes_read, bad_lines, unchanged = marshal.loads(got)
                got = ReadResult(rows, Cursor(*cursor_values), bytes_read, bad_lines, unchanged)
            yield adapter, source, cursor, got
    finally:
        pool.close()
        _JOBS.clear()


PARALLEL_BYTES = 64 * 1024 * 1024    # below this a serial read finishes before workers pay off
_JOBS: list = []                     # what the forked workers read, by index


def _pool_for(todo: list, pricer=None) -> "_Workers | None":
    """Forked workers reading the parallel items of `todo`, or None: one core, few bytes to
    read, or no fork (Windows), where a worker would re-import everything and pickle the adapters.
    With workers, `pricer`'s lookup process is forked first (genai-prices is then imported
    there, not in this process, which writes every row)."""
    cores = _cores_to_fork()
    if cores < 2 or sum(1 for item in todo if item[3]) < 2:
        return None
    if not _at_least(((a, s, c) for a, s, c, parallel in todo if parallel), PARALLEL_BYTES):
        return None
    _JOBS[:] = todo
    if pricer is not None:
        pricer.start_lookups()
    try:
        return _Workers([i for i, item in enumerate(todo) if item[3]], min(cores, 4),
                        pricer.inherited_fds() if pricer is not None else ())
    except OSError:                  # e.g. no more processes or pipes: read serially
        _JOBS.clear()
        return None


def _cores_to_fork() -> int:
    """The cores there are to fork readers for; 0 where this process should not fork (no fork,
    as on Windows, or other threads: forking beside them can leave a child on a held lock)."""
    if not hasattr(os, "fork"):
        return 0
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return 0
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class _Workers:
    """Forked readers of _JOBS. They take item numbers from one shared pipe (4 bytes each, so
    every read takes one whole number) and answer each on a pipe of their own; result(i) waits
    for item i, keeping what arrives ahead of its turn. Not multiprocessing.Pool: its helper
    threads cost this process, the one that writes every row, ~0.3-0.5 s of CPU on 1 GB (its
    worker-handler thread wakes at every result a worker sends), besides the import."""

    def __init__(self, items: list[int], n: int, inherited=()):
        import select
        self.ahead: dict = {}                      # item -> result, arrived before its turn
        self.buffers: dict[int, bytearray] = {}    # result pipe -> bytes of a frame not complete
        self.pids: list[int] = []
        self.todo = memoryview(b"".join(i.to_bytes(4, "little") for i in items))
        self.poll = select.poll()
        tasks_r, self.tasks = os.pipe()
        try:
            for _ in range(n):
                r, w = os.pipe()
                _widen(w)
                pid = os.fork()
                if pid == 0:                       # the worker: never returns
                    _serve(tasks_r, w, [self.tasks, r, *self.buffers, *inherited])
                os.close(w)
                self.pids.append(pid)
                self.buffers[r] = bytearray()
                self.poll.register(r, select.POLLIN)
        except BaseException:
            os.close(tasks_r)
            self.close()
            raise
        os.close(tasks_r)
        os.set_blocking(self.tasks, False)
        self._feed()
        if self.tasks >= 0:                        # more than the pipe holds: fed as it drains
            self.poll.register(self.tasks, select.POLLOUT)

    def _feed(self) -> None:
        """Put as many item numbers in the task pipe as it takes now; close it after the last
        (a worker stops when it finds the pipe dry)."""
        todo = self.todo
        try:
            while todo:
                todo = todo[os.write(self.tasks, todo[:4096]):]   # (<= PIPE_BUF: all or nothing)
        except BlockingIOError:
            pass
        except BrokenPipeError:                    # no worker left: result() says so
            todo = todo[:0]
        self.todo = todo
        if not todo:
            try:
                self.poll.unregister(self.tasks)
            except KeyError:
                pass                               # (registered only when fed in several goes)
            os.close(self.tasks)
            self.tasks = -1

    def result(self, item: int):
        """Item's marshalled result, or the OSError its read met; None when no worker is left to
        send it (one was killed): the caller reads it itself. A worker's exception is raised here."""
        ahead = self.ahead
        while item not in ahead:
            if not self.buffers:
                return None
            for fd, _ in self.poll.poll():
                if fd == self.tasks:
                    self._feed()
                else:
                    self._take(fd)
        got = ahead.pop(item)
        if type(got) is bytes or isinstance(got, OSError):
            return got
        raise got

    def _take(self, fd: int) -> None:
        # (64 KB at a time: os.read allocates what it is asked for, and a 1 MB buffer cost ~25 µs
        # a read where one usually finds ~14 KB waiting; a fuller pipe is read on the next poll)
        data = os.read(fd, 1 << 16)
        if not data:                               # the worker is gone (a frame it left half-sent too)
            self.poll.unregister(fd)
            os.close(fd)
            del self.buffers[fd]
            return
        buf = self.buffers[fd]
        buf += data
        while len(buf) >= 9:
            size = int.from_bytes(buf[4:8], "little")
            if len(buf) < 9 + size:
                break
            with memoryview(buf) as view:
                item, kind, body = int.from_bytes(view[:4], "little"), buf[8], bytes(view[9:9 + size])
            del buf[:9 + size]
            if kind != 77:                         # not b"M" (marshal): a pickled exception
                import pickle
                body = pickle.loads(body)
            self.ahead[item] = body

    def close(self) -> None:
        """Stop the workers (they are done already after a whole read) and reap them."""
        if self.tasks >= 0:
            os.close(self.tasks)
            self.tasks = -1
        for fd in self.buffers:
            os.close(fd)
        self.buffers.clear()
        from . import forked
        for pid in self.pids:
            forked.stop(pid)
        self.pids.clear()


def _widen(pipe: int) -> None:
    """A result pipe of 1 MB (Linux; 64 KB by default): a worker then rarely waits for this
    process to read (it reads only between writing batches of rows); with 64 KB both workers
    waited ~0.6 s each on 1 GB, cores idle."""
    try:
        import fcntl
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):  # not Linux, or above the system's limit
        pass


# The readers run a little behind the writing process: with the reader in C, a first ingest waits
# on the writer (it alone writes every row, in order), and two readers beside it on two cores took
# a share of its CPU. Niced by 5, 1 GB: cold 1.41 -> 1.32 s (12 pairs; by 10: -4%).
WORKER_NICE = 5


def _serve(tasks: int, out: int, others: list[int]) -> None:
    """A worker's life: read the items named in the task pipe until it runs dry, each result
    framed as item (4 bytes), size (4), kind (b"M" marshal, b"P" a pickled exception), body."""
    code = 0
    try:
        for fd in others:
            if fd >= 0:
                os.close(fd)
        try:
            os.nice(WORKER_NICE)
        except OSError:
            pass
        while True:
            got = os.read(tasks, 4)
            if len(got) < 4:
                break
            item = int.from_bytes(got, "little")
            try:
                body, kind = _work(item), b"M"
            except Exception as exc:               # a bug: the writing process raises it
                body, kind = None, exc
            if type(body) is not bytes:
                import pickle
                exc = kind if body is None else body
                try:
                    body = pickle.dumps(exc)
                except Exception:                  # noqa: BLE001 - an exception that cannot travel
                    body = pickle.dumps(RuntimeError(repr(exc)))
                kind = b"P"
            from . import forked
            forked.write_all(out, b"".join((got, len(body).to_bytes(4, "little"), kind, body)))
    except BaseException:                          # noqa: BLE001 - Ctrl-C, a closed pipe: just stop
        code = 1
    finally:
        os._exit(code)


def _work(i: int):
    """In a worker: read one source; the rows go back as the upsert's parameter tuples (cheaper
    to send, and the writing process, the one that limits a first ingest, builds nothing)."""
    adapter, source, cursor, _ = _JOBS[i]
    result = _read_one(adapter, source, cursor)
    if isinstance(result, OSError):
        return result
    now = int(time.time() * 1000)
    # (marshal, not pickle: half the cost for tens of thousands of plain tuples)
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
    from . import pricing
    from .accounting import ledger
    problem = None
    pricer = None

    def first_ingest() -> None:
        # A first ingest under way (thousands of new files, no cursor yet): the price lookups
        # start now, on the core the walk leaves idle, rather than beside the parsing workers.
        nonlocal pricer
        if _cores_to_fork() >= 2:
            try:
                pricer = pricing.NewRowPricer()
            except pricing.PricingError:
                return
            pricer.start_lookups()

    try:
        todo = _plan(store, agents, stats, walked, first_ingest)
        bulk = _doubles_the_ledger(store, todo)
        if not bulk and pricer is not None:
            pricer.close()           # (a false start: many files, few bytes)
            pricer = None
        if bulk and pricer is None:
            # A first ingest prices each batch of new rows as it is written, while the workers
            # still parse, rather than all of them after, on one core (~0.1 s on 1 GB).
            try:
                pricer = pricing.NewRowPricer()
            except pricing.PricingError:
                pass                 # (a bad prices.yaml: reprice below says so)
        if pricer is not None:
            pricer.only_new_rows = not store.has_calls()
        with store.bulk_load() if bulk else nullcontext():
            _run(store, todo, stats, show_progress, pricer)
            if pricer is not None:
                pricer.finish(store)     # (what waited for a schedule still being looked up)
            if bulk:
                store.restore_early(("calls_unpriced",))    # (reprice finds what is left through it)
            # Manual entries from git-tracked ledger files (`token-roi log`) join the agents' rows;
            # a cost a person typed on an entry stays that entry's cost after pricing.
            ledger.refresh_hook(store, stats.warnings)
            try:
                pricing.reprice(store, pricer)
            except pricing.PricingError as exc:
                problem = exc        # (a bad prices.yaml): the rows read are kept, priced next time
            else:
                ledger.pin_given_costs(store)
    finally:
        if pricer is not None:
            pricer.close()
    if problem is not None:
        raise problem
    tree_snapshot.save(store, walked)
    return stats


ROW_BYTES = 16 * 1024     # Claude Code transcripts hold about one API call per 16 KB


def _doubles_the_ledger(store: Store, todo: list) -> bool:
    """Whether the reads ahead (a big read: a few MB are never worth rebuilding indexes for) will
    bring at least as many calls as the ledger holds. Sizes are summed only as far as needed: each
    costs a stat, and a first ingest has thousands of files (1 GB: 3,818 stats, ~12 ms before any
    worker starts, of which ~6% say it is over 64 MB)."""
    total, need, counted = 0, PARALLEL_BYTES, False
    for a, s, c, _ in todo:
        total += a.size_hint(s, c)
        if total >= need:
            if counted:
                return True
            need, counted = max(need, store.count_calls() * ROW_BYTES), True
            if total >= need:
                return True
    return False


def _at_least(items, size: int) -> bool:
    """Whether the reads of `items` ((adapter, source, cursor)) touch at least `size` bytes,
    summed only as far as needed (see _doubles_the_ledger)."""
    total = 0
    for a, s, c in items:
        total += a.size_hint(s, c)
        if total >= size:
            return True
    return False
