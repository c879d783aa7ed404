"""Time the dashboard's first render on a ledger of N calls (default 1,000,000).

    python bench/dashboard_bench.py [--calls N] [--runs 5] [--no-browser] [--no-others] [--home DIR]
                                    [--only cold|warm] [--no-api]

The ledger is built directly with Store/UsageRow (one executemany) and priced with
pricing.reprice: a year of work by three agents (~2,700 calls a day, ~30 calls a session, 12
projects, 8 models, one unpriced), a subscription and a budget in the settings. Then the
dashboard server starts in this process (not timed) and we measure, for the default page
(Dashboard, last 30 days):

- each API call the page makes (overview, value, subscriptions): first call and median of runs;
- in headless Chromium (/usr/bin/chromium via Playwright), against a server in its own process
  as `token-roi dashboard` runs, from navigation start (the page's time origin) to the first
  render: the Tokens and Spend cards and the daily cost chart hold the period's figures and
  Chart.js has drawn the canvas (the page's `first-render` mark); `painted` is the frame after
  (a task after the next animation frame: the browser has painted it); and every card filled
  (value/ROI/NVA, plans: the page's `ready` mark). Nothing is asked of the page until
  SETTLE_MS after navigation: Playwright's selector queries compile its own ~25 ms script on the
  page's main thread, and polled during the load they landed inside the measured span.
  Cold: a new browser context per run (empty HTTP cache, no compiled code: a first visit). Warm:
  one browser profile on disk (a returning user: `token-roi dashboard` comes back on the same
  port for the same ledger, and the page's scripts are cached for good by their hashed URLs).
  The medians come with the page's own timeline (when the overview was asked for and answered,
  when Chart.js arrived and ran) and the load average;
- the other pages' API calls, for reference (--no-others skips them: value over a year is ~9 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request

# --home DIR keeps the ledger between runs (built once); read before token_roi is imported.
home = sys.argv[sys.argv.index("--home") + 1] if "--home" in sys.argv else tempfile.mkdtemp(prefix="bench-dashboard-")
os.environ["TOKEN_ROI_HOME"] = home

from token_roi import paths, pricing  # noqa: E402
from token_roi.rows import UsageRow  # noqa: E402
from token_roi.store import Store  # noqa: E402

TODAY = dt.date(2026, 11, 20)
DAYS = 365
AGENTS = {"claude": 70, "codex": 20, "gemini": 10}
MODELS = {
    "claude": {"claude-sonnet-4-5-20250929": 50, "claude-opus-4-1-20250805": 15, "claude-haiku-4-5-20251001": 25,
               "claude-sonnet-4-6": 8, "claude-nimbus-5-20261001": 2},
    "codex": {"gpt-5": 70, "gpt-5-codex": 30},
    "gemini": {"gemini-2.5-pro": 100},
}
PROJECTS = [f"/home/dev/project-{i:02d}" for i in range(12)]
CONFIG = """\
ai:
  cost_budget_monthly: 3000
subscriptions:
  - {plan: Claude Max 20x, agent: claude, monthly_fee: 200, start: 2025-01-01}
"""


def rows(n: int, rnd: random.Random):
    """n calls over DAYS days ending TODAY, in sessions of ~30 calls."""
    end = int(dt.datetime(TODAY.year, TODAY.month, TODAY.day, 20, tzinfo=dt.timezone.utc).timestamp() * 1000)
    start = end - DAYS * 86_400_000
    agents, agent_w = list(AGENTS), list(AGENTS.values())
    i = 0
    s = 0
    while i < n:
        s += 1
        agent = rnd.choices(agents, agent_w)[0]
        models, model_w = list(MODELS[agent]), list(MODELS[agent].values())
        project = rnd.choice(PROJECTS)
        t = start + int((end - start) * i / n) + rnd.randrange(3_600_000)
        for _ in range(min(rnd.randint(10, 50), n - i)):
            t += rnd.randrange(5_000, 120_000)
            yield UsageRow(agent=agent, dedupe_key=f"{agent}-{i:09d}", ts=t, session_id=f"{agent[:2]}-{s:07d}",
                           project=project, model=rnd.choices(models, model_w)[0],
                           input_tokens=rnd.randrange(1, 3000), output_tokens=rnd.randrange(1, 4000),
                           reasoning_tokens=rnd.randrange(0, 2000) if agent == "codex" else 0,
                           cache_read_tokens=rnd.randrange(0, 150_000),
                           cache_write_5m_tokens=rnd.choice((0, 0, 500, 4000)) if agent == "claude" else 0,
                           cache_write_1h_tokens=rnd.choice((0, 0, 0, 800)) if agent == "claude" else 0,
                           git_branch="main")
            i += 1


def build(n: int) -> float:
    t = time.perf_counter()
    if paths.db_path().exists():
        store = Store()
        calls = store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        store.close()
        if calls == n:
            print(f"ledger: {calls:,} calls, reused from {home}", flush=True)
            return 0.0
        raise SystemExit(f"{paths.db_path()} holds {calls:,} calls, not {n:,}: use another --home")
    cfg = paths.config_dir()
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "config.yaml").write_text(CONFIG, encoding="utf-8")
    store = Store()
    with store.transaction():
        store.upsert_calls(rows(n, random.Random(42)))
    pricing.reprice(store)
    calls = store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    sessions = store.db.execute("SELECT COUNT(DISTINCT session_id) FROM calls").fetchone()[0]
    store.close()
    took = time.perf_counter() - t
    print(f"ledger: {calls:,} calls, {sessions:,} sessions, built and priced in {took:.1f} s", flush=True)
    return took


SERVER = f"""
import datetime as dt, sys
from zoneinfo import ZoneInfo
from token_roi.dashboard.server import Settings, make_server, serving_process, url_of
server = make_server(settings=Settings(tz=ZoneInfo("UTC"), today=dt.date.fromisoformat("{TODAY.isoformat()}"),
                                       git=False))
