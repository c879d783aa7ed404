"""Which feature and category a call is booked to.

Order, first found wins:
1. the entry's own `feature`/`category` (manual ledger entries: --feature, else TOKEN_ROI_FEATURE,
   else the branch when the entry was logged);
2. the session's tag: `token-roi tag FEATURE` (source 'tag') or TOKEN_ROI_FEATURE seen by a
   hook in that session (source 'env', never overwrites an explicit tag) — session_tags table;
3. the session's git branch matched against `feature.branch_pattern` (e.g. `PRD-\\d+`).
Automatic usage with no category is 'agent-session'.
"""

from __future__ import annotations

import os
import re
import time
from functools import lru_cache
from pathlib import Path

DEFAULT_CATEGORY = "agent-session"
ENV_VAR = "TOKEN_ROI_FEATURE"


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def feature_from_branch(branch: str | None, pattern: str | None) -> str | None:
    """'feature/PRD-12-login' with 'PRD-\\d+' -> 'PRD-12' (the first match; group 1 when the
    pattern has a group)."""
    if not branch or not pattern:
        return None
    m = _compiled(pattern).search(branch)
    if not m:
        return None
    return m.group(1) if m.re.groups else m.group(0)


def current_branch(cwd: Path | None = None) -> str | None:
    """The checked-out branch, read from .git/HEAD (no git process needed)."""
    here = (cwd or Path.cwd()).resolve()
    for d in (here, *here.parents):
        git = d / ".git"
        if git.is_file():                        # a worktree: "gitdir: <path>"
            try:
                text = git.read_text(encoding="utf-8").strip()
            except OSError:
                return None
            if text.startswith("gitdir:"):
                git = (d / text[7:].strip()).resolve()
        if git.is_dir():
            try:
                head = (git / "HEAD").read_text(encoding="utf-8").strip()
            except OSError:
                return None
            return head[16:] if head.startswith("ref: refs/heads/") else None
    return None


def feature_for_new_entry(given: str | None, pattern: str | None, cwd: Path | None = None) -> str | None:
    """--feature, else TOKEN_ROI_FEATURE, else the current branch by the pattern."""
    return given or os.environ.get(ENV_VAR) or feature_from_branch(current_branch(cwd), pattern)


def tag_session(store, agent: str, session_id: str, feature: str | None, category: str | None = None,
                source: str = "tag") -> None:
    """Book a session to a feature/category. source 'env' (a hook seeing TOKEN_ROI_FEATURE) does
    not replace an explicit 'tag'. Hooks may call this: standard library only."""
    with store.transaction():
        store.db.execute(
            "INSERT INTO session_tags (agent, session_id, feature, category, source, tagged_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent, session_id) DO UPDATE SET "
            "feature = excluded.feature, category = COALESCE(excluded.category, session_tags.category), "
            "source = excluded.source, tagged_at = excluded.tagged_at "
            "WHERE excluded.source = 'tag' OR session_tags.source != 'tag'",
            (agent, session_id, feature, category, source, int(time.time() * 1000)))


def tag_from_env(store, agent: str, session_id: str | None, environ=None) -> str | None:
    """For a hook (e.g. SessionStart): book the session to $TOKEN_ROI_FEATURE when it is set.
    Returns the feature booked, or None."""
    feature = ((environ if environ is not None else os.environ).get(ENV_VAR) or "").strip()
    if not feature or not session_id:
        return None
    tag_session(store, agent, session_id, feature, source="env")
    return feature


def untag_session(store, agent: str, session_id: str) -> bool:
    with store.transaction():
        return store.db.execute("DELETE FROM session_tags WHERE agent = ? AND session_id = ?",
                                (agent, session_id)).rowcount > 0


def session_tags(store) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """(agent, session_id) -> (feature, category)."""
    return {(r[0], r[1]): (r[2], r[3]) for r in
            store.db.execute("SELECT agent, session_id, feature, category FROM session_tags")}


class Resolver:
    """Feature and category for a (agent, session, branch, own feature, own category) group."""

    def __init__(self, store, branch_pattern: str | None):
        self.tags = session_tags(store)
        self.pattern = branch_pattern

    def __call__(self, agent: str, session_id: str | None, branch: str | None,
                 feature: str | None, category: str | None) -> tuple[str | None, str]:
        tag_feature, tag_category = self.tags.get((agent, session_id), (None, None)) if session_id else (None, None)
        return (feature or tag_feature or feature_from_branch(branch, self.pattern),
                category or tag_category or DEFAULT_CATEGORY)
