"""`token-roi demo`: sample data, its own ledger, the real reports, and the user's data untouched."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from token_roi import paths
from token_roi.cli import demo as demo_cmd
from token_roi.cli import main


def _run(capsys, *argv):
    code = main(["demo", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _real_session(config_dir: Path) -> None:
    """One real-looking call in the user's own Claude Code logs: the demo must never count it."""
    d = config_dir / "projects" / "-home-u-mine"
    d.mkdir(parents=True)
    line = {"parentUuid": None, "isSidechain": False, "message": {
        "model": "claude-opus-4-6", "id": "msg_01UserOwnCall", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 777777, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 1}}, "requestId": "req_011CUserOwn", "type": "assistant", "uuid": "u1",
        "timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "cwd": "/home/u/mine", "sessionId": "s-mine", "version": "2.1.126", "gitBranch": "main"}
    (d / "s-mine.jsonl").write_text(json.dumps(line, separators=(",", ":")) + "\n")


def test_demo_json_reports_exactly_the_sample_and_nothing_else(capsys, monkeypatch, tmp_path, isolated_home):
    users_logs = tmp_path / "users-claude"
    _real_session(users_logs)
    _real_session(Path(os.environ["HOME"]) / ".claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(users_logs))
    built = {}
    original_build = demo_cmd.build

    def keep(base, **kw):
        built["demo"] = original_build(base, **kw)
        return built["demo"]

    monkeypatch.setattr(demo_cmd, "build", keep)
    code, out, err = _run(capsys, "--json", "-z", "UTC")
    assert code == 0, err
    report = json.loads(out)
    expected = built["demo"].tree.expected
    totals = report["totals"]
    assert (totals["inputTokens"], totals["outputTokens"], totals["cacheCreationTokens"],
            totals["cacheReadTokens"], totals["totalTokens"]) == (
        expected.input, expected.output, expected.cache_creation, expected.cache_read, expected.total)
    assert len(report["daily"]) >= 15                              # a few weeks of data
    two_hours_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2, minutes=5)
    assert report["daily"][-1]["date"] >= two_hours_ago.date().isoformat()    # dated to end today
    assert "claude-nimbus-5-20261001" in totals.get("unpricedModels", [])
    assert "Your own ledger is not touched" in err
    # the user's ledger was never created, the demo's lives under the data dir; env restored
    assert not (isolated_home / "ledger.sqlite3").exists()
    assert (paths.data_dir() / "demo" / "home" / "ledger.sqlite3").exists()
    assert os.environ["CLAUDE_CONFIG_DIR"] == str(users_logs)
    assert os.environ["TOKEN_ROI_HOME"] == str(isolated_home)


def test_every_report_runs_on_the_demo(capsys):
    code, out, _ = _run(capsys)
    assert code == 0 and "Total" in out and "$" in out
    code, out, _ = _run(capsys, "weekly", "--breakdown", "-w", "sunday")
    assert code == 0 and "Week" in out
    code, out, _ = _run(capsys, "monthly", "--json")
    assert code == 0 and json.loads(out)["monthly"]
    code, out, _ = _run(capsys, "session", "--json", "--order", "desc")
    sessions = json.loads(out)["sessions"]
    assert code == 0 and len(sessions) > 20
    assert {"sessionId", "projectPath", "firstActivity", "lastActivity"} <= set(sessions[0])
    code, out, _ = _run(capsys, "blocks", "--active")      # the demo's last session started 2 h ago
    assert code == 0 and "ACTIVE" in out


def test_running_twice_rebuilds_instead_of_doubling(capsys):
    _, first, _ = _run(capsys, "--json", "-z", "UTC")
    _, second, _ = _run(capsys, "--json", "-z", "UTC")
    a, b = json.loads(first)["totals"], json.loads(second)["totals"]
    assert a["totalTokens"] == b["totalTokens"] > 0
    assert a["inputTokens"] == b["inputTokens"]


def test_a_foreign_demo_folder_is_never_deleted(capsys):
    foreign = paths.data_dir() / "demo"
    foreign.mkdir(parents=True)
    (foreign / "keep.txt").write_text("mine")
    code, out, err = _run(capsys)
    assert code != 0 and "not a token-roi demo folder" in err and len(err.strip().splitlines()) == 1
    assert (foreign / "keep.txt").read_text() == "mine"


def test_bad_report_options_are_one_line_errors(capsys):
    code, _, err = _run(capsys, "-z", "Mars/Olympus")
    assert code == 2 and "--timezone" in err and "Traceback" not in err
    code, _, err = _run(capsys, "blocks", "--no-such-flag")
    assert code == 2 and "demo blocks" in err.splitlines()[-1]
