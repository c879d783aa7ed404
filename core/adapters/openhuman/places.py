"""Where OpenHuman keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os


def openhuman_base() -> str:
    """`$OPENHUMAN_WORKSPACE` (set), else ~/.openhuman: every workspace lies in it."""
    env = os.environ.get("OPENHUMAN_WORKSPACE")
    return os.path.expanduser(env) if env else os.path.join(os.path.expanduser("~"), ".openhuman")


def present() -> bool:
    return os.path.isdir(openhuman_base())
