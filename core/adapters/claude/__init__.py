"""Claude Code: its format and traps are in README.md beside this file.

`reader` reads its transcripts (`ADAPTER`; also the parse the guard's live session count
uses). The reader's names are reachable from here too (`from token_roi.adapters.claude
import ADAPTER, subagent_meta`), imported on first use.
"""

import importlib


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.reader"), name)
