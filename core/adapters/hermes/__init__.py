"""Hermes: its format and traps are in README.md beside this file.

`places` says where it keeps its data (asked on every report, cheaply); `reader` reads it
(`ADAPTER`). This package imports nothing itself, so a report on a machine without
Hermes never loads the reader; the reader's names are still reachable from here
(`from token_roi.adapters.hermes import ADAPTER`), imported on first use.
"""

import importlib


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.reader"), name)
