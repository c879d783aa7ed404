"""The generic table renderer and the report tables built on it."""

from __future__ import annotations

import datetime as dt
import io

from reports_data import call, make_store, ms

from token_roi.reports import query
from token_roi.reports.blocks import usage_blocks
from token_roi.reports.query import Filters
from token_roi.reports.table import (
    Column,
    Row,
    fmt_compact,
    fmt_int,
    fmt_money,
    int_column,
    money_column,
    render,
    use_color,
)
from token_roi.reports.text import blocks_table, period_table, session_table

UTC = dt.timezone.utc


def test_number_formats():
    assert fmt_int(1234567) == "1,234,567"
    assert fmt_money(1234.5) == "$1,234.50" and fmt_money(0) == "$0.00" and fmt_money(0.004) == "$0.00"
    assert fmt_money(-3.2) == "-$3.20"
    assert [fmt_compact(n) for n in (999, 9_999, 12_345, 99_960, 999_999, 1_234_567, 123_456_789, 2_345_678_901)] == [
        "999", "9,999", "12.3k", "100k", "1.0M", "1.2M", "123M", "2.3B"]


def test_render_aligns_columns_and_adds_a_totals_row():
    cols = [Column("Name", "left"), int_column("Tokens"), money_column()]
    out = render(cols, [["alpha", 1234, 1.5], ["b", 7, 0.25]], totals=["Total", 1241, 1.75], color=False)
    lines = out.splitlines()
    assert lines[0] == "Name   Tokens   Cost"
    assert lines[2] == "alpha   1,234  $1.50"
    assert lines[3] == "b           7  $0.25"
    assert set(lines[4]) == {"─"} and lines[5] == "Total   1,241  $1.75"


def test_render_fits_the_width_shrink_then_optional_then_compact_then_drop():
    cols = [Column("Key", "left"), Column("Description", "left", shrink=True, min_width=8),
            int_column("Big"), int_column("Optional", drop=1)]
    rows = [["k1", "a rather long description of this row", 123_456_789, 5]]
    wide = render(cols, rows, width=200, color=False)
    assert "123,456,789" in wide and "a rather long description of this row" in wide and "Optional" in wide
    narrow = render(cols, rows, width=40, color=False)          # text shortened, figures exact
    assert all(len(line) <= 40 for line in narrow.splitlines())
    assert "123,456,789" in narrow and "a rather lo…" in narrow and "Optional" in narrow
    tiny = render(cols, rows, width=30, color=False)            # then compact, then dropped
    assert all(len(line) <= 30 for line in tiny.splitlines())
    assert "123M" in tiny and "Optional" not in tiny


def test_optional_columns_go_before_figures_turn_compact():
    cols = [Column("Key", "left"), Column("Who", "left", drop=9, optional=True), int_column("Big"),
            int_column("Other", drop=1)]
    rows = [["k1", "claude, codex", 123_456_789, 5]]
    out = render(cols, rows, width=30, color=False)
    assert "Who" not in out and "123,456,789" in out and "Other" in out
    out = render(cols, rows, width=16, color=False)
    assert "123M" in out and "Other" in out
    out = render(cols, rows, width=14, color=False)
    assert "123M" in out and "Other" not in out


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Tty()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    plain = render([Column("A", "left")], [Row(["x"], "bold")], color=False)
    coloured = render([Column("A", "left")], [Row(["x"], "bold")], color=True)
    assert "\x1b[" not in plain and "\x1b[1mx\x1b[0m" in coloured


def big_store():
    calls = []
    for day in range(1, 8):
        calls.append(call(f"2026-05-0{day}T10:00:00Z", model="claude-opus-4-5-20251101", inp=12_345_678,
                          out=2_345_678, cr=987_654_321, cw5=12_345_678, cw1=1_234_567, cost=1234.567))
        calls.append(call(f"2026-05-0{day}T11:00:00Z", model="claude-sonnet-4-5-20250929", inp=1, out=2, cost=0.01))
    calls.append(call("2026-05-03T12:00:00Z", model="mystery-model", inp=40, out=2, cost=None))
    return make_store(calls)


def test_daily_table_fits_100_columns_with_breakdown_and_flags_unpriced():
    store = big_store()
    groups = query.usage_by_period(store, "daily", Filters(), UTC)
    out = period_table("daily", groups, query.totals(groups), breakdown=True, width=100)
    lines = out.splitlines()
    assert all(len(line) <= 100 for line in lines), max(map(len, lines))
    day3 = next(line for line in lines if line.startswith("2026-05-03"))
    assert day3.endswith("$1,234.58*")                      # priced part, flagged as incomplete
    assert any("└ mystery-model" in line and line.endswith("n/a*") for line in lines)
    assert any("└ opus-4-5" in line for line in lines)      # dated names shortened
    assert lines[-2].startswith("Total") and lines[-2].endswith("$8,642.04*")
    assert lines[-1] == "* includes unpriced model mystery-model: tokens counted, cost unknown"


def test_full_figures_when_there_is_room():
    store = big_store()
    groups = query.usage_by_period(store, "monthly", Filters(), UTC)
    out = period_table("monthly", groups, query.totals(groups), width=160)
    assert "6,913,580,247" in out       # 7 x 987,654,321 cache reads


def test_session_table_and_blocks_table_fit_100_columns():
    store = big_store()
    sessions = query.usage_by_session(store, Filters(), UTC)
    out = session_table(sessions, query.totals(sessions), UTC, breakdown=True, width=100)
    assert all(len(line) <= 100 for line in out.splitlines())
    assert "u/proj" in out and "sess-1" in out
    now = ms("2026-05-07T12:30:00Z")
    blocks = usage_blocks(store, Filters(), UTC, now_ms=now)
    out = blocks_table(blocks, UTC, now, breakdown=True, width=100)
    assert all(len(line) <= 100 for line in out.splitlines())
    assert "ACTIVE" in out and "PROJECTED" in out and "gap" in out
    assert "Active block burn rate:" in out and "/h" in out


def test_blocks_table_projection_figures():
    store = make_store([call("2026-05-04T21:30:00Z", inp=1000, cost=0.5),
                        call("2026-05-04T22:30:00Z", inp=2000, cost=1.0)])
    now = ms("2026-05-04T23:10:00Z")
    out = blocks_table(usage_blocks(store, Filters(), UTC, now_ms=now), UTC, now, width=100)
    projected = next(line for line in out.splitlines() if "PROJECTED" in line)
    assert "11,500" in projected and projected.rstrip().endswith("$5.75")
    assert "Active block burn rate: 50 tokens/min (3,000/h), $1.50/h; ends 2026-05-05 02:00" in out
    assert "ACTIVE 2h 10m in, 2h 50m left" in out


def test_blocks_table_gap_lengths_read_in_hours_or_days():
    store = make_store([call("2026-05-04T10:00:00Z", inp=1), call("2026-05-04T20:00:00Z", inp=1),
                        call("2026-05-10T20:30:00Z", inp=1)])
    now = ms("2026-06-01T00:00:00Z")
    out = blocks_table(usage_blocks(store, Filters(), UTC, now_ms=now), UTC, now, width=100)
    assert "gap 5h 00m" in out and "gap 5d 19h" in out      # 15:00->20:00, 05-05 01:00->05-10 20:30
