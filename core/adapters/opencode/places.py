"""Where OpenCode keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os

from ..fields import agent_data_dir


def opencode_dir() -> str:
    """`$OPENCODE_DATA_DIR`, else `$XDG_DATA_HOME/opencode` (~/.local/share/opencode)."""
    return agent_data_dir("OPENCODE_DATA_DIR", "opencode")


def present() -> bool:
    return os.path.isdir(opencode_dir())
