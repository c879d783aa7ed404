"""`token-roi statusline` as Claude Code runs it: its status JSON on stdin, one line out, the
rate-limit snapshot recorded (deduplicated), whatever the input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from token_roi.guard import quota
from token_roi.ingest import ingest
from token_roi.limits import snapshots
from token_roi.store import Store

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SID = "5b7e2c1a-0d3f-4e8a-9b6c-1f2e3d4c5b6a"


def status(now: int, *, five=42, seven=18.5, rate_limits=True, **extra) -> dict:
    """Claude Code's status JSON (2.1.80+ field names)."""
    payload = {"hook_event_name": "Status", "session_id": SID, "transcript_path": "/tmp/t.jsonl",
               "cwd": "/home/dev/acme", "model": {"id": "claude-opus-4-1", "display_name": "Opus 4.1"},
               "workspace": {"current_dir": "/home/dev/acme", "project_dir": "/home/dev/acme"},
               "version": "2.1.97", "cost": {"total_cost_usd": 9.99, "total_duration_ms": 1000}}
    if rate_limits:
        limits = {}
        if five is not None:
            limits["five_hour"] = {"used_percentage": five, "resets_at": now + 7200}
        if seven is not None:
            limits["seven_day"] = {"used_percentage": seven, "resets_at": now + 400_000}
        payload["rate_limits"] = limits
    payload.update(extra)
    return payload


def run_cli(stdin: bytes | str | dict, *, via: str = "cli", **env_extra: str) -> subprocess.CompletedProcess:
    if isinstance(stdin, dict):
        stdin = json.dumps(stdin)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    env = dict(os.environ, TOKEN_ROI_STATUSLINE_NO_REFRESH="1", **env_extra)
    env.pop("NO_COLOR", None)
    env.update(env_extra)
    if via == "cli":
        argv = [sys.executable, "-c", "from token_roi.cli import entry; entry()", "statusline"]
    else:           # what `setup claude --statusline` writes for a plugin or source checkout
        argv = ["/bin/sh", str(REPO / "hooks" / "run"), "-S", "-E", str(REPO / "hooks" / "statusline.py")]
        env["TOKEN_ROI_PYTHON"] = sys.executable
    return subprocess.run(argv, input=data, capture_output=True, env=env, timeout=60)


def spool_lines() -> list[dict]:
    try:
        return [json.loads(line) for line in Path(quota.spool_path()).read_text().splitlines()]
    except FileNotFoundError:
        return []


@pytest.mark.parametrize("via", ["cli", "plugin"])
def test_line_with_rate_limits_and_the_snapshot_recorded(via):
    now = int(time.time())
    proc = run_cli(status(now), via=via, NO_COLOR="1")
    assert proc.returncode == 0 and proc.stderr == b""
    line = proc.stdout.decode()
    assert line.count("\n") == 1
    assert "\x1b[" not in line
    assert line.startswith("Opus 4.1 · ")
    assert "5h 42% →" in line and "7d 18%" in line
    assert "↺1h59m" in line or "↺2h00m" in line           # resets_at is two hours away
    assert "$9.99" not in line                         # Claude Code's own estimate is not our figure
    spool = spool_lines()
    assert [(s["window"], s["used_percentage"]) for s in spool] == [("five_hour", 42.0), ("seven_day", 18.5)]
    assert all(s["agent"] == "claude" and s["source"] == "statusline" and s["session_id"] == SID for s in spool)
    assert set(spool[0]) == {"agent", "window", "used_percentage", "resets_at", "captured_at", "source", "session_id"}


def test_the_same_figure_is_recorded_once_and_a_change_is_appended():
    now = int(time.time())
    for _ in range(3):
        assert run_cli(status(now), NO_COLOR="1").returncode == 0
    assert len(spool_lines()) == 2
    run_cli(status(now, five=43), NO_COLOR="1")
    assert [(s["window"], s["used_percentage"]) for s in spool_lines()] == [
        ("five_hour", 42.0), ("seven_day", 18.5), ("five_hour", 43.0)]
    # The next ingest moves the spool into the ledger table, once.
    store = Store()
    try:
        ingest(store, show_progress=False)
        ingest(store, show_progress=False)
        rows = snapshots.history(store.db)
    finally:
        store.close()
    assert [(r.window, r.used_percentage) for r in rows] == [
        ("five_hour", 42.0), ("seven_day", 18.5), ("five_hour", 43.0)]
    assert not Path(quota.spool_path()).exists()


