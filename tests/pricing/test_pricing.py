"""Pricing: hand-computed costs for real model names, the long-context cliff, unknown models,
overrides and the bulk re-price, and the stdlib-only rates the hooks use.

Rates below are genai-prices' (USD per million tokens), checked by hand against Anthropic's,
OpenAI's and Google's price pages: Sonnet 4.5/4.6 3/15, read 0.3, 5-minute write 3.75,
1-hour write 6; Sonnet 4.5 above 200k prompt tokens 6/22.5, read 0.6, writes 7.5/12.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from token_roi import paths, pricing
from token_roi.pricing import PricingError, Rates, cost_of, price_usage, quick_rates, rates_for
from token_roi.rows import UsageRow
from token_roi.store import Store

REPO = Path(__file__).resolve().parents[2]


def ms(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


MAY_2026 = ms(2026, 5, 4, 1, 50, 21)


def call(key, model, ts=MAY_2026, **counters) -> UsageRow:
    return UsageRow(agent="claude", dedupe_key=key, ts=ts, session_id="dac4", project="/home/u/proj",
                    model=model, **counters)


@pytest.fixture
def store():
    s = Store()
    yield s
    s.close()


def insert(store, *rows):
    with store.transaction():
        store.upsert_calls(rows)


def row(store, key):
    r = store.db.execute(
        "SELECT cost, price_source, price_version, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_5m_tokens, cache_write_1h_tokens FROM calls WHERE dedupe_key = ?", (key,)).fetchone()
    return dict(zip(("cost", "source", "version", "input", "output", "read", "w5m", "w1h"), r))


def write_overrides(text: str) -> Path:
    path = paths.config_dir() / "prices.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- the formula on real model names ---------------------------------------------------------
ALL_COUNTERS = dict(input_tokens=1_200, output_tokens=850, reasoning_tokens=150, cache_read_tokens=48_000,
                    cache_write_5m_tokens=6_000, cache_write_1h_tokens=4_000)
# 1200*3 + 850*15 + 150*15 + 48000*0.3 + 6000*3.75 + 4000*6 = 79,500 $/M-token units
ALL_COUNTERS_SONNET_USD = 0.0795


@pytest.mark.parametrize("model", ["claude-sonnet-4-5-20250929", "claude-sonnet-4-6"])
def test_sonnet_call_with_every_counter(store, model):
    insert(store, call("msg_1", model, **ALL_COUNTERS))
    assert pricing.reprice(store) == 1
    got = row(store, "msg_1")
    assert got["cost"] == pytest.approx(ALL_COUNTERS_SONNET_USD, abs=1e-12)
    assert got["source"] == "genai-prices"
    assert got["version"] == pricing.current_version()
    cost, source = price_usage(model, ts_ms=MAY_2026, **ALL_COUNTERS)
    assert (cost, source) == (pytest.approx(ALL_COUNTERS_SONNET_USD, abs=1e-12), "genai-prices")


def test_one_hour_cache_write_costs_2x_input_five_minute_1_25x(store):
    insert(store,
           call("w5m", "claude-sonnet-4-5", cache_write_5m_tokens=100_000),
           call("w1h", "claude-sonnet-4-5", cache_write_1h_tokens=100_000),
           call("h1h", "claude-haiku-4-5-20251001", cache_write_1h_tokens=100_000))
    pricing.reprice(store)
    assert row(store, "w5m")["cost"] == pytest.approx(0.375)      # 100k x $3.75/M
    assert row(store, "w1h")["cost"] == pytest.approx(0.600)      # 100k x $6/M = 2 x $3 input
    assert row(store, "h1h")["cost"] == pytest.approx(0.200)      # Haiku 4.5: 2 x $1 input
    rates = rates_for("claude-opus-4-5-20251101")
    assert (rates.input, rates.cache_read, rates.cache_write_5m, rates.cache_write_1h) == (5, 0.5, 6.25, 10)


def test_long_context_cliff_bills_the_whole_call(store):
    # 200,000 prompt tokens exactly: base rates. 10,000 + 150,000 read + 40,000 written.
    at = dict(input_tokens=10_000, cache_read_tokens=150_000, cache_write_5m_tokens=40_000, output_tokens=1_000)
    over = dict(at, input_tokens=10_001)
    insert(store, call("at", "claude-sonnet-4-5-20250929", **at), call("over", "claude-sonnet-4-5-20250929", **over))
    pricing.reprice(store)
    # 10000*3 + 150000*0.3 + 40000*3.75 + 1000*15 = 240,000 -> $0.24
    assert row(store, "at")["cost"] == pytest.approx(0.24)
    # one token more: EVERY token at the long rates: 10001*6 + 150000*0.6 + 40000*7.5 + 1000*22.5
    assert row(store, "over")["cost"] == pytest.approx(0.472506)
    assert price_usage("claude-sonnet-4-5", **over)[0] == pytest.approx(0.472506)


def test_cliff_follows_the_price_period_of_the_call(store):
    # genai-prices: Sonnet 4.6 billed >200k prompts at 6/22.5 until 2026-03-13, flat 3/15 since.
    big = dict(input_tokens=5_000, cache_read_tokens=245_000, output_tokens=2_000)
    insert(store, call("feb", "claude-sonnet-4-6", ts=ms(2026, 2, 1), **big),
           call("apr", "claude-sonnet-4-6", ts=ms(2026, 4, 1), **big))
    pricing.reprice(store)
    assert row(store, "feb")["cost"] == pytest.approx((5_000 * 6 + 245_000 * 0.6 + 2_000 * 22.5) / 1e6)
    assert row(store, "apr")["cost"] == pytest.approx((5_000 * 3 + 245_000 * 0.3 + 2_000 * 15) / 1e6)


def test_openai_cached_input_at_cached_rate_and_reasoning_at_output_rate(store):
    # The Codex adapter has already moved cached tokens out of input into cache_read.
    insert(store, call("gpt", "gpt-5", input_tokens=10_000, cache_read_tokens=90_000, output_tokens=2_000,
                       reasoning_tokens=1_000))
    pricing.reprice(store)
    # 10000*1.25 + 90000*0.125 + (2000+1000)*10 = 53,750
    assert row(store, "gpt")["cost"] == pytest.approx(0.05375)


def test_gemini_above_200k_bills_long_context(store):
    insert(store, call("gem", "gemini-2.5-pro", input_tokens=250_000, output_tokens=1_000))
    pricing.reprice(store)
    assert row(store, "gem")["cost"] == pytest.approx((250_000 * 2.5 + 1_000 * 15) / 1e6)


# -- names ----------------------------------------------------------------------------------
def test_dated_and_prefixed_names_match_their_entry():
    base = rates_for("claude-sonnet-4-5")
    for name in ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4.5"):
        assert rates_for(name) == base
    assert base.model_id == "claude-sonnet-4-5"
    assert rates_for("claude-haiku-4-5-20251001").model_id == "claude-haiku-4-5"
    assert rates_for("claude-opus-4-1-20250805").input == 15


# -- unpriced -------------------------------------------------------------------------------
def test_unknown_model_is_unpriced_with_tokens_kept(store):
    insert(store,
           call("acme", "acme-coder-9", input_tokens=7, output_tokens=300, cache_read_tokens=12_000),
           call("synth", "<synthetic>"),
           call("none", None, input_tokens=5))
    assert pricing.reprice(store) == 3
    got = row(store, "acme")
    assert got["cost"] is None and got["source"] == "unpriced"
    assert got["version"] == pricing.current_version()
    assert (got["input"], got["output"], got["read"]) == (7, 300, 12_000)
    assert row(store, "synth")["source"] == "unpriced"
    assert row(store, "none")["source"] == "unpriced"
    assert rates_for("<synthetic>") is None and quick_rates("<synthetic>") is None
    assert price_usage("acme-coder-9", input_tokens=7, output_tokens=300) == (None, "unpriced")
    assert pricing.reprice(store) == 0


# -- re-pricing -----------------------------------------------------------------------------
def test_reprice_is_idempotent_and_a_better_copy_is_priced_again(store):
    insert(store, call("msg_1", "claude-sonnet-4-5", input_tokens=3, output_tokens=10),
           call("msg_2", "claude-haiku-4-5", input_tokens=3, output_tokens=10))
    assert pricing.reprice(store) == 2
    first = row(store, "msg_1")["cost"]
    assert pricing.reprice(store) == 0
    assert row(store, "msg_1")["cost"] == first
    # The final streaming copy of msg_1 carries the real output count: it replaces and is re-priced.
    insert(store, call("msg_1", "claude-sonnet-4-5", input_tokens=3, output_tokens=400))
    assert row(store, "msg_1")["version"] is None
    assert pricing.reprice(store) == 1
    assert row(store, "msg_1")["cost"] == pytest.approx((3 * 3 + 400 * 15) / 1e6)


def test_sql_and_python_formula_agree_on_every_row(store):
    rows = []
    # Opus 4.6 changes price on 2026-03-13; DeepSeek has an off-peak window each UTC day.
    models = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5", "gpt-5", "gemini-2.5-pro",
              "deepseek-chat"]
    for i in range(200):
        rows.append(call(f"m{i}", models[i % len(models)], ts=ms(2026, 1 + i % 10, 1 + i % 27, (i * 5) % 24, i % 60),
                         input_tokens=(i * 7919) % 60_000, output_tokens=(i * 104_729) % 9_000,
                         reasoning_tokens=(i * 31) % 500, cache_read_tokens=(i * 15_485_863) % 190_000,
                         cache_write_5m_tokens=(i * 3_001) % 20_000, cache_write_1h_tokens=(i * 7_001) % 15_000))
    insert(store, *rows)
    pricing.reprice(store)
    for r in rows:
        expected, _ = price_usage(r.model, input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                                  reasoning_tokens=r.reasoning_tokens, cache_read_tokens=r.cache_read_tokens,
                                  cache_write_5m_tokens=r.cache_write_5m_tokens,
                                  cache_write_1h_tokens=r.cache_write_1h_tokens, ts_ms=r.ts)
        assert row(store, r.dedupe_key)["cost"] == pytest.approx(expected, rel=1e-12)


def test_costs_agree_with_genai_prices_calc_price():
    genai_prices = pytest.importorskip("genai_prices")
    cases = [
        ("claude-sonnet-4-5-20250929", dict(input_tokens=20_000, cache_read_tokens=170_000, cache_write_5m_tokens=8_000,
                                            cache_write_1h_tokens=9_000, output_tokens=3_000)),
        ("claude-opus-4-6", dict(input_tokens=900, cache_read_tokens=80_000, cache_write_1h_tokens=5_000,
                                 output_tokens=700)),
        ("gpt-5", dict(input_tokens=4_000, cache_read_tokens=30_000, output_tokens=1_500)),
        ("gemini-2.5-pro", dict(input_tokens=210_000, cache_read_tokens=10_000, output_tokens=900)),
    ]
    when = datetime(2026, 5, 4, tzinfo=timezone.utc)
    for model, u in cases:
        usage = genai_prices.Usage(
            input_tokens=u.get("input_tokens", 0) + u.get("cache_read_tokens", 0)
            + u.get("cache_write_5m_tokens", 0) + u.get("cache_write_1h_tokens", 0),
            output_tokens=u["output_tokens"], cache_read_tokens=u.get("cache_read_tokens", 0),
            cache_write_tokens=u.get("cache_write_5m_tokens", 0) + u.get("cache_write_1h_tokens", 0),
            cache_write_1h_tokens=u.get("cache_write_1h_tokens", 0))
        theirs = float(genai_prices.calc_price(usage, model, genai_request_timestamp=when).total_price)
        ours, _ = price_usage(model, ts_ms=int(when.timestamp() * 1000), **u)
        assert ours == pytest.approx(theirs, rel=1e-12), model


# -- overrides ------------------------------------------------------------------------------
def test_override_changes_price_and_reprices_priced_rows(store):
    insert(store, call("s", "claude-sonnet-4-5-20250929", input_tokens=1_000, output_tokens=1_000,
                       cache_read_tokens=10_000, cache_write_5m_tokens=1_000, cache_write_1h_tokens=1_000),
           call("h", "claude-haiku-4-5", input_tokens=1_000))
    pricing.reprice(store)
    old_version = row(store, "s")["version"]
    assert row(store, "s")["cost"] == pytest.approx((3_000 + 15_000 + 3_000 + 3_750 + 6_000) / 1e6)

    write_overrides("claude-sonnet-4-5: {input: 2, output: 10}   # negotiated\n")
    assert pricing.current_version() != old_version
    assert pricing.reprice(store) == 2          # every row: the price table changed
    got = row(store, "s")
    assert got["source"] == "override"
    # cache rates derived by Anthropic's ratios: read 0.2, 5m write 2.5, 1h write 4
    assert got["cost"] == pytest.approx((2_000 + 10_000 + 2_000 + 2_500 + 4_000) / 1e6)
    assert row(store, "h")["source"] == "genai-prices"
    assert pricing.reprice(store) == 0


def test_save_and_remove_override_through_the_api(store):
    insert(store, call("s", "claude-sonnet-4-5", input_tokens=100_000))
    pricing.reprice(store)
    assert row(store, "s")["cost"] == pytest.approx(0.3)
    saved = pricing.save_override("claude-sonnet-4-5", {"input": 2.5, "output": 12})
    assert saved.source == "override" and saved.cache_write_1h == 5.0
    assert pricing.load_overrides()["claude-sonnet-4-5"].input == 2.5
    # The hooks' cache follows at once, before any reprice.
    assert quick_rates("claude-sonnet-4-5").input == 2.5
    assert pricing.reprice(store) == 1
    assert row(store, "s")["cost"] == pytest.approx(0.25)
    assert pricing.remove_override("claude-sonnet-4-5") is True
    assert pricing.remove_override("claude-sonnet-4-5") is False
    assert pricing.reprice(store) == 1
    got = row(store, "s")
    assert (got["cost"], got["source"]) == (pytest.approx(0.3), "genai-prices")


def test_override_for_a_local_model_and_non_claude_defaults(store):
    write_overrides("my-local-model: {input: 0, output: 0}   # free: my own GPU\n"
                    "acme-coder-9: {input: 1, output: 2}\n")
    insert(store, call("local", "my-local-model", input_tokens=50_000, output_tokens=4_000),
           call("acme", "acme-coder-9", input_tokens=1_000, output_tokens=1_000, cache_read_tokens=1_000,
                cache_write_5m_tokens=1_000))
    pricing.reprice(store)
    local = row(store, "local")
    assert (local["cost"], local["source"], local["input"]) == (0.0, "override", 50_000)
    # Not a Claude model: reads and writes left out bill as input ($1/M).
    assert row(store, "acme")["cost"] == pytest.approx((1_000 + 2_000 + 1_000 + 1_000) / 1e6)


def test_override_with_long_context_block():
    write_overrides("claude-sonnet-4-5:\n  input: 3\n  output: 15\n"
                    "  long_context: {threshold: 200000, input: 6, output: 22.5}\n")
    rates = rates_for("claude-sonnet-4-5-20250929")
    assert rates.source == "override" and rates.long_threshold == 200_000
    assert cost_of(rates, input_tokens=200_001, output_tokens=10) == pytest.approx((200_001 * 6 + 10 * 22.5) / 1e6)
    assert cost_of(rates, input_tokens=200_000, output_tokens=10) == pytest.approx((200_000 * 3 + 10 * 15) / 1e6)


@pytest.mark.parametrize("text, expected", [
    ("claude-sonnet-4-5: {input: 3, output: -1}\n", ["'claude-sonnet-4-5'", "'output'", "-1", ">= 0"]),
    ("ok-model: {input: 1, output: 1}\nmy-model: {input: cheap, output: 1}\n", ["'my-model'", "'input'", "'cheap'"]),
    ("my-model: {inptu: 1, output: 1}\n", ["'my-model'", "'inptu'", "allowed: input, output"]),
    ("my-model: {input: 1}\n", ["'my-model'", "'output'", "missing"]),
    ("my-model: 3\n", ["'my-model'", "3", "mapping"]),
    ("my-model: {input: 1, output: 1, long_context: {threshold: 0, input: 2, output: 2}}\n",
     ["'my-model'", "'long_context/threshold'", "0"]),
    ("my-model: {input: .nan, output: 1}\n", ["'my-model'", "'input'", "nan"]),
    ("my-model: {input: 1, output: 1\n", ["line", "not valid YAML"]),
])
def test_bad_override_file_is_one_line_naming_the_key(store, text, expected):
    path = write_overrides(text)
    insert(store, call("a", "claude-sonnet-4-5", input_tokens=1))
    with pytest.raises(PricingError) as err:
        pricing.reprice(store)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    for part in expected:
        assert part in message, message
    assert row(store, "a")["version"] is None      # nothing half-priced


def test_save_override_refuses_a_bad_value_and_leaves_the_file_alone():
    path = write_overrides("keep-me: {input: 1, output: 2}\n")
    before = path.read_text()
    with pytest.raises(PricingError, match="'gpt-5'.*'cache_read'.*'free'"):
        pricing.save_override("gpt-5", {"input": 1, "output": 2, "cache_read": "free"})
    assert path.read_text() == before


# -- the hooks' path ------------------------------------------------------------------------
CLAUDE_NAMES = ["claude-sonnet-4-5-20250929", "claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-4-5-20251101",
                "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805", "claude-sonnet-4-20250514",
                "claude-3-5-haiku-20241022"]

_NO_GENAI = """
import json, sys
sys.modules['genai_prices'] = None          # any import of genai_prices now raises ImportError
from token_roi import pricing
try:
    import genai_prices
