"""OpenCode: `opencode.db` (SQLite) and the legacy `storage/` JSON tree, one row per model step.

Format: README.md beside this file; checked against OpenCode's session processor.
One assistant message spans several model calls when it uses tools; at every step end OpenCode
writes a `step-finish` part with that step's `tokens` and `cost`, then ADDS the cost to the
message and OVERWRITES the message's `tokens` with the step's. The message therefore carries
the last step's tokens with the whole message's cost, so rows come from `step-finish` parts
(key `step:<part id>`); a message without any step-finish part (older builds) is booked from
its own counters (key `msg:<message id>`). Counters are already apart: `input` excludes cache,
`reasoning` is billed beside `output`; cache writes are taken as 5-minute writes (OpenCode does
not say which). `cost` is USD as OpenCode priced it; 0 means not priced by OpenCode
(subscription or unknown model), left for our own price.

The database belongs to a running OpenCode: opened read-only, retried while locked (sqlite_ro).
It has no byte offsets, so the cursor keeps the database+WAL size and mtime (nothing to do when
unchanged) and the last part rowid read; re-reads are harmless, keys being stable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...cursor import Cursor
from ...rows import UsageRow
from .. import sqlite_ro
from ..base import Adapter, ReadResult, Source
from ..fields import as_dict, epoch_ms, json_object, tokens
from . import places


def data_dir() -> Path:
    return Path(places.opencode_dir())


class OpenCodeAdapter(Adapter):
    name = "opencode"
    title = "OpenCode"
    untracked = ("cost only where OpenCode priced the model (0 for subscriptions: repriced); "
                 "cache writes' TTL (taken as 5-minute); subagent flag only from the database")

    def roots(self) -> list[Path]:
        return [data_dir()] if places.present() else []

    def sources(self) -> Iterator[Source]:
        for root in self.roots():
            db = root / "opencode.db"
            if db.is_file():
                yield Source(self.name, db, "sqlite", {})
            messages = root / "storage" / "message"
            if messages.is_dir():
                for session_dir in sorted(p for p in messages.iterdir() if p.is_dir()):
                    yield Source(self.name, session_dir, "json-dir", {"storage": str(root / "storage")})

    def size_hint(self, source: Source, cursor: Cursor | None) -> int:
        return 0 if source.kind == "json-dir" else sqlite_ro.signature(source.path)[0]

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        if source.kind == "sqlite":
            return self._read_db(source, cursor)
        return self._read_storage(source, cursor)

    # -- one step or one message -> one row -----------------------------------------------------
    def _row(self, key: str, usage: dict, cost, msg: dict, session: str | None, ts, subagent: bool) -> UsageRow | None:
        cache = as_dict(usage.get("cache"))
        counts = (tokens(usage, "input"), tokens(usage, "output"), tokens(usage, "reasoning"),
                  tokens(cache, "read"), tokens(cache, "write"))
        if not any(counts):
            return None
        path = as_dict(msg.get("path"))
        time = as_dict(msg.get("time"))
        recorded = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0 else None
        return UsageRow(
            agent=self.name, dedupe_key=key, ts=epoch_ms(ts) or epoch_ms(time.get("created")) or 0,
            session_id=session or msg.get("sessionID"), project=path.get("cwd") or path.get("root"),
            model=msg.get("modelID"), input_tokens=counts[0], output_tokens=counts[1],
            reasoning_tokens=counts[2], cache_read_tokens=counts[3], cache_write_5m_tokens=counts[4],
            is_subagent=subagent, recorded_cost=recorded,
        )

    # -- SQLite ---------------------------------------------------------------------------------
    def _read_db(self, source: Source, cursor: Cursor | None) -> ReadResult:
        size, mtime = sqlite_ro.signature(source.path)
        if cursor is not None and cursor.size == size and cursor.mtime_ns == mtime:
            return ReadResult([], cursor, unchanged=True)
        state = dict(cursor.state) if cursor else {}
        last_part = int(state.get("part_rowid", 0))
        since = int(state.get("message_updated", 0))
        db = source.path
        session_cols = sqlite_ro.columns(db, "session")
        parent = "s.parent_id" if "parent_id" in session_cols else "NULL"
        joined = "LEFT JOIN session s ON s.id = {}.session_id" if session_cols else ""
        max_part = sqlite_ro.query(db, "SELECT coalesce(max(rowid), 0) AS n FROM part")[0]["n"] \
            if sqlite_ro.columns(db, "part") else 0
        if max_part < last_part:
            last_part = since = 0             # the table was rebuilt (vacuum, restore): start over
        parts = sqlite_ro.query(
            db, f"SELECT p.rowid AS rid, p.id, p.message_id, p.session_id, p.time_created, p.data, "
                f"{parent} AS parent FROM part p {joined.format('p')} "
                "WHERE p.rowid > ? AND p.data LIKE '%step-finish%' ORDER BY p.rowid",
            (last_part,)) if max_part else []
        msg_cols = sqlite_ro.columns(db, "message")
        if not msg_cols:                       # a database OpenCode has not set up yet
            return ReadResult([], Cursor(source.agent, source.key, 0, size, mtime, None, None, state))
        updated = "m.time_updated" if "time_updated" in msg_cols else "m.time_created"
        # Messages changed since the last read (fallback rows) plus those the new parts belong to.
        messages = {r["id"]: r for r in sqlite_ro.query(
            db, f"SELECT m.id, m.session_id, m.data, {updated} AS updated, {parent} AS parent "
                f"FROM message m {joined.format('m')} WHERE {updated} >= ?", (since,))}
        wanted = {p["message_id"] for p in parts} - messages.keys()
        for chunk in _chunks(sorted(wanted), 500):
            marks = ",".join("?" * len(chunk))
            for r in sqlite_ro.query(db, f"SELECT m.id, m.session_id, m.data, {updated} AS updated, "
                                         f"{parent} AS parent FROM message m {joined.format('m')} "
                                         f"WHERE m.id IN ({marks})", tuple(chunk)):
                messages[r["id"]] = r
        rows, bad = [], 0
        decoded: dict[str, dict] = {}
        for mid, r in messages.items():
            try:
                decoded[mid] = json_object(r["data"])
            except ValueError:
                bad += 1
        for p in parts:
            try:
                data = json_object(p["data"])
                if data.get("type") != "step-finish" or not isinstance(data.get("tokens"), dict):
                    continue
                row = self._row(f"step:{p['id']}", data["tokens"], data.get("cost"),
                                decoded.get(p["message_id"], {}), p["session_id"], p["time_created"],
                                bool(p["parent"]))
            except ValueError:
                bad += 1
                continue
            if row:
                rows.append(row)
        # Messages with no step-finish part at all (older builds) are booked whole.
        candidates = [mid for mid, d in decoded.items()
                      if d.get("role") == "assistant" and isinstance(d.get("tokens"), dict)]
        stepped = set()
        for chunk in _chunks(candidates, 500):
            marks = ",".join("?" * len(chunk))
            stepped |= {r["message_id"] for r in sqlite_ro.query(
                db, f"SELECT DISTINCT message_id FROM part WHERE message_id IN ({marks}) "
                    "AND data LIKE '%step-finish%'", tuple(chunk))} if max_part else set()
        for mid in candidates:
            if mid in stepped:
                continue
            d = decoded[mid]
            try:
                row = self._row(f"msg:{mid}", d["tokens"], d.get("cost"), d, messages[mid]["session_id"],
                                None, bool(messages[mid]["parent"]))
            except ValueError:
                bad += 1
                continue
            if row:
                rows.append(row)
        if parts:
            state["part_rowid"] = parts[-1]["rid"]
        if messages:
            # Inclusive next time (>=): a message updated within the same millisecond is not missed.
            state["message_updated"] = max(int(r["updated"] or 0) for r in messages.values())
        prev = cursor.rows_seen if cursor else 0
        new = Cursor(source.agent, source.key, 0, size, mtime, None, None, state,
                     (cursor.bad_lines if cursor else 0) + bad, prev + len(rows))
        return ReadResult(rows, new, bytes_read=0, bad_lines=bad)

    # -- legacy storage/ tree -------------------------------------------------------------------
    def _read_storage(self, source: Source, cursor: Cursor | None) -> ReadResult:
        """storage/message/<session>/msg_*.json, each message rewritten as it updates; its parts
        in storage/part/<message>/prt_*.json. Only files whose size or mtime changed are read."""
        seen = dict(cursor.state.get("files", {})) if cursor else {}
        parts_root = Path(source.meta.get("storage") or Path(source.path).parent.parent) / "part"
        rows, bad, changed = [], 0, False
        for path in sorted(Path(source.path).glob("*.json")):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            sig = [st.st_size, st.st_mtime_ns]
            if seen.get(path.name) == sig:
                continue
            changed = True
            try:
                msg = json_object(path.read_bytes())
            except ValueError:
                bad += 1                       # maybe mid-write: not remembered, retried next time
                continue
            seen[path.name] = sig
            if msg.get("role") != "assistant":
                continue
            mid = msg.get("id") or path.stem
            step_rows, has_steps, retry = [], False, False
            for part_path in sorted((parts_root / mid).glob("*.json")):
                try:
                    part = json_object(part_path.read_bytes())
                except (ValueError, OSError):
                    retry = True               # a part caught mid-write: the whole message waits
                    break
                if part.get("type") != "step-finish" or not isinstance(part.get("tokens"), dict):
                    continue
                has_steps = True
                step_rows.append((f"step:{part.get('id') or part_path.stem}", part["tokens"], part.get("cost")))
            if retry:
                bad += 1
                del seen[path.name]
                continue
            if not has_steps and isinstance(msg.get("tokens"), dict):
                step_rows = [(f"msg:{mid}", msg["tokens"], msg.get("cost"))]
            for key, usage, cost in step_rows:
                try:
                    row = self._row(key, usage, cost, msg, msg.get("sessionID"), None, False)
                except ValueError:
                    bad += 1
                    continue
                if row:
                    rows.append(row)
        if not changed and cursor is not None:
            return ReadResult([], cursor, unchanged=True)
        prev = cursor.rows_seen if cursor else 0
        new = Cursor(source.agent, source.key, 0, 0, 0, None, None, {"files": seen},
                     (cursor.bad_lines if cursor else 0) + bad, prev + len(rows))
        return ReadResult(rows, new, bytes_read=0, bad_lines=bad)


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


ADAPTER = OpenCodeAdapter()
