"""Plan limits on the live path: the latest official snapshot, its pace, and the guard's quota note.

The status line (statusline.py) records what Claude Code reports in `rate_limits`; this module
keeps the two small files it writes in `<state dir>/limits/`, which the hooks read cheaply
(no ledger, no sqlite):
- latest.json   {"claude/five_hour": {agent, window, used_percentage, resets_at, captured_at,
                 seen_at, source, session_id}, ...}: the newest figure of each window. captured_at
                 is when that figure was first seen, seen_at when it was last confirmed.
- spool.jsonl   one line per change of a figure (append-only), drained into the ledger table
                 `rate_limit_snapshots` by the next ingest (core/limits/snapshots.py).
Counts and times only: no prompt, no path, no content.

The guard's use (on PostToolUse and UserPromptSubmit): past the alert threshold of a window
(guard.quota_alert_percent, default 80) or when the pace exhausts the window before it resets,
one note to Claude per window and reset; with the hard cap on and guard.quota_cap_percent set, a
deny on PreToolUse past that figure.
"""

from __future__ import annotations

import os
import time

from .. import fastjson, safe_io

WINDOW_SECONDS = {"five_hour": 5 * 3600, "seven_day": 7 * 24 * 3600}
WINDOW_LABEL = {"five_hour": "5-hour", "seven_day": "7-day"}
STALE_S = 600                # a figure not confirmed for 10 minutes is stale
SEEN_EVERY_S = 60            # how often an unchanged figure's seen_at is rewritten
DEFAULT_ALERT_PERCENT = 80.0


def limits_dir() -> str:
    from .. import paths
    return paths.limits_dir_str()


def latest_path() -> str:
    return os.path.join(limits_dir(), "latest.json")


def spool_path() -> str:
    from .. import paths
    return os.path.join(paths.limits_dir_str(), SPOOL_NAME)


SPOOL_NAME = "spool.jsonl"      # (core/store/rate_limits.py drains it)


