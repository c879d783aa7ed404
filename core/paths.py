"""Where token-roi keeps its files.

TOKEN_ROI_HOME, when set, holds everything (store, state, config, log). Otherwise the XDG base
directories: data (the ledger), state (per-session guard files, our log) and config.

The *_str functions give the same folders as plain strings without importing pathlib (~4 ms of
a hook: it loads re, urllib.parse and ipaddress); the Path functions are for everything else.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


# The JSON schemas shipped in the package (config, prices, ledger entries).
SCHEMA_DIR_STR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "schema")


def _home_override() -> str | None:
    value = os.environ.get("TOKEN_ROI_HOME")
    return os.path.expanduser(value) if value else None


def _xdg(var: str, default: str) -> str:
    value = os.environ.get(var)
    if value and os.path.isabs(os.path.expanduser(value)):
        base = os.path.expanduser(value)
    else:
        base = os.path.join(os.path.expanduser("~"), default)
    return os.path.join(base, "token-roi")


def data_dir_str() -> str:
    return _home_override() or _xdg("XDG_DATA_HOME", ".local/share")


def state_dir_str() -> str:
    return _home_override() or _xdg("XDG_STATE_HOME", ".local/state")


def config_dir_str() -> str:
    return _home_override() or _xdg("XDG_CONFIG_HOME", ".config")


def limits_dir_str() -> str:
    """Plan-limit files the status line and hooks share (core/guard/quota.py)."""
    return os.path.join(state_dir_str(), "limits")


def log_path_str() -> str:
    return os.path.join(state_dir_str(), "token-roi.log")


def db_path_str() -> str:
    return os.path.join(data_dir_str(), "ledger.sqlite3")


def data_dir() -> Path:
    from pathlib import Path
    return Path(data_dir_str())


def state_dir() -> Path:
    from pathlib import Path
    return Path(state_dir_str())


def config_dir() -> Path:
    from pathlib import Path
    return Path(config_dir_str())


def db_path() -> Path:
    from pathlib import Path
    return Path(db_path_str())


def log_path() -> Path:
    return state_dir() / "token-roi.log"
