"""Manual ledger entries as a source: the git-tracked JSONL files `token-roi log` writes
(default `cogs/ai-ledger/entries.jsonl` in a project), read by ingest like any agent's logs.

The format and its rules are in README.md beside this file. A file is mirrored whole: when it
changed (size, mtime or inode, then a hash of its bytes) every entry becomes a `calls` row
(origin 'manual', dedupe key `ledger:<id>`, the row's agent the entry's own) and rows that came
from this file but are no longer in it are removed (see Store.mirror_entries). A malformed line
is skipped and named (file and line number) on every read until it is fixed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ... import config
from ...config.validation import errors as schema_errors
from ...config.validation import one_line, show_value
from ...cursor import Cursor
from ...digest import blake2b
from ...errors import TokenRoiError
from ...rows import UsageRow
from ..base import Adapter, ReadResult, Source
from ..fields import epoch_ms

NAME = "ledger"          # the agent name of the files' cursors (the rows carry each entry's agent)
SCHEMA = "ledger-entry.schema.json"
DEFAULT_FILE = "cogs/ai-ledger/entries.jsonl"


class LedgerError(TokenRoiError):
    """One line: the file, the line number and what is wrong with it."""


@dataclass
class Entry:
    """One entry as a `calls` row: the row, and the columns only manual entries have."""
    row: UsageRow
    category: str
    feature: str | None
    notes: str | None


class EntriesRead(ReadResult):
    """A ledger file read whole: `entries` are every entry it holds now (one per id, the later
    line wins; None when there is nothing to mirror), `errors` its malformed lines, named on
    every read until fixed. `rows` stays empty: ingest writes the entries with
    Store.mirror_entries, which also removes the rows of entries gone from the file."""

    def __init__(self, cursor: Cursor, *, entries: list[Entry] | None = None, errors: list[str] | None = None,
                 bytes_read: int = 0, unchanged: bool = False):
        super().__init__([], cursor, bytes_read, len(errors or ()), unchanged)
        self.entries: list[Entry] | None = entries
        self.errors: list[str] = list(errors or ())


def parse_ts(text: str) -> int:
    """Epoch ms of an entry's ISO time (its zone required by the schema), by the adapters' one
    timestamp rule (fields.epoch_ms); ValueError when it is no real time."""
    ms = epoch_ms(text)
    if ms is None:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    return ms


def problems_of(entry: object) -> list[tuple[str, str, str]]:
    """(key, value, what is allowed) for each problem of `entry` against the schema."""
    found = schema_errors(entry, SCHEMA)
    if not found and isinstance(entry, dict):
        try:
            parse_ts(entry["ts"])
        except ValueError:
            found = [("ts", show_value(entry["ts"]), "a real ISO 8601 time, e.g. 2026-11-22T14:05:00Z")]
    return found


def parse_line(line: bytes | str, path: Path | str, lineno: int) -> dict:
    """The entry on one line, or LedgerError('<path> line <n>: ...')."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerError(f"{path} line {lineno}: not UTF-8 text") from None
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path} line {lineno}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(entry, dict):
        raise LedgerError(f"{path} line {lineno}: expected a JSON object, found {type(entry).__name__}")
    problems = problems_of(entry)
    if problems:
        raise LedgerError(one_line(f"{path} line {lineno}", problems[0]))
    return entry


def parse_lines(data: bytes, path: Path | str) -> tuple[list[tuple[int, dict]], list[str]]:
    """((line number, entry) for each good line, one-line errors for the bad ones). Blank lines
    are allowed; a last line without its newline is read too (a person may have edited the file)."""
    good, bad = [], []
    if data.startswith(b"\xef\xbb\xbf"):           # a BOM some editors add; CRLF endings are JSON whitespace
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            good.append((lineno, parse_line(raw, path, lineno)))
        except LedgerError as exc:
            bad.append(str(exc))
    return good, bad


