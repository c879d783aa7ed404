"""OpenAI Codex CLI: `sessions/YYYY/MM/DD/rollout-*.jsonl`, one row per model turn.

Format and traps: README.md beside this file. Usage arrives as
`event_msg` / `token_count` lines carrying the session's CUMULATIVE `total_token_usage`, and Codex
re-emits that line with an unchanged total on rate-limit and UI refreshes, so summing
`last_token_usage` over-counts by 30-67%. Instead, per event:
- delta = total - previous total; an all-zero delta is a re-emission and is skipped;
- a total that goes down (resume, reset) starts a new epoch: that event books its
  `last_token_usage` (or, lacking it, the new total itself); so does a file's first event, whose
  total may include usage from before the file;
- the model is not on the event: it is the latest `turn_context`'s, carried in the cursor state;
- subagent (`thread_spawn`) and forked files start by replaying the parent's history, token_count
  lines included, as one burst written at the spawn: those lines move the baseline but book
  nothing (they are the parent's calls, already counted from the parent's file);
- `archived_sessions/` holds files moved out of `sessions/`; the same file in both is read once
  (the `sessions/` copy).
The dedupe key is the session id, the epoch and the cumulative total after the event: stable
across re-reads, across the archived copy of a file, and across a file read from byte 0 again.

Codex counts cached input inside `input_tokens` and reasoning inside `output_tokens`; rows keep
them apart (rows.py). No cost is recorded by Codex.
"""

from __future__ import annotations

import re

from ...rows import UsageRow
from ..base import Source
from ..fields import epoch_ms, json_object, tokens
from ..jsonl import JsonlAdapter
from . import places

TYPE_CHECKING = False   # annotations only: most machines running a report have no Codex
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Lines that matter; every other line (the bulk: response items, tool output) is skipped unparsed.
_WANTED = (b'"token_count"', b'"turn_context"', b'"session_meta"')
# Compiled (and cached by re) at first use, not on every report.
_UUID = r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
# The parent's history is written as one burst; the child's own first call comes after a pause
# at least as long as a model round trip. A gap this long between lines ends the replay.
REPLAY_GAP_MS = 500


def codex_home() -> Path:
    from pathlib import Path
    return Path(places.codex_home())


def _usage(record) -> tuple[int, int, int, int] | None:
    if not isinstance(record, dict):
        return None
    return tuple(tokens(record, k) for k in _FIELDS)  # type: ignore[return-value]


def _session_from_name(path: Path | str) -> str:
    from pathlib import PurePath
    stem = PurePath(path).stem
    m = re.search(_UUID, stem)
    return m.group(0) if m else stem


def _replays_parent(payload: dict) -> bool:
    """A subagent spawned with `thread_spawn` or a forked session: its file opens with the
    parent's history."""
    if payload.get("forked_from_id") or payload.get("parent_thread_id"):
        return True
    src = payload.get("source")
    return isinstance(src, dict) and isinstance(src.get("subagent"), dict) and "thread_spawn" in src["subagent"]


def _is_subagent(payload: dict) -> bool:
    src = payload.get("source")
    return (isinstance(src, dict) and "subagent" in src) or payload.get("thread_source") == "subagent"


