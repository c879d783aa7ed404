"""The warm run's tree snapshot: a report that finds nothing new proves it with one stat per
folder and file, and anything that could hide new usage (an append, a new file or folder, a new
root, a cursor written by someone else, a new or restored ledger) sends it back to the walk."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from token_roi import adapters, tree_snapshot
from token_roi.ingest import IngestStats, _plan, ingest, refresh
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude"
SESSION = "7f3c2a91-5b1e-4c8a-9d2f-0e6b8a4c1d35"

_spec = importlib.util.spec_from_file_location("claude_fixture_build", FIXTURES / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def _age_tree(root: Path, seconds: int = 3600) -> None:
    """Every folder's mtime an hour back: settled, as a transcript tree is between sessions."""
    old = time.time_ns() - seconds * 10**9
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(old, old))


def _call_line_file(path: Path, key: str, output: int, session: str = SESSION) -> None:
    w = build.Writer(session)
    w.assistant(key, f"req_{key}", "claude-sonnet-4-6", [build.text("ok")], build.usage(1, 100, 0, 0, output))
    path.parent.mkdir(parents=True, exist_ok=True)
    w.write(path)


def _append_call(path: Path, key: str, output: int) -> None:
    tmp = Path(tempfile.mkdtemp()) / "lines.jsonl"      # (not beside it: that would move the folder's mtime)
    _call_line_file(tmp, key, output)
    with open(path, "ab") as f:
        f.write(tmp.read_bytes())
    tmp.unlink()


def _output(store: Store) -> tuple[int, int]:
    return store.db.execute("SELECT COUNT(*), COALESCE(SUM(output_tokens), 0) FROM calls").fetchone()


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """The fixture transcripts plus a second project, as a settled Claude config dir."""
    root = tmp_path / "claude-config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    _call_line_file(root / "projects" / "-home-u-other" / "s-other.jsonl", "msg_other", 40, "s-other")
    _age_tree(root)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    return root


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "home" / "ledger.sqlite3")
    yield s
    s.close()


@pytest.fixture
def walks(monkeypatch) -> list:
    """Counts the Claude adapter's walks (each call of sources())."""
    seen: list = []
    adapter = adapters.get_adapter("claude")
    real = type(adapter).sources

    def counting():
        seen.append(1)
        return real(adapter)

    monkeypatch.setattr(adapter, "sources", counting)   # (on the instance: other tests patch it there)
    return seen


def _run(store):
    return refresh(store, ["claude"], show_progress=False)


def test_a_warm_run_skips_the_walk_and_reports_the_same(tree, store, walks):
    first = _run(store)
    before = _output(store)
    assert first.sources == 3 and before[0] > 0 and walks == [1]
    assert (Path(store.path).parent / tree_snapshot.NAME).exists()
    stats = _run(store)
    assert walks == [1], "the walk ran although nothing changed"
    assert stats.sources == 3 and stats.sources_read == 0 and _output(store) == before


def test_appended_lines_are_read_without_a_walk(tree, store, walks):
    # A report during a session: the transcript grew, no folder changed. Only it is read.
    _run(store)
    calls, output = _output(store)
    main = next(tree.glob(f"projects/*/{SESSION}.jsonl"))
    _append_call(main, "msg_appended", 777)
    stats = _run(store)
    assert walks == [1] and stats.sources == 3 and stats.sources_read == 1
    assert _output(store) == (calls + 1, output + 777)
    _append_call(main, "msg_appended_2", 5)       # and the entry written after it holds again
    stats = _run(store)
    assert walks == [1] and stats.sources_read == 1 and _output(store) == (calls + 2, output + 782)
    stats = _run(store)
    assert walks == [1] and stats.sources_read == 0 and _output(store) == (calls + 2, output + 782)


def test_a_grown_subagent_transcript_keeps_its_parent_session(tree, store, walks):
    _run(store)
    sub = next(tree.glob(f"projects/*/{SESSION}/subagents/agent-*.jsonl"))
    tmp = Path(tempfile.mkdtemp()) / "lines.jsonl"
    _call_line_file(tmp, "msg_sub_more", 12, session="agent-own-id")
    with open(sub, "ab") as f:
        f.write(tmp.read_bytes())
    _run(store)
    assert walks == [1]
    row = store.db.execute("SELECT session_id, is_subagent FROM calls WHERE dedupe_key = 'msg_sub_more'").fetchone()
    assert row == (SESSION, 1)


