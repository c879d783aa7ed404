"""OpenHuman: usage from the `_meta` lines of session transcripts.

Workspaces: `$OPENHUMAN_WORKSPACE`, else `~/.openhuman` (its `workspace/` and every
`users/<user_id>/workspace/`). Transcripts: `<workspace>/session_raw/<unix_ts>_<agent>.jsonl`,
sub-agents `<parent>__<ts>_<agent>.jsonl`, older builds `session_raw/DDMMYYYY/*.jsonl`.
Line 1 is `{"_meta": {agent, created, updated, turn_count, input_tokens, output_tokens,
cached_input_tokens, charged_amount_usd, thread_id}}`; message lines follow (the assistant's
carries `model`). Two generations of the format:
- rewrite-on-save (one `_meta`): the whole file is rewritten on every save and `_meta` covers only
  the current turn, so history cannot be rebuilt later: each save seen is booked as one row keyed
  by (file stem, `updated`); seeing the same save again books nothing.
- append-only (a refreshed `_meta` line per turn with cumulative totals, last wins): each `_meta`
  line books its growth over the previous one, keyed the same way, so the whole history is kept.
Cached input is taken as part of `input_tokens` (OpenAI-style counters; inferred) and split out.
No cwd is recorded, so rows carry no project.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

from ...cursor import Cursor
from ...rows import UsageRow
from ..base import Adapter, ReadResult, Source
from ..fields import count, json_object
from . import places

COUNTERS = ("input_tokens", "output_tokens", "cached_input_tokens")


def _float(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _iso_ms(value) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value if value > 1e11 else value * 1000)
    if not isinstance(value, str) or not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1000)


class OpenHumanAdapter(Adapter):
    name = "openhuman"
    title = "OpenHuman"
    untracked = ("no project (no cwd recorded); older rewrite-on-save transcripts only show the "
                 "current turn, so turns saved while token-roi was not reading are lost; no "
                 "cache-write or reasoning split")

    def workspaces(self) -> list[Path]:
        if not places.present():
            return []            # one stat, no pathlib
        env = os.environ.get("OPENHUMAN_WORKSPACE")
        if env:
            candidates = [Path(env).expanduser()]
        else:
            root = Path.home() / ".openhuman"
            candidates = [root, root / "workspace"]
            users = root / "users"
            if users.is_dir():
                candidates += sorted(u / "workspace" for u in users.iterdir())
        return [w for w in candidates if (w / "session_raw").is_dir()]

    def roots(self) -> list[Path]:
        return self.workspaces()

    def sources(self) -> Iterator[Source]:
        for ws in self.workspaces():
            raw = ws / "session_raw"
            files = sorted(raw.glob("*.jsonl")) + sorted(raw.glob("*/*.jsonl"))
            for f in files:
                if f.is_file():
                    yield Source(self.name, f, "jsonl", {"is_subagent": "__" in f.stem})

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        # Whole-file reads: a rewritten file has no stable byte offset to resume from.
        with open(source.path, "rb") as f:
            st = os.fstat(f.fileno())
            if (cursor is not None
                    and (cursor.size, cursor.mtime_ns, cursor.inode) == (st.st_size, st.st_mtime_ns, st.st_ino)):
                return ReadResult([], cursor, unchanged=True)
            data = f.read()
        state = dict(cursor.state) if cursor else {}
        rows, bad = self.parse_transcript(data, source, state)
        new = Cursor(self.name, source.key, len(data), st.st_size, st.st_mtime_ns, st.st_ino, None, state,
                     (cursor.bad_lines if cursor else 0) + bad, (cursor.rows_seen if cursor else 0) + len(rows))
        # A half-written last line (a save in progress): read the whole file again next time.
        if data and not data.endswith(b"\n"):
            new.size = -1
        return ReadResult(rows, new, bytes_read=len(data), bad_lines=bad)

    def parse_transcript(self, data: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        """Rows for the `_meta` lines of one whole transcript; `state["last"]` is the last
        rewrite-on-save snapshot booked for this file (a re-save of the same turn books nothing)."""
        stem = os.path.basename(source.path)[: -len(".jsonl")]
        metas: list[tuple[dict, str | None]] = []     # (_meta, model of the last assistant before it)
        model = None
        bad = 0
        lines = data.split(b"\n")
        if data and not data.endswith(b"\n"):
            lines = lines[:-1]
        for line in lines:
            if not line.strip():
                continue
            try:
                rec = json_object(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(rec.get("_meta"), dict):
                metas.append((rec["_meta"], model))
            elif rec.get("role") == "assistant" and rec.get("model"):
                model = rec["model"]
        if len(metas) == 1:
            meta = metas[0][0]
            metas = [(meta, model)]   # rewrite-on-save: the header comes before its turn
            snapshot: list[float | None] = [count(meta.get(c)) for c in COUNTERS]
            snapshot.append(_float(meta.get("charged_amount_usd")))
            if state.get("last") == snapshot:
                return [], bad        # saved again (title, compaction...) without new usage
            state["last"] = snapshot
        rows = []
        prev = dict.fromkeys(COUNTERS, 0)
        prev_cost = 0.0
        for i, (meta, meta_model) in enumerate(metas):
            now = {c: count(meta.get(c)) for c in COUNTERS}
            cost = _float(meta.get("charged_amount_usd"))
            # Append-only files: each _meta is cumulative, book its growth over the previous one.
            delta = {c: max(0, now[c] - prev[c]) for c in COUNTERS}
            cost_delta = None if cost is None else round(cost - prev_cost, 9)
            prev, prev_cost = now, cost or 0.0
            if not any(delta.values()) and not cost_delta:
                continue
            ts = _iso_ms(meta.get("updated")) or _iso_ms(meta.get("created"))
            if ts is None:
                bad += 1
                continue
            cached = min(delta["cached_input_tokens"], delta["input_tokens"])
            rows.append(UsageRow(
                agent=self.name,
                dedupe_key=f"{stem}@{meta.get('updated') or meta.get('created')}#{i if len(metas) > 1 else 0}",
                ts=ts,
                session_id=stem,
                model=meta_model or meta.get("model"),
                input_tokens=delta["input_tokens"] - cached,
                cache_read_tokens=cached,
                output_tokens=delta["output_tokens"],
                is_subagent=bool(source.meta.get("is_subagent")),
                recorded_cost=cost_delta,
            ))
        return rows, bad


ADAPTER = OpenHumanAdapter()
