#!/usr/bin/env python3
"""Mixed-machine benchmark: Claude Code + Codex CLI logs on one machine, token-roi vs ccusage.

    python bench/mixed_bench.py                      # 20 MB Claude + 20 MB Codex, 1 run
    python bench/mixed_bench.py --size 200MB --runs 3

Generates a Claude Code tree (core/sample.py) and a Codex tree (`generate_codex_tree` below,
rollout files shaped like the real ones, with the traps of shared/reference/agent-logs.md:
re-emitted unchanged totals, a resumed session whose total goes down, `thread_spawn` subagent
files that replay the parent's history at the spawn, copies in `archived_sessions/`), then times
as separate processes (wall, CPU, peak RSS via bench/ledger_bench.measure):
  ours-codex-cold  `token-roi daily --json -z UTC --agent codex`, empty store
  ours-all     `token-roi daily --json -z UTC` (every agent: Claude + Codex), empty store
  ours-codex   `token-roi daily --json -z UTC --agent codex`, after ours-all (warm store)
  cc-claude    `ccusage claude daily --json --offline -z UTC`
  cc-codex     `ccusage codex daily --json --offline -z UTC` (CODEX_HOME = the Codex tree)
and compares Codex tokens per day and in total: ours, ccusage, the generator's truth, and a naive
sum of every `last_token_usage` (the over-count the reference warns about).

Field conventions: Codex's `input_tokens` includes cached input and `output_tokens` includes
reasoning. Both tools' daily JSON report `inputTokens` WITHOUT the cached part (that is
`cacheReadTokens`) and `outputTokens` WITH reasoning (also broken out as `reasoningTokens` /
`reasoningOutputTokens`); the truth below is converted to that convention before comparing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ledger_bench import base_env, find_ccusage, measure  # noqa: E402  (also imports token_roi)

from token_roi.sample import generate_claude_tree, parse_size  # noqa: E402

OURS = [sys.executable, "-c", "import sys; from token_roi.cli import main; sys.exit(main())",
        "daily", "--json", "-z", "UTC"]
KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
MODELS = ("gpt-5-codex", "gpt-5", "gpt-5-codex", "gpt-5.1-codex")
RATE = {"primary": {"used_percent": 12.0, "window_minutes": 300, "resets_at": 1768480000},
        "secondary": {"used_percent": 41.0, "window_minutes": 10080, "resets_at": 1768900000},
        "plan_type": "plus"}


# -- the Codex generator ------------------------------------------------------------------------

def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _usage(u: tuple[int, int, int, int]) -> dict:
    d = dict(zip(KEYS, u))
    d["total_tokens"] = u[0] + u[2]
    return d


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


class _Truth:
    def __init__(self):
        self.total = [0, 0, 0, 0]
        self.by_day: dict[str, list[int]] = {}
        self.calls = 0

    def book(self, ms: int, u) -> None:
        day = _iso(ms)[:10]
        d = self.by_day.setdefault(day, [0, 0, 0, 0])
        for i in range(4):
            d[i] += u[i]
            self.total[i] += u[i]
        self.calls += 1


def _session_meta(ms, sid, cwd, source="cli", **extra) -> dict:
    return {"timestamp": _iso(ms), "type": "session_meta", "payload": {
        "id": sid, "timestamp": _iso(ms), "cwd": cwd, "originator": "codex_cli_rs", "cli_version": "0.63.0",
        "instructions": None, "source": source, "model_provider": "openai",
        "git": {"commit_hash": "5f3c2a9e1b7d", "branch": "main", "repository_url": "git@github.com:acme/x.git"},
        **extra}}


def _token_count(ms, total, last) -> dict:
    return {"timestamp": _iso(ms), "type": "event_msg", "payload": {"type": "token_count", "info": {
        "total_token_usage": _usage(total), "last_token_usage": _usage(last),
        "model_context_window": 272000}, "rate_limits": RATE}}


def generate_codex_tree(root: Path | str, *, total_bytes: int, seed: int = 0,
                        start: dt.datetime = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc),
                        days: int = 28) -> dict:
    """Write `root/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl` (+ `archived_sessions/`) of about
    `total_bytes`. Returns the truth: every model call booked once, per UTC day and in total, as
    {input (incl. cached), cached, output (incl. reasoning), reasoning}, plus the naive sum of
    every `last_token_usage` line in `sessions/` and in both directories."""
    root = Path(root)
    rng = random.Random(seed)
    pool = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz     \n{}();=") for _ in range(200_000))
    truth = _Truth()
    stats = {"files": 0, "subagent_files": 0, "archived_copies": 0, "resumes": 0, "reemits": 0,
             "bytes": 0, "token_count_lines": 0}
    naive = {"sessions": [0, 0, 0, 0], "with_archived": [0, 0, 0, 0]}
    t_start = int(start.timestamp() * 1000)

    def write(path: Path, lines: list[dict], archived: bool = False) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)
        path.write_text(data)
        for x in lines:
            p = x["payload"]
            if x["type"] == "event_msg" and p.get("type") == "token_count" and p.get("info"):
                last = tuple(p["info"]["last_token_usage"][k] for k in KEYS)
                if not archived:
                    naive["sessions"] = list(_add(naive["sessions"], last))
                    stats["token_count_lines"] += 1
                naive["with_archived"] = list(_add(naive["with_archived"], last))
        stats["bytes"] += len(data.encode())
        stats["files"] += 1
        return len(data)

    def path_for(ms: int, sid: str) -> Path:
        d = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
        return root / "sessions" / d.strftime("%Y/%m/%d") / f"rollout-{d.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"

    def turns(lines, ms, total, n, model, *, book: bool, resume_at: int | None = None):
        """n model calls appended to lines; returns (ms, total)."""
        for i in range(n):
            ms += rng.randint(3_000, 40_000)
            prompt = rng.randint(8_000, 120_000)
            cached = int(prompt * rng.uniform(0.5, 0.95)) if i else 0
            out = rng.randint(50, 4_000)
            last = (prompt, cached, out, int(out * rng.uniform(0, 0.6)))
            lines.append({"timestamp": _iso(ms), "type": "response_item",
                          "payload": {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA" + pool[:200]}})
            lines.append({"timestamp": _iso(ms), "type": "response_item", "payload": {
                "type": "function_call", "name": "shell", "call_id": f"call_{ms}",
                "arguments": json.dumps({"command": ["bash", "-lc", "rg -n total src/"]})}})
            if resume_at is not None and i == resume_at:
                # resumed: the cumulative total restarts below the old one, in every field
                last = tuple(min(x, t // 2) for x, t in zip(last, total))
                total = last
                stats["resumes"] += 1
            else:
                total = _add(total, last)
            lines.append(_token_count(ms, total, last))
            if book:
                truth.book(ms, last)
            while rng.random() < 0.45:      # rate-limit / UI refresh: same total, same last, again
                ms += rng.randint(100, 2_000)
                lines.append(_token_count(ms, total, last))
                stats["reemits"] += 1
            ms += rng.randint(200, 5_000)
            k = int(rng.lognormvariate(8.5, 1.3)) % 60_000
            off = rng.randrange(0, len(pool) - k - 1)
            lines.append({"timestamp": _iso(ms), "type": "response_item", "payload": {
                "type": "function_call_output", "call_id": f"call_{ms}",
                "output": json.dumps({"output": pool[off:off + k]})}})
        return ms, total

    written = 0
    n = 0
    while written < total_bytes:
        n += 1
        sid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        cwd = rng.choice(["/home/dev/src/billing-api", "/home/dev/src/web", "/home/dev/src/infra"])
        model = rng.choice(MODELS)
        ms0 = t_start + rng.randrange(days * 86_400_000)
        lines = [_session_meta(ms0, sid, cwd),
                 {"timestamp": _iso(ms0 + 3), "type": "response_item", "payload": {
                     "type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix it"}]}},
                 {"timestamp": _iso(ms0 + 5), "type": "turn_context", "payload": {
                     "cwd": cwd, "approval_policy": "on-request", "model": model, "effort": "medium"}},
                 {"timestamp": _iso(ms0 + 7), "type": "event_msg",
                  "payload": {"type": "token_count", "info": None, "rate_limits": RATE}}]
        calls = rng.randint(3, 30)
        resume = rng.randrange(2, calls) if rng.random() < 0.15 and calls > 3 else None
        spawn = rng.randrange(1, calls) if rng.random() < 0.2 else None
        ms, total = turns(lines, ms0, (0, 0, 0, 0), spawn or calls, model, book=True,
                          resume_at=resume if resume is not None and resume < (spawn or calls) else None)
        if spawn:
            # Subagent: its file opens with the parent's history written as one burst at the spawn.
            child = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
            at = ms + 50
            burst = [_session_meta(at, child, cwd, source={"subagent": {"thread_spawn": {
                "parent_thread_id": sid, "depth": 1}}})]
            for j, x in enumerate(lines):
                burst.append(dict(x, timestamp=_iso(at + 1 + j // 50)))
            c_ms, _ = turns(burst, at + 2_000, total, rng.randint(2, 10), model, book=True)
            written += write(path_for(at, child), burst)
            stats["subagent_files"] += 1
            ms, total = turns(lines, ms, total, calls - spawn, model, book=True,
                              resume_at=(resume - spawn) if resume is not None and resume >= spawn else None)
        path = path_for(ms0, sid)
        written += write(path, lines)
        if rng.random() < 0.1:              # archived: the same file also in archived_sessions/
            write(root / "archived_sessions" / path.name, lines, archived=True)
            stats["archived_copies"] += 1
    stats["sessions"] = n
    t = truth.total
    return {"root": str(root), "seed": seed, **stats, "calls": truth.calls,
            "truth": dict(zip(("input", "cached", "output", "reasoning"), t)),
            "truth_by_day": {d: dict(zip(("input", "cached", "output", "reasoning"), v))
                             for d, v in sorted(truth.by_day.items())},
            "naive_last_sum": {k: dict(zip(("input", "cached", "output", "reasoning"), v)) for k, v in naive.items()}}


# -- comparing ----------------------------------------------------------------------------------

def as_report(t: dict) -> dict:
    """Truth in the daily-JSON convention: input without cached, output with reasoning."""
    return {"input": t["input"] - t["cached"], "cache_read": t["cached"], "output": t["output"],
            "reasoning": t["reasoning"], "total": t["input"] + t["output"]}


def ours_days(report: dict) -> dict:
    return {r["date"]: {"input": r["inputTokens"], "cache_read": r["cacheReadTokens"], "output": r["outputTokens"],
                        "reasoning": r.get("reasoningTokens", 0), "total": r["totalTokens"]}
            for r in report.get("daily", [])}


def ccusage_days(report: dict) -> dict:
    return {r["date"]: {"input": r["inputTokens"], "cache_read": r["cacheReadTokens"], "output": r["outputTokens"],
                        "reasoning": r.get("reasoningOutputTokens", 0), "total": r["totalTokens"]}
            for r in report.get("daily", [])}


def summed(days: dict) -> dict:
    out = {"input": 0, "cache_read": 0, "output": 0, "reasoning": 0, "total": 0}
    for v in days.values():
        for k in out:
            out[k] += v[k]
    return out


def pct(a: int, b: int) -> str:
    return "0.00%" if a == b else f"{(a - b) / b * 100:+.2f}%"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="20MB", help="size of EACH tree (Claude and Codex), e.g. 200MB")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--ccusage", help="path to a ccusage binary (default: bench/.cache)")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    size = parse_size(args.size)
    cache = HERE / ".cache"
    ccusage = find_ccusage(cache, args.ccusage)
    with tempfile.TemporaryDirectory(prefix="mixed-bench-") as tmp:
        work = Path(tmp)
        t0 = time.monotonic()
        claude = generate_claude_tree(work / "claude", total_bytes=size, seed=args.seed)
        codex = generate_codex_tree(work / "codex", total_bytes=size, seed=args.seed)
        gen_s = time.monotonic() - t0
        runs = []
        for run in range(args.runs):
            home = work / f"home{run}"
            home.mkdir()
            env = base_env(home, work / "claude") | {"CODEX_HOME": str(work / "codex"),
                                                     "TOKEN_ROI_HOME": str(home / "token-roi")}
            cold = env | {"TOKEN_ROI_HOME": str(home / "token-roi-codex")}
            r = {"ours-codex-cold": measure(OURS + ["--agent", "codex"], cold),
                 "ours-all": measure(OURS, env), "ours-codex": measure(OURS + ["--agent", "codex"], env),
                 "cc-claude": measure([str(ccusage), "claude", "daily", "--json", "--offline", "-z", "UTC"], env),
                 "cc-codex": measure([str(ccusage), "codex", "daily", "--json", "--offline", "-z", "UTC"], env)}
            runs.append(r)
            print(f"run {run + 1}: " + ", ".join(f"{k} {v['wall']:.1f}s/{v['cpu'] or 0:.1f}cpu/{v['rss_mb'] or 0:.0f}MB"
                                                 for k, v in r.items()), file=sys.stderr)
        last = runs[-1]
        truth_days = {d: as_report(v) for d, v in codex["truth_by_day"].items()}
        ours_c, cc_c = ours_days(last["ours-codex"]["report"]), ccusage_days(last["cc-codex"]["report"])
        if ours_days(last["ours-codex-cold"]["report"]) != ours_c:
            print("warning: cold and warm codex reports differ", file=sys.stderr)
        ours_all = summed(ours_days(last["ours-all"]["report"]))
        cc_claude = summed(ccusage_days(last["cc-claude"]["report"]))
        claude_truth = claude.expected.as_dict()
        result = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "size_each": size, "generate_seconds": round(gen_s, 1),
            "claude_tree": {k: v for k, v in claude.as_dict().items() if k in ("files", "bytes", "sessions")},
            "codex_tree": {k: v for k, v in codex.items() if not k.startswith(("truth", "naive"))},
            "timings": [{k: {m: v[m] for m in ("wall", "cpu", "rss_mb", "tree_rss_mb")} for k, v in r.items()}
                        for r in runs],
            "codex": {"truth": summed(truth_days), "ours": summed(ours_c), "ccusage": summed(cc_c),
                      "naive_last_sum": as_report(codex["naive_last_sum"]["sessions"]),
                      "naive_last_sum_with_archived": as_report(codex["naive_last_sum"]["with_archived"]),
                      "days": len(truth_days),
                      "days_ours_differs": [d for d in sorted(set(truth_days) | set(ours_c))
                                            if truth_days.get(d) != ours_c.get(d)],
                      "days_ccusage_differs": [d for d in sorted(set(truth_days) | set(cc_c))
                                               if truth_days.get(d) != cc_c.get(d)]},
            "claude": {"truth_total": claude_truth["total"], "ccusage_total": cc_claude["total"]},
            "all_agents": {"ours_total": ours_all["total"],
                           "truth_total": claude_truth["total"] + summed(truth_days)["total"]},
        }
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    c = result["codex"]
    for name in ("ours", "ccusage", "naive_last_sum", "naive_last_sum_with_archived"):
        print(f"codex {name:30s} total {c[name]['total']:>14,}  vs truth {pct(c[name]['total'], c['truth']['total'])}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
