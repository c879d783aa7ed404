#!/usr/bin/env python3
"""Ledger benchmark: token-roi against ccusage on the same generated Claude Code log tree.

    python bench/ledger_bench.py                    # 200 MB, both trees, 3 runs
    python bench/ledger_bench.py --size 1GB --runs 3 --out bench/.cache/results-1GB.json

For each tree (`clean`: every copy of a response carries the same usage; `traps`: early streaming
copies with placeholder output and /btw sidechain replays) and each run it times, as separate
processes with wall time and peak RSS from /usr/bin/time:
  ccusage   `ccusage claude daily --json --offline -z UTC` (20.0.24, npm; installed into
            bench/.cache when missing)
  cold      `token-roi daily --json -z UTC --agent claude` on an empty TOKEN_ROI_HOME
  warm      the same again: nothing new
  append    one new session file (~1 MB) written into the tree, then the report
  grow      ~1 MB of new lines appended to the largest transcript, then the report
and checks the token totals of every report against the generator's ground truth and against
ccusage's (per day too). The tree is put back as generated after each run. `--edge-cases` also
runs both tools on tiny hand-made transcripts where counting rules differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))          # run from a checkout without installing

try:
    from token_roi.sample import SampleTree, append_session, generate_claude_tree, parse_size
except ImportError:       # not installed: import the package from core/ under its real name
    import importlib.util
    spec = importlib.util.spec_from_file_location("token_roi", HERE.parent / "core" / "__init__.py",
                                                  submodule_search_locations=[str(HERE.parent / "core")])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["token_roi"] = module
    spec.loader.exec_module(module)
    from token_roi.sample import SampleTree, append_session, generate_claude_tree, parse_size

CCUSAGE_VERSION = "20.0.24"
FIELDS = (("input", "inputTokens"), ("output", "outputTokens"), ("cache_creation", "cacheCreationTokens"),
          ("cache_read", "cacheReadTokens"), ("total", "totalTokens"))
REPORT_ARGS = ["daily", "--json", "-z", "UTC", "--agent", "claude"]
# Set by main(): the installed `token-roi` (see install_ours), or this interpreter on the checkout.
OURS = [sys.executable, "-c", "from token_roi.cli import entry; entry()", *REPORT_ARGS]


def install_ours(cache: Path) -> list[str]:
    """token-roi as a user has it: `pip install .` of this checkout (not editable) into a virtual
    environment of its own, run through its `token-roi` script. This is what the README's first
    command does, and it keeps the interpreter this bench runs under out of the figures (its
    site-packages may hold .pth files that import things at every start: on the bench machine a
    sandbox's certificate hook and an editable install's finder cost ~35 ms per process)."""
    venv = cache / "venv"
    script = venv / "bin" / "token-roi"
    if not script.exists():
        print(f"installing token-roi into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(HERE.parent)], check=True)
    else:       # this checkout's code, as it is now
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--force-reinstall",
                        str(HERE.parent)], check=True)
    return [str(script), *REPORT_ARGS]


def compiled_loops(python: str) -> dict:
    """Whether the token-roi under test has the optional C Claude reader (setup.py builds it where
    a compiler is found; without it the Python loop reads, slower)."""
    probe = ("import json, token_roi.adapters.claude.reader as c; "
             "print(json.dumps({'claude_reader': c.parse_lines is not c.py_parse_lines}))")
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr.strip()[-200:]}


# -- set-up -------------------------------------------------------------------------------------

def find_ccusage(cache: Path, explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    binary = cache / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        print(f"installing ccusage@{CCUSAGE_VERSION} into {cache} ...", file=sys.stderr)
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(cache),
                        f"ccusage@{CCUSAGE_VERSION}"], check=True)
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    if CCUSAGE_VERSION not in out:
        print(f"warning: {binary} reports {out!r}, expected {CCUSAGE_VERSION}", file=sys.stderr)
    return binary


def tree_for(cache: Path, size: int, seed: int, traps: bool) -> tuple[SampleTree | dict, float]:
    """The generated tree (reused when its manifest matches), and the seconds generation took."""
    name = f"tree-{size // (1024 * 1024)}MB-{'traps' if traps else 'clean'}-s{seed}"
    root = cache / name
    manifest = cache / f"{name}.json"
    if manifest.exists() and root.exists():
        info = json.loads(manifest.read_text())
        sizes = sorted(p.stat().st_size for p in root.rglob("*.jsonl"))
        if sum(sizes) == info["bytes"]:
            info["file_size_median"] = statistics.median(sizes)
            info["file_size_max"] = sizes[-1]
            info["files_over_10MB"] = sum(1 for x in sizes if x > 10 * 1024 * 1024)
            return info, info.get("generate_seconds", 0.0)
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.monotonic()
    tree = generate_claude_tree(root, total_bytes=size, seed=seed, traps=traps)
    seconds = time.monotonic() - t0
    info = tree.as_dict() | {"generate_seconds": round(seconds, 1)}
    manifest.write_text(json.dumps(info, indent=1))
    return tree_for(cache, size, seed, traps)[0], seconds


def base_env(fake_home: Path, tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE_", "TOKEN_ROI_", "XDG_", "CODEX_", "HERMES_", "OPENCLAW_"))}
    env.update(HOME=str(fake_home), XDG_CONFIG_HOME=str(fake_home / ".config"),
               XDG_DATA_HOME=str(fake_home / ".local/share"), XDG_STATE_HOME=str(fake_home / ".local/state"),
               CLAUDE_CONFIG_DIR=str(tree), TZ="UTC", NO_COLOR="1")
    return env


# -- measuring ----------------------------------------------------------------------------------

def _tree_rss_kb(root: int) -> int:
    """Summed RSS of a process and all its descendants (Linux /proc; 0 elsewhere). Pages a
    forked worker shares with its parent are counted twice, so this errs high."""
    kids: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            pass
        stack.extend(kids.get(pid, []))
    return total


def measure(cmd: list[str], env: dict) -> dict:
    """Wall seconds, CPU seconds (user + system, children included) and peak RSS (MB: the largest
    single process from /usr/bin/time, and the whole process tree sampled every 50 ms) of one
    command, the 1-minute load average before it ran, and its stdout parsed as JSON."""
    import threading

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-f", "%M %U %S", "-o", tf.name, *cmd] if Path("/usr/bin/time").exists() else cmd
        t0 = time.monotonic()
        proc = subprocess.Popen(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.wait(0.05):
                peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = proc.communicate()
        wall = time.monotonic() - t0
        done.set()
        sampler.join()
        result = subprocess.CompletedProcess(full, proc.returncode, stdout, stderr)
        timed = tf.read().strip().splitlines()[-1].split() if full is not cmd else []
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[-6:])} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise SystemExit(f"{' '.join(cmd[-6:])}: output is not JSON: {result.stdout[:300]!r}") from None
    return {"wall": wall, "rss_mb": int(timed[0]) / 1024 if timed else None, "tree_rss_mb": peak[0] / 1024,
            "cpu": float(timed[1]) + float(timed[2]) if timed else None, "load1": load,
            "report": report, "stderr": result.stderr.strip()}


def totals_of(report: dict) -> dict:
    t = report.get("totals") or {}
    return {ours: t.get(theirs, 0) for ours, theirs in FIELDS}


def expected_of(totals: dict) -> dict:
    return {name: totals[name] for name, _ in FIELDS}


def add(a: dict, b: dict) -> dict:
    return {k: a[k] + b[k] for k in a}


def day_mismatches(ours: dict, theirs: dict) -> list[str]:
    def rows(report):
        return {r["date"]: tuple(r.get(f, 0) for _, f in FIELDS) for r in report.get("daily", [])}
    a, b = rows(ours), rows(theirs)
    return [d for d in sorted(set(a) | set(b)) if a.get(d) != b.get(d)]


def _largest(tree: Path) -> Path:
    return max((p for p in tree.glob("projects/*/*.jsonl")), key=lambda p: p.stat().st_size)


def run_once(tree_info: dict, ccusage: Path | None, work: Path, run: int, *, with_ccusage: bool) -> dict:
    tree = Path(tree_info["root"])
    fake_home = work / "home"
    fake_home.mkdir(exist_ok=True)
    env = base_env(fake_home, tree)
    ledger = work / f"ledger-{run}"
    shutil.rmtree(ledger, ignore_errors=True)
    ours_env = dict(env, TOKEN_ROI_HOME=str(ledger))
    truth = expected_of(tree_info["expected"])
    out: dict = {}

    if with_ccusage:
        out["ccusage"] = measure([str(ccusage), "claude", "daily", "--json", "--offline", "-z", "UTC"], env)
    out["cold"] = measure(OURS, ours_env)
    out["warm"] = measure(OURS, ours_env)

    # (c) a new session file, as a running agent would write it
    last = dt.datetime.strptime(tree_info["last_ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    new_file, added = append_session(tree, total_bytes=1024 * 1024, seed=10_000 + run,
                                     when=last + dt.timedelta(hours=1), cwd=tree_info["projects"][0],
                                     traps=tree_info["traps"])
    try:
        out["append"] = measure(OURS, ours_env)
        out["append"]["expected"] = add(truth, expected_of(added.expected.as_dict()))
    finally:
        new_file.unlink()
        shutil.rmtree(new_file.with_suffix(""), ignore_errors=True)

    # (d) new lines at the end of the largest transcript (and the subagent files they spawned)
    big = _largest(tree)
    size_before = big.stat().st_size
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        extra_file, extra = append_session(Path(tmp), total_bytes=1024 * 1024, seed=20_000 + run,
                                           when=last + dt.timedelta(hours=3), cwd=tree_info["projects"][0],
                                           traps=tree_info["traps"])
        moved = []
        sub_src = extra_file.with_suffix("") / "subagents"
        if sub_src.exists():
            dest = big.with_suffix("") / "subagents"
            dest.mkdir(parents=True, exist_ok=True)
            for f in sub_src.iterdir():
                shutil.copyfile(f, dest / f.name)
                moved.append(dest / f.name)
        try:
            with open(big, "rb+") as f:
                f.seek(-1, os.SEEK_END)
                ends_in_newline = f.read(1) == b"\n"
            with open(big, "ab") as f:
                # after a half-written last line the agent's next line starts on a line of its own
                f.write((b"" if ends_in_newline else b"\n") + extra_file.read_bytes())
            out["grow"] = measure(OURS, ours_env)
            # the ledger keeps the rows of the session file deleted after (c): rows outlive logs
            out["grow"]["expected"] = add(out["append"]["expected"], expected_of(extra.expected.as_dict()))
        finally:
            with open(big, "r+b") as f:
                f.truncate(size_before)
            for m in moved:
                m.unlink()
    out["cold"]["expected"] = out["warm"]["expected"] = truth
    shutil.rmtree(ledger, ignore_errors=True)
    return out


# -- edge cases ---------------------------------------------------------------------------------

def _line(mid, req, out_tokens, *, side=False, model="claude-sonnet-4-6", sec=0):
    msg = {"model": model, "type": "message", "role": "assistant", "content": [{"type": "text", "text": "x"}],
           "stop_reason": "end_turn", "usage": {"input_tokens": 10, "cache_creation_input_tokens": 0,
                                                "cache_read_input_tokens": 0, "output_tokens": out_tokens}}
    if mid:
        msg["id"] = mid
    d = {"parentUuid": None, "isSidechain": side, "message": msg, "type": "assistant", "uuid": f"u{sec}",
         "timestamp": f"2026-10-02T10:00:{sec:02d}.000Z", "cwd": "/home/u/p", "sessionId": "s1",
         "version": "2.1.126", "gitBranch": "main"}
    if req:
        d["requestId"] = req
    return json.dumps(d, separators=(",", ":"))


# (name, lines, what the rule counts: (input, output))
EDGE_CASES = [
    ("streaming copy first (placeholder output), final copy second",
     [_line("msg_1", "req_1", 3), _line("msg_1", "req_1", 500, sec=1)], (10, 500)),
    ("final copy first, placeholder second", [_line("msg_1", "req_1", 500), _line("msg_1", "req_1", 3, sec=1)],
     (10, 500)),
    ("/btw replay: same id, new requestId, sidechain",
     [_line("msg_1", "req_1", 100), _line("msg_1", "req_2", 100, side=True, sec=1)], (10, 100)),
    ("sidechain copy larger than the main-chain copy",
     [_line("msg_1", "req_1", 100), _line("msg_1", "req_2", 900, side=True, sec=1)], (10, 100)),
    ("same id under two requestIds, both main chain",
     [_line("msg_1", "req_1", 100), _line("msg_1", "req_2", 300, sec=1)], (10, 300)),
    ("no message.id, same requestId twice", [_line(None, "req_1", 100), _line(None, "req_1", 300, sec=1)],
     (10, 300)),
    ("<synthetic> line with non-zero usage", [_line("msg_1", "req_1", 100, model="<synthetic>")], (0, 0)),
]


def edge_cases(ccusage: Path, work: Path) -> list[dict]:
    results = []
    for i, (name, lines, rule) in enumerate(EDGE_CASES):
        tree = work / f"edge-{i}"
        shutil.rmtree(tree, ignore_errors=True)
        (tree / "projects" / "-home-u-p").mkdir(parents=True)
        (tree / "projects" / "-home-u-p" / "s1.jsonl").write_text("\n".join(lines) + "\n")
        env = base_env(work / "home", tree)
        theirs = totals_of(measure([str(ccusage), "claude", "daily", "--json", "--offline", "-z", "UTC"],
                                   env)["report"])
        ours = totals_of(measure(OURS, dict(env, TOKEN_ROI_HOME=str(tree / "ledger")))["report"])
        results.append({"case": name, "rule": list(rule), "ours": [ours["input"], ours["output"]],
                        "ccusage": [theirs["input"], theirs["output"]]})
    return results


def big_file(cache: Path, size: int, seed: int, ccusage: Path | None, work: Path) -> dict:
    """One session transcript of `size` bytes (a months-long session): memory must stay flat."""
    root = cache / f"bigfile-{size // (1024 * 1024)}MB-s{seed}"
    manifest = cache / f"{root.name}.json"
    if not manifest.exists():
        shutil.rmtree(root, ignore_errors=True)
        path, tree = append_session(root, total_bytes=size, seed=seed,
                                    when=dt.datetime(2026, 9, 1, 9, tzinfo=dt.timezone.utc))
        manifest.write_text(json.dumps(tree.as_dict() | {"path": str(path), "size": path.stat().st_size}))
    info = json.loads(manifest.read_text())
    env = base_env(work / "home", root)
    out = {"file_bytes": info["size"], "truth": expected_of(info["expected"])}
    ledger = work / "ledger-big"
    shutil.rmtree(ledger, ignore_errors=True)
    ours = measure(OURS, dict(env, TOKEN_ROI_HOME=str(ledger)))
    out["ours"] = {"wall": ours["wall"], "cpu": ours["cpu"], "rss_mb": ours["rss_mb"],
                   "tree_rss_mb": ours["tree_rss_mb"], "tokens": totals_of(ours["report"])}
    if ccusage is not None:
        theirs = measure([str(ccusage), "claude", "daily", "--json", "--offline", "-z", "UTC"], env)
        out["ccusage"] = {"wall": theirs["wall"], "cpu": theirs["cpu"], "rss_mb": theirs["rss_mb"],
                          "tree_rss_mb": theirs["tree_rss_mb"], "tokens": totals_of(theirs["report"])}
    shutil.rmtree(ledger, ignore_errors=True)
    return out


# -- report -------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines()
                          if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None}


def summarize(runs: list[dict]) -> dict:
    out = {}
    for scenario in ("ccusage", "cold", "warm", "append", "grow"):
        got = [r[scenario] for r in runs if scenario in r]
        if not got:
            continue
        out[scenario] = {"wall_median": statistics.median(g["wall"] for g in got),
                         "wall_all": [round(g["wall"], 3) for g in got],
                         "cpu_median": statistics.median((g["cpu"] or 0) for g in got),
                         "rss_mb_max": max((g["rss_mb"] or 0) for g in got),
                         "tree_rss_mb_max": max((g.get("tree_rss_mb") or 0) for g in got),
                         "load1_all": [g["load1"] and round(g["load1"], 1) for g in got]}
    return out


def check(name: str, info: dict, runs: list[dict]) -> list[str]:
    problems = []
    for i, r in enumerate(runs):
        for scenario in ("cold", "warm", "append", "grow"):
            got = totals_of(r[scenario]["report"])
            if got != r[scenario]["expected"]:
                problems.append(f"{name} run {i} {scenario}: ours {got} != generated truth {r[scenario]['expected']}")
        ours_days = {row["date"]: tuple(row.get(f, 0) for _, f in FIELDS[:4]) for row in r["cold"]["report"]["daily"]}
        true_days = {d: tuple(t[k] for k, _ in FIELDS[:4]) for d, t in info["by_day"].items()}
        if ours_days != true_days:
            wrong = sorted(d for d in set(ours_days) | set(true_days) if ours_days.get(d) != true_days.get(d))
            problems.append(f"{name} run {i} cold: daily rows differ from the generated truth on {wrong[:5]}")
        if "ccusage" in r:
            theirs = totals_of(r["ccusage"]["report"])
            ours = totals_of(r["cold"]["report"])
            if theirs != ours:
                problems.append(f"{name} run {i}: ours {ours} != ccusage {theirs} "
                                f"(truth {expected_of(info['expected'])})")
            days = day_mismatches(r["cold"]["report"], r["ccusage"]["report"])
            if days:
                problems.append(f"{name} run {i}: daily rows differ from ccusage on {len(days)} days: {days[:5]}")
    return problems


def markdown(results: dict) -> str:
    lines = []
    for name, res in results["trees"].items():
        info, s = res["tree"], res["summary"]
        lines.append(f"### {name} tree: {info['bytes'] / 1e9:.2f} GB, {info['files']} files "
                     f"({info['subagent_files']} subagent), median {info['file_size_median'] / 1e3:.0f} KB, "
                     f"{info['files_over_10MB']} over 10 MB (largest {info['file_size_max'] / 1e6:.0f} MB), "
                     f"{info['lines']:,} lines, {info['usage_lines']:,} usage lines, "
                     f"{info['expected']['calls']:,} calls\n")
        lines.append("| scenario | token-roi wall | token-roi CPU | token-roi peak RSS (all processes) "
                     "| ccusage wall | ccusage CPU | ccusage peak RSS (all processes) |")
        lines.append("|---|---|---|---|---|---|---|")
        cc = s.get("ccusage")
        for scenario, label in (("cold", "cold ingest + report"), ("warm", "warm report, nothing new"),
                                ("append", "one new session (1 MB) + report"),
                                ("grow", "1 MB appended to the largest file + report")):
            if scenario in s:
                x = s[scenario]
                lines.append(f"| {label} | {x['wall_median']:.2f} s | {x['cpu_median']:.2f} s | "
                             f"{x['rss_mb_max']:.0f} MB ({x['tree_rss_mb_max']:.0f} MB) | "
                             + (f"{cc['wall_median']:.2f} s | {cc['cpu_median']:.2f} s | "
                                f"{cc['rss_mb_max']:.0f} MB ({cc['tree_rss_mb_max']:.0f} MB) |"
                                if cc else "– | – | – |"))
        lines.append("")
        lines.append("wall of each run (s): " + "; ".join(f"{k} {v['wall_all']}" for k, v in s.items()))
        lines.append("")
        lines.append("1-minute load average before each run: "
                     + "; ".join(f"{k} {v['load1_all']}" for k, v in s.items()))
        lines.append("")
        lines.append(f"tokens: {res['tokens']}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="200MB", help="tree size, e.g. 200MB, 1GB (default 200MB)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--trees", default="clean,traps", help="which trees: clean, traps or both (default)")
    ap.add_argument("--cache", default=str(HERE / ".cache"), help="trees, ccusage and results (default bench/.cache)")
    ap.add_argument("--ccusage", help="path to a ccusage binary (default: install into the cache)")
    ap.add_argument("--no-ccusage", action="store_true", help="time token-roi only")
    ap.add_argument("--edge-cases", action="store_true", help="also compare both tools on tiny edge cases")
    ap.add_argument("--big-file", metavar="SIZE",
                    help="also time both tools on a tree holding one transcript of SIZE (e.g. 400MB)")
    ap.add_argument("--out", help="write all results as JSON here")
    ap.add_argument("--in-place", action="store_true",
                    help="run token-roi from this checkout with this interpreter, not installed in bench/.cache/venv")
    args = ap.parse_args(argv)

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    size = parse_size(args.size)
    ccusage = None if args.no_ccusage else find_ccusage(cache, args.ccusage)
    global OURS
    if not args.in_place:
        OURS = install_ours(cache)
    results = {"machine": machine(), "size": size, "seed": args.seed, "runs": args.runs,
               "token_roi": "in place (this interpreter, the checkout)" if args.in_place else
                            "pip install . into bench/.cache/venv, its token-roi script",
               "compiled": compiled_loops(sys.executable if args.in_place else str(Path(OURS[0]).parent / "python")),
               "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "trees": {}}
    problems = []
    with tempfile.TemporaryDirectory(dir=cache, prefix="work-") as work_dir:
        work = Path(work_dir)
        for name in [t.strip() for t in args.trees.split(",") if t.strip()]:
            info, gen_s = tree_for(cache, size, args.seed, traps=(name == "traps"))
            print(f"{name} tree: {info['bytes'] / 1e6:,.0f} MB, {info['files']} files "
                  f"(generated in {gen_s:.1f} s)", file=sys.stderr)
            runs = []
            for i in range(args.runs):
                r = run_once(info, ccusage, work, i, with_ccusage=ccusage is not None)
                runs.append(r)
                print(f"  run {i}: " + ", ".join(f"{k} {v['wall']:.2f}s/{(v['rss_mb'] or 0):.0f}MB"
                                                  for k, v in r.items()), file=sys.stderr)
            problems += check(name, info, runs)
            first = runs[0]
            tokens: dict[str, object] = {"truth": expected_of(info["expected"]),
                                         "ours": totals_of(first["cold"]["report"])}
            if "ccusage" in first:
                tokens["ccusage"] = totals_of(first["ccusage"]["report"])
                tokens["daily_rows_differing"] = day_mismatches(first["cold"]["report"], first["ccusage"]["report"])
            if info["traps"]:
                tokens["naive_first_copy_per_id_and_request"] = expected_of(info["first_per_id_and_request"])
                tokens["naive_every_line"] = expected_of(info["every_line"])
            results["trees"][name] = {
                "tree": {k: v for k, v in info.items() if k not in ("by_day", "by_model")},
                "summary": summarize(runs), "tokens": tokens,
                "ours_stderr": first["cold"]["stderr"][-500:]}
        if args.edge_cases and ccusage is not None:
            results["edge_cases"] = edge_cases(ccusage, work)
        if args.big_file:
            results["big_file"] = big_file(cache, parse_size(args.big_file), args.seed, ccusage, work)
    results["problems"] = problems
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(markdown(results))
    if "big_file" in results:
        print(f"one big transcript: {json.dumps(results['big_file'])}")
    for case in results.get("edge_cases", []):
        print(f"edge case: {case['case']}: rule {case['rule']}, ours {case['ours']}, ccusage {case['ccusage']}")
    for p in problems:
        print("MISMATCH: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
