"""`token-roi setup claude`: Claude Code settings a plugin cannot make itself.

--statusline writes the `statusLine` entry of settings.json (core/limits/claude_settings.py);
--remove takes it out again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..limits import claude_settings
from .common import UserError


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("agent", choices=["claude"], help="the agent to set up")
    p.add_argument("--statusline", action="store_true",
                   help="show token-roi's status line (cost, today's spend, 5-hour and 7-day plan limits)")
    p.add_argument("--remove", action="store_true", help="undo: take token-roi's status line out")
    p.add_argument("--settings", metavar="FILE", type=Path,
                   help="the settings.json to change (default: $CLAUDE_CONFIG_DIR or ~/.claude)")


def run(args: argparse.Namespace) -> int:
    if not args.statusline:
        raise UserError("say what to set up: --statusline")
    try:
        if args.remove:
            path, backup, what = claude_settings.remove(args.settings)
            print(f"{path}: {what}" + (f" (backup: {backup})" if backup else ""))
            return 0
        path, backup, command = claude_settings.install(args.settings)
    except claude_settings.SettingsError as exc:
        raise UserError(str(exc), 1) from None
    except OSError as exc:
        raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}", 1) from None
    print(f"{path}: statusLine runs {command}" + (f" (backup: {backup})" if backup else ""))
    print("Restart Claude Code (or start a new session) to see it; undo with "
          "`token-roi setup claude --statusline --remove`.")
    return 0
