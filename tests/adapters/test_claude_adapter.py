"""The Claude Code reader on transcripts shaped like real ones (tests/fixtures/claude/build.py
writes the fixture tree and says, line by line, what must and must not count)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from token_roi.adapters import jsonl
from token_roi.adapters.base import Source
from token_roi.adapters.claude import ADAPTER
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude"
SESSION = "7f3c2a91-5b1e-4c8a-9d2f-0e6b8a4c1d35"
MAIN = Path("projects/-home-u-src-acme-api") / f"{SESSION}.jsonl"
SUB = Path("projects/-home-u-src-acme-api") / SESSION / "subagents" / "agent-a1b2c3d.jsonl"

_spec = importlib.util.spec_from_file_location("claude_fixture_build", FIXTURES / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

# Added up by hand from build.py: calls A, B, C, D, E, F (main file) and H, I (subagent file).
MAIN_TOTALS = {"calls": 6, "input": 3 + 5 + 2 + 7 + 10 + 1, "cache_read": 12000 + 13000 + 15000 + 0 + 205000 + 16000,
               "w5m": 1000 + 500 + 200 + 300 + 3000 + 0, "w1h": 1500, "output": 250 + 400 + 80 + 90 + 1200 + 60}
SUB_TOTALS = {"calls": 2, "input": 4 + 6, "cache_read": 8000 + 9000, "w5m": 600, "w1h": 0, "output": 150 + 300}
ALL_TOTALS = {k: MAIN_TOTALS[k] + SUB_TOTALS[k] for k in MAIN_TOTALS}
MAIN_BAD = 3   # the junk-prefixed line, the line cut mid-way, the string token count


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def totals(store: Store, where: str = "1=1", args: tuple = ()) -> dict:
    r = store.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(input_tokens),0), COALESCE(SUM(cache_read_tokens),0), "
        "COALESCE(SUM(cache_write_5m_tokens),0), COALESCE(SUM(cache_write_1h_tokens),0), "
        f"COALESCE(SUM(output_tokens),0) FROM calls WHERE agent = 'claude' AND {where}", args).fetchone()
    return dict(zip(("calls", "input", "cache_read", "w5m", "w1h", "output"), r))


def row(store: Store, key: str) -> dict:
    cur = store.db.execute("SELECT * FROM calls WHERE agent = 'claude' AND dedupe_key = ?", (key,))
    values = cur.fetchone()
    assert values is not None, f"no row for {key}"
    return dict(zip([d[0] for d in cur.description], values))


def run(store: Store):
    return ingest(store, ["claude"], show_progress=False)


@pytest.fixture(autouse=True)
def both_parses(claude_parse):
    """Every rule here holds for both parse_lines: the C twin and the Python reference (the only
    one where no compiler built the C twin)."""
    return claude_parse


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    """A copy of the fixture tree as a Claude config dir, pointed at by CLAUDE_CONFIG_DIR."""
    root = tmp_path / "claude-config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    return root


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ledger.sqlite3")
    yield s
    s.close()


# -- the counting rules on one realistic session ------------------------------------------------

def test_fixture_session_counted_exactly(config_dir, store):
    stats = run(store)
    assert stats.sources == 2 and stats.sources_read == 2
    assert stats.bad_lines == MAIN_BAD
    assert stats.warnings == []
    assert totals(store) == ALL_TOTALS
    # Everything but the half-written last line was consumed.
    main = config_dir / MAIN
    cursor = store.get_cursor("claude", str(main))
    assert main.read_bytes()[: cursor.offset].endswith(b"\n")
    assert b"\n" not in main.read_bytes()[cursor.offset:]


def test_streaming_and_block_copies_keep_the_largest_main_chain_copy(config_dir, store):
    run(store)
    a = row(store, "msg_01A1xq8ZKc2Fh5bN6yTu3aEw")    # copies: output 1 (streaming), 250, 250, /btw replay
    assert (a["input_tokens"], a["cache_read_tokens"], a["cache_write_5m_tokens"], a["output_tokens"]) == (
        3, 12000, 1000, 250)
    assert a["is_sidechain"] == 0
    assert a["ts"] == ms("2026-05-04T01:00:03.000Z")
    assert (a["session_id"], a["project"], a["model"], a["git_branch"]) == (
        SESSION, "/home/u/src/acme-api", "claude-sonnet-4-6", "feature/ledger")
    e = row(store, "msg_01E5bigPromptOver200k000")    # streaming copy output 3, final 1200
    assert e["output_tokens"] == 1200


def test_one_hour_cache_writes_keep_their_split(config_dir, store):
    run(store)
    b = row(store, "msg_01B2vR7mWn4Kd9sLp2Qx8cHj")
    assert (b["cache_write_5m_tokens"], b["cache_write_1h_tokens"]) == (500, 1500)
    d = row(store, "msg_01D4nimbusUnknownModel00")   # no split on the line: all writes are 5-minute
    assert (d["cache_write_5m_tokens"], d["cache_write_1h_tokens"]) == (300, 0)


def test_unknown_model_and_long_prompt_stored_with_exact_counters(config_dir, store):
    run(store)
    d = row(store, "msg_01D4nimbusUnknownModel00")
    assert d["model"] == "claude-nimbus-5-20261001"
    assert (d["input_tokens"], d["output_tokens"]) == (7, 90)
    e = row(store, "msg_01E5bigPromptOver200k000")
    assert (e["input_tokens"], e["cache_read_tokens"], e["cache_write_5m_tokens"]) == (10, 205000, 3000)
    assert (e["input_tokens"] + e["cache_read_tokens"] + e["cache_write_5m_tokens"]
            + e["cache_write_1h_tokens"]) == 208010


def test_request_id_fallback_recovered_call_and_skipped_lines(config_dir, store):
    run(store)
    assert row(store, "req_011CUa1FFFFFFFFFFFFFFFFF")["cache_read_tokens"] == 16000    # no message.id
    assert row(store, "msg_01C3pL5nHt2Wq7eRz4Yb1dFg")["output_tokens"] == 80          # after crash junk
    keys = {r[0] for r in store.db.execute("SELECT dedupe_key FROM calls")}
    assert "msg_01G7badUsageString000000" not in keys       # malformed usage
    assert "msg_QUOTED" not in keys                          # a usage inside a tool result string
    assert not any(k.startswith("5c1e07a2") for k in keys)   # <synthetic> API error line
    assert "msg_01J0halfWrittenLastLine0" not in keys        # not complete yet


def test_subagent_calls_attributed_to_parent_session(config_dir, store):
    run(store)
    assert totals(store, "is_subagent = 1") == SUB_TOTALS
    assert totals(store, "is_subagent = 0") == MAIN_TOTALS
    h = row(store, "msg_01H8sub0000000000000000a")   # also nested in the main file's progress line
    assert (h["session_id"], h["is_subagent"], h["output_tokens"]) == (SESSION, 1, 150)
    assert h["model"] == "claude-haiku-4-5-20251001"
    sources = {os.path.basename(s.path): s for s in ADAPTER.sources()}
    assert sources["agent-a1b2c3d.jsonl"].meta == {"is_subagent": True, "parent_session": SESSION}
    assert sources[f"{SESSION}.jsonl"].meta == {}


def test_subagent_file_beside_sessions_uses_its_own_session_id(tmp_path, store, monkeypatch):
    # Older builds wrote agent-<id>.jsonl next to the session files; the lines name the parent.
    root = tmp_path / "cfg"
    w = build.Writer(SESSION, sidechain=True, agent_id="77aa88bb")
    w.assistant("msg_old_agent_1", "req_old_agent_1", "claude-haiku-4-5-20251001", [build.text("x")],
                build.usage(1, 2, 3, 0, 4), stop="end_turn")
    w.write(root / "projects" / "-home-u" / "agent-77aa88bb.jsonl")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    run(store)
    r = row(store, "msg_old_agent_1")
    assert (r["session_id"], r["is_subagent"], r["is_sidechain"]) == (SESSION, 1, 1)


def test_synthetic_and_api_error_lines_cost_nothing(tmp_path):
    w = build.Writer(SESSION)
    w.assistant("msg_synth", "req_synth", "<synthetic>", [build.text("No response requested.")],
                build.usage(10, 10, 10, 0, 10), stop="stop_sequence")
    w.assistant("msg_err", "req_err", "claude-sonnet-4-6", [build.text("API Error: 500")],
                build.usage(20, 20, 20, 0, 20), extra={"isApiErrorMessage": True})
    w.assistant("msg_ok", "req_ok", "claude-sonnet-4-6", [build.text("ok")], build.usage(1, 2, 3, 4, 5))
    rows, bad = ADAPTER.parse("".join(line + "\n" for line in w.lines).encode(),
                              Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.input_tokens, r.cache_read_tokens, r.cache_write_5m_tokens, r.cache_write_1h_tokens,
             r.output_tokens) for r in rows] == [("msg_ok", 1, 2, 3, 4, 5)]
    assert bad == 0


def test_sidechain_copy_loses_to_the_main_chain_copy_even_when_larger(tmp_path, store, monkeypatch):
    root = tmp_path / "cfg"
    path = root / "projects" / "-home-u-p" / f"{SESSION}.jsonl"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    side = build.Writer(SESSION)
    side.assistant("msg_X", "req_btw", "claude-sonnet-4-6", [build.text("x")], build.usage(1, 1000, 0, 0, 900),
                   sidechain=True)
    side.write(path)
    run(store)
    assert row(store, "msg_X")["is_sidechain"] == 1
    main = build.Writer(SESSION)
    main.assistant("msg_X", "req_main", "claude-sonnet-4-6", [build.text("x")], build.usage(1, 1000, 0, 0, 300))
    with open(path, "a", encoding="utf-8") as f:
        f.write(main.lines[0] + "\n")
    run(store)
    x = row(store, "msg_X")
    assert (x["is_sidechain"], x["output_tokens"]) == (0, 300)
    # ...and a later, larger sidechain copy does not take it back.
    with open(path, "a", encoding="utf-8") as f:
        f.write(side.lines[0].replace('"output_tokens":900', '"output_tokens":5000') + "\n")
    run(store)
    assert row(store, "msg_X")["output_tokens"] == 300


def test_main_chain_copy_wins_within_one_read(tmp_path):
    w = build.Writer(SESSION)
    w.assistant("msg_X", "req_btw", "claude-sonnet-4-6", [build.text("x")], build.usage(1, 1000, 0, 0, 900),
                sidechain=True)
    w.assistant("msg_X", "req_main", "claude-sonnet-4-6", [build.text("x")], build.usage(1, 1000, 0, 0, 300))
    w.assistant("msg_X", "req_btw2", "claude-sonnet-4-6", [build.text("x")], build.usage(1, 1000, 0, 0, 5000),
                sidechain=True)
    rows, _ = ADAPTER.parse("".join(line + "\n" for line in w.lines).encode(),
                            Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.is_sidechain, r.output_tokens) for r in rows] == [(False, 300)]


def test_copies_with_identical_usage_still_prefer_the_main_chain(tmp_path):
    # A replay line written before the original's next block line, byte-identical usage.
    w = build.Writer(SESSION)
    u = build.usage(2, 500, 40, 0, 70)
    w.assistant("msg_Y", "req_btw", "claude-sonnet-4-6", [build.text("y")], u, sidechain=True)
    w.assistant("msg_Y", "req_main", "claude-sonnet-4-6", [build.text("y"), build.text("z")], u)
    w.assistant("msg_Z", "req_z", "claude-sonnet-4-6", [build.text("z")], build.usage(1, 1, 0, 0, 1))
    w.assistant("msg_Y", "req_main", "claude-sonnet-4-6", [build.text("late copy")], u)  # not adjacent
    rows, bad = ADAPTER.parse("".join(line + "\n" for line in w.lines).encode(),
                              Source("claude", tmp_path / "s.jsonl"), {})
    assert sorted((r.dedupe_key, r.is_sidechain, r.output_tokens) for r in rows) == [
        ("msg_Y", False, 70), ("msg_Z", False, 1)]
    assert bad == 0


def test_garbage_lines_counted_never_fatal(tmp_path):
    w = build.Writer(SESSION)
    w.assistant("msg_1", "req_1", "claude-sonnet-4-6", [build.text("a")], build.usage(1, 10, 0, 0, 5))
    buf = ("\n".join([
        "not json at all",
        "\x00\x00\x00\x00",
        "",                                                   # blank: not counted
        w.lines[0],
        '{"type":"assistant","message":{"id":"msg_2","usage":{"input_tokens":1',   # cut mid-line
        '["a", "list", "not an object"]',
        '{"message":{"id":"msg_3","model":"claude-sonnet-4-6","usage":"broken"},"timestamp":"2026-05-04T01:00:00.000Z"}',
        '{"message":{"id":"msg_4","model":"claude-sonnet-4-6","usage":{"input_tokens":-5}},"timestamp":"2026-05-04T01:00:00.000Z"}',
        '{"message":{"id":"msg_5","model":"claude-sonnet-4-6","usage":{"input_tokens":5}},"timestamp":"yesterday"}',
    ]) + "\n").encode()
    rows, bad = ADAPTER.parse(buf, Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.input_tokens, r.output_tokens) for r in rows] == [("msg_1", 1, 5)]
    assert bad == 7


def test_a_json_array_holding_a_usage_key_is_a_bad_line_not_a_crash(tmp_path):
    # Valid JSON, so it decodes, but no record: counted once (by its shape), and the read goes on.
    w = build.Writer(SESSION)
    w.assistant("msg_1", "req_1", "claude-sonnet-4-6", [build.text("a")], build.usage(1, 10, 0, 0, 5))
    buf = ('[{"message":{"id":"msg_9","usage":{"input_tokens":9}}}]\n' + w.lines[0] + "\n").encode()
    rows, bad = ADAPTER.parse(buf, Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.input_tokens, r.output_tokens) for r in rows] == [("msg_1", 1, 5)]
    assert bad == 1


def test_call_written_after_a_long_half_line_is_recovered(tmp_path):
    # The half line is a big structured tool result (many nested objects) cut mid-way.
    w = build.Writer(SESSION)
    files = [{"filePath": f"/src/m{i}.py", "numLines": i, "startLine": 1} for i in range(200)]
    w.tool_result("toolu_1", "found 200 files", {"type": "glob", "filenames": files})
    w.assistant("msg_after", "req_after", "claude-sonnet-4-6", [build.text("ok")], build.usage(3, 30, 0, 0, 9))
    junk = w.lines[0][: len(w.lines[0]) // 2]
    rows, bad = ADAPTER.parse((junk + w.lines[1] + "\n").encode(), Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.output_tokens) for r in rows] == [("msg_after", 9)]
    assert bad == 1


def test_crlf_line_endings(tmp_path):
    w = build.Writer(SESSION)
    w.assistant("msg_1", "req_1", "claude-sonnet-4-6", [build.text("a"), build.text("b")], build.usage(1, 10, 2, 3, 5))
    rows, bad = ADAPTER.parse("".join(line + "\r\n" for line in w.lines).encode(),
                              Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.input_tokens, r.cache_read_tokens, r.cache_write_5m_tokens, r.cache_write_1h_tokens, r.output_tokens)
            for r in rows] == [(1, 10, 2, 3, 5)]
    assert bad == 0


def test_odd_timestamps_and_values(tmp_path):
    base = {"message": {"id": "m", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 1, "output_tokens": 2}}}
    cases = {"2026-05-04T01:00:00Z": ms("2026-05-04T01:00:00Z"),
             "2026-05-04T03:00:00.250+02:00": ms("2026-05-04T01:00:00.250Z"),
             "2026-05-04T01:00:00.123456Z": ms("2026-05-04T01:00:00.123Z")}
    for i, (text, want) in enumerate(cases.items()):
        line = json.dumps({**base, "message": {**base["message"], "id": f"m{i}"}, "timestamp": text})
        rows, bad = ADAPTER.parse((line + "\n").encode(), Source("claude", tmp_path / "s.jsonl"), {})
        assert (rows[0].ts, bad) == (want, 0), text


@pytest.mark.parametrize("chunk, window", [(97, 64 * 1024), (4096, 64), (4096, 4096), (32 * 1024, 1024)])
def test_chunk_boundaries_and_lines_longer_than_a_chunk(config_dir, store, monkeypatch, chunk, window):
    # Small chunks: lines straddle boundaries and the 100 KB tool result is longer than many
    # chunks (and than the window that looks for the last newline); the totals must not change.
    monkeypatch.setattr(jsonl, "CHUNK", chunk)
    monkeypatch.setattr(jsonl, "WINDOW", window)
    stats = run(store)
    assert totals(store) == ALL_TOTALS
    assert stats.bad_lines == MAIN_BAD


def test_reader_works_without_orjson(config_dir):
    # (the codec is bound at the first parse, not at import: a warm report never imports orjson)
    code = (
        "import sys; sys.modules['orjson'] = None\n"
        "from pathlib import Path\n"
        "from token_roi.adapters import jsonl\n"
        "from token_roi.adapters.base import Source\n"
        "from token_roi.adapters.claude import reader as claude\n"
        f"r = jsonl.read_incremental(claude.ADAPTER, Source('claude', Path({str(config_dir / MAIN)!r})), None)\n"
        "assert claude._loads.__module__ == 'token_roi.adapters.claude.reader'\n"
        "print(len(r.rows), sum(x.output_tokens for x in r.rows), r.bad_lines)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(MAIN_TOTALS["calls"]), str(MAIN_TOTALS["output"]), str(MAIN_BAD)]


# -- where the transcripts are ------------------------------------------------------------------

def _session_file(root: Path, session: str, key: str, output: int) -> Path:
    w = build.Writer(session)
    w.assistant(key, f"req_{key}", "claude-sonnet-4-6", [build.text("hi")], build.usage(1, 100, 0, 0, output))
    path = root / "projects" / "-home-u-p" / f"{session}.jsonl"
    w.write(path)
    return path


def test_claude_config_dir_comma_list(tmp_path, store, monkeypatch):
    a, b = tmp_path / "work-profile", tmp_path / "home profile"
    _session_file(a, "s-a", "msg_a", 10)
    _session_file(b, "s-b", "msg_b", 20)
    (tmp_path / "no-projects").mkdir()
    _session_file(tmp_path / "user-home" / ".claude", "s-default", "msg_default", 999)   # ignored: env set
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{a}, {b} ,{tmp_path / 'missing'},,{tmp_path / 'no-projects'}")
    assert ADAPTER.roots() == [a.resolve() / "projects", b.resolve() / "projects"]
    run(store)
    assert totals(store)["output"] == 30


def test_both_default_dirs(tmp_path, store, monkeypatch):
    home = Path(os.environ["HOME"])
    _session_file(home / ".claude", "s-legacy", "msg_legacy", 10)
    _session_file(Path(os.environ["XDG_CONFIG_HOME"]) / "claude", "s-xdg", "msg_xdg", 20)
    assert len(ADAPTER.roots()) == 2
    run(store)
    assert totals(store)["output"] == 30
    # Without XDG_CONFIG_HOME the XDG location is ~/.config.
    monkeypatch.delenv("XDG_CONFIG_HOME")
    _session_file(home / ".config" / "claude", "s-config", "msg_config", 40)
    run(store)
    assert totals(store)["output"] == 70


def test_same_files_through_a_symlinked_root_read_once(tmp_path, store, monkeypatch):
    home = Path(os.environ["HOME"])
    _session_file(home / ".claude", "s-1", "msg_1", 10)
    (Path(os.environ["XDG_CONFIG_HOME"])).mkdir(parents=True)
    (Path(os.environ["XDG_CONFIG_HOME"]) / "claude").symlink_to(home / ".claude")
    # Also a symlinked project folder inside the tree, and a link loop.
    (home / ".claude" / "projects" / "-alias").symlink_to(home / ".claude" / "projects" / "-home-u-p")
    (home / ".claude" / "projects" / "-home-u-p" / "loop").symlink_to(home / ".claude" / "projects")
    assert len(list(ADAPTER.sources())) == 1
    stats = run(store)
    assert (stats.sources, totals(store)["output"]) == (1, 10)


def test_unreadable_folder_is_a_warning_not_a_stop(tmp_path, store, monkeypatch):
    root = tmp_path / "cfg"
    _session_file(root, "s-ok", "msg_ok", 10)
    locked = root / "projects" / "-home-u-secret"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:       # chmod does not stop root, so refuse it here
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    stats = run(store)
    assert stats.warnings == [f"{locked.resolve()}: Permission denied, skipped"]
    assert totals(store)["output"] == 10


def test_no_claude_dirs_means_no_sources(store):
    assert ADAPTER.roots() == []
    stats = run(store)
    assert (stats.sources, stats.rows, stats.warnings) == (0, 0, [])


def test_a_call_glued_after_a_cut_off_user_line_is_not_passed_over(tmp_path):
    # User lines (prompts, tool results) are passed over without being searched, unless their last
    # bytes hold a usage: a crash that cut a tool result after `"message":{"role":"user"` and
    # glued the next assistant record onto it must still give that call.
    w = build.Writer(SESSION)
    w.tool_result("toolu_1", "x" * 50_000, {"stdout": "y" * 50_000, "stderr": "", "interrupted": False})
    w.assistant("msg_glued", "req_glued", "claude-sonnet-4-6", [build.text("ok")], build.usage(3, 30, 0, 0, 9))
    w.tool_result("toolu_2", "fine", {"stdout": "fine", "stderr": "", "interrupted": False})
    w.assistant("msg_next", "req_next", "claude-sonnet-4-6", [build.text("ok")], build.usage(1, 1, 0, 0, 1))
    cut = w.lines[0][: len(w.lines[0]) // 2]
    assert '"message":{"role":"user"' in cut[:1024]           # the shape the fast path passes over
    buf = (cut + w.lines[1] + "\n" + w.lines[2] + "\n" + w.lines[3] + "\n").encode()
    rows, bad = ADAPTER.parse(buf, Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.output_tokens) for r in rows] == [("msg_glued", 9), ("msg_next", 1)]
    assert bad == 1


def test_a_user_line_holding_a_subagent_usage_is_read_and_counts_nothing(tmp_path):
    # A Task tool's result carries the subagent's usage inside toolUseResult: not a call of this
    # session (the subagent's own file holds it), and not a bad line.
    w = build.Writer(SESSION)
    w.tool_result("toolu_1", "done", {"status": "completed", "totalTokens": 1234,
                                      "usage": {"input_tokens": 5, "output_tokens": 7}})
    w.assistant("msg_1", "req_1", "claude-sonnet-4-6", [build.text("ok")], build.usage(2, 20, 0, 0, 4))
    rows, bad = ADAPTER.parse("".join(line + "\n" for line in w.lines).encode(),
                              Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.output_tokens) for r in rows] == [("msg_1", 4)] and bad == 0


def _one_call_file(folder: Path, name: str) -> Path:
    w = build.Writer(SESSION)
    w.assistant(f"msg_{name}", f"req_{name}", "claude-sonnet-4-6", [build.text("ok")], build.usage(1, 2, 0, 0, 3))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    w.write(path)
    return path


def _age(path: Path, seconds: int = 3600) -> None:
    old = time.time_ns() - seconds * 10**9
    os.utime(path, ns=(old, old))


def test_settled_folders_are_listed_once_and_again_when_they_change(tmp_path, monkeypatch):
    from token_roi.adapters.claude import reader as claude_mod
    root = tmp_path / "cfg"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    monkeypatch.setenv("TOKEN_ROI_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    proj = root / "projects" / "-home-u-p"
    _one_call_file(proj, "a")
    _one_call_file(proj / SESSION / "subagents", "agent-1")
    fresh = root / "projects" / "-home-u-fresh"
    _one_call_file(fresh, "f")
    for folder in (root / "projects", proj, proj / SESSION, proj / SESSION / "subagents"):
        _age(folder)
    listed = []
    real_scandir = os.scandir
    monkeypatch.setattr(claude_mod.os, "scandir", lambda p: listed.append(os.path.basename(p)) or real_scandir(p))
    names = lambda: sorted(os.path.basename(s.path) for s in ADAPTER.sources())
    assert names() == ["a.jsonl", "agent-1.jsonl", "f.jsonl"] and len(listed) == 5
    listed.clear()
    # settled folders come from the cache; one changed seconds ago is listed again (a file added
    # within the same clock tick would not move its mtime)
    assert names() == ["a.jsonl", "agent-1.jsonl", "f.jsonl"] and listed == ["-home-u-fresh"]
    listed.clear()
    _one_call_file(proj, "b")                                   # a new session: the folder's mtime moves
    (proj / SESSION / "subagents" / "agent-1.jsonl").unlink()
    assert names() == ["a.jsonl", "b.jsonl", "f.jsonl"]
    assert sorted(listed) == ["-home-u-fresh", "-home-u-p", "subagents"]
    # an unreadable cache is no cache
    (tmp_path / "home" / claude_mod.FolderCache.NAME).write_bytes(b"\x00garbage")
    assert names() == ["a.jsonl", "b.jsonl", "f.jsonl"]


def test_folders_with_symlinks_are_always_listed_again(tmp_path, monkeypatch):
    from token_roi.adapters.claude import reader as claude_mod
    root = tmp_path / "cfg"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    monkeypatch.setenv("TOKEN_ROI_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    elsewhere = tmp_path / "elsewhere"
    _one_call_file(elsewhere, "linked")
    proj = root / "projects" / "-home-u-p"
    proj.mkdir(parents=True)
    (proj / "moved").symlink_to(elsewhere, target_is_directory=True)
    for folder in (root / "projects", proj, elsewhere):
        _age(folder)
    assert [os.path.basename(s.path) for s in ADAPTER.sources()] == ["linked.jsonl"]
    cache = claude_mod.FolderCache.load()
    assert str(proj) not in cache.known and str(root / "projects") in cache.known


def test_content_is_cut_out_only_where_certain(tmp_path):
    # Assistant lines are decoded with message.content cut out; look-alikes inside the content and
    # other field orders must give exactly what decoding the whole line gives.
    w = build.Writer(SESSION)
    tricky = {"type": "tool_use", "id": "toolu_1", "name": "mcp__x__y",
              "input": {"a": [1], "stop_reason": "nested",
                        "msg": {"role": "assistant", "content": [{"id": "msg_fake"}]},
                        "usage": {"input_tokens": 999999}}}
    w.assistant("msg_T1", "req_T1", "claude-sonnet-4-6", [tricky], build.usage(1, 2, 3, 0, 4))
    w.assistant("msg_T2", "req_T2", "claude-sonnet-4-6", [build.text("x")], build.usage(5, 6, 7, 0, 8))
    # an older build's order: id and model after the content, no stop_reason
    old = json.loads(w.lines[-1])
    m = old["message"]
    old["message"] = {"role": "assistant", "content": [{"type": "text", "text": "],\"stop_reason\":"}],
                      "usage": m["usage"], "id": "msg_T3", "model": "claude-haiku-4-5-20251001"}
    old["requestId"] = "req_T3"
    lines = w.lines + [json.dumps(old, separators=(",", ":"))]
    rows, bad = ADAPTER.parse("".join(line + "\n" for line in lines).encode(),
                              Source("claude", tmp_path / "s.jsonl"), {})
    assert [(r.dedupe_key, r.model, r.input_tokens, r.cache_read_tokens, r.output_tokens) for r in rows] == [
        ("msg_T1", "claude-sonnet-4-6", 1, 2, 4), ("msg_T2", "claude-sonnet-4-6", 5, 6, 8),
        ("msg_T3", "claude-haiku-4-5-20251001", 5, 6, 8)]
    assert bad == 0
    # and the cut itself: taken on the usual shape, refused on another one
    from token_roi.adapters.claude import reader as claude_mod
    claude_mod._codec()
    line = lines[1].encode()
    got = claude_mod._without_content(line, 0, line.find(b'"usage":'), len(line))
    assert got["message"]["content"] == [] and got["message"]["id"] == "msg_T2"
    line = lines[2].encode()
    assert claude_mod._without_content(line, 0, line.find(b'"usage":'), len(line)) is None
