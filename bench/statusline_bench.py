#!/usr/bin/env python3
"""Status line benchmark: `token-roi statusline` as a whole process against a bare interpreter
and against ccusage's statusline, on the same status JSON.

    python bench/statusline_bench.py --runs 40
    python bench/statusline_bench.py --ccusage /tmp/ccu/node_modules/.bin/ccusage --runs 40

Claude Code runs the statusLine command after assistant messages (throttled) with its status
JSON on stdin. The input here is that JSON with `rate_limits` (five_hour and seven_day), the
transcript of a realistic 2 MB session (token_roi.sample) in a scratch Claude folder, the guard's
state for that session and a today.json, as a session with the guard and the status line set up
has them. Timed, in turn run by run (so load drift hits all alike), each as its own process from
fork to exit, output read:
- `python3 -S -c pass`: the interpreter alone, the yardstick (the issue's target: the status
  line's median at most 4x this);
- the plugin launcher `/bin/sh hooks/run -S -E hooks/statusline.py` (what `token-roi setup claude
  --statusline` writes in a plugin or source checkout), with the interpreter given as hooks/run
  has it cached after the first call;
- `token-roi statusline` (the console script pip installs; site-packages load first);
- ccusage's `statusline` (--offline), cached (its default file cache, the transcript unchanged)
  and uncached (--no-cache), when --ccusage is given. ccusage shows no plan limits.
Each command's output is checked once (the limits must be in ours). The background refresh the
status line may start is turned off (TOKEN_ROI_STATUSLINE_NO_REFRESH) so it does not load the
machine between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "hooks"))
import _bootstrap  # noqa: E402

_bootstrap.load()
from token_roi.guard import state as guard_state  # noqa: E402
from token_roi.sample import append_session  # noqa: E402

TARGET_RATIO = 4.0


def setup(work: Path) -> tuple[dict, dict]:
    """The scratch homes and the status JSON; returns (env, payload)."""
    claude = work / "claude"
    (claude / "projects").mkdir(parents=True)
    transcript, _ = append_session(claude / "projects", total_bytes=2 * 1024 * 1024, seed=11,
                                   when=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30))
    session_id = transcript.stem
    home = work / "token-roi-home"
    env = dict(os.environ, TOKEN_ROI_HOME=str(home), CLAUDE_CONFIG_DIR=str(claude), HOME=str(work),
               TOKEN_ROI_STATUSLINE_NO_REFRESH="1", NO_COLOR="1", COLUMNS="120")
    os.environ["TOKEN_ROI_HOME"] = str(home)
    state = guard_state.new_state(session_id)
    state.update(cost_usd=4.37, total_tokens_used=2_345_678, cost_by_day={time.strftime("%Y-%m-%d"): 1.2})
    guard_state.save(guard_state.session_path(session_id), state)
    limits = home / "limits"
    limits.mkdir(parents=True, exist_ok=True)
    (limits / "today.json").write_text(json.dumps({"day": time.strftime("%Y-%m-%d"), "written_at": int(time.time()),
                                                   "total_usd": 12.5, "unpriced_tokens": 0,
                                                   "claude_sessions": {session_id: 3.0}}))
    now = int(time.time())
    payload = {"hook_event_name": "Status", "session_id": session_id, "transcript_path": str(transcript),
               "cwd": "/home/dev/src/acme-api",
               "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
               "workspace": {"current_dir": "/home/dev/src/acme-api", "project_dir": "/home/dev/src/acme-api"},
               "version": "2.1.97", "output_style": {"name": "default"},
               "cost": {"total_cost_usd": 4.1, "total_duration_ms": 1_800_000, "total_api_duration_ms": 600_000,
                        "total_lines_added": 120, "total_lines_removed": 30},
               "context_window": {"total_input_tokens": 80_000, "context_window_size": 200_000},
               "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": now + 7000},
                               "seven_day": {"used_percentage": 18, "resets_at": now + 400_000}}}
    return env, payload


def run_once(argv: list[str], data: bytes, env: dict) -> tuple[float, float, bytes]:
    """(wall ms, cpu ms of the child) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return wall, cpu, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--python", default=os.path.realpath(sys.executable),
                    help="the interpreter (its real path, not a version manager's shim)")
    ap.add_argument("--token-roi", action="append", metavar="EXE",
                    help="an installed console script (repeatable; default: token-roi on PATH)")
    ap.add_argument("--ccusage", help="ccusage's executable (npm install ccusage@20.0.24)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="token-roi-statusline-bench-"))
    try:
        env, payload = setup(work)
        data = json.dumps(payload).encode()
        launcher_env = dict(env, TOKEN_ROI_PYTHON=args.python)
        commands: list[tuple[str, list[str], dict]] = [
            ("python3 -S -c pass", [args.python, "-S", "-c", "pass"], env),
            ("token-roi: plugin launcher", ["/bin/sh", str(REPO / "hooks" / "run"), "-S", "-E",
                                            str(REPO / "hooks" / "statusline.py")], launcher_env)]
        for exe in args.token_roi or [e for e in [shutil.which("token-roi")] if e]:
            commands.append((f"{exe} statusline", [exe, "statusline"], env))
        if args.ccusage:
            commands.append(("ccusage statusline (cached)", [args.ccusage, "statusline", "--offline"], env))
            commands.append(("ccusage statusline (--no-cache)",
                             [args.ccusage, "statusline", "--offline", "--no-cache"], env))
        for name, argv, e in commands:                        # warm-up, and what each prints
            _, _, out = run_once(argv, data, e)
            print(f"{name}: {out.decode(errors='replace').strip()[:160]!r}")
        assert b"5h 42%" in run_once(commands[1][1], data, commands[1][2])[2]
        times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in commands}
        for _ in range(args.runs):
            for name, argv, e in commands:
                wall, cpu, _ = run_once(argv, data, e)
                times[name].append((wall, cpu))
        base = statistics.median(w for w, _ in times[commands[0][0]])
        load = os.getloadavg()
        print(f"\n{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, load "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.runs} runs each, interleaved\n")
        print("| command | median wall ms | p90 wall ms | median cpu ms | median / bare python |")
        print("|---|---:|---:|---:|---:|")
        for name, _, _ in commands:
            walls = sorted(w for w, _ in times[name])
            cpus = [c for _, c in times[name]]
            p90 = walls[min(len(walls) - 1, int(len(walls) * 0.9))]
            med = statistics.median(walls)
            print(f"| {name} | {med:.1f} | {p90:.1f} | {statistics.median(cpus):.1f} | {med / base:.2f}x |")
        ratio = statistics.median(w for w, _ in times[commands[1][0]]) / base
        print(f"\ntarget: plugin launcher median <= {TARGET_RATIO:g}x bare python: "
              f"{'met' if ratio <= TARGET_RATIO else 'NOT met'} ({ratio:.2f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
