"""`token-roi statusline`: the command Claude Code's `statusLine` setting runs after messages.

stdin: Claude Code's status JSON (session_id, model, cwd, cost, and on Pro/Max plans
`rate_limits {five_hour, seven_day: {used_percentage, resets_at}}`). stdout: one line --
model, this session's cost as we measured it (the guard's session state, else the last ledger
refresh), today's spend, the 5-hour window with its pace and time to reset, the 7-day window, and
the guard's loop/budget flag. The rate-limit figures are recorded on the way (quota.record).

Live path: standard library only, no sqlite, no json module (fastjson), no pathlib. Today's
spend comes from `limits/today.json`, which a background refresh (core/limits/background.py) keeps:
when that file is old or a figure just changed, one detached refresh is started and the line
goes out without waiting. Whatever the input, one line and exit 0; errors go to our log.
"""

from __future__ import annotations

import os
import sys
import time

from .. import fastjson
from . import quota

TODAY_MAX_AGE_S = 300        # today.json older than this asks for a refresh
REFRESH_EVERY_S = 60         # at most one refresh started per minute
NARROW_COLUMNS = 60

_RESET = "\x1b[0m"
_DIM, _GREEN, _YELLOW, _RED, _CYAN = "\x1b[2m", "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[36m"


def log(message: str) -> None:
    try:
        from .. import paths
        path = paths.log_path_str()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} statusline "
                    f"{message.replace(chr(10), ' ')[:400]}\n")
    except Exception:  # noqa: BLE001
        pass


# -- input ----------------------------------------------------------------------------------------

def parse(raw: bytes) -> tuple[dict, list[str]]:
    """The payload (what could be read of it) and the problems met."""
    problems: list[str] = []
    if not raw or not raw.strip():
        return {}, ["empty stdin"]
    try:
        payload = fastjson.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [f"stdin is not JSON ({str(exc)[:120]})"]
    if not isinstance(payload, dict):
        return {}, [f"stdin is JSON {type(payload).__name__}, expected an object"]
    return payload, problems


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def snapshots(payload: dict, now: float, problems: list[str]) -> list[dict]:
    """The rate-limit windows present in the payload, as snapshot dicts (none on API-key plans,
    before the session's first response, or when a window is absent)."""
    limits = payload.get("rate_limits")
    if limits is None:
        return []
    if not isinstance(limits, dict):
        problems.append(f"rate_limits is {type(limits).__name__}, expected an object")
        return []
    sid = payload.get("session_id")
    out = []
    for window in ("five_hour", "seven_day"):
        item = limits.get(window)
        if item is None:
            continue
        used = _number(item.get("used_percentage")) if isinstance(item, dict) else None
        if used is None or not 0 <= used <= 1000:
            problems.append(f"rate_limits.{window}.used_percentage missing or not a number")
            continue
        resets = _number(item.get("resets_at"))
        if resets is not None and resets > 1e11:       # milliseconds, should a build send them
            resets /= 1000
        out.append({"agent": "claude", "window": window, "used_percentage": round(used, 2),
                    "resets_at": int(resets) if resets is not None else None,
                    "captured_at": int(now), "source": "statusline",
                    "session_id": sid[:128] if isinstance(sid, str) else None})
    return out


def _model(payload: dict) -> str:
    model = payload.get("model")
    name = None
    if isinstance(model, dict):
        name = model.get("display_name") or model.get("id")
    elif isinstance(model, str):
        name = model
    return name[:40] if isinstance(name, str) and name else "?"


# -- our figures -----------------------------------------------------------------------------------

def _read_json(path: str) -> dict | None:
    try:
        with open(path, "rb") as f:
            data = fastjson.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def today_path() -> str:
    return os.path.join(quota.limits_dir(), "today.json")


def _state(session_id) -> dict | None:
    if not isinstance(session_id, str) or not session_id:
        return None
    from . import state as st
    return _read_json(st.session_file(session_id))


def _today() -> str:
    return time.strftime("%Y-%m-%d", time.localtime())


