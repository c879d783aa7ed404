"""One module per agent, each exposing `ADAPTER` (an adapters.base.Adapter).

Adding an agent = adding `adapters/<name>.py` (or a package) and its fixtures; it is found by
the name listed here, in the order reports show agents. Its data folders' rule goes in
places.py with a probe, so a report on a machine without the agent does not import its reader.
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
    """The adapters of `names` (default: every agent), in that order. An agent with no data
    folder on this machine (places.absent) is stood in for without importing its module."""
    from . import places        # not at import: the hooks load this package for Claude's reader
    out = []
    for name in names or AGENT_NAMES:
        adapter = _Absent(name) if places.absent(name) else get_adapter(name)
        if adapter is not None:
            out.append(adapter)
    return out


class _Absent:
    """An agent whose folders do not exist here: no roots, no sources, nothing to warn about.
    Anything else (title, read...) is its adapter's, imported on first use."""

    def __init__(self, name: str):
        self.name = name

    def roots(self) -> list:
        return []

    def root_keys(self) -> tuple:
        return ()

    def sources(self):
        return iter(())

    def listing(self) -> None:
        return None

    def take_warnings(self) -> list[str]:
        return []

    def __getattr__(self, attr: str):
        if attr.startswith("__"):          # copy/pickle probing an instance not yet set up
            raise AttributeError(attr)
        return getattr(get_adapter(self.name), attr)

    def __repr__(self) -> str:
        return f"<{self.name} adapter: no data here>"
