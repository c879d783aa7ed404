"""OpenClaw: per-call usage from session transcripts, as JSONL files and as SQLite copies.

Roots: `${OPENCLAW_STATE_DIR:-~/.openclaw}`, profiles `~/.openclaw-<name>`, legacy `~/.clawdbot`
and `~/.moltbot`. In each root, per agent:
- `agents/<agentId>/sessions/<sessionId>.jsonl`, plus archives `<sessionId>.jsonl.deleted.<ts>`
  and `<sessionId>.jsonl.reset.<ts>` that repeat events of the live file;
- newer builds: `agents/<agentId>/agent/openclaw-agent.sqlite`, table `transcript_events(session_id,
  seq, event_json, created_at)` whose `event_json` is a JSONL line; importing into it leaves the
  JSONL in place, so one event can exist in a live file, an archive and the database.
Every copy of an event gets the same dedupe key (event id + timestamp + input + output) so the
store keeps it once. Usage: `message.usage{input, output, cacheRead, cacheWrite, cost.total}` on
assistant messages, input without cache, cost in USD; a message without a model takes the one
from the session's last `model_change`. Zero-usage bookkeeping rows (delivery mirrors, injected
gateway messages, transcript imports) are skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ...cursor import Cursor
from ...rows import UsageRow
from .. import jsonl, sqlite_ro
from ..base import ReadResult, Source
from ..fields import count, json_object
from ..jsonl import JsonlAdapter
from . import places

# Compiled (and cached by re) at first use, not on every report.
SESSION_FILE = r"^(?P<sid>.+?)\.jsonl(?:\.(?:deleted|reset)\.[^/]+)?$"
BOOKKEEPING_MODELS = {"delivery-mirror", "gateway-injected"}
DB_NAME = "openclaw-agent.sqlite"
# Above this many changed sessions one pass over the table beats one query per session.
PER_SESSION_QUERIES = 50


def _ts_ms(event: dict, msg: dict) -> int | None:
    value = msg.get("timestamp")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value if value > 1e11 else value * 1000)
    for value in (event.get("timestamp"), msg.get("timestamp")):
        if isinstance(value, str) and value:
            try:
                t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if t.tzinfo is None:
                t = t.replace(tzinfo=dt.timezone.utc)
            return int(t.timestamp() * 1000)
    return None


def event_row(event: dict, session_id: str, ctx: dict) -> UsageRow | None:
    """The usage row of one transcript event (None for other events); `ctx` carries the
    session's cwd and last model between events and is updated here."""
    kind = event.get("type")
    if kind == "session":
        if event.get("cwd"):
            ctx["cwd"] = event["cwd"]
        return None
    if kind == "model_change":
        if event.get("modelId") or event.get("model"):
            ctx["model"] = event.get("modelId") or event.get("model")
        return None
    msg = event.get("message")
    if kind != "message" or not isinstance(msg, dict) or msg.get("role") != "assistant":
        return None
    usage = msg.get("usage")
    if not isinstance(usage, dict):
        return None
    model = msg.get("model") or ctx.get("model")
    if msg.get("api") == "openclaw-transcript" or (msg.get("provider") == "openclaw" and model in BOOKKEEPING_MODELS):
        return None
    inp, out = count(usage.get("input")), count(usage.get("output"))
    cache_read, cache_write = count(usage.get("cacheRead")), count(usage.get("cacheWrite"))
    if not (inp or out or cache_read or cache_write):
        return None
    ts = _ts_ms(event, msg)
    if ts is None:
        return None
    cost = usage.get("cost")
    recorded = cost.get("total") if isinstance(cost, dict) else cost
    return UsageRow(
        agent="openclaw",
        dedupe_key=f"{event.get('id') or ''}:{ts}:{inp}:{out}",
        ts=ts,
        session_id=session_id,
        project=ctx.get("cwd"),
        model=model,
        input_tokens=inp,
        output_tokens=out,
        cache_read_tokens=cache_read,
        cache_write_5m_tokens=cache_write,
        recorded_cost=(float(recorded) if isinstance(recorded, (int, float)) and not isinstance(recorded, bool)
                       else None),
    )


