"""The team store on PostgreSQL, measured (docs/benchmarks.md, "Team store").

    python bench/team_bench.py [--dsn DSN] [--calls 1000000] [--machines 20] [--per-machine 50000]
                               [--report-rows 10000000] [--keep DIR] [--only sync,fleet,report]

Without --dsn it starts its own PostgreSQL from Debian's binaries (/usr/lib/postgresql/*/bin:
initdb in a scratch folder, as the `postgres` user when run as root, loopback port).

1. sync: one machine's ledger of N calls (written straight into a scratch ledger, priced) pushed
   by `team sync`'s code in batches of 5,000: rows/s, the server's bytes per million calls
   (calls with their indexes, plus the quarter-hour sums), a resync of nothing, and the server's
   totals against the ledger's.
2. fleet: M machines x K calls each, two machines per member sharing 10% of their calls (a
   synced home), all pushing at once (one process each): rows/s over the wall time, and the
   team's totals against the truth (the union of the ledgers, each call once).
3. report: R calls made on the server in bulk (INSERT ... SELECT FROM generate_series, 20
   members in working hours over a year, 3 models) and the same R calls in a local ledger (one
   INSERT ... SELECT over a recursive counter in a bulk load): the quarter-hour sums built once
   as the pushes keep them, then `daily --team --json` beside the local `daily --json`, each a
   whole process, median of 5 after a warm-up.
"""

from __future__ import annotations

import argparse
import glob
import multiprocessing
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from token_roi import pricing
from token_roi.rows import UsageRow
from token_roi.store import Store, row_values
from token_roi.team import server, sync
from token_roi.team.config import TeamConfig

T0 = 1_767_225_600_000                 # 2026-01-01T00:00:00Z
MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")


# -- a scratch PostgreSQL -------------------------------------------------------------------------

def start_postgres(root: Path) -> tuple[str, list[str]]:
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        sys.exit("no PostgreSQL server binaries (apt-get install postgresql), or give --dsn")
    bindir = Path(initdb[-1]).parent
    data, sock = root / "pg", root / "sock"
    sock.mkdir(parents=True)
    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for p in (root.parent, root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*as_user, str(bindir / "initdb"), "-A", "trust", "-U", "postgres", "--no-sync", "-D", str(data)],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "pg.log"), "-w", "-o",
                    f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c shared_buffers=256MB "
                    "-c max_wal_size=4GB -c synchronous_commit=off", "start"], check=True, capture_output=True)
    stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
    return f"host=127.0.0.1 port={port} user=postgres", stop


