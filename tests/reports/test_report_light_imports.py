"""A warm report (nothing new to read) imports none of the heavy optional parts: genai-prices
(~0.2 s), PyYAML and jsonschema (a validated config is cached), the worker pool's
multiprocessing (a big read only). A bare `daily` (every agent) asks the
nine other agents too: on a machine without them each costs a few stats, not its reader module.
A report in UTC needs no zone database (zoneinfo, ~2.4 ms with the sysconfig it reads).
The standard library's light modules (json, pathlib, typing, dataclasses) are not avoided: the
code outside the live path is plain Python, within the warm report's budget (docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude"
CODEX_FIXTURE = Path(__file__).parents[1] / "fixtures" / "codex"

# Imported by nothing a warm daily report needs.
AVOIDED = {"multiprocessing", "concurrent.futures", "csv", "genai_prices", "yaml", "jsonschema",
           "token_roi.ingest_pool", "zoneinfo"}      # (zoneinfo: these reports run with -z UTC)
# The readers of the agents a test machine does not have (conftest empties HOME and the XDG dirs).
ABSENT_READERS = {f"token_roi.adapters.{name}.reader" for name in (
    "codex", "hermes", "openclaw", "openhuman", "cursor", "gemini", "opencode", "copilot", "amp")} | {
    "token_roi.adapters.sqlite_ro"}

# -S: no site-packages (the test machine's .pth files import pathlib themselves), the package
# loaded from core/ as the plugin's hooks load it.
_RUN = f"""
import sys
sys.path.insert(0, {str(REPO / 'hooks')!r})
import _bootstrap
_bootstrap.load()
from token_roi.cli import main
rc = main(sys.argv[1:])
print(*sorted(m for m in {sorted(AVOIDED | ABSENT_READERS)!r} if m in sys.modules), sep=",", file=sys.stderr)
sys.exit(rc)
"""


def _report(env: dict, *args: str) -> tuple[str, set[str]]:
    proc = subprocess.run([sys.executable, "-S", "-c", _RUN, "daily", "--json", "-z", "UTC", *args],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return proc.stdout, set(filter(None, last.split(",")))


def _settled_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    old = time.time_ns() - 3600 * 10**9
    for folder, _, _ in os.walk(dst):
        os.utime(folder, ns=(old, old))           # settled, as between sessions
    return dst


def test_a_warm_report_imports_none_of_the_heavy_modules(tmp_path):
    root = tmp_path / "claude-config"
    _settled_copy(FIXTURES / "projects", root / "projects")
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(root), TOKEN_ROI_HOME=str(tmp_path / "home"))
    cold, _ = _report(env, "--agent", "claude")   # reads and prices everything
    warm, imported = _report(env, "--agent", "claude")
    assert warm == cold and '"totalTokens"' in warm
    assert imported == set(), f"a warm report imported {sorted(imported)}"


def test_a_bare_warm_report_asks_every_agent_without_the_heavy_modules(tmp_path):
    # conftest points HOME and the XDG folders at an empty folder and clears every agent's
    # variable: none of the nine other agents is on this "machine".
    root = tmp_path / "claude-config"
    _settled_copy(FIXTURES / "projects", root / "projects")
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(root), TOKEN_ROI_HOME=str(tmp_path / "home"))
    cold, _ = _report(env)
    warm, imported = _report(env)
    assert warm == cold and json.loads(warm)["totals"]["agents"] == ["claude"]
    assert imported == set(), f"a bare warm report imported {sorted(imported)}"

    # Codex appears: the same bare command books its rollouts exactly as the Codex tests expect
    # (tests/adapters/test_adapter_codex.py: 10 turns, counters apart), beside Claude's, and only once.
    env["CODEX_HOME"] = str(_settled_copy(CODEX_FIXTURE, tmp_path / "codex"))
    first, _ = _report(env)
    again, _ = _report(env)
    assert again == first
    claude, both = json.loads(cold)["totals"], json.loads(first)["totals"]
    assert sorted(both["agents"]) == ["claude", "codex"]
    added = {k: both[k] - claude[k] for k in ("calls", "inputTokens", "cacheReadTokens", "outputTokens",
                                              "reasoningTokens", "cacheCreationTokens")}
    # outputTokens carries reasoning (ccusage's shape): Codex's 4,100 plus its 1,250.
    assert added == {"calls": 10, "inputTokens": 53000, "cacheReadTokens": 68000, "outputTokens": 5350,
                     "reasoningTokens": 1250, "cacheCreationTokens": 0}


def test_a_named_zone_still_reads_the_zone_database(tmp_path):
    root = tmp_path / "claude-config"
    _settled_copy(FIXTURES / "projects", root / "projects")
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(root), TOKEN_ROI_HOME=str(tmp_path / "home"))
    utc, _ = _report(env, "--agent", "claude")
    proc = subprocess.run([sys.executable, "-S", "-c", _RUN, "daily", "--json", "-z", "America/Los_Angeles",
                           "--agent", "claude"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "zoneinfo" in proc.stderr.strip().splitlines()[-1].split(",")
    assert json.loads(proc.stdout)["totals"] == json.loads(utc)["totals"]
