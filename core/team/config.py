"""team.* settings: the server's libpq DSN, the member name, how project paths are sent.

    team:
      url: postgresql://alice@db.example.com/tokenroi?sslmode=verify-full   # or TOKEN_ROI_TEAM_URL
      member: alice            # default: the database user
      project_names: hashed    # hashed (default) | plain
      auto_sync: false         # the Stop/SessionEnd hook starts a background `team sync`

The DSN is handed to libpq as is (key=value or URI form), so PGPASSFILE/.pgpass, PGSSLMODE,
sslmode=..., service files and every other libpq convention apply. Passwords are never printed:
messages show the DSN without them (redact).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from . import TeamError

ENV_URL = "TOKEN_ROI_TEAM_URL"
PROJECT_NAMES = ("hashed", "plain")


@dataclass(frozen=True)
class TeamConfig:
    url: str
    member: str | None = None          # None: the database user
    project_names: str = "hashed"
    auto_sync: bool = False


def from_settings(cfg: dict) -> TeamConfig | None:
    """The team settings in effect (TOKEN_ROI_TEAM_URL over team.url), None when no server is set."""
    given = cfg.get("team")
    team: dict = given if isinstance(given, dict) else {}
    url = os.environ.get(ENV_URL) or team.get("url")
    if not url:
        return None
    names = team.get("project_names") or "hashed"
    if names not in PROJECT_NAMES:
        raise TeamError(f"team.project_names {names!r}: expected one of {', '.join(PROJECT_NAMES)}")
    member = team.get("member")
    return TeamConfig(str(url), str(member) if member else None, names, bool(team.get("auto_sync")))


def load(config_path: str | None = None) -> TeamConfig:
    """The team settings, or a TeamError saying how to set them."""
    from .. import config
    got = from_settings(config.load(config_path))
    if got is None:
        raise TeamError(f"team mode is not set up: set team.url in config.yaml or {ENV_URL} to a libpq DSN "
                        "(e.g. postgresql://alice@db.example.com/tokenroi); see docs/team.md")
    return got


_URI_PASSWORD = re.compile(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@")
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ***: what messages show."""
    dsn = _URI_PASSWORD.sub(r"\1:***@", dsn)
    return _KV_PASSWORD.sub(r"\1***", dsn)


def hashed_project(salt: str, path: str) -> str:
    """A project path as the team server keeps it under `project_names: hashed`: a salted
    digest (the salt is the team's, so members' keys agree), never the path itself."""
    return "h:" + hashlib.sha256(f"{salt}\x00{path}".encode()).hexdigest()[:20]
