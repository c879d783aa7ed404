"""Where Hermes keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os


def hermes_bases() -> list[str]:
    """`$HERMES_HOME` (set), then `~/.hermes`: every Hermes home and profile lies in one."""
    env = os.environ.get("HERMES_HOME")
    return ([os.path.expanduser(env)] if env else []) + [os.path.join(os.path.expanduser("~"), ".hermes")]


def present() -> bool:
    return any(os.path.isdir(b) for b in hermes_bases())