def test_a_new_file_in_a_settled_folder_is_found(tree, store, walks):
    _run(store)
    calls, output = _output(store)
    _call_line_file(tree / "projects" / "-home-u-other" / "s-new.jsonl", "msg_new", 55, "s-new")
    _age_tree(tree)                  # even with the folder's mtime moved back into the past
    os.utime(tree / "projects" / "-home-u-other")    # ... except the one that changed: now
    _run(store)
    assert _output(store) == (calls + 1, output + 55)


def test_a_new_project_folder_is_found(tree, store, walks):
    _run(store)
    calls, output = _output(store)
    _call_line_file(tree / "projects" / "-home-u-brand-new" / "s-b.jsonl", "msg_b", 66, "s-b")
    _run(store)
    assert _output(store) == (calls + 1, output + 66)


def test_a_replaced_file_of_the_same_size_and_mtime_is_found_by_its_inode(tree, store, walks):
    _run(store)
    other = tree / "projects" / "-home-u-other" / "s-other.jsonl"
    st, folder_st = other.stat(), other.parent.stat()
    replacement = other.with_name("replacement.tmp")
    _call_line_file(replacement, "msg_othr9", 41, "s-other")          # same length, another call
    assert replacement.stat().st_size == st.st_size
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, other)
    os.utime(other.parent, ns=(folder_st.st_atime_ns, folder_st.st_mtime_ns))   # hide it from the folder
    _run(store)
    keys = {r[0] for r in store.db.execute("SELECT dedupe_key FROM calls")}
    assert "msg_othr9" in keys and walks == [1]


def test_a_cursor_removed_by_another_process_means_that_file_is_read_again(tree, store, walks):
    _run(store)
    before = _output(store)
    other = sqlite3.connect(store.path)
    other.execute("DELETE FROM sources WHERE path LIKE '%s-other.jsonl'")   # e.g. a reset of one file
    other.commit()
    other.close()
    stats = _run(store)
    # the folders prove the same files; the mark says the cursors moved, so each file is held
    # against its cursor, as a walk would: the one without a cursor is read from the start
    assert walks == [1] and stats.sources_read == 1
    assert _output(store) == before      # nothing counted twice
    _run(store)
    assert store.db.execute("SELECT COUNT(*) FROM sources WHERE path LIKE '%s-other.jsonl'").fetchone() == (1,)


def test_a_session_recorded_by_the_stop_hook_meanwhile_is_not_read_twice(tree, store, walks, tmp_path):
    # The guard's Stop hook writes the session's rows and cursor itself (another process): the
    # next report finds that transcript grown but at its cursor, reads nothing, walks nothing.
    from token_roi.adapters import jsonl
    from token_roi.adapters.base import Source
    _run(store)
    calls, output = _output(store)
    main = next(tree.glob(f"projects/*/{SESSION}.jsonl"))
    _append_call(main, "msg_during_session", 321)
    hook_store = Store(store.path)
    adapter = adapters.get_adapter("claude")
    cursor = hook_store.get_cursor("claude", str(main))
    result = jsonl.read_incremental(adapter, Source("claude", str(main), "jsonl"), cursor)
    with hook_store.transaction():
        hook_store.upsert_calls(result.rows)
        hook_store.put_cursor(result.cursor)
    hook_store.close()
    seen_by_cursor_index = []
    real_index = Store.cursor_stats
    try:
        Store.cursor_stats = lambda self: seen_by_cursor_index.append(1) or real_index(self)
        stats = _run(store)
        # the index once to hold the files against, once more to write the entry under the new mark
        assert walks == [1] and stats.sources_read == 0 and len(seen_by_cursor_index) == 2
        assert _output(store) == (calls + 1, output + 321)
        stats = _run(store)
        assert walks == [1] and stats.sources_read == 0
        assert len(seen_by_cursor_index) == 2, "the cursor index was loaded although the mark held"
    finally:
        Store.cursor_stats = real_index


