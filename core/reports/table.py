"""A small terminal table renderer every command can reuse.

Columns carry their own formatting; when the table is wider than allowed (100 columns by
default) it shortens text columns marked `shrink`, drops `optional` columns, then switches
numbers to compact form (1.2M), then drops the other droppable columns (highest `drop` first). Colour only on a
terminal and never when NO_COLOR is set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# -- number formats -------------------------------------------------------------------------------


def fmt_int(n: int | float | None) -> str:
    """12,345,678"""
    return "" if n is None else f"{int(n):,}"


def fmt_compact(n: int | float | None) -> str:
    """1,234 -> 1,234; 12,345 -> 12.3k; 999,999 -> 1.0M; 1,234,567 -> 1.2M; 2,345,678,901 -> 2.3B"""
    if n is None:
        return ""
    n = int(n)
    if abs(n) < 10_000:
        return f"{n:,}"
    for div, unit in ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T")):
        v = n / div
        text = f"{v:.1f}" if abs(v) < 99.95 else f"{v:.0f}"
        if abs(float(text)) < 1000 or unit == "T":
            return text + unit
    return f"{n:,}"  # not reached


def fmt_money(x: float | None) -> str:
    """$1,234.56 (2 decimals, always)."""
    if x is None:
        return "?"
    sign = "-" if x < 0 and round(x, 2) != 0 else ""
    return f"{sign}${abs(x):,.2f}"


# -- the table ------------------------------------------------------------------------------------


@dataclass
class Column:
    title: str
    align: str = "right"                                 # 'left' | 'right'
    fmt: Callable[[Any, bool], str] | None = None        # (value, compact) -> text; None = str(value)
    drop: int = 0                                        # > 0: may be dropped when too wide (highest first)
    shrink: bool = False                                 # text column that may be cut with '…' when too wide
    optional: bool = False                               # droppable even before numbers turn compact
    min_width: int = 6

    def text(self, value: Any, compact: bool) -> str:
        if isinstance(value, str) or value is None:
            return value or ""
        return self.fmt(value, compact) if self.fmt else str(value)


@dataclass
class Row:
    values: Sequence[Any]
    style: str = ""                                      # '' | 'dim' | 'bold' | 'warn'


def int_column(title: str, drop: int = 0) -> Column:
    """A token count: 1,234,567 normally, 1.2M when space is short."""
    return Column(title, "right", lambda v, compact: fmt_compact(v) if compact else fmt_int(v), drop)


def money_column(title: str = "Cost", drop: int = 0) -> Column:
    return Column(title, "right", lambda v, compact: fmt_money(v), drop)


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") is not None or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def terminal_width(default: int = 100) -> int:
    """COLUMNS when set, else the terminal's width, else `default` (pipes and files); never
    below 40."""
    try:
        cols = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        cols = 0
    if cols <= 0:
        try:
            cols = os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else default
        except (OSError, ValueError, AttributeError):
            cols = default
    return max(cols, 40)


_STYLES = {"dim": "\x1b[2m", "bold": "\x1b[1m", "warn": "\x1b[33m", "head": "\x1b[1;36m"}
_RESET = "\x1b[0m"
GAP = "  "


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _shrink(columns: Sequence[Column], keep: list[int], widths: list[int], excess: int) -> list[int]:
    """Narrow the shrinkable text columns (down to their minimum) by up to `excess` characters."""
    widths = list(widths)
    for j, i in enumerate(keep):
        if excess <= 0:
            break
        if columns[i].shrink:
            cut = min(excess, widths[j] - max(columns[i].min_width, len(columns[i].title)))
            if cut > 0:
                widths[j] -= cut
                excess -= cut
    return widths


def render(columns: Sequence[Column], rows: Sequence[Row | Sequence[Any]], *, totals: Row | Sequence[Any] | None = None,
           width: int | None = None, color: bool | None = None, title: str | None = None) -> str:
    """The table as text (no trailing newline). `rows`/`totals` hold raw values (formatted by
    each column) or ready strings; a Row may carry a style."""
    width = width or 100
    color = use_color() if color is None else color
    body = [r if isinstance(r, Row) else Row(r) for r in rows]
    total = None if totals is None else (totals if isinstance(totals, Row) else Row(totals, "bold"))
    every = body + ([total] if total else [])

    def layout(compact: bool, keep: list[int]) -> tuple[list[list[str]], list[int]]:
        cells = [[columns[i].text(r.values[i], compact) for i in keep] for r in every]
        widths = [max([len(columns[i].title)] + [len(c[j]) for c in cells]) for j, i in enumerate(keep)]
        return cells, widths

    def total_width(widths: list[int]) -> int:
        return sum(widths) + len(GAP) * (len(widths) - 1)

    keep = list(range(len(columns)))
    compact = False
    cells, widths = layout(compact, keep)
    widths = _shrink(columns, keep, widths, total_width(widths) - width)
    droppable = sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop)
    # Optional columns go before exact figures turn compact; other droppable ones only after.
    while total_width(widths) > width and droppable and columns[droppable[0]].optional:
        keep.remove(droppable.pop(0))
        cells, widths = layout(compact, keep)
        widths = _shrink(columns, keep, widths, total_width(widths) - width)
    if total_width(widths) > width:
        compact = True
        cells, widths = layout(compact, keep)
        widths = _shrink(columns, keep, widths, total_width(widths) - width)
    while total_width(widths) > width and droppable:
        keep.remove(droppable.pop(0))
        cells, widths = layout(compact, keep)
        widths = _shrink(columns, keep, widths, total_width(widths) - width)

    def line(texts: list[str], style: str = "") -> str:
        parts = []
        for j, i in enumerate(keep):
            t = _cut(texts[j], widths[j])
            parts.append(t.rjust(widths[j]) if columns[i].align == "right" else t.ljust(widths[j]))
        s = GAP.join(parts).rstrip()
        return f"{_STYLES[style]}{s}{_RESET}" if (color and style in _STYLES) else s

    rule = "─" * total_width(widths)
    out = []
    if title:
        out.append(f"{_STYLES['bold']}{title}{_RESET}" if color else title)
    out.append(line([columns[i].title for i in keep], "head"))
    out.append(rule)
    for r, c in zip(body, cells):
        out.append(line(c, r.style))
    if total:
        out.append(rule)
        out.append(line(cells[-1], total.style))
    return "\n".join(out)