def test_without_rate_limits_the_line_still_has_model_and_cost():
    """API-key users and a session before its first response: no rate_limits at all."""
    proc = run_cli(status(int(time.time()), rate_limits=False), NO_COLOR="1")
    line = proc.stdout.decode().strip()
    assert proc.returncode == 0
    assert line == "Opus 4.1 · $— session · 5h —"
    assert spool_lines() == []


def test_an_absent_window_is_left_out():
    now = int(time.time())
    line = run_cli(status(now, seven=None), NO_COLOR="1").stdout.decode()
    assert "5h 42%" in line and "7d" not in line
    assert [s["window"] for s in spool_lines()] == ["five_hour"]


@pytest.mark.parametrize("stdin", [b"", b"not json at all", b"[1, 2]", b'{"model": 7, "rate_limits": "x"}',
                                   b'{"rate_limits": {"five_hour": {"used_percentage": "lots"}}}', b"\xff\xfe{"])
def test_garbage_gives_one_line_exit_0_and_a_log_entry(stdin):
    proc = run_cli(stdin, NO_COLOR="1")
    assert proc.returncode == 0 and proc.stderr == b""
    out = proc.stdout.decode()
    assert out.count("\n") == 1 and out.strip()
    log = (Path(os.environ["TOKEN_ROI_HOME"]) / "token-roi.log").read_text()
    assert " statusline " in log


def test_colours_no_color_and_the_narrow_form():
    now = int(time.time())
    coloured = run_cli(status(now, five=95), TERM="xterm-256color").stdout.decode()
    assert "\x1b[31m5h 95%" in coloured                     # red past 90%
    assert ANSI.sub("", coloured).startswith("Opus 4.1 · ")
    plain = run_cli(status(now, five=95), NO_COLOR="1").stdout.decode()
    assert "\x1b" not in plain
    narrow = run_cli(status(now, five=95), NO_COLOR="1", COLUMNS="50").stdout.decode().strip()
    assert narrow == "Opus 4.1 $— 5h 95% 7d 18%"
    assert len(narrow) < 50


def test_session_cost_from_the_guard_state_and_today_from_the_cache(tmp_path):
    from token_roi.guard import state as st
    now = int(time.time())
    day = time.strftime("%Y-%m-%d", time.localtime(now))
    s = st.new_state(SID)
    s.update(cost_usd=3.25, cost_by_day={day: 1.0}, loop_attempts={"Bash": 4})
    st.save(st.session_path(SID), s)
    # The last refresh saw $10.00 today, $1.50 of it this session's; the state says $2.25 now.
    Path(quota.limits_dir()).mkdir(parents=True, exist_ok=True)
    Path(quota.limits_dir(), "today.json").write_text(json.dumps(
        {"day": day, "written_at": now, "total_usd": 10.0, "unpriced_tokens": 0, "claude_sessions": {SID: 1.5}}))
    line = run_cli(status(now), NO_COLOR="1").stdout.decode()
    assert "$3.25 session" in line
    assert "$10.75 today" in line                            # 10.00 - 1.50 + 2.25
    assert "⚠ loop Bashx4" in line


def test_a_stale_snapshot_is_marked_and_a_reset_window_dropped():
    now = int(time.time())
    Path(quota.limits_dir()).mkdir(parents=True, exist_ok=True)
    old = {"agent": "claude", "used_percentage": 61.0, "source": "statusline", "session_id": SID,
           "captured_at": now - 1800, "seen_at": now - 1800}
    Path(quota.latest_path()).write_text(json.dumps({
        "claude/five_hour": {**old, "window": "five_hour", "resets_at": now - 60},     # reset since
        "claude/seven_day": {**old, "window": "seven_day", "resets_at": now + 86400}}))
    line = run_cli(status(now, rate_limits=False), NO_COLOR="1").stdout.decode()
    assert "7d 61% (stale)" in line
    assert "5h 61%" not in line and "5h —" in line


def test_the_statusline_imports_no_sqlite_json_or_pathlib():
    """The live path: what `token-roi statusline` costs on every refresh."""
    env = dict(os.environ, TOKEN_ROI_STATUSLINE_NO_REFRESH="1", TOKEN_ROI_PYTHON=sys.executable)
    proc = subprocess.run(["/bin/sh", str(REPO / "hooks" / "run"), "-S", "-E", "-X", "importtime",
                           str(REPO / "hooks" / "statusline.py")],
                          input=json.dumps(status(int(time.time()))).encode(), capture_output=True, env=env, timeout=60)
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.decode().splitlines()
             if line.startswith("import time:")}
    assert "token_roi.guard.statusline" in names
    assert not names & {"sqlite3", "json", "pathlib", "re", "datetime", "subprocess", "argparse"}


