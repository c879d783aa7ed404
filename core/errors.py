"""The base of every error that is a one-line, user-facing problem with something the user
controls (the ledger file, config, price overrides, ledger entries, rate tables): the CLI prints
it as is, with no traceback."""

from __future__ import annotations

import datetime as dt

from .paths import log_path


class TokenRoiError(Exception):
    code = 1   # the exit status when a command stops on it


def log_exception(exc: BaseException, where: str = "cli") -> str:
    """Append `exc`'s traceback to our log (token-roi.log in the state dir); the log's path, or
    "(log unavailable)"."""
    import traceback    # (only on a crash)
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now().isoformat()} {where}\n")
            f.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        return "(log unavailable)"
    return str(path)
