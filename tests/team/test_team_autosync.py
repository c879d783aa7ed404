"""With team.auto_sync on, the Stop/SessionEnd hook's ledger write starts a detached background
`team sync` (at most once a minute) and returns without waiting for it; off, it starts nothing."""

from __future__ import annotations

import datetime as dt
import os
import time

import psycopg
from team_data import write_session

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM calls").fetchone()
        return row[0] if row else 0


def test_the_stop_hook_starts_a_background_sync_when_auto_sync_is_on(machines, team_db, capsys):
    from token_roi.guard import ledger
    m = machines("laptop", "alice", extra="  auto_sync: true")
    write_session(m.home, "/home/alice/src/api", "s-1", START, 10, 1)
    m.run("team", "init", capsys=capsys)
    assert m.run("team", "sync", capsys=capsys)[0] == 0                  # turns the flag on
    flag = m.state / ledger.TEAM_SYNC_FLAG                              # (TOKEN_ROI_HOME: the state dir)
    assert flag.exists()
    os.utime(flag, (time.time() - 120, time.time() - 120))
    path = write_session(m.home, "/home/alice/src/api", "s-2", START + dt.timedelta(days=1), 6, 2)
    m.activate()
    started = time.monotonic()
    assert ledger.record_session(str(path)) == 6                          # the Stop hook's ledger write
    assert time.monotonic() - started < 2                                 # not waiting for the push
    deadline = time.monotonic() + 60
    while count(team_db) < 16 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count(team_db) == 16
    assert not ledger.start_team_sync()                                   # not twice in a minute


def test_no_background_sync_without_auto_sync(machines, team_db, capsys):
    from token_roi.guard import ledger
    m = machines("laptop", "alice")
    write_session(m.home, "/home/alice/src/api", "s-1", START, 10, 1)
    m.run("team", "init", capsys=capsys)
    assert m.run("team", "sync", capsys=capsys)[0] == 0
    m.activate()
    assert not (m.state / ledger.TEAM_SYNC_FLAG).exists()
    assert not ledger.start_team_sync(every_s=0)
