"""Where Codex CLI keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os


def codex_home() -> str:
    """`$CODEX_HOME`, else `~/.codex`."""
    env = os.environ.get("CODEX_HOME", "").strip()
    return os.path.expanduser(env) if env else os.path.join(os.path.expanduser("~"), ".codex")


def present() -> bool:
    return os.path.isdir(codex_home())
