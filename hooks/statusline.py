#!/usr/bin/env python3
"""token-roi's Claude Code status line (`token-roi setup claude --statusline` points the user's
`statusLine` setting here, run through hooks/run with -S -E like the hooks): the same as
`token-roi statusline` without site-packages and the CLI's start-up. Prints one line, exits 0
whatever happens."""

import gc
import os
import sys

gc.disable()


def _run() -> None:
    try:
        import _bootstrap
        _bootstrap.load()
        from token_roi.guard.statusline import main
    except BaseException:
        sys.stdout.write("token-roi\n")     # the package cannot load: still one line
        return
    main()


if __name__ == "__main__":
    try:
        _run()
        sys.stdout.flush()
    except BaseException:
        pass
    os._exit(0)
