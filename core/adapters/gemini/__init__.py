"""Gemini CLI: its format and traps are in README.md beside this file.

`places` says where it keeps its data (asked on every report, cheaply); `reader` reads it
(`ADAPTER`). This package imports nothing itself, so a report on a machine without
Gemini CLI never loads the reader; the reader's names are still reachable from here
(`from token_roi.adapters.gemini import ADAPTER`), imported on first use.
"""

from .. import lazy_reader

__getattr__ = lazy_reader(__name__)
