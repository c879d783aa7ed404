"""The per-session guard file ("L2 budget JSON"): where it lives, how it is locked and written.

Hooks of one session run in parallel (Claude runs independent tool calls together), so every
read-modify-write happens under an exclusive lock on a sidecar `.lock` file, and the JSON is
replaced atomically (temp file + os.replace): a reader never sees half a file, a writer never
loses another's update. The file holds counts, names and times only, never content.
"""

from __future__ import annotations

import os
import time

from .. import fastjson, safe_io
from ..isotime import iso_ms, iso_now

TYPE_CHECKING = False        # pathlib is ~4 ms of a hook's start: the hook path uses plain strings
if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO

try:
    import fcntl
except ImportError:          # Windows: fall back to msvcrt, else run unlocked
    fcntl = None  # type: ignore[assignment]

SCHEMA = 1
ACTIONS_KEPT = 50            # recent actions, oldest dropped first
ENDED_TTL_S = 24 * 3600      # an ended session's file is kept a day (for /cost-report), then removed
IDLE_TTL_S = 7 * 24 * 3600   # a session never seen to end is removed after a week without a hook

_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def sessions_dir_str() -> str:
    from .. import paths
    return os.path.join(paths.state_dir_str(), "sessions")


def sessions_dir() -> Path:
    from pathlib import Path
    return Path(sessions_dir_str())


def file_name(session_id: str) -> str:
    """A file name for any session id: ids are UUIDs in practice, anything else is hashed so a
    hostile id cannot walk out of the folder."""
    if 0 < len(session_id) <= 128 and _SAFE_CHARS.issuperset(session_id) and session_id.strip(".") != "":
        return f"{session_id}.json"
    from ..digest import blake2b
    return "id-" + blake2b(session_id.encode("utf-8", "replace"), digest_size=12).hexdigest() + ".json"


def session_file(session_id: str) -> str:
    """session_path() as a string (the hooks' path: no pathlib)."""
    override = os.environ.get("TOKEN_ROI_BUDGET_FILE")
    if override:
        return os.path.expanduser(override)
    return os.path.join(sessions_dir_str(), file_name(session_id))


def session_path(session_id: str) -> Path:
    from pathlib import Path
    return Path(session_file(session_id))


def _make_parent(path) -> None:
    """path.parent.mkdir(parents=True, exist_ok=True) for a str or Path."""
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):    # (created private, the token-roi folder above it too)
        parent = os.path.dirname(folder) or "."
        if not os.path.lexists(parent):
            os.makedirs(parent, mode=0o700, exist_ok=True)
        os.makedirs(folder, mode=0o700, exist_ok=True)


def sibling(path, name: str) -> str:
    """path.with_name(name) for a str or Path, as a str."""
    return os.path.join(os.path.dirname(path), name)


def with_suffix(path, suffix: str) -> str:
    """path.with_suffix(suffix) for a str or Path (pathlib's rule for what a suffix is), as a str."""
    folder, name = os.path.split(os.fspath(path))
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        name = name[:dot]
    return os.path.join(folder, name + suffix)


