"""`budget --team` and `subscriptions --team`: every member's usage and plans from the server,
equal to the sum of each member's local figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from team_data import write_session

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
PLAN = "subscriptions:\n  - {plan: Max, agent: claude, monthly_fee: 100, start: 2026-03-05}\n"


def as_json(machine, capsys, *argv) -> dict:
    code, out, err = machine.run(*argv, "--json", "--as-of", "2026-03-20", "-z", "UTC", capsys=capsys)
    assert code in (0, 10, 11), err
    return json.loads(out)


def test_budget_and_subscriptions_over_the_team_add_up_the_members(machines, capsys):
    alice = machines("alice", "alice", extra=PLAN)
    bob = machines("bob", "bob")
    write_session(alice.home, "/home/a/api", "s-a1", START, 40, 1)                       # before the plan
    write_session(alice.home, "/home/a/api", "s-a2", START + dt.timedelta(days=5), 60, 2)  # covered
    write_session(bob.home, "/home/b/api", "s-b1", START + dt.timedelta(days=6), 50, 3)
    alice.run("team", "init", capsys=capsys)
    for m in (alice, bob):
        assert m.run("team", "sync", capsys=capsys)[0] == 0
    local_a, local_b = as_json(alice, capsys, "subscriptions"), as_json(bob, capsys, "subscriptions")
    team = as_json(alice, capsys, "subscriptions", "--team")
    assert [s["plan"] for s in team["subscriptions"]] == ["alice: Max"]
    assert team["subscriptions"][0]["coveredValue"] == pytest.approx(local_a["subscriptions"][0]["coveredValue"])
    assert team["subscriptions"][0]["coveredValue"] > 0
    assert team["fixedCost"] == pytest.approx(local_a["fixedCost"]) and team["fixedCost"] > 0
    assert team["coveredValue"] == pytest.approx(local_a["coveredValue"] + local_b["coveredValue"])
    assert team["proportionalCost"] == pytest.approx(local_a["proportionalCost"] + local_b["proportionalCost"])
    assert team["proportionalCost"] > local_b["proportionalCost"] > 0
    budget_a, budget_b = as_json(alice, capsys, "budget"), as_json(bob, capsys, "budget")
    budget = as_json(bob, capsys, "budget", "--team")               # bob's machine reads the team's too
    for k in ("proportional", "fixed", "coveredValue"):
        key = next(x for x in budget if x.lower().startswith(k.lower()))
        assert budget[key] == pytest.approx(budget_a[key] + budget_b[key]), key
