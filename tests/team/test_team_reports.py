"""`daily|weekly|monthly|session|blocks --team` equal the truth: the local reports of a machine
holding the union of every machine's transcripts, member by member; totals over all."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from team_data import write_session

START = dt.datetime(2026, 3, 28, 20, 0, tzinfo=dt.timezone.utc)   # across Europe's DST change (03-29)


def team(machines, capsys):
    """alice on two machines (one session on both), bob on one; `union_*`: a machine with all of
    each member's transcripts, whose local reports are the truth."""
    a1, a2, b1 = machines("alice-laptop", "alice"), machines("alice-desktop", "alice"), machines("bob", "bob")
    write_session(a1.home, "/home/alice/src/api", "s-a1", START, 50, 1)
    write_session(a1.home, "/home/alice/src/api", "s-shared", START + dt.timedelta(days=1), 80, 2)
    write_session(a2.home, "/home/alice/src/api", "s-shared", START + dt.timedelta(days=1), 80, 2)
    write_session(a2.home, "/home/alice/src/web", "s-a2", START + dt.timedelta(days=3), 40, 3)
    write_session(b1.home, "/home/bob/src/api", "s-b1", START + dt.timedelta(hours=30), 70, 4)
    write_session(b1.home, "/home/bob/src/api", "s-b2", START + dt.timedelta(days=9), 20, 5)
    a1.run("team", "init", capsys=capsys)
    for m in (a1, a2, b1):
        code, _, err = m.run("team", "sync", capsys=capsys)
        assert code == 0, err
    union_a, union_b = machines("union-alice", "alice"), machines("union-bob", "bob")
    for src in (a1, a2):
        shutil.copytree(src.home / ".claude", union_a.home / ".claude", dirs_exist_ok=True)
    shutil.copytree(b1.home / ".claude", union_b.home / ".claude", dirs_exist_ok=True)
    return a1, union_a, union_b


def report(machine, capsys, *argv: str) -> dict:
    code, out, err = machine.run(*argv, "--json", capsys=capsys)
    assert code == 0, err
    return json.loads(out)


def rounded(value):
    """Money summed in another order (on the server) differs in the last bits: 9 decimals."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def without_member(row: dict) -> dict:
    return rounded({k: v for k, v in row.items() if k not in ("member", "members")})


@pytest.mark.parametrize("period,zone", [("daily", "Europe/Berlin"), ("weekly", "UTC"),
                                         ("monthly", "America/New_York"), ("daily", "Asia/Kathmandu")])
def test_period_reports_over_the_team_equal_each_members_local_report(machines, capsys, period, zone):
    a1, union_a, union_b = team(machines, capsys)
    got = report(a1, capsys, period, "--team", "-z", zone)
    rows = got[period]
    assert {r["member"] for r in rows} == {"alice", "bob"}
    for member, union in (("alice", union_a), ("bob", union_b)):
        truth = rounded(report(union, capsys, period, "-z", zone))
        mine = [without_member(r) for r in rows if r["member"] == member]
        assert mine == truth[period]
        only = report(a1, capsys, period, "--member", member, "-z", zone)
        assert [without_member(r) for r in only[period]] == truth[period]
        assert without_member(only["totals"]) == truth["totals"]
    totals = got["totals"]
    truth_a, truth_b = (report(u, capsys, period, "-z", zone)["totals"] for u in (union_a, union_b))
    assert totals["members"] == ["alice", "bob"]
    for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "totalTokens", "calls"):
        assert totals[k] == truth_a[k] + truth_b[k]
    assert totals["totalCost"] == pytest.approx(truth_a["totalCost"] + truth_b["totalCost"], abs=1e-9)


def test_filters_agree_with_the_local_reports(machines, capsys):
    a1, union_a, _ = team(machines, capsys)
    args = ("--since", "2026-03-29", "--until", "2026-03-31", "-z", "Europe/Berlin", "--agent", "claude")
    got = report(a1, capsys, "daily", "--member", "alice", *args)
    assert [without_member(r) for r in got["daily"]] == rounded(report(union_a, capsys, "daily", *args)["daily"])
    got = report(a1, capsys, "daily", "--member", "alice", "--project", "src/web", *args)
    assert [without_member(r) for r in got["daily"]] == \
        rounded(report(union_a, capsys, "daily", "--project", "src/web", *args)["daily"])


def test_session_and_blocks_over_the_team_equal_the_local_ones(machines, capsys):
    a1, union_a, union_b = team(machines, capsys)
    got = report(a1, capsys, "session", "--team")
    now = "2026-04-20T00:00:00Z"
    for member, union in (("alice", union_a), ("bob", union_b)):
        truth = rounded(report(union, capsys, "session"))
        assert [without_member(r) for r in got["sessions"] if r["member"] == member] == truth["sessions"]
    blocks = report(a1, capsys, "blocks", "--team")["blocks"]
    for member, union in (("alice", union_a), ("bob", union_b)):
        truth = rounded(report(union, capsys, "blocks")["blocks"])
        mine = [without_member(b) for b in blocks if b["member"] == member]
        assert [b["id"] for b in mine] == [b["id"] for b in truth]
        assert mine == truth, now


def test_team_tables_have_a_member_column(machines, capsys):
    a1, _, _ = team(machines, capsys)
    code, out, _ = a1.run("daily", "--team", "-z", "UTC", capsys=capsys)
    assert code == 0
    head = next(line for line in out.splitlines() if "Date" in line)
    assert "Member" in head
    assert any("alice" in line for line in out.splitlines()) and any("bob" in line for line in out.splitlines())
    code, out, _ = a1.run("blocks", "--team", capsys=capsys)
    assert code == 0 and "Member: alice" in out and "Member: bob" in out
