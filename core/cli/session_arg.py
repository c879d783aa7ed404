"""The SESSION argument of the commands that record something about one session (value,
categorize)."""

from __future__ import annotations

from ..store import Store
from ..value import records
from .common import UserError, parse_agents


def resolve_session(store: Store, session: str, agent: str | None) -> tuple[str, str]:
    """(agent, session id) of the SESSION argument (an id or a unique prefix) and its --agent
    value, reading new agent logs when the session is not in the ledger yet."""
    try:
        agents = parse_agents([agent]) if agent else None
        return records.resolve_or_ingest(store, session, agents[0] if agents else None)
    except records.RecordError as exc:
        raise UserError(str(exc)) from None
