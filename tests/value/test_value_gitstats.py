"""Git figures are read from a real temporary repository."""

import os
import subprocess

import pytest

from token_roi.value.gitstats import figures

T0 = 1_780_000_000  # 2026-05-28T20:26:40Z


def git(repo, *args, at=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com")
    if at is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{at} +0000"
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def commit_file(repo, name, lines, message, at):
    (repo / name).write_text("".join(f"line {i}\n" for i in range(lines)))
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message, at=at)


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "proj"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit_file(r, "old.py", 100, "before the window", T0 - 86_400)
    commit_file(r, "a.py", 10, "add a", T0 + 60)
    git(r, "checkout", "-q", "-b", "feature")
    commit_file(r, "b.py", 5, "add b", T0 + 120)
    git(r, "checkout", "-q", "main")
    git(r, "merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #7 from dev/feature", at=T0 + 180)
    commit_file(r, "c.py", 3, "add c (#8)", T0 + 240)
    sha = subprocess.run(["git", "-C", str(r), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    git(r, "revert", "--no-edit", sha, at=T0 + 300)
    commit_file(r, "late.py", 50, "after the window", T0 + 10_000)
    return r


def test_counts_commits_prs_lines_and_reverts_inside_the_window(repo):
    f = figures(repo / ".", (T0) * 1000, (T0 + 3600) * 1000)
    # a.py, b.py, the PR merge, c.py (squash-merged PR #8) and its revert
    assert f.commits == 5
    assert f.prs == 2
    assert f.reverts == 1
    assert f.lines_added == 10 + 5 + 3        # merges show no numstat; the revert only removes
    assert f.lines_removed == 3


def test_subdirectory_of_a_repo_and_empty_window(repo):
    sub = repo / "pkg"
    sub.mkdir()
    f = figures(sub, (T0 + 20_000) * 1000, (T0 + 30_000) * 1000)
    assert f is not None and f.commits == 0 and f.lines_added == 0


def test_not_a_repository_or_missing_path_gives_none(tmp_path):
    assert figures(tmp_path, 0, 10**13) is None
    assert figures(tmp_path / "gone", 0, 10**13) is None
    assert figures(None, 0, 10**13) is None
