"""token-roi agents: on an empty machine and on one with several agents' data."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import token_roi.adapters as adapters
from token_roi.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"


def agents_json(capsys) -> dict:
    assert main(["agents", "--json"]) == 0
    return {a["agent"]: a for a in json.loads(capsys.readouterr().out)["agents"]}


def test_empty_machine(capsys, monkeypatch):
    monkeypatch.setattr(adapters, "AGENT_NAMES", adapters.AGENT_NAMES + ("zzagent",))
    items = agents_json(capsys)
    assert list(items) == list(adapters.AGENT_NAMES)
    for name, it in items.items():
        assert (it["detected"], it["roots"], it["sessions"], it["calls"], it["firstActivity"], it["lastActivity"]) == (
            False, [], 0, 0, None, None), name
    assert items["zzagent"]["supported"] is False
    assert items["zzagent"]["untracked"] == "not yet supported by this version of token-roi"
    for name in ("hermes", "openclaw", "openhuman", "cursor"):
        assert items[name]["supported"] and items[name]["untracked"]

    monkeypatch.setenv("COLUMNS", "100")
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["Agent", "Detected", "Sessions", "Calls", "First", "Last", "Where"]
    assert "zzagent    unsupported" in out and "What cannot be tracked:" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.fixture
def full_machine(tmp_path) -> Path:
    home = tmp_path / "user-home"
    db = sqlite3.connect(home / "hermes-state.db")
    db.executescript((FIXTURES / "hermes" / "state.sql").read_text())
    db.close()
    (home / ".hermes").mkdir()
    shutil.move(home / "hermes-state.db", home / ".hermes" / "state.db")
    shutil.copytree(FIXTURES / "openclaw" / "agents", home / ".openclaw" / "agents")
    shutil.copytree(FIXTURES / "openhuman" / "workspace", home / ".openhuman")
    return home


def test_full_machine(full_machine, capsys, monkeypatch):
    items = agents_json(capsys)
    home = str(full_machine)
    assert items["hermes"] | {"untracked": ""} == {
        "agent": "hermes", "title": "Hermes agent", "supported": True, "detected": True,
        "roots": [f"{home}/.hermes"], "sessions": 2, "calls": 4,
        "firstActivity": "2026-03-02T09:00:01Z", "lastActivity": "2026-03-02T10:10:00Z", "untracked": ""}
    assert (items["openclaw"]["sessions"], items["openclaw"]["calls"]) == (2, 4)
    assert items["openclaw"]["roots"] == [f"{home}/.openclaw"]
    assert (items["openclaw"]["firstActivity"], items["openclaw"]["lastActivity"]) == (
        "2026-02-28T20:29:40Z", "2026-03-01T09:05:04Z")
    assert (items["openhuman"]["detected"], items["openhuman"]["sessions"], items["openhuman"]["calls"]) == (True, 3, 4)
    assert items["cursor"]["detected"] is False and items["cursor"]["calls"] == 0

    # Imported Cursor usage shows up even without Cursor installed here.
    assert main(["import", "cursor-csv", str(FIXTURES / "cursor" / "usage-events-2026-03-05.csv")]) == 0
    capsys.readouterr()
    items = agents_json(capsys)
    assert (items["cursor"]["detected"], items["cursor"]["sessions"], items["cursor"]["calls"]) == (False, 0, 4)

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TZ", "UTC")
    assert main(["agents", "-z", "UTC"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    hermes_line = next(line for line in out.splitlines() if line.startswith("hermes"))
    assert hermes_line.split() == ["hermes", "yes", "2", "4", "2026-03-02", "2026-03-02", "~/.hermes"]
