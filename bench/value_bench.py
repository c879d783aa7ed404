"""Time the value and budget library calls behind the dashboard's Value and Budget pages and the
`token-roi roi` / `token-roi budget` commands, on a ledger of N calls (default 1,000,000).

    python bench/value_bench.py --home DIR [--calls N] [--runs 15] [--only NAME,...] [--cli] [--json FILE]

The ledger is dashboard_bench.py's (a year of three agents, ~30 calls a session; built there
with the same --home when DIR holds none). Each case runs once untimed, then --runs times; we
print the median and p95 wall time, the median CPU time of this process (less moved by other
load on the machine than wall time) and the load average, and a digest of the result so two
runs can be checked for the same numbers: run it once with the code before a change on
PYTHONPATH and once after, and compare the digests.

Cases (the dashboard's Context: zone UTC, today 2026-11-20, no git):
- api.value for the periods 30d (the default page's value card), year and all;
- api.budget (month to date, projection, suggestions, daily chart);
- roi.build + as_json over all time (what `token-roi roi --json` computes);
- with --cli, the commands as processes: `token-roi roi --no-ingest --no-git --json` and
  `token-roi budget --json --as-of 2026-11-20` (HOME pointed at an empty folder: no agent logs to
  read); their CPU time is the child's plus this process's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

if "--home" not in sys.argv:
    sys.exit("value_bench: --home DIR is required (a dashboard_bench ledger, built there when missing)")
home = sys.argv[sys.argv.index("--home") + 1]
os.environ["TOKEN_ROI_HOME"] = home
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dashboard_bench  # noqa: E402  (reads --home too: the same ledger)

TODAY = dashboard_bench.TODAY


def digest(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def cases(cli: bool):
    from zoneinfo import ZoneInfo

    from token_roi.config import load
    from token_roi.dashboard import api
    from token_roi.reports.query import Filters
    from token_roi.store import Store
    from token_roi.value import roi

    tz = ZoneInfo("UTC")

    def ctx():
        return api.Context(Store(), tz, load(None), TODAY, False)

    def call(fn, q):
        def run():
            c = ctx()
            try:
                return fn(c, q)
            finally:
                c.store.close()
        return run

    def roi_json():
        store = Store()
        try:
            return roi.build(store, Filters(), tz, load(None), git=False).as_json()
        finally:
            store.close()

    out = {"value?period=30d": call(api.value, {"period": "30d"}),
           "value?period=year": call(api.value, {"period": "custom", "since": str(TODAY - dt.timedelta(days=364)),
                                                 "until": str(TODAY)}),
           "value?period=all": call(api.value, {"period": "all"}),
           "budget": call(api.budget, {}),
           "roi.build+as_json (all)": roi_json}
    if cli:
        empty = tempfile.mkdtemp(prefix="value-bench-home-")
        env = {**os.environ, "HOME": empty, "XDG_CONFIG_HOME": os.path.join(empty, ".config"),
               "XDG_DATA_HOME": os.path.join(empty, ".local/share"), "TZ": "UTC"}

        def command(*argv):
            def run():
                p = subprocess.run([sys.executable, "-m", "token_roi", *argv], env=env, capture_output=True)
                if p.returncode not in (0, 10, 11):
                    raise SystemExit(f"token-roi {' '.join(argv)}: exit {p.returncode}: {p.stderr.decode()[:300]}")
                return p.stdout             # its digest: the bytes printed (not parsed inside the timing)
            return run
        out["cli: roi --no-ingest --no-git --json"] = command("roi", "--no-ingest", "--no-git", "--json")
        out["cli: budget --json --as-of 2026-11-20"] = command("budget", "--json", "--as-of", TODAY.isoformat())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--only", help="comma-separated case names (substrings)")
    ap.add_argument("--cli", action="store_true", help="also time the commands as processes (child CPU)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    import token_roi
    print(f"token_roi from {os.path.dirname(token_roi.__file__)}; machine: {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    dashboard_bench.build(args.calls)
    results = {}
    for name, run in cases(args.cli).items():
        if args.only and not any(s in name for s in args.only.split(",")):
            continue
        result = run()                                   # untimed: imports, page cache
        wall, cpu = [], []
        for _ in range(args.runs):
            c0, k0, t = time.process_time(), os.times(), time.perf_counter()
            run()
            wall.append(time.perf_counter() - t)
            k1 = os.times()
            cpu.append(time.process_time() - c0 + (k1.children_user + k1.children_system
                                                   - k0.children_user - k0.children_system))
        p95 = statistics.quantiles(wall, n=20)[-1] if len(wall) > 1 else wall[0]
        results[name] = {"median_s": round(statistics.median(wall), 4), "p95_s": round(p95, 4),
                         "cpu_median_s": round(statistics.median(cpu), 4), "runs": args.runs,
                         "digest": digest(result), "load_avg": os.getloadavg()}
        print(f"  {name:<40} median {statistics.median(wall) * 1000:8.0f} ms   p95 {p95 * 1000:8.0f} ms   "
              f"cpu {statistics.median(cpu) * 1000:8.0f} ms   result {digest(result)}   "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
