"""The guard's limits: environment first, then the config file, then defaults.

The config file is YAML and needs pyyaml, which the hooks must not depend on (and which is slow
to import on every tool call): it is read once per session, its guard values cached in the
session state (`limits`), and re-read only by the next session. Environment variables are read
on every hook and always win.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "warn_at_attempt": 3,
    "max_fix_attempts": 5,
    "max_loop_tokens": 50_000,
    "session_budget_usd": None,
    "daily_budget_usd": None,
    "hard_cap": False,
    "alert_threshold_percent": 80.0,
    "quota_alert_percent": 80.0,       # plan windows (quota.py)
    "quota_cap_percent": None,
}

ENV = {
    "warn_at_attempt": "TOKEN_ROI_WARN_AT_ATTEMPT",
    "max_fix_attempts": "TOKEN_ROI_MAX_FIX_ATTEMPTS",
    "max_loop_tokens": "TOKEN_ROI_MAX_LOOP_TOKENS",
    "session_budget_usd": "TOKEN_ROI_SESSION_BUDGET_USD",
    "daily_budget_usd": "TOKEN_ROI_DAILY_BUDGET_USD",
    "hard_cap": "TOKEN_ROI_HARD_CAP",
    "alert_threshold_percent": "TOKEN_ROI_COST_ALERT_THRESHOLD_PERCENT",
    "quota_alert_percent": "TOKEN_ROI_QUOTA_ALERT_PERCENT",
    "quota_cap_percent": "TOKEN_ROI_QUOTA_CAP_PERCENT",
}

CONFIG_KEYS = {
    "warn_at_attempt": "guard.warn_at_attempt",
    "max_fix_attempts": "guard.max_fix_attempts",
    "max_loop_tokens": "guard.max_loop_tokens",
    "session_budget_usd": "guard.session_budget_usd",
    "daily_budget_usd": "guard.daily_budget_usd",
    "hard_cap": "guard.hard_cap",
    "alert_threshold_percent": "ai.cost_alert_threshold_percent",
    "quota_alert_percent": "guard.quota_alert_percent",
    "quota_cap_percent": "guard.quota_cap_percent",
}

_INTS = ("warn_at_attempt", "max_fix_attempts", "max_loop_tokens")


def _coerce(name: str, value):
    """The value as the type the guard uses, or None when it is unusable (ignored)."""
    if value is None:
        return None
    if name == "hard_cap":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        return None
    try:
        if name in _INTS:
            whole = int(str(value).strip().replace("_", "").replace(",", ""))
            return whole if whole > 0 else None
        number = float(str(value).strip().lstrip("$"))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _dig(config, dotted: str):
    """`guard.max_fix_attempts` from a nested mapping, a flat dotted mapping or attributes."""
    if isinstance(config, dict) and dotted in config:
        return config[dotted]
    node = config
    for part in dotted.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        else:
            node = getattr(node, part, None)
        if node is None:
            return None
    return node


def from_config_file() -> dict | None:
    """Guard values set in the config file; {} when none are; None when it could not be read
    (pyyaml missing before pip install, or any error): try again later."""
    try:
        from .. import config
        loaded = config.load()
    except Exception:  # noqa: BLE001 - the guard runs on defaults rather than not at all
        return None
    if hasattr(loaded, "to_dict") and callable(loaded.to_dict):
        try:
            loaded = loaded.to_dict()
        except Exception:  # noqa: BLE001
            pass
    out = {}
    for name, dotted in CONFIG_KEYS.items():
        try:
            value = _coerce(name, _dig(loaded, dotted))
        except Exception:  # noqa: BLE001
            value = None
        if value is not None:
            out[name] = value
    return out


def resolve(file_values: dict | None) -> dict:
    """Defaults, overlaid by the config file's values, overlaid by the environment."""
    limits: dict = dict(DEFAULTS)
    for name, value in (file_values or {}).items():
        if name in limits:
            coerced = _coerce(name, value)
            if coerced is not None:
                limits[name] = coerced
    for name, var in ENV.items():
        raw = os.environ.get(var)
        if raw is None:
            continue
        value = _coerce(name, raw)
        if value is not None:
            limits[name] = value
        elif name == "hard_cap" or raw.strip() in ("", "0", "none", "off"):
            limits[name] = DEFAULTS[name] if name != "hard_cap" else False
    if limits["warn_at_attempt"] > limits["max_fix_attempts"]:
        limits["warn_at_attempt"] = limits["max_fix_attempts"]
    return limits


HARD_CAP_FLAG = "guard-hard-cap"   # in the state dir while the config file turns the hard cap on


def for_state(state: dict, *, read_file: bool = True) -> dict:
    """The session's limits; reads the config file the first time (and caches what it found)."""
    cached = state.get("limits")
    if not isinstance(cached, dict) and read_file:
        found = from_config_file()
        if found is not None:
            state["limits"] = cached = found
            sync_hard_cap_flag(bool(found.get("hard_cap")))
    return resolve(cached if isinstance(cached, dict) else None)


def sync_hard_cap_flag(on: bool) -> None:
    """The PreToolUse hook runs before every tool call; with the hard cap off it must cost
    nothing, so it checks only the environment and this flag file before doing any work."""
    from .. import paths
    flag = paths.state_dir() / HARD_CAP_FLAG
    try:
        if on:
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.touch()
        else:
            flag.unlink()
    except OSError:
        pass
