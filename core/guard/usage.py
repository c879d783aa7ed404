"""The session's tokens and cost so far, from its transcript and its subagents' transcripts.

The counting rules are the Claude adapter's, the ones a report's ingest applies: each hook reads
only the bytes appended since the last hook through the adapter itself (ADAPTER.read: its
incremental cursor, which lives in the state, and its parse: one row per API call keyed on
message.id, the best copy of each by rows.copy_rank, synthetic and API-error lines skipped).
What the ledger does with a row's key, keeping the best copy ever seen, is done here over a
window: the copies of one response can straddle two reads, so the last calls seen are kept
(`recent_calls`) and a later, better copy replaces the earlier one instead of adding to it. A
sidechain copy of an older call (a `/btw` replay), which ranks below the main-chain copy counted
long ago, is recognised by its key in the session's `.keys` sidecar, an append-only list of every
call counted. A transcript rewritten from the start is recounted from zero (its own totals are
dropped first), never counted twice.
"""

from __future__ import annotations

import os

from .. import fastjson, safe_io
from ..adapters.claude.reader import ADAPTER, subagent_folder
from ..adapters.jsonl import read_incremental
from ..cursor import Cursor
from ..rows import TOKEN_KINDS as KINDS

TYPE_CHECKING = False        # pathlib is ~4 ms of a hook's start: the hook path uses plain strings
if TYPE_CHECKING:
    from pathlib import Path

WINDOW = 64                  # calls kept for merging streaming copies (they are adjacent in the file)

_rates: dict = {}


def transcript_files(transcript_path: str) -> list[Path]:
    """The session transcript and its subagents' (`<session>/subagents/agent-*.jsonl`)."""
    from pathlib import Path
    main = Path(transcript_path)
    return [main] + [Path(p) for p, _ in _scan(subagent_folder(transcript_path))]


def _scan(folder: str) -> list[tuple[str, os.stat_result]]:
    out = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".jsonl"):
                    try:
                        out.append((e.path, e.stat()))
                    except OSError:
                        pass
    except OSError:
        pass
    out.sort()
    return out


def price(model: str | None, counts: tuple, speed: str | None = None) -> float | None:
    """USD for one call, None when the model has no known price at this speed (never $0 by
    default, never a fast call at the standard rate)."""
    if not model:
        return None
    if model not in _rates:
        try:
            from ..pricing import quick_rates
            _rates[model] = quick_rates(model)
        except Exception:  # noqa: BLE001 - pricing missing or broken: the call stays unpriced
            _rates[model] = None
    rates = _rates[model]
    if rates is not None:
        rates = rates.for_speed(speed)
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
    return [file_key, row.rank, row.model, *counts, price(row.model, counts, row.speed)]


class _Keys:
    """Every call key counted in this session, read from disk only when a sidechain row needs it."""

    def __init__(self, path: str | Path | None):
        self.path = path
        self._known: set | None = None
        self.added: list[str] = []

    def known(self, key: str) -> bool:
        if self._known is None:
            self._known = set()
            if self.path is not None:
                try:
                    self._known.update(safe_io.read_regular(self.path).decode("utf-8", "replace").splitlines())
                except OSError:
                    pass
        return key in self._known or key in self.added

    def add(self, key: str) -> None:
        self.added.append(key)

    def flush(self) -> None:
        if self.path is not None and self.added:
            safe_io.append_private(self.path, "".join(k.replace("\n", " ") + "\n" for k in self.added))
            self.added = []


class _Books:
    """Per-file totals: the main transcript's in the state (`files`); the subagents' in a sidecar
    (`<state>.subagents.json`), loaded and rewritten only when a subagent file changed, so a
    session with hundreds of finished subagents costs a directory scan per hook, not their JSON."""

    def __init__(self, state: dict, side_path: str | Path | None):
        self.state = state
        self.main = state["files"]
        self.side_path = side_path
        self._side: dict | None = None
        self.side_dirty = False
        self.lost = False            # no readable sidecar: its files are counted from scratch

    @property
    def side(self) -> dict:
        if self._side is None:
            self._side = {}
            if self.side_path is not None:
                try:
                    loaded = fastjson.loads(safe_io.read_regular(self.side_path))
                    if isinstance(loaded, dict):
                        self._side = loaded
                except (OSError, ValueError):
                    self.lost = True
        return self._side

    def table(self, is_sub: bool) -> dict:
        return self.side if is_sub else self.main

    def owner(self, key: str) -> dict | None:
        return self.main.get(key) or self.side.get(key)

    def save_side(self) -> None:
        if self.side_dirty and self.side_path is not None and self._side is not None:
            safe_io.write_atomic(self.side_path, fastjson.dumps(self._side, separators=(",", ":")))


