"""Every way a team command can be refused says so in one line and exits non-zero, leaves the
local ledger as it was, and the next sync resumes: server unreachable, login refused, schema
missing, too old or too new, psycopg missing, team mode not set up."""

from __future__ import annotations

import datetime as dt
import sys

import psycopg
import pytest
from team_data import write_session

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def ledger_state(machine) -> tuple:
    store = machine.store()
    try:
        return (store.db.execute("SELECT count(*), coalesce(sum(input_tokens), 0) FROM calls").fetchone(),
                store.db.execute("SELECT key, value FROM meta WHERE key LIKE 'team.%' ORDER BY key").fetchall(),
                store.db.execute("SELECT count(*) FROM team_log").fetchone())
    finally:
        store.close()


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("token-roi: ")
    return lines[0]


def pushed(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM calls").fetchone()
        return row[0] if row else 0


@pytest.fixture
def laptop(machines, team_db, capsys):
    m = machines("laptop", "alice")
    write_session(m.home, "/home/alice/src/api", "s-1", START, 20, 1)
    assert m.run("team", "init", capsys=capsys)[0] == 0
    assert m.run("team", "sync", capsys=capsys)[0] == 0            # a first push: then more work
    write_session(m.home, "/home/alice/src/api", "s-2", START + dt.timedelta(days=1), 15, 2)
    assert m.run("ingest", capsys=capsys)[0] == 0
    return m


def refused_then_resumed(m, capsys, team_db, broken: str, expect: str, monkeypatch) -> None:
    before = ledger_state(m)
    monkeypatch.setattr(m, "url", broken)
    code, out, err = m.run("team", "sync", capsys=capsys)
    assert code != 0 and out == ""
    assert expect in one_line(err), err
    assert "password=" not in err or "***" in err
    assert ledger_state(m) == before                     # the local ledger untouched
    assert pushed(team_db) == 20
    monkeypatch.setattr(m, "url", team_db)
    code, out, err = m.run("team", "sync", capsys=capsys)
    assert code == 0, err
    assert "pushed 15 calls (15 new" in out               # resumed where it stood
    assert pushed(team_db) == 35


def test_server_unreachable(laptop, capsys, team_db, monkeypatch, pg_server):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    refused_then_resumed(laptop, capsys, team_db, f"host=127.0.0.1 port={closed} dbname=x user=alice connect_timeout=3",
                         "cannot reach the team server (host=127.0.0.1", monkeypatch)


def test_login_refused_and_the_password_never_shown(laptop, capsys, team_db, monkeypatch, pg_server):
    with pg_server.admin() as conn:
        conn.execute("DROP ROLE IF EXISTS err_dave")
        conn.execute("CREATE ROLE err_dave LOGIN PASSWORD 'right-one'")
    dbname = team_db.split("dbname=")[1].split()[0]
    bad = f"postgresql://err_dave:wrong-one@127.0.0.1:{pg_server.port}/{dbname}"
    refused_then_resumed(laptop, capsys, team_db, bad, "the team server refused the login (postgresql://err_dave:***@",
                         monkeypatch)
    code, _, err = laptop.run("team", "sync", capsys=capsys)
    assert "wrong-one" not in err


@pytest.mark.parametrize("version,expect", [("0", "older than this token-roi's 1: run `token-roi team init`"),
                                            ("99", "newer than this token-roi understands (1): upgrade token-roi")])
def test_schema_too_old_or_too_new(laptop, capsys, team_db, version, expect):
    before = ledger_state(laptop)
    with psycopg.connect(team_db) as conn:
        conn.execute("UPDATE team_meta SET value = %s WHERE key = 'schema_version'", (version,))
    for argv in (("team", "sync"), ("daily", "--team")):
        code, out, err = laptop.run(*argv, capsys=capsys)
        assert code != 0 and out == ""
        assert expect in one_line(err)
    assert ledger_state(laptop) == before
    with psycopg.connect(team_db) as conn:
        conn.execute("UPDATE team_meta SET value = '1' WHERE key = 'schema_version'")
    code, out, _ = laptop.run("team", "sync", capsys=capsys)
    assert code == 0 and "pushed 15 calls" in out


def test_no_schema_yet_and_init_is_idempotent(machines, team_db, capsys):
    m = machines("laptop", "alice")
    code, _, err = m.run("team", "sync", capsys=capsys)
    assert code != 0 and "no token-roi schema yet: run `token-roi team init`" in one_line(err)
    code, out, _ = m.run("team", "init", capsys=capsys)
    assert code == 0 and "applied 001" in out
    code, out, _ = m.run("team", "init", capsys=capsys)
    assert code == 0 and "up to date (version 1)" in out


def test_psycopg_missing_says_how_to_install_it(machines, team_db, capsys, monkeypatch):
    m = machines("laptop", "alice")
    monkeypatch.setitem(sys.modules, "psycopg", None)
    code, _, err = m.run("team", "sync", capsys=capsys)
    assert code != 0 and "pip install 'token-roi[team]'" in one_line(err)


def test_team_mode_not_set_up(machines, capsys, monkeypatch):
    m = machines("laptop", "alice", url="")
    code, _, err = m.run("daily", "--team", capsys=capsys)
    assert code != 0 and "team mode is not set up: set team.url" in one_line(err)


def test_libpq_conventions_pgpassfile_and_sslmode(machines, team_db, capsys, monkeypatch, pg_server, tmp_path):
    """The DSN goes to libpq as it is: a password from PGPASSFILE logs in; sslmode=require
    against a server without TLS is refused in one line (libpq's own reason)."""
    with pg_server.admin() as conn:
        conn.execute("DROP ROLE IF EXISTS pass_erin")
        conn.execute("CREATE ROLE pass_erin LOGIN PASSWORD 'from-the-pgpass-file'")
    dbname = team_db.split("dbname=")[1].split()[0]
    with psycopg.connect(team_db, autocommit=True) as conn:
        conn.execute("GRANT ALL ON SCHEMA public TO pass_erin")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:{dbname}:pass_erin:from-the-pgpass-file\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    m = machines("laptop", None, f"host=127.0.0.1 port={pg_server.port} dbname={dbname} user=pass_erin")
    write_session(m.home, "/home/erin/src/api", "s-1", START, 4, 1)
    code, out, err = m.run("team", "init", capsys=capsys)
    assert code == 0, err
    code, out, err = m.run("team", "sync", capsys=capsys)
    assert code == 0 and "as member 'pass_erin'" in out, err
    monkeypatch.setattr(m, "url", m.url + " sslmode=require")
    code, out, err = m.run("team", "sync", capsys=capsys)
    assert code != 0 and "SSL" in one_line(err) and "cannot reach the team server" in err
