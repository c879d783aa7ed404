"""Where token-roi keeps its files.

TOKEN_ROI_HOME, when set, holds everything (store, state, config, log). Otherwise the XDG base
directories: data (the ledger), state (per-session guard files, our log) and config.
"""

from __future__ import annotations

import os
from pathlib import Path


def _home_override() -> Path | None:
    value = os.environ.get("TOKEN_ROI_HOME")
    return Path(value).expanduser() if value else None


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    base = Path(value).expanduser() if value and os.path.isabs(os.path.expanduser(value)) else Path.home() / default
    return base / "token-roi"


def data_dir() -> Path:
    return _home_override() or _xdg("XDG_DATA_HOME", ".local/share")


def state_dir() -> Path:
    return _home_override() or _xdg("XDG_STATE_HOME", ".local/state")


def config_dir() -> Path:
    return _home_override() or _xdg("XDG_CONFIG_HOME", ".config")


def db_path() -> Path:
    return data_dir() / "ledger.sqlite3"


def log_path() -> Path:
    return state_dir() / "token-roi.log"