def new_state(session_id: str, now: float | None = None) -> dict:
    stamp = iso_now(now)
    return {
        "schema": SCHEMA,
        "session_id": session_id,
        "session_start": stamp,
        "last_activity": stamp,
        "ended_at": None,
        "end_reason": None,
        "cwd": None,
        "transcript_path": None,
        "model": None,                   # the model SessionStart reported
        "models": {},                    # model -> {"tokens", "cost_usd" (None = unpriced)}
        "total_tokens_used": 0,
        "tokens": {"input": 0, "output": 0, "cache_read": 0, "cache_write_5m": 0,
                   "cache_write_1h": 0, "reasoning": 0},
        "cost_usd": 0.0,                 # priced calls only; see unpriced_tokens
        "unpriced_tokens": 0,
        "unpriced_models": [],
        "api_calls": 0,
        "cost_by_day": {},               # UTC day -> session cost at that day's first hook
        "tool_calls": {},                # tool -> every call (PostToolUse + PostToolUseFailure)
        "tool_failures": {},             # tool -> failed calls
        # The main agent's loops (loops.py); each subagent's are in `agents`.
        "loop_attempts": {},             # tool -> attempts in its open loop (0: none open)
        "loop_tokens": {},               # tool -> full-rate tokens spent since its open loop began
        # loop_attempts_max / loop_attempts_total (the most attempts a loop reached, every attempt
        # call) appear with the first attempt (loops.py); readers fall back to `actions` without.
        "loops": {},                     # tool -> loop bookkeeping (see loops.py)
        "agents": {},                    # subagent id -> its type, loop book and tool counts
        "fast_tier_triggered": False,
        "fast_tier": {"count": 0, "events": []},
        "budget_alerts": [],             # alerts already given, e.g. "session:80"
        "outcomes": {"tests_passed": 0, "tests_failed": 0, "bugs_fixed": 0, "test_runs": 0,
                     "runs": {}, "manual": {"tests_passed": 0, "bugs_fixed": 0}},
        "actions": [],                   # last ACTIONS_KEPT tool calls: time, event, tool, ok, attempt
        "limits": None,                  # config-file limits read once per session (settings.py)
        "files": {},                     # transcript path -> cursor and what that file added
        "subagents": {"sig": None, "files": 0, "totals": None},   # their files: see usage.py
        "recent_calls": {},              # last API calls seen, to merge their streaming copies
    }


class StateCorrupt(Exception):
    pass


def load(path: str | Path) -> dict | None:
    """The state, None when there is none yet. A file that is not a state object raises
    StateCorrupt (the caller logs it and starts afresh)."""
    try:
        data = safe_io.read_regular(path)
    except FileNotFoundError:
        return None
    try:
        state = fastjson.loads(data)
    except ValueError as exc:
        raise StateCorrupt(f"{path}: not JSON ({exc})") from None
    if not isinstance(state, dict) or not isinstance(state.get("session_id"), str):
        raise StateCorrupt(f"{path}: not a token-roi session state")
    return state


def load_or_new(path: str | Path, session_id: str, log=None) -> dict:
    try:
        state = load(path)
    except StateCorrupt as exc:
        if log:
            log(f"{exc}; starting a fresh state")
        try:
            os.replace(path, str(path) + ".corrupt")
        except OSError:
            pass
        state = None
    if state is None:
        return new_state(session_id)
    return upgrade(state, session_id)


def upgrade(state: dict, session_id: str) -> dict:
    """Fill in fields a hand-edited or older file lacks, so handlers can index freely."""
    fresh = new_state(session_id)
    for key, value in fresh.items():
        if key not in state or type(state[key]) is not type(value) and value is not None:
            state[key] = value
    for key, value in fresh["tokens"].items():
        if not isinstance(state["tokens"].get(key), int):
            state["tokens"][key] = value
    for key, value in fresh["outcomes"].items():
        if type(state["outcomes"].get(key)) is not type(value):
            state["outcomes"][key] = value
    return state


def save(path: str | Path, state: dict) -> None:
    """Atomic replace: readers see the old file or the new one, never a mix."""
    _make_parent(path)
    safe_io.write_atomic(path, fastjson.dumps(state, separators=(",", ":")))   # dumps, not dump: the C encoder


def add_action(state: dict, action: dict) -> None:
    actions = state["actions"]
    actions.append(action)
    if len(actions) > ACTIONS_KEPT:
        del actions[: len(actions) - ACTIONS_KEPT]


class locked:
    """Exclusive lock for one session's read-modify-write (a sidecar file, so the state itself
    can be replaced atomically while locked). `with locked(path):`.

    This and `session` are classes rather than @contextmanager generators: contextlib is ~0.5 ms
    of every hook's start."""

    def __init__(self, path: str | Path):
        self.path = path
        self._file: BinaryIO | None = None

    def __enter__(self) -> None:
        _make_parent(self.path)
        safe_io.target(self.path)    # (a device or someone else's file: no lock beside it either)
        lock_file = open(str(self.path) + ".lock", "a+b", opener=_lock_opener)
        try:
            if fcntl is not None:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            else:
                _lock_windows(lock_file)
        except BaseException:
            lock_file.close()
            raise
        self._file = lock_file

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()   # closing releases the lock
            self._file = None