class CodexAdapter(JsonlAdapter):
    name = "codex"
    title = "Codex CLI"
    untracked = ("no cost recorded (priced from tokens); a subagent's or fork's copy of its "
                 "parent's history is never booked (the parent's own file is); sessions Codex "
                 "pruned before the first ingest")

    def roots(self) -> list[Path]:
        return [codex_home()] if places.present() else []

    def sources(self) -> Iterator[Source]:
        for home in self.roots():
            live = home / "sessions"
            seen_rel: set[str] = set()
            seen_names: set[str] = set()
            for path in sorted(live.rglob("*.jsonl")) if live.is_dir() else ():
                if path.is_file():
                    seen_rel.add(str(path.relative_to(live)))
                    seen_names.add(path.name)
                    yield Source(self.name, path, "jsonl", {"archived": False})
            archived = home / "archived_sessions"
            for path in sorted(archived.rglob("*.jsonl")) if archived.is_dir() else ():
                # Archiving moves the file, flat or keeping its date folders: either way its name
                # (which carries the session uuid) identifies it.
                if path.name in seen_names or str(path.relative_to(archived)) in seen_rel:
                    continue
                if path.is_file():
                    yield Source(self.name, path, "jsonl", {"archived": True})

    def parse(self, buf: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        rows: list[UsageRow] = []
        bad = 0
        for line in buf.split(b"\n"):
            line = line.strip()
            if not line:
                continue
            if not state.get("replaying") and not any(w in line for w in _WANTED):
                if not (line[:1] == b"{" and line[-1:] == b"}"):
                    bad += 1
                continue
            try:
                obj = json_object(line)
                row = self._line(obj, source, state)
            except ValueError:            # JSON errors and bad counters alike
                bad += 1
                continue
            if row is not None:
                rows.append(row)
        return rows, bad

    def _line(self, obj: dict, source: Source, state: dict) -> UsageRow | None:
        kind = obj.get("type")
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            return None
        ts = epoch_ms(obj.get("timestamp"))
        if ts is None:
            ts = state.get("ts")             # a line without a time: the last time seen
        else:
            state["ts"] = ts
        if state.get("replaying"):
            last = state.get("last_ts")
            if ts is not None and last is not None and ts - last >= REPLAY_GAP_MS:
                state["replaying"] = False
            elif ts is not None:
                state["last_ts"] = ts
        if kind == "session_meta":
            # A forked file also carries its parent's session_meta inside the replay: the
            # file's own identity is the first one.
            if "session" not in state:
                state["session"] = str(payload.get("id") or _session_from_name(source.path))
                state["cwd"] = payload.get("cwd")
                git = payload.get("git")
                state["branch"] = git.get("branch") if isinstance(git, dict) else None
                state["subagent"] = _is_subagent(payload)
                if _replays_parent(payload):
                    state["replaying"] = True
                    state["last_ts"] = ts
            return None
        if kind == "turn_context":
            # Also inside a replay: the child's own turn_context may be written in the same burst,
            # and a child that writes none before its first call runs on the parent's model.
            if payload.get("model"):
                state["model"] = payload["model"]
            if payload.get("cwd"):
                state["cwd"] = payload["cwd"]
            return None
        if kind != "event_msg" or payload.get("type") != "token_count":
            return None
        if "rate_limits" in payload and not state.get("replaying"):
            note_rate_limits(state, rate_limit_snapshots(payload.get("rate_limits"), ts, state.get("session")))
        info = payload.get("info")
        if not isinstance(info, dict):
            return None                          # the first token_count of a turn: rate limits only
        total = _usage(info.get("total_token_usage"))
        last = _usage(info.get("last_token_usage"))
        if total is None and last is None:
            return None
        session = state.get("session") or _session_from_name(source.path)
        epoch = state.get("epoch", 0)
        if total is None:
            # No cumulative figure (seen in early builds): the event's own usage, keyed by time.
            assert last is not None                  # (neither: returned above)
            delta = last
            key = f"{session}:t{obj.get('timestamp')}:" + ":".join(map(str, last))
        else:
            prev = state.get("prev")
            if prev is None:
                # A file's first event: its own call is last_token_usage. The total may already
                # hold usage booked from another file (a session continued elsewhere).
                delta = last if last is not None else total
            elif any(t < p for t, p in zip(total, prev)):
                epoch += 1                       # resume or reset: totals start over
                state["epoch"] = epoch
                delta = last if last is not None else total
            else:
                delta = tuple(t - p for t, p in zip(total, prev))
            state["prev"] = list(total)
            key = f"{session}:{epoch}:" + ":".join(map(str, total))
        if state.get("replaying") or not any(delta):
            return None
        inp, cached, out, reasoning = delta
        cached = min(cached, inp)
        reasoning = min(reasoning, out)
        return UsageRow(
            agent=self.name, dedupe_key=key, ts=ts or 0, session_id=session,
            project=state.get("cwd"), model=state.get("model"),
            input_tokens=inp - cached, cache_read_tokens=cached,
            output_tokens=out - reasoning, reasoning_tokens=reasoning,
            is_subagent=bool(state.get("subagent")), git_branch=state.get("branch"),
        )


# -- official plan limits ---------------------------------------------------------------------
# `token_count` payloads carry rate_limits {primary, secondary: {used_percent, window_minutes,
# resets_at (Unix s) | resets_in_seconds (older builds, from the event's time)}}; primary is the
# 5-hour window (300 minutes), secondary the weekly one (10080). The figures of a read are left in
# the cursor state under "rate_limits" (one entry per change, the last RATE_LIMITS_KEPT), where
# ingest hands them to core/limits/snapshots.py, which stores each change once.
RATE_LIMITS_KEPT = 64
_WINDOWS = {300: "five_hour", 10080: "seven_day"}
_SLOTS = {"primary": "five_hour", "secondary": "seven_day"}


def rate_limit_snapshots(limits, ts_ms: int | None, session: str | None = None) -> list[dict]:
    """The windows in one token_count payload's `rate_limits`, as snapshot dicts (no agent)."""
    if not isinstance(limits, dict) or ts_ms is None:
        return []
    captured = ts_ms // 1000
    out = []
    for slot, default_window in _SLOTS.items():
        item = limits.get(slot)
        if not isinstance(item, dict):
            continue
        used = item.get("used_percent")
        if isinstance(used, bool) or not isinstance(used, (int, float)) or not 0 <= used <= 1000:
            continue
        minutes = item.get("window_minutes")
        minutes = minutes if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0 else None
        window = _WINDOWS.get(minutes, f"{minutes}m") if minutes else default_window
        resets = item.get("resets_at")
        if isinstance(resets, (int, float)) and not isinstance(resets, bool) and resets > 0:
            resets_at: int | None = int(resets / 1000 if resets > 1e11 else resets)
        else:
            after = item.get("resets_in_seconds")
            if isinstance(after, (int, float)) and not isinstance(after, bool) and after >= 0:
                resets_at = captured + int(after)
            else:
                resets_at = None
        out.append({"window": window, "used_percentage": float(used), "resets_at": resets_at,
                    "captured_at": captured, "source": "codex", "session_id": session,
                    "window_minutes": minutes})
    return out


def note_rate_limits(state: dict, snaps: list[dict]) -> None:
    """Keep each figure that differs from its window's previous one in the cursor state."""
    kept = state.get("rate_limits")
    if not isinstance(kept, list):
        kept = state["rate_limits"] = []
    for snap in snaps:
        prev = next((k for k in reversed(kept) if k.get("window") == snap["window"]), None)
        # A resets_in_seconds figure drifts by a second or two between events: the same reset.
        if (prev is not None and prev.get("used_percentage") == snap["used_percentage"]
                and (prev.get("resets_at") == snap["resets_at"]
                     or (prev.get("resets_at") is not None and snap["resets_at"] is not None
                         and abs(prev["resets_at"] - snap["resets_at"]) <= 60))):
            continue
        kept.append(snap)
    del kept[:-RATE_LIMITS_KEPT]


ADAPTER = CodexAdapter()
