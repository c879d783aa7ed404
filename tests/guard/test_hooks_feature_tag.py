"""TOKEN_ROI_FEATURE seen by the SessionStart hook books the session to that feature, and never
overrides an explicit `token-roi tag`."""

from hook_support import hook_env, run_hook, session_start

from token_roi.accounting.features import session_tags, tag_session
from token_roi.store import Store


def test_session_start_books_the_session_to_the_env_feature(tmp_path):
    transcript = tmp_path / "s1.jsonl"
    r = run_hook(session_start("sess-feature-1", transcript), env=hook_env(TOKEN_ROI_FEATURE="PRD-42"))
    assert (r.returncode, r.stdout) == (0, "")
    store = Store()
    assert session_tags(store)[("claude", "sess-feature-1")] == ("PRD-42", None)


def test_explicit_tag_wins_over_the_env_and_no_env_books_nothing(tmp_path):
    store = Store()
    tag_session(store, "claude", "sess-feature-2", "PRD-7")
    run_hook(session_start("sess-feature-2", tmp_path / "s2.jsonl"), env=hook_env(TOKEN_ROI_FEATURE="PRD-99"))
    run_hook(session_start("sess-feature-3", tmp_path / "s3.jsonl"), env=hook_env())
    tags = session_tags(store)
    assert tags[("claude", "sess-feature-2")] == ("PRD-7", None)
    assert ("claude", "sess-feature-3") not in tags
