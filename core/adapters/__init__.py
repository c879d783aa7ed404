"""One module per agent, each exposing `ADAPTER` (an adapters.base.Adapter).

Adding an agent = adding `adapters/<name>.py` (or a package) and its fixtures; it is found by
the name listed here, in the order reports show agents.
"""

from __future__ import annotations

import importlib

from .base import Adapter

AGENT_NAMES = ("claude", "codex", "hermes", "openclaw", "openhuman", "cursor", "gemini",
               "opencode", "copilot", "amp")


def get_adapter(name: str) -> Adapter | None:
    """The adapter for `name`, or None when no module for it exists yet."""
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return None
        raise
    return module.ADAPTER


def available(names: list[str] | tuple[str, ...] | None = None) -> list[Adapter]:
    out = []
    for name in names or AGENT_NAMES:
        adapter = get_adapter(name)
        if adapter is not None:
            out.append(adapter)
    return out
