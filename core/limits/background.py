"""The background refresh the status line starts (detached, never waited for): bring the ledger
up to date (which also drains the status line's snapshot spool), write `limits/today.json`
(today's spend, for the next status lines), then check the alert thresholds."""

from __future__ import annotations

from ..ingest import refresh
from ..store import Store
from . import alerts, today


def refresh_all(store: Store, *, show_progress: bool = False) -> dict:
    """Ingest, today.json, alerts; returns today's figures."""
    try:
        refresh(store, show_progress=show_progress)
    except Exception as exc:  # noqa: BLE001 - e.g. prices not loadable here: today's figure as the ledger has it
        from ..guard.statusline import log
        log(f"background refresh: ingest: {type(exc).__name__}: {exc}")
    figures = today.write_today(store)
    alerts.check(store)
    return figures


def main() -> int:
    """The detached refresh: errors go to our log, never anywhere else. One at a time: a first
    ingest can outlast the status line's once-a-minute start, and a second would only wait."""
    import fcntl
    import os

    from .. import paths
    os.makedirs(paths.limits_dir_str(), exist_ok=True)
    with open(os.path.join(paths.limits_dir_str(), "refresh.lock"), "a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0                 # another refresh is under way
        return _refresh()


def _refresh() -> int:
    try:
        store = Store()
        try:
            refresh_all(store)
        finally:
            store.close()
    except Exception as exc:  # noqa: BLE001 - nobody is waiting for this process
        from ..guard.statusline import log
        log(f"background refresh: {type(exc).__name__}: {exc}")
        return 1
    return 0