def fresh_db(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn + " dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    dsn = f"{admin_dsn} dbname={name}"
    with psycopg.connect(dsn) as conn:
        server.migrate(conn)
    return dsn


# -- ledgers --------------------------------------------------------------------------------------

def make_ledger(path: Path, keys: list[tuple[str, int]]) -> Store:
    """A ledger of one call per (dedupe_key, seed), priced as reports would leave it."""
    store = Store(path)
    now = int(time.time() * 1000)
    values = []
    for key, n in keys:
        # sessions of 300 calls 30 s apart, each starting somewhere in the year (as real usage
        # clusters: ~10 calls per quarter hour and model)
        start = T0 + (n // 300 * 2_654_435_761) % 31_536_000_000
        row = UsageRow(agent="claude", dedupe_key=key, ts=start + n % 300 * 30_000,
                       session_id=f"s{n // 300}", project=f"/home/u/src/p{n % 7}", model=MODELS[n % 3],
                       input_tokens=n * 37 % 5000, output_tokens=n * 53 % 3000 + 1,
                       cache_read_tokens=n * 101 % 50_000, cache_write_5m_tokens=n * 7 % 900)
        values.append(row_values(row, now))
    with store.bulk_load():
        store.upsert_values(values)
    version = pricing.current_version()
    with store.transaction():
        store.db.execute("UPDATE calls SET cost = (input_tokens * 3 + output_tokens * 15 + cache_read_tokens * 0.3 "
                         "+ cache_write_5m_tokens * 3.75) / 1e6, price_source = 'genai-prices', price_version = ?",
                         (version,))
    store.refresh_buckets(everything=True)
    return store


def local_totals(stores: list[Store]) -> tuple[int, int, int, float]:
    """(calls, input, output, cost) over the union of the ledgers, each call once (best rank)."""
    best: dict[str, tuple] = {}
    for store in stores:
        for r in store.db.execute("SELECT dedupe_key, rank, input_tokens, output_tokens, cost FROM calls"):
            if r[0] not in best or r[1] > best[r[0]][1]:
                best[r[0]] = r
    rows = best.values()
    return len(best), sum(r[2] for r in rows), sum(r[3] for r in rows), round(sum(r[4] for r in rows), 4)


def server_totals(dsn: str) -> tuple[int, int, int, float]:
    with psycopg.connect(dsn) as conn:
        r = conn.execute("SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cost) FROM calls").fetchone()
        b = conn.execute("SELECT sum(calls), sum(input_tokens), sum(output_tokens) FROM call_buckets").fetchone()
        h = conn.execute("SELECT sum(calls), sum(input_tokens), sum(output_tokens) FROM call_hours").fetchone()
    assert r is not None and b is not None
    assert tuple(b) == tuple(r[:3]) == tuple(h or ()), f"sums {b} / {h} differ from the rows {r[:3]}"
    return int(r[0]), int(r[1]), int(r[2]), round(float(r[3]), 4)


def sizes(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) calls")
        conn.execute("VACUUM (ANALYZE) call_buckets")
        conn.execute("VACUUM (ANALYZE) call_hours")
        out = {}
        for table in ("calls", "call_buckets", "call_hours"):
            row = conn.execute("SELECT pg_table_size(%s), pg_indexes_size(%s)", (table, table)).fetchone()
            assert row is not None
            out[f"{table} table"], out[f"{table} indexes"] = int(row[0]), int(row[1])
    return out


# -- 1. one machine -------------------------------------------------------------------------------

def bench_sync(admin: str, root: Path, n: int) -> None:
    dsn = fresh_db(admin, "bench_sync")
    t = time.perf_counter()
    store = make_ledger(root / "one.sqlite", [(f"msg_{i:09d}", i) for i in range(n)])
    print(f"ledger of {n:,} calls written in {time.perf_counter() - t:.1f} s (setup)", flush=True)
    conn = psycopg.connect(dsn)
    cfg = TeamConfig(dsn, "alice", "hashed")
    result = sync.sync(store, conn, cfg)
    rate = result.calls_sent / result.seconds
    print(f"sync 1 machine: {result.calls_sent:,} calls in {result.seconds:.1f} s = {rate:,.0f} rows/s "
          f"({result.batches} batches of 5,000)", flush=True)
    again = sync.sync(store, conn, cfg)
    print(f"resync: {again.calls_sent} calls sent in {again.seconds:.2f} s", flush=True)
    truth, got = local_totals([store]), server_totals(dsn)
    print(f"totals: ledger {truth}  server {got}  {'EQUAL' if truth == got else 'DIFFER'}", flush=True)
    got_sizes = sizes(dsn)
    total = sum(got_sizes.values())
    per_million = ", ".join(f"{k} {v / n:,.0f} MB" for k, v in got_sizes.items())   # (bytes a call = MB a million)
    print("server bytes per million calls: " + per_million
          + f"; all {total * 1e6 / n / 1e6:,.0f} MB ({total / n:,.0f} bytes a call)", flush=True)
    conn.close()
    store.close()


# -- 2. a fleet -----------------------------------------------------------------------------------

def _push(args: tuple[str, str, str]) -> tuple[int, float]:
    path, dsn, member = args
    store = Store(path)
    with psycopg.connect(dsn) as conn:
        result = sync.sync(store, conn, TeamConfig(dsn, member, "hashed"))
    store.close()
    return result.calls_sent, result.seconds


def bench_fleet(admin: str, root: Path, machines: int, per: int) -> None:
    dsn = fresh_db(admin, "bench_fleet")
    shared = per // 10
    stores, jobs = [], []
    t = time.perf_counter()
    for m in range(machines):
        pair = m // 2
        own = [(f"m{m}_{i:07d}", m * 10_000_000 + i) for i in range(per - shared)]
        common = [(f"pair{pair}_{i:07d}", 900_000_000 + pair * 1_000_000 + i) for i in range(shared)]
        path = root / f"machine{m}.sqlite"
        stores.append(make_ledger(path, own + common))
        jobs.append((str(path), dsn, f"member{pair}"))
    print(f"{machines} ledgers of {per:,} calls ({shared:,} shared with the member's other machine) in "
          f"{time.perf_counter() - t:.1f} s (setup)", flush=True)
    for s in stores:
        s.close()
    t = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(machines) as pool:
        results = pool.map(_push, jobs)
    wall = time.perf_counter() - t
    sent = sum(r[0] for r in results)
    print(f"fleet: {machines} machines pushing at once: {sent:,} calls sent in {wall:.1f} s wall = "
          f"{sent / wall:,.0f} rows/s (each push {min(r[1] for r in results):.1f}-{max(r[1] for r in results):.1f} s)",
          flush=True)
    stores = [Store(j[0]) for j in jobs]
    truth, got = local_totals(stores), server_totals(dsn)
    print(f"team totals: union of the ledgers {truth}  server {got}  {'EQUAL' if truth == got else 'DIFFER'}",
          flush=True)
    for s in stores:
        s.close()


# -- 3. the daily report over R calls -------------------------------------------------------------

# Call i: member i % 20, day (i / 20) % 365, in the member's 8 working hours (UTC 06:00 + the
# member's own start); the same integer arithmetic in PostgreSQL and SQLite.
_TS = ("{T0} + ((({i} / 20) % 365) * 86400000) + 21600000 + ({i} % 20) * 900000 "
       "+ (({i} * 7919) % 28800000)")
_COLS = ("'claude' AS agent, 'k' || {i} AS dedupe_key, {ts} AS ts, 's' || ({i} / 500) AS session_id, "
         "'/home/u/p' AS project, CASE {i} % 3 WHEN 0 THEN 'claude-sonnet-4-5' WHEN 1 THEN 'claude-opus-4-1' "
         "ELSE 'claude-haiku-4-5' END AS model, ({i} * 37) % 5000 AS input_tokens, ({i} * 53) % 3000 + 1 "
         "AS output_tokens, ({i} * 101) % 50000 AS cache_read_tokens")
_COST = "(input_tokens * 3 + output_tokens * 15 + cache_read_tokens * 0.3) / 1e6"


def bench_report(admin: str, root: Path, rows: int, keep: Path) -> None:
    dsn = fresh_db(admin, "bench_report")
    cols = _COLS.format(i="i", ts=_TS.format(T0=T0, i="i"))
    t = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute("ALTER TABLE calls SET UNLOGGED")   # (a bulk load; the WAL would double its writes)
        conn.execute(f"INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, "
                     f"output_tokens, cache_read_tokens, rank, member, device_id, cost, price_source) "
                     f"SELECT agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
                     f"cache_read_tokens, 1, 'member' || (i %% 20), 'bench', {_COST}, 'genai-prices' "
                     f"FROM (SELECT i, {cols.replace('%', '%%')} "
                     "FROM generate_series(0::bigint, %s::bigint) AS i) g", (rows - 1,))
        conn.execute("ALTER TABLE calls SET LOGGED")
        made = time.perf_counter() - t
        conn.execute("INSERT INTO call_buckets SELECT (ts / 900000)::int, member, agent, model, "
                     + sync._SUMS + " FROM calls GROUP BY 1, 2, 3, 4")
        conn.execute("INSERT INTO call_hours SELECT bucket / 4, member, agent, model, " + sync._HOUR_SUMS
                     + " FROM call_buckets GROUP BY 1, 2, 3, 4")
        buckets = conn.execute("SELECT count(*) FROM call_buckets").fetchone()
    quarters = buckets[0] if buckets else 0
    print(f"server: {rows:,} calls made in bulk in {made:.0f} s, quarter-hour and hour sums ({quarters:,} "
          f"quarter-hour rows) in {time.perf_counter() - t - made:.0f} s (setup)", flush=True)
    home = keep / "report-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    t = time.perf_counter()
    store = Store(home / "ledger.sqlite3")
    version = pricing.current_version()
    with store.bulk_load():
        store.db.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            f"INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
            f"cache_read_tokens, rank, cost, price_source, price_version, ingested_at) "
            f"SELECT agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
            f"cache_read_tokens, "
            f"1, {_COST}, 'genai-prices', ?, 0 FROM (SELECT i, {cols} FROM n)", (rows - 1, version))
    with store.transaction():
        store.set_meta("pricing.version", version)
    store.close()
    print(f"local: the same {rows:,} calls in a ledger in {time.perf_counter() - t:.0f} s (setup)", flush=True)
    env = {**os.environ, "TOKEN_ROI_HOME": str(home), "TOKEN_ROI_TEAM_URL": dsn, "TZ": "UTC",
           "HOME": str(home), "TOKEN_ROI_CONFIG": str(home / "none.yaml")}
    (home / "none.yaml").write_text("team:\n  member: member0\n")
    cli = [sys.executable, "-m", "token_roi.cli"]
    outputs = {}
    for label, argv in (("local daily --json", ["daily", "--json"]),
                        ("team daily --team --json", ["daily", "--team", "--json"]),
                        ("team daily --member member3 --json", ["daily", "--member", "member3", "--json"])):
        times = []
        for run in range(6):
            t = time.perf_counter()
            got = subprocess.run(cli + argv, env=env, capture_output=True, text=True)
            if got.returncode:
                sys.exit(f"{label}: {got.stderr.strip()}")
            if run:
                times.append(time.perf_counter() - t)
            outputs[label] = got.stdout
        print(f"{label:<36} median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}; "
              f"5 runs after a warm-up)", flush=True)
    import json
    local = json.loads(outputs["local daily --json"])["totals"]
    team = json.loads(outputs["team daily --team --json"])["totals"]
    same = all(local[k] == team[k] for k in ("inputTokens", "outputTokens", "cacheReadTokens", "calls")) \
        and abs(local["totalCost"] - team["totalCost"]) < 1e-6 * max(1, local["totalCost"])
    print(f"daily totals: local {local['calls']:,} calls ${local['totalCost']:,.2f}, team {team['calls']:,} calls "
          f"${team['totalCost']:,.2f}: {'EQUAL' if same else 'DIFFER'}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dsn", help="an existing server (a superuser's DSN, without dbname): scratch databases go there")
    p.add_argument("--calls", type=int, default=1_000_000)
    p.add_argument("--machines", type=int, default=20)
    p.add_argument("--per-machine", type=int, default=50_000)
    p.add_argument("--report-rows", type=int, default=10_000_000)
    p.add_argument("--keep", type=Path, help="a folder for the ledgers (default: a scratch one, removed)")
    p.add_argument("--only", default="sync,fleet,report")
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="team-bench-"))
    os.environ["TOKEN_ROI_HOME"] = str(root / "home")
    keep = args.keep or root
    stop = None
    try:
        admin = args.dsn
        if not admin:
            admin, stop = start_postgres(root / "server")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
        only = set(args.only.split(","))
        if "sync" in only:
            bench_sync(admin, root, args.calls)
        if "fleet" in only:
            bench_fleet(admin, root, args.machines, args.per_machine)
        if "report" in only:
            bench_report(admin, root, args.report_rows, keep)
        print(f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        if stop:
            subprocess.run(stop, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
