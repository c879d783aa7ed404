"""Where Amp keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os

from ..fields import agent_data_dir


def amp_dir() -> str:
    """`$AMP_DATA_DIR`, else `$XDG_DATA_HOME/amp` (~/.local/share/amp)."""
    return agent_data_dir("AMP_DATA_DIR", "amp")


def present() -> bool:
    return os.path.isdir(os.path.join(amp_dir(), "threads"))
