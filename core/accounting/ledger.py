"""Ledger files mirrored into the store, each entry exactly once.

A ledger file (default `cogs/ai-ledger/entries.jsonl` in a project) is git-tracked: teammates
append to it, pull, edit a line, revert. So the store mirrors each file's current content:
when a file changed (size, mtime or inode, then a hash of its bytes), every entry is written as
a `calls` row (origin 'manual', dedupe key `ledger:<id>`) and rows that came from this file but
are no longer in it are removed. A line seen twice (a merge that duplicated it) is one row. A
malformed line is skipped, the others are kept, and its one-line error (file and line number)
is remembered on the file's cursor until the file is fixed; accounting commands refuse to
report while one is pending, other reports show it as a warning.

Known files are remembered in `sources` (agent 'ledger'); `refresh()` syncs them and the current
project's file. A file that disappears (branch switch, deleted checkout) keeps its rows.
"""

from __future__ import annotations

import os
import time

from ..digest import blake2b
from ..record import Record
from ..store import Cursor, Store
from . import entries

SOURCE_AGENT = "ledger"

# Every report syncs the ledger files first: paths here are strings (pathlib costs a report
# ~4 ms of imports); the Path functions are for the commands that want one.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

# The entry's priced facts are unchanged: keep the price the row already has.
_SAME = " AND ".join(f"calls.{c} IS excluded.{c}" for c in (
    "model", "ts", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "recorded_cost"))
_UPSERT = (
    "INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
    "reasoning_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, is_sidechain, "
    "is_subagent, rank, recorded_cost, ingested_at, origin, category, feature, ledger_file, notes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, 0, 0, ?, ?, 'manual', ?, ?, ?, ?) "
    "ON CONFLICT (agent, dedupe_key) DO UPDATE SET ts = excluded.ts, session_id = excluded.session_id, "
    "project = excluded.project, model = excluded.model, input_tokens = excluded.input_tokens, "
    "output_tokens = excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens, "
    "cache_write_5m_tokens = excluded.cache_write_5m_tokens, recorded_cost = excluded.recorded_cost, "
    "origin = 'manual', category = excluded.category, feature = excluded.feature, "
    "ledger_file = excluded.ledger_file, notes = excluded.notes, "
    f"cost = CASE WHEN {_SAME} THEN calls.cost END, "
    f"price_source = CASE WHEN {_SAME} THEN calls.price_source END, "
    f"price_version = CASE WHEN {_SAME} THEN calls.price_version END"
)


class SyncResult(Record):
    __slots__ = ("files", "changed", "written", "removed", "errors", "warnings")

    def __init__(self, files: int = 0, changed: int = 0, written: int = 0, removed: int = 0,
                 errors: list[str] | None = None,       # malformed lines, one line each
                 warnings: list[str] | None = None):    # unreadable files
        self.files = files
        self.changed = changed
        self.written = written
        self.removed = removed
        self.errors = [] if errors is None else errors
        self.warnings = [] if warnings is None else warnings


def _root_of(start: str) -> str:
    """The git work tree containing `start` (resolved), else `start` resolved."""
    here = d = os.path.realpath(start)
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return here
        d = parent


def project_root(start: Path | None = None) -> Path:
    """The git work tree containing `start` (default: the current directory), else `start`."""
    from pathlib import Path
    return Path(_root_of(os.getcwd() if start is None else os.fspath(start)))


def _ledger_file(cfg: dict, cwd: str | None = None) -> str:
    configured = os.path.expanduser(cfg.get("ledger", {}).get("path") or "cogs/ai-ledger/entries.jsonl")
    if os.path.isabs(configured):
        return configured
    return os.path.join(_root_of(os.getcwd() if cwd is None else cwd), configured)


def ledger_path(cfg: dict, cwd: Path | None = None) -> Path:
    """The configured ledger file for the project around `cwd` (absolute paths as given)."""
    from pathlib import Path
    return Path(_ledger_file(cfg, None if cwd is None else os.fspath(cwd)))


