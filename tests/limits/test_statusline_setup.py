"""`token-roi setup claude --statusline`: the user's settings.json gets our statusLine, keeps
everything else, is backed up, and `--remove` puts back what was there."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from token_roi.cli import main
from token_roi.limits import claude_settings


def test_install_keeps_other_settings_and_remove_restores_the_previous_line(tmp_path, capsys):
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    mine = {"model": "opus", "permissions": {"allow": ["Bash(npm test)"]},
            "statusLine": {"type": "command", "command": "~/bin/my-line.sh"}}
    path.write_text(json.dumps(mine, indent=4))
    assert main(["setup", "claude", "--statusline", "--settings", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["model"] == "opus" and data["permissions"] == mine["permissions"]
    assert data["statusLine"]["type"] == "command" and claude_settings.is_ours(data["statusLine"])
    assert json.loads((tmp_path / ".claude" / "settings.json.token-roi.bak").read_text()) == mine
    assert "statusLine runs" in capsys.readouterr().out
    # Installing twice changes nothing more (and keeps the user's line to restore).
    assert main(["setup", "claude", "--statusline", "--settings", str(path)]) == 0
    assert main(["setup", "claude", "--statusline", "--remove", "--settings", str(path)]) == 0
    assert json.loads(path.read_text()) == mine
    assert main(["setup", "claude", "--statusline", "--remove", "--settings", str(path)]) == 0
    assert "left unchanged" in capsys.readouterr().out


def test_a_new_settings_file_and_removal_without_a_previous_line(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert main(["setup", "claude", "--statusline"]) == 0
    path = tmp_path / "cfg" / "settings.json"
    assert list(json.loads(path.read_text())) == ["statusLine"]
    assert main(["setup", "claude", "--statusline", "--remove"]) == 0
    assert json.loads(path.read_text()) == {}


def test_a_broken_settings_file_is_not_touched(tmp_path, capsys):
    path = tmp_path / "settings.json"
    path.write_text('{"model": "opus",')
    assert main(["setup", "claude", "--statusline", "--settings", str(path)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert path.read_text() == '{"model": "opus",'


def test_the_written_command_runs_the_status_line(tmp_path):
    """What settings.json names must work from a shell, as Claude Code runs it."""
    command = claude_settings.statusline_command()
    assert "hooks/statusline.py" in command               # a source checkout: the plugin launcher
    payload = {"session_id": "s", "model": {"display_name": "Sonnet 4.5"},
               "rate_limits": {"five_hour": {"used_percentage": 12, "resets_at": 2_000_000_000}}}
    proc = subprocess.run(["/bin/sh", "-c", command], input=json.dumps(payload).encode(), capture_output=True,
                          env={"PATH": f"{shlex.quote(sys.executable.rsplit('/', 1)[0])}:/usr/bin:/bin",
                               "TOKEN_ROI_HOME": str(tmp_path / "home"), "NO_COLOR": "1",
                               "TOKEN_ROI_STATUSLINE_NO_REFRESH": "1"}, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("Sonnet 4.5 · $— session · 5h 12%")
