"""`token-roi doctor`: check the ledger (SQLite's full integrity check), say whether it was lost
and rebuilt (see store/health.py), tighten its files to the user's eyes only, and write a backup
(`<ledger>.bak`) of a sound ledger. Exit 0 when all is well, 1 when a problem was found."""

from __future__ import annotations

import argparse
import os
import sqlite3
import stat
import time
from dataclasses import dataclass, field

from .. import paths
from ..store import Store, StoreError, health
from .common import print_json


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--no-backup", action="store_true", help="do not write <ledger>.bak")
    p.add_argument("--json", action="store_true", help="machine-readable output")


@dataclass
class Report:
    ledger: str
    exists: bool = False
    size: int = 0
    calls: int | None = None
    sources: int | None = None
    problems: list[str] = field(default_factory=list)      # what is wrong (exit 1)
    notes: list[str] = field(default_factory=list)         # what was done or is worth knowing
    backup: str | None = None

    def as_json(self) -> dict:
        return {"ledger": self.ledger, "exists": self.exists, "bytes": self.size, "calls": self.calls,
                "sources": self.sources, "ok": not self.problems, "problems": self.problems,
                "notes": self.notes, "backup": self.backup}


def examine(path: str, backup: bool = True) -> Report:
    report = Report(path)
    before = os.path.exists(path)
    report.exists = before
    report.size = os.path.getsize(path) if before else 0
    if not before:
        record = health.recorded(path)
        if record and int(record.get("calls") or 0) > 0:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(int(record.get("at") or 0)))
            report.problems.append(f"{path}: the ledger is missing; it held {int(record['calls']):,} calls on {when}")
            _suggest_backup(report)
        else:
            report.notes.append("no ledger yet: the first report makes it")
        return report
    record = None
    try:
        store = Store(path)
    except StoreError as exc:
        report.problems.append(f"{exc}")
        _suggest_backup(report)
        return report
    try:
        record = health.previous(store)
        lost = health.lost_before(store)
        if lost is not None:
            report.problems.append(health.lost_message(store, lost))
        problems = health.quick_check(store, full=True)
        health.note(store, checked=int(time.time()), damaged=problems[0] if problems else None)
        if problems:
            report.problems.append(health.damaged_message(store, problems))
            report.problems.extend(f"  {p}" for p in problems[1:10])
            _suggest_backup(report)
        try:
            report.calls = store.count_calls()
            report.sources = store.db.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            report.problems.append(f"{path}: cannot count the calls: {exc}")
        if record and record.get("id") == health.ledger_id(store) and report.calls is not None \
                and report.calls < int(record.get("calls") or 0):
            report.notes.append(f"{report.calls:,} calls now, {int(record['calls']):,} when last recorded "
                                "(entries removed from a ledger file leave too)")
        report.notes.extend(_privacy(path))
        if not report.problems:
            if backup:
                target = health.backup_path(path)
                if os.path.exists(target) and health.id_of(target) not in (None, health.ledger_id(store)):
                    # (the backup of the ledger that was here before this one: never overwritten)
                    report.notes.append(f"{target} is the backup of an earlier ledger: kept")
                    target = f"{path}.{health.ledger_id(store)}.bak"
                report.backup = _backup(store, target)
                report.notes.append(f"backup written: {report.backup}")
    finally:
        store.close()
    return report


def _suggest_backup(report: Report) -> None:
    bak = health.backup_path(report.ledger)
    if os.path.exists(bak):
        report.notes.append(f"a backup from {time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(bak)))} "
                            f"is at {bak}: move the damaged ledger aside and copy the backup in its place; "
                            "the next report reads what the agents' logs added since")
    else:
        report.notes.append(f"no backup at {bak}: move the damaged ledger aside and the next report rebuilds it "
                            "from the agents' logs that remain (calls whose logs are gone are lost)")


def _privacy(ledger: str) -> list[str]:
    """Opening the store tightened the ledger and its folders; say what is still open to others."""
    out = []
    for p in (ledger, ledger + "-wal", ledger + "-shm", os.path.dirname(ledger), paths.state_dir_str()):
        try:
            st = os.stat(p)
        except OSError:
            continue
        if st.st_mode & 0o077:
            out.append(f"{p}: readable by others (mode {stat.S_IMODE(st.st_mode):o}); chmod go-rwx to make it private")
    return out


def _backup(store: Store, target: str) -> str:
    """A consistent copy of the ledger (SQLite's online backup), 0600, put in place at once."""
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        os.unlink(tmp)
    except OSError:
        pass
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
    copy = sqlite3.connect(tmp)
    try:
        store.db.backup(copy)
    finally:
        copy.close()
    os.replace(tmp, target)
    return target


def run(args: argparse.Namespace) -> int:
    report = examine(paths.db_path_str(), backup=not args.no_backup)
    if args.json:
        print_json(report.as_json())
        return 1 if report.problems else 0
    print(f"ledger: {report.ledger}" + (f" ({report.size:,} bytes)" if report.exists else " (none yet)"))
    if report.calls is not None:
        print(f"calls: {report.calls:,}  files read: {report.sources:,}")
    for p in report.problems:
        print(f"problem: {p}")
    for n in report.notes:
        print(f"note: {n}")
    print("all well" if not report.problems else f"{len(report.problems)} problem(s) found")
    return 1 if report.problems else 0

