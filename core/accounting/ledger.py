"""Ledger files (git-tracked JSONL of manual entries) mirrored into the store, each entry exactly
once. The reading is adapters/entries' (a source like any agent's logs) and the writing ingest's;
this module names the files of a project and syncs some of them on demand (`token-roi log`,
the accounting commands, which refuse to report while a malformed line is pending).

A file that disappears (branch switch, deleted checkout) keeps its rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..adapters import entries
from ..adapters.entries import current_project_file, project_root
from ..ingest import ingest_sources
from ..pricing.apply import pin_given_costs
from ..store import Store

__all__ = ["SOURCE_AGENT", "SyncResult", "current_project_file", "known_files", "ledger_path", "pin_given_costs",
           "project_root", "sync_all", "sync_file"]

SOURCE_AGENT = entries.NAME


@dataclass
class SyncResult:
    files: int = 0
    changed: int = 0
    written: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)      # malformed lines, one line each
    warnings: list[str] = field(default_factory=list)    # unreadable files


def ledger_path(cfg: dict, cwd: Path | None = None) -> Path:
    """The configured ledger file for the project around `cwd` (absolute paths as given)."""
    return entries.ledger_file(cfg, cwd)


def known_files(store: Store) -> list[str]:
    return [p for (_a, p) in store.cursors(SOURCE_AGENT)]


def sync_all(store: Store, extra: list[Path | str] | None = None) -> SyncResult:
    """Sync every known ledger file plus `extra` (e.g. the current project's), no pricing
    (the next report prices)."""
    paths = list(dict.fromkeys(os.path.abspath(p) for p in [*(extra or []), *known_files(store)]))
    stats = ingest_sources(store, [(entries.ADAPTER, entries.ADAPTER.source_at(p)) for p in paths], price=False)
    errors = list(stats.errors)
    return SyncResult(files=len(paths), changed=stats.mirrored, written=stats.rows, removed=stats.rows_removed,
                      errors=errors, warnings=[w for w in stats.warnings if w not in errors])


def sync_file(store: Store, path: Path | str) -> SyncResult:
    """Mirror one ledger file into the store (no-op when it has not changed)."""
    return sync_all(store, [path])
