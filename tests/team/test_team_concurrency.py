"""Pushes that die or run side by side still merge exactly once: a `team sync` process killed
mid-push then run again, several machines (and one machine twice) pushing at the same time."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import psycopg
from team_data import write_session
from test_team_sync import server_sums, union_truth

START = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.timezone.utc)


def spawn(machine, *argv: str) -> subprocess.Popen:
    env = {**os.environ, **machine.env()}
    return subprocess.Popen([sys.executable, "-m", "token_roi.cli", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM calls").fetchone()
        return row[0] if row else 0


def sums_match_rows(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT sum(calls), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens) "
                            "FROM call_buckets").fetchone() == \
            conn.execute("SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens) "
                         "FROM calls").fetchone()
        assert conn.execute("SELECT count(*) FROM (SELECT 1 FROM call_buckets GROUP BY bucket, member, agent, model "
                            "HAVING count(*) > 1) d").fetchone() == (0,)
        # the hours are exactly their quarter hours
        assert conn.execute("SELECT hour, member, agent, model, calls, input_tokens, round(cost::numeric, 6) "
                            "FROM call_hours "
                            "ORDER BY 1, 2, 3, 4").fetchall() == \
            conn.execute("SELECT bucket / 4, member, agent, model, sum(calls)::bigint, sum(input_tokens)::bigint, "
                         "round(sum(cost)::numeric, 6) "
                         "FROM call_buckets GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4").fetchall()


def test_a_sync_killed_mid_push_then_rerun_leaves_exactly_once_totals(machines, team_db, capsys):
    m = machines("laptop", "alice")
    for i in range(30):
        write_session(m.home, f"/home/alice/src/p{i % 3}", f"s-{i}", START + dt.timedelta(hours=7 * i), 200, i)
    assert m.run("team", "init", capsys=capsys)[0] == 0
    assert m.run("ingest", capsys=capsys)[0] == 0
    total = 30 * 200
    proc = spawn(m, "team", "sync", "--batch-size", "40", "--no-ingest")
    seen = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        seen = count(team_db)
        if seen >= 400:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the push finished before it could be killed"
    at_kill = count(team_db)
    assert 0 < at_kill < total                                    # killed mid-way
    code, out, err = m.run("team", "sync", capsys=capsys)
    assert code == 0, err
    assert count(team_db) == total
    assert server_sums(team_db) == union_truth(m)
    sums_match_rows(team_db)
    code, out, _ = m.run("team", "sync", capsys=capsys)
    assert out.startswith("pushed 0 calls")


def test_concurrent_syncs_of_many_machines_and_of_one_machine_twice(machines, team_db, capsys):
    ms = [machines(f"m{i}", f"member{i // 2}") for i in range(4)]
    for i, m in enumerate(ms):
        for j in range(4):
            when = START + dt.timedelta(hours=5 * j + i)
            write_session(m.home, f"/home/u{i}/src", f"s-{i}-{j}", when, 150, 10 * i + j)
        # every machine shares a session with the next one (the two of a member, and across members)
        write_session(m.home, "/home/shared/src", f"s-shared-{i}", START, 100, 99 + i)
        write_session(m.home, "/home/shared/src", f"s-shared-{(i + 1) % 4}", START, 100, 99 + (i + 1) % 4)
    ms[0].run("team", "init", capsys=capsys)
    for m in ms:
        assert m.run("ingest", capsys=capsys)[0] == 0
    procs = [spawn(m, "team", "sync", "--batch-size", "100", "--no-ingest") for m in ms]
    procs.append(spawn(ms[0], "team", "sync", "--batch-size", "100", "--no-ingest"))     # the same machine again
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert count(team_db) == 4 * 4 * 150 + 4 * 100
    assert server_sums(team_db) == union_truth(*ms)
    sums_match_rows(team_db)
    for m in ms:
        code, out, _ = m.run("team", "sync", "--no-ingest", capsys=capsys)
        assert code == 0
    assert server_sums(team_db) == union_truth(*ms)


def test_a_better_copy_pushed_while_the_first_push_is_still_open_moves_the_sums_too(machines, team_db, capsys):
    """Without roles, bob's better copy of a call replaces alice's copy: alice's quarter-hour sums
    must lose it even when bob's batch began before alice's push committed (his statement waits
    for her row, then replaces it: the replaced copy's place comes back from that statement)."""
    import json
    import threading

    from token_roi.team.config import TeamConfig
    from token_roi.team.sync import Pusher
    alice, bob = machines("alice", "alice"), machines("bob", "bob")
    path = write_session(alice.home, "/home/a/api", "s-copied", START, 8, 1)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        line["message"]["usage"]["output_tokens"] += 500                 # bob's copies are better
    target = bob.home / ".claude" / "projects" / path.parent.name
    target.mkdir(parents=True)
    (target / path.name).write_text("".join(json.dumps(line) + "\n" for line in lines))
    alice.run("team", "init", capsys=capsys)
    for m in (alice, bob):
        assert m.run("ingest", capsys=capsys)[0] == 0

    def pusher(m):
        store = m.store()
        conn = psycopg.connect(team_db)
        p = Pusher(store, conn, TeamConfig(team_db, m.name))
        return p, next(p.batches(p.positions(persist=True)))
    pa, batch_a = pusher(alice)
    pb, batch_b = pusher(bob)
    done = threading.Event()
    with pa.conn.transaction():
        pa._push(batch_a)                                                  # alice's push, not committed
        thread = threading.Thread(target=lambda: (pb.push(batch_b), done.set()))
        thread.start()
        time.sleep(0.5)
        assert not done.is_set()                                           # bob waits for her rows
    thread.join(30)
    assert done.is_set()
    with psycopg.connect(team_db) as conn:
        assert conn.execute("SELECT member, count(*) FROM calls GROUP BY 1").fetchall() == [("bob", 8)]
        assert conn.execute("SELECT member, sum(calls) FROM call_buckets GROUP BY 1").fetchall() == [("bob", 8)]
        assert conn.execute("SELECT member, sum(calls) FROM call_hours GROUP BY 1").fetchall() == [("bob", 8)]
    sums_match_rows(team_db)
    for p in (pa, pb):
        p.conn.close()
        p.store.close()
