"""Shared fixtures: every test gets its own TOKEN_ROI_HOME and no real agent data."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "token-roi-home"
    monkeypatch.setenv("TOKEN_ROI_HOME", str(home))
    # Point every agent's data location at empty temp folders so tests never read this machine's logs.
    fake_user = tmp_path / "user-home"
    fake_user.mkdir()
    monkeypatch.setenv("HOME", str(fake_user))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(fake_user / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(fake_user / ".local/share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(fake_user / ".local/state"))
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "CODEX_SQLITE_HOME", "HERMES_HOME", "OPENCLAW_STATE_DIR",
                "OPENHUMAN_WORKSPACE", "GEMINI_CLI_HOME", "OPENCODE_DATA_DIR", "AMP_DATA_DIR", "COPILOT_HOME",
                "TOKEN_ROI_BUDGET_FILE", "TOKEN_ROI_CONFIG", "TOKEN_ROI_FEATURE", "TZ"):
        monkeypatch.delenv(var, raising=False)
    return home