except ImportError:
    pass
else:
    raise SystemExit('genai_prices still importable')
heavy = sorted(m for m in ('yaml', 'jsonschema', 'orjson') if m in sys.modules)
out = {name: (r.to_dict() if (r := pricing.quick_rates(name)) else None) for name in json.loads(sys.argv[1])}
print(json.dumps({'rates': out, 'heavy': heavy}))
"""


def _quick_in_subprocess(names):
    proc = subprocess.run([sys.executable, "-c", _NO_GENAI, json.dumps(names)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _snapshot_is_from_installed_genai_prices() -> bool:
    from importlib.metadata import version
    snapshot = json.loads((REPO / "core" / "data" / "rates-snapshot.json").read_text())
    return snapshot["generated_from"] == f"genai-prices {version('genai-prices')}"


def test_quick_rates_without_genai_prices_agree_with_rates_for(store):
    names = CLAUDE_NAMES + ["gpt-5", "gemini-2.5-pro", "acme-coder-9"]
    # No rates cache yet: the shipped snapshot answers.
    got = _quick_in_subprocess(names)
    assert got["heavy"] == []
    same_data = _snapshot_is_from_installed_genai_prices()
    for name in CLAUDE_NAMES + ["gpt-5", "gemini-2.5-pro"]:
        quick = Rates.from_dict(got["rates"][name])
        if same_data:
            assert quick == rates_for(name), name
        else:   # a newer genai-prices may have moved a price: the names still resolve alike
            assert quick.model_id == rates_for(name).model_id, name
    assert got["rates"]["acme-coder-9"] is None

    # After reprice() the cache answers, overrides merged.
    write_overrides("claude-opus-4-6: {input: 4, output: 20}\n")
    insert(store, *(call(f"k{i}", n, input_tokens=1) for i, n in enumerate(CLAUDE_NAMES)))
    pricing.reprice(store)
    assert (paths.state_dir() / "rates-cache.json").exists()
    got = _quick_in_subprocess(CLAUDE_NAMES)
    for name in CLAUDE_NAMES:
        assert Rates.from_dict(got["rates"][name]) == rates_for(name), name
    assert got["rates"]["claude-opus-4-6"]["source"] == "override"


_REPRICE_NO_GENAI = """
import sys
sys.modules['genai_prices'] = None
from token_roi import pricing
from token_roi.rows import UsageRow
from token_roi.store import Store
store = Store()
with store.transaction():
    store.upsert_calls([UsageRow('claude', 'a', 1777859421000, model='claude-sonnet-4-5-20250929',
                                 input_tokens=1000, output_tokens=100, cache_write_1h_tokens=1000),
                        UsageRow('claude', 'b', 1777859421000, model='acme-coder-9', input_tokens=5)])
