"""Gemini CLI: `~/.gemini/tmp/<project-hash>/chats/session-*.jsonl`, one row per model response.

Format and traps: README.md beside this file. The JSONL file is an upsert log:
a metadata line (`sessionId`, `projectHash`, `kind`), then message records `{id, timestamp, type,
model, tokens}` re-appended in full whenever the message changes (tool calls, results, tokens),
`{"$set": {...}}` metadata patches (whose `messages` list, when present, rewrites the context) and
`{"$rewindTo": id}` markers. Rules here:
- one row per (sessionId, message id); the LAST record of a message wins even when its counts are
  smaller, so rows carry a rank that grows with the file's mtime and the record's offset
  (GeminiRow.rank) instead of the usual "largest total" rule;
- a record without tokens books nothing (and does not erase counts an earlier record gave);
- a rewind hides messages from the conversation but their API calls were made and billed, so
  rewound messages stay in the ledger; `$set.messages` copies are the same messages (same ids);
- legacy `session-*.json` files hold the whole conversation (`messages[]`) and are rewritten on
  every save: re-read whole when they change, same keys and rank rule.
Counters: `input` (promptTokenCount) includes `cached`; `tool` (toolUsePromptTokenCount) is
prompt input outside `input`; `thoughts` bill as output and are kept as reasoning. No cost is
recorded; no working directory either (only the project hash).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePath

from ...cursor import Cursor
from ...rows import UsageRow
from ..base import ReadResult, Source, read_whole_json
from ..fields import epoch_ms, json_object, tokens
from ..jsonl import JsonlAdapter
from . import places

_WANTED = (b'"tokens"', b'"sessionId"')
_OFFSET_BITS = 31          # offsets up to 2 GiB per session file; the mtime takes the bits above


class GeminiRow(UsageRow):
    """A row whose later copy always wins: `order` = (file mtime in s << 31) + record offset."""
    __slots__ = ("order",)

    def __init__(self, *args, order: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order

    @property
    def rank(self) -> int:
        return self.order


def gemini_dir() -> Path:
    return Path(places.gemini_dir())


def _order(mtime_ns: int, offset: int) -> int:
    return ((mtime_ns // 1_000_000_000) << _OFFSET_BITS) | min(offset, (1 << _OFFSET_BITS) - 1)


def _stem(path) -> str:
    return PurePath(path).stem


class GeminiAdapter(JsonlAdapter):
    name = "gemini"
    title = "Gemini CLI"
    untracked = ("no cost recorded (priced from tokens); no working directory (only a project "
                 "hash); usage outside the CLI (AI Studio, API keys used elsewhere)")

    def roots(self) -> list[Path]:
        return [gemini_dir() / "tmp"] if places.present() else []

    def sources(self) -> Iterator[Source]:
        for tmp in self.roots():
            for chats in sorted(tmp.glob("*/chats")):
                if not chats.is_dir():
                    continue
                for path in sorted(chats.glob("session-*.jsonl")):
                    yield Source(self.name, path, "jsonl", {})
                for path in sorted(chats.glob("session-*.json")):
                    yield Source(self.name, path, "json", {})
                for path in sorted(chats.glob("*/*.jsonl")):       # subagents: chats/<parent>/<id>.jsonl
                    yield Source(self.name, path, "jsonl", {"is_subagent": True, "parent_session": path.parent.name})

    # -- reading ---------------------------------------------------------------------------------
    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        if source.kind == "json":
            return self._read_legacy(source, cursor)
        return super().read(source, cursor)

    def parse(self, buf: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        rows: list[UsageRow] = []
        bad = 0
        base = state.get("pos", 0)            # absolute offset of buf in the file
        try:
            mtime_ns = os.stat(source.path).st_mtime_ns
        except OSError:
            mtime_ns = 0
        pos = 0
        for raw in buf.split(b"\n"):
            offset = base + pos
            pos += len(raw) + 1
            line = raw.strip()
            if not line:
                continue
            if not any(w in line for w in _WANTED):
                if not (line[:1] == b"{" and line[-1:] == b"}"):
                    bad += 1
                continue
            try:
                obj = json_object(line)
                bad += self._record(obj, source, state, _order(mtime_ns, offset), rows)
            except ValueError:
                bad += 1
        state["pos"] = base + len(buf)
        return rows, bad

    def _record(self, obj: dict, source: Source, state: dict, order: int, rows: list) -> int:
        """Book one JSONL record; returns how many bad message records it held."""
        if "$rewindTo" in obj:
            return 0                          # billed calls stay booked (see module doc)
        patch = obj.get("$set")
        if isinstance(patch, dict):
            self._metadata(patch, state)
            bad = 0
            for i, msg in enumerate(patch.get("messages") or ()):
                bad += self._message(msg, source, state, order + i, rows)
            return bad
        if "id" in obj and "type" in obj:
            return self._message(obj, source, state, order, rows)
        if "sessionId" in obj:
            self._metadata(obj, state)
        return 0

    @staticmethod
    def _metadata(meta: dict, state: dict) -> None:
        if meta.get("sessionId") and "session" not in state:
            state["session"] = str(meta["sessionId"])
        if meta.get("kind"):
            state["kind"] = meta["kind"]

    def _message(self, msg, source: Source, state: dict, order: int, rows: list) -> int:
        if not isinstance(msg, dict) or msg.get("type") != "gemini":
            return 0
        usage = msg.get("tokens")
        if not isinstance(usage, dict) or not msg.get("id"):
            return 0                          # not answered yet: a later copy will carry tokens
        try:
            prompt, cached = tokens(usage, "input"), tokens(usage, "cached")
            out, thoughts, tool = tokens(usage, "output"), tokens(usage, "thoughts"), tokens(usage, "tool")
        except ValueError:
            return 1
        if not (prompt or out or thoughts or tool):
            return 0
        cached = min(cached, prompt)
        session = state.get("session") or _stem(source.path)
        rows.append(GeminiRow(
            agent=self.name, dedupe_key=f"{session}:{msg['id']}",
            ts=epoch_ms(msg.get("timestamp")) or 0, session_id=session, model=msg.get("model"),
            input_tokens=prompt - cached + tool, cache_read_tokens=cached,
            output_tokens=out, reasoning_tokens=thoughts,
            is_subagent=bool(source.meta.get("is_subagent")) or state.get("kind") == "subagent",
            order=order,
        ))
        return 0

    def _read_legacy(self, source: Source, cursor: Cursor | None) -> ReadResult:
        """A whole-conversation JSON file, rewritten on every save: read it all when it changed."""
        def parse(doc: dict, mtime_ns: int) -> tuple[list[UsageRow], int]:
            state: dict = {}
            self._metadata(doc, state)
            rows: list[UsageRow] = []
            bad = 0
            for i, msg in enumerate(doc.get("messages") or ()):
                bad += self._message(msg, source, state, _order(mtime_ns, i), rows)
            return rows, bad
        return read_whole_json(source, cursor, parse)


ADAPTER = GeminiAdapter()
