"""Where the agents other than Claude keep their data, as plain strings, and whether each is on
this machine at all.

A bare report asks every agent, and most machines have one or two of the ten. Asking here costs
a few stats per agent, without importing the agent's reader module or pathlib (together ~3 ms
and ~4 ms of every bare report); adapters.available() stands an absent agent in with no sources.
The readers take their folders from these same rules, so an agent `absent()` calls absent is
one whose roots() would be empty.
"""

from __future__ import annotations

import os
import sys

from .fields import agent_data_dir


def _home() -> str:
    return os.path.expanduser("~")


def codex_home() -> str:
    """`$CODEX_HOME`, else `~/.codex`."""
    env = os.environ.get("CODEX_HOME", "").strip()
    return os.path.expanduser(env) if env else os.path.join(_home(), ".codex")


def copilot_home() -> str:
    """`$COPILOT_HOME`, else `~/.copilot`."""
    env = os.environ.get("COPILOT_HOME", "").strip()
    return os.path.expanduser(env) if env else os.path.join(_home(), ".copilot")


def gemini_dir() -> str:
    """`$GEMINI_CLI_HOME/.gemini`, else `~/.gemini`."""
    base = os.environ.get("GEMINI_CLI_HOME", "").strip()
    return os.path.join(os.path.expanduser(base) if base else _home(), ".gemini")


def opencode_dir() -> str:
    return agent_data_dir("OPENCODE_DATA_DIR", "opencode")


def amp_dir() -> str:
    return agent_data_dir("AMP_DATA_DIR", "amp")


def cursor_user_dirs() -> list[str]:
    """Cursor's user folder on Linux (`$XDG_CONFIG_HOME`, absolute only, else ~/.config), macOS
    and Windows, in that order."""
    home = _home()
    out = []
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        out.append(os.path.join(xdg, "Cursor"))
    out.append(os.path.join(home, ".config", "Cursor"))
    out.append(os.path.join(home, "Library", "Application Support", "Cursor"))
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        out.append(os.path.join(os.environ["APPDATA"], "Cursor"))
    return out


def cursor_db(user_dir: str) -> str:
    return os.path.join(user_dir, "User", "globalStorage", "state.vscdb")


def hermes_bases() -> list[str]:
    """`$HERMES_HOME` (set), then `~/.hermes`: every Hermes home and profile lies in one."""
    env = os.environ.get("HERMES_HOME")
    return ([os.path.expanduser(env)] if env else []) + [os.path.join(_home(), ".hermes")]


def openclaw_candidates() -> list[str]:
    """`$OPENCLAW_STATE_DIR` (set), ~/.openclaw, the ~/.openclaw-<profile> folders (sorted),
    then the legacy ~/.clawdbot and ~/.moltbot."""
    home = _home()
    env = os.environ.get("OPENCLAW_STATE_DIR")
    out = [os.path.expanduser(env)] if env else []
    out.append(os.path.join(home, ".openclaw"))
    try:
        names = os.listdir(home)
    except OSError:
        names = []
    out.extend(sorted(p for p in (os.path.join(home, n) for n in names if n.startswith(".openclaw-"))
                      if os.path.isdir(p)))
    out += [os.path.join(home, ".clawdbot"), os.path.join(home, ".moltbot")]
    return out


def openhuman_base() -> str:
    """`$OPENHUMAN_WORKSPACE` (set), else ~/.openhuman: every workspace lies in it."""
    env = os.environ.get("OPENHUMAN_WORKSPACE")
    return os.path.expanduser(env) if env else os.path.join(_home(), ".openhuman")


# agent -> whether its reader may find a data folder (False: its roots() are empty).
_PROBES = {
    "codex": lambda: os.path.isdir(codex_home()),
    "hermes": lambda: any(os.path.isdir(b) for b in hermes_bases()),
    "openclaw": lambda: any(os.path.isdir(os.path.join(c, "agents")) for c in openclaw_candidates()),
    "openhuman": lambda: os.path.isdir(openhuman_base()),
    "cursor": lambda: any(os.path.isfile(cursor_db(d)) for d in cursor_user_dirs()),
    "gemini": lambda: os.path.isdir(os.path.join(gemini_dir(), "tmp")),
    "opencode": lambda: os.path.isdir(opencode_dir()),
    "copilot": lambda: os.path.isfile(os.path.join(copilot_home(), "session-store.db")),
    "amp": lambda: os.path.isdir(os.path.join(amp_dir(), "threads")),
}


def absent(name: str) -> bool:
    """Whether agent `name` certainly has no data on this machine (False for an agent without a
    probe here: Claude, or one added later)."""
    probe = _PROBES.get(name)
    return probe is not None and not probe()
