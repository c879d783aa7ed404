"""Where Gemini CLI keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os


def gemini_dir() -> str:
    """`$GEMINI_CLI_HOME/.gemini`, else `~/.gemini`."""
    base = os.environ.get("GEMINI_CLI_HOME", "").strip()
    return os.path.join(os.path.expanduser(base) if base else os.path.expanduser("~"), ".gemini")


def present() -> bool:
    return os.path.isdir(os.path.join(gemini_dir(), "tmp"))