def test_a_new_ledger_does_not_trust_the_old_snapshot(tree, tmp_path, walks):
    home = tmp_path / "home"
    s = Store(home / "ledger.sqlite3")
    _run(s)
    before = _output(s)
    s.close()
    snapshot = (home / tree_snapshot.NAME).read_bytes()
    for name in os.listdir(home):
        if name.startswith("ledger.sqlite3"):
            os.unlink(home / name)
    (home / tree_snapshot.NAME).write_bytes(snapshot)       # left behind by the old ledger
    fresh = Store(home / "ledger.sqlite3")
    try:
        _run(fresh)
        assert _output(fresh) == before
    finally:
        fresh.close()


def test_a_restored_ledger_reads_what_came_after_its_backup(tree, tmp_path):
    home = tmp_path / "home"
    s = Store(home / "ledger.sqlite3")
    _run(s)
    backup = tmp_path / "backup.sqlite3"
    s.db.execute(f"VACUUM INTO '{backup}'")
    main = next(tree.glob(f"projects/*/{SESSION}.jsonl"))
    _append_call(main, "msg_after_backup", 321)
    _run(s)                                                  # snapshot now of the newer state
    s.close()
    for name in os.listdir(home):
        if name.startswith("ledger.sqlite3"):
            os.unlink(home / name)
    shutil.copy(backup, home / "ledger.sqlite3")
    restored = Store(home / "ledger.sqlite3")
    try:
        _run(restored)
        keys = {r[0] for r in restored.db.execute("SELECT dedupe_key FROM calls")}
        assert "msg_after_backup" in keys
    finally:
        restored.close()


def test_a_new_root_is_walked(tree, store, walks, tmp_path, monkeypatch):
    _run(store)
    calls, output = _output(store)
    second = tmp_path / "second-profile"
    _call_line_file(second / "projects" / "-home-u-p" / "s-2.jsonl", "msg_second", 88, "s-2")
    _age_tree(second)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tree},{second}")
    _run(store)
    assert _output(store) == (calls + 1, output + 88)


def test_unsettled_folders_are_walked_every_time(tree, store, walks):
    os.utime(tree / "projects" / "-home-u-other")            # changed just now: may change again unseen
    _run(store)
    _run(store)
    assert len(walks) == 2


def test_an_unreadable_or_foreign_snapshot_means_a_walk(tree, store, walks):
    _run(store)
    path = Path(store.path).parent / tree_snapshot.NAME
    path.write_bytes(b"\x00not marshal")
    _run(store)
    assert len(walks) == 2
    _run(store)                      # rewritten by that walk
    assert len(walks) == 2
    import marshal
    snap = marshal.loads(path.read_bytes())
    snap["format"] = (0, "old")
    path.write_bytes(marshal.dumps(snap))
    _run(store)
    assert len(walks) == 3


def test_a_source_without_a_cursor_keeps_the_walk(tree, store, walks, monkeypatch):
    from token_roi.adapters import jsonl
    real = jsonl.read_incremental

    def unreadable(adapter, source, cursor):
        if source.path.endswith("s-other.jsonl"):
            raise PermissionError(13, "Permission denied", source.path)
        return real(adapter, source, cursor)

    monkeypatch.setattr(jsonl, "read_incremental", unreadable)
    stats = _run(store)
    assert any("permission denied" in w for w in stats.warnings)
    stats = _run(store)
    assert len(walks) == 2 and any("permission denied" in w for w in stats.warnings)


def test_the_plan_and_ingest_command_write_it_too(tree, store, walks):
    stats = ingest(store, ["claude"], show_progress=False)
    assert stats.sources == 3
    todo = _plan(store, ["claude"], IngestStats())
    assert todo == [] and walks == [1]


def test_source_marks_change_with_every_cursor_write(store):
    from token_roi.cursor import Cursor
    assert store.source_marks() == {}
    store.put_cursor(Cursor("claude", "/x.jsonl", 10, 10, 1, 2, None, {}))
    first = store.source_marks()["claude"]
    store.put_cursor(Cursor("claude", "/x.jsonl", 20, 20, 2, 2, None, {}))
    second = store.source_marks()["claude"]
    store.put_cursor(Cursor("codex", "/y.jsonl", 1, 1, 1, 3, None, {}))
    assert store.source_marks()["claude"] == second != first
    store.db.execute("DELETE FROM sources WHERE agent = 'claude'")
    assert store.source_marks()["claude"] not in (first, second)
