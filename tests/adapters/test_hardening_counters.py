"""One transcript line with an absurd counter is a bad line: skipped, counted, named in a warning;
the rest of the file is read and every report still runs (under the C loop and the Python one)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hardening_data import line

from token_roi.ingest import refresh
from token_roi.store import Store


@pytest.fixture
def reader_loop(claude_parse):
    """Every test here runs under the C parse and the Python one (tests/adapters/conftest.py)."""
    return claude_parse


GOOD = [("msg_ok1", '{"input_tokens":10,"output_tokens":20}'),
        ("msg_ok2", '{"input_tokens":5,"cache_read_input_tokens":1000,"output_tokens":7}')]
ABSURD = [("msg_e30", '{"input_tokens":1e30,"output_tokens":1}'),
          ("msg_2p63", '{"input_tokens":9223372036854775808,"output_tokens":1}'),
          ("msg_5e18a", '{"input_tokens":5000000000000000000,"output_tokens":1}'),
          ("msg_5e18b", '{"input_tokens":5000000000000000000,"output_tokens":1}'),
          ("msg_11d", '{"input_tokens":1,"output_tokens":99999999999}'),   # (11 digits: the C loop takes it)
          ("msg_neg", '{"input_tokens":1,"cache_creation_input_tokens":-5,"output_tokens":3}')]


def write_transcript(home, entries) -> str:
    folder = home / ".claude" / "projects" / "-home-u-p"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "s-1.jsonl"
    path.write_text("".join(line(k, i, u) for i, (k, u) in enumerate(entries)))
    return str(path)


def test_absurd_counters_are_bad_lines_and_the_rest_is_read(reader_loop, tmp_path, monkeypatch):
    home = tmp_path / "user-home"
    path = write_transcript(home, [GOOD[0], *ABSURD, GOOD[1]])
    store = Store()
    stats = refresh(store, ["claude"], show_progress=False)
    got = store.db.execute("SELECT dedupe_key, input_tokens, output_tokens FROM calls ORDER BY ts").fetchall()
    assert got == [("msg_ok1", 10, 20), ("msg_ok2", 5, 7)]
    # the 5 out-of-range lines are bad lines (the negative one was one already)
    assert stats.bad_lines == 6
    named = [w for w in stats.warnings if path in w]
    assert named and "out of range" in named[0], stats.warnings
    # the sums are exact and a second run reads nothing new, with no error
    assert store.db.execute("SELECT SUM(input_tokens) FROM calls").fetchone()[0] == 15
    again = refresh(store, ["claude"], show_progress=False)
    assert again.rows == 0


def test_every_report_runs_with_an_absurd_line_on_a_first_ingest(reader_loop, tmp_path):
    home = tmp_path / "user-home"
    write_transcript(home, [GOOD[0], ABSURD[0], ABSURD[2], ABSURD[3], GOOD[1]])
    for command in ("daily", "session", "monthly"):
        out = subprocess.run([sys.executable, "-m", "token_roi.cli", command, "--json"],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "internal error" not in out.stderr
        doc = json.loads(out.stdout)
        assert doc["totals"]["inputTokens"] == 15, doc["totals"]


def test_the_bound_is_the_entry_schema_maximum():
    from token_roi.config.validation import load_schema
    from token_roi.rows import MAX_TOKENS
    props = load_schema("ledger-entry.schema.json")["properties"]
    assert props["input_tokens"]["maximum"] == MAX_TOKENS == props["cache_write_tokens"]["maximum"]
