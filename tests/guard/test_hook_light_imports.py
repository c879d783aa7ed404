"""The PostToolUse hook's import diet: the modules it runs on every tool call import neither
dataclasses, sqlite3, hashlib (OpenSSL), typing, contextlib, json (re, enum), pathlib (urllib.parse,
ipaddress) nor datetime (token_roi.fastjson, str paths and timestamp arithmetic stand in; their
equivalence is tested in test_hook_fastjson.py), the hook's body comes from cached
bytecode (hooks/_hook_main.py) and the guard's messages load only when there is something to
say; and the hand-written record types that
replaced the dataclasses behave as the dataclasses did. Cursors written before the change
(blake2b fingerprints made through hashlib) stay valid; a cursor whose fingerprint does not match
costs one re-read and never a double count."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import subprocess

import pytest
from hook_support import Transcript, hook_argv, hook_env, post_tool, post_tool_failure, session_start, state_of, stop

SID = "8c2d1f0e-3a4b-4c5d-9e6f-7a8b9c0d1e2f"
HEAVY = {"dataclasses", "inspect", "sqlite3", "_sqlite3", "hashlib", "_hashlib", "typing", "contextlib",
         "json", "json.decoder", "json.scanner", "json.encoder", "re", "enum", "pathlib", "fnmatch", "urllib",
         "urllib.parse", "ipaddress", "datetime", "_datetime"}


@pytest.fixture
def transcript(tmp_path):
    t = Transcript(tmp_path / "claude" / "projects" / "-home-dev-src-acme-api" / f"{SID}.jsonl", SID)
    t.user()
    t.assistant("msg_01A", input=3, output=120, cache_read=12342, cache_1h=576)
    t.tool_result("msg_01A")
    return t


def imported_by_hook(payload: dict) -> set[str]:
    """Run the hook as hooks.json does, with -X importtime; the modules the process imported."""
    argv = hook_argv(payload["hook_event_name"])
    argv[2:2] = ["-X", "importtime"]          # hooks/run hands its arguments to the interpreter
    proc = subprocess.run(argv, input=json.dumps(payload).encode(), capture_output=True, env=hook_env(),
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout == b"", proc
    names = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "token_roi.guard.hook" in names, proc.stderr.decode()[-2000:]
    return names


# -- the hook path -------------------------------------------------------------------------------

def test_post_tool_use_reads_the_transcript_without_the_heavy_modules(transcript):
    imported_by_hook(session_start(SID, transcript.path))     # the guard state catches up first
    transcript.assistant("msg_01B", input=5, output=300, cache_read=12918, cache_5m=1200)
    transcript.tool_result("msg_01B")
    names = imported_by_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/src/a.py"}, n=1))
    # It did its whole job: read the new call, priced it, counted the tool call.
    assert {"token_roi.adapters.claude", "token_roi.adapters.jsonl", "token_roi.guard.loops",
            "token_roi.pricing"} <= names
    state = state_of(SID)
    assert state["total_tokens_used"] == 3 + 120 + 12342 + 576 + 5 + 300 + 12918 + 1200
    assert state["tool_calls"] == {"Read": 1}
    assert state["unpriced_tokens"] == 0 and state["cost_usd"] > 0
    assert names & HEAVY == set(), sorted(names & HEAVY)
    assert "token_roi.fastjson" in names and "_json" in names
    assert "_hook_main" in names and "token_roi.guard.messages" not in names


def test_the_guard_messages_load_when_there_is_a_warning(transcript):
    imported_by_hook(session_start(SID, transcript.path))
    for n in range(1, 3):
        imported_by_hook(post_tool_failure(SID, transcript.path, "Bash", {"command": "make"}, "Exit code 2", n=n))
    argv = hook_argv("PostToolUseFailure")
    argv[2:2] = ["-X", "importtime"]
    proc = subprocess.run(argv, capture_output=True, env=hook_env(), timeout=60, input=json.dumps(
        post_tool_failure(SID, transcript.path, "Bash", {"command": "make"}, "Exit code 2", n=3)).encode())
    assert "3 times in a row" in json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "| token_roi.guard.messages" in proc.stderr.decode()


def test_stop_still_writes_the_ledger_through_sqlite3(transcript):
    # The same measure sees sqlite3 where the hook truly writes to the store.
    names = imported_by_hook(stop(SID, transcript.path))
    assert "sqlite3" in names
    from token_roi.store import Store
    store = Store(readonly=True)
    try:
        assert store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1
    finally:
        store.close()


# -- fingerprints --------------------------------------------------------------------------------

def _old_fingerprint(path, offset: int) -> str:
    """The fingerprint as written before the change (hashlib.blake2b), for existing cursors."""
    with open(path, "rb") as f:
        h = hashlib.blake2b(digest_size=16)
        h.update(f.read(min(4096, offset)))
        tail = max(0, offset - 4096)
        f.seek(tail)
        h.update(f.read(offset - tail))
    return h.hexdigest()


def test_fingerprint_is_the_one_existing_cursors_hold(transcript):
    from token_roi.adapters.jsonl import fingerprint
    for _ in range(60):                       # past the 4 KB sample, so head and tail differ
        transcript.assistant(f"msg_{transcript.n:04d}", output=50)
    size = transcript.path.stat().st_size
    with open(transcript.path, "rb") as f:
        for offset in (0, 100, 4096, size // 2, size):
            assert fingerprint(f, offset) == _old_fingerprint(transcript.path, offset)


def test_a_cursor_from_before_reads_only_the_new_bytes(transcript):
    from token_roi.adapters.base import Source
    from token_roi.adapters.claude import ADAPTER
    from token_roi.adapters.jsonl import read_incremental
    from token_roi.store import Cursor

    first = read_incremental(ADAPTER, Source("claude", transcript.path), None)
    old = first.cursor
    stored = Cursor(old.agent, old.path, old.offset, old.size, old.mtime_ns, old.inode,
                    _old_fingerprint(transcript.path, old.offset), old.state, old.bad_lines, old.rows_seen)
    transcript.assistant("msg_01B", output=300)
    grown = transcript.path.stat().st_size
    nxt = read_incremental(ADAPTER, Source("claude", transcript.path), stored)
    assert nxt.bytes_read == grown - old.offset
    assert [r.dedupe_key for r in nxt.rows] == ["msg_01B"]


def test_a_foreign_fingerprint_costs_one_re_read_and_no_double_count(transcript):
    from token_roi.adapters.base import Source
    from token_roi.adapters.claude import ADAPTER
    from token_roi.adapters.jsonl import read_incremental
    from token_roi.store import Store

    store = Store()
    try:
        first = read_incremental(ADAPTER, Source("claude", transcript.path), None)
        with store.transaction():
            store.upsert_calls(first.rows)
            store.put_cursor(first.cursor)
        # A cursor whose fingerprint is in another format (or of other bytes): re-read from byte 0.
        c = store.get_cursor("claude", str(transcript.path))
        c.fingerprint = "zlib:" + c.fingerprint[:8]
        with store.transaction():
            store.put_cursor(c)
        transcript.assistant("msg_01B", output=300)
        again = read_incremental(ADAPTER, Source("claude", transcript.path),
                                 store.get_cursor("claude", str(transcript.path)))
        assert again.bytes_read == transcript.path.stat().st_size
        assert sorted(r.dedupe_key for r in again.rows) == ["msg_01A", "msg_01B"]
        with store.transaction():
            store.upsert_calls(again.rows)
            store.put_cursor(again.cursor)
        totals = store.db.execute("SELECT COUNT(*), SUM(output_tokens) FROM calls").fetchone()
        assert totals == (2, 120 + 300)
        # ... once: the cursor it left carries a good fingerprint, so the next read is incremental.
        transcript.assistant("msg_01C", output=7)
        last = read_incremental(ADAPTER, Source("claude", transcript.path),
                                store.get_cursor("claude", str(transcript.path)))
        assert [r.dedupe_key for r in last.rows] == ["msg_01C"]
    finally:
        store.close()


def test_the_guard_recounts_a_foreign_fingerprint_once_and_exactly(transcript):
    from hook_support import run_hook
    assert run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/a"}, n=1)).returncode == 0
    assert state_of(SID)["total_tokens_used"] == 3 + 120 + 12342 + 576
    from token_roi.guard import state as st
    path = st.session_path(SID)
    saved = json.loads(path.read_text())
    cursor = saved["files"][str(transcript.path)]["cursor"]
    cursor["fingerprint"] = "0" * 32
    path.write_text(json.dumps(saved))
    transcript.assistant("msg_01B", input=5, output=300)
    assert run_hook(post_tool(SID, transcript.path, "Read", {"file_path": "/b"}, n=2)).returncode == 0
    after = state_of(SID)
    assert after["total_tokens_used"] == 3 + 120 + 12342 + 576 + 5 + 300
    assert after["api_calls"] == 2
    assert after["files"][str(transcript.path)]["cursor"]["fingerprint"] != "0" * 32


# -- the records that replaced the dataclasses ---------------------------------------------------

def test_usage_row_construction_equality_repr_and_rank():
    from token_roi.rows import UsageRow
    a = UsageRow("claude", "msg_1:req_1", 1_700_000_000_000, "s1", "/p", "claude-sonnet-4-6", 3, 120, 0,
                 12342, 0, 576, False, False, "main", None, "fast")
    b = UsageRow(agent="claude", dedupe_key="msg_1:req_1", ts=1_700_000_000_000, session_id="s1", project="/p",
                 model="claude-sonnet-4-6", input_tokens=3, output_tokens=120, cache_read_tokens=12342,
                 cache_write_1h_tokens=576, git_branch="main", speed="fast")
    assert a == b and not (a != b)
    assert a != UsageRow("claude", "msg_1:req_1", 1_700_000_000_000)
    assert a != ("claude", "msg_1:req_1")
    assert repr(a).startswith("UsageRow(agent='claude', dedupe_key='msg_1:req_1', ts=1700000000000, ")
    assert a.total_tokens == 3 + 120 + 12342 + 576 and a.cache_write_tokens == 576
    assert a.rank == (1 << 48) | a.total_tokens
    assert UsageRow("c", "k", 0, is_sidechain=True, output_tokens=5).rank == 5
    with pytest.raises(AttributeError):
        a.not_a_field = 1                     # slotted, as @dataclass(slots=True) was
    with pytest.raises(TypeError):
        UsageRow("claude", "k")               # required fields stay required
    with pytest.raises(TypeError):
        hash(a)
    assert pickle.loads(pickle.dumps(a)) == a and copy.copy(a) == a


def test_cursor_and_source_keep_their_defaults_apart_and_take_stored_dicts():
    from token_roi.adapters.base import ReadResult, Source
    from token_roi.cursor import Cursor
    from token_roi.guard.usage import _cursor_dict
    from token_roi.store import Cursor as StoreCursor
    assert StoreCursor is Cursor
    one, two = Cursor("claude", "/a"), Cursor("claude", "/a")
    one.state["model"] = "x"
    assert two.state == {} and one != two
    full = Cursor("claude", "/a", 10, 20, 30, 40, "ab" * 16, {"k": 1}, 2, 3)
    assert Cursor(**_cursor_dict(full)) == full          # the guard stores cursors as dicts
    with pytest.raises(TypeError):
        Cursor(**dict(_cursor_dict(full), extra=1))       # the guard drops such a cursor
    s1, s2 = Source("claude", "/a"), Source("claude", "/a")
    s1.meta["is_subagent"] = True
    assert s2.meta == {} and s1.kind == "jsonl" and s1.key == "/a"
    r = ReadResult([], full, unchanged=True)
    assert (r.bytes_read, r.bad_lines, r.unchanged) == (0, 0, True)
    assert r == ReadResult([], Cursor("claude", "/a", 10, 20, 30, 40, "ab" * 16, {"k": 1}, 2, 3), 0, 0, True)


def test_rates_stay_immutable_hashable_and_replaceable():
    from token_roi.pricing.rates import Rates
    long = Rates(6.0, 22.5, 0.6, 7.5, 12.0)
    r = Rates(3.0, 15.0, 0.3, 3.75, 6.0, long_threshold=200_000, long=long, model_id="claude-sonnet-4-5")
    assert r == Rates.from_dict(r.to_dict()) and hash(r) == hash(Rates.from_dict(r.to_dict()))
    assert {r, Rates.from_dict(r.to_dict())} == {r}
    with pytest.raises(AttributeError):
        r.input = 1.0
    with pytest.raises(AttributeError):
        del r.output
    moved = r.with_source("override", "mine")
    assert (moved.source, moved.model_id, moved.long.source, r.source) == (
        "override", "mine", "override", "genai-prices")
    assert r.replace(fast=long).fast is long and r.fast is None
    with pytest.raises(TypeError):
        r.replace(speed="fast")
    assert copy.deepcopy(r) == r and pickle.loads(pickle.dumps(r)) == r
    assert r.at(200_001) is long and r.at(200_000) is r


def test_config_show_json_keeps_the_rates_shape():
    from token_roi.cli.config_cmd import _jsonable
    from token_roi.pricing.rates import Rates
    r = Rates(1.0, 2.0, 0.1, 1.25, 2.0, source="override", model_id="my-model")
    assert _jsonable({"my-model": r}) == {"my-model": {
        "input": 1.0, "output": 2.0, "cache_read": 0.1, "cache_write_5m": 1.25, "cache_write_1h": 2.0,
        "long_threshold": None, "long": None, "source": "override", "model_id": "my-model", "fast": None}}


def test_gemini_rows_keep_the_inherited_fields_and_their_order():
    from token_roi.adapters.gemini import GeminiRow
    g = GeminiRow(agent="gemini", dedupe_key="s:m1", ts=1, input_tokens=7, order=42)
    assert g.rank == 42 and g.input_tokens == 7
    assert (g == GeminiRow("gemini", "s:m1", 1, input_tokens=7, order=42)
            != GeminiRow("gemini", "s:m1", 1, input_tokens=7, order=43))
    assert repr(g).endswith("speed=None, order=42)")
