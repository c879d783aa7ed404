"""Amp: `threads/T-<uuid>.json`, one row per assistant message that carries `usage`.

Format: README.md beside this file (tracker). A thread file holds the whole thread
and is rewritten as it grows, so it is re-read whole when its size or mtime changes, and rows
are keyed per message (`<thread id>:<messageId>`): a rewrite books only the messages that are
new, and a message whose counts grew while streaming replaces its earlier copy (the store
keeps the larger one). Counters follow Anthropic's convention (`inputTokens` is uncached;
cache creation and reads apart); cache writes are taken as 5-minute writes. `credits` are Amp
credits, not USD, so no recorded cost is kept: our own price applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from ...cursor import Cursor
from ...rows import UsageRow
from ..base import Adapter, ReadResult, Source, read_whole_json
from ..fields import as_dict, epoch_ms, tokens
from . import places


def data_dir() -> Path:
    return Path(places.amp_dir())


def _cwd(thread: dict) -> str | None:
    """The first workspace folder Amp recorded for the thread (`env.initial.trees[].uri`)."""
    env = as_dict(thread.get("env"))
    initial = as_dict(env.get("initial"))
    for tree in initial.get("trees") or ():
        uri = tree.get("uri") if isinstance(tree, dict) else None
        if isinstance(uri, str) and uri.startswith("file:"):
            return unquote(urlparse(uri).path) or None
    return None


class AmpAdapter(Adapter):
    name = "amp"
    title = "Amp"
    untracked = "cost in USD (Amp records credits, not dollars; priced from tokens); cache-write TTL"

    def roots(self) -> list[Path]:
        return [data_dir() / "threads"] if places.present() else []

    def sources(self) -> Iterator[Source]:
        for threads in self.roots():
            for path in sorted(threads.glob("T-*.json")):
                yield Source(self.name, path, "json", {})

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        return read_whole_json(source, cursor, lambda thread, _mtime_ns: self._thread(thread, source))

    def _thread(self, thread: dict, source: Source) -> tuple[list[UsageRow], int]:
        thread_id = str(thread.get("id") or Path(source.path).stem)
        cwd = _cwd(thread)
        rows: list[UsageRow] = []
        bad = 0
        for index, msg in enumerate(thread.get("messages") or ()):
            if not isinstance(msg, dict) or msg.get("role") != "assistant":
                continue
            usage = msg.get("usage")
            if not isinstance(usage, dict):
                continue
            try:
                counts = (tokens(usage, "inputTokens"), tokens(usage, "outputTokens"),
                          tokens(usage, "cacheReadInputTokens"), tokens(usage, "cacheCreationInputTokens"))
            except ValueError:
                bad += 1
                continue
            if not any(counts):
                continue
            mid = msg.get("messageId", index)
            meta = as_dict(msg.get("meta"))
            ts = (epoch_ms(usage.get("timestamp")) or epoch_ms(meta.get("sentAt"))
                  or epoch_ms(thread.get("created")) or 0)
            rows.append(UsageRow(
                agent=self.name, dedupe_key=f"{thread_id}:{mid}", ts=ts, session_id=thread_id, project=cwd,
                model=usage.get("model"), input_tokens=counts[0], output_tokens=counts[1],
                cache_read_tokens=counts[2], cache_write_5m_tokens=counts[3],
            ))
        return rows, bad


ADAPTER = AmpAdapter()