def figures(payload: dict, now: float) -> dict:
    """Session cost, today's spend and the guard's flag: what we know without the ledger."""
    sid = payload.get("session_id")
    state = _state(sid)
    cache = _read_json(today_path())
    day = _today()
    if cache is not None and cache.get("day") != day:
        cache = None
    out: dict = {"session_cost": None, "session_unpriced": False, "today": None, "flag": None,
                 "cache_age": None if cache is None else now - (_number(cache.get("written_at")) or 0)}
    cached_sessions = (cache or {}).get("claude_sessions")
    cached_sessions = cached_sessions if isinstance(cached_sessions, dict) else {}
    if state is not None:
        cost = _number(state.get("cost_usd")) or 0.0
        out["session_cost"] = cost
        out["session_unpriced"] = bool(state.get("unpriced_tokens"))
        by_day = state.get("cost_by_day")
        start = _number(by_day.get(day)) if isinstance(by_day, dict) else None
        # (no mark for today yet: the guard has not run today, the cached figure stands)
        live_today = max(0.0, cost - start) if start is not None else None
        out["flag"] = _flag(state)
    elif isinstance(sid, str) and sid in cached_sessions:
        out["session_cost"] = _number(cached_sessions.get(sid))
        live_today = None
    else:
        live_today = None
    if cache is not None:
        total = _number(cache.get("total_usd")) or 0.0
        if live_today is not None:
            # The ledger's figure for this session is as of the last refresh; the state's is now.
            total = total - (_number(cached_sessions.get(sid)) or 0.0) + live_today
        out["today"] = total
    elif live_today is not None:
        out["today_partial"] = live_today
    return out


def _flag(state: dict) -> str | None:
    loops = state.get("loop_attempts")
    if isinstance(loops, dict):
        worst = max(((t, n) for t, n in loops.items() if isinstance(n, int) and n >= 3),
                    key=lambda tn: tn[1], default=None)
        if worst:
            return f"loop {worst[0][:20]}x{worst[1]}"
    if state.get("fast_tier_triggered"):
        return "fast tier"
    alerts = state.get("budget_alerts")
    if isinstance(alerts, list) and alerts:
        last = str(alerts[-1]).split(":")
        return f"{last[0]} budget {last[1]}%" if len(last) > 1 else "budget"
    return None


# -- output ----------------------------------------------------------------------------------------

def use_colour() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") or os.environ.get("CLICOLOR_FORCE"):
        return True
    # Claude Code reads the command's stdout through a pipe and renders ANSI colours itself.
    return os.environ.get("TERM") != "dumb"


def _columns() -> int:
    try:
        return int(os.environ.get("COLUMNS", "") or 0) or 120
    except ValueError:
        return 120


def _money(value: float | None) -> str:
    if value is None:
        return "$—"
    return f"${value:,.2f}" if value < 1000 else f"${value:,.0f}"


def _level_colour(used: float, projected: float | None) -> str:
    if used >= 90 or (projected is not None and projected >= 100):
        return _RED
    if used >= 70 or (projected is not None and projected >= 85):
        return _YELLOW
    return _GREEN


