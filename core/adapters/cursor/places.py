"""Where Cursor keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os
import sys


def cursor_user_dirs() -> list[str]:
    """Cursor's user folder on Linux (`$XDG_CONFIG_HOME`, absolute only, else ~/.config), macOS
    and Windows, in that order."""
    home = os.path.expanduser("~")
    out = []
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        out.append(os.path.join(xdg, "Cursor"))
    out.append(os.path.join(home, ".config", "Cursor"))
    out.append(os.path.join(home, "Library", "Application Support", "Cursor"))
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        out.append(os.path.join(os.environ["APPDATA"], "Cursor"))
    return out


def cursor_db(user_dir: str) -> str:
    return os.path.join(user_dir, "User", "globalStorage", "state.vscdb")


def present() -> bool:
    return any(os.path.isfile(cursor_db(d)) for d in cursor_user_dirs())
