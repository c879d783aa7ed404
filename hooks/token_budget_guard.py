#!/usr/bin/env python3
"""token-roi's Claude Code hook, one script for every event (hooks/hooks.json, run through
hooks/run). The work is in _hook_main.py, loaded from cached bytecode: a script is compiled anew
on every run."""

import gc

# A hook lives ~40 ms and makes no garbage cycles worth collecting; importing ~90 modules would
# otherwise set off ~20 collections (~1.5 ms). Memory is unchanged, also reading 200 MB at once.
gc.disable()

try:
    from _hook_main import main, run_as_script  # noqa: F401 -- main: run in-process by tests/guard/test_hooks_fuzz.py
except BaseException:        # never break Claude Code, even on a Python too old to compile it
    import os
    os._exit(0)

if __name__ == "__main__":
    run_as_script()