class OpenClawAdapter(JsonlAdapter):
    name = "openclaw"
    title = "OpenClaw"
    untracked = ("no reasoning split; cache writes are not split into 5-minute and 1-hour "
                 "(all counted as 5-minute)")

    def roots(self) -> list[Path]:
        if not places.present():
            return []
        out, seen = [], set()
        for root in map(Path, places.openclaw_candidates()):
            if (root / "agents").is_dir() and root.resolve() not in seen:
                seen.add(root.resolve())
                out.append(root)
        return out

    def sources(self) -> Iterator[Source]:
        for root in self.roots():
            for agent_dir in self._listing(root / "agents"):
                if not agent_dir.is_dir():
                    continue
                meta = {"agent_id": agent_dir.name, "root": str(root)}
                for f in self._listing(agent_dir / "sessions"):
                    m = re.match(SESSION_FILE, f.name)
                    if m and f.is_file():
                        yield Source(self.name, f, "jsonl", {**meta, "session_id": m.group("sid")})
                db = agent_dir / "agent" / DB_NAME
                if db.is_file():
                    yield Source(self.name, db, "sqlite", meta)

    def _listing(self, folder: Path) -> list[Path]:
        """A folder's entries, sorted; an unreadable folder is reported and skipped, so it does
        not hide the other agents' sessions."""
        try:
            return sorted(folder.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            warn = getattr(self, "warn", None)
            if warn:
                warn(f"{folder}: {exc.strerror or exc}, skipped")
            return []

    # -- JSONL ----------------------------------------------------------------------------------
    def parse(self, buf: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        rows, bad = [], 0
        sid = source.meta["session_id"]
        for line in buf.splitlines():
            if not line.strip():
                continue
            try:
                event = json_object(line)
            except ValueError:
                bad += 1
                continue
            row = event_row(event, sid, state)
            if row:
                rows.append(row)
        return rows, bad

    # -- SQLite ---------------------------------------------------------------------------------
    def size_hint(self, source: Source, cursor: Cursor | None) -> int:
        if source.kind != "sqlite":
            return super().size_hint(source, cursor)
        return sqlite_ro.size_hint(source.path, cursor)

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        if source.kind == "jsonl":
            return jsonl.read_incremental(self, source, cursor)
        size, mtime = sqlite_ro.signature(source.path)
        if cursor is not None and (cursor.size, cursor.mtime_ns) == (size, mtime):
            return ReadResult([], cursor, unchanged=True)
        state = dict(cursor.state) if cursor else {}
        seen: dict = dict(state.get("seq", {}))       # session -> last seq read
        ctxs: dict = dict(state.get("ctx", {}))       # session -> {cwd, model}
        tops = sqlite_ro.query(source.path,
                               "SELECT session_id, MAX(seq) AS top FROM transcript_events GROUP BY session_id")
        changed = {r["session_id"]: r["top"] for r in tops
                   if r["top"] is not None and r["top"] > seen.get(r["session_id"], -1)}
        if len(changed) > PER_SESSION_QUERIES:
            events = sqlite_ro.query(source.path, "SELECT session_id, seq, event_json FROM transcript_events "
                                                  "ORDER BY session_id, seq")
        else:
            events = []
            for sid in changed:
                events += sqlite_ro.query(source.path, "SELECT session_id, seq, event_json FROM transcript_events "
                                                       "WHERE session_id = ? AND seq > ? ORDER BY seq",
                                          (sid, seen.get(sid, -1)))
        rows, bad = [], 0
        for r in events:
            sid, seq = r["session_id"], r["seq"]
            if sid not in changed or seq <= seen.get(sid, -1):
                continue
            try:
                event = json_object(r["event_json"])
            except (TypeError, ValueError):
                bad += 1
                continue
            ctx = ctxs.setdefault(sid, {})
            row = event_row(event, sid, ctx)
            if row:
                rows.append(row)
        for sid, top in changed.items():
            seen[sid] = top
        # Signature from before the read: a write during it makes the next ingest look again.
        new = Cursor(self.name, source.key, 0, size, mtime, os.stat(source.path).st_ino, None,
                     {"seq": seen, "ctx": ctxs}, (cursor.bad_lines if cursor else 0) + bad,
                     (cursor.rows_seen if cursor else 0) + len(rows))
        return ReadResult(rows, new, bytes_read=size, bad_lines=bad)


ADAPTER = OpenClawAdapter()
