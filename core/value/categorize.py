"""Every session is Value-Added (VA), Non-Value-Added (NVA) or Business-Value-Added (BVA), with
the reasons, decided by fixed rules from its signals (activity-based management).

The rules, in order (the first that decides wins; every reason that applies is listed):
1. A person's verdict (`token-roi categorize SESSION VA|NVA|BVA --why ...`) wins: by 'user'.
2. NVA (pure waste) when the session's work was undone or went in circles:
   - a commit made in the session was reverted later, or
   - it ended inside an unresolved loop (the guard saw its last test run fail, or its last call
     fail or go nowhere) and nothing was fixed or committed, or its last test run failed, or
   - a loop reached LOOP_ATTEMPTS attempts (or the guard's fast tier fired) and the session's
     outcome is not good: no bug fixed, and its last test run did not pass, or
   - at least FAILURE_SHARE of its tool calls failed (of MIN_CALLS or more) and nothing was
     fixed, passed or committed.
   Categories come from the outcome: a session that fixed a bug or whose last test run passed
   is not NVA because a loop fired along the way; the loop stays listed among its reasons.
3. VA (work you would pay for): bugs fixed, tests passing, commits, or files edited.
4. BVA (necessary overhead): reads and research only, no edits; or a session with no tool
   signals at all (an agent the guard does not watch) and no commits in its window: it is
   counted as overhead, and the reason says the signals are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = ("VA", "NVA", "BVA")
LOOP_ATTEMPTS = 5
FAILURE_SHARE = 0.5
MIN_CALLS = 4


@dataclass
class Verdict:
    category: str
    by: str                      # 'rules' | 'user'
    reasons: list[str] = field(default_factory=list)


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def categorize(signals, git=None, reverted: int = 0, override: tuple[str, str] | None = None) -> Verdict:
    """signals: value.signals.Signals (source 'none' when only the ledger knows the session);
    git: GitFigures of the session's window, None outside a repository; reverted: commits of the
    session reverted later; override: (category, reason) a person set."""
    if override:
        return Verdict(override[0], "user", [override[1]])
    s = signals
    commits = git.commits - git.reverts if git else 0
    produced = s.bugs_fixed > 0 or s.tests_passed > 0 or commits > 0
    # A good outcome: a bug fixed, or the last test run passed (the guard leaves tests_failed at
    # 0 once the latest run passes).
    good = s.bugs_fixed > 0 or (s.tests_passed > 0 and s.tests_failed == 0)
    nva: list[str] = []
    if reverted:
        nva.append(f"{_n(reverted, 'commit')} of this session reverted later")
    if not good:
        if s.fast_tier_fired:
            nva.append(f"fast tier fired (a loop reached {s.loop_attempts_max} attempts)")
        elif s.loop_attempts_max >= LOOP_ATTEMPTS and not s.tests_passed:
            nva.append(f"loop of {s.loop_attempts_max} attempts on one tool, nothing fixed or passed")
    if s.abandoned and s.tests_failed > 0 and good:
        nva.append("ended inside an unresolved loop: its last test run failed")
    elif s.abandoned and not (good or commits):
        nva.append("abandoned: ended right after failures with no later success")
    calls = s.total_tool_calls
    if calls >= MIN_CALLS and s.tool_failures >= FAILURE_SHARE * calls and not produced:
        nva.append(f"{s.tool_failures} of {_n(calls, 'tool call')} failed, nothing fixed, passed or committed")
    if nva:
        return Verdict("NVA", "rules", nva)

    va: list[str] = []
    if s.bugs_fixed:
        va.append(f"{_n(s.bugs_fixed, 'bug')} fixed")
    if s.tests_passed:
        va.append(f"{_n(s.tests_passed, 'test')} passing"
                  + (f" ({s.tests_failed} still failing)" if s.tests_failed else ""))
    if commits:
        va.append(f"{_n(commits, 'commit')} in its window (+{git.lines_added}/-{git.lines_removed} lines)")
    if s.edits:
        va.append(f"{_n(s.edits, 'edit')} made")
    if va:
        if s.fast_tier_fired:
            va.append(f"fast tier fired on the way (a loop reached {s.loop_attempts_max} attempts)")
        elif s.loop_attempts_max >= 3:
            va.append(f"loop of {s.loop_attempts_max} attempts on the way")
        return Verdict("VA", "rules", va)

    if s.has_tool_signals:
        what = f"reads and research only ({_n(s.reads, 'read')}, no edits)" if s.reads \
            else f"no edits, tests or commits ({_n(calls, 'tool call')})"
        return Verdict("BVA", "rules", [what])
    missing = f"no tool signals recorded ({s.agent} sessions are not watched by the guard)" \
        if s.agent != "claude" else "no tool signals recorded (session not watched by the guard)"
    reasons = [missing]
    reasons.append("no commits in its window" if git is not None else "project is not a git repository")
    return Verdict("BVA", "rules", reasons)
