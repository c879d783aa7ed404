"""Each accounting command on an empty ledger, with a bad config, and the smaller behaviours
(tags, colour, no subscriptions, --as-of and --config handling)."""

from __future__ import annotations

import json

import pytest

from token_roi.accounting import features
from token_roi.cli import main
from token_roi.rows import UsageRow
from token_roi.store import Store

REPORTS = [["budget"], ["summary"], ["summary", "--period", "daily"], ["feature-cost", "PRD-1"],
           ["subscriptions"]]


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "shop"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("argv", REPORTS + [["export"], ["export", "-f", "json"]])
def test_empty_ledger(project, capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    assert "Traceback" not in out


def test_empty_ledger_messages(project, capsys):
    assert main(["budget", "--json"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert (b["spent"], b["status"], b["recommendation"]) == (0, "unset", "set a budget")
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "No usage in this period." in out
    assert not (project / "cogs").exists()               # no ledger dir: summary.md not written
    assert main(["feature-cost", "PRD-1"]) == 0
    assert "No usage booked to feature PRD-1." in capsys.readouterr().out
    assert main(["export"]) == 0
    assert capsys.readouterr().out.startswith("date,time_utc,kind,cost_type,agent,model")
    assert main(["subscriptions"]) == 0
    assert "No subscriptions configured" in capsys.readouterr().out


def test_budget_without_budget_suggests_stage_range(project, capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("company:\n  stage: growth\n")
    assert main(["budget", "--config", str(cfg)]) == 0
    out = " ".join(capsys.readouterr().out.split())          # advice is folded to the terminal width
    assert "suggested for the growth stage: $200–1000/month" in out


@pytest.mark.parametrize("argv", REPORTS + [["export"], ["tag", "--list"],
                                            ["log", "--model", "m", "--input-tokens", "1", "--output-tokens", "1",
                                             "--agent", "a", "--category", "ad-hoc"]])
def test_bad_config_is_one_line_naming_the_key(project, capsys, tmp_path, monkeypatch, argv):
    cfg = tmp_path / "company.config.yaml"
    cfg.write_text("company:\n  name: Shop\nai:\n  cost_alert_threshold_percent: eighty\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(cfg))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f'token-roi: {cfg}: ai.cost_alert_threshold_percent = "eighty" is not allowed: '
                   "expected a number\n")
    assert not (project / "cogs").exists()


def test_config_flag_beats_env(project, capsys, tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("company:\n  stage: unicorn\n")
    good = tmp_path / "good.yaml"
    good.write_text("ai:\n  cost_budget_monthly: 42\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(bad))
    assert main(["budget", "--json", "--config", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["budget"] == 42


def test_bad_as_of_date(project, capsys):
    assert main(["budget", "--as-of", "Sept 3"]) == 2
    assert "--as-of 'Sept 3': expected a date" in capsys.readouterr().err


def _sessions(store):
    rows = [UsageRow("claude", "m1", 1_790_000_000_000, "s-old", "/elsewhere", "claude-haiku-4-5", 10, 10),
            UsageRow("claude", "m2", 1_790_000_100_000, "s-here", None, "claude-haiku-4-5", 10, 10),
            UsageRow("claude", "m3", 1_790_000_200_000, "s-other", "/other/proj", "claude-haiku-4-5", 10, 10)]
    return rows


def test_tag_defaults_to_this_projects_latest_session(project, capsys):
    store = Store()
    rows = _sessions(store)
    rows[1].project = str(project / "web")            # a subfolder of the project
    with store.transaction():
        store.upsert_calls(rows)
    assert main(["tag", "PRD-5", "--category", "research"]) == 0
    assert "tagged claude session s-here" in capsys.readouterr().out
    assert features.session_tags(store) == {("claude", "s-here"): ("PRD-5", "research")}
    assert main(["tag", "--list", "--json"]) == 0
    tags = json.loads(capsys.readouterr().out)["tags"]
    assert tags[0]["sessionId"] == "s-here" and tags[0]["source"] == "tag"
    assert main(["tag", "--clear"]) == 0
    assert features.session_tags(store) == {}


def test_tag_unknown_session_needs_agent(project, capsys):
    assert main(["tag", "PRD-5", "--session", "nope"]) == 2
    assert "no such session" in capsys.readouterr().err
    assert main(["tag", "PRD-5", "--session", "live-1", "--agent", "claude"]) == 0
    assert main(["tag", "PRD-5"]) == 2
    assert "no agent session recorded for" in capsys.readouterr().err


def test_env_tag_never_overrides_explicit_tag(project):
    store = Store()
    features.tag_session(store, "claude", "s1", "PRD-1", source="tag")
    features.tag_session(store, "claude", "s1", "PRD-2", source="env")
    features.tag_session(store, "claude", "s2", "PRD-3", source="env")
    features.tag_session(store, "claude", "s2", "PRD-4", source="tag")
    assert features.session_tags(store) == {("claude", "s1"): ("PRD-1", None), ("claude", "s2"): ("PRD-4", None)}


@pytest.mark.parametrize("branch, pattern, expected", [
    ("feature/PRD-12-login", r"PRD-\d+", "PRD-12"),
    ("main", r"PRD-\d+", None),
    ("jira/ABC-7/fix", r"([A-Z]+-\d+)", "ABC-7"),
    (None, r"PRD-\d+", None),
    ("PRD-1", None, None),
])
def test_feature_from_branch(branch, pattern, expected):
    assert features.feature_from_branch(branch, pattern) == expected


def test_current_branch_in_a_worktree(tmp_path):
    main_git = tmp_path / "repo" / ".git" / "worktrees" / "wt"
    main_git.mkdir(parents=True)
    (main_git / "HEAD").write_text("ref: refs/heads/PRD-77-export\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {main_git}\n")
    (wt / "sub").mkdir()
    assert features.current_branch(wt / "sub") == "PRD-77-export"


def test_no_colour_when_not_a_terminal_or_no_color(project, capsys, monkeypatch, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ai:\n  cost_budget_monthly: 1\n")
    from token_roi.cli import accounting
    monkeypatch.setattr(accounting, "use_colour", lambda: True)
    from token_roi.cli import budget_cmd
    monkeypatch.setattr(budget_cmd, "use_colour", lambda: True)
    assert main(["budget", "--config", str(cfg)]) == 0
    assert "\x1b[32m" in capsys.readouterr().out         # healthy = green on a terminal
    from token_roi.reports.table import use_color
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color() is False


def test_hook_books_session_from_env(project):
    store = Store()
    assert features.tag_from_env(store, "claude", "s9", {"TOKEN_ROI_FEATURE": " PRD-31 "}) == "PRD-31"
    assert features.tag_from_env(store, "claude", "s10", {}) is None
    assert features.tag_from_env(store, "claude", None, {"TOKEN_ROI_FEATURE": "PRD-31"}) is None
    assert features.session_tags(store) == {("claude", "s9"): ("PRD-31", None)}
