"""The one-line error of a command, and how it is printed. Kept apart from common.py: the CLI's
entry (cli/__init__.py) imports it, and that entry also serves `token-roi statusline`, on the
live path."""

from __future__ import annotations

import sys


class UserError(Exception):
    """A problem with what the user asked for: one line to stderr, non-zero exit."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def fail(message: str, code: int) -> int:
    print(f"token-roi: {message}", file=sys.stderr)
    return code
