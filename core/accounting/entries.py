"""One manual ledger entry: a JSON object on one line of a git-tracked file
(core/schema/ledger-entry.schema.json). Written here (`token-roi log`); read as a source by
adapters/entries, whose parsing this module re-exports."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

from ..adapters.entries import SCHEMA, LedgerError, parse_line, parse_lines, parse_ts, problems_of, to_row

__all__ = ["SCHEMA", "LedgerError", "append_entry", "iso_utc", "make_entry", "new_id", "parse_line", "parse_lines",
           "parse_ts", "problems_of", "to_row"]


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def iso_utc(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_entry(*, agent: str, model: str, category: str, input_tokens: int, output_tokens: int,
               cache_read_tokens: int = 0, cache_write_tokens: int = 0, cost_usd: float | None,
               cost_source: str, feature: str | None = None, session: str | None = None,
               notes: str | None = None, when: dt.datetime | None = None, entry_id: str | None = None) -> dict:
    entry = {
        "id": entry_id or new_id(),
        "ts": iso_utc(when or dt.datetime.now(dt.timezone.utc)),
        "agent": agent,
        "model": model,
        "category": category,
        "feature": feature,
        "session": session,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_write_tokens": cache_write_tokens,
        "cost_usd": None if cost_usd is None else round(cost_usd, 6),
        "cost_source": cost_source,
        "notes": notes,
    }
    problems = problems_of(entry)
    if problems:
        key, value, allowed = problems[0]
        raise LedgerError(f"entry {key} = {value} is not allowed: expected {allowed}")
    return entry


def append_entry(path: Path, entry: dict) -> None:
    """Append one line; a file whose last line lacks its newline gets one first, so two entries
    never share a line. O_APPEND keeps concurrent writers' lines whole."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    line = "\n" + line
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
