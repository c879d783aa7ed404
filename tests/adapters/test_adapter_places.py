"""<agent>/places.py present(): the few stats that tell a bare report an agent is not on this machine, without
importing its reader. It must never call absent (present() False) an agent whose reader would find data: each
layout below is the least an agent's roots() accepts (conftest gives every test an empty HOME
and XDG folders)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from token_roi import adapters

OTHERS = [n for n in adapters.AGENT_NAMES if n != "claude"]


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file(path: Path) -> Path:
    _dir(path.parent)
    path.write_bytes(b"")
    return path


# agent -> ways its data can be there: each creates folders under HOME, and sets a variable with
# env(name, value) where the agent takes one.
LAYOUTS = {
    "codex": [lambda h, env: _dir(h / ".codex"),
              lambda h, env: env("CODEX_HOME", str(_dir(h / "elsewhere" / "codex")))],
    "hermes": [lambda h, env: _file(h / ".hermes" / "state.db"),
               lambda h, env: env("HERMES_HOME", str(_file(h / "hh" / "state.db").parent))],
    "openclaw": [lambda h, env: _dir(h / ".openclaw" / "agents"),
                 lambda h, env: _dir(h / ".openclaw-work" / "agents"),
                 lambda h, env: _dir(h / ".moltbot" / "agents"),
                 lambda h, env: env("OPENCLAW_STATE_DIR", str(_dir(h / "oc" / "agents").parent))],
    "openhuman": [lambda h, env: _dir(h / ".openhuman" / "session_raw"),
                  lambda h, env: _dir(h / ".openhuman" / "users" / "u1" / "workspace" / "session_raw"),
                  lambda h, env: env("OPENHUMAN_WORKSPACE",
                                                   str(_dir(h / "ws" / "session_raw").parent))],
    "cursor": [lambda h, env: _file(h / ".config" / "Cursor" / "User" / "globalStorage" / "state.vscdb"),
               lambda h, env: _file(h / "Library" / "Application Support" / "Cursor" / "User" / "globalStorage"
                               / "state.vscdb")],
    "gemini": [lambda h, env: _dir(h / ".gemini" / "tmp"),
               lambda h, env: env("GEMINI_CLI_HOME", str(_dir(h / "g" / ".gemini" / "tmp").parents[1]))],
    "opencode": [lambda h, env: _dir(h / ".local" / "share" / "opencode"),
                 lambda h, env: env("OPENCODE_DATA_DIR", str(_dir(h / "oc-data")))],
    "copilot": [lambda h, env: _file(h / ".copilot" / "session-store.db"),
                lambda h, env: env("COPILOT_HOME", str(_file(h / "cp" / "session-store.db").parent))],
    "amp": [lambda h, env: _dir(h / ".local" / "share" / "amp" / "threads"),
            lambda h, env: env("AMP_DATA_DIR", str(_dir(h / "amp-data" / "threads").parent))],
}


def test_every_other_agent_has_a_probe_and_layouts():
    for name in OTHERS:
        assert callable(importlib.import_module(f"token_roi.adapters.{name}.places").present)
    assert sorted(LAYOUTS) == sorted(OTHERS) and adapters.present("claude")


@pytest.mark.parametrize("name", OTHERS)
def test_an_agent_without_folders_is_absent_and_stood_in_for(name):
    assert not adapters.present(name)
    real = adapters.get_adapter(name)
    assert real.roots() == []
    (stand_in,) = adapters.available([name])
    assert stand_in is not real and stand_in.name == name
    assert stand_in.roots() == [] and list(stand_in.sources()) == [] and stand_in.take_warnings() == []
    assert stand_in.title == real.title and stand_in.untracked == real.untracked   # for `agents`, no-data


@pytest.mark.parametrize("name,layout", [(n, i) for n in OTHERS for i in range(len(LAYOUTS[n]))])
def test_an_agent_with_data_is_never_called_absent(name, layout, monkeypatch):
    LAYOUTS[name][layout](Path.home(), monkeypatch.setenv)
    assert adapters.get_adapter(name).roots(), "the layout must be one the reader accepts"
    assert adapters.present(name)
    assert adapters.available([name]) == [adapters.get_adapter(name)]
