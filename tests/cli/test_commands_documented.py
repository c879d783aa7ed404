"""Every command of `token-roi` answers --help (usage, its one-line description, exit 0) and is
documented: named as `token-roi <command>` in README.md or a page of docs/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from token_roi.cli import COMMANDS

REPO = Path(__file__).resolve().parents[2]


def documentation() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command):
    proc = subprocess.run([sys.executable, "-m", "token_roi.cli", command, "--help"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: token-roi {command}"), proc.stdout[:200]
    description = COMMANDS[command][1]
    assert " ".join(description.split()[:4]) in " ".join(proc.stdout.split()), proc.stdout


def test_every_command_is_documented():
    text = documentation()
    missing = [c for c in COMMANDS if not re.search(rf"token-roi {re.escape(c)}\b", text)]
    assert missing == [], f"commands named nowhere in README.md or docs/*.md: {missing}"


def test_the_command_list_is_what_help_shows():
    proc = subprocess.run([sys.executable, "-m", "token_roi.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in COMMANDS:
        assert re.search(rf"^\s+{re.escape(command)}\s", proc.stdout, re.M), command
