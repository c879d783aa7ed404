"""The session's tokens and cost so far, from its transcript and its subagents' transcripts.

Each hook reads only the bytes appended since the last hook (the Claude adapter's incremental
reader; its cursor lives in the state). One API response is written as several lines carrying
copies of one usage, and the copies of one response can straddle two reads, so the last calls
seen are kept (`recent_calls`) and a later, larger copy replaces the earlier one instead of
adding to it. A sidechain replay of an older response (`/btw`) is recognised by its key in the
session's `.keys` sidecar, an append-only list of every call counted. A transcript rewritten
from the start is recounted from zero (its own totals are dropped first), never counted twice.
"""

from __future__ import annotations

import os
from pathlib import Path

KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "reasoning")
WINDOW = 64                  # calls kept for merging streaming copies (they are adjacent in the file)

_rates: dict = {}


def transcript_files(transcript_path: str) -> list[Path]:
    """The session transcript and its subagents' (`<session>/subagents/agent-*.jsonl`)."""
    main = Path(transcript_path)
    files = [main]
    sub = main.with_suffix("") / "subagents"
    try:
        with os.scandir(sub) as it:
            files.extend(sorted(Path(e.path) for e in it if e.name.endswith(".jsonl")))
    except OSError:
        pass
    return files


def price(model: str | None, counts: tuple) -> float | None:
    """USD for one call, None when the model has no known price (never $0 by default)."""
    if not model:
        return None
    if model not in _rates:
        try:
            from ..pricing import quick_rates
            _rates[model] = quick_rates(model)
        except Exception:  # noqa: BLE001 - pricing missing or broken: the call stays unpriced
            _rates[model] = None
    rates = _rates[model]
    if rates is None:
        return None
    try:
        from ..pricing import cost_of
        return float(cost_of(rates, input_tokens=counts[0], output_tokens=counts[1],
                             cache_read_tokens=counts[2], cache_write_5m_tokens=counts[3],
                             cache_write_1h_tokens=counts[4], reasoning_tokens=counts[5]))
    except Exception:  # noqa: BLE001
        return None


def _empty_file_entry() -> dict:
    return {"cursor": None, "tokens": dict.fromkeys(KINDS, 0), "cost_usd": 0.0,
            "unpriced_tokens": 0, "calls": 0, "models": {}}


def _apply(entry: dict, call: list, sign: int) -> None:
    # call = [file, rank, model, input, output, cache_read, cw5m, cw1h, reasoning, cost]
    counts = call[3:9]
    total = sum(counts)
    for kind, n in zip(KINDS, counts):
        entry["tokens"][kind] += sign * n
    entry["calls"] += sign
    model = call[2] or "unknown"
    m = entry["models"].setdefault(model, [0, 0.0])
    m[0] += sign * total
    if call[9] is None:
        entry["unpriced_tokens"] += sign * total
        m[1] = None
    else:
        entry["cost_usd"] += sign * call[9]
        if m[1] is not None:
            m[1] += sign * call[9]


def _call_of(file_key: str, row) -> list:
    counts = (row.input_tokens, row.output_tokens, row.cache_read_tokens,
              row.cache_write_5m_tokens, row.cache_write_1h_tokens, row.reasoning_tokens)
    return [file_key, row.rank, row.model, *counts, price(row.model, counts)]


class _Keys:
    """Every call key counted in this session, read from disk only when a sidechain row needs it."""

    def __init__(self, path: Path | None):
        self.path = path
        self._known: set | None = None
        self.added: list[str] = []

    def known(self, key: str) -> bool:
        if self._known is None:
            self._known = set()
            if self.path is not None:
                try:
                    with open(self.path, encoding="utf-8") as f:
                        self._known.update(line.rstrip("\n") for line in f)
                except OSError:
                    pass
        return key in self._known or key in self.added

    def add(self, key: str) -> None:
        self.added.append(key)

    def flush(self) -> None:
        if self.path is not None and self.added:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write("".join(k.replace("\n", " ") + "\n" for k in self.added))
            self.added = []


