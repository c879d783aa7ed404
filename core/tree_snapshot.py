"""What the last ingest saw of each agent's log tree, so that a warm run proves nothing changed
with one stat per folder and per file (no walk, no cursor index, no Source objects), and a run
during a session finds the transcripts that grew the same way and reads only those.

An entry is written after a run that knew every source of an adapter whose `listing()` proves
them (for Claude: every folder settled and free of links, see FolderCache) and holds a cursor for
each: the adapter's roots, each folder's (mtime, inode), each source's (size, mtime, inode) as its
cursor recorded them, and the agent's source mark (m009: a random value renewed by trigger
whenever any of its cursors is written or removed). While the roots, the adapter's code and every
folder's stat are the same, the folders hold the same files: no walk is needed. Which of them to
read: while the mark is the same (the cursors are those the entry was taken from), the files
whose stat differs from the entry's; when another process wrote a cursor since (the Stop hook
recording its session), each file against its cursor in the index, as a walk would, and the entry
is written again. Anything else and the run walks. The file (`tree-snapshot`, beside the ledger)
is derived: lost, stale or unreadable, nothing but a walk is lost.
"""

from __future__ import annotations

import marshal
import os
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .adapters.base import Adapter
from .safe_io import private
from .store import Store

NAME = "tree-snapshot"
FORMAT = (2, __version__)
# An entry: (code stamp, mark, roots, number of folders, every folder's then every file's path
# joined by NUL, their numbers as one array of int64: (mtime, inode) per folder, (size, mtime,
# inode or -1) per file). Flat, because unmarshalling 10,000 small tuples cost more than the stats.


def _path(store: Store) -> Path:
    return store.path.parent / NAME


def _code_stamp(adapter: Adapter) -> int:
    """The adapter module's mtime: an edited walk must not trust a listing made by the old one."""
    try:
        return os.stat(sys.modules[type(adapter).__module__].__file__ or "").st_mtime_ns
    except (KeyError, AttributeError, TypeError, OSError):
        return -1


def load(store: Store) -> dict[str, Any]:
    """agent -> entry; {} when there is none or it cannot be read."""
    try:
        snap = marshal.loads(_path(store).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if type(snap) is not dict or snap.get("format") != FORMAT:
        return {}
    return snap


@dataclass
class Seen:
    """What a snapshot entry proves about the tree now: its sources (every one), those to read
    ((path, whether it has a cursor): their stat differs from their cursor's), and the listing
    to write the next entry from when one is due (None when the entry still holds as it is)."""
    sources: list[str]
    changed: list[tuple[str, bool]]
    listing: tuple[Any, dict[str, tuple[int, int]]] | None


CursorStats = dict[tuple[str, str], tuple[int, int, "int | None"]]


def check(entry: Any, adapter: Adapter, marks: dict[str, bytes],
          cursor_index: Callable[[], CursorStats]) -> Seen | None:
    """The adapter's sources as `entry` saw them, when every folder is as it was (then so are
    the files in each), with those to read: the files whose stat moved since the entry, when the
    agent's cursors are still those it was taken with (its mark); else, when another process
    (the Stop hook recording its session, say) wrote a cursor since, each file against its cursor
    in `cursor_index()` ((agent, path) -> (size, mtime, inode)), as a walk would. None when the
    folders, roots or the adapter's code may differ: walk."""
    try:
        stamp, mark, roots, n_folders, joined, packed = entry
        paths = joined.split("\0")
        numbers = array("q")
        numbers.frombytes(packed)
    except (TypeError, ValueError):
        return None
    if len(numbers) != 2 * n_folders + 3 * (len(paths) - n_folders):
        return None
    if stamp != _code_stamp(adapter) or roots != adapter.root_keys():
        return None              # another walk, or a root came or went (CLAUDE_CONFIG_DIR changed)
    changed: list[tuple[str, bool]] = []
    current = mark is not None and marks.get(adapter.name) == mark   # (the cursors the entry saw)
    value = iter(numbers).__next__
    try:
        for path in paths[:n_folders]:
            st = os.stat(path)
            if st.st_mtime_ns != value() or st.st_ino != value():
                return None      # a file added, removed or renamed in it
        if current:
            for path in paths[n_folders:]:
                st = os.stat(path)
                size, mtime_ns, inode = value(), value(), value()
                if st.st_size != size or st.st_mtime_ns != mtime_ns or (inode != -1 and st.st_ino != inode):
                    changed.append((path, True))     # appended to, rewritten or replaced
        else:
            known, name = cursor_index(), adapter.name
            for path in paths[n_folders:]:
                st = os.stat(path)
                c = known.get((name, path))
                if c is None:
                    changed.append((path, False))    # its cursor was removed: read it anew
                elif not (c[0] == st.st_size and c[1] == st.st_mtime_ns and (c[2] is None or c[2] == st.st_ino)):
                    changed.append((path, True))
    except OSError:
        return None              # (a file gone: its folder changed too)
    listing = None
    if changed or not current:
        listing = (roots, {f: (numbers[2 * i], numbers[2 * i + 1]) for i, f in enumerate(paths[:n_folders])})
    return Seen(paths[n_folders:], changed, listing)


def save(store: Store, walked: list[tuple[Adapter, list[tuple[str, str]], Any]]) -> None:
    """Entries for the adapters whose every source this run knew, `walked` holding (adapter,
    [(cursor key, path), ...], listing: see Adapter.listing, None when it proves nothing); called
    once the run's rows and cursors are committed. The cursors are read again, all of them, with
    the mark: another process may have moved any of them since the listing. Best effort."""
    eligible = [item for item in walked if item[2] is not None]
    if not eligible:
        return
    stats, marks = store.cursor_stats_marked()
    snap = load(store)
    snap["format"] = FORMAT
    for adapter, sources, (roots, folders) in eligible:
        name = adapter.name
        paths: list[str] = list(folders)
        numbers = [n for mtime_ns, inode in folders.values() for n in (mtime_ns, inode)]
        for key, path in sources:
            st = stats.get((name, key))
            if st is None:
                break            # a source with no cursor (unreadable, vanished): walk next time
            paths.append(path)
            numbers += (st[0], st[1], -1 if st[2] is None else st[2])
        else:
            try:
                packed = array("q", numbers).tobytes()
            except OverflowError:
                packed = None    # (an inode beyond int64: some network file systems) walk instead
            if marks.get(name) is not None and packed is not None and not any("\0" in p for p in paths):
                snap[name] = (_code_stamp(adapter), marks[name], tuple(roots), len(folders),
                              "\0".join(paths), packed)
                continue
        snap.pop(name, None)
    target = _path(store)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb", opener=private) as f:
            f.write(marshal.dumps(snap))
        tmp.replace(target)
    except OSError:              # (read-only data dir): the next run walks
        tmp.unlink(missing_ok=True)
