"""GitHub Copilot CLI: `session-store.db`, one row per model call (`assistant_usage_events`).

Format: README.md beside this file (tracker). The store is SQLite in
WAL mode, often with every row still in `session-store.db-wal`; opened read-only, retried while
locked (sqlite_ro), never written. Rows are only ever inserted, so the cursor keeps the last
rowid read and the database+WAL signature (nothing to do when unchanged).

Counters: `input_tokens` includes both cache reads and cache writes, so uncached input =
input - cache_read - cache_write (cache writes taken as 5-minute ones). `reasoning_tokens` is
inferred to be part of `output_tokens` (the OpenAI convention Copilot's API follows), so output
is stored without it when it fits. `total_nano_aiu` and `request_multiplier` are Copilot's own
units (premium requests), not USD: no recorded cost. A call made for a subagent carries
`parent_tool_call_id`. Working directory and branch come from the `sessions` table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...cursor import Cursor
from ...rows import UsageRow
from .. import sqlite_ro
from ..base import Adapter, ReadResult, Source
from ..fields import epoch_ms, tokens
from . import places


def copilot_home() -> Path:
    return Path(places.copilot_home())


class CopilotAdapter(Adapter):
    name = "copilot"
    title = "GitHub Copilot CLI"
    untracked = ("no USD cost (Copilot bills premium requests; priced from tokens); "
                 "Copilot in the editor (VS Code, JetBrains) and on github.com")

    def roots(self) -> list[Path]:
        return [copilot_home()] if places.present() else []

    def sources(self) -> Iterator[Source]:
        for home in self.roots():
            yield Source(self.name, home / "session-store.db", "sqlite", {})

    def size_hint(self, source: Source, cursor: Cursor | None) -> int:
        return sqlite_ro.signature(source.path)[0]

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        size, mtime = sqlite_ro.signature(source.path)
        if cursor is not None and cursor.size == size and cursor.mtime_ns == mtime:
            return ReadResult([], cursor, unchanged=True)
        db = source.path
        state = dict(cursor.state) if cursor else {}
        cols = sqlite_ro.columns(db, "assistant_usage_events")
        if not cols:                           # a store Copilot has not set up yet
            return ReadResult([], Cursor(source.agent, source.key, 0, size, mtime, None, None, state))
        last = int(state.get("rowid", 0))
        top = sqlite_ro.query(db, "SELECT coalesce(max(rowid), 0) AS n FROM assistant_usage_events")[0]["n"]
        if top < last:
            last = 0                           # the store was rebuilt: read it again (keys dedupe)
        s_cols = sqlite_ro.columns(db, "sessions")

        def pick(table_cols, alias, *names):
            for n in names:
                if n in table_cols:
                    return f"{alias}.{n}"
            return "NULL"

        model = "coalesce(" + ", ".join(
            [f"e.{n}" for n in ("copilot_usage_model", "model") if n in cols] + ["NULL"]) + ")"
        join = "LEFT JOIN sessions s ON s.id = e.session_id" if s_cols else ""
        sql = (f"SELECT e.rowid AS rid, {pick(cols, 'e', 'id')} AS id, e.session_id, "
               f"{pick(cols, 'e', 'created_at', 'timestamp')} AS created, {model} AS model, "
               f"e.input_tokens, e.output_tokens, {pick(cols, 'e', 'cache_read_tokens')} AS cache_read, "
               f"{pick(cols, 'e', 'cache_write_tokens')} AS cache_write, "
               f"{pick(cols, 'e', 'reasoning_tokens')} AS reasoning, "
               f"{pick(cols, 'e', 'parent_tool_call_id')} AS parent_call, "
               f"{pick(s_cols, 's', 'cwd')} AS cwd, {pick(s_cols, 's', 'branch')} AS branch "
               f"FROM assistant_usage_events e {join} WHERE e.rowid > ? ORDER BY e.rowid")
        rows, bad = [], 0
        for r in sqlite_ro.query(db, sql, (last,)):
            last = max(last, r["rid"])
            try:
                rec = {k: r[k] for k in ("input_tokens", "output_tokens", "cache_read", "cache_write", "reasoning")}
                whole_in, out = tokens(rec, "input_tokens"), tokens(rec, "output_tokens")
                read, write, reasoning = tokens(rec, "cache_read"), tokens(rec, "cache_write"), tokens(rec, "reasoning")
            except ValueError:
                bad += 1
                continue
            if not (whole_in or out or read or write or reasoning):
                continue
            # Cache traffic is inside input; when a count does not fit, trust the cache figures.
            uncached = max(0, whole_in - read - write)
            if reasoning > out:
                reasoning_part = 0             # reported apart after all: keep both as given
            else:
                reasoning_part = reasoning
            rows.append(UsageRow(
                agent=self.name, dedupe_key=f"{r['session_id']}:{r['id'] if r['id'] is not None else r['rid']}",
                ts=epoch_ms(r["created"]) or 0, session_id=r["session_id"], project=r["cwd"],
                model=r["model"], input_tokens=uncached, cache_read_tokens=read, cache_write_5m_tokens=write,
                output_tokens=out - reasoning_part, reasoning_tokens=reasoning,
                is_subagent=bool(r["parent_call"]), git_branch=r["branch"],
            ))
        state["rowid"] = last
        prev = cursor.rows_seen if cursor else 0
        new = Cursor(source.agent, source.key, 0, size, mtime, None, None, state,
                     (cursor.bad_lines if cursor else 0) + bad, prev + len(rows))
        return ReadResult(rows, new, bytes_read=0, bad_lines=bad)


ADAPTER = CopilotAdapter()
