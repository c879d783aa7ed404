"""Where GitHub Copilot CLI keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os


def copilot_home() -> str:
    """`$COPILOT_HOME`, else `~/.copilot`."""
    env = os.environ.get("COPILOT_HOME", "").strip()
    return os.path.expanduser(env) if env else os.path.join(os.path.expanduser("~"), ".copilot")


def present() -> bool:
    return os.path.isfile(os.path.join(copilot_home(), "session-store.db"))
