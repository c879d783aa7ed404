"""The guard's live session count (core/guard/usage.py) counts by the Claude adapter's own rules:
a transcript written line by line, with the guard catching up after every line (so the copies of
one response straddle its reads), ends with the same calls and tokens as the ledger's ingest of
the finished files: the best copy of each response (not its streaming placeholder), /btw replays,
synthetic lines, orphan and malformed lines left out, subagent calls in."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from token_roi.guard import usage
from token_roi.guard.state import new_state
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude"
_spec = importlib.util.spec_from_file_location("claude_fixture_build_live", FIXTURES / "build.py")
assert _spec is not None and _spec.loader is not None
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")


def _ledger_totals(store: Store) -> tuple[int, dict[str, int]]:
    row = store.db.execute(f"SELECT COUNT(*), {', '.join(f'SUM({c})' for c in COLUMNS)} FROM calls").fetchone()
    return row[0], dict(zip(KINDS, row[1:]))


@pytest.mark.parametrize("step", [1, 3])
def test_the_live_count_is_the_ledgers_count(tmp_path, monkeypatch, step):
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    folder = config / "projects" / "-home-u-src-acme-api"
    main = folder / f"{build.SESSION}.jsonl"
    sub = folder / build.SESSION / "subagents" / "agent-a1b2c3d.jsonl"
    folder.mkdir(parents=True)
    sub.parent.mkdir(parents=True)
    main_lines = build.main_session().lines
    sub_lines = build.subagent_session().lines

    state = new_state(build.SESSION)
    base = str(tmp_path / "guard" / "session.json")
    Path(base).parent.mkdir()
    # Both files grow together, `step` lines at a time; the guard reads after each write, and
    # once a write ends in the middle of a line (the rest comes with the next one).
    with open(main, "w", encoding="utf-8") as m, open(sub, "w", encoding="utf-8") as s:
        for i in range(0, max(len(main_lines), len(sub_lines)), step):
            for f, lines in ((m, main_lines), (s, sub_lines)):
                chunk = "".join(line + "\n" for line in lines[i:i + step])
                if i == 6 and chunk:
                    f.write(chunk[:40])
                    f.flush()
                    usage.catch_up(state, str(main), base)
                    chunk = chunk[40:]
                f.write(chunk)
                f.flush()
            usage.catch_up(state, str(main), base)

    store = Store()
    ingest(store, ["claude"], show_progress=False)
    calls, tokens = _ledger_totals(store)
    assert calls == 8           # A, B, C, D, E, F and the subagent's H, I
    assert state["api_calls"] == calls
    assert {k: state["tokens"][k] for k in KINDS} == tokens
    # (the streaming placeholders lost: A's final output 250, E's 1200, H's 150)
    assert tokens["output"] == 250 + 400 + 80 + 90 + 1200 + 60 + 150 + 300

    # Later: a /btw side question replays A (sidechain, same id, a smaller copy) while A is among
    # the guard's recent calls; then 70 new calls; then a replay of B, long out of that window,
    # with larger counts. The main-chain copies win both times (rows.copy_rank), as in the ledger.
    w = build.Writer(build.SESSION)
    w.ms = 10_000_000
    w.assistant("msg_01A1xq8ZKc2Fh5bN6yTu3aEw", "req_btw_1", "claude-sonnet-4-6", [build.text("a")],
                build.usage(3, 12000, 1000, 0, 5), sidechain=True)
    for n in range(70):
        w.assistant(f"msg_filler_{n:03d}", f"req_filler_{n:03d}", "claude-sonnet-4-6", [build.text("f")],
                    build.usage(1, 100, 0, 0, 10), stop="end_turn")
    w.assistant("msg_01B2vR7mWn4Kd9sLp2Qx8cHj", "req_btw_2", "claude-sonnet-4-6", [build.text("b")],
                build.usage(5, 13000, 500, 1500, 9000), sidechain=True)
    with open(main, "a", encoding="utf-8") as m:
        for line in w.lines:
            m.write(line + "\n")
            m.flush()
            usage.catch_up(state, str(main), base)
    ingest(store, ["claude"], show_progress=False)
    calls, tokens = _ledger_totals(store)
    assert calls == 8 + 70
    assert state["api_calls"] == calls
    assert {k: state["tokens"][k] for k in KINDS} == tokens
