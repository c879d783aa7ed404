"""Is the ledger the one we had? A small record outside it (`ledger-record.json` in the state
folder) remembers, per ledger file, how many calls it held; a ledger found missing or empty while
the record says it held calls was lost, and the rebuild from the agents' logs that remain is
told so, once: how many calls are gone and where a backup is. A quick integrity check runs at
most once a day (and always in `token-roi doctor`); a damaged ledger is reported, not used
silently.

Backups: `token-roi doctor` writes `<ledger>.bak` (a consistent copy) after a clean check.
"""

from __future__ import annotations

import json
import os
import time

from .. import paths

CHECK_EVERY_S = 24 * 3600
NOTE_EVERY_S = 3600          # the call count noted again at most hourly (a COUNT(*): ~20 ms on 1M calls)


def record_path() -> str:
    return os.path.join(paths.state_dir_str(), "ledger-record.json")


def backup_path(ledger: str) -> str:
    return ledger + ".bak"


def id_of(path: str) -> str | None:
    """The ledger_id of the ledger file at `path` (a backup, say), None when it has none."""
    import sqlite3
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            got = db.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return got[0] if got else None


def _load() -> dict:
    try:
        with open(record_path(), "rb") as f:
            data = json.loads(f.read(1 << 20))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _key(store) -> str:
    return os.path.realpath(store.path_str)


def previous(store) -> dict | None:
    """What the record says this ledger held ({"calls": n, "at": epoch s, "checked": epoch s})."""
    return recorded(store.path_str)


def recorded(ledger: str) -> dict | None:
    """The record of the ledger file at `ledger`, if any."""
    got = _load().get(os.path.realpath(ledger))
    return got if isinstance(got, dict) else None


def note(store, **fields) -> None:
    """Remember this ledger's call count now (and any `fields`); failure to write is harmless."""
    from ..safe_io import private_dir, write_atomic
    record = _load()
    entry = record.get(_key(store))
    entry = dict(entry) if isinstance(entry, dict) else {}
    entry.update(calls=store.count_calls(), at=int(time.time()), id=ledger_id(store), **fields)
    record[_key(store)] = entry
    try:
        private_dir(os.path.dirname(record_path()))
        write_atomic(record_path(), json.dumps(record, sort_keys=True))
    except OSError:
        pass


def ledger_id(store) -> str | None:
    """The random id a ledger got when it was made (m013): a ledger made anew has another."""
    return store.get_meta("ledger_id")


def lost_before(store) -> dict | None:
    """The record of the ledger that was at this path before, when the one here now was made
    anew (the old one lost, emptied or replaced: another id) while the old one held calls."""
    before = previous(store)
    if not before or int(before.get("calls") or 0) <= 0 or before.get("id") in (None, ledger_id(store)):
        return None
    return before


def lost_message(store, before: dict) -> str:
    had = int(before.get("calls") or 0)
    now = store.count_calls()
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(int(before.get("at") or 0)))
    backup = backup_path(store.path_str)
    where = (f"a backup is at {backup} (copy it over the ledger to restore it)" if os.path.exists(backup)
             else "no backup was found (`token-roi doctor` writes one)")
    return (f"{store.path_str}: the ledger was made anew (missing, empty or replaced); it held {had:,} calls "
            f"on {when}. Rebuilt from the agents' logs still on disk: {now:,} calls; "
            f"{max(0, had - now):,} calls whose logs are gone are lost; {where}")


def quick_check(store, full: bool = False) -> list[str]:
    """SQLite's integrity check (quick_check: no index contents compared, unless `full`):
    the problems it finds, [] when the file is sound."""
    import sqlite3
    try:
        rows = store.db.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    problems = [r[0] for r in rows if r[0] != "ok"]
    return problems


def damaged_message(store, problems: list[str]) -> str:
    backup = backup_path(store.path_str)
    where = f"; a backup is at {backup}" if os.path.exists(backup) else ""
    return (f"{store.path_str}: the ledger is damaged ({problems[0]}{' ...' if len(problems) > 1 else ''}): "
            f"its figures may be wrong; run `token-roi doctor`{where}")


def after_refresh(store, before: dict | None, warnings: list[str]) -> None:
    """What ingest.refresh does at its end: say once that a lost ledger was rebuilt, check the
    file at most once a day, and keep the record up to date."""
    if before is not None and store.count_calls() < int(before.get("calls") or 0):
        warnings.append(lost_message(store, before))     # (not a backup put back: that has them all)
    seen = previous(store) if before is None else None
    now = int(time.time())
    checked = int((seen or {}).get("checked") or 0)
    if seen is not None and seen.get("id") is None:
        seen = None                  # (a record from before ids: written afresh below)
    if seen is not None and now - checked >= CHECK_EVERY_S:
        problems = quick_check(store)
        if problems:
            warnings.append(damaged_message(store, problems))
        note(store, checked=now, damaged=problems[0] if problems else None)
    elif seen is not None and seen.get("damaged"):
        warnings.append(damaged_message(store, [seen["damaged"]]))    # (until a check finds it sound)
    elif before is not None or seen is None or now - int(seen.get("at") or 0) >= NOTE_EVERY_S:
        note(store, checked=checked or now)