def _lock_opener(path, flags: int) -> int:
    return safe_io.open_lock(path)


def _lock_windows(lock_file) -> None:
    try:
        import msvcrt
    except ImportError:
        return                   # no locking primitive at all: run unlocked rather than not at all
    for _ in range(100):
        try:
            lock_file.seek(0)
            msvcrt.locking(lock_file.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows
            return
        except OSError:
            time.sleep(0.05)


class session:
    """Lock, load (or create) and, when the block ends without error, save the session state:
    `with session(session_id, log) as state:`."""

    def __init__(self, session_id: str, log=None):
        self.session_id = session_id
        self.log = log

    def __enter__(self) -> dict:
        self.path = session_file(self.session_id)
        self._lock = locked(self.path)
        self._lock.__enter__()
        try:
            self.state = load_or_new(self.path, self.session_id, self.log)
        except BaseException:
            self._lock.__exit__()
            raise
        return self.state

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.state["last_activity"] = iso_now()
                save(self.path, self.state)
        finally:
            self._lock.__exit__()


def peek(session_id: str) -> dict | None:
    """Read without locking (writes are atomic, so this is a consistent, maybe stale, view)."""
    try:
        state = load(session_path(session_id))
    except (StateCorrupt, OSError):
        return None
    return upgrade(state, session_id) if state else None


def all_states() -> list[tuple[Path, dict]]:
    out: list[tuple[Path, dict]] = []
    folder = sessions_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = folder / name
        try:
            state = load(path)
        except (StateCorrupt, OSError):
            continue
        if state:
            out.append((path, upgrade(state, state["session_id"])))
    return out


def latest_state() -> dict | None:
    """The most recently active session (what /cost-report shows when no id is known)."""
    override = os.environ.get("TOKEN_ROI_BUDGET_FILE")
    if override:
        try:
            state = load(os.path.expanduser(override))
        except (StateCorrupt, OSError):
            return None
        return upgrade(state, state["session_id"]) if state else None
    states = all_states()
    if not states:
        return None
    return max(states, key=lambda ps: ps[1].get("last_activity") or "")[1]


def sweep(now: float | None = None) -> int:
    """Remove the files of sessions that ended over a day ago or went a week without a hook."""
    now = time.time() if now is None else now
    removed = 0
    folder = sessions_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        path = folder / name
        if name.endswith(".tmp"):
            try:
                if now - path.stat().st_mtime > 3600:   # a writer that died mid-write
                    path.unlink()
            except OSError:
                pass
            continue
        if not name.endswith(".json"):
            continue
        try:
            state = load(path)
            mtime = path.stat().st_mtime
        except (StateCorrupt, OSError):
            continue
        if not state:
            continue
        ended = iso_ms(state.get("ended_at"))
        if (ended is not None and now - ended // 1000 > ENDED_TTL_S) or now - mtime > IDLE_TTL_S:
            from pathlib import Path
            for p in (path, Path(str(path) + ".lock"), path.with_suffix(".keys"),
                      path.with_suffix(".subagents.json")):
                try:
                    p.unlink()
                except OSError:
                    pass
            removed += 1
    daily = folder.parent / "daily"          # budget.py's per-day spend shares
    try:
        for entry in os.scandir(daily):
            if now - entry.stat().st_mtime > IDLE_TTL_S:
                os.unlink(entry.path)
    except OSError:
        pass
    return removed


def find_session(explicit: str | None = None) -> tuple[str | None, dict | None]:
    """(session id, its state) for the CLI: the id given, else Claude Code's current session
    (CLAUDE_CODE_SESSION_ID), else TOKEN_ROI_BUDGET_FILE's, else the most recently active."""
    for sid in (explicit, os.environ.get("CLAUDE_CODE_SESSION_ID")):
        if sid and sid.strip() and "${" not in sid:
            return sid.strip(), peek(sid.strip())
    found = latest_state()
    return (found["session_id"], found) if found else (None, None)
