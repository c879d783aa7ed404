"""token-roi setup claude: the Claude Code settings a plugin cannot make itself.

`token-roi setup claude` makes `/cost-report` work by that name everywhere in Claude Code;
`token-roi setup claude --statusline` writes the `statusLine` entry of settings.json instead
(core/limits/claude_settings.py). `--remove` undoes either.

A plugin's commands are namespaced: the plugin's `/cost-report` is `/token-roi:cost-report`.
Interactive Claude Code autocompletes the short name, but print mode (`claude -p "/cost-report"`)
and scripts need the full one. A user command (`<config dir>/commands/cost-report.md`, the
config dir being $CLAUDE_CONFIG_DIR or ~/.claude) is not namespaced, so this installs one that
runs the same report. Idempotent; a different file already there is backed up first
(`cost-report.md.bak-<UTC time>`), and `--remove` deletes ours and puts that backup back.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import token_roi

from ..limits import claude_settings
from .common import UserError, fail

MARKER = "# installed by `token-roi setup claude`"
BACKUP_GLOB = "cost-report.md.bak-*"


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("target", choices=["claude"], help="the agent to set up (claude: Claude Code)")
    p.add_argument("--statusline", action="store_true",
                   help="show token-roi's status line (cost, today's spend, 5-hour and 7-day plan limits) "
                        "instead of installing /cost-report")
    p.add_argument("--remove", action="store_true",
                   help="undo: remove the /cost-report user command (restoring the file it replaced), "
                        "or with --statusline take token-roi's status line out")
    p.add_argument("--settings", metavar="FILE", type=Path,
                   help="with --statusline: the settings.json to change (default: $CLAUDE_CONFIG_DIR or ~/.claude)")


def claude_config_dir() -> Path:
    """Claude Code's config folder: $CLAUDE_CONFIG_DIR, else ~/.claude."""
    override = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path.home() / ".claude"


def command_path() -> Path:
    return claude_config_dir() / "commands" / "cost-report.md"


def token_roi_executable() -> str:
    """An absolute command that runs this token-roi: the one on PATH, else the script that is
    running, else the plugin's launcher beside the package (a source checkout)."""
    found = shutil.which("token-roi")
    if found:
        return str(Path(found).resolve())
    argv0 = Path(sys.argv[0])
    if argv0.name == "token-roi" and argv0.exists():
        return str(argv0.resolve())
    launcher = Path(token_roi.__file__).resolve().parent.parent / "scripts" / "token-roi"
    if launcher.exists():
        return str(launcher)
    return "token-roi"


def command_text(exe: str) -> str:
    """The user command: the plugin's commands/cost-report.md, run through `exe`."""
    quoted = '"' + exe.replace('"', '\\"') + '"'
    return f"""---
{MARKER}; `token-roi setup claude --remove` takes it away
description: This session's tokens and cost, loop attempts per agent and tool, fast-tier use and ROI score (token-roi)
argument-hint: "[--session ID] [--json]"
allowed-tools: Bash({exe}:*), Bash(token-roi:*)
---
!`{quoted} cost-report --session "${{CLAUDE_SESSION_ID}}" $ARGUMENTS`

Show the report above to the user as it is (it is already formatted), then add at most three
short sentences: whether the session is in a loop (any "⚠ LOOP" line), what the ROI score says
about value per token, and one concrete way to spend fewer tokens if the assessment is not
"within budget". Do not re-run the command or estimate figures yourself: the report is measured.
"""


def _backups(folder: Path) -> list[Path]:
    return sorted(folder.glob(BACKUP_GLOB))


def install(path: Path, text: str) -> str:
    """Write the command; returns what happened, in words."""
    if path.exists():
        current = path.read_text(encoding="utf-8", errors="replace")
        if current == text:
            return f"/cost-report is already installed: {path}"
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        backup = path.with_name(f"{path.name}.bak-{stamp}")
        if MARKER in current:
            path.unlink()            # our own older copy: replaced, nothing of the user's to keep
            replaced = "updated"
        else:
            shutil.copy2(path, backup)
            replaced = f"installed; the file that was there is backed up to {backup}"
    else:
        replaced = "installed"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return f"/cost-report {replaced}: {path}"


def remove(path: Path) -> tuple[int, str]:
    if not path.exists():
        return 0, f"/cost-report is not installed as a user command ({path}): nothing to remove"
    if MARKER not in path.read_text(encoding="utf-8", errors="replace"):
        return 1, f"{path} was not installed by token-roi: left as it is"
    path.unlink()
    backups = _backups(path.parent)
    if backups:
        os.replace(backups[-1], path)
        return 0, f"/cost-report removed; restored the earlier {path} from {backups[-1].name}"
    return 0, f"/cost-report removed: {path}"


def statusline(args: argparse.Namespace) -> int:
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


def run(args: argparse.Namespace) -> int:
    if args.statusline:
        return statusline(args)
    if args.settings:
        raise UserError("--settings goes with --statusline")
    path = command_path()
    try:
        if args.remove:
            code, message = remove(path)
            if code:
                return fail(message, code)
            print(f"token-roi: {message}")
            return 0
        print(f"token-roi: {install(path, command_text(token_roi_executable()))}")
    except OSError as exc:
        return fail(f"{exc.filename or path}: {exc.strerror or exc}", 1)
    print("  Use it as /cost-report (also in `claude -p \"/cost-report\"`); the plugin's own name is "
          "/token-roi:cost-report.")
    return 0
