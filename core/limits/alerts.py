"""Alerts: a webhook and/or a desktop notification, once per threshold crossing, for the plan
windows and the budgets. Optional, off unless config.yaml has an `alerts` section:

    alerts:
      webhook_url: https://hooks.example.com/T000/B000   # JSON POST, see docs/limits.md
      desktop: true                                      # notify-send, where there is one
      limit_percent: [80, 95]                            # plan windows (official figures)
      budget_percent: [80, 100]                          # daily (guard.daily_budget_usd) and monthly budgets

What goes out: what crossed (window or budget), the threshold and the figures. Never content.
Each crossing fires once (the key names the window's reset or the budget's day or month); the
state is `<state dir>/limits/alerts.json`. A webhook that fails is logged and retried at the next
check after a back-off (1, 2, 4 ... minutes, at most an hour; dropped after a day); a check never
waits more than TIMEOUT_S for an endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .. import config as config_mod
from .. import safe_io
from ..guard import quota
from ..guard import state as guard_state
from ..store import Store
from . import snapshots
from .today import day_start_ms

TIMEOUT_S = 3.0
GIVE_UP_S = 24 * 3600
MAX_BACKOFF_S = 3600
DEFAULT_LIMIT_PERCENT = (80.0, 95.0)
DEFAULT_BUDGET_PERCENT = (80.0, 100.0)


@dataclass
class Settings:
    webhook_url: str | None
    desktop: bool
    limit_percent: tuple[float, ...]
    budget_percent: tuple[float, ...]
    daily_budget_usd: float | None
    monthly_budget_usd: float | None

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url or self.desktop)


def _percents(value, default: tuple[float, ...]) -> tuple[float, ...]:
    if value is None:
        return default
    items = value if isinstance(value, list) else [value]
    out = sorted({float(v) for v in items if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0})
    return tuple(out) or default


def _usd(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def settings(cfg: dict | None = None) -> Settings:
    cfg = config_mod.load() if cfg is None else cfg
    section = cfg.get("alerts") or {}
    url = section.get("webhook_url") or os.environ.get("TOKEN_ROI_ALERT_WEBHOOK") or None
    return Settings(str(url) if url else None, bool(section.get("desktop")),
                    _percents(section.get("limit_percent"), DEFAULT_LIMIT_PERCENT),
                    _percents(section.get("budget_percent"), DEFAULT_BUDGET_PERCENT),
                    _usd(config_mod.get(cfg, "guard.daily_budget_usd")),
                    _usd(config_mod.get(cfg, "ai.cost_budget_monthly")))


def state_path() -> str:
    return os.path.join(quota.limits_dir(), "alerts.json")


def _load_state() -> dict:
    try:
        with open(state_path(), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("fired", {})
    data.setdefault("pending", [])
    return data


def _save_state(data: dict) -> None:
    path = state_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    safe_io.write_atomic(path, json.dumps(data))


def _log(message: str) -> None:
    from ..guard.statusline import log
    log(f"alerts: {message}")


def crossings(store: Store, s: Settings, now: float) -> list[tuple[str, dict]]:
    """(key, event) for every threshold currently crossed (fired or not)."""
    out: list[tuple[str, dict]] = []
    for snap in snapshots.latest(store.db):
        if snap.resets_at is not None and snap.resets_at <= now:
            continue
        if snapshots.is_stale(snap, now):
            continue
        for level in s.limit_percent:
            if snap.used_percentage >= level:
                out.append((f"limit:{snap.agent}:{snap.window}:{snap.resets_at}:{level:g}",
                            {"type": "limit", "agent": snap.agent, "window": snap.window, "threshold_percent": level,
                             "used_percentage": snap.used_percentage, "resets_at": snap.resets_at,
                             "captured_at": snap.captured_at, "source": "official"}))
    budgets = []
    if s.daily_budget_usd:
        start = day_start_ms(now)
        spent = store.db.execute("SELECT coalesce(sum(cost), 0) FROM calls WHERE ts >= ?", (start,)).fetchone()[0]
        budgets.append(("daily", time.strftime("%Y-%m-%d", time.localtime(now)), spent, s.daily_budget_usd))
    if s.monthly_budget_usd:
        local = dt.datetime.fromtimestamp(now).astimezone()
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        spent = store.db.execute("SELECT coalesce(sum(cost), 0) FROM calls WHERE ts >= ?",
                                 (int(month_start.timestamp() * 1000),)).fetchone()[0]
        budgets.append(("monthly", local.strftime("%Y-%m"), spent, s.monthly_budget_usd))
    for scope, period, spent, budget in budgets:
        percent = spent / budget * 100
        for level in s.budget_percent:
            if percent >= level:
                out.append((f"budget:{scope}:{period}:{level:g}",
                            {"type": "budget", "scope": scope, "period": period, "threshold_percent": level,
                             "spent_usd": round(spent, 2), "budget_usd": budget, "percent": round(percent, 1)}))
    return out


def describe(event: dict) -> str:
    if event["type"] == "limit":
        label = quota.WINDOW_LABEL.get(event["window"], event["window"])
        when = ""
        if event.get("resets_at"):
            when = f", resets in {quota.duration(event['resets_at'] - time.time())}"
        return f"{event['agent']} {label} plan limit at {event['used_percentage']:g}%{when}"
    return (f"{event['scope']} budget at {event['percent']:g}% "
            f"(${event['spent_usd']:,.2f} of ${event['budget_usd']:,.2f})")


def post(url: str, event: dict) -> None:
    """One JSON POST; raises OSError (urllib's errors are OSErrors) or ValueError on failure."""
    body = json.dumps({"source": "token-roi", "text": f"token-roi: {describe(event)}", **event}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "token-roi"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if response.status >= 300:
            raise OSError(f"HTTP {response.status}")


def notify_desktop(event: dict) -> bool:
    exe = shutil.which("notify-send")
    if not exe:
        return False
    try:
        subprocess.run([exe, "--app-name=token-roi", "token-roi", describe(event)], timeout=TIMEOUT_S,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        _log(f"notify-send: {exc}")
        return False
    return True


def _deliver(s: Settings, item: dict, now: float) -> bool:
    """Send one pending webhook item; True when done (sent or given up)."""
    try:
        post(s.webhook_url or "", item["event"])
        return True
    except (OSError, ValueError) as exc:
        item["attempts"] = item.get("attempts", 0) + 1
        item["next_try"] = now + min(MAX_BACKOFF_S, 60 * 2 ** (item["attempts"] - 1))
        _log(f"webhook failed ({item['key']}, attempt {item['attempts']}): {type(exc).__name__}: {exc}")
        if now - item.get("first_at", now) > GIVE_UP_S:
            _log(f"webhook: giving up on {item['key']}")
            return True
        return False


def check(store: Store, cfg: dict | None = None, now: float | None = None) -> list[dict]:
    """Fire what crossed since the last check, retry what failed; returns the new events."""
    now = time.time() if now is None else now
    try:
        s = settings(cfg)
    except Exception as exc:  # noqa: BLE001 - a bad config file is reported by the commands, not here
        _log(f"settings not read: {exc}")
        return []
    if not s.enabled:
        return []
    # One check at a time (the status line's background refresh, watch, limits): a crossing
    # is remembered under this lock before anything is sent, so it fires once.
    with guard_state.locked(state_path()):
        return _check(store, s, now)


def _check(store: Store, s: Settings, now: float) -> list[dict]:
    data = _load_state()
    fired = data["fired"]
    new = []
    for key, event in crossings(store, s, now):
        if key in fired:
            continue
        fired[key] = int(now)
        event["at"] = int(now)
        new.append(event)
        if s.webhook_url:
            data["pending"].append({"key": key, "event": event, "attempts": 0, "next_try": 0, "first_at": now})
        if s.desktop:
            notify_desktop(event)
    _save_state(data)           # the crossings are remembered before anything is sent
    if s.webhook_url:
        keep = []
        for item in data["pending"]:
            if item.get("next_try", 0) > now or not _deliver(s, item, now):
                keep.append(item)
        data["pending"] = keep
    else:
        data["pending"] = []
    # Forget crossings older than two weeks (their windows and days are long gone).
    data["fired"] = {k: v for k, v in fired.items() if now - v < 14 * 86400}
    _save_state(data)
    return new