print(url_of(server), flush=True)
serving_process()       # as `token-roi dashboard` serves
server.serve_forever()
"""


def fetch(url: str) -> tuple[float, float, int]:
    """(wall s, CPU s of this process, which runs the server too, body bytes)."""
    t, cpu = time.perf_counter(), time.process_time()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
        assert r.status == 200, body[:200]
    return time.perf_counter() - t, time.process_time() - cpu, len(body)


def ms(x: float) -> str:
    return f"{x * 1000:7.0f} ms"


def time_api(base: str, runs: int, endpoints: list[str]) -> dict:
    out = {}
    for ep in endpoints:
        first, first_cpu, size = fetch(base + "api/" + ep)
        rest = [fetch(base + "api/" + ep)[:2] for _ in range(runs)]
        wall, cpu = statistics.median(r[0] for r in rest), statistics.median(r[1] for r in rest)
        out[ep] = {"first_s": round(first, 4), "first_cpu_s": round(first_cpu, 4), "median_s": round(wall, 4),
                   "median_cpu_s": round(cpu, 4), "bytes": size}
        print(f"  /api/{ep:<32} first {ms(first)} ({ms(first_cpu).strip()} cpu)   median {ms(wall)} "
              f"({ms(cpu).strip()} cpu)   {size:>7,} bytes", flush=True)
    return out


TIMELINE = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const find = s => res.find(r => r.name.includes(s));
    const api = find('/api/overview'), chart = find('chart.umd'), app = find('app.js');
    const mark = n => (performance.getEntriesByName(n)[0] || {}).startTime;
    return {html: nav.responseEnd, apiStart: api && api.startTime, apiEnd: api && api.responseEnd,
            appJs: app && app.responseEnd, chartJs: chart && chart.responseEnd,
            dom: nav.domContentLoadedEventEnd, data: mark('overview-data'), lib: mark('chart-library'),
            first: mark('first-render'), painted: mark('first-render-painted'), ready: mark('ready')};
}"""


# How long the browser runs the page alone before it is asked anything (see the docstring):
# beyond the first render of a cold load on a busy machine, so the wait never holds it back.
SETTLE_MS = 1000


def load_once(page, base: str) -> tuple[float, dict]:
    """(s to every card filled, from the page's marks; the page's timeline)."""
    page.goto(base + "#/dashboard", wait_until="commit")
    page.wait_for_timeout(SETTLE_MS)
    page.wait_for_selector("body[data-first]", timeout=120_000)
    page.wait_for_selector("body[data-ready]", timeout=120_000)
    assert page.query_selector("#cost-chart"), "the chart did not render"
    assert not page.query_selector_all("main .error"), page.inner_text("main")
    timeline = page.evaluate(TIMELINE)
    return timeline["ready"] / 1000, timeline


