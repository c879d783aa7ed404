"""The agents' readers, one folder each: `adapters/<agent>/` holds `reader.py` (exposing
`ADAPTER`, an adapters.base.Adapter), optionally `places.py` (where the agent keeps its data:
`present()`), and a README.md of the agent's format and traps. See README.md here for the
interface and how to add an agent.

An agent is found by its folder: every subpackage of this package with a `reader.py` is one, in
the folders of `__path__`, which TOKEN_ROI_ADAPTERS (a list of folders, separated like PATH)
extends, so an agent can live outside the source tree. Nothing is imported to find them; an
agent whose `places.present()` is False is stood in for (no sources) without importing its reader.
"""

from __future__ import annotations

import os
import sys

from .base import Adapter, Source

TYPE_CHECKING = False   # the hooks import this package (Claude's reader): no typing, no pathlib
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PATH_ENV = "TOKEN_ROI_ADAPTERS"

# The agents this package ships, in the order reports show them; any other folder found comes
# after them, by name.
SHIPPED = ("claude", "codex", "hermes", "openclaw", "openhuman", "cursor", "gemini",
           "opencode", "copilot", "amp")

__path__ += [os.path.abspath(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p.strip()]


def _find_agents() -> tuple[str, ...]:
    found: set[str] = set()
    for folder in __path__:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found.update(n for n in names
                     if n.isidentifier() and not n.startswith("_")
                     and os.path.isfile(os.path.join(folder, n, "reader.py")))
    return tuple(n for n in SHIPPED if n in found) + tuple(sorted(found.difference(SHIPPED)))


AGENT_NAMES = _find_agents()


def _module(name: str):
    """importlib.import_module without importing importlib (and warnings with it): the hooks
    import this package on every tool call, where that is ~0.25 ms."""
    __import__(name)
    return sys.modules[name]


def lazy_reader(package: str):  # -> Callable[[str], object] (no typing import: see above)
    """A `__getattr__` for an agent's package: its reader's names (`ADAPTER`, ...) reachable from
    the package (`from token_roi.adapters.amp import ADAPTER`), the reader imported on first use,
    so a report on a machine without that agent never loads it."""
    def __getattr__(name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_module(f"{package}.reader"), name)
    return __getattr__


def get_adapter(name: str) -> Adapter | None:
    """The adapter of agent `name`, or None when there is no such agent."""
    if name not in AGENT_NAMES:
        return None
    try:
        adapter = _module(f"{__name__}.{name}.reader").ADAPTER
    except ModuleNotFoundError as exc:
        if exc.name in (f"{__name__}.{name}", f"{__name__}.{name}.reader"):
            return None             # (gone since the folders were listed)
        raise
    if not isinstance(adapter, Adapter):
        raise TypeError(f"{__name__}.{name}.reader.ADAPTER is not an Adapter")
    return adapter


def present(name: str) -> bool:
    """Whether agent `name` may have data on this machine: its `places.present()`, True for an
    agent without a places module (Claude, or a folder that did not write one)."""
    try:
        places = _module(f"{__name__}.{name}.places")
    except ModuleNotFoundError as exc:
        if exc.name in (f"{__name__}.{name}", f"{__name__}.{name}.places"):
            return True
        raise
    return bool(places.present())


def available(names: list[str] | tuple[str, ...] | None = None) -> list[Adapter]:
    """The adapters of `names` (default: every agent), in that order. An agent with no data
    folder on this machine is stood in for without importing its reader."""
    out: list[Adapter] = []
    for name in names or AGENT_NAMES:
        adapter = get_adapter(name) if present(name) else Absent(name)
        if adapter is not None and name in AGENT_NAMES:
            out.append(adapter)
    return out


class Absent(Adapter):
    """An agent whose folders do not exist here: no roots, no sources, nothing to warn about.
    Anything else (title, read...) is its reader's, imported on first use."""

    def __init__(self, name: str):
        self.name = name

    def roots(self) -> list[Path]:
        return []

    def root_keys(self) -> tuple[str, ...]:
        return ()

    def sources(self) -> Iterator[Source]:
        return iter(())

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):          # copy/pickle probing an instance not yet set up
            raise AttributeError(attr)
        return getattr(get_adapter(self.name), attr)

    def __repr__(self) -> str:
        return f"<{self.name} adapter: no data here>"
