"""`token-roi setup claude`: the /cost-report user command, installed idempotently under
$CLAUDE_CONFIG_DIR (else ~/.claude), a user's own file backed up and restored by --remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from token_roi.cli import main


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(folder))
    return folder


def command(config: Path) -> Path:
    return config / "commands" / "cost-report.md"


def test_install_is_idempotent_and_runs_the_same_report(config, capsys):
    assert main(["setup", "claude"]) == 0
    text = command(config).read_text()
    assert text.startswith("---\n# installed by `token-roi setup claude`")
    assert 'cost-report --session "${CLAUDE_SESSION_ID}" $ARGUMENTS`' in text
    assert "installed:" in capsys.readouterr().out
    assert main(["setup", "claude"]) == 0
    assert "already installed" in capsys.readouterr().out
    assert command(config).read_text() == text
    assert sorted(p.name for p in command(config).parent.iterdir()) == ["cost-report.md"]


def test_without_claude_config_dir_it_goes_to_home(tmp_path, monkeypatch):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert main(["setup", "claude"]) == 0
    assert (tmp_path / "h" / ".claude" / "commands" / "cost-report.md").exists()


def test_a_users_own_command_is_backed_up_and_restored(config, capsys):
    mine = "---\ndescription: my own cost report\n---\nSay how much it cost.\n"
    command(config).parent.mkdir(parents=True)
    command(config).write_text(mine)
    assert main(["setup", "claude"]) == 0
    out = capsys.readouterr().out
    [backup] = command(config).parent.glob("cost-report.md.bak-*")
    assert backup.read_text() == mine and str(backup) in out
    assert "token-roi setup claude" in command(config).read_text()
    assert main(["setup", "claude", "--remove"]) == 0
    assert command(config).read_text() == mine
    assert list(command(config).parent.glob("cost-report.md.bak-*")) == []
    # Removing again touches nothing that is not ours.
    assert main(["setup", "claude", "--remove"]) == 1
    assert "was not installed by token-roi" in capsys.readouterr().err
    assert command(config).read_text() == mine


def test_remove_when_nothing_is_installed(config, capsys):
    assert main(["setup", "claude", "--remove"]) == 0
    assert "nothing to remove" in capsys.readouterr().out
