"""Where OpenClaw keeps its data, as plain strings, and whether it is on this machine at all.

Asked on every report without importing the reader (adapters.available()); the reader takes
its folders from these same rules, so when present() is False its roots() are empty.
"""

from __future__ import annotations

import os


def openclaw_candidates() -> list[str]:
    """`$OPENCLAW_STATE_DIR` (set), ~/.openclaw, the ~/.openclaw-<profile> folders (sorted),
    then the legacy ~/.clawdbot and ~/.moltbot."""
    home = os.path.expanduser("~")
    env = os.environ.get("OPENCLAW_STATE_DIR")
    out = [os.path.expanduser(env)] if env else []
    out.append(os.path.join(home, ".openclaw"))
    try:
        names = os.listdir(home)
    except OSError:
        names = []
    out.extend(sorted(p for p in (os.path.join(home, n) for n in names if n.startswith(".openclaw-"))
                      if os.path.isdir(p)))
    out += [os.path.join(home, ".clawdbot"), os.path.join(home, ".moltbot")]
    return out


def present() -> bool:
    return any(os.path.isdir(os.path.join(c, "agents")) for c in openclaw_candidates())
