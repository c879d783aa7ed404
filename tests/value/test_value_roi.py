"""`token-roi roi` on a realistic ledger: four weeks, two agents (claude, codex), three projects
(a real temporary git repository, a folder that is not a repository, a path that no longer
exists). Every number below is worked out by hand in the comments.

Weeks (Mondays, UTC): W1 2026-04-27, W2 2026-05-04, W3 2026-05-11, W4 2026-05-18 (latest).
Sessions (each two calls, tokens and cost split evenly; cost set directly, no pricing):
  S1 claude c-w1-api  api   04-28 10:00-11:00 sonnet 1.0M $3   guard: 4 Edit 6 Read 2 Bash, 1 bug fixed;
                                                                 commit 10:30 +60 lines          -> VA
  S2 codex  x-w1-api  api   04-30 14:00-14:30 codex  0.5M $1   no signals, no commit           -> BVA
  S3 claude c-w2-web  web   05-05 09:00-10:00 opus   0.4M $6   guard: fast tier, 6/10 failed,
                                                                 abandoned                        -> NVA
  S4 codex  x-w2-web  web   05-06 11:00-13:00 codex  1.0M $2   model estimate; user says VA    -> VA (user)
  S5 claude c-w3-docs docs  05-12 15:00-17:00 sonnet 1.0M $3   guard: 20 Read 5 Grep, no edits -> BVA
  S6 claude c-w3-api  api   05-13 10:00-11:00 sonnet 1.0M $3   guard: 3 Edit 2 Bash; commit 10:20 +30,
                                                                 reverted 05-19 10:10             -> NVA (harmful)
  S7 claude c-w4-api  api   05-19 10:00-12:00 opus   1.0M $15  guard: 5 Edit 5 Read, 20 tests, 2 fixed;
                                                                 revert 10:10 (-30), commit 11:00 +90 on a
                                                                 branch, merge of PR #12 11:30    -> VA
  S8 codex  x-w4-api  api   05-20 09:00-09:15 codex  2.0M $5   no signals, no commit           -> BVA
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import pytest

from token_roi.cli import main
from token_roi.guard.state import new_state
from token_roi.reports.query import Filters
from token_roi.rows import UsageRow
from token_roi.store import Store
from token_roi.value import roi, signals

SONNET, OPUS, CODEX = "claude-sonnet-4-5", "claude-opus-4-5", "gpt-5-codex"


def ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso + "+00:00").timestamp() * 1000)


def git(repo, *args, at=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com")
    if at is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{ms(at) // 1000} +0000"
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def commit_file(repo, name, lines, message, at):
    (repo / name).write_text("".join(f"line {i}\n" for i in range(lines)))
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message, at=at)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(path):
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit_file(path, "README", 10, "initial", "2026-04-20T09:00:00")          # before every session
    commit_file(path, "parser.py", 60, "add parser", "2026-04-28T10:30:00")    # S1
    cache = commit_file(path, "cache.py", 30, "add cache", "2026-05-13T10:20:00")  # S6
    git(path, "revert", "--no-edit", cache, at="2026-05-19T10:10:00")          # in S7: S6's work undone
    git(path, "checkout", "-q", "-b", "export")
    commit_file(path, "export.py", 90, "add export", "2026-05-19T11:00:00")    # S7, on a branch
    git(path, "checkout", "-q", "main")
    git(path, "merge", "-q", "--no-ff", "export", "-m", "Merge pull request #12 from dev/export",
        at="2026-05-19T11:30:00")                                                # S7: a PR
    return path


def guard_state(sid, start, end, *, calls, fails=None, fast_tier=False, loop=0, tests_passed=0, tests_failed=0,
                bugs_fixed=0, last_ok=True):
    """A guard state file as the hooks leave it (core/guard/state.py), counts only."""
    s = new_state(sid)
    s["session_start"], s["last_activity"] = start + ".000Z", end + ".000Z"
    s["tool_calls"], s["tool_failures"] = dict(calls), dict(fails or {})
    s["loop_attempts"] = {"Bash": loop} if loop else {}
    s["fast_tier_triggered"] = fast_tier
    if fast_tier:
        s["fast_tier"] = {"count": 1, "events": [{"tool": "Bash", "attempt": loop, "at": end + ".000Z"}]}
    s["outcomes"].update(tests_passed=tests_passed, tests_failed=tests_failed, bugs_fixed=bugs_fixed)
    if tests_failed:
        s["outcomes"]["runs"] = {"ab12": {"runner": "pytest", "runs": 4, "best_passed": 0, "last_passed": 0,
                                          "last_failed": tests_failed, "failing": True, "fixed": 0}}
    s["actions"] = [{"at": end + ".000Z", "event": "PostToolUse" if last_ok else "PostToolUseFailure",
                     "tool": "Bash", "ok": last_ok, "attempt": loop}]
    return s


SESSIONS = [
    # agent, id, project key, model, start, end, tokens, cost
    ("claude", "c-w1-api", "api", SONNET, "2026-04-28T10:00:00", "2026-04-28T11:00:00", 1_000_000, 3.0),
    ("codex", "x-w1-api", "api", CODEX, "2026-04-30T14:00:00", "2026-04-30T14:30:00", 500_000, 1.0),
    ("claude", "c-w2-web", "web", OPUS, "2026-05-05T09:00:00", "2026-05-05T10:00:00", 400_000, 6.0),
    ("codex", "x-w2-web", "web", CODEX, "2026-05-06T11:00:00", "2026-05-06T13:00:00", 1_000_000, 2.0),
    ("claude", "c-w3-docs", "docs", SONNET, "2026-05-12T15:00:00", "2026-05-12T17:00:00", 1_000_000, 3.0),
    ("claude", "c-w3-api", "api", SONNET, "2026-05-13T10:00:00", "2026-05-13T11:00:00", 1_000_000, 3.0),
    ("claude", "c-w4-api", "api", OPUS, "2026-05-19T10:00:00", "2026-05-19T12:00:00", 1_000_000, 15.0),
    ("codex", "x-w4-api", "api", CODEX, "2026-05-20T09:00:00", "2026-05-20T09:15:00", 2_000_000, 5.0),
]


@pytest.fixture
def ledger(tmp_path):
    projects = {"api": str(make_repo(tmp_path / "api")), "web": str(tmp_path / "web"),
                "docs": "/home/dev/gone/docs"}
    (tmp_path / "web").mkdir()
    rows, costs = [], []
    for agent, sid, proj, model, start, end, tokens, cost in SESSIONS:
        for i, ts in enumerate((start, end)):
            rows.append(UsageRow(agent=agent, dedupe_key=f"{sid}-{i}", ts=ms(ts), session_id=sid,
                                 project=projects[proj], model=model, input_tokens=tokens // 2 - 1000,
                                 output_tokens=1000))
            costs.append((cost / 2, agent, f"{sid}-{i}"))
    store = Store()
    with store.transaction():
        store.upsert_calls(rows)
        store.db.executemany("UPDATE calls SET cost = ?, price_source = 'genai-prices', price_version = 'test' "
                             "WHERE agent = ? AND dedupe_key = ?", costs)
        for st in (
            guard_state("c-w1-api", *SESSIONS[0][4:6], calls={"Edit": 4, "Read": 6, "Bash": 2}, bugs_fixed=1),
            guard_state("c-w2-web", *SESSIONS[2][4:6], calls={"Bash": 8, "Edit": 2}, fails={"Bash": 6},
                        fast_tier=True, loop=5, tests_failed=3, last_ok=False),
            guard_state("c-w3-docs", *SESSIONS[4][4:6], calls={"Read": 20, "Grep": 5}),
            guard_state("c-w3-api", *SESSIONS[5][4:6], calls={"Edit": 3, "Bash": 2}),
            guard_state("c-w4-api", *SESSIONS[6][4:6], calls={"Edit": 5, "Read": 5}, tests_passed=20, bugs_fixed=2),
        ):
            signals.save(store.db, signals.from_guard_state(st))
    store.close()
    assert main(["value", "set", "x-w2-web", "--role", "frontend-engineer", "--hours", "1,2,4",
                 "--rate", "85,115,150", "--quality", "with-edits"]) == 0
    assert main(["categorize", "x-w2", "va", "--why", "shipped the signup form"]) == 0   # a unique prefix
    return projects


def run_json(capsys, *argv) -> dict:
    capsys.readouterr()
    assert main(["roi", *argv, "--json", "--no-ingest", "-z", "UTC"]) == 0
    return json.loads(capsys.readouterr().out)


def by_session(rows):
    return {r["session"]: r for r in rows}


def approx(r: dict, low, mid, high):
    return (r["low"], r["mid"], r["high"]) == pytest.approx((low, mid, high), abs=1e-3)


def test_json_has_every_view_and_ranges(ledger, capsys):
    data = run_json(capsys)
    for key in ("projects", "overlap", "agents", "weeks", "sessions_to_review", "human_equivalent", "variance"):
        assert key in data
    assert set(data["variance"]["cost"]) >= {"total", "volume", "mix", "rate"}
    for row in data["human_equivalent"]:
        assert {"agent", "project", "session", "category"} <= set(row)
        for k in ("value", "roi", "hours", "rate"):
            assert set(row[k]) == {"low", "mid", "high"}


def test_categories_with_reasons(ledger, capsys):
    s = by_session(run_json(capsys)["sessions"])
    assert {k: (v["category"], v["category_by"]) for k, v in s.items()} == {
        "c-w1-api": ("VA", "rules"), "x-w1-api": ("BVA", "rules"), "c-w2-web": ("NVA", "rules"),
        "x-w2-web": ("VA", "user"), "c-w3-docs": ("BVA", "rules"), "c-w3-api": ("NVA", "rules"),
        "c-w4-api": ("VA", "rules"), "x-w4-api": ("BVA", "rules")}
    assert s["c-w1-api"]["reasons"] == ["1 bug fixed", "1 commit in its window (+60/-0 lines)", "4 edits made"]
    assert s["x-w1-api"]["reasons"] == ["no tool signals recorded (codex sessions are not watched by the guard)",
                                        "no commits in its window"]
    assert s["c-w2-web"]["reasons"] == ["fast tier fired (a loop reached 5 attempts)",
                                        "abandoned: ended right after failures with no later success",
                                        "6 of 10 tool calls failed, nothing fixed, passed or committed"]
    assert s["x-w2-web"]["reasons"] == ["shipped the signup form"]
    assert s["c-w3-docs"]["reasons"] == ["reads and research only (25 reads, no edits)"]
    assert s["c-w3-api"]["reasons"] == ["1 commit of this session reverted later"]
    # S7's window holds the revert (10:10), its commit and the PR merge: 3 commits, 1 a revert
    assert s["c-w4-api"]["git"] == {"commits": 3, "prs": 1, "lines_added": 90, "lines_removed": 30, "reverts": 1}
    assert s["c-w4-api"]["reasons"][:3] == ["2 bugs fixed", "20 tests passing",
                                            "2 commits in its window (+90/-30 lines)"]
    assert s["c-w2-web"]["git"] is None and s["c-w3-docs"]["git"] is None
    assert s["c-w2-web"]["signals"]["source"] == "guard" and s["x-w1-api"]["signals"]["source"] == "none"


def test_human_equivalent_values_and_roi(ledger, capsys):
    h = by_session(run_json(capsys)["human_equivalent"])
    # S1 heuristic: 60 lines / 60 = 1 h + 1 bug x 0.5 h = 1.5 h (0.75-3); software engineer 90/120/160;
    # with-edits 0.7: value 0.75*90*0.7 = 47.25, 1.5*120*0.7 = 126, 3*160*0.7 = 336; ROI / $3
    s1 = h["c-w1-api"]
    assert (s1["via"], s1["role"], s1["quality"], s1["quality_factor"]) == (
        "heuristic", "software-engineer", "with-edits", 0.7)
    assert approx(s1["hours"], 0.75, 1.5, 3) and approx(s1["rate"], 90, 120, 160)
    assert approx(s1["value"], 47.25, 126, 336) and approx(s1["roi"], 15.75, 42, 112)
    # S2 BVA, no signals: 0.5 h active x 0.25 = 0.125 h; research analyst 60/80/110, draft-only 0.4
    # value 0.0625*60*0.4 = 1.5, 0.125*80*0.4 = 4, 0.25*110*0.4 = 11; ROI / $1
    assert h["x-w1-api"]["role"] == "research-analyst"
    assert approx(h["x-w1-api"]["value"], 1.5, 4, 11) and approx(h["x-w1-api"]["roi"], 1.5, 4, 11)
    # S4 the model's own estimate: 1/2/4 h at 85/115/150, with-edits: 59.5 / 161 / 420; ROI / $2
    s4 = h["x-w2-web"]
    assert (s4["via"], s4["role"], s4["category"]) == ("model-estimate", "frontend-engineer", "VA")
    assert approx(s4["value"], 59.5, 161, 420) and approx(s4["roi"], 29.75, 80.5, 210)
    # S3 failed and S6 harmful: value 0
    assert h["c-w2-web"]["quality"] == "failed" and h["c-w3-api"]["quality"] == "harmful"
    assert approx(h["c-w3-api"]["value"], 0, 0, 0) and approx(h["c-w3-api"]["roi"], 0, 0, 0)
    # S5 reads only: 2 h active x 0.25 = 0.5 h: 0.25*60*0.4 = 6, 0.5*80*0.4 = 16, 1*110*0.4 = 44
    assert approx(h["c-w3-docs"]["value"], 6, 16, 44)
    # S7: 120 changed lines / 60 = 2 h + 2 bugs x 0.5 + 20 tests x 0.01 = 3.2 h (1.6-6.4)
    # value 1.6*90*0.7 = 100.8, 3.2*120*0.7 = 268.8, 6.4*160*0.7 = 716.8; ROI / $15 = 17.92 mid
    assert approx(h["c-w4-api"]["hours"], 1.6, 3.2, 6.4)
    assert approx(h["c-w4-api"]["value"], 100.8, 268.8, 716.8) and h["c-w4-api"]["roi"]["mid"] == pytest.approx(17.92)
    # S8: 0.25 h x 0.25 = 0.0625 h, raised to the 0.1 h floor (0.05-0.2):
    # 0.05*60*0.4 = 1.2, 0.1*80*0.4 = 3.2, 0.2*110*0.4 = 8.8; ROI / $5 = 0.24, 0.64, 1.76
    assert approx(h["x-w4-api"]["hours"], 0.05, 0.1, 0.2)
    assert approx(h["x-w4-api"]["value"], 1.2, 3.2, 8.8) and approx(h["x-w4-api"]["roi"], 0.24, 0.64, 1.76)
    assert [r["date"] for r in run_json(capsys)["human_equivalent"]] == sorted(r["date"] for r in h.values())


def test_projects_overlap_and_agents(ledger, capsys):
    data = run_json(capsys)
    p = {r["name"]: r for r in data["projects"]}
    assert [r["name"] for r in data["projects"]] == ["api", "web", "docs"]         # by cost
    # api: S1 S2 S6 S7 S8 = $3+1+3+15+5 = $27; value mid 126+4+0+268.8+3.2 = 402,
    # low 47.25+1.5+0+100.8+1.2 = 150.75, high 336+11+0+716.8+8.8 = 1072.6; NVA $3/$27 = 11.11%
    api = p["api"]
    assert (api["sessions"], api["agents"], api["cost"]) == (5, ["claude", "codex"], 27.0)
    assert approx(api["value"], 150.75, 402, 1072.6)
    assert api["roi"]["mid"] == pytest.approx(402 / 27, abs=1e-3) and api["nva_pct"] == pytest.approx(11.11)
    # web: S3 $6 NVA + S4 $2: value 161, NVA 6/8 = 75%
    assert (p["web"]["cost"], p["web"]["value"]["mid"], p["web"]["nva_pct"]) == (8.0, 161.0, 75.0)
    assert p["docs"]["project"] == "/home/dev/gone/docs" and p["docs"]["nva_pct"] == 0.0
    # overlap: api claude $3+3+15 = $21 vs codex $1+5 = $6; web claude $6 vs codex $2
    assert [(o["name"], o["primary_agent"], o["primary_cost"], o["others"], o["recoverable"])
            for o in data["overlap"]] == [
        ("api", "claude", 21.0, [{"agent": "codex", "cost": 6.0, "sessions": 2}], 6.0),
        ("web", "claude", 6.0, [{"agent": "codex", "cost": 2.0, "sessions": 1}], 2.0)]
    # agents: claude S1 S3 S5 S6 S7 $30, value 126+0+16+0+268.8 = 410.8, NVA (6+3)/30 = 30%;
    # codex S2 S4 S8 $8, value 4+161+3.2 = 168.2
    a = {r["agent"]: r for r in data["agents"]}
    assert (a["claude"]["sessions"], a["claude"]["cost"], a["claude"]["value"]["mid"], a["claude"]["nva_pct"]) == (
        5, 30.0, pytest.approx(410.8), 30.0)
    assert (a["codex"]["sessions"], a["codex"]["cost"], a["codex"]["value"]["mid"]) == (3, 8.0, pytest.approx(168.2))
    assert a["codex"]["roi"]["mid"] == pytest.approx(168.2 / 8, abs=1e-4)


def test_weeks_with_git_figures_from_the_repository(ledger, capsys):
    w = {r["week"]: r for r in run_json(capsys)["weeks"]}
    assert list(w) == ["2026-04-27", "2026-05-04", "2026-05-11", "2026-05-18"]
    # W1: S1 + S2 $4, value 126 + 4 = 130; git: "add parser" (+60) in S1's window
    assert (w["2026-04-27"]["cost"], w["2026-04-27"]["value"]["mid"]) == (4.0, 130.0)
    assert {k: w["2026-04-27"][k] for k in ("prs", "commits", "lines_added", "reverts")} == {
        "prs": 0, "commits": 1, "lines_added": 60, "reverts": 0}
    # W2: only the web folder (not a repository): blanks, not zeros
    assert [w["2026-05-04"][k] for k in ("prs", "commits", "lines_added", "reverts")] == [None] * 4
    # W3: S6 "add cache" +30 (the revert is a week later); docs is gone, api counts
    assert (w["2026-05-11"]["commits"], w["2026-05-11"]["lines_added"]) == (1, 30)
    # W4: revert + export + PR merge; $15 + $5 = $20, value 268.8 + 3.2 = 272, ROI 13.6
    w4 = w["2026-05-18"]
    assert (w4["commits"], w4["prs"], w4["lines_added"], w4["lines_removed"], w4["reverts"]) == (3, 1, 90, 30, 1)
    assert w4["cost"] == 20.0 and w4["roi"]["mid"] == pytest.approx(13.6)


def test_sessions_to_review(ledger, capsys):
    rows = run_json(capsys)["sessions_to_review"]
    # S3 failed ($6), S8 ROI 0.64 ($5), S6 harmful ($3); S2's ROI is 4x, S4's 80x: not listed
    assert [(r["session"], r["agent"], r["name"], r["category"], r["quality"]) for r in rows] == [
        ("c-w2-web", "claude", "web", "NVA", "failed"), ("x-w4-api", "codex", "api", "BVA", "draft-only"),
        ("c-w3-api", "claude", "api", "NVA", "harmful")]
    assert rows[0]["what_happened"] == ("10 tool calls, 6 failed; loop of 5 attempts; fast tier fired; "
                                        "tests 0 passed / 3 failing; 2 edits, 0 reads; abandoned after failures")
    assert rows[1]["what_happened"] == "2 API calls over 15 min, no tool signals"
    assert rows[2]["what_happened"].endswith("1 commit; 1 reverted later")
    assert rows[0]["date"] == "2026-05-05" and rows[0]["cost"] == 6.0


def test_variance_split_adds_up_exactly(ledger, capsys):
    v = run_json(capsys)["variance"]
    assert v["week"] == "2026-05-18" and v["baseline_weeks"] == ["2026-04-27", "2026-05-04", "2026-05-11"]
    c = v["cost"]
    # baseline = average week of W1-W3 = ($4 + $8 + $6) / 3 = $6; latest $15 + $5 = $20: +$14
    assert (c["baseline"], c["actual"], c["total"]) == (pytest.approx(6), pytest.approx(20), pytest.approx(14))
    # per average baseline week: sonnet 1M $3 (3e-6/token), opus 0.4M/3 $2 (15e-6), codex 0.5M $1 (2e-6);
    # B = 49/30 M tokens, A = 3M. volume = (A/B - 1) * $6 = 6 * 41/49 = 246/49
    assert c["volume"] == pytest.approx(246 / 49, abs=1e-6)
    # mix = A * sum (a/A - b/B) * p = 3 * (-(30/49)*3 + (1/3 - 4/49)*15 + (2/3 - 15/49)*2) = 1173/147
    assert c["mix"] == pytest.approx(1173 / 147, abs=1e-6)
    # rate: opus at 15e-6 as before; codex now $5 / 2M = 2.5e-6 vs 2e-6: 0.5e-6 * 2M = $1
    assert c["rate"] == pytest.approx(1.0, abs=1e-6)
    assert c["volume"] + c["mix"] + c["rate"] == pytest.approx(c["total"], abs=1e-6)
    assert c["percent"] == pytest.approx(1400 / 6, abs=1e-3) and c["alert"] and not c["favourable"]
    # tokens 49/30 M -> 3M: +83.67 %
    assert v["tokens"]["percent"] == pytest.approx((3 - 49 / 30) / (49 / 30) * 100, abs=1e-4)
    # NVA %: baseline sessions cost $18, NVA S3 $6 + S6 $3 = 50 %; latest 0 %: favourable
    assert (v["nva_pct"]["baseline"], v["nva_pct"]["actual"], v["nva_pct"]["favourable"]) == (50.0, 0.0, True)
    # ROI: baseline (126 + 4 + 0 + 161 + 16 + 0) / 18 = 307/18; latest 272 / 20 = 13.6: -20.26 %
    r = v["roi"]
    assert (r["baseline"], r["actual"]) == (pytest.approx(307 / 18, abs=1e-6), pytest.approx(13.6))
    assert r["percent"] == pytest.approx((13.6 - 307 / 18) / (307 / 18) * 100, abs=1e-4) and r["alert"]
    # per agent: codex 0.5M $1 -> 2M $5: volume 1.5M * 2e-6 = $3, rate $1, mix 0
    codex = next(a for a in v["agents"] if a["agent"] == "codex")["cost"]
    assert (codex["total"], codex["volume"], codex["mix"], codex["rate"]) == pytest.approx((4, 3, 0, 1), abs=1e-9)
    claude = next(a for a in v["agents"] if a["agent"] == "claude")["cost"]
    assert claude["total"] == pytest.approx(15 - 5) and \
        claude["volume"] + claude["mix"] + claude["rate"] == pytest.approx(claude["total"], abs=1e-9)
    for p in v["projects"]:
        if p["cost"]:
            parts = p["cost"]["volume"] + p["cost"]["mix"] + p["cost"]["rate"]
            assert parts == pytest.approx(p["cost"]["total"], abs=1e-9)
    assert any(a.startswith("silent regression: cost of all agents up 233.3%") for a in v["alerts"])
    assert any(a.startswith("silent regression: ROI of all agents down 20.3%") for a in v["alerts"])


def test_variance_threshold_from_the_config(ledger, capsys, tmp_path, monkeypatch):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("variance:\n  threshold_percent: 25\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(cfg))
    data = run_json(capsys)
    assert data["variance"]["threshold_percent"] == 25
    assert not data["variance"]["roi"]["alert"] and data["variance"]["cost"]["alert"]   # -20.26 % is within 25 %
    cfg.write_text("benchmark:\n  region: uk\n  seniority: mid\n")
    data = run_json(capsys)
    # heuristic values scale by 0.65 x 0.75 = 0.4875, the model's own estimate (S4) does not:
    # baseline (146 x 0.4875 + 161) / 18 = 12.899; latest 272 x 0.4875 / 20 = 6.63: -48.6 %
    assert data["variance"]["roi"]["percent"] == pytest.approx((6.63 - 232.175 / 18) / (232.175 / 18) * 100, abs=1e-3)
    # uk 0.65 x mid 0.75: software engineer 90/120/160 -> 43.875/58.5/78
    assert approx(by_session(data["human_equivalent"])["c-w1-api"]["rate"], 43.875, 58.5, 78)
    # the model's own rate stays as recorded
    assert approx(by_session(data["human_equivalent"])["x-w2-web"]["rate"], 85, 115, 150)


def test_filters_apply(ledger, capsys):
    data = run_json(capsys, "--agent", "codex")
    assert {r["agent"] for r in data["human_equivalent"]} == {"codex"} and data["overlap"] == []
    data = run_json(capsys, "--project", "web", "--since", "2026-05-06")
    assert [r["session"] for r in data["human_equivalent"]] == ["x-w2-web"]


def test_terminal_tables_fit_100_columns(ledger, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["roi", "--no-ingest", "-z", "UTC"]) == 0
    out = capsys.readouterr().out
    for title in ("Projects as value streams", "Overlap:", "Agents", "Weeks", "Sessions to look at",
                  "Human-equivalent value", "Variance:"):
        assert title in out
    table_lines = [line for line in out.splitlines() if not line.startswith(("silent regression", "Latest week",
                                                                            "Via:", "Primary =", "Git figures"))]
    assert max(len(line) for line in table_lines) <= 100
    assert "ALERT" in out
    assert main(["roi", "overlap", "--no-ingest", "-z", "UTC"]) == 0
    only = capsys.readouterr().out
    assert only.startswith("Overlap: projects where two or more agents worked") and "Weeks" not in only


def test_markdown_file(ledger, capsys, tmp_path):
    out = tmp_path / "report.md"
    assert main(["roi", "--no-ingest", "-z", "UTC", "--markdown", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# token-roi: value and ROI")
    for heading in ("## Projects as value streams", "## Overlap", "## Agents", "## Weeks", "## Sessions to look at",
                    "## Human-equivalent value", "## Variance"):
        assert heading in text
    assert "| api | 5 | claude, codex | $27.00 | $402 (151–1,073) | 14.9× (5.58–39.7) | 11.1% |" in text
    assert "| api | claude | $21.00 | codex $6.00 | $6.00 |" in text
    assert "wrote" in capsys.readouterr().err


def test_categorize_override_and_clear(ledger, capsys):
    assert main(["categorize", "c-w3-docs", "NVA", "--why", "research we threw away"]) == 0
    s = by_session(run_json(capsys)["sessions"])["c-w3-docs"]
    assert (s["category"], s["category_by"], s["reasons"]) == ("NVA", "user", ["research we threw away"])
    assert main(["categorize", "c-w3-docs", "--clear"]) == 0
    s = by_session(run_json(capsys)["sessions"])["c-w3-docs"]
    assert (s["category"], s["category_by"]) == ("BVA", "rules")


@pytest.mark.parametrize("argv, needle", [
    (["categorize", "c-w3-docs", "XVA", "--why", "x"], "category 'XVA': expected VA, NVA or BVA"),
    (["categorize", "c-w3-docs", "VA"], "--why: give the reason"),
    (["categorize", "nope-123", "VA", "--why", "x"], "session 'nope-123': not in the ledger"),
    (["categorize", "c-w", "VA", "--why", "x"], "session 'c-w': not in the ledger"),  # too short a prefix
    (["categorize", "c-w3", "VA", "--why", "x"], "is ambiguous (claude:c-w3-"),
    (["value", "set", "c-w1-api", "--role", "software-engineer", "--hours", "4,2,1", "--quality", "with-edits"],
     "--hours '4,2,1': expected low <= mid <= high"),
    (["value", "set", "c-w1-api", "--role", "software-engineer", "--hours", "1,2", "--quality", "with-edits"],
     "--hours '1,2': expected three numbers low,mid,high"),
    (["value", "set", "c-w1-api", "--role", "software-engineer", "--hours", "a,b,c", "--quality", "with-edits"],
     "--hours 'a,b,c': expected numbers"),
    (["value", "set", "c-w1-api", "--role", "software-engineer", "--hours", "1,-2,3", "--quality", "with-edits"],
     "must be finite and not negative"),
    (["value", "set", "c-w1-api", "--role", "software-engineer", "--hours", "1,2,3", "--quality", "great"],
     "--quality 'great': expected one of full-replacement, with-edits, draft-only, failed"),
    (["value", "set", "c-w1-api", "--role", "wizard", "--hours", "1,2,3", "--quality", "failed"],
     "--role 'wizard': unknown role (known: software-engineer,"),
    (["value", "set", "c-w1-api", "--hours", "1,2,3"], "value set needs --role, --quality"),
    (["value", "set", "c-w1-api", "--role", "qa-engineer", "--hours", "1,2,3", "--rate", "90,80,100",
      "--quality", "draft-only"], "--rate '90,80,100': expected low <= mid <= high"),
])
def test_bad_input_is_one_line(ledger, capsys, argv, needle):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_value_set_default_rate_show_and_clear(ledger, capsys):
    capsys.readouterr()
    assert main(["value", "set", "c-w3-docs", "--role", "technical-writer", "--hours", "2", "--quality",
                 "full-replacement", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    # 2 h at the shipped technical-writer rate 55/75/100 (us-west, senior), quality 1.0; cost $3
    assert row["via"] == "model-estimate" and approx(row["rate"], 55, 75, 100)
    assert approx(row["value"], 110, 150, 200) and approx(row["roi"], 110 / 3, 50, 200 / 3)
    assert main(["value", "show", "c-w3-docs"]) == 0
    assert "via model-estimate" in capsys.readouterr().out
    assert main(["value", "clear", "c-w3-docs"]) == 0
    assert "via heuristic" in capsys.readouterr().out


def test_not_a_git_project_and_no_git_option(ledger, capsys):
    data = run_json(capsys, "--no-git")
    assert all(w["commits"] is None for w in data["weeks"])
    # without git S6's revert is unknown: the rules see 3 edits and call it VA
    assert by_session(data["sessions"])["c-w3-api"]["category"] == "VA"


def test_empty_ledger(capsys):
    assert main(["roi", "--json", "--no-ingest"]) == 0
    cap = capsys.readouterr()
    data = json.loads(cap.out)
    assert data["projects"] == [] and data["overlap"] == [] and data["agents"] == [] and data["weeks"] == []
    assert data["sessions_to_review"] == [] and data["human_equivalent"] == []
    assert data["variance"]["week"] is None and data["variance"]["cost"] is None
    assert "No sessions in the ledger yet" in cap.err
    assert main(["roi"]) == 0                        # with ingest, nothing found: still one plain line
    assert "No sessions in the ledger yet" in capsys.readouterr().out
    assert main(["roi", "--markdown", "-", "--no-ingest"]) == 0
    assert "Nothing to show." in capsys.readouterr().out


def test_report_api_directly(ledger):
    store = Store()
    try:
        report = roi.build(store, Filters(), dt.timezone.utc, {})
    finally:
        store.close()
    assert len(report.sessions) == 8
    assert sum(s.cost for s in report.sessions) == pytest.approx(38.0)


def test_unpriced_calls_are_flagged_never_a_plain_zero(capsys, monkeypatch):
    store = Store()
    rows = [UsageRow(agent="claude", dedupe_key=f"u{i}", ts=ms(f"2026-05-19T10:0{i}:00"), session_id=sid,
                     project="/home/dev/gone/x", model=model, input_tokens=1000, output_tokens=10)
            for i, (sid, model) in enumerate([("mystery", "mystery-model-x"), ("mixed", "mystery-model-x"),
                                              ("mixed", SONNET)])]
    with store.transaction():
        store.upsert_calls(rows)
        store.db.execute("UPDATE calls SET cost = NULL, price_source = 'unpriced', price_version = 'test'")
        store.db.execute("UPDATE calls SET cost = 0.5, price_source = 'genai-prices' WHERE model = ?", (SONNET,))
    store.close()
    data = run_json(capsys)
    h = by_session(data["human_equivalent"])
    # every call unpriced: the cost is unknown, so no ROI at all; partly priced: ROI on what is known
    assert h["mystery"]["roi"] is None and h["mystery"]["unpriced_calls"] == 1
    assert h["mixed"]["unpriced_calls"] == 1 and h["mixed"]["roi"] is not None
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["roi", "human", "--no-ingest", "-z", "UTC"]) == 0
    out = capsys.readouterr().out
    assert "$0.00*" in out and "$0.50*" in out
    assert "* includes unpriced calls: tokens counted, cost unknown (cost and ROI understated)." in out


def test_variance_of_a_chosen_week(ledger, capsys):
    # W3 (any day of it) against W2, W1 and the empty week before: baseline ($8 + $4 + $0) / 3 = $4;
    # latest W3 $6 (sonnet 2M): +$2
    v = run_json(capsys, "--week", "2026-05-14")["variance"]
    assert v["week"] == "2026-05-11" and v["baseline_weeks"] == ["2026-04-20", "2026-04-27", "2026-05-04"]
    c = v["cost"]
    assert (c["baseline"], c["actual"], c["total"]) == (pytest.approx(4), pytest.approx(6), pytest.approx(2))
    assert c["volume"] + c["mix"] + c["rate"] == pytest.approx(2, abs=1e-9)
    capsys.readouterr()
    assert main(["roi", "--week", "someday", "--no-ingest"]) == 2
    assert "--week 'someday': expected a date" in capsys.readouterr().err
