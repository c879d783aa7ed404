"""The ledger and every file of ours are private to the user; absurd rows an older version stored
are dropped on upgrade, so no sum overflows."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from hook_support import Transcript, hook_env, post_tool, run_hook

from token_roi.rows import UsageRow
from token_roi.store import Store

SID = "0e6b8a4c-1d35-4c8a-9d2f-7f3c2a915b1e"


def mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "token_roi.cli", *args], capture_output=True, text=True)


def damage_page(name: str) -> None:
    """Overwrite 64 bytes of the root page of the ledger's table or index `name` (the log first
    copied in, so the damage is in the file SQLite reads)."""
    import sqlite3
    ledger = Path(os.environ["TOKEN_ROI_HOME"]) / "ledger.sqlite3"
    db = sqlite3.connect(ledger)
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with open(ledger, "r+b") as f:
        f.seek((root - 1) * size + 8)
        f.write(b"\xff" * 64)


def test_every_file_we_create_is_private(tmp_path, monkeypatch):
    # the XDG folders (no TOKEN_ROI_HOME), as most users have them
    monkeypatch.delenv("TOKEN_ROI_HOME")
    user = tmp_path / "user-home"
    t = Transcript(user / ".claude" / "projects" / "-home-u-p" / f"{SID}.jsonl", SID)
    t.user()
    t.assistant("msg_1", input=10, output=20)
    env = hook_env()
    assert run_hook(post_tool(SID, t.path, "Bash", {"command": "ls"}), env=env).returncode == 0
    assert cli("daily", "--json").returncode == 0
    store = Store()                                   # (open: its -wal and -shm exist now)
    store.db.execute("SELECT 1 FROM calls").fetchall()
    made = [p for base in (user / ".local" / "share" / "token-roi", user / ".local" / "state" / "token-roi")
            for p in [base, *base.rglob("*")]]
    assert any(p.name == "ledger.sqlite3-wal" for p in made) and any(p.suffix == ".json" for p in made)
    loose = [(str(p), oct(mode(p))) for p in made if mode(p) & 0o077]
    store.close()
    assert not loose, loose


def test_an_existing_world_readable_ledger_is_tightened_on_open(tmp_path):
    home = Path(os.environ["TOKEN_ROI_HOME"]).parent / "data" / "token-roi"
    home.mkdir(parents=True)
    path = home / "ledger.sqlite3"
    Store(path).close()
    os.chmod(path, 0o644)
    os.chmod(home, 0o755)
    store = Store(path)
    assert mode(path) == 0o600 and mode(home) == 0o700
    assert mode(Path(str(path) + "-wal")) == 0o600
    store.close()


def test_absurd_rows_stored_by_an_older_version_are_dropped(tmp_path):
    store = Store()
    with store.transaction():
        store.db.execute("DELETE FROM _migrations WHERE name = 'm013_hardening'")
        store.upsert_calls([UsageRow("claude", "ok", 1_790_000_000_000, "s", "/p", "claude-sonnet-4-5", 10, 5),
                            UsageRow("claude", "a", 1_790_000_100_000, "s", "/p", "claude-sonnet-4-5", 5 * 10**18, 1),
                            UsageRow("claude", "b", 1_790_000_200_000, "s", "/p", "claude-sonnet-4-5", 5 * 10**18, 1)])
    store.close()
    out = cli("daily", "--json", "--since", "2026-01-01")
    assert out.returncode == 0, out.stderr
    import json
    assert json.loads(out.stdout)["totals"]["inputTokens"] == 10


# -- a lost, emptied or damaged ledger is told, once; `token-roi doctor` -----------------------

def claude_calls(user: Path, name: str, n: int) -> None:
    from hardening_data import line
    folder = user / ".claude" / "projects" / "-home-u-p"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text(
        "".join(line(f"{name}-{i}", i, '{"input_tokens":10,"output_tokens":20}') for i in range(n)))


def age_record(seconds: int, key: str = "at") -> None:
    import json

    from token_roi.store import health
    record = json.loads(Path(health.record_path()).read_text())
    for entry in record.values():
        entry[key] -= seconds
    Path(health.record_path()).write_text(json.dumps(record))


def test_a_lost_or_emptied_ledger_is_told_once_with_what_was_lost(tmp_path):
    user = tmp_path / "user-home"
    claude_calls(user, "kept", 8)
    claude_calls(user, "gone", 2)
    assert cli("daily").returncode == 0
    ledger = Path(os.environ["TOKEN_ROI_HOME"]) / "ledger.sqlite3"
    (user / ".claude" / "projects" / "-home-u-p" / "gone.jsonl").unlink()   # the agent cleaned up
    for empty in (True, False):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(str(ledger) + suffix):
                os.unlink(str(ledger) + suffix)
        if empty:
            ledger.write_bytes(b"")
        out = cli("daily")
        assert out.returncode == 0, out.stderr
        warned = [w for w in out.stderr.splitlines() if "made anew" in w]
        assert len(warned) == 1, out.stderr
        assert str(ledger) in warned[0] and "10 calls" in warned[0] and "2 calls whose logs are gone" in warned[0]
        again = cli("daily")
        assert "made anew" not in again.stderr                        # once
        claude_calls(user, "gone", 2)                                    # (back for the second round)
        assert cli("daily").returncode == 0
        age_record(2 * 3600)                      # (the count is noted again at most hourly)
        assert cli("daily").returncode == 0
        (user / ".claude" / "projects" / "-home-u-p" / "gone.jsonl").unlink()


def test_doctor_checks_reports_and_backs_up_then_a_damaged_ledger_is_told(tmp_path):
    import json
    import sqlite3
    user = tmp_path / "user-home"
    for name in ("s1", "s2", "s3"):
        claude_calls(user, name, 50)
    assert cli("daily").returncode == 0
    out = cli("doctor", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] and report["calls"] == 150 and report["backup"].endswith("ledger.sqlite3.bak")
    assert mode(Path(report["backup"])) == 0o600
    backup = sqlite3.connect(report["backup"])
    assert backup.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 150
    backup.close()
    # damage the calls table's pages
    damage_page("calls")
    out = cli("doctor")
    assert out.returncode == 1
    assert "damaged" in out.stdout and "ledger.sqlite3.bak" in out.stdout, out.stdout
    # every report now says so (doctor found it), not only the once-a-day check
    for _ in range(2):
        out = cli("daily", "--json")
        assert "internal error" not in out.stderr
        assert "damaged" in out.stderr and "token-roi doctor" in out.stderr, out.stderr


def test_the_daily_check_finds_a_damaged_ledger(tmp_path):
    user = tmp_path / "user-home"
    for name in ("s1", "s2", "s3"):
        claude_calls(user, name, 50)
    assert cli("daily").returncode == 0
    assert cli("daily").returncode == 0
    damage_page("calls_session")
    age_record(2 * 86400, "checked")                                    # a day later
    out = cli("daily")
    assert "internal error" not in out.stderr
    assert "damaged" in out.stderr and "token-roi doctor" in out.stderr, out.stderr


def test_doctor_says_a_missing_ledger_held_calls(tmp_path):
    claude_calls(tmp_path / "user-home", "s", 5)
    assert cli("daily").returncode == 0
    ledger = Path(os.environ["TOKEN_ROI_HOME"]) / "ledger.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(ledger) + suffix):
            os.unlink(str(ledger) + suffix)
    out = cli("doctor")
    assert out.returncode == 1, out.stdout
    assert "missing" in out.stdout and "5 calls" in out.stdout and not ledger.exists()