def to_row(entry: dict, project: str | None) -> UsageRow:
    """The `calls` row an entry becomes (dedupe key `ledger:<id>`). The given cost, when the
    person typed one, is kept as recorded_cost and wins over our price (pricing.pin_given_costs)."""
    return UsageRow(
        agent=entry["agent"],
        dedupe_key=f"ledger:{entry['id']}",
        ts=parse_ts(entry["ts"]),
        session_id=entry.get("session"),
        project=project,
        model=entry["model"],
        input_tokens=entry["input_tokens"],
        output_tokens=entry["output_tokens"],
        cache_read_tokens=entry.get("cache_read_tokens", 0),
        cache_write_5m_tokens=entry.get("cache_write_tokens", 0),
        # A cost typed by hand (cost_source 'given', or absent on a hand-written line) is kept;
        # one computed from the price table at log time is left to pricing to recompute.
        recorded_cost=(entry.get("cost_usd") if entry.get("cost_source", "given") == "given" else None),
    )


def project_root(start: Path | str | None = None) -> Path:
    """The git work tree containing `start` (default: the current directory; resolved), else
    `start` resolved."""
    here = Path(os.path.realpath(Path.cwd() if start is None else start))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def ledger_file(cfg: dict, cwd: Path | str | None = None) -> Path:
    """The configured ledger file for the project around `cwd` (default: the current
    directory); an absolute path in the settings as given."""
    configured = Path(os.path.expanduser(cfg.get("ledger", {}).get("path") or DEFAULT_FILE))
    if configured.is_absolute():
        return configured
    return project_root(Path.cwd() if cwd is None else cwd) / configured


def current_project_file() -> Path | None:
    """The current project's ledger file by the settings in effect (defaults when the config is
    unreadable: a bad config must not stop other reports)."""
    try:
        cfg = config.load()
    except config.ConfigError:
        cfg = config.DEFAULTS
    try:
        return ledger_file(cfg)
    except OSError:
        return None


class EntriesAdapter(Adapter):
    """The current project's ledger file; ingest adds every file read before (its cursor
    remembers it: `keeps_sources`), so a file in another checkout stays mirrored."""
    name = NAME
    title = "Manual ledger entries"
    keeps_sources = True

    def roots(self) -> list[Path]:
        here = current_project_file()
        return [here.parent] if here is not None and here.parent.is_dir() else []

    def sources(self) -> Iterator[Source]:
        here = current_project_file()
        if here is not None and here.exists():
            yield self.source_at(str(here))

    def source_at(self, path: str) -> Source:
        return Source(NAME, os.path.abspath(path), "jsonl")

    def read(self, source: Source, cursor: Cursor | None) -> EntriesRead:
        key = str(source.path)
        try:
            st = os.stat(key)
        except FileNotFoundError:
            # A file gone (branch switch, deleted checkout) keeps its rows; nothing to fix any more.
            if cursor is not None and cursor.state.get("errors"):
                return EntriesRead(Cursor(**{**_fields(cursor), "state": {**cursor.state, "errors": []}}))
            return EntriesRead(cursor or Cursor(NAME, key), unchanged=True)
        pending = list(cursor.state.get("errors", [])) if cursor is not None else []
        same_stat = (st.st_size, st.st_mtime_ns, st.st_ino)
        if cursor is not None and (cursor.size, cursor.mtime_ns, cursor.inode) == same_stat:
            return EntriesRead(cursor, errors=pending, unchanged=True)
        with open(key, "rb") as f:
            data = f.read()
        digest = blake2b(data, digest_size=16).hexdigest()
        if cursor is not None and cursor.fingerprint == digest:
            # touched, same bytes: remember the new stat only
            moved = Cursor(**{**_fields(cursor), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino})
            return EntriesRead(moved, errors=pending)
        good, bad = parse_lines(data, key)
        project = str(project_root(os.path.dirname(key)))
        latest: dict[str, Entry] = {}     # a duplicated line counts once (the later wins)
        for _lineno, entry in good:
            row = to_row(entry, project)
            latest[row.dedupe_key] = Entry(row, entry["category"], entry.get("feature"), entry.get("notes"))
        new = Cursor(NAME, key, len(data), st.st_size, st.st_mtime_ns, st.st_ino, digest,
                     {"errors": bad, "entries": len(latest)}, len(bad), len(latest))
        return EntriesRead(new, entries=list(latest.values()), errors=bad, bytes_read=len(data))


def _fields(cursor: Cursor) -> dict:
    return dict(zip(cursor._fields, cursor._values()))


ADAPTER = EntriesAdapter()
