"""Git figures for a project over a time window, read locally with `git log`.

A project that is not a git repository (or has no git) gives None, never an error: reports
show blanks. Commit messages are read to classify (merge of a pull request, revert) and then
dropped; nothing of them is stored.
"""

from __future__ import annotations

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


def figures(path: str | Path | None, since_ms: int, until_ms: int) -> GitFigures | None:
    """Commits authored in [since_ms, until_ms) on any branch of the repository holding `path`."""
    root = repo_root(path)
    if root is None:
        return None
    cmd = ["git", "-C", str(root), "log", "--all", "--numstat", "--no-color", "--no-renames",
           f"--since=@{since_ms // 1000}", f"--until=@{max(since_ms, until_ms - 1) // 1000}",
           f"--format={_SEP}%H%x00%P%x00%B%x00"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return GitFigures() if "does not have any commits" in out.stderr else None
    result = GitFigures()
    for record in out.stdout.split(_SEP)[1:]:
        parts = record.split("\x00")
        if len(parts) < 4:
            continue
        parents, message, stats = parts[1].split(), parts[2], parts[3]
        result.commits += 1
        first_line = message.strip().splitlines()[0] if message.strip() else ""
        if (len(parents) > 1 and _PR_MERGE.search(first_line)) or (len(parents) == 1 and re.search(r"\(#\d+\)\s*$", first_line)):
            result.prs += 1
        if _REVERT.search(message):
            result.reverts += 1
        for line in stats.strip().splitlines():
            cols = line.split("\t")
            if len(cols) >= 3 and cols[0].isdigit() and cols[1].isdigit():   # "-" marks binary files
                result.lines_added += int(cols[0])
                result.lines_removed += int(cols[1])
    return result