def read_latest() -> dict:
    """{"agent/window": snapshot dict} ({} when there is none or it is unreadable)."""
    try:
        with open(latest_path(), "rb") as f:
            data = fastjson.loads(f.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    safe_io.write_atomic(path, text)


def record(snapshots: list[dict], now: float | None = None) -> list[dict]:
    """Remember these figures: a changed figure is appended to the spool and replaces the latest;
    an unchanged one only has its seen_at renewed (at most once a minute). Returns the snapshots
    that changed (what the spool got)."""
    if not snapshots:
        return []
    from . import state as st
    os.makedirs(limits_dir(), exist_ok=True)
    # Status lines of several sessions run at once: one read-modify-write at a time.
    with st.locked(latest_path()):
        return _record(snapshots, time.time() if now is None else now)


def _record(snapshots: list[dict], now: float) -> list[dict]:
    latest = read_latest()
    changed = []
    dirty = False
    for snap in snapshots:
        key = f"{snap['agent']}/{snap['window']}"
        old = latest.get(key)
        if (isinstance(old, dict) and old.get("used_percentage") == snap["used_percentage"]
                and old.get("resets_at") == snap["resets_at"]):
            if now - (old.get("seen_at") or 0) >= SEEN_EVERY_S:
                old["seen_at"] = int(now)
                dirty = True
            continue
        entry = dict(snap)
        entry["seen_at"] = int(now)
        latest[key] = entry
        changed.append(snap)
        dirty = True
    if changed:
        text = "".join(fastjson.dumps(s, separators=(",", ":")) + "\n" for s in changed)
        # One write of a few hundred bytes to an O_APPEND file: concurrent status lines never
        # interleave inside a line. A duplicate from a race is dropped when the spool is drained.
        fd = os.open(spool_path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    if dirty:
        _write_atomic(latest_path(), fastjson.dumps(latest, separators=(",", ":")))
    return changed


def is_stale(snap: dict, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    seen = snap.get("seen_at") or snap.get("captured_at") or 0
    return now - seen > STALE_S


def pace(used: float, resets_at: int | None, window: str, now: float | None = None) -> dict | None:
    """The window's use at its reset if the average burn since the window opened holds, and the
    seconds until it runs out at that burn (None: not before the reset). An estimate: the
    window's start is its reset minus its length."""
    length = WINDOW_SECONDS.get(window)
    if not length or resets_at is None:
        return None
    now = time.time() if now is None else now
    left = resets_at - now
    if left <= 0:
        return None
    elapsed = length - left
    if elapsed <= 60:                 # a window that just opened: no burn to speak of
        return {"projected": used, "exhausts_in": None, "resets_in": int(left)}
    rate = used / elapsed             # points per second
    projected = used + rate * left
    exhausts_in = None
    if rate > 0 and projected >= 100:
        exhausts_in = max(0, int((100 - used) / rate))
    return {"projected": round(projected, 1), "exhausts_in": exhausts_in, "resets_in": int(left)}


def duration(seconds: float) -> str:
    """2h13m, 45m, 3d4h."""
    s = max(0, int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m"


# -- the guard -----------------------------------------------------------------------------------

def _threshold(limits: dict) -> float:
    value = limits.get("quota_alert_percent")
    return float(value) if isinstance(value, (int, float)) and value > 0 else DEFAULT_ALERT_PERCENT


def fresh_windows(agent: str = "claude", now: float | None = None) -> list[dict]:
    """The agent's latest windows that are not stale and not already reset."""
    now = time.time() if now is None else now
    out = []
    for snap in read_latest().values():
        if not isinstance(snap, dict) or snap.get("agent") != agent:
            continue
        used = snap.get("used_percentage")
        if not isinstance(used, (int, float)) or is_stale(snap, now):
            continue
        resets = snap.get("resets_at")
        if isinstance(resets, (int, float)) and resets <= now:
            continue
        out.append(snap)
    out.sort(key=lambda s: WINDOW_SECONDS.get(str(s.get("window")), 0))
    return out


def due(limits: dict, now: float | None = None) -> list[tuple[str, str]]:
    """(key, note) for each fresh window past the threshold or on pace to run out before it resets."""
    now = time.time() if now is None else now
    threshold = _threshold(limits)
    out = []
    for snap in fresh_windows("claude", now):
        window, used, resets = snap["window"], float(snap["used_percentage"]), snap.get("resets_at")
        p = pace(used, resets, window, now)
        early = p is not None and p["exhausts_in"] is not None and p["exhausts_in"] < p["resets_in"]
        if used < threshold and not early:
            continue
        label = WINDOW_LABEL.get(window, window)
        when = f", resets in {duration(p['resets_in'])}" if p else ""
        if used >= threshold or p is None:
            why = f"the {label} plan limit is at {used:.0f}%{when}"
        else:
            why = (f"at the current pace the {label} plan limit ({used:.0f}% now) runs out in "
                   f"{duration(p['exhausts_in'] or 0)}, before it resets{when}")
        out.append((f"{window}:{resets}", f"token-roi: {why}. To make the rest last, delegate simple work "
                    f"(small fixes, lookups, formatting) to the fast-tier agent (subagent_type "
                    f"\"token-roi:fast-fixer\") and keep the main model for the hard parts."))
    return out


def notes(state: dict, limits: dict, now: float | None = None) -> list[str]:
    """Quota notes to give Claude now: once per window and reset (remembered in the state)."""
    given = state.get("quota_notes")
    if not isinstance(given, list):
        given = state["quota_notes"] = []
    out = []
    for key, text in due(limits, now):
        if key not in given:
            given.append(key)
            out.append(text)
    del given[:-10]
    return out


def safe_notes(state: dict, limits: dict, log=None) -> list[str]:
    """notes(), never a reason to fail a hook."""
    try:
        return notes(state, limits)
    except Exception as exc:  # noqa: BLE001
        if log:
            log(f"quota: {type(exc).__name__}: {exc}")
        return []


def prompt_notes(session_id: str, log=None) -> list[str]:
    """UserPromptSubmit: the same once-per-window note (with the next prompt when no tool ran)."""
    if not fresh_windows():
        return []                                # no status line figures: one failed open
    from . import settings
    from . import state as st
    cached = st.peek(session_id)
    limits = settings.resolve(cached.get("limits") if cached else None)
    keys = [key for key, _ in due(limits)]
    if not keys or (cached and all(k in (cached.get("quota_notes") or ()) for k in keys)):
        return []                                # nothing due, or already said: no lock, no write
    with st.session(session_id, log) as state:
        return safe_notes(state, settings.for_state(state, read_file=state.get("limits") is None), log)


def over_cap(limits: dict, now: float | None = None) -> tuple[str, float, float] | None:
    """(window, used, cap) when the hard cap is on and a fresh window is past guard.quota_cap_percent."""
    cap = limits.get("quota_cap_percent")
    if not limits.get("hard_cap") or not isinstance(cap, (int, float)) or cap <= 0:
        return None
    for snap in fresh_windows("claude", now):
        used = float(snap["used_percentage"])
        if used >= cap:
            return snap["window"], used, float(cap)
    return None


def cap_reason(window: str, used: float, cap: float) -> str:
    label = WINDOW_LABEL.get(window, window)
    return (f"token-roi hard cap: the {label} plan limit is at {used:.0f}% (cap {cap:g}%). Tool calls are "
            f"blocked until it resets; tell the user, who can raise guard.quota_cap_percent "
            f"(TOKEN_ROI_QUOTA_CAP_PERCENT) or turn the hard cap off.")


def context_line(now: float | None = None) -> str | None:
    """The plan windows' use, for the answer to a cost question ("am I wasting tokens?")."""
    parts = []
    for snap in fresh_windows("claude", now):
        window, used = snap["window"], float(snap["used_percentage"])
        p = pace(used, snap.get("resets_at"), window, now)
        text = f"{WINDOW_LABEL.get(window, window)} limit {used:.0f}% used"
        if p:
            text += f" (on pace for {p['projected']:.0f}% at reset in {duration(p['resets_in'])})"
        parts.append(text)
    return ("Plan limits (official, from Claude Code): " + "; ".join(parts) + ".") if parts else None