def catch_up(state: dict, transcript_path: str | None, base: str | Path | None = None, log=None,
             missing_ok: bool = False) -> int:
    """Read what the session's transcripts gained since the last hook into `state`. `base` is
    the state file's path; the `.keys` and `.subagents.json` sidecars sit beside it.
    Returns the number of new or improved calls."""
    if not transcript_path or not isinstance(transcript_path, str):
        return 0
    state["transcript_path"] = transcript_path
    subs = state.get("subagents")
    if not isinstance(subs, dict):
        subs = state["subagents"] = {"sig": None, "files": 0, "totals": _empty_file_entry()}
    from .state import with_suffix
    books = _Books(state, with_suffix(base, ".subagents.json") if base else None)
    keys = _Keys(with_suffix(base, ".keys") if base else None)
    work: list[tuple[str, bool]] = [(transcript_path, False)]
    scan = _scan(subagent_folder(transcript_path))
    sig = [len(scan), max((st.st_mtime_ns for _, st in scan), default=0), sum(st.st_size for _, st in scan)]
    if scan and sig != subs.get("sig"):
        side = books.side
        for path, st in scan:
            cur = (side.get(path) or {}).get("cursor") or {}
            if cur.get("size") != st.st_size or cur.get("mtime_ns") != st.st_mtime_ns or cur.get("inode") != st.st_ino:
                work.append((path, True))
    changed = 0
    recent = state["recent_calls"]
    for path, is_sub in work:
        changed += _read_file(books, path, is_sub, recent, keys, log, missing_ok)
    if scan and sig != subs.get("sig"):
        # (A subagent file deleted later keeps its calls in the sidecar: they happened.)
        totals = _empty_file_entry()
        for entry in books.side.values():
            _merge(totals, entry)
        subs.update(sig=sig, files=len(books.side), totals=totals)
        books.side_dirty = True
    while len(recent) > WINDOW:
        del recent[next(iter(recent))]
    try:
        keys.flush()
        books.save_side()
    except OSError as exc:
        if log:
            log(f"{base}: sidecar not written: {exc.strerror or exc}")
    summarise(state)
    return changed


def _merge(into: dict, entry: dict) -> None:
    for kind in KINDS:
        into["tokens"][kind] += entry["tokens"].get(kind, 0)
    into["cost_usd"] += entry["cost_usd"]
    into["unpriced_tokens"] += entry["unpriced_tokens"]
    into["calls"] += entry["calls"]
    for model, (n, c) in entry["models"].items():
        m = into["models"].setdefault(model, [0, 0.0])
        m[0] += n
        m[1] = None if c is None or m[1] is None else m[1] + c


def _read_file(books: _Books, key: str, is_sub: bool, recent: dict, keys: _Keys, log, missing_ok: bool = False) -> int:
    table = books.table(is_sub)
    entry = table.get(key)
    if not isinstance(entry, dict) or "tokens" not in entry:
        entry = table[key] = _empty_file_entry()
    old = entry.get("cursor")
    cursor = None
    if isinstance(old, dict):
        try:
            cursor = Cursor(**old)
        except TypeError:
            cursor = None
    try:
        result = read_incremental(ADAPTER, ADAPTER.source_at(key), cursor, limit=safe_io.TRANSCRIPT_LIMIT)
    except OSError as exc:
        # (Before a new session's first line the transcript does not exist yet: no log line.)
        if log and not (missing_ok and isinstance(exc, FileNotFoundError)):
            log(f"transcript {key}: {exc.strerror or exc}")
        return 0
    if result.unchanged:
        return 0
    restarted = cursor is not None and cursor.offset > 0 and result.cursor.offset - result.bytes_read == 0
    recount = restarted or (is_sub and books.lost)
    if recount:
        # A rewritten file, or one whose sidecar totals were lost: forget what it had added,
        # count it again from its first line.
        table[key] = entry = _empty_file_entry()
        for k in [k for k, c in recent.items() if c[0] == key]:
            del recent[k]
    changed = 0
    for row in result.rows:               # (one per call, its best copy in this read)
        dkey = row.dedupe_key
        seen = recent.get(dkey)
        if seen is not None:
            if row.rank <= seen[1]:
                continue                  # no better than the copy counted
            owner = books.owner(seen[0])
            if owner is not None:
                _apply(owner, seen, -1)
            del recent[dkey]
        elif row.is_sidechain and not is_sub and not recount and keys.known(dkey):
            continue             # a /btw replay (main transcript only) of a call counted long ago
        else:
            keys.add(dkey)
        call = _call_of(key, row)
        _apply(entry, call, +1)
        recent[dkey] = call
        changed += 1
    entry["cursor"] = _cursor_dict(result.cursor)
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
    subs = state.get("subagents")
    if not isinstance(subs, dict):
        subs = {}
    entries = list(state["files"].values()) + ([subs["totals"]] if isinstance(subs.get("totals"), dict) else [])
    for entry in entries:
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
