"""`token-roi watch` in a real pseudo-terminal: it redraws the active block, its burn rate, the
plan windows with their pace and the current session, and a Ctrl-C typed at the terminal ends it
cleanly (exit 0, cursor shown again, no traceback)."""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

from token_roi.guard import quota
from token_roi.guard import state as st
from token_roi.limits import snapshots
from token_roi.limits.snapshots import Snapshot
from token_roi.store import Store

SID = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3921"


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.mark.e2e
def test_watch_redraws_and_stops_on_ctrl_c():
    now = int(time.time())
    store = Store()
    with store.transaction():
        for i, minutes in enumerate((40, 25, 5)):
            store.db.execute(
                "INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
                "cost, price_source, ingested_at) VALUES ('claude', ?, ?, ?, '/src/app', 'claude-sonnet-4-5', 20000, "
                "3000, 0.5, 'override', 0)", (f"k{i}", (now - minutes * 60) * 1000, SID))
        snapshots.append(store.db, [
            Snapshot("claude", "five_hour", 42.0, now + 3 * 3600, now - 600, "statusline", SID)])
    store.close()
    Path(quota.limits_dir()).mkdir(parents=True, exist_ok=True)
    Path(quota.latest_path()).write_text(json.dumps({"claude/five_hour": {
        "agent": "claude", "window": "five_hour", "used_percentage": 42.0, "resets_at": now + 3 * 3600,
        "captured_at": now - 600, "seen_at": now - 20, "source": "statusline"}}))
    state = st.new_state(SID)
    state.update(cost_usd=1.5, total_tokens_used=69000)
    st.save(st.session_path(SID), state)

    pid, fd = pty.fork()
    if pid == 0:                                       # the child: the CLI on the terminal
        os.environ.update(COLUMNS="100", TERM="xterm", NO_COLOR="1")
        os.execv(sys.executable, [sys.executable, "-c", "from token_roi.cli import entry; entry()",
                                  "watch", "--interval", "0.5"])
    try:
        first = read_until(fd, b"Session:", 60)
        text = first.decode("utf-8", "replace")
        assert "\x1b[?25l" in text and "\x1b[H\x1b[2J" in text          # cursor hidden, screen cleared
        assert "Block: started" in text and "Burn:" in text
        assert "Limits: claude 5-hour 42% (official), resets in 2h59m" in text or \
               "Limits: claude 5-hour 42% (official), resets in 3h00m" in text
        assert f"Session: {SID[:8]}… $1.50" in text
        again = read_until(fd, b"Session:", 10)                        # it redraws
        assert b"token-roi watch" in again
        os.write(fd, b"\x03")                                          # Ctrl-C, typed at the terminal
        rest = read_until(fd, b"\x1b[?25h", 20)
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert b"\x1b[?25h" in rest and b"Traceback" not in first + again + rest


def test_watch_once_prints_one_frame(capsys):
    from token_roi.cli import main
    assert main(["watch", "--once"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out
    assert "Block: no active 5-hour block" in out and "Limits: no official figures yet" in out