def render(payload: dict, windows: dict, figs: dict, now: float, *, colour: bool, columns: int) -> str:
    narrow = columns < NARROW_COLUMNS

    def c(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    parts = [c(_model(payload), _CYAN)]
    cost = figs.get("session_cost")
    cost_text = _money(cost) + ("+?" if figs.get("session_unpriced") else "")
    parts.append(cost_text if narrow else f"{cost_text} session")
    if not narrow:
        today = figs.get("today")
        if today is not None:
            parts.append(f"{_money(today)} today")
        elif figs.get("today_partial") is not None:
            parts.append(f"≥{_money(figs['today_partial'])} today")
    for window, short in (("five_hour", "5h"), ("seven_day", "7d")):
        snap = windows.get(window)
        if snap is None:
            if not narrow and window == "five_hour":
                parts.append(c("5h —", _DIM))
            continue
        used = float(snap["used_percentage"])
        p = quota.pace(used, snap.get("resets_at"), window, now)
        projected = p["projected"] if p else None
        stale = quota.is_stale(snap, now)
        if narrow:
            text = f"{short} {used:.0f}%"
        else:
            text = f"{short} {used:.0f}%"
            if p and window == "five_hour":
                text += f" →{projected:.0f}%" if projected is not None else ""
                text += f" ↺{quota.duration(p['resets_in'])}"
            elif p and window == "seven_day" and projected is not None and projected >= 100:
                text += f" →{projected:.0f}%"
            if stale:
                text += " (stale)"
        parts.append(c(text, _DIM if stale else _level_colour(used, projected)))
    flag = figs.get("flag")
    if flag:
        parts.append(c(("⚠ " + flag) if not narrow else "⚠", _YELLOW))
    sep = " " if narrow else c(" · ", _DIM) if colour else " · "
    return sep.join(parts)


# -- refresh ---------------------------------------------------------------------------------------

def maybe_refresh(figs: dict, changed: bool, now: float) -> None:
    """Start one detached background refresh (ingest, price, today.json, alerts) when today's
    figure is old or a limit just moved; never waits for it."""
    age = figs.get("cache_age")
    if not changed and age is not None and age < TODAY_MAX_AGE_S:
        return
    if os.environ.get("TOKEN_ROI_STATUSLINE_NO_REFRESH") or not hasattr(os, "posix_spawn"):
        return
    marker = os.path.join(quota.limits_dir(), "refresh.started")
    try:
        if now - os.stat(marker).st_mtime < REFRESH_EVERY_S:
            return
    except OSError:
        pass
    try:
        os.makedirs(quota.limits_dir(), exist_ok=True)
        with open(marker, "w", encoding="utf-8") as f:
            f.write(str(int(now)))
        exe = _installed_cli() if sys.flags.no_site else None
        if exe:
            # Run without site-packages (the plugin launcher): the installed CLI's interpreter has
            # what a refresh may want (genai-prices, pyyaml).
            argv = [exe, "limits", "--background"]
        else:
            argv = [sys.executable, "-c", _BOOT, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            os.posix_spawn(argv[0], argv, os.environ,
                           file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                                         (os.POSIX_SPAWN_DUP2, devnull, 2)],
                           setsid=True)
        finally:
            os.close(devnull)
    except Exception as exc:  # noqa: BLE001 - a refresh is a nicety
        log(f"refresh not started: {type(exc).__name__}: {exc}")


def _installed_cli() -> str | None:
    """`token-roi` on PATH (shutil.which without shutil's imports), else None."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(folder, "token-roi")
        if folder and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


# Loads token_roi from its folder (argv[1]) whatever the layout, then runs the refresh.
_BOOT = ("import sys,importlib.util as u;"
         "s=u.spec_from_file_location('token_roi',sys.argv[1]+'/__init__.py',"
         "submodule_search_locations=[sys.argv[1]]);"
         "m=u.module_from_spec(s);sys.modules['token_roi']=m;s.loader.exec_module(m);"
         "from token_roi.limits.background import main;main()")


def run(raw: bytes, now: float | None = None) -> str:
    """stdin bytes in, the line out; never raises."""
    now = time.time() if now is None else now
    payload: dict = {}
    try:
        payload, problems = parse(raw)
        snaps = snapshots(payload, now, problems)
        changed = False
        try:
            changed = bool(quota.record(snaps, now))
        except OSError as exc:
            problems.append(f"snapshot not recorded: {exc}")
        windows = {}
        latest = quota.read_latest()
        for window in ("five_hour", "seven_day"):
            snap = latest.get(f"claude/{window}")
            if isinstance(snap, dict) and isinstance(snap.get("used_percentage"), (int, float)):
                resets = snap.get("resets_at")
                if isinstance(resets, (int, float)) and resets <= now:
                    continue                 # that window has reset since: its figure is gone
                windows[window] = snap
        figs = figures(payload, now)
        if problems:
            log("; ".join(problems))
        line = render(payload, windows, figs, now, colour=use_colour(), columns=_columns())
        maybe_refresh(figs, changed, now)
        return line
    except Exception as exc:  # noqa: BLE001 - never break the status line
        log(f"error {type(exc).__name__}: {exc}")
        try:
            return f"{_model(payload)} · token-roi: see log"
        except Exception:  # noqa: BLE001
            return "token-roi"


def main() -> int:
    try:
        if sys.stdin.isatty():           # a person typed it: Claude Code always pipes the JSON
            sys.stderr.write("token-roi statusline reads Claude Code's status JSON on stdin "
                             "(set it up with `token-roi setup claude --statusline`)\n")
            raw = b""
        else:
            raw = sys.stdin.buffer.read()
    except Exception:  # noqa: BLE001
        raw = b""
    line = run(raw)
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except Exception:  # noqa: BLE001
        pass
    return 0
