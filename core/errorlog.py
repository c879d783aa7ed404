"""Our own log (`token-roi.log` in the state dir): where a command or the dashboard writes the
traceback of an error nobody expected, and the one line on screen points."""

from __future__ import annotations

import datetime as dt
import traceback

from .paths import log_path
from .safe_io import private, tighten


def log_exception(exc: BaseException, where: str = "cli") -> str:
    """Append `exc`'s traceback to our log (token-roi.log in the state dir); the log's path, or
    "(log unavailable)"."""
    path = log_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tighten(path)
        with open(path, "a", encoding="utf-8", opener=private) as f:
            f.write(f"--- {dt.datetime.now().isoformat()} {where}\n")
            f.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        return "(log unavailable)"
    return str(path)
