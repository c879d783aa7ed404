"""A warm report (nothing new to read) runs on a short list of modules: a bare `token-roi daily`
is the command people run most, and each avoidable import is milliseconds of every run.
Measured on the 1 GB bench tree: pathlib (with urllib.parse and ipaddress) ~4 ms, shutil (with
bz2, lzma, fnmatch) ~2 ms, dataclasses/typing/orjson ~25 ms (docs/benchmarks.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "claude"

# Imported by nothing a warm daily report needs (json, re, argparse, sqlite3, zoneinfo are).
AVOIDED = {"pathlib", "urllib.parse", "ipaddress", "shutil", "bz2", "lzma", "fnmatch", "dataclasses",
           "typing", "inspect", "orjson", "hashlib", "uuid", "traceback", "multiprocessing",
           "token_roi.reports.blocks", "genai_prices", "yaml", "jsonschema"}

# -S: no site-packages (the test machine's .pth files import pathlib themselves), the package
# loaded from core/ as the plugin's hooks load it.
_RUN = f"""
import sys
sys.path.insert(0, {str(REPO / 'hooks')!r})
import _bootstrap
_bootstrap.load()
from token_roi.cli import main
rc = main(sys.argv[1:])
print(*sorted(m for m in {sorted(AVOIDED)!r} if m in sys.modules), sep=",", file=sys.stderr)
sys.exit(rc)
"""


def _report(env: dict, *args: str) -> tuple[str, set[str]]:
    proc = subprocess.run([sys.executable, "-S", "-c", _RUN, "daily", "--json", "-z", "UTC", *args],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return proc.stdout, set(filter(None, last.split(",")))


def test_a_warm_report_imports_none_of_the_heavy_modules(tmp_path):
    root = tmp_path / "claude-config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    old = time.time_ns() - 3600 * 10**9
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(old, old))           # settled, as between sessions
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(root), TOKEN_ROI_HOME=str(tmp_path / "home"))
    cold, _ = _report(env, "--agent", "claude")   # reads and prices everything
    warm, imported = _report(env, "--agent", "claude")
    assert warm == cold and '"totalTokens"' in warm
    assert imported == set(), f"a warm report imported {sorted(imported)}"
