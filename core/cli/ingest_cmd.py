"""token-roi ingest: read what is new in the agents' logs into the ledger, and say what was read.

Reports ingest by themselves; this command is for scripts, cron, and seeing what a scan found
(files, new calls, unreadable lines, folders that could not be read). It runs the same pipeline
as every report (core/ingest.py): the agents' logs, the manual ledger files, then pricing.
"""

from __future__ import annotations

import argparse
import sys

from ..adapters import get_adapter
from ..ingest import ingest
from ..store import Store
from .common import UserError, parse_agents, print_json


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--agent", metavar="NAME", action="append",
                   help="only this agent (claude, codex, ...); repeatable or comma-separated")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:

    agents = parse_agents(args.agent)
    for name in agents or ():
        if get_adapter(name) is None:
            raise UserError(f"--agent {name!r}: not supported by this version of token-roi yet")
    store = Store()
    try:
        stats = ingest(store, list(agents) if agents else None, show_progress=not args.json)
    finally:
        store.close()
    if args.json:
        print_json({
            "filesScanned": stats.sources, "filesRead": stats.sources_read, "bytesRead": stats.bytes_read,
            "callsAdded": stats.rows, "badLines": stats.bad_lines, "warnings": stats.warnings,
        })
    else:
        print(f"files scanned: {stats.sources:,}  read: {stats.sources_read:,} ({_size(stats.bytes_read)})")
        print(f"calls added or improved: {stats.rows:,}")
        print(f"unreadable lines skipped: {stats.bad_lines:,}")
    for warning in stats.warnings:
        print(f"token-roi: warning: {warning}", file=sys.stderr)
    return 0


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"
