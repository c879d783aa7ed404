"""The price table's version is learnt without importing genai-prices (a report with nothing new to
price should not pay ~0.2 s for it), and a genai-prices that is installed but does not import
leaves the rows priced from the snapshot under the snapshot's version."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from token_roi import pricing
from token_roi.pricing import catalog

pytest.importorskip("genai_prices")

_RUN = """
import sys
from token_roi import pricing
from token_roi.rows import UsageRow
from token_roi.store import Store
store = Store()
with store.transaction():
    store.upsert_calls([UsageRow('claude', 'a', 1777859421000, model='claude-sonnet-4-5-20250929',
                                 input_tokens=1000, output_tokens=100)])
first = pricing.reprice(store)
imported = 'genai_prices' in sys.modules and sys.modules['genai_prices'] is not None
print(first, imported)
print(*store.db.execute('SELECT cost, price_source, price_version FROM calls').fetchone())
print(pricing.current_version())
"""

_WARM = """
import sys
from token_roi import pricing
from token_roi.store import Store
store = Store()
print(pricing.reprice(store), pricing.current_version(), 'genai_prices' in sys.modules)
"""


def _run(code: str, env_extra: dict | None = None) -> list[str]:
    import os
    env = dict(os.environ, **(env_extra or {}))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\n")


def test_version_is_the_installed_genai_prices_without_importing_it():
    from importlib.metadata import version
    code = ("import sys; from token_roi import pricing; from token_roi.pricing import catalog; "
            "print(pricing.current_version(), catalog.genai_version(), 'genai_prices' in sys.modules)")
    out = _run(code)[0].split()
    assert out[1] == version("genai-prices")
    assert out[2] == "False"
    assert out[0] == pricing.current_version()      # same as this process's, which may have imported it


def test_a_warm_reprice_does_not_import_genai_prices():
    first = _run(_RUN)
    assert first[0] == "1 True"                    # pricing a new row needs genai-prices
    warm = _run(_WARM)[0].split()
    assert warm == ["0", first[2], "False"]        # nothing new: same version, no import


_MORE = """
import sys
from token_roi import pricing
from token_roi.rows import UsageRow
from token_roi.store import Store
store = Store()
with store.transaction():
    store.upsert_calls([UsageRow('claude', 'b', 1777859422000, model='claude-sonnet-4-5-20250929',
                                 input_tokens=300_000, output_tokens=100, cache_write_1h_tokens=10)])
print(pricing.reprice(store), 'genai_prices' in sys.modules)
for r in store.db.execute('SELECT dedupe_key, cost, price_source, price_version FROM calls ORDER BY dedupe_key'):
    print(*r)
"""


def test_new_calls_of_a_known_model_are_priced_without_importing_genai_prices(tmp_path, monkeypatch):
    # The schedules the last reprice worked out are kept beside the hooks' rates: a few new calls
    # of a model seen before (what most reports meet) are priced from them, to the same cost.
    first = _run(_RUN)
    assert first[0] == "1 True"
    more = _run(_MORE)
    assert more[0] == "1 False"
    cached_cost = more[2].split()[1]
    # the same row priced by genai-prices itself (no cache) costs exactly the same
    import os

    from token_roi import paths
    os.unlink(paths.state_dir() / "rates-cache.json")
    from token_roi.store import Store
    with Store().transaction() as db:
        db.execute("UPDATE calls SET cost = NULL, price_source = NULL, price_version = NULL")
    fresh = _run(_MORE.replace("'b'", "'c'"))
    assert fresh[0].split()[1] == "True" and fresh[2].split()[1] == cached_cost
    # another price table (here prices.yaml) is another version: its cached schedules are not used
    (paths.config_dir() / "prices.yaml").parent.mkdir(parents=True, exist_ok=True)
    (paths.config_dir() / "prices.yaml").write_text("claude-sonnet-4-5-20250929:\n  input: 1\n  output: 2\n")
    changed = _run(_MORE.replace("'b'", "'d'"))
    assert changed[0].split()[1] == "False" and changed[4].split()[2] == "override"


def test_an_installed_genai_prices_that_fails_to_import_prices_from_the_snapshot(tmp_path):
    # A copy that is found but breaks on import (e.g. a dependency went missing) shadows the real one.
    broken = tmp_path / "shadow" / "genai_prices"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('pydantic_core is missing')\n")
    env = {"PYTHONPATH": str(tmp_path / "shadow")}
    out = _run(_RUN, env)
    assert out[0] == "1 False"
    cost, source, row_version = out[1].split()
    assert float(cost) == pytest.approx((1000 * 3 + 100 * 15) / 1e6) and source == "genai-prices"
    # The version the row carries is the snapshot's, not the installed genai-prices' ...
    assert row_version == out[2] != pricing.current_version()
    snapshot_only = _run(textwrap.dedent("""
        import sys
        sys.modules['genai_prices'] = None
        from token_roi import pricing
        print(pricing.current_version())
    """))[0]
    assert row_version == snapshot_only
    # ... so once genai-prices imports again, the row is priced again.
    warm = _run(_WARM)[0].split()
    assert warm[0] == "1" and warm[1] == pricing.current_version()


def test_present_follows_a_failed_import(monkeypatch):
    monkeypatch.setitem(sys.modules, "genai_prices", None)
    assert catalog.genai_present() is False
    monkeypatch.delitem(sys.modules, "genai_prices")
    monkeypatch.setattr(catalog, "_import_failed", True)
    assert catalog.genai_present() is False
