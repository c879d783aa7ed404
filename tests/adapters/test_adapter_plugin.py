"""A new agent in one folder, outside the source tree: tests/fixtures/toy_adapter/toy/ (its
places.py and reader.py, nothing else) is found through TOKEN_ROI_ADAPTERS, and its calls end up
in `token-roi daily --json`, priced, once each, its bad line skipped and counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TOY = Path(__file__).parents[1] / "fixtures" / "toy_adapter"

LINES = [
    # the same call written twice (a re-read after a crash): counted once
    {"id": "call-1", "at": "2026-05-04T10:00:00Z", "session": "s1", "model": "claude-sonnet-4-5",
     "usage": {"prompt": 1200, "cached": 200, "completion": 80}},
    {"id": "call-1", "at": "2026-05-04T10:00:00Z", "session": "s1", "model": "claude-sonnet-4-5",
     "usage": {"prompt": 1200, "cached": 200, "completion": 80}},
    {"id": "call-2", "at": "2026-05-05T09:30:00.500Z", "session": "s1", "model": "claude-sonnet-4-5",
     "usage": {"prompt": 3000, "cached": 2500, "completion": 400}},
]


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "token_roi", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _env(tmp_path: Path, with_toy: bool) -> dict:
    env = dict(os.environ)
    env["TZ"] = "UTC"
    if with_toy:
        env["TOKEN_ROI_ADAPTERS"] = str(TOY)
        env["TOY_HOME"] = str(tmp_path / "toy-home")
    return env


def test_a_toy_agent_found_by_its_folder_reaches_the_daily_report(tmp_path):
    logs = tmp_path / "toy-home" / "logs"
    logs.mkdir(parents=True)
    text = "".join(json.dumps(line) + "\n" for line in LINES) + "{not json\n"
    (logs / "2026-05.jsonl").write_text(text)

    # Without the folder on TOKEN_ROI_ADAPTERS, token-roi knows no such agent.
    plain = _run(["daily", "--json", "--agent", "toy"], _env(tmp_path, with_toy=False))
    assert plain.returncode != 0 and "unknown agent" in plain.stderr

    env = _env(tmp_path, with_toy=True)
    ingest = _run(["ingest", "--json"], env)
    assert ingest.returncode == 0, ingest.stderr
    got = json.loads(ingest.stdout)
    assert (got["callsAdded"], got["badLines"]) == (2, 1)              # the copy once; the bad line counted

    agents = json.loads(_run(["agents", "--json"], env).stdout)["agents"]
    toy = next(a for a in agents if a["agent"] == "toy")
    assert toy["title"] == "Toy agent" and toy["detected"] and toy["roots"] == [str(logs)]
    assert [a["agent"] for a in agents][:2] == ["claude", "codex"]     # the shipped ones keep their order

    done = _run(["daily", "--json", "--agent", "toy"], env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    days = {d["date"]: d for d in report["daily"]}
    assert sorted(days) == ["2026-05-04", "2026-05-05"]
    assert (days["2026-05-04"]["inputTokens"], days["2026-05-04"]["cacheReadTokens"],
            days["2026-05-04"]["outputTokens"]) == (1000, 200, 80)
    assert (days["2026-05-05"]["inputTokens"], days["2026-05-05"]["cacheReadTokens"],
            days["2026-05-05"]["outputTokens"]) == (500, 2500, 400)
    assert report["totals"]["totalTokens"] == 1000 + 200 + 80 + 500 + 2500 + 400
    assert all(d["totalCost"] > 0 for d in report["daily"])             # priced like any agent's calls


def test_only_folders_with_a_reader_are_agents(tmp_path):
    extra = tmp_path / "adapters"
    (extra / "notes").mkdir(parents=True)                 # no reader.py: not an agent
    (extra / "notes" / "README.md").write_text("scratch\n")
    (extra / "_private").mkdir()
    (extra / "_private" / "reader.py").write_text("raise SystemExit('must not be imported')\n")
    env = dict(os.environ, TOKEN_ROI_ADAPTERS=os.pathsep.join([str(extra), str(TOY), str(tmp_path / "missing")]))
    code = "import token_roi.adapters as a; print(' '.join(a.AGENT_NAMES)); print(a.get_adapter('notes'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    names, missing = out.splitlines()
    assert names.split() == ["claude", "codex", "hermes", "openclaw", "openhuman", "cursor", "gemini", "opencode",
                             "copilot", "amp", "toy"]
    assert missing == "None"


def test_an_agents_package_hands_out_its_readers_names():
    # (what code written against the former one-module-per-agent layout imports)
    import importlib

    from token_roi import adapters
    from token_roi.adapters.claude import ADAPTER, subagent_meta
    from token_roi.adapters.claude import reader as claude_reader

    assert ADAPTER is claude_reader.ADAPTER and subagent_meta is claude_reader.subagent_meta
    for name in adapters.AGENT_NAMES:
        package = importlib.import_module(f"token_roi.adapters.{name}")
        assert package.ADAPTER is adapters.get_adapter(name) and package.ADAPTER.name == name
