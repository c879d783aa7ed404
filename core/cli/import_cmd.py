"""token-roi import cursor-csv FILE: bring usage an agent only exports online into the ledger."""

from __future__ import annotations

import argparse

from ..adapters.cursor.reader import CsvFormatError, import_usage_csv
from ..store import Store
from .agents import _iso
from .common import UserError, print_json

KINDS = {"cursor-csv": "Cursor's usage CSV (cursor.com > Dashboard > Usage > Export CSV)"}


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("kind", choices=sorted(KINDS), help="what the file is: " +
                   "; ".join(f"{k}: {v}" for k, v in KINDS.items()))
    p.add_argument("file", metavar="FILE", help="the downloaded file")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:

    store = Store()
    try:
        try:
            result = import_usage_csv(store, args.file)
        except CsvFormatError as exc:
            raise UserError(str(exc)) from None
    finally:
        store.close()
    summary = {"file": args.file, "kind": args.kind, "rows": result.rows, "new": result.stored,
               "localRowsReplaced": result.local_replaced,
               "from": _iso(result.first_ts), "to": _iso(result.last_ts)}
    if args.json:
        print_json(summary)
    elif not result.rows:
        print(f"{args.file}: no usage rows")
    else:
        already = result.rows - result.stored
        print(f"Imported {result.rows:,} Cursor requests from {args.file} "
              f"({summary['from'][:10]} to {summary['to'][:10]}): {result.stored:,} new"
              + (f", {already:,} already in the ledger" if already else "")
              + (f", {result.local_replaced:,} local-store estimates replaced" if result.local_replaced else "") + ".")
    return 0
