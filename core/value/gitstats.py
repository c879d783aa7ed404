"""Git figures for a project over a time window, read locally with `git log`.

A project that is not a git repository (or has no git) gives None, never an error: reports
show blanks. Commit messages are read to classify (merge of a pull request, revert) and then
dropped; nothing of them is stored.
"""

from __future__ import annotations

import bisect
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PR_MERGE = re.compile(r"^Merge pull request #\d+|^Merge branch .* into |\(#\d+\)\s*$")
_REVERT = re.compile(r'^Revert "|This reverts commit [0-9a-f]{7,40}')
_SEP = "\x1e"   # record separator between commits in the log format


@dataclass
class GitFigures:
    commits: int = 0
    prs: int = 0             # merge commits of pull requests (and squash merges "(#123)")
    lines_added: int = 0
    lines_removed: int = 0
    reverts: int = 0

    def as_dict(self) -> dict:
        return {"commits": self.commits, "prs": self.prs, "lines_added": self.lines_added,
                "lines_removed": self.lines_removed, "reverts": self.reverts}


def repo_root(path: str | Path | None) -> Path | None:
    if not path or not Path(path).is_dir():
        return None
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


@dataclass(frozen=True)
class Commit:
    ts: int                  # committer time, epoch ms (what `git log --since/--until` filter on)
    sha: str
    pr: bool
    revert: bool
    reverts: tuple[str, ...]  # commits this one reverts ("This reverts commit <sha>")
    added: int
    removed: int


_REVERTED = re.compile(r"This reverts commit ([0-9a-f]{7,40})")


def _log(root: Path, since_ms: int | None, until_ms: int | None) -> str | None:
    cmd = ["git", "-C", str(root), "log", "--all", "--numstat", "--no-color", "--no-renames",
           f"--format={_SEP}%H%x00%P%x00%ct%x00%B%x00"]
    if since_ms is not None:
        cmd.append(f"--since=@{since_ms // 1000}")
    if until_ms is not None:
        cmd.append(f"--until=@{max(since_ms or 0, until_ms - 1) // 1000}")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return "" if "does not have any commits" in out.stderr else None
    return out.stdout


def _parse(text: str) -> list[Commit]:
    commits = []
    for record in text.split(_SEP)[1:]:
        parts = record.split("\x00")
        if len(parts) < 5:
            continue
        sha, parents, message, stats = parts[0], parts[1].split(), parts[3], parts[4]
        try:
            ts = int(parts[2]) * 1000
        except ValueError:
            continue
        first_line = message.strip().splitlines()[0] if message.strip() else ""
        pr = bool((len(parents) > 1 and _PR_MERGE.search(first_line))
                  or (len(parents) == 1 and re.search(r"\(#\d+\)\s*$", first_line)))
        added = removed = 0
        for line in stats.strip().splitlines():
            cols = line.split("\t")
            if len(cols) >= 3 and cols[0].isdigit() and cols[1].isdigit():   # "-" marks binary files
                added += int(cols[0])
                removed += int(cols[1])
        commits.append(Commit(ts, sha, pr, bool(_REVERT.search(message)),
                              tuple(_REVERTED.findall(message)), added, removed))
    return commits


class History(list):
    """Commits in time order, with their times apart for bisection (figures_in)."""

    def __init__(self, commits):
        super().__init__(sorted(commits, key=lambda c: c.ts))
        self.times = [c.ts for c in self]
        self.reverted = [(sha, c.ts) for c in self for sha in c.reverts]   # (sha reverted, when)


def history(path: str | Path | None, since_ms: int | None = None) -> History | None:
    """Every commit (all branches) of the repository holding `path` from since_ms on, oldest
    first; None outside a repository. One `git log` per project for a whole report: windows
    are then cut in Python (figures_in)."""
    root = repo_root(path)
    if root is None:
        return None
    text = _log(root, since_ms, None)
    return None if text is None else History(_parse(text))


def _inside(commits, windows) -> list[Commit]:
    """The commits inside any of the merged [lo, hi) windows (git's 1-second resolution: a
    commit in the window's last second counts, as with figures())."""
    out = []
    times = getattr(commits, "times", None)
    for lo, hi in merge_windows(windows):
        a, b = lo // 1000 * 1000, max(lo, hi - 1) // 1000 * 1000
        if times is not None:
            out.extend(commits[bisect.bisect_left(times, a):bisect.bisect_right(times, b)])
        else:
            out.extend(c for c in commits if a <= c.ts <= b)
    return out


def merge_windows(windows) -> list[tuple[int, int]]:
    """Overlapping [lo, hi) windows merged, so a commit inside two sessions counts once."""
    out: list[list[int]] = []
    for lo, hi in sorted(windows):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


def _sum(commits) -> GitFigures:
    result = GitFigures()
    for c in commits:
        result.commits += 1
        result.prs += c.pr
        result.reverts += c.revert
        result.lines_added += c.added
        result.lines_removed += c.removed
    return result


def figures_in(commits: list[Commit], windows) -> GitFigures:
    """Figures of the commits made inside any of the [lo, hi) windows."""
    return _sum(_inside(commits, windows))


def reverted_later(commits: list[Commit], windows) -> int:
    """How many commits made inside the windows were reverted by a commit made after them."""
    inside = _inside(commits, windows)
    if not inside:
        return 0
    reverted = getattr(commits, "reverted", None)
    if reverted is None:
        reverted = [(sha, c.ts) for c in commits for sha in c.reverts]
    return sum(1 for c in inside if any(c.sha.startswith(sha) and ts >= c.ts for sha, ts in reverted))


def figures(path: str | Path | None, since_ms: int, until_ms: int) -> GitFigures | None:
    """Commits authored in [since_ms, until_ms) on any branch of the repository holding `path`."""
    root = repo_root(path)
    if root is None:
        return None
    text = _log(root, since_ms, until_ms)
    if text is None:
        return None
    return _sum(_parse(text))
