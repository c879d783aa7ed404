"""Team mode: every machine's ledger merged exactly once on a PostgreSQL server (docs/team.md).

config.py reads team.* settings and the DSN; server.py connects (psycopg 3) and owns the server
schema's numbered migrations; sync.py pushes the local change sequence; queries.py answers the
`--team` reports from the server's quarter-hour sums.
"""

from __future__ import annotations

from ..errors import TokenRoiError


class TeamError(TokenRoiError):
    """One line for a person: the server unreachable, the login refused, the schema too old or
    too new, a member writing another's rows, psycopg missing."""
