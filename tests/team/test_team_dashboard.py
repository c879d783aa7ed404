"""`dashboard --team`: the Overview, Sessions and Models endpoints answer from the team server
(with a member stack and a member on each session), equal to the team reports; still on loopback."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest
from team_data import write_session

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def team_api(machines, capsys, monkeypatch):
    from token_roi.dashboard import api
    from token_roi.dashboard.server import Settings, start_in_thread
    from token_roi.team.config import TeamConfig
    from token_roi.team.dashboard import install
    alice, bob = machines("alice", "alice"), machines("bob", "bob")
    write_session(alice.home, "/home/alice/src/api", "s-a", START, 30, 1)
    write_session(bob.home, "/home/bob/src/web", "s-b", START + dt.timedelta(days=2), 20, 2)
    alice.run("team", "init", capsys=capsys)
    for m in (alice, bob):
        assert m.run("team", "sync", capsys=capsys)[0] == 0
    monkeypatch.setattr(api, "GET", dict(api.GET))          # (install() rewires the process's table)
    monkeypatch.setattr(api, "overview", api.overview)
    alice.activate()
    install(api, TeamConfig(alice.url, "alice"))
    server, url = start_in_thread(Settings(tz=dt.timezone.utc, today=dt.date(2026, 3, 10)))

    def get(path: str) -> dict:
        with urllib.request.urlopen(url + "api/" + path, timeout=30) as r:
            return json.loads(r.read())
    yield get, alice
    server.shutdown()
    server.server_close()


def test_the_overview_sessions_and_models_come_from_the_team_server(team_api, capsys):
    get, alice = team_api
    code, out, _ = alice.run("daily", "--team", "--json", "-z", "UTC", capsys=capsys)
    report = json.loads(out)
    o = get("overview?period=all&stack=member")
    assert o["members"] == ["alice", "bob"]
    assert o["totals"]["calls"] == report["totals"]["calls"] == 50
    assert o["totals"]["cost"] == pytest.approx(report["totals"]["totalCost"])
    by_member = {s["name"]: sum(s["tokens"]) for s in o["chart"]["series"]}
    assert by_member == {m: sum(r["totalTokens"] for r in report["daily"] if r["member"] == m)
                         for m in ("alice", "bob")}
    assert [s["member"] for s in o["recentSessions"]] == ["bob", "alice"]
    s = get("sessions?period=all&sort=member&dir=asc")
    assert s["count"] == 2 and [r["member"] for r in s["sessions"]] == ["alice", "bob"]
    assert get("overview?period=all&member=bob")["totals"]["calls"] == 20
    models = get("models?period=all")
    assert sum(m["calls"] for m in models["models"]) == 50
    assert get("meta")["team"]["login"] == "postgres"
