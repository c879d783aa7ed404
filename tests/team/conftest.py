"""A real PostgreSQL for the team tests: Debian's server binaries (package `postgresql`, which
.ci/run installs when missing), initdb'd in a temporary folder and started on a loopback port
with its own socket folder for the whole session, stopped at the end. Each test gets a fresh
database. Without the binaries the tests fail, saying so: they never skip."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import psycopg
except ImportError:      # (a failure, never a skip)
    raise ImportError("the team tests need psycopg 3 (in the test extra): pip install -e '.[test]'") from None


@dataclass
class PgServer:
    host: str
    port: int
    bindir: Path

    def dsn(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        out = f"host={self.host} port={self.port} dbname={dbname} user={user} connect_timeout=5"
        return out + (f" password={password}" if password else "")

    def admin(self, dbname: str = "postgres"):
        return psycopg.connect(self.dsn(dbname), autocommit=True)


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("the team tests need a PostgreSQL server: no /usr/lib/postgresql/*/bin/initdb "
                    "(install Debian's package: apt-get install -y postgresql; .ci/run does it)", pytrace=False)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="token-roi-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:        # initdb refuses to run as root: the cluster belongs to `postgres`
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and no `postgres` user to own the test cluster", pytrace=False)
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    log = root / "server.log"

    def run(*cmd: str) -> None:
        got = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        if got.returncode:
            pytest.fail(f"{cmd[0]} failed: {got.stderr.strip() or got.stdout.strip()}", pytrace=False)

    run(str(bindir / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D", str(data))
    # The superuser logs in without a password; every other role over TCP needs its own
    # (so a wrong password is refused, as on a real server).
    hba = ("local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
           "host all all 127.0.0.1/32 scram-sha-256\n")
    run("sh", "-c", f"printf '{hba}' > {data}/pg_hba.conf")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60", "start")
    try:
        yield PgServer("127.0.0.1", port, bindir)
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def team_db(pg_server: PgServer) -> Iterator[str]:
    """A fresh database; its superuser DSN."""
    name = "t_" + uuid.uuid4().hex[:12]
    with pg_server.admin() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.dsn(name)
    with pg_server.admin() as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


class Machine:
    """One developer machine: its own home (agent logs), ledger and config; `run` is the CLI."""

    def __init__(self, root: Path, name: str, url: str, member: str | None, monkeypatch, extra: str = ""):
        self.name, self.url, self.monkeypatch = name, url, monkeypatch
        self.home = root / name / "home"
        self.state = root / name / "token-roi"
        self.home.mkdir(parents=True)
        self.config = root / name / "config.yaml"
        lines = ["team:", "  project_names: plain"] + ([f"  member: {member}"] if member else []) + [extra]
        self.config.write_text("\n".join(lines) + "\n")

    def env(self) -> dict[str, str]:
        return {"HOME": str(self.home), "TOKEN_ROI_HOME": str(self.state), "TOKEN_ROI_CONFIG": str(self.config),
                "TOKEN_ROI_TEAM_URL": self.url, "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_DATA_HOME": str(self.home / ".local/share"), "XDG_STATE_HOME": str(self.home / ".local/state")}

    def activate(self) -> None:
        for k, v in self.env().items():
            self.monkeypatch.setenv(k, v)

    def run(self, *argv: str, capsys=None) -> tuple[int, str, str]:
        from token_roi.cli import main
        self.activate()
        if capsys is not None:
            capsys.readouterr()
        code = main(list(argv))
        if capsys is None:
            return code, "", ""
        out, err = capsys.readouterr()
        return code, out, err

    def store(self):
        from token_roi.store import Store
        self.activate()
        return Store()


@pytest.fixture
def machines(tmp_path, monkeypatch, team_db):
    def make(name: str, member: str | None = None, url: str | None = None, extra: str = "") -> Machine:
        return Machine(tmp_path / "machines", name, team_db if url is None else url, member, monkeypatch, extra)
    return make


def pytest_collection_modifyitems(items) -> None:
    """Every test here drives a real PostgreSQL server: marked e2e (pyproject.toml's markers)."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
