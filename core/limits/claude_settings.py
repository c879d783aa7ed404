"""The `statusLine` entry of Claude Code's settings.json (`token-roi setup claude --statusline`).

A plugin cannot set the status line: the user's settings must name the command. This writes it,
keeping every other setting as it was, after a backup of the file (settings.json.token-roi.bak);
the status line the user had before is remembered and put back by `--remove`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from .. import paths


class SettingsError(Exception):
    """settings.json cannot be read or written as it is: nothing was changed."""


def settings_path() -> Path:
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".claude") / "settings.json"


def _previous_path() -> Path:
    return paths.state_dir() / "limits" / "statusline-previous.json"


def statusline_command() -> str:
    """The fastest command that runs our status line here: the plugin's launcher (the hooks'
    interpreter, no site-packages) when the package sits in a plugin or source checkout, else the
    installed `token-roi statusline`."""
    package = Path(__file__).resolve().parent.parent
    root = package.parent
    launcher, script = root / "hooks" / "run", root / "hooks" / "statusline.py"
    if launcher.is_file() and script.is_file() and (root / "core").resolve() == package:
        return f"/bin/sh {shlex.quote(str(launcher))} -S -E {shlex.quote(str(script))}"
    exe = shutil.which("token-roi") or (sys.argv[0] if sys.argv and sys.argv[0].endswith("token-roi") else None)
    return f"{shlex.quote(os.path.abspath(exe))} statusline" if exe else "token-roi statusline"


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc}); fix it first, nothing was changed") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a JSON object, found {type(data).__name__}; nothing was changed")
    return data


def _write(path: Path, data: dict) -> Path | None:
    """Back the current file up, then replace it atomically; returns the backup's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if path.exists():
        backup = path.with_name(path.name + ".token-roi.bak")
        shutil.copy2(path, backup)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if backup is not None:
        shutil.copymode(backup, tmp)
    os.replace(tmp, path)
    return backup


def is_ours(entry) -> bool:
    """A statusLine entry this module wrote: the plugin's launcher or `token-roi statusline`."""
    if not isinstance(entry, dict):
        return False
    command = str(entry.get("command", ""))
    return ("hooks/statusline.py" in command and "hooks/run" in command) or (
        "token-roi" in command and command.rstrip().endswith(" statusline"))


def install(path: Path | None = None, command: str | None = None) -> tuple[Path, Path | None, str]:
    """Point statusLine at our command; (settings file, backup or None, command)."""
    path = path or settings_path()
    data = _read(path)
    command = command or statusline_command()
    current = data.get("statusLine")
    if current is not None and not is_ours(current):
        prev = _previous_path()
        prev.parent.mkdir(parents=True, exist_ok=True)
        prev.write_text(json.dumps({"settings": str(path), "statusLine": current}), encoding="utf-8")
    data["statusLine"] = {"type": "command", "command": command, "padding": 0}
    backup = _write(path, data)
    return path, backup, command


def remove(path: Path | None = None) -> tuple[Path, Path | None, str]:
    """Take our statusLine out (putting back the one we replaced); (file, backup, what happened)."""
    path = path or settings_path()
    data = _read(path)
    if not is_ours(data.get("statusLine")):
        return path, None, "no token-roi status line in it: left unchanged"
    previous = None
    prev_file = _previous_path()
    try:
        saved = json.loads(prev_file.read_text(encoding="utf-8"))
        if saved.get("settings") == str(path):
            previous = saved.get("statusLine")
    except (OSError, ValueError, AttributeError):
        pass
    if previous is not None:
        data["statusLine"] = previous
        what = "restored the status line it had before"
    else:
        del data["statusLine"]
        what = "removed the status line"
    backup = _write(path, data)
    try:
        prev_file.unlink()
    except OSError:
        pass
    return path, backup, what
