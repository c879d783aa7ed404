"""The query layer: local periods across time zones and DST, filters, per-model split, sessions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from reports_data import call, make_store, ms

from token_roi.reports import query
from token_roi.reports.query import Filters
from token_roi.rows import UsageRow
from token_roi.store import Store

UTC = dt.timezone.utc
LA = ZoneInfo("America/Los_Angeles")
KTM = ZoneInfo("Asia/Kathmandu")      # +05:45, no DST
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def tz_store():
    # A: 02:30Z = LA 03-09 19:30 (PDT, -7) = Kathmandu 03-10 08:15
    # C: 18:10Z = LA 03-10 11:10          = Kathmandu 03-10 23:55
    # B: 18:20Z = LA 03-10 11:20          = Kathmandu 03-11 00:05 (midnight there is 18:15Z)
    return make_store([
        call("2026-03-10T02:30:00Z", inp=100, out=1000, cost=1.0),
        call("2026-03-10T18:10:00Z", inp=3, out=30, cost=0.03),
        call("2026-03-10T18:20:00Z", inp=20, out=200, cost=0.2),
    ])


def days(store, tz, **kw):
    return {g.key: g.input_tokens for g in query.usage_by_period(store, "daily", Filters(**kw), tz)}


def test_daily_grouping_follows_the_time_zone(tz_store):
    assert days(tz_store, UTC) == {"2026-03-10": 123}
    assert days(tz_store, LA) == {"2026-03-09": 100, "2026-03-10": 23}
    assert days(tz_store, KTM) == {"2026-03-10": 103, "2026-03-11": 20}


def test_daily_rows_keep_counters_and_cost(tz_store):
    (g,) = query.usage_by_period(tz_store, "daily", Filters(), UTC)
    assert (g.input_tokens, g.output_tokens, g.total_tokens, g.calls) == (123, 1230, 1353, 3)
    assert g.cost == pytest.approx(1.23)
    assert g.first_ts == ms("2026-03-10T02:30:00Z") and g.last_ts == ms("2026-03-10T18:20:00Z")


def test_since_until_are_inclusive_local_days_in_both_formats(tz_store):
    assert days(tz_store, LA, since=dt.date(2026, 3, 10)) == {"2026-03-10": 23}
    assert days(tz_store, LA, until=dt.date(2026, 3, 9)) == {"2026-03-09": 100}
    assert days(tz_store, KTM, since=dt.date(2026, 3, 11), until=dt.date(2026, 3, 11)) == {"2026-03-11": 20}
    assert days(tz_store, UTC, since=dt.date(2026, 3, 10), until=dt.date(2026, 3, 10)) == {"2026-03-10": 123}
    assert days(tz_store, UTC, since=dt.date(2026, 3, 11)) == {}


def test_weeks_across_the_dst_switch_in_berlin():
    # Berlin switches to CEST (+2) on Sunday 2026-03-29 at 01:00Z.
    store = make_store([
        call("2026-03-22T23:30:00Z", inp=1),    # CET  Mon 03-23 00:30
        call("2026-03-29T21:45:00Z", inp=10),   # CEST Sun 03-29 23:45 (a fixed +1 would say 22:45, same day)
        call("2026-03-29T22:30:00Z", inp=100),  # CEST Mon 03-30 00:30 (a fixed +1 would say Sunday 23:30)
    ])
    weeks = {g.key: g.input_tokens for g in query.usage_by_period(store, "weekly", Filters(), BERLIN)}
    assert weeks == {"2026-03-23": 11, "2026-03-30": 100}
    sunday = {g.key: g.input_tokens
              for g in query.usage_by_period(store, "weekly", Filters(), BERLIN, week_start=6)}
    assert sunday == {"2026-03-22": 1, "2026-03-29": 110}
    in_utc = {g.key: g.input_tokens for g in query.usage_by_period(store, "weekly", Filters(), UTC)}
    assert in_utc == {"2026-03-16": 1, "2026-03-23": 110}


def test_since_until_across_dst_use_the_local_midnight():
    # Berlin's 2026-03-30 starts at 2026-03-29T22:00Z (CEST); 21:59Z still belongs to 03-29.
    store = make_store([call("2026-03-29T21:59:00Z", inp=1), call("2026-03-29T22:00:00Z", inp=2)])
    assert days(store, BERLIN, since=dt.date(2026, 3, 30)) == {"2026-03-30": 2}
    assert days(store, BERLIN, until=dt.date(2026, 3, 29)) == {"2026-03-29": 1}


def test_monthly_keys_and_month_edge_in_zone():
    store = make_store([call("2026-04-30T23:30:00Z", inp=5), call("2026-05-01T00:30:00Z", inp=7)])
    assert {g.key: g.input_tokens for g in query.usage_by_period(store, "monthly", Filters(), UTC)} == {
        "2026-04": 5, "2026-05": 7}
    # Kathmandu: both are in May.
    assert {g.key: g.input_tokens for g in query.usage_by_period(store, "monthly", Filters(), KTM)} == {
        "2026-05": 12}


def test_project_and_agent_filters():
    store = make_store([
        call("2026-03-10T10:00:00Z", project="/home/u/alpha", inp=1),
        call("2026-03-10T10:00:00Z", project="/home/u/beta", inp=10),
        call("2026-03-10T10:00:00Z", project="/srv/beta-2", agent="codex", model="gpt-5-codex", inp=100),
    ])
    assert days(store, UTC, project="beta") == {"2026-03-10": 110}
    assert days(store, UTC, project="/home/u/") == {"2026-03-10": 11}
    assert days(store, UTC, agents=("codex",)) == {"2026-03-10": 100}
    assert days(store, UTC, agents=("claude", "codex")) == {"2026-03-10": 111}
    assert days(store, UTC, project="beta", agents=("claude",)) == {"2026-03-10": 10}
    (g,) = query.usage_by_period(store, "daily", Filters(), UTC)
    assert g.agents == ["claude", "codex"]


def test_per_model_split_unpriced_and_models_in_first_use_order():
    store = make_store([
        call("2026-03-10T09:00:00Z", model="claude-opus-4-5", inp=1, out=2, cr=30, cw5=40, cw1=50, cost=0.5),
        call("2026-03-10T08:00:00Z", model="claude-sonnet-4-5", inp=10, out=20, reasoning=5, cost=0.25),
        call("2026-03-10T10:00:00Z", model="mystery-model", inp=7, out=8, cost=None),
        call("2026-03-10T11:00:00Z", model=None, inp=1, cost=None),
    ])
    (g,) = query.usage_by_period(store, "daily", Filters(), UTC)
    assert g.models_used == ["claude-sonnet-4-5", "claude-opus-4-5", "mystery-model", "unknown"]
    assert g.unpriced_models == ["mystery-model", "unknown"]
    assert (g.unpriced_calls, g.unpriced_tokens, g.calls) == (2, 16, 4)
    assert g.cost == pytest.approx(0.75)
    opus = g.models["claude-opus-4-5"]
    assert (opus.cache_creation_tokens, opus.cache_write_1h_tokens, opus.total_tokens) == (90, 50, 123)
    sonnet = g.models["claude-sonnet-4-5"]
    assert (sonnet.output_tokens, sonnet.output_with_reasoning, sonnet.total_tokens) == (20, 25, 35)


def test_sessions_group_by_agent_and_session_with_main_project():
    store = make_store([
        call("2026-03-10T09:00:00Z", session="s1", project="/home/u/a", inp=1),
        call("2026-03-10T09:30:00Z", session="s1", project="/home/u/a/sub", inp=2),
        call("2026-03-10T09:40:00Z", session="s1", project="/home/u/a", inp=4),
        call("2026-03-09T09:00:00Z", session="s2", project="/home/u/b", inp=8),
        call("2026-03-11T09:00:00Z", session="s1", agent="codex", project="/x", inp=16),
    ])
    sessions = query.usage_by_session(store, Filters(), UTC)
    assert [(s.agent, s.session_id, s.project, s.input_tokens) for s in sessions] == [
        ("claude", "s2", "/home/u/b", 8),
        ("claude", "s1", "/home/u/a", 7),
        ("codex", "s1", "/x", 16),
    ]
    s1 = sessions[1]
    assert (s1.first_ts, s1.last_ts) == (ms("2026-03-10T09:00:00Z"), ms("2026-03-10T09:40:00Z"))


def test_totals_merge_models_and_agents():
    store = make_store([
        call("2026-03-10T09:00:00Z", inp=1, cost=0.1),
        call("2026-03-11T09:00:00Z", agent="codex", model="gpt-5", inp=2, cost=None),
    ])
    t = query.totals(query.usage_by_period(store, "daily", Filters(), UTC))
    assert (t.input_tokens, t.calls, t.agents, t.unpriced_models) == (3, 2, ["claude", "codex"], ["gpt-5"])
    assert t.cost == pytest.approx(0.1)


def test_fetch_calls_ordered_streams_filtered_rows_in_time_order():
    store = make_store([
        call("2026-03-10T09:00:00Z", inp=2, project="/p"),
        call("2026-03-10T08:00:00Z", inp=1, project="/p"),
        call("2026-03-10T10:00:00Z", inp=3, project="/q"),
    ])
    rows = list(query.fetch_calls_ordered(store, Filters(project="/p"), UTC))
    assert [r["input_tokens"] for r in rows] == [1, 2]
    assert query.has_calls(store, Filters(project="/q")) and not query.has_calls(store, Filters(project="/z"))


def test_offset_segments_find_each_transition_to_the_millisecond():
    segs = query.offset_segments(BERLIN, ms("2026-01-01T00:00:00Z"), ms("2026-12-31T00:00:00Z"))
    assert segs == [(ms("2026-01-01T00:00:00Z"), 3_600_000), (ms("2026-03-29T01:00:00Z"), 7_200_000),
                    (ms("2026-10-25T01:00:00Z"), 3_600_000)]
    assert query.offset_segments(KTM, ms("2026-01-01T00:00:00Z"), ms("2026-12-31T00:00:00Z")) == [
        (ms("2026-01-01T00:00:00Z"), 20_700_000)]
    # Lord Howe Island moves its clock by half an hour (+10:30 -> +11 on 2026-10-04 02:00 local)
    lh = query.offset_segments(ZoneInfo("Australia/Lord_Howe"), ms("2026-09-01T00:00:00Z"), ms("2026-11-01T00:00:00Z"))
    assert lh == [(ms("2026-09-01T00:00:00Z"), 37_800_000), (ms("2026-10-03T15:30:00Z"), 39_600_000)]


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kathmandu", "Europe/Berlin",
                                  "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns"])
def test_sql_local_day_equals_zoneinfo_for_every_call(zone):
    import random
    tz = ZoneInfo(zone)
    rnd = random.Random(zone)
    lo, hi = ms("2025-01-01T00:00:00Z"), ms("2027-01-01T00:00:00Z")
    calls = [call(query_iso(rnd.randint(lo, hi)), inp=1) for _ in range(400)]
    # and calls right at each transition and a millisecond before it
    for start, _ in query.offset_segments(tz, lo, hi)[1:]:
        calls += [call(query_iso(start), inp=1), call(query_iso(start - 1), inp=1)]
    store = make_store(calls)
    expected: dict[str, int] = {}
    for row, _ in calls:
        day = dt.datetime.fromtimestamp(row.ts / 1000, tz).date().isoformat()
        expected[day] = expected.get(day, 0) + 1
    # Without a project filter days are summed from the quarter-hour sums; with one, the
    # grouped query over the table: both must put every call on its zoneinfo day.
    assert {g.key: g.calls for g in query.usage_by_period(store, "daily", Filters(), tz)} == expected
    assert {g.key: g.calls for g in query.usage_by_period(store, "daily", Filters(project="/proj"), tz)} == expected


def query_iso(ms_: int) -> str:
    from token_roi.reports.blocks import iso_ms
    return iso_ms(ms_)


def test_day_rows_from_quarter_hour_sums_equal_the_grouped_query():
    import random
    rnd = random.Random(7)
    lo, hi = ms("2026-03-01T00:00:00Z"), ms("2026-04-15T00:00:00Z")
    calls = [call(query_iso(rnd.randint(lo, hi)), agent=rnd.choice(["claude", "codex"]),
                  model=rnd.choice(["claude-sonnet-4-5", "gpt-5", None]), inp=rnd.randint(0, 9000),
                  out=rnd.randint(0, 900), cr=rnd.randint(0, 50_000), cw5=rnd.randint(0, 900),
                  cw1=rnd.randint(0, 900), cost=rnd.choice([None, rnd.random()]))
             for _ in range(600)]
    store = make_store(calls)
    for zone in ("Europe/Berlin", "Asia/Kathmandu"):
        tz = ZoneInfo(zone)
        ranged = query.day_rows(store, Filters(), tz)            # quarter-hour sums
        grouped = list(query.day_rows(store, Filters(project="/"), tz))   # the grouped query
        assert [r[:3] for r in ranged] == [r[:3] for r in grouped]
        for a, b in zip(ranged, grouped):
            assert a[3:9] == b[3:9] and a[10:] == b[10:]          # tokens, counts, first/last: exact
            assert a[9] == pytest.approx(b[9], rel=1e-12)        # cost: the same sum, another order
            # (columns: day, agent, model, 6 token sums, cost, calls, unpriced calls, unpriced tokens, min, max)


def test_quarter_hour_sums_follow_every_change_to_the_calls(tmp_path):
    # call_buckets serve daily/weekly/monthly; triggers note what changed, refresh_buckets sums it
    # again: after each kind of write the report must equal the grouped query over the calls.
    calls = [call(f"2026-03-{d:02d}T{h:02d}:{m:02d}:00Z", inp=d * h + 1, out=m + 1, cr=7, cost=0.01 * d)
             for d in (1, 2, 28, 29, 30) for h in (0, 1, 23) for m in (0, 14, 15, 59)]
    store = make_store(calls, tmp_path / "l.sqlite3")
    tz = ZoneInfo("Europe/Berlin")                       # DST on 2026-03-29

    def check():
        ranged = query.day_rows(store, Filters(), tz)
        assert store.db.execute("SELECT count(*) FROM call_buckets_dirty").fetchone() == (0,)
        grouped = list(query.day_rows(store, Filters(project="/"), tz))
        assert [r[:9] + r[10:] for r in ranged] == [r[:9] + r[10:] for r in grouped]
        assert [r[9] for r in ranged] == pytest.approx([r[9] for r in grouped], rel=1e-12)

    check()
    extra, _ = call("2026-03-29T01:30:00Z", inp=500, out=5)           # a new call, priced later
    with store.transaction():
        store.upsert_calls([extra])
    check()
    better = UsageRow(*extra._values())
    better.output_tokens = 900
    with store.transaction():
        store.upsert_calls([better])                                   # a better copy replaces it
    check()
    with store.transaction():
        store.db.execute("UPDATE calls SET cost = 0.5, price_version = 'v2' WHERE dedupe_key = ?", (extra.dedupe_key,))
        store.db.execute("UPDATE calls SET ts = ts + 86400000 WHERE output_tokens = 15")   # moved to the next day
        store.db.execute("DELETE FROM calls WHERE input_tokens = 24")
    check()


def test_readonly_ledger_with_stale_sums_and_odd_offsets_still_sum_the_calls(tmp_path):
    calls = [call(f"2026-05-0{d}T{h:02d}:07:00Z", inp=d + h, cost=0.1) for d in (1, 2, 3) for h in (0, 12, 23)]
    path = tmp_path / "l.sqlite3"
    make_store(calls, path).close()                      # its quarter hours are still to be summed
    ro = Store(path, readonly=True)
    assert not ro.refresh_buckets()
    expected = {"2026-05-01": 3, "2026-05-02": 3, "2026-05-03": 3}
    assert {g.key: g.calls for g in query.usage_by_period(ro, "daily", Filters(), dt.timezone.utc)} == expected
    # an offset that is no whole quarter hour (a 1900s local mean time) cannot use the sums
    lmt = dt.timezone(dt.timedelta(minutes=-8))          # 00:07Z is 23:59 the day before
    assert {g.key: g.input_tokens for g in query.usage_by_period(Store(path), "daily", Filters(), lmt)} == {
        "2026-04-30": 1, "2026-05-01": 13 + 24 + 2, "2026-05-02": 14 + 25 + 3, "2026-05-03": 15 + 26}


def test_a_price_change_sums_the_quarter_hours_once_with_the_triggers_back(tmp_path):
    # Pricing every row again (a new price table) runs with the bucket triggers off, then sums
    # every quarter hour once: the sums must equal a fresh build, and the triggers must be back.
    from token_roi import pricing
    calls = [call(f"2026-04-{d:02d}T{h:02d}:30:00Z", inp=1000 * d, out=10 * h, model=m, cost=None)
             for d in (1, 2, 3) for h in (0, 9, 23) for m in ("claude-sonnet-4-5", "some-unknown-model")]
    store = make_store(calls, tmp_path / "l.sqlite3")
    with store.transaction():
        store.db.execute("UPDATE calls SET price_version = NULL")   # as ingest leaves new rows
    assert pricing.reprice(store) == len(calls)
    triggers = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {t for t in triggers if t.startswith("calls_")} == {"calls_bucket_insert", "calls_bucket_delete",
                                                                 "calls_bucket_update"}
    assert store.db.execute("SELECT count(*) FROM call_buckets_dirty").fetchone() == (0,)
    fresh = store.db.execute(f"{Store._BUCKET_SUMS} GROUP BY agent, model, b ORDER BY b, agent, model").fetchall()
    kept = store.db.execute("SELECT * FROM call_buckets ORDER BY bucket, agent, model").fetchall()
    assert kept == fresh and any(r[9] > 0 for r in kept)        # priced: the sums hold the costs
    # and the triggers work again afterwards
    with store.transaction():
        store.db.execute("UPDATE calls SET cost = cost + 1 WHERE cost IS NOT NULL")
    assert store.db.execute("SELECT count(*) FROM call_buckets_dirty").fetchone()[0] > 0
