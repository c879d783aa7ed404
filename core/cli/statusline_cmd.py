"""`token-roi statusline`: Claude Code's status line (core/guard/statusline.py). `entry()` runs it
before any argument parsing; this module serves `token-roi statusline --help` and main()."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.epilog = ("Reads Claude Code's status JSON on stdin and prints one line. Set it up with "
                "`token-roi setup claude --statusline`; docs/limits.md explains the figures.")


def run(args: argparse.Namespace) -> int:
    from ..guard.statusline import main
    return main()
