"""token-roi agents: every supported agent, whether it is on this machine, and what the ledger holds."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import textwrap
from pathlib import Path

from .. import adapters
from ..ingest import ingest
from ..reports.table import Column, Row, int_column, terminal_width, use_color
from ..reports.table import render as render_table
from ..store import Store
from .common import print_json, resolve_timezone

NOT_SUPPORTED = "not yet supported by this version of token-roi"


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("-z", "--timezone", metavar="ZONE", help="IANA time zone for dates (default: system)")
    p.add_argument("--no-ingest", action="store_true", help="show the ledger as it is, without reading new logs first")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def agent_status(store) -> list[dict]:
    """One dict per agent name in adapters.AGENT_NAMES, in report order."""

    counts = {r[0]: r[1:] for r in store.db.execute(
        "SELECT agent, COUNT(DISTINCT session_id), COUNT(*), MIN(ts), MAX(ts) FROM calls GROUP BY agent")}
    out = []
    for name in adapters.AGENT_NAMES:
        adapter = adapters.get_adapter(name)
        sessions, calls, first, last = counts.get(name, (0, 0, None, None))
        item = {"agent": name, "title": getattr(adapter, "title", "") or name, "supported": adapter is not None,
                "detected": False, "roots": [], "sessions": sessions, "calls": calls,
                "firstActivity": _iso(first), "lastActivity": _iso(last),
                "untracked": (adapter.untracked if adapter is not None else NOT_SUPPORTED) or ""}
        if adapter is not None:
            try:
                item["roots"] = [str(p) for p in adapter.roots()]
            except OSError as exc:
                item["error"] = f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}"
            item["detected"] = bool(item["roots"])
        out.append(item)
    return out


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _date(iso: str | None, tz: dt.tzinfo) -> str:
    if not iso:
        return "-"
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz).strftime("%Y-%m-%d")


def _where(roots: list[str]) -> str:
    if not roots:
        return "-"
    home = str(Path.home())
    first = roots[0]
    if first == home or first.startswith(home + "/"):
        first = "~" + first[len(home):]
    return first + (f" (+{len(roots) - 1})" if len(roots) > 1 else "")


def render(items: list[dict], tz: dt.tzinfo, width: int, color: bool) -> str:

    columns = [
        Column("Agent", "left"),
        Column("Detected", "left"),
        int_column("Sessions"),
        int_column("Calls"),
        Column("First", "left", drop=2),
        Column("Last", "left", drop=1),
        Column("Where", "left", shrink=True, min_width=12),
    ]
    rows = []
    for it in items:
        detected = "yes" if it["detected"] else ("no" if it["supported"] else "unsupported")
        rows.append(Row([it["agent"], detected, it["sessions"], it["calls"], _date(it["firstActivity"], tz),
                         _date(it["lastActivity"], tz), _where(it["roots"])], "" if it["detected"] else "dim"))
    lines = [render_table(columns, rows, width=width, color=color)]
    lines.append("")
    lines.append("What cannot be tracked:")
    label = max(len(it["agent"]) for it in items)
    for it in items:
        text = it["untracked"] or "-"
        lines.extend(_wrap(f"  {it['agent'].ljust(label)}  ", text, width))
    for it in items:
        if it.get("error"):
            lines.append(f"token-roi: warning: {it['agent']}: {it['error']}")
    return "\n".join(lines)


def _wrap(prefix: str, text: str, width: int) -> list[str]:
    body = textwrap.wrap(text, max(20, width - len(prefix))) or [""]
    return [prefix + body[0]] + [" " * len(prefix) + b for b in body[1:]]


def run(args: argparse.Namespace) -> int:

    tz = resolve_timezone(args.timezone)
    store = Store()
    try:
        if not args.no_ingest:
            stats = ingest(store, show_progress=not args.json)
            for w in stats.warnings:
                print(f"token-roi: warning: {w}", file=sys.stderr)
        items = agent_status(store)
    finally:
        store.close()
    if args.json:
        print_json({"agents": items})
    else:
        print(render(items, tz, terminal_width(), use_color()))
    return 0
