"""The report commands end to end: options, errors, empty ledger, filters and order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reports_data import call, make_store

from token_roi.cli import main


def token_roi_exe() -> str:
    exe = shutil.which("token-roi") or str(Path(sys.executable).parent / "token-roi")
    assert os.path.exists(exe), "the token-roi console script is not installed"
    return exe


@pytest.mark.parametrize("argv, needle", [
    (["daily", "--since", "2026-13-01"], "--since '2026-13-01': expected a date as YYYY-MM-DD or YYYYMMDD"),
    (["weekly", "--until", "20261301"], "--until '20261301'"),
    (["monthly", "--since", "yesterday"], "--since 'yesterday'"),
    (["session", "--since", "2026-05-02", "--until", "20260501"], "--since 2026-05-02 is after --until 2026-05-01"),
    (["blocks", "--agent", "claud"], "--agent 'claud': unknown agent (valid: claude, codex,"),
    (["daily", "--agent", "claude,nope"], "--agent 'nope'"),
    (["daily", "-z", "Mars/Olympus"], "--timezone 'Mars/Olympus': not a known IANA time zone"),
])
def test_bad_arguments_are_one_line_errors_with_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_since_through_the_installed_command():
    p = subprocess.run([token_roi_exe(), "daily", "--since", "2026-02-30"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert p.stderr == "token-roi: --since '2026-02-30': expected a date as YYYY-MM-DD or YYYYMMDD\n"
    assert p.stdout == ""


def test_empty_ledger_says_so_and_points_at_the_demo(capsys):
    assert main(["daily"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("No agent usage found")
    assert "~/.claude/projects" in out and "token-roi demo" in out


def test_empty_ledger_names_the_folders_it_searched(tmp_path, monkeypatch, capsys):
    (tmp_path / "cc" / "projects").mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cc"))
    assert main(["session", "--agent", "claude"]) == 0
    out = capsys.readouterr().out
    assert f"searched {tmp_path / 'cc' / 'projects'}" in out and "token-roi demo" in out


def test_empty_json_keeps_ccusage_shape_and_stdout_clean(capsys):
    assert main(["weekly", "--json"]) == 0
    cap = capsys.readouterr()
    data = json.loads(cap.out)
    assert data["weekly"] == [] and data["totals"]["totalTokens"] == 0 and data["totals"]["totalCost"] == 0
    assert "No agent usage found" in cap.err
    assert main(["blocks", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"blocks": []}


@pytest.fixture
def ledger():
    store = make_store([
        call("2026-05-01T10:00:00Z", project="/home/u/alpha", inp=1, out=10),
        call("2026-05-02T10:00:00Z", project="/home/u/beta", inp=2, out=20, model="claude-opus-4-5"),
        call("2026-05-03T10:00:00Z", project="/home/u/beta", inp=4, out=40, model="mystery-model-x", cost=None),
        call("2026-05-03T11:00:00Z", project="/srv/gamma", agent="codex", model="gpt-5-codex", inp=8, out=80,
             session="codex-1"),
    ])
    store.close()


def run_json(capsys, *argv) -> dict:
    assert main(list(argv) + ["--json", "-z", "UTC"]) == 0
    return json.loads(capsys.readouterr().out)


def test_filters_order_and_formats(ledger, capsys):
    data = run_json(capsys, "daily")
    assert [(d["date"], d["inputTokens"]) for d in data["daily"]] == [
        ("2026-05-01", 1), ("2026-05-02", 2), ("2026-05-03", 12)]
    assert data["totals"]["agents"] == ["claude", "codex"]
    data = run_json(capsys, "daily", "--order", "desc")
    assert [d["date"] for d in data["daily"]] == ["2026-05-03", "2026-05-02", "2026-05-01"]
    data = run_json(capsys, "daily", "--since", "20260502", "--until", "2026-05-02")
    assert [d["date"] for d in data["daily"]] == ["2026-05-02"]
    data = run_json(capsys, "daily", "--project", "beta")
    assert data["totals"]["inputTokens"] == 6
    data = run_json(capsys, "daily", "--agent", "codex")
    assert data["totals"]["inputTokens"] == 8 and data["totals"]["agents"] == ["codex"]
    data = run_json(capsys, "monthly", "--agent", "claude", "--agent", "codex")
    assert data["monthly"][0]["month"] == "2026-05" and data["monthly"][0]["inputTokens"] == 15


def test_unpriced_model_flagged_in_json_and_table(ledger, capsys):
    data = run_json(capsys, "daily", "--agent", "claude")
    may3 = data["daily"][-1]
    assert may3["unpricedModels"] == ["mystery-model-x"]
    assert [m.get("missingPricing") for m in may3["modelBreakdowns"]] == [True]
    assert data["totals"]["unpricedModels"] == ["mystery-model-x"]
    assert main(["daily", "--agent", "claude", "-z", "UTC", "--breakdown"]) == 0
    out = capsys.readouterr().out
    assert "* includes unpriced model mystery-model-x: tokens counted, cost unknown" in out
    assert any(line.startswith("2026-05-03") and line.endswith("n/a*") for line in out.splitlines())
    assert any("└ opus-4-5" in line for line in out.splitlines())


def test_session_and_blocks_commands(ledger, capsys):
    data = run_json(capsys, "session", "--order", "desc")
    assert [(s["sessionId"], s["agent"], s["projectPath"]) for s in data["sessions"]] == [
        ("codex-1", "codex", "/srv/gamma"), ("sess-1", "claude", "/home/u/beta")]
    assert data["sessions"][1]["firstActivity"] == "2026-05-01T10:00:00.000Z"
    data = run_json(capsys, "blocks", "--agent", "claude")
    assert [b["id"] for b in data["blocks"]] == [
        "2026-05-01T10:00:00.000Z", "gap-2026-05-01T15:00:00.000Z", "2026-05-02T10:00:00.000Z",
        "gap-2026-05-02T15:00:00.000Z", "2026-05-03T10:00:00.000Z"]
    assert main(["blocks", "--active"]) == 0
    assert capsys.readouterr().out.startswith("No active block")


def test_no_match_for_filters_is_distinct_from_no_data(ledger, capsys):
    assert main(["daily", "--project", "nowhere"]) == 0
    assert capsys.readouterr().out == "No usage matches these filters.\n"


def test_weekly_start_of_week_option(ledger, capsys):
    assert [w["week"] for w in run_json(capsys, "weekly")["weekly"]] == ["2026-04-27"]
    assert [w["week"] for w in run_json(capsys, "weekly", "--start-of-week", "sunday")["weekly"]] == [
        "2026-04-26", "2026-05-03"]


def test_default_zone_is_the_system_zone_with_its_dst_rules(monkeypatch, capsys):
    # Summer and winter in Berlin: a fixed offset (today's) would get one of these days wrong.
    make_store([call("2026-07-01T22:30:00Z", inp=1), call("2026-01-01T23:30:00Z", inp=2)]).close()
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert main(["daily", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["date"], d["inputTokens"]) for d in data["daily"]] == [("2026-01-02", 2), ("2026-07-02", 1)]


def test_utc_by_any_of_its_names_gives_the_same_report(ledger, capsys, monkeypatch):
    # "UTC" and "Etc/UTC" are answered without the zone database; its own UTC aliases (and TZ)
    # must agree with them to the byte, and a name the database does not know is still an error.
    outputs = []
    for zone in ("UTC", "Etc/UTC", "Etc/UCT", "Universal"):
        assert main(["daily", "--json", "--breakdown", "-z", zone]) == 0
        outputs.append(capsys.readouterr().out)
    monkeypatch.setenv("TZ", "UTC")
    assert main(["weekly", "--json"]) == 0
    tz_env = capsys.readouterr().out
    assert main(["weekly", "--json", "-z", "Etc/UCT"]) == 0
    assert tz_env == capsys.readouterr().out
    assert len(set(outputs)) == 1 and '"2026-05-03"' in outputs[0]
    assert main(["daily", "-z", "utc"]) == 2
    assert "not a known IANA time zone" in capsys.readouterr().err
