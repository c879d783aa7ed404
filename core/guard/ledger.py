"""On Stop and SessionEnd the session's usage goes into the ledger, so nothing is lost when
Claude Code later deletes or rewrites the transcript. The store dedupes by call key, so
recording the same session again (every Stop) never double-counts; no pricing here (reports
price what is new)."""

from __future__ import annotations

from pathlib import Path


def _source(path: Path):
    from ..adapters.base import Source
    from ..adapters.claude.reader import subagent_meta
    return Source("claude", path, "jsonl", subagent_meta(path))


OUTCOMES_KEY = "guard.outcomes."    # + session id: the session's outcome counts, kept in `meta`


def record_session(transcript_path: str, log=None, state: dict | None = None) -> int:
    """Ingest the session transcript and its subagents' into the ledger through ingest's one
    pipeline, at most safe_io.TRANSCRIPT_LIMIT bytes a file (the next Stop goes on from there),
    pricing left to the next report (and the session's outcome counts, which outlive its guard
    state); returns rows written."""
    from .. import safe_io
    from ..adapters.claude.reader import ADAPTER
    from ..ingest import ingest_sources
    from ..store import Store
    from .usage import transcript_files

    store = Store()
    try:
        stats = ingest_sources(store, [(ADAPTER, _source(path)) for path in transcript_files(transcript_path)],
                               price=False, limit=safe_io.TRANSCRIPT_LIMIT)
        if log:
            for warning in stats.warnings:
                log(f"ledger: {warning}")
        if state is not None:
            save_outcomes(store, state)
            save_signals(store, state, log)
    finally:
        store.close()
    start_team_sync(log)
    return stats.rows


TEAM_SYNC_FLAG = "team-auto-sync"   # in the state dir while team.url and team.auto_sync are set (team_cmd.py)


def start_team_sync(log=None, every_s: float = 60) -> bool:
    """A detached background `token-roi team sync` (never waited for), at most once a minute."""
    import os
    import time

    from .. import paths
    flag = os.path.join(paths.state_dir_str(), TEAM_SYNC_FLAG)
    try:
        if os.stat(flag).st_mtime > time.time() - every_s:
            return False                    # (no flag: FileNotFoundError, team sync is off)
        os.utime(flag)
        import subprocess
        import sys
        with open(paths.log_path_str(), "ab") as errors:     # (its one-line refusals go to our log)
            subprocess.Popen([sys.executable, "-m", "token_roi.cli", "team", "sync", "--quiet"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                             start_new_session=True)
    except OSError as exc:
        if log and not isinstance(exc, FileNotFoundError):
            log(f"ledger: team sync not started: {exc}")
        return False
    return True


def save_outcomes(store, state: dict) -> None:
    import json
    out = state.get("outcomes") or {}
    counts = {k: out.get(k, 0) for k in ("tests_passed", "bugs_fixed", "test_runs")}
    if any(counts.values()):
        with store.transaction():
            store.set_meta(OUTCOMES_KEY + state["session_id"], json.dumps(counts))


def load_outcomes(store, session_id: str) -> dict | None:
    import json
    raw = store.get_meta(OUTCOMES_KEY + session_id)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def save_signals(store, state: dict, log=None) -> None:
    """The session's value signals (core/value/signals.py) from this guard state, so the value
    reports judge guard-watched sessions from what the hooks saw."""
    try:
        from ..value import signals
    except ImportError:
        return
    try:
        with store.transaction():
            previous = signals.load(store.db, "claude", state["session_id"])
            signals.save(store.db, signals.from_guard_state(state, "claude", previous))
    except Exception as exc:  # noqa: BLE001 - the usage above is already safe in the ledger
        if log:
            log(f"ledger: value signals not saved: {type(exc).__name__}: {exc}")
