"""A first ingest looks prices up in a forked process (pricing._Lookups), so the process that writes
every row never imports genai-prices: the rows must come out priced exactly as when this process
looks them up itself, whether that process answers, dies, or finds genai-prices broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from token_roi.sample import generate_claude_tree

pytest.importorskip("genai_prices")

_LOAD = """
import json, os, sys
from token_roi import ingest, pricing
from token_roi.store import Store
ingest.PARALLEL_BYTES = 1_000_000                  # as if these 3 MB were gigabytes: workers, bulk load
mode = sys.argv[1]
started = []
real_start = pricing.NewRowPricer.start_lookups
def start(self):
    if mode == "here":
        return                                     # no lookup process: looked up in this process
    if mode == "dead":                             # the lookup process dies before answering
        pricing._serve_lookups = lambda *a: os._exit(1)
    if mode == "slow":                             # it answers after the last batch is written
        import time
        serve = pricing._serve_lookups
        pricing._serve_lookups = lambda *a: time.sleep(1.5) or serve(*a)
    if self.lookups is None:
        real_start(self)
        started.append(self.lookups is not None and ("early" if not planned else "with the workers"))
pricing.NewRowPricer.start_lookups = start
planned = []
real_doubles = ingest._doubles_the_ledger
ingest._doubles_the_ledger = lambda *a: planned.append(1) or real_doubles(*a)
if mode in ("early", "false start"):
    ingest.EARLY_SOURCES = 3                      # (these few files as if they were thousands)
if mode == "false start":
    ingest.PARALLEL_BYTES = 10 ** 12              # ... of a few bytes: no bulk load after all
def children():
    try:
        return os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return "none"
store = Store()
if mode == "crash":                                # the load dies mid-way (Ctrl-C) ...
    ingest.BATCH_SOURCES = 2
    real_upsert, batches = Store.upsert_values, []
    def dying(self, values):
        batches.append(1)
        if len(batches) == 3:
            raise KeyboardInterrupt
        return real_upsert(self, values)
    Store.upsert_values = dying
    try:
        ingest.refresh(store, ["claude"], show_progress=False)
    except KeyboardInterrupt:
        pass
    print(json.dumps({"started": started, "children": children(), "calls": store.count_calls()}))
    sys.exit()
ingest.refresh(store, ["claude"], show_progress=False)
rows = store.db.execute("SELECT dedupe_key, model, cost, price_source, price_version FROM calls "
                        "ORDER BY agent, dedupe_key").fetchall()
print(json.dumps({"started": started, "rows": rows, "version": pricing.current_version(),
                  "imported": sys.modules.get("genai_prices") is not None,
                  "children": children()}))
"""


def _load(tmp_path, mode: str, env_extra: dict | None = None) -> dict:
    home = tmp_path / f"home-{mode}-{bool(env_extra)}"
    env = dict(os.environ, TOKEN_ROI_HOME=str(home), **(env_extra or {}))
    proc = subprocess.run([sys.executable, "-c", _LOAD, mode], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    t = generate_claude_tree(tmp_path / "claude", total_bytes=3_000_000, seed=11, huge_results=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    return t


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forked readers only")
def test_a_first_ingest_prices_from_the_lookup_process_as_it_would_itself(tree, tmp_path):
    here = _load(tmp_path, "here")
    assert here["started"] == [] and here["imported"] is True
    looked_up = _load(tmp_path, "lookups")
    assert looked_up["started"] == ["with the workers"]
    assert looked_up["imported"] is False           # the writing process never imported genai-prices
    assert looked_up["rows"] == here["rows"] and looked_up["version"] == here["version"]
    assert {r[4] for r in here["rows"]} == {here["version"]} and len(here["rows"]) == tree.expected.calls
    assert any(r[2] for r in here["rows"])           # (priced: not all unpriced)
    # no child left behind: workers and the lookup process reaped
    assert looked_up["children"] == "none"


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forked readers only")
def test_a_lookup_process_that_dies_leaves_the_lookups_to_the_writer(tree, tmp_path):
    here = _load(tmp_path, "here")
    dead = _load(tmp_path, "dead")
    assert dead["started"] == ["with the workers"] and dead["imported"] is True     # it looked them up itself
    assert dead["rows"] == here["rows"] and dead["version"] == here["version"]


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forked readers only")
def test_a_genai_prices_that_fails_to_import_there_prices_from_the_snapshot_here_too(tree, tmp_path):
    broken = tmp_path / "shadow" / "genai_prices"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('pydantic_core is missing')\n")
    env = {"PYTHONPATH": str(tmp_path / "shadow")}
    here = _load(tmp_path, "here", env)
    looked_up = _load(tmp_path, "lookups", env)
    good = _load(tmp_path, "here")
    # the snapshot's version on every row, the same as when this process failed the import itself
    assert looked_up["rows"] == here["rows"] and looked_up["version"] == here["version"] != good["version"]
    assert {r[4] for r in looked_up["rows"]} == {here["version"]}
    assert looked_up["imported"] is False and here["imported"] is False


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forked readers only")
def test_no_lookup_process_outlives_a_load_that_dies(tree, tmp_path):
    crashed = _load(tmp_path, "crash")
    # ... rolled back whole, and neither the workers nor the lookup process left behind
    assert crashed == {"started": ["with the workers"], "children": "none", "calls": 0}


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forked readers only")
def test_rows_that_waited_for_a_slow_lookup_are_priced_before_the_load_commits(tree, tmp_path):
    here = _load(tmp_path, "here")
    slow = _load(tmp_path, "slow")
    assert slow["started"] == ["with the workers"] and slow["imported"] is False
    assert slow["rows"] == here["rows"] and slow["version"] == here["version"]


_SCHEDULES = """
import sys
from token_roi.pricing import catalog
if sys.argv[1] == "lean":
    catalog.import_lean()
catalog.prepare()
from genai_prices import data_snapshot
names = [m.id for p in data_snapshot.get_snapshot().providers for m in p.models]
print(len(names), "httpx2" in sys.modules or "httpx" in sys.modules)
for name in names + ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "anthropic/claude-haiku-4-5", "gpt-5-codex"]:
    print(name, repr(catalog.genai_schedule(name)))
"""


def test_the_lean_import_of_the_lookup_process_gives_every_schedule_the_full_one_does():
    runs = {}
    for how in ("full", "lean"):
        proc = subprocess.run([sys.executable, "-c", _SCHEDULES, how], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        runs[how] = proc.stdout.splitlines()
    count, full_client = runs["full"][0].split()
    assert int(count) > 100 and runs["lean"][0] == f"{count} False"    # (its update client not imported)
    assert runs["lean"][1:] == runs["full"][1:] and len(runs["full"]) == int(count) + 5


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forked readers only")
def test_a_walk_that_finds_a_first_ingest_starts_the_lookups_before_the_workers(tree, tmp_path):
    here = _load(tmp_path, "here")
    early = _load(tmp_path, "early")
    assert early["started"] == ["early"] and early["imported"] is False and early["children"] == "none"
    assert early["rows"] == here["rows"] and early["version"] == here["version"]
    # many files but few bytes: the lookup process started during the walk is stopped, and the
    # rows are priced as ever (here: no bulk load, reprice in this process)
    false_start = _load(tmp_path, "false start")
    assert false_start["started"] == ["early"] and false_start["children"] == "none"
    assert false_start["rows"] == here["rows"] and false_start["imported"] is True
