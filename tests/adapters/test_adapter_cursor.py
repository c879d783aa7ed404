"""Cursor: best-effort local store (read-only, one row per requestId) and the usage CSV import."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from token_roi.adapters import get_adapter
from token_roi.adapters.cursor import CsvFormatError, import_usage_csv, read_usage_csv
from token_roi.cli import main
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cursor"
CSV = FIXTURES / "usage-events-2026-03-05.csv"
CSV_NEW = FIXTURES / "usage-events-2026-03-06-new-format.csv"
# Hand-checked from the CSV: 4 requests (the identical 03-04 lines are two requests; the errored
# line used nothing).
CSV_TOTALS = {"rows": 4, "input": 310 + 5120 + 5120 + 0, "cache_write": 12040 + 2801,
              "cache_read": 182336 + 40960 + 40960 + 343040, "output": 2210 + 880 + 880 + 2076, "recorded": 0.28}
LOCAL_R3 = {"input": 1200, "output": 340}


def totals(store: Store, where: str = "1") -> dict:
    r = store.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(cache_write_5m_tokens), SUM(cache_read_tokens), SUM(output_tokens), "
        f"ROUND(SUM(recorded_cost), 6) FROM calls WHERE agent = 'cursor' AND {where}").fetchone()
    return dict(zip(("rows", "input", "cache_write", "cache_read", "output", "recorded"), r))


@pytest.fixture
def vscdb(tmp_path) -> Path:
    path = tmp_path / "user-home" / ".config" / "Cursor" / "User" / "globalStorage" / "state.vscdb"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    db.execute("CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    db.executemany("INSERT INTO cursorDiskKV VALUES (?, ?)",
                   # values are BLOBs in most stores, TEXT in some: both kinds here
                   [(k, v if "8c41d7a0" in k else v.encode())
                    for k, v in json.loads((FIXTURES / "cursorDiskKV.json").read_text())])
    db.commit()
    db.close()
    return path


def test_local_store_best_effort(vscdb):
    digest = hashlib.sha256(vscdb.read_bytes()).hexdigest()
    store = Store()
    stats = ingest(store, agents=["cursor"], show_progress=False)
    # b2 (request r1) and b4/b5 (request r3, two bubbles: one call); zero counts and the user bubble skipped.
    assert totals(store) == {"rows": 2, "input": 2801 + 1200, "cache_write": 0, "cache_read": 0,
                             "output": 2076 + 340, "recorded": None}
    assert stats.bad_lines == 1
    rows = dict(store.db.execute("SELECT dedupe_key, model FROM calls"))
    # b2 has no modelInfo: the chat's modelConfig (Cursor's claude-4.5-sonnet); 'default' is no model name.
    assert rows == {"req:9e0c1a52-r1": "claude-sonnet-4-5", "req:51d7e0aa-r3": "gpt-5"}
    assert store.db.execute("SELECT ts, session_id FROM calls WHERE dedupe_key = 'req:51d7e0aa-r3'").fetchone() == (
        1773136800000, "8c41d7a0-5e2f-4b93-a6c8-1f0e9d3b2a77")
    assert hashlib.sha256(vscdb.read_bytes()).hexdigest() == digest     # never written
    assert ingest(store, agents=["cursor"], show_progress=False).rows == 0


def test_csv_rows_validated_and_mapped():
    rows = read_usage_csv(CSV)
    assert len(rows) == 4
    first = rows[0]
    assert (first.ts, first.model, first.input_tokens, first.cache_write_5m_tokens, first.cache_read_tokens,
            first.output_tokens, first.recorded_cost) == (1772727611482, "claude-sonnet-4-5", 310, 12040,
                                                           182336, 2210, 0.0)
    # Identical lines are two requests with two keys.
    assert rows[1].dedupe_key != rows[2].dedupe_key and rows[1].dedupe_key[:-2] == rows[2].dedupe_key[:-2]


def test_import_is_idempotent_and_overlapping_exports_count_once():
    store = Store()
    first = import_usage_csv(store, CSV)
    assert (first.rows, first.stored) == (4, 4)
    assert totals(store) == CSV_TOTALS
    again = import_usage_csv(store, CSV)
    assert (again.rows, again.stored) == (4, 0)
    assert totals(store) == CSV_TOTALS
    # A newer export (extra columns, CRLF) overlapping on 03-05: only its 03-06 request is new.
    newer = import_usage_csv(store, CSV_NEW)
    assert (newer.rows, newer.stored) == (2, 1)
    assert totals(store) == {**CSV_TOTALS, "rows": 5, "input": CSV_TOTALS["input"] + 1983,
                             "cache_read": CSV_TOTALS["cache_read"] + 128736, "output": CSV_TOTALS["output"] + 750}


def test_csv_replaces_local_estimates_it_covers_and_they_stay_replaced(vscdb):
    store = Store()
    ingest(store, agents=["cursor"], show_progress=False)
    result = import_usage_csv(store, CSV)
    assert result.local_replaced == 1                 # r1 on 03-03 lies inside the CSV's span
    assert totals(store) == {**CSV_TOTALS, "rows": 5, "input": CSV_TOTALS["input"] + LOCAL_R3["input"],
                             "output": CSV_TOTALS["output"] + LOCAL_R3["output"]}
    before = totals(store)

    # Cursor writes a new message: the whole local store is read again, r1 must not come back.
    db = sqlite3.connect(vscdb)
    bubble = {"_v": 3, "type": 2, "tokenCount": {"inputTokens": 50, "outputTokens": 5}, "requestId": "51d7e0aa-r4",
              "createdAt": "2026-03-11T08:00:00.000Z", "modelInfo": {"modelName": "gpt-5"}}
    db.execute("INSERT INTO cursorDiskKV VALUES (?, ?)",
               ("bubbleId:8c41d7a0-5e2f-4b93-a6c8-1f0e9d3b2a77:b7", json.dumps(bubble).encode()))
    db.commit()
    db.close()
    ingest(store, agents=["cursor"], show_progress=False)
    assert totals(store) == {**before, "rows": before["rows"] + 1, "input": before["input"] + 50,
                             "output": before["output"] + 5}
    assert store.db.execute("SELECT COUNT(*) FROM calls WHERE dedupe_key = 'req:9e0c1a52-r1'").fetchone() == (0,)


def test_import_before_first_ingest_still_skips_covered_local_rows(vscdb):
    store = Store()
    import_usage_csv(store, CSV)
    ingest(store, agents=["cursor"], show_progress=False)
    assert totals(store, "dedupe_key LIKE 'req:%'")["rows"] == 1     # only r3 (03-10), outside the CSV's span


@pytest.mark.parametrize("line, message", [
    ('"2026-03-05T16:20:11Z","Included","auto","No","1","2","3","4","10"', ":2: expected 10 fields, found 9"),
    ('"yesterday","Included","auto","No","1","2","3","4","10","0.1"', ":2: Date 'yesterday' is not a date"),
    ('"2026-03-05T16:20:11Z","Included","auto","No","1","-2","3","4","10","0.1"', ":2: Input (w/o Cache Write) '-2'"),
    ('"2026-03-05T16:20:11Z","Included","auto","No","1","2","3","4","10","lots"', ":2: Cost 'lots' is not an amount"),
    ('"2026-03-05T16:20:11Z","Included","auto","Maybe","1","2","3","4","10","0.1"', ":2: Max Mode 'Maybe'"),
])
def test_bad_lines_are_named_and_nothing_is_stored(tmp_path, capsys, line, message):
    bad = tmp_path / "usage.csv"
    header = CSV.read_text().splitlines()[0]
    bad.write_text(header + "\n" + line + "\n" + CSV.read_text().splitlines()[1] + "\n")
    with pytest.raises(CsvFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_usage_csv(bad)
    assert main(["import", "cursor-csv", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"token-roi: {bad}:2: ") and "\n" not in err
    assert totals(Store())["rows"] == 0


def test_not_a_cursor_csv(tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("date,model,tokens\n2026-03-01,x,1\n")
    assert main(["import", "cursor-csv", str(other)]) == 2
    assert f"{other}:1: not a Cursor usage CSV" in capsys.readouterr().err
    assert main(["import", "cursor-csv", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_import_command_output(capsys):
    assert main(["import", "cursor-csv", str(CSV)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"Imported 4 Cursor requests from {CSV} (2026-03-03 to 2026-03-05): 4 new."
    assert main(["import", "cursor-csv", str(CSV), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["rows"], data["new"], data["from"], data["to"]) == (
        4, 0, "2026-03-03T10:15:30Z", "2026-03-05T16:20:11Z")


def test_no_cursor_no_sources():
    adapter = get_adapter("cursor")
    assert adapter.roots() == [] and list(adapter.sources()) == []


def test_counts_filled_in_later_are_picked_up(vscdb):
    store = Store()
    ingest(store, agents=["cursor"], show_progress=False)
    key = "bubbleId:3f9a2c1e-0b7d-4c55-9e1a-7d2b6c0e4f11:b3"
    db = sqlite3.connect(vscdb)
    value = json.loads(db.execute("SELECT value FROM cursorDiskKV WHERE key = ?", (key,)).fetchone()[0])
    value["tokenCount"] = {"inputTokens": 700, "outputTokens": 90}
    # Cursor rewrites the row (INSERT OR REPLACE: a new rowid): read at the next ingest.
    db.execute("INSERT INTO cursorDiskKV VALUES (?, ?)", (key, json.dumps(value).encode()))
    db.commit()
    ingest(store, agents=["cursor"], show_progress=False)
    assert totals(store)["rows"] == 3
    # A count changed in place (same rowid) waits for the daily full read.
    b4 = "bubbleId:8c41d7a0-5e2f-4b93-a6c8-1f0e9d3b2a77:b4"
    value = json.loads(db.execute("SELECT value FROM cursorDiskKV WHERE key = ?", (b4,)).fetchone()[0])
    value["tokenCount"]["outputTokens"] = 400
    db.execute("UPDATE cursorDiskKV SET value = ? WHERE key = ?", (json.dumps(value), b4))
    db.commit()
    db.close()
    ingest(store, agents=["cursor"], show_progress=False)
    assert totals(store, "dedupe_key = 'req:51d7e0aa-r3'")["output"] == 340
    cursor = store.get_cursor("cursor", str(vscdb))
    cursor.state["full_at"] -= 25 * 3600
    cursor.size = -1
    with store.transaction():
        store.put_cursor(cursor)
    ingest(store, agents=["cursor"], show_progress=False)
    assert totals(store, "dedupe_key = 'req:51d7e0aa-r3'")["output"] == 400     # the larger copy wins
    assert totals(store)["rows"] == 3


@pytest.mark.parametrize("cursor_name, ours", [
    ("claude-4.5-sonnet-thinking", "claude-sonnet-4-5"),
    ("claude-4.5-opus-high-thinking", "claude-opus-4-5"),
    ("claude-4-sonnet", "claude-sonnet-4"),
    ("claude-3.5-sonnet", "claude-3-5-sonnet"),
    ("claude-sonnet-4-5", "claude-sonnet-4-5"),
    ("gpt-5", "gpt-5"),
    ("auto", "auto"),
    ("default", None),
])
def test_model_names(cursor_name, ours):
    from token_roi.adapters.cursor import model_name
    assert model_name(cursor_name) == ours
