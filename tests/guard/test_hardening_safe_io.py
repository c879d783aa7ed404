"""The hooks write only regular files this user owns and read only regular files, bounded: a
device, FIFO, folder or symlink given as TOKEN_ROI_BUDGET_FILE or transcript_path is never
replaced, never blocks and never grows memory; the hook logs and exits 0, quietly."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest
from hook_support import Transcript, hook_argv, hook_env, log_lines, post_tool, run_hook, session_start, state_of

SID = "5b1e7f3c-2a91-4c8a-9d2f-0e6b8a4c1d35"


def quiet_exit(result):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.fixture
def transcript(tmp_path):
    t = Transcript(tmp_path / "t.jsonl", SID)
    t.user()
    t.assistant("msg_1", input=10, output=20)
    return t


def test_budget_file_fifo_or_folder_is_never_replaced(tmp_path, transcript):
    fifo = tmp_path / "budget.fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "budget.dir"
    folder.mkdir()
    for target in (fifo, folder):
        env = hook_env(TOKEN_ROI_BUDGET_FILE=str(target))
        quiet_exit(run_hook(post_tool(SID, transcript.path, "Bash", {"command": "ls"}), env=env, timeout=20))
        mode = os.lstat(target).st_mode
        assert stat.S_ISFIFO(mode) if target == fifo else stat.S_ISDIR(mode)
        assert not any(p.name.startswith(".budget") for p in tmp_path.iterdir()), list(tmp_path.iterdir())
    assert any("not a regular file" in line for line in log_lines()), log_lines()


def test_symlinked_budget_file_is_followed_to_its_target(tmp_path, transcript):
    real = tmp_path / "real" / "state.json"
    real.parent.mkdir()
    link = tmp_path / "state.json"
    link.symlink_to(real)
    env = hook_env(TOKEN_ROI_BUDGET_FILE=str(link))
    quiet_exit(run_hook(session_start(SID, transcript.path), env=env))
    quiet_exit(run_hook(post_tool(SID, transcript.path, "Bash", {"command": "ls"}), env=env))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["session_id"] == SID
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600


def test_budget_file_dev_full_stays_small_and_is_never_replaced(transcript):
    # Run the hook under a 1.5 GB address-space cap and report its peak memory.
    probe = (
        "import resource, subprocess, sys, json\n"
        "def cap():\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))\n"
        "p = subprocess.run(json.loads(sys.argv[1]), input=sys.stdin.buffer.read(), capture_output=True,"
        " preexec_fn=cap, timeout=60)\n"
        "print(json.dumps([p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n")
    payload = json.dumps(post_tool(SID, transcript.path, "Bash", {"command": "ls"})).encode()
    before = os.stat("/dev/full")
    had_lock = os.path.exists("/dev/full.lock")
    try:
        out = subprocess.run([sys.executable, "-c", probe, json.dumps(hook_argv("PostToolUse"))], input=payload,
                             capture_output=True, env=hook_env(TOKEN_ROI_BUDGET_FILE="/dev/full"), timeout=90)
        made_lock = not had_lock and os.path.exists("/dev/full.lock")
    finally:
        if not had_lock and os.path.isfile("/dev/full.lock"):
            os.unlink("/dev/full.lock")         # (what the old hook left in /dev when run as root)
    code, peak_kb = json.loads(out.stdout)
    assert code == 0
    assert peak_kb < 200_000, f"the hook grew to {peak_kb} KB"
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not made_lock


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/dev/urandom", "/proc/kmsg"])
def test_odd_transcript_path_never_spins_or_blocks(tmp_path, target):
    if target == "fifo":
        target = str(tmp_path / "t.fifo")
        os.mkfifo(target)
    if not os.path.exists(target):
        pytest.fail(f"{target} is not on this machine")
    start = time.monotonic()
    quiet_exit(run_hook(post_tool(SID, target, "Bash", {"command": "ls"}), timeout=30))
    quiet_exit(run_hook({"session_id": SID, "transcript_path": target, "cwd": "/tmp",
                         "hook_event_name": "Stop", "stop_hook_active": False}, timeout=30))
    assert time.monotonic() - start < 20
    assert state_of(SID)["api_calls"] == 0


def test_a_planted_lock_symlink_creates_nothing_elsewhere(tmp_path, transcript):
    from token_roi.guard import state
    victim = tmp_path / "elsewhere" / "created-by-hook"
    victim.parent.mkdir()
    path = state.session_file(SID)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(victim, path + ".lock")
    quiet_exit(run_hook(post_tool(SID, transcript.path, "Bash", {"command": "ls"})))
    assert not victim.exists()


def test_a_huge_transcript_is_read_a_bounded_slice_per_hook(tmp_path, monkeypatch):
    from token_roi.adapters.base import Source
    from token_roi.adapters.claude import ADAPTER
    from token_roi.adapters.jsonl import read_incremental
    t = Transcript(tmp_path / "big.jsonl", SID)
    for i in range(400):
        t.user("x" * 2000)
        t.assistant(f"msg_{i}", input=1, output=2)
    size = os.path.getsize(t.path)
    first = read_incremental(ADAPTER, Source("claude", str(t.path)), None, limit=size // 3)
    assert 0 < first.bytes_read < size and len(first.rows) < 400
    rest = read_incremental(ADAPTER, Source("claude", str(t.path)), first.cursor)
    assert not rest.unchanged and len(first.rows) + len(rest.rows) == 400