def time_browser(base: str, runs: int, warm: bool = False) -> dict | None:
    """Cold: a new browser context (empty HTTP and code caches) per run, the first load not counted.
    Warm: one browser profile on disk for every run (a returning user: Chart.js from the HTTP
    cache, its compiled code from V8's code cache), three loads first that are not counted."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  (playwright not installed: browser timing skipped)")
        return None
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    ready, in_page, painted, timelines = [], [], [], []
    skip = 3 if warm else 1
    profile = tempfile.mkdtemp(prefix="bench-dashboard-profile-") if warm else None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        # Warm: a profile on disk, as a user's browser has (an in-memory context keeps no code cache).
        context = p.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium", args=args,
                                                       viewport={"width": 1280, "height": 900}) if profile else None
        for i in range(runs + skip):
            ctx = context or browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            b, timeline = load_once(page, base)
            marks = ", ".join(f"{k} {v:.0f}" for k, v in timeline.items() if v)
            print("    in the page (ms from navigation): " + marks)
            page.close()
            if not warm:
                ctx.close()
            label = "warm-up (not in the medians)" if i < skip else f"run {i - skip + 1}"
            print(f"  {label:<34} painted {ms(timeline['painted'] / 1000)}   all cards {ms(b)}", flush=True)
            if i >= skip:
                timelines.append(timeline)
                ready.append(b)
                in_page.append(timeline["first"] / 1000)
                painted.append(timeline["painted"] / 1000)
        if context is not None:
            context.close()
        browser.close()
    if profile:
        import shutil
        shutil.rmtree(profile, ignore_errors=True)
    steps = {k: statistics.median(t[k] for t in timelines if t.get(k) is not None)
             for k in timelines[-1] if any(t.get(k) is not None for t in timelines)}
    print("  median timeline (ms from navigation): " + ", ".join(f"{k} {v:.0f}" for k, v in steps.items()))
    p95 = statistics.quantiles(painted, n=20)[-1] if len(painted) > 1 else painted[0]
    print(f"  load average now {' '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min; 2 cores)")
    print(f"  {'warm' if warm else 'cold'}, median of {runs} runs: "
          f"first render {ms(statistics.median(in_page)).strip()} from navigation (page timeline), "
          f"painted {ms(statistics.median(painted)).strip()} (p95 {ms(p95).strip()}); "
          f"all cards {ms(statistics.median(ready)).strip()}")
    return {"first_render_in_page_median_s": round(statistics.median(in_page), 4),
            "first_paint_in_page_median_s": round(statistics.median(painted), 4),
            "first_paint_in_page_p95_s": round(p95, 4),
            "all_cards_median_s": round(statistics.median(ready), 4), "timeline_median_ms": steps}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-others", action="store_true", help="skip the other pages' API timings")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--home", metavar="DIR", help="keep the ledger in DIR and reuse it on the next run")
    ap.add_argument("--only", choices=("cold", "warm"), help="time the browser cold or warm only")
    ap.add_argument("--no-api", action="store_true", help="skip the default page's API timings")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    built = build(args.calls)

    from zoneinfo import ZoneInfo

    from token_roi.dashboard.server import Settings, start_in_thread
    server, base = start_in_thread(Settings(tz=ZoneInfo("UTC"), today=TODAY, git=False))
    fetch(base + "api/meta")        # server warm-up: imports, config cache (not the page's queries)
    print(f"\nDefault page (Dashboard, last 30 days), {args.runs} runs:")
    default = None if args.no_api else time_api(
        base, args.runs, ["overview?period=30d&stack=agent", "value?period=30d", "subscriptions"])
    browser = None
    if not args.no_browser:
        # The browser run talks to a server in its own process, as `token-roi dashboard` runs: in this
        # one, Playwright's client would compete with the server for the interpreter lock.
        import subprocess
        proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        try:
            url = proc.stdout.readline().strip()
            fetch(url + "api/meta")     # its warm-up, as above
            browser = {}
            if args.only != "warm":
                print(f"\nIn the browser, cold (a new context per run), {args.runs} runs:")
                browser["cold"] = time_browser(url, args.runs)
            if args.only != "cold":
                print(f"\nIn the browser, warm (one profile on disk: HTTP and code caches kept), {args.runs} runs:")
                browser["warm"] = time_browser(url, args.runs, warm=True)
        finally:
            proc.terminate()
            proc.wait()
    others = None
    if not args.no_others:
        print("\nOther pages:")
        others = time_api(base, max(args.runs // 2, 1), [
            "overview?period=30d&stack=model", "overview?period=all", "sessions?period=30d", "sessions?period=all",
            "sessions?period=all&sort=cost", "sessions?period=all&q=project-03",
            "models?period=30d", "budget", "prices", "value?period=all", "meta"])
    server.shutdown()
    result = {"calls": args.calls, "build_s": round(built, 1), "default_page_api": default, "browser": browser,
              "other_api": others, "cpu_count": os.cpu_count(), "load_avg": os.getloadavg()}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
