"""The ledger and every file of ours are private to the user; absurd rows an older version stored
are dropped on upgrade, so no sum overflows."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from token_roi.rows import UsageRow
from token_roi.store import Store

from test_hooks_support import Transcript, hook_env, post_tool, run_hook

SID = "0e6b8a4c-1d35-4c8a-9d2f-7f3c2a915b1e"


def mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "token_roi.cli", *args], capture_output=True, text=True)


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
