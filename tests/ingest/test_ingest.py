"""Incremental ingest of Claude Code transcripts (appends, half lines, rewrites, truncation,
deletion) and the `token-roi ingest` command."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from token_roi.adapters import jsonl
from token_roi.adapters.base import Source
from token_roi.adapters.claude import ADAPTER
from token_roi.cli import main
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude"
SESSION = "7f3c2a91-5b1e-4c8a-9d2f-0e6b8a4c1d35"

_spec = importlib.util.spec_from_file_location("claude_fixture_build", FIXTURES / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def run(store: Store):
    return ingest(store, ["claude"], show_progress=False)


def sums(store: Store) -> tuple[int, int, int, int]:
    """(calls, input, cache read, output) over the Claude rows."""
    return store.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(input_tokens),0), COALESCE(SUM(cache_read_tokens),0), "
        "COALESCE(SUM(output_tokens),0) FROM calls WHERE agent = 'claude'").fetchone()


def session_lines(prefix: str, calls: int, *, tool_bytes: int = 20_000) -> list[str]:
    """A realistic session: per call a streaming copy, two block lines, and a big tool result.
    Call i has input 1, cache read 1000*i, output 10*i (final copy)."""
    w = build.Writer(SESSION)
    w.user_prompt("refactor the store")
    for i in range(1, calls + 1):
        w.assistant(f"msg_{prefix}{i}", f"req_{prefix}{i}", "claude-sonnet-4-6",
                    [build.text(f"step {i}"), build.tool_use(f"toolu_{prefix}{i}", "Read", {"file_path": "/x.py"})],
                    build.usage(1, 1000 * i, 0, 0, 10 * i), first_output=1)
        body = ("x = 1\n" * (tool_bytes // 6))
        w.tool_result(f"toolu_{prefix}{i}", body, {"type": "text", "file": {"filePath": "/x.py", "content": body}})
    return w.lines


def text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


@pytest.fixture
def transcript(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cfg"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    path = root / "projects" / "-home-u-src-acme-api" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(text(session_lines("a", 3)), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ledger.sqlite3")
    yield s
    s.close()


def test_second_ingest_reads_nothing(transcript, store):
    first = run(store)
    assert (first.sources_read, first.rows, first.bytes_read) == (1, 3, transcript.stat().st_size)
    assert sums(store) == (3, 3, 6000, 60)
    again = run(store)
    assert (again.sources, again.sources_read, again.rows, again.bytes_read) == (1, 0, 0, 0)
    assert sums(store) == (3, 3, 6000, 60)


def test_appended_lines_read_alone(transcript, store):
    run(store)
    new = text(session_lines("b", 2))
    with open(transcript, "a", encoding="utf-8") as f:
        f.write(new)
    stats = run(store)
    assert stats.bytes_read == len(new.encode())
    assert stats.rows == 2
    assert sums(store) == (5, 5, 6000 + 3000, 60 + 30)


def test_half_written_line_waits_for_its_newline_then_counts_once(transcript, store):
    run(store)
    line = session_lines("c", 1)[1]                      # the streaming copy (output 1)
    final = session_lines("c", 1)[2]                     # a block copy (output 10)
    size = transcript.stat().st_size
    with open(transcript, "a", encoding="utf-8") as f:
        f.write(line[:200])
    stats = run(store)
    assert (stats.rows, stats.bytes_read, stats.bad_lines) == (0, 0, 0)
    assert store.get_cursor("claude", str(transcript)).offset == size
    # Nothing changed: the pending half line is not read again.
    assert run(store).sources_read == 0
    with open(transcript, "a", encoding="utf-8") as f:
        f.write(line[200:] + "\n")
    stats = run(store)
    assert (stats.rows, stats.bytes_read, stats.bad_lines) == (1, len(line) + 1, 0)
    assert sums(store) == (4, 4, 7000, 61)
    with open(transcript, "a", encoding="utf-8") as f:
        f.write(final + "\n")
    assert run(store).rows == 1                          # the larger copy replaces the placeholder
    assert sums(store) == (4, 4, 7000, 70)


def test_rewritten_file_with_fewer_lines_not_double_counted(transcript, store):
    run(store)
    # Compaction-style rewrite into a new file: the same calls without the tool results.
    lines = [l for l in session_lines("a", 3) if '"tool_result"' not in l]
    tmp = transcript.with_suffix(".tmp")
    tmp.write_text(text(lines), encoding="utf-8")
    os.replace(tmp, transcript)
    stats = run(store)
    assert stats.sources_read == 1 and stats.bytes_read == transcript.stat().st_size   # re-read from 0
    assert stats.rows == 0
    assert sums(store) == (3, 3, 6000, 60)


def test_rewritten_in_place_with_more_lines(transcript, store):
    run(store)
    # Resume rewrites the same file: a new first line, the old lines, then a new call.
    lines = [json.dumps({"type": "summary", "summary": "Refactor the store", "leafUuid": "u-1"})]
    lines += session_lines("a", 3) + session_lines("d", 1)
    with open(transcript, "r+", encoding="utf-8") as f:
        f.truncate(0)
        f.write(text(lines))
    stats = run(store)
    assert stats.bytes_read == transcript.stat().st_size
    assert stats.rows == 1
    assert sums(store) == (4, 4, 7000, 70)


def test_truncated_file_reread_from_start(transcript, store):
    run(store)
    keep = text(session_lines("a", 3)[:4])              # the prompt and call a1's lines
    with open(transcript, "r+", encoding="utf-8") as f:
        f.truncate(len(keep.encode()))
    stats = run(store)
    assert (stats.bytes_read, stats.rows) == (len(keep.encode()), 0)
    with open(transcript, "a", encoding="utf-8") as f:
        f.write(text(session_lines("e", 1)))
    run(store)
    assert sums(store) == (4, 4, 7000, 70)


def test_replaced_by_another_file_of_the_same_size_and_time(transcript, store):
    run(store)
    st = transcript.stat()
    other = text(session_lines("f", 3))                 # same shape and size, other message ids
    assert len(other.encode()) == st.st_size
    tmp = transcript.with_suffix(".tmp")
    tmp.write_text(other, encoding="utf-8")
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, transcript)
    assert run(store).rows == 3                          # new inode: read again
    assert sums(store) == (6, 6, 12000, 120)


def test_rows_stay_after_the_transcript_is_deleted(transcript, store):
    run(store)
    transcript.unlink()
    stats = run(store)
    assert (stats.sources, stats.warnings) == (0, [])
    assert sums(store) == (3, 3, 6000, 60)


def test_file_vanishing_mid_scan_is_skipped_quietly(transcript, store, monkeypatch):
    gone = transcript.with_name("0a0a0a0a-gone.jsonl")
    gone.write_text(text(session_lines("g", 1)), encoding="utf-8")
    listed = ADAPTER.sources

    def sources():
        found = list(listed())
        gone.unlink()                                    # the agent's cleanup, between scan and read
        return iter(found)

    monkeypatch.setattr(ADAPTER, "sources", sources)
    stats = run(store)
    assert stats.warnings == []
    assert sums(store) == (3, 3, 6000, 60)


def test_cursor_survives_reopening_the_ledger(transcript, store, tmp_path):
    run(store)
    store.close()
    reopened = Store(tmp_path / "ledger.sqlite3")
    try:
        assert run(reopened).bytes_read == 0
        assert sums(reopened) == (3, 3, 6000, 60)
    finally:
        reopened.close()


def test_live_read_path_the_guard_uses(tmp_path):
    # The guard reads a live transcript with a bare Source (no meta): subagent files are still
    # recognised from their path.
    path = tmp_path / "p" / SESSION / "subagents" / "agent-a1.jsonl"
    w = build.Writer(SESSION, sidechain=True, agent_id="a1")
    w.assistant("msg_s1", "req_s1", "claude-haiku-4-5-20251001", [build.text("x")], build.usage(2, 20, 0, 0, 7))
    w.write(path)
    first = jsonl.read_incremental(ADAPTER, Source("claude", path), None)
    assert [(r.session_id, r.is_subagent, r.output_tokens) for r in first.rows] == [(SESSION, True, 7)]
    again = jsonl.read_incremental(ADAPTER, Source("claude", path), first.cursor)
    assert again.unchanged and again.rows == []


# -- token-roi ingest ---------------------------------------------------------------------------

def test_cli_reports_what_it_read(transcript, capsys):
    with open(transcript, "a", encoding="utf-8") as f:
        f.write("this line is garbage\n")
    assert main(["ingest"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"files scanned: 1  read: 1 ({transcript.stat().st_size / 1000:,.1f} KB)",
        "calls added or improved: 3",
        "unreadable lines skipped: 1",
    ]
    assert out.err == ""
    assert main(["ingest", "--agent", "claude", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "filesScanned": 1, "filesRead": 0, "bytesRead": 0, "callsAdded": 0, "badLines": 0, "warnings": []}


def test_cli_warnings_go_to_stderr_one_line_each(transcript, capsys, monkeypatch):
    locked = transcript.parent.parent / "-srv-private"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["ingest", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["callsAdded"] == 3
    assert out.err == f"token-roi: warning: {locked.resolve()}: Permission denied, skipped\n"


def test_cli_unknown_agent_is_a_user_error(capsys):
    assert main(["ingest", "--agent", "claud"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "'claud'" in err and "claude" in err


def test_cli_with_no_logs_says_zero(capsys, tmp_path):
    assert main(["ingest", "--agent", "claude"]) == 0
    assert "files scanned: 0" in capsys.readouterr().out
