"""Per-session signals the value rules judge from: counts, names and times only, never content.

Three sources, recorded in `session_signals.source`:
- 'guard': a Claude Code session the guard hooks watched; saved from the guard state on every
  Stop / SessionEnd (core/guard/ledger.py), so the last save wins.
- 'transcript': counted afterwards from a Claude Code transcript (tool names and failures only).
- 'none': nothing but the ledger's calls (other agents, history before install): first and last
  activity only. The reasons say so rather than invent the rest.

This module is imported by the Stop hook: standard library only.
"""

from __future__ import annotations

import json
import time
from copy import deepcopy
from dataclasses import dataclass, field

from ..isotime import iso_ms

# Tool names (Claude Code's, plus the common names of other agents' tools).
EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "NotebookEdit", "apply_patch", "edit_file", "write_file",
                        "str_replace_based_edit_tool", "replace", "create_file"})
READ_TOOLS = frozenset({"Read", "Grep", "Glob", "LS", "NotebookRead", "WebFetch", "WebSearch", "read_file",
                        "list_dir", "grep_search", "file_search", "search", "codebase_search"})


@dataclass
class Signals:
    agent: str
    session_id: str
    source: str = "none"                                   # 'guard' | 'transcript' | 'none'
    tool_calls: dict = field(default_factory=dict)          # tool -> calls
    failures_by_tool: dict = field(default_factory=dict)    # tool -> failed calls
    loop_attempts_max: int = 0
    loop_attempts_total: int = 0
    fast_tier_fired: bool = False
    tests_passed: int = 0
    tests_failed: int = 0
    bugs_fixed: int = 0
    edits: int = 0
    reads: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    abandoned: bool = False

    @property
    def tool_failures(self) -> int:
        return sum(self.failures_by_tool.values())

    @property
    def total_tool_calls(self) -> int:
        return sum(self.tool_calls.values())

    @property
    def duration_ms(self) -> int:
        if self.first_ts is None or self.last_ts is None:
            return 0
        return max(0, self.last_ts - self.first_ts)

    @property
    def has_tool_signals(self) -> bool:
        return self.source in ("guard", "transcript")

    def as_dict(self) -> dict:
        """dataclasses.asdict(self) plus tool_failures and duration_s, written out: asdict's
        generic deep copy was most of a long report's JSON time."""
        return {"agent": self.agent, "session_id": self.session_id, "source": self.source,
                "tool_calls": _copy(self.tool_calls), "failures_by_tool": _copy(self.failures_by_tool),
                "loop_attempts_max": self.loop_attempts_max, "loop_attempts_total": self.loop_attempts_total,
                "fast_tier_fired": self.fast_tier_fired, "tests_passed": self.tests_passed,
                "tests_failed": self.tests_failed, "bugs_fixed": self.bugs_fixed, "edits": self.edits,
                "reads": self.reads, "first_ts": self.first_ts, "last_ts": self.last_ts, "abandoned": self.abandoned,
                "tool_failures": self.tool_failures, "duration_s": self.duration_ms // 1000}


_SCALARS = (int, str, float, bool, type(None))


def _copy(d):
    """A copy of a {tool: count} mapping as asdict makes it (deep, should a value not be a number)."""
    if type(d) is dict:
        if not d:
            return {}
        for v in d.values():
            if type(v) not in _SCALARS:
                break
        else:
            return dict(d)
    return deepcopy(d)


def count_edits_reads(tool_calls: dict) -> tuple[int, int]:
    edits = sum(n for t, n in tool_calls.items() if t in EDIT_TOOLS)
    reads = sum(n for t, n in tool_calls.items() if t in READ_TOOLS)
    return edits, reads


def _ints(d) -> dict:
    return {str(k): int(v) for k, v in (d or {}).items() if isinstance(v, int) and not isinstance(v, bool) and v > 0} \
        if isinstance(d, dict) else {}


def from_guard_state(state: dict, agent: str = "claude", previous: Signals | None = None) -> Signals:
    """Signals of a guard-watched session from its state file (core/guard/state.py). The state
    keeps only the last 50 actions, so loop attempts accumulate over the saves on each Stop:
    `previous` (the last saved signals) plus the attempts in actions newer than its last_ts."""
    calls = _ints(state.get("tool_calls"))
    fails = _ints(state.get("tool_failures"))
    actions = [a for a in state.get("actions") or [] if isinstance(a, dict)]
    attempts: list[int] = [a["attempt"] for a in actions if isinstance(a.get("attempt"), int)]
    events = (state.get("fast_tier") or {}).get("events") or []
    current: list[int] = [n for n in (state.get("loop_attempts") or {}).values() if isinstance(n, int)]
    event_attempts: list[int] = [e["attempt"] for e in events
                                 if isinstance(e, dict) and isinstance(e.get("attempt"), int)]
    # The guard keeps running figures when it has them; else the recent actions (last 50 calls),
    # the open loops and the fast-tier events are the evidence.
    found_max = state.get("loop_attempts_max")
    loop_max: int = found_max if isinstance(found_max, int) else max(attempts + current + event_attempts + [0])
    found_total = state.get("loop_attempts_total")
    loop_total: int = found_total if isinstance(found_total, int) else 0
    if not isinstance(found_total, int):
        if previous is not None and previous.source == "guard" and previous.last_ts is not None:
            since = previous.last_ts
            newer = [a["attempt"] for a in actions if isinstance(a.get("attempt"), int)
                     and (iso_ms(a.get("at")) or 0) > since]
            loop_total = previous.loop_attempts_total + sum(1 for n in newer if n > 0)
            loop_max = max(loop_max, previous.loop_attempts_max)
        else:
            loop_total = sum(1 for n in attempts if n > 0)
    out = state.get("outcomes") or {}
    edits, reads = count_edits_reads(calls)
    runs = [r for r in (out.get("runs") or {}).values() if isinstance(r, dict)]
    last_run = out.get("last_run")
    still_failing = last_run == "failed" if isinstance(last_run, str) else any(r.get("failing") for r in runs)
    # The main agent's own last call (a subagent's failure is its parent's to handle).
    main_actions = [a for a in actions if not a.get("agent_id")]
    last_failed = bool(main_actions) and main_actions[-1].get("ok") is False
    open_main = [n for n in (state.get("loop_attempts") or {}).values()
                 if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    in_loop = bool(main_actions) and bool(main_actions[-1].get("attempt")) and bool(open_main)
    return Signals(
        agent=agent, session_id=str(state.get("session_id") or ""), source="guard",
        tool_calls=calls, failures_by_tool=fails,
        loop_attempts_max=int(loop_max), loop_attempts_total=int(loop_total),
        fast_tier_fired=bool(state.get("fast_tier_triggered")),
        tests_passed=int(out.get("tests_passed") or 0), tests_failed=int(out.get("tests_failed") or 0),
        bugs_fixed=int(out.get("bugs_fixed") or 0), edits=edits, reads=reads,
        first_ts=iso_ms(state.get("session_start")), last_ts=iso_ms(state.get("last_activity")),
        # Ended inside an unresolved loop, or right after failures with no later success: the
        # main agent's last call failed or went nowhere, or the last test run still failed.
        abandoned=last_failed or in_loop or still_failing)


_COLUMNS = ("agent", "session_id", "source", "tool_calls", "tool_failures", "failures_by_tool",
            "loop_attempts_max", "loop_attempts_total", "fast_tier_fired", "tests_passed", "tests_failed",
            "bugs_fixed", "edits", "reads", "first_ts", "last_ts", "abandoned", "updated_at")


def save(db, s: Signals) -> None:
    """Insert or replace one session's signals (call inside a transaction)."""
    values = (s.agent, s.session_id, s.source, json.dumps(s.tool_calls, sort_keys=True), s.tool_failures,
              json.dumps(s.failures_by_tool, sort_keys=True), s.loop_attempts_max, s.loop_attempts_total,
              int(s.fast_tier_fired), s.tests_passed, s.tests_failed, s.bugs_fixed, s.edits, s.reads,
              s.first_ts, s.last_ts, int(s.abandoned), int(time.time() * 1000))
    db.execute(f"INSERT OR REPLACE INTO session_signals ({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(_COLUMNS))})", values)


def _row_signals(r) -> Signals:
    def js(text):
        try:
            v = json.loads(text) if text else {}
        except ValueError:
            v = {}
        return v if isinstance(v, dict) else {}
    return Signals(agent=r[0], session_id=r[1], source=r[2], tool_calls=js(r[3]), failures_by_tool=js(r[5]),
                   loop_attempts_max=r[6], loop_attempts_total=r[7], fast_tier_fired=bool(r[8]),
                   tests_passed=r[9], tests_failed=r[10], bugs_fixed=r[11], edits=r[12], reads=r[13],
                   first_ts=r[14], last_ts=r[15], abandoned=bool(r[16]))


def load_all(db) -> dict[tuple[str, str], Signals]:
    return {(r[0], r[1]): _row_signals(r)
            for r in db.execute(f"SELECT {', '.join(_COLUMNS)} FROM session_signals")}


def load(db, agent: str, session_id: str) -> Signals | None:
    r = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM session_signals WHERE agent = ? AND session_id = ?",
                   (agent, session_id)).fetchone()
    return _row_signals(r) if r else None


def from_transcript(lines, agent: str = "claude", session_id: str = "") -> Signals:
    """Signals counted from a Claude Code transcript (an iterable of JSONL lines): tool names
    from assistant tool_use blocks, failures from tool_result blocks marked is_error, times from
    the timestamps. Content is looked at only to find these markers and never kept. Loops, the
    fast tier and test results need the guard: they stay 0."""
    calls: dict[str, int] = {}
    fails: dict[str, int] = {}
    names: dict[str, str] = {}        # tool_use id -> tool name
    results: set[str] = set()
    first = last = None
    last_ok: bool | None = None
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        if '"tool_' not in line and '"timestamp"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        ts = iso_ms(entry.get("timestamp"))
        if ts is not None:
            first = ts if first is None or ts < first else first
            last = ts if last is None or ts > last else last
        if not session_id and isinstance(entry.get("sessionId"), str):
            session_id = entry["sessionId"]
        message = entry.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use" and isinstance(block.get("name"), str):
                use_id = block.get("id")
                if isinstance(use_id, str):
                    if use_id in names:      # a resumed session repeats earlier lines
                        continue
                    names[use_id] = block["name"][:100]
                name = block["name"][:100]
                calls[name] = calls.get(name, 0) + 1
            elif block.get("type") == "tool_result":
                result_id = block.get("tool_use_id")
                if isinstance(result_id, str):
                    if result_id in results:
                        continue
                    results.add(result_id)
                failed = block.get("is_error") is True
                last_ok = not failed
                if failed:
                    name = names.get(str(block.get("tool_use_id")), "unknown")
                    fails[name] = fails.get(name, 0) + 1
    edits, reads = count_edits_reads(calls)
    return Signals(agent=agent, session_id=session_id, source="transcript", tool_calls=calls,
                   failures_by_tool=fails, edits=edits, reads=reads, first_ts=first, last_ts=last,
                   abandoned=last_ok is False)


def transcript_path(db, session_id: str) -> str | None:
    """The Claude Code transcript of a session, as the ledger's sources know it
    (<project folder>/<session id>.jsonl)."""
    if not session_id or "/" in session_id or "\\" in session_id:
        return None
    r = db.execute("SELECT path FROM sources WHERE agent = 'claude' AND (path LIKE ? OR path LIKE ?) LIMIT 1",
                   ("%/" + session_id + ".jsonl", "%\\" + session_id + ".jsonl")).fetchone()
    return r[0] if r else None


_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def transcript_paths(db, session_ids) -> dict[str, str]:
    """{session id: transcript_path(db, session id)} for many sessions in one pass over the
    claude sources (a LIKE query per session scans them all each time). Same answers: LIKE folds
    ASCII case only, and of several matches the query's index gives the first path in BINARY
    order; an id holding a LIKE wildcard (% or _) is asked the query itself."""
    out: dict[str, str] = {}
    want: dict[str, list[str]] = {}
    for sid in session_ids:
        if not sid or "/" in sid or "\\" in sid:
            continue
        if "%" in sid or "_" in sid:
            path = transcript_path(db, sid)
            if path:
                out[sid] = path
            continue
        want.setdefault(sid.translate(_UPPER), []).append(sid)
    if not want:
        return out
    for (path,) in db.execute("SELECT path FROM sources WHERE agent = 'claude' ORDER BY path"):
        if path[-6:].translate(_UPPER) != ".jsonl":
            continue
        i = max(path.rfind("/"), path.rfind("\\"))
        if i < 0:
            continue
        sids = want.pop(path[i + 1:-6].translate(_UPPER), None)
        if sids:
            for sid in sids:
                out[sid] = path
            if not want:
                break
    return out


def from_transcripts(store, sessions) -> dict[tuple[str, str], Signals]:
    """Transcript signals for Claude Code sessions the guard did not watch: counted once per
    transcript and kept in session_signals (counted again when the ledger has later calls).
    sessions: (session_id, last_ts) pairs of claude sessions without guard signals."""
    out = {}
    sessions = list(sessions)
    paths = transcript_paths(store.db, [sid for sid, _ in sessions])
    for session_id, last_ts in sessions:
        path = paths.get(session_id)
        if not path:
            continue
        try:
            with open(path, "rb") as f:
                s = from_transcript(f, "claude", session_id)
        except OSError:
            continue
        s.session_id = session_id
        if s.last_ts is None or (last_ts is not None and s.last_ts < last_ts):
            s.last_ts = max(x for x in (s.last_ts, last_ts) if x is not None)
        out[("claude", session_id)] = s
    if out and not store.readonly:
        with store.transaction():
            for s in out.values():
                save(store.db, s)
    return out
