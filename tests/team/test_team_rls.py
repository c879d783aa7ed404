"""Row-level security (`team init --roles`): a member reads and writes only their own rows, a
lead reads everyone's; a member pushing another's rows is refused in one line, and resumes."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from team_data import write_session

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def roles(pg_server, team_db, machines, capsys):
    admin = machines("admin", None)
    code, out, err = admin.run("team", "init", "--roles", capsys=capsys)
    assert code == 0, err
    assert "token_roi_member" in out
    dbname = team_db.split("dbname=")[1].split()[0]
    with pg_server.admin() as conn:
        for name, group in (("rls_alice", "token_roi_member"), ("rls_bob", "token_roi_member"),
                            ("rls_carol", "token_roi_lead")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw-{name}'")
            conn.execute(f"GRANT {group} TO {name}")

    def dsn(name: str) -> str:
        return pg_server.dsn(dbname, name, f"pw-{name}")
    return dsn


def test_members_see_and_write_only_their_own_rows_and_a_lead_reads_all(roles, machines, capsys):
    alice, bob = machines("alice", None, roles("rls_alice")), machines("bob", None, roles("rls_bob"))
    carol = machines("carol", None, roles("rls_carol"))
    write_session(alice.home, "/home/a/api", "s-a", START, 30, 1)
    write_session(bob.home, "/home/b/api", "s-b", START, 20, 2)
    for m in (alice, bob):
        code, out, err = m.run("team", "sync", capsys=capsys)
        assert code == 0, err
        assert f"as member 'rls_{m.name}'" in out                    # team.member defaults to the login

    def members(m, *argv) -> dict:
        code, out, err = m.run("daily", "--team", "--json", *argv, capsys=capsys)
        assert code == 0, err
        data = json.loads(out)
        return {r["member"]: r["calls"] for r in data["daily"]}
    assert members(alice) == {"rls_alice": 30}
    assert members(bob) == {"rls_bob": 20}
    assert members(carol) == {"rls_alice": 30, "rls_bob": 20}
    assert members(alice, "--member", "rls_bob") == {}

    with psycopg.connect(roles("rls_alice")) as conn:
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (30,)
        assert conn.execute("UPDATE calls SET input_tokens = 0 WHERE member = 'rls_bob'").rowcount == 0
        assert conn.execute("DELETE FROM call_buckets WHERE member = 'rls_bob'").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO calls (agent, dedupe_key, rank, ts, member, device_id) "
                         "VALUES ('claude', 'forged', 1, 1, 'rls_bob', 'x')")
    with psycopg.connect(roles("rls_carol")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM calls")
    with psycopg.connect(roles("rls_bob")) as conn:
        assert conn.execute("SELECT sum(calls) FROM call_buckets").fetchone() == (20,)


def test_a_member_pushing_another_members_rows_is_refused_in_one_line_then_resumes(roles, machines, capsys):
    alice = machines("alice", "rls_bob", roles("rls_alice"))                 # the wrong member name
    write_session(alice.home, "/home/a/api", "s-a", START, 12, 1)
    code, out, err = alice.run("team", "sync", capsys=capsys)
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "refused rows of member 'rls_bob' from login 'rls_alice'" in lines[0]
    store = alice.store()
    try:
        assert store.get_meta("team.full_pos") == "0"                    # nothing recorded as sent
    finally:
        store.close()
    alice.config.write_text("team:\n  project_names: plain\n")             # fixed: the login's name
    code, out, err = alice.run("team", "sync", capsys=capsys)
    assert code == 0 and "pushed 12 calls (12 new" in out, err


def test_a_call_another_member_pushed_first_stays_theirs(roles, machines, capsys):
    alice, bob = machines("alice", None, roles("rls_alice")), machines("bob", None, roles("rls_bob"))
    write_session(alice.home, "/home/a/api", "s-copied", START, 5, 1)
    write_session(bob.home, "/home/a/api", "s-copied", START, 5, 1)          # a copied transcript
    assert alice.run("team", "sync", capsys=capsys)[0] == 0
    code, out, err = bob.run("team", "sync", capsys=capsys)
    assert code == 0 and "pushed 5 calls (0 new or better" in out, err           # counted once, as alice's
    with psycopg.connect(roles("rls_carol")) as conn:
        assert conn.execute("SELECT member, count(*) FROM calls GROUP BY 1").fetchall() == [("rls_alice", 5)]


def test_a_better_copy_of_another_members_call_is_refused_in_one_line(roles, machines, capsys):
    alice, bob = machines("alice", None, roles("rls_alice")), machines("bob", None, roles("rls_bob"))
    path = write_session(alice.home, "/home/a/api", "s-copied", START, 5, 1)
    assert alice.run("team", "sync", capsys=capsys)[0] == 0
    # bob's copy of the same calls has more tokens (a later, fuller copy of the transcript): a higher rank
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        line["message"]["usage"]["output_tokens"] += 1000
    target = bob.home / ".claude" / "projects" / path.parent.name
    target.mkdir(parents=True)
    (target / path.name).write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, out, err = bob.run("team", "sync", capsys=capsys)
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1
    assert "refused to replace calls another member pushed first" in err
    with psycopg.connect(roles("rls_carol")) as conn:
        assert conn.execute("SELECT member, count(*) FROM calls GROUP BY 1").fetchall() == [("rls_alice", 5)]