def test_the_background_refresh_writes_today_for_the_next_line():
    """Without today.json the line starts one detached refresh (ingest, price, today.json) and
    does not wait; the next line shows today's spend from the ledger."""
    from token_roi.limits import today as today_mod
    now = int(time.time())
    store = Store()
    with store.transaction():
        store.db.execute(
            "INSERT INTO calls (agent, dedupe_key, ts, session_id, model, input_tokens, output_tokens, cost, "
            "price_source, ingested_at) VALUES ('codex', 'k1', ?, 'x', 'gpt-5-codex', 1000, 100, 2.5, 'override', 0)",
            (now * 1000 - 1000,))
    store.close()
    env = dict(os.environ, NO_COLOR="1")
    env.pop("TOKEN_ROI_STATUSLINE_NO_REFRESH", None)
    started = time.monotonic()
    first = subprocess.run([sys.executable, "-c", "from token_roi.cli import entry; entry()", "statusline"],
                           input=json.dumps(status(now)).encode(), capture_output=True, env=env, timeout=60)
    assert first.returncode == 0 and "today" not in first.stdout.decode()
    assert time.monotonic() - started < 10                   # it did not wait for the refresh
    path = Path(today_mod.today_path())
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    figures = json.loads(path.read_text())
    store = Store()
    try:
        total = store.db.execute("SELECT sum(cost) FROM calls").fetchone()[0]
        assert snapshots.history(store.db)                  # the spool was drained by that ingest
    finally:
        store.close()
    assert figures["total_usd"] == pytest.approx(total) and total > 0
    line = run_cli(status(now), NO_COLOR="1").stdout.decode()
    assert f"${total:,.2f} today" in line


def test_concurrent_status_lines_record_a_figure_once():
    """Several sessions' status lines refresh at the same moment with the same account figure."""
    now = int(time.time())
    env = dict(os.environ, TOKEN_ROI_STATUSLINE_NO_REFRESH="1", NO_COLOR="1")
    data = json.dumps(status(now, five=57)).encode()
    procs = [subprocess.Popen([sys.executable, "-c", "from token_roi.cli import entry; entry()", "statusline"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env) for _ in range(8)]
    outs = [p.communicate(data, timeout=60)[0].decode() for p in procs]
    assert all("5h 57%" in o for o in outs)
    recorded = sorted((s["window"], s["used_percentage"]) for s in spool_lines())
    assert recorded == [("five_hour", 57.0), ("seven_day", 18.5)]
    latest = json.loads(Path(quota.latest_path()).read_text())
    assert latest["claude/five_hour"]["used_percentage"] == 57.0


def test_float_percentages_as_the_client_computes_them():
    """Claude Code 2.1.197 sends used_percentage = utilization * 100 (from the API's
    anthropic-ratelimit-unified-5h-utilization header): 0.29 arrives as 28.999999999999996."""
    now = int(time.time())
    line = run_cli(status(now, five=0.29 * 100, seven=0.07 * 100), NO_COLOR="1").stdout.decode()
    assert "5h 29%" in line and "7d 7%" in line
    assert [s["used_percentage"] for s in spool_lines()] == [29.0, 7.0]


def test_the_plugin_launcher_refreshes_through_the_installed_cli(tmp_path):
    """Under the launcher (-S: no site-packages) the refresh runs as `token-roi limits
    --background`, whose interpreter has the optional packages; a stand-in records the call."""
    record = tmp_path / "called.txt"
    fake = tmp_path / "bin" / "token-roi"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nprintf '%s ' \"$@\" > {record}\n")
    fake.chmod(0o755)
    env = dict(os.environ, NO_COLOR="1", TOKEN_ROI_PYTHON=sys.executable,
               PATH=f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("TOKEN_ROI_STATUSLINE_NO_REFRESH", None)
    proc = subprocess.run(["/bin/sh", str(REPO / "hooks" / "run"), "-S", "-E", str(REPO / "hooks" / "statusline.py")],
                          input=json.dumps(status(int(time.time()))).encode(), capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0
    deadline = time.monotonic() + 30
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert record.read_text().split() == ["limits", "--background"]