def sync_file(store: Store, path: Path | str, result: SyncResult | None = None) -> SyncResult:
    """Mirror one ledger file into the store (no-op when it has not changed)."""
    result = result or SyncResult()
    key = path = os.path.abspath(path)
    result.files += 1
    cursor = store.get_cursor(SOURCE_AGENT, key)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if cursor is not None and cursor.state.get("errors"):
            with store.transaction():           # nothing to fix any more: forget its errors
                cursor.state = {**cursor.state, "errors": []}
                store.put_cursor(cursor)
        return result
    except OSError as exc:
        result.warnings.append(f"{path}: {exc.strerror or exc}, skipped")
        return result
    if cursor is not None and (cursor.size, cursor.mtime_ns, cursor.inode) == (st.st_size, st.st_mtime_ns, st.st_ino):
        result.errors.extend(cursor.state.get("errors", []))
        return result
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        result.warnings.append(f"{path}: {exc.strerror or exc}, skipped")
        return result
    digest = blake2b(data, digest_size=16).hexdigest()
    if cursor is not None and cursor.fingerprint == digest:
        with store.transaction():               # touched, same bytes: remember the new stat only
            cursor.size, cursor.mtime_ns, cursor.inode = st.st_size, st.st_mtime_ns, st.st_ino
            store.put_cursor(cursor)
        result.errors.extend(cursor.state.get("errors", []))
        return result

    good, bad = entries.parse_lines(data, path)
    project = _root_of(os.path.dirname(path))
    latest: dict[tuple[str, str], tuple] = {}     # a duplicated line counts once (the later wins)
    now = int(time.time() * 1000)
    for _lineno, entry in good:
        row = entries.to_row(entry, project)
        latest[(row.agent, row.dedupe_key)] = (
            row.agent, row.dedupe_key, row.ts, row.session_id, row.project, row.model, row.input_tokens,
            row.output_tokens, row.cache_read_tokens, row.cache_write_5m_tokens, row.recorded_cost, now,
            entry["category"], entry.get("feature"), key, entry.get("notes"))
    with store.transaction():
        existing = store.db.execute(
            "SELECT id, agent, dedupe_key FROM calls WHERE origin = 'manual' AND ledger_file = ?", (key,)).fetchall()
        gone = [(r[0],) for r in existing if (r[1], r[2]) not in latest]
        store.db.executemany("DELETE FROM calls WHERE id = ?", gone)
        store.db.executemany(_UPSERT, latest.values())
        store.put_cursor(Cursor(SOURCE_AGENT, key, len(data), st.st_size, st.st_mtime_ns, st.st_ino, digest,
                                {"errors": bad, "entries": len(latest)}, len(bad), len(latest)))
    result.changed += 1
    result.written += len(latest)
    result.removed += len(gone)
    result.errors.extend(bad)
    return result


def known_files(store: Store) -> list[str]:
    return [p for (_a, p) in store.cursors(SOURCE_AGENT)]


def sync_all(store: Store, extra: list[Path | str] | None = None) -> SyncResult:
    """Sync every known ledger file plus `extra` (e.g. the current project's)."""
    result = SyncResult()
    seen = set()
    for path in [*(extra or []), *known_files(store)]:
        key = os.path.abspath(path)
        if key in seen:
            continue
        seen.add(key)
        sync_file(store, key, result)
    return result


def current_project_file() -> str | None:
    """The current project's ledger file by the settings in effect (defaults when the config is
    unreadable: a bad config must not stop other reports)."""
    from .. import config
    try:
        cfg = config.load()
    except config.ConfigError:
        cfg = config.DEFAULTS
    try:
        return _ledger_file(cfg)
    except OSError:
        return None


def pin_given_costs(store: Store) -> int:
    """A cost a person typed on an entry is the entry's cost, whatever the price table says:
    run after pricing.reprice() so every report's `cost` column shows it."""
    with store.transaction():
        cur = store.db.execute(
            "UPDATE calls SET cost = recorded_cost, price_source = 'ledger' "
            "WHERE origin = 'manual' AND recorded_cost IS NOT NULL "
            "AND (cost IS NULL OR cost != recorded_cost OR price_source IS NOT 'ledger')")
        return cur.rowcount


def refresh_hook(store: Store, warnings: list[str] | None = None) -> SyncResult:
    """What ingest.refresh() calls before pricing: sync known ledgers and this project's."""
    here = current_project_file()
    result = sync_all(store, [here] if here is not None and os.path.exists(here) else [])
    if warnings is not None:
        warnings.extend(result.warnings)
        warnings.extend(result.errors)
    return result