def catch_up(state: dict, transcript_path: str | None, keys_path: Path | None = None, log=None) -> int:
    """Read what the session's transcripts gained since the last hook into `state`.
    Returns the number of new or improved calls."""
    if not transcript_path or not isinstance(transcript_path, str):
        return 0
    from ..adapters.base import Source
    from ..adapters.claude import ADAPTER
    from ..adapters.jsonl import read_incremental
    from ..store import Cursor

    state["transcript_path"] = transcript_path
    files = state["files"]
    recent = state["recent_calls"]
    keys = _Keys(keys_path)
    changed = 0
    for path in transcript_files(transcript_path):
        key = str(path)
        entry = files.get(key)
        if not isinstance(entry, dict) or "tokens" not in entry:
            entry = files[key] = _empty_file_entry()
        old = entry.get("cursor")
        cursor = None
        if isinstance(old, dict):
            try:
                cursor = Cursor(**old)
            except TypeError:
                cursor = None
        try:
            result = read_incremental(ADAPTER, Source("claude", path), cursor)
        except OSError as exc:
            if log:
                log(f"transcript {path}: {exc.strerror or exc}")
            continue
        if result.unchanged:
            continue
        restarted = cursor is not None and cursor.offset > 0 and result.cursor.offset - result.bytes_read == 0
        if restarted:
            # A rewritten file: forget what it had added, count it again from its first line.
            files[key] = entry = _empty_file_entry()
            for k in [k for k, c in recent.items() if c[0] == key]:
                del recent[k]
        batch: dict = {}
        for row in result.rows:
            prev = batch.get(row.dedupe_key)
            if prev is None or row.rank > prev.rank:
                batch[row.dedupe_key] = row
        for dkey, row in batch.items():
            call = _call_of(key, row)
            seen = recent.get(dkey)
            if seen is not None:
                if call[1] <= seen[1]:
                    continue
                owner = files.get(seen[0])
                if owner is not None:
                    _apply(owner, seen, -1)
                del recent[dkey]
            elif row.is_sidechain and not restarted and keys.known(dkey):
                continue             # a replay of a call counted long ago
            else:
                keys.add(dkey)
            _apply(entry, call, +1)
            recent[dkey] = call
            changed += 1
        entry["cursor"] = _cursor_dict(result.cursor)
    while len(recent) > WINDOW:
        del recent[next(iter(recent))]
    try:
        keys.flush()
    except OSError as exc:
        if log:
            log(f"{keys_path}: {exc.strerror or exc}")
    summarise(state)
    return changed


def _cursor_dict(c) -> dict:
    return {"agent": c.agent, "path": c.path, "offset": c.offset, "size": c.size,
            "mtime_ns": c.mtime_ns, "inode": c.inode, "fingerprint": c.fingerprint,
            "state": c.state, "bad_lines": c.bad_lines, "rows_seen": c.rows_seen}


def summarise(state: dict) -> None:
    """Session totals from the per-file totals."""
    tokens = dict.fromkeys(KINDS, 0)
    cost = 0.0
    unpriced = 0
    calls = 0
    models: dict = {}
    for entry in state["files"].values():
        for kind in KINDS:
            tokens[kind] += entry["tokens"].get(kind, 0)
        cost += entry["cost_usd"]
        unpriced += entry["unpriced_tokens"]
        calls += entry["calls"]
        for model, (n, c) in entry["models"].items():
            m = models.setdefault(model, {"tokens": 0, "cost_usd": 0.0})
            m["tokens"] += n
            m["cost_usd"] = None if c is None or m["cost_usd"] is None else m["cost_usd"] + c
    for m in models.values():
        if m["cost_usd"] is not None:
            m["cost_usd"] = round(m["cost_usd"], 6)
    state["tokens"] = tokens
    state["total_tokens_used"] = sum(tokens.values())
    state["cost_usd"] = round(cost, 6)
    state["unpriced_tokens"] = unpriced
    state["unpriced_models"] = sorted(m for m, v in models.items() if v["cost_usd"] is None and v["tokens"])
    state["api_calls"] = calls
    state["models"] = {m: v for m, v in models.items() if v["tokens"] or v["cost_usd"]}
