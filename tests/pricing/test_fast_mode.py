"""Fast mode: Claude Code writes `"speed":"fast"` in `message.usage`; such calls bill at the
model's fast card (genai-prices' `speed: fast` price variant), never silently at the standard
rate. Hand-computed from genai-prices 0.2.3 (USD per million tokens):
- claude-opus-4-8 standard 5/25, read 0.5, 5-minute write 6.25, 1-hour write 10;
  fast 10/50, read 1, writes 12.5/20 (2x);
- claude-opus-4-6 has no fast variant: its fast calls are unpriced ('unpriced:speed').
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from token_roi import pricing
from token_roi.adapters.base import Source
from token_roi.adapters.claude import ADAPTER
from token_roi.cli import main as cli_main
from token_roi.guard import usage as guard_usage
from token_roi.ingest import refresh
from token_roi.pricing import catalog, quick
from token_roi.rows import UsageRow
from token_roi.store import Store
from token_roi.store.migrations import MIGRATIONS, m004_speed

TS = int(datetime(2026, 11, 20, 9, 15, 2, tzinfo=timezone.utc).timestamp() * 1000)
COUNTERS = dict(input_tokens=1_200, output_tokens=850, cache_read_tokens=48_000,
                cache_write_5m_tokens=6_000, cache_write_1h_tokens=4_000)
# 1200*5 + 850*25 + 48000*0.5 + 6000*6.25 + 4000*10 = 128,750 $/M-token units
OPUS_48_STANDARD_USD = 0.12875
# 1200*10 + 850*50 + 48000*1 + 6000*12.5 + 4000*20 = 257,500
OPUS_48_FAST_USD = 0.2575


def call(key, model, speed=None, **counters) -> UsageRow:
    return UsageRow(agent="claude", dedupe_key=key, ts=TS, session_id="5e1d", project="/home/u/proj",
                    model=model, speed=speed, **(counters or COUNTERS))


@pytest.fixture
def store():
    s = Store()
    yield s
    s.close()


def priced(store, *rows) -> dict:
    with store.transaction():
        store.upsert_calls(rows)
    pricing.reprice(store)
    return {k: (c, s) for k, c, s in store.db.execute("SELECT dedupe_key, cost, price_source FROM calls")}


def test_fast_call_bills_at_the_fast_card(store):
    got = priced(store, call("msg_fast", "claude-opus-4-8", "fast"))
    cost, source = got["msg_fast"]
    assert cost == pytest.approx(OPUS_48_FAST_USD, abs=1e-12)
    assert source == "genai-prices"
    # the one-call path (CLI `log`, dashboard) agrees with the bulk SQL
    assert pricing.price_usage("claude-opus-4-8", ts_ms=TS, speed="fast", **COUNTERS) == (cost, "genai-prices")


def test_standard_calls_unchanged(store):
    got = priced(store, call("msg_none", "claude-opus-4-8"), call("msg_std", "claude-opus-4-8", "standard"),
                 call("msg_sonnet", "claude-sonnet-4-6"))
    assert got["msg_none"][0] == pytest.approx(OPUS_48_STANDARD_USD, abs=1e-12)
    assert got["msg_std"] == got["msg_none"]
    # Sonnet 4.6: 1200*3 + 850*15 + 48000*0.3 + 6000*3.75 + 4000*6 = 77,250
    assert got["msg_sonnet"] == (pytest.approx(0.07725, abs=1e-12), "genai-prices")


def test_fast_call_without_a_fast_price_is_unpriced_and_reported(store, capsys):
    got = priced(store, call("msg_fast", "claude-opus-4-6", "fast"), call("msg_std", "claude-opus-4-6"),
                 call("msg_turbo", "claude-opus-4-8", "turbo"))
    assert got["msg_fast"] == (None, "unpriced:speed")
    assert got["msg_turbo"] == (None, "unpriced:speed")      # a speed no card knows, not 'standard'
    assert got["msg_std"] == (pytest.approx(OPUS_48_STANDARD_USD, abs=1e-12), "genai-prices")
    assert pricing.price_usage("claude-opus-4-6", speed="fast", **COUNTERS) == (None, "unpriced:speed")
    store.close()
    assert cli_main(["daily", "--json", "--since", "20261120", "--until", "20261120", "-z", "UTC"]) == 0
    report = json.loads(capsys.readouterr().out)
    total = report["totals"]
    assert total["totalCost"] == pytest.approx(OPUS_48_STANDARD_USD)     # the priced call only ...
    assert total["totalTokens"] == 3 * sum(COUNTERS.values())             # ... every call's tokens
    assert set(total["unpricedModels"]) == {"claude-opus-4-6", "claude-opus-4-8"}


def test_override_prices_standard_calls_only(store):
    path = pricing.overrides_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("claude-opus-4-8:\n  input: 4\n  output: 20\n")
    got = priced(store, call("msg_fast", "claude-opus-4-8", "fast"), call("msg_std", "claude-opus-4-8"))
    assert got["msg_fast"] == (None, "unpriced:speed")
    assert got["msg_std"][1] == "override"


def test_hooks_price_fast_calls_from_the_snapshot():
    snap = quick.snapshot_rates("claude-opus-4-8-20261001")
    assert snap.fast == catalog.genai_schedule("claude-opus-4-8")[0][1].fast
    assert (snap.fast.input, snap.fast.output, snap.fast.cache_write_1h) == (10.0, 50.0, 20.0)
    assert quick.snapshot_rates("claude-opus-4-6").fast is None
    counts = tuple(COUNTERS[k] for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                         "cache_write_5m_tokens", "cache_write_1h_tokens")) + (0,)
    guard_usage._rates.clear()
    assert guard_usage.price("claude-opus-4-8", counts, "fast") == pytest.approx(OPUS_48_FAST_USD)
    assert guard_usage.price("claude-opus-4-8", counts) == pytest.approx(OPUS_48_STANDARD_USD)
    assert guard_usage.price("claude-opus-4-6", counts, "fast") is None


def test_timed_fast_variant_splits_the_schedule(store, monkeypatch):
    """A fast variant with its own start date (genai-prices allows one): before that date a fast
    call has no known fast price (unpriced), from it on it bills at the fast card; a price
    change of the standard card on another date is kept apart."""
    from datetime import date
    from types import SimpleNamespace

    from genai_prices import types
    day = 86_400_000
    info = types.ModelInfo(
        id="claude-test-9", match=types.ClauseEquals(equals="claude-test-9"),
        prices=[types.ConditionalPrice(prices=types.ModelPrice(input_mtok=4, output_mtok=20)),
                types.ConditionalPrice(constraint=types.StartDateConstraint(start_date=date(2026, 11, 21)),
                                       prices=types.ModelPrice(input_mtok=3, output_mtok=15))],
        price_variants=[types.PriceVariant(when={"processing": "batch"}, prices=types.ModelPrice(input_mtok=1)),
                        types.PriceVariant(when={"speed": "fast"}, prices=types.ModelPrice(input_mtok=8),
                                           constraint=types.StartDateConstraint(start_date=date(2026, 11, 20)))])
    snapshot = SimpleNamespace(find_provider_model=lambda ref, *a: (SimpleNamespace(id="anthropic"), info)
                               if ref == "claude-test-9" else (_ for _ in ()).throw(LookupError(ref)))
    monkeypatch.setattr(catalog, "_genai", lambda: (SimpleNamespace(get_snapshot=lambda: snapshot), types))
    catalog.genai_schedule.cache_clear()
    try:
        # one million input tokens on Nov 19, Nov 20 (fast price starts) and Nov 21 (price cut)
        rows = [UsageRow("claude", f"{name}_{speed}", ts, model="claude-test-9", speed=speed, input_tokens=10**6)
                for name, ts in (("before", TS - day), ("fast_day", TS), ("later", TS + day))
                for speed in (None, "fast")]
        got = priced(store, *rows)
    finally:
        catalog.genai_schedule.cache_clear()
    assert got["before_None"] == (4.0, "genai-prices")
    assert got["before_fast"] == (None, "unpriced:speed")            # the fast price had not started
    assert got["fast_day_None"] == (4.0, "genai-prices")
    assert got["fast_day_fast"] == (8.0, "genai-prices")             # the variant's input; output standard
    assert got["later_None"] == (3.0, "genai-prices")
    assert got["later_fast"] == (8.0, "genai-prices")


# -- the Claude reader -------------------------------------------------------------------------
def assistant_line(msg_id, speed, output, block) -> str:
    usage = {"input_tokens": 3, "cache_creation_input_tokens": 1800, "cache_read_input_tokens": 41022,
             "output_tokens": output, "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
             "service_tier": "standard", "cache_creation": {"ephemeral_1h_input_tokens": 1800,
                                                            "ephemeral_5m_input_tokens": 0}}
    if speed is not None:
        usage["speed"] = speed
    obj = {"parentUuid": "d5a1c0de-0000-4000-8000-00000000000" + msg_id[-1], "isSidechain": False,
           "userType": "external", "cwd": "/home/u/proj", "sessionId": "5e1d7a10-3b2c-4d5e-8f90-a1b2c3d4e5f6",
           "version": "2.1.140", "gitBranch": "main",
           "message": {"model": "claude-opus-4-8", "id": msg_id, "type": "message", "role": "assistant",
                       "content": [block], "stop_reason": None, "stop_sequence": None, "usage": usage},
           "requestId": "req_011C" + msg_id[-4:], "type": "assistant",
           "uuid": "cb1f0000-0000-4000-8000-00000000000" + msg_id[-1], "timestamp": "2026-11-20T09:15:02.118Z"}
    return json.dumps(obj, separators=(",", ":"))


def transcript(path: Path) -> Path:
    text = {"type": "text", "text": "Running the tests."}
    tool = {"type": "tool_use", "id": "toolu_01Ab", "name": "Bash", "input": {"command": "pytest -q"}}
    lines = [
        json.dumps({"type": "user", "message": {"role": "user", "content": "fix the flaky test"},
                    "uuid": "u1", "timestamp": "2026-11-20T09:15:00.001Z", "sessionId": "5e1d"}),
        assistant_line("msg_01FastAAAA1", "fast", 2, text),     # streaming copy, placeholder output
        assistant_line("msg_01FastAAAA1", "fast", 412, text),
        assistant_line("msg_01FastAAAA1", "fast", 412, tool),   # the next content block, same usage
        assistant_line("msg_01StdBBBBB2", "standard", 97, text),
        assistant_line("msg_01OldCCCCC3", None, 55, text),       # older builds write no speed
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reader_keeps_speed(tmp_path):
    path = transcript(tmp_path / "t.jsonl")
    rows, bad = ADAPTER.parse(path.read_bytes(), Source("claude", path, "jsonl", {}), {})
    assert bad == 0
    got = {r.dedupe_key: (r.speed, r.output_tokens) for r in rows}
    assert got == {"msg_01FastAAAA1": ("fast", 412), "msg_01StdBBBBB2": (None, 97), "msg_01OldCCCCC3": (None, 55)}


# -- a ledger from before the speed column -----------------------------------------------------
def test_existing_ledger_migrates_and_gets_speed_back(tmp_path):
    """A ledger written with the previous schema (the transcript read before speed existed, its
    fast call priced at the standard rate) migrates, reads its Claude transcripts again, and the
    fast call gets its speed and the fast price; nothing is counted twice."""
    from token_roi import paths
    from token_roi.store import CALL_COLUMNS
    path = transcript(Path.home() / ".claude" / "projects" / "-home-u-proj" / "5e1d7a10.jsonl")
    result = ADAPTER.read(Source("claude", path, "jsonl", {}), None)
    old_columns = [c for c in CALL_COLUMNS if c != "speed"]
    db_path = paths.db_path()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(db_path, isolation_level=None)
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at INTEGER)")
    for migration in MIGRATIONS[:MIGRATIONS.index(m004_speed)]:     # the schema before speed
        migration(old)
        old.execute("INSERT INTO _migrations VALUES (?, 0)", (migration.__name__,))
    for r in result.rows:
        values = [getattr(r, c) for c in old_columns]
        standard = pricing.price_usage(r.model, input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                                       cache_read_tokens=r.cache_read_tokens,
                                       cache_write_5m_tokens=r.cache_write_5m_tokens,
                                       cache_write_1h_tokens=r.cache_write_1h_tokens, ts_ms=r.ts)[0]
        old.execute(f"INSERT INTO calls ({', '.join(old_columns)}, cost, price_source, price_version, ingested_at) "
                    f"VALUES ({', '.join('?' * len(old_columns))}, ?, 'genai-prices', 'v1-old', 0)",
                    (*values, standard))
    c = result.cursor
    old.execute("INSERT INTO sources (agent, path, offset, size, mtime_ns, inode, fingerprint, rows_seen, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", (c.agent, c.path, c.offset, c.size, c.mtime_ns, c.inode,
                                                       c.fingerprint, c.rows_seen))
    old.execute("INSERT INTO meta VALUES ('pricing.version', 'v1-old')")
    old.close()

    store = Store(db_path)            # opening the ledger applies m004_speed
    try:
        cols = [r[1] for r in store.db.execute("PRAGMA table_info(calls)")]
        assert "speed" in cols
        assert store.db.execute("SELECT COUNT(*), COUNT(speed) FROM calls").fetchone() == (3, 0)
        refresh(store, ["claude"], show_progress=False)
        got = {k: (s, c) for k, s, c in store.db.execute("SELECT dedupe_key, speed, cost FROM calls")}
        # 3*10 + 412*50 + 41022*1 + 1800*20 = 97,652 $/M-token units
        assert got["msg_01FastAAAA1"] == ("fast", pytest.approx(0.097652, abs=1e-12))
        # 3*5 + 97*25 + 41022*0.5 + 1800*10 = 40,951
        assert got["msg_01StdBBBBB2"] == (None, pytest.approx(0.040951, abs=1e-12))
        assert store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 3   # nothing counted twice
    finally:
        store.close()
