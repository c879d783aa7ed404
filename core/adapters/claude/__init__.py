"""Claude Code: its format and traps are in README.md beside this file.

`reader` reads its transcripts (`ADAPTER`; also the parse the guard's live session count
uses). The reader's names are reachable from here too (`from token_roi.adapters.claude
import ADAPTER, subagent_meta`), imported on first use.
"""

from .. import lazy_reader

__getattr__ = lazy_reader(__name__)
