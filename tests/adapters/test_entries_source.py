"""Manual ledger entries are a source like any agent's logs: read by adapters/entries, written
by ingest's one pipeline (ingest_sources for named files, refresh for the current project's),
priced as its last stage; and ingest depends on nothing above it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from token_roi.adapters import entries
from token_roi.ingest import ingest_sources, refresh
from token_roi.store import Store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "accounting" / "entries.jsonl"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "acme"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    path = root / "cogs" / "ai-ledger" / "entries.jsonl"
    path.parent.mkdir(parents=True)
    shutil.copy(FIXTURE, path)
    return path


def _manual(store: Store) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in store.db.execute(
        "SELECT dedupe_key, agent, cost, price_source, ledger_file FROM calls WHERE origin = 'manual'")}


def test_a_named_file_goes_through_the_pipeline_and_is_priced_last(project):
    store = Store()
    source = entries.ADAPTER.source_at(str(project))
    unpriced = ingest_sources(store, [(entries.ADAPTER, source)], price=False)
    assert (unpriced.sources, unpriced.sources_read, unpriced.rows, unpriced.mirrored) == (1, 1, 4, 1)
    rows = _manual(store)
    assert len(rows) == 4 and {r[1] for r in rows.values()} == {None}          # not priced by the reader
    assert {r[3] for r in rows.values()} == {str(project)}
    priced = ingest_sources(store, [(entries.ADAPTER, source)])                 # unchanged: priced only
    assert (priced.sources_read, priced.rows) == (0, 0)
    rows = _manual(store)
    assert rows["ledger:7f3a9c21d4e8b601"][1:3] == (12.0, "ledger")             # the typed cost, pinned
    assert rows["ledger:a0c4e5f6b7d8e9f0"][1] == pytest.approx(0.45)            # priced by the table
    assert rows["ledger:a0c4e5f6b7d8e9f0"][0] == "claude"                       # the entry's own agent


def test_a_bad_line_is_named_on_every_read_until_fixed(project):
    with open(project, "a") as f:
        f.write('{"id": "d00dfeed0001", "ts": "2026-09-23T10:00:00", "agent": "claude", "model": "m", '
                '"category": "ship-flow", "input_tokens": 1, "output_tokens": 1}\n')
    store = Store()
    first = refresh(store, show_progress=False)
    again = refresh(store, show_progress=False)
    assert len(first.errors) == 1 and f"{project} line 6: ts" in first.errors[0]
    assert again.errors == first.errors and first.errors[0] in again.warnings    # named, not fatal
    assert len(_manual(store)) == 4


def test_ingest_imports_nothing_above_it():
    code = ("import sys, token_roi.ingest; "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('token_roi.') and m.count('.') >= 1}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    parts = set(eval(proc.stdout))
    assert parts & {"accounting", "cli", "dashboard", "reports", "value", "guard"} == set(), parts