print(pricing.reprice(store))
for r in store.db.execute('SELECT dedupe_key, cost, price_source FROM calls ORDER BY 1'):
    print(*r)
print(pricing.current_version())
"""


def test_reprice_falls_back_to_the_snapshot_without_genai_prices(store):
    proc = subprocess.run([sys.executable, "-c", _REPRICE_NO_GENAI], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == "2"
    key, cost, source = lines[1].split()
    assert float(cost) == pytest.approx((1000 * 3 + 100 * 15 + 1000 * 6) / 1e6) and source == "genai-prices"
    assert lines[2].split() == ["b", "None", "unpriced"]
    # Priced from the snapshot: once genai-prices imports again, the rows are priced again.
    assert lines[3] != pricing.current_version()


def test_snapshot_is_generated_from_the_installed_genai_prices():
    # Fails (never skips) when the shipped snapshot lags the installed genai-prices: the hooks
    # would price with old rates until the first report. Fix: scripts/update-rates.
    from importlib.metadata import version
    snapshot = json.loads((REPO / "core" / "data" / "rates-snapshot.json").read_text())
    assert snapshot["generated_from"] == f"genai-prices {version('genai-prices')}", \
        "the rates snapshot lags the installed genai-prices: run scripts/update-rates"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "update-rates"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_snapshot_name_is_priced_as_genai_prices_prices_it_today():
    snapshot = json.loads((REPO / "core" / "data" / "rates-snapshot.json").read_text())
    assert len(snapshot["models"]) > 100
    now = int(time.time() * 1000)
    for name, rates in snapshot["models"].items():
        assert Rates.from_dict(rates) == rates_for(name, now), name


def test_importing_pricing_needs_only_the_standard_library():
    code = ("import sys; import token_roi.pricing; "
            "print(sorted(m for m in ('genai_prices', 'yaml', 'jsonschema', 'orjson') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_two_cliffs_price_the_same_in_sql_and_python(store):
    # Some models have two thresholds (32k and 128k prompt tokens); the CASE must pick the highest passed.
    from token_roi.pricing.rates import sql_cost
    top = Rates(0.52, 2.6, 0.52, 0.52, 0.52)
    mid = Rates(0.325, 1.3, 0.325, 0.325, 0.325, long_threshold=128_000, long=top)
    rates = Rates(0.195, 0.975, 0.195, 0.195, 0.195, long_threshold=32_000, long=mid)
    prompts = [1_000, 32_000, 32_001, 128_000, 128_001, 300_000]
    insert(store, *(call(f"p{p}", "qwen3-coder-flash", input_tokens=p - 500, cache_read_tokens=500, output_tokens=1_000)
                    for p in prompts))
    expr, params = sql_cost(rates)
    got = dict(store.db.execute(f"SELECT dedupe_key, {expr} FROM calls", params).fetchall())
    expected_rate = {1_000: rates, 32_000: rates, 32_001: mid, 128_000: mid, 128_001: top, 300_000: top}
    for p in prompts:
        r = expected_rate[p]
        by_hand = ((p - 500) * r.input + 500 * r.cache_read + 1_000 * r.output) / 1e6
        assert cost_of(rates, input_tokens=p - 500, cache_read_tokens=500,
                       output_tokens=1_000) == pytest.approx(by_hand)
        assert got[f"p{p}"] == pytest.approx(by_hand, rel=1e-12), p
