"""The human-equivalent value of a session: who would have done the work, how long it would
have taken them, at what rate, and how usable the result was. Always a range.

Two sources, labelled in every report:
- 'model-estimate': the model judged its own session (`token-roi value set SESSION ...`).
- 'heuristic': everyone else, by this fixed formula (documented in the README):
    work hours  = changed lines / LINES_PER_HOUR   (git, inside the session's window)
                  or, without git lines, edit calls x HOURS_PER_EDIT  (edits stand in for files touched)
                + HOURS_PER_BUG x bugs fixed
                + HOURS_PER_TEST x tests passing (at most MAX_TEST_HOURS)
    when that is 0: active duration x RESEARCH_SHARE (at most MAX_RESEARCH_HOURS)
    hours mid   = work hours, kept within [MIN_HOURS, MAX_HOURS]; low = mid / 2; high = mid x 2
    role        = research-analyst for BVA, qa-engineer when tests passed without edits or lines,
                  else software-engineer
    quality     = VA with-edits (0.7), BVA draft-only (0.4), NVA failed (0.0; 'harmful' when its
                  commits were reverted later)
  rate = rates.hourly_rate(role, benchmark.region, benchmark.seniority); value = hours x rate x quality.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rates import QUALITY, Range, value_range

LINES_PER_HOUR = 60
HOURS_PER_EDIT = 0.1
HOURS_PER_BUG = 0.5
HOURS_PER_TEST = 0.01
MAX_TEST_HOURS = 2.0
RESEARCH_SHARE = 0.25
MAX_RESEARCH_HOURS = 2.0
MIN_HOURS = 0.1
MAX_HOURS = 40.0

# Quality labels a report can show; 'harmful' is the heuristic's name for failed work that was
# also undone (its factor is that of 'failed': value cannot go below zero here).
QUALITY_FACTORS = {**QUALITY, "harmful": 0.0}


@dataclass
class Estimate:
    source: str              # 'model-estimate' | 'heuristic'
    role: str
    hours: Range
    rate: Range
    quality: str
    basis: str               # how the hours were reached (no content)

    @property
    def factor(self) -> float:
        return QUALITY_FACTORS[self.quality]

    @property
    def value(self) -> Range:
        return value_range(self.hours, self.rate, self.factor)


def heuristic_hours(signals, git, duration_ms: int) -> tuple[float, str]:
    """(work hours mid, the basis in words) by the formula above."""
    lines = (git.lines_added + git.lines_removed) if git else 0
    parts = []
    if lines:
        hours = lines / LINES_PER_HOUR
        parts.append(f"{lines} changed lines / {LINES_PER_HOUR} per hour")
    else:
        hours = signals.edits * HOURS_PER_EDIT
        if signals.edits:
            parts.append(f"{signals.edits} edit{'' if signals.edits == 1 else 's'} x {HOURS_PER_EDIT} h")
    if signals.bugs_fixed:
        hours += signals.bugs_fixed * HOURS_PER_BUG
        parts.append(f"{signals.bugs_fixed} bug{'' if signals.bugs_fixed == 1 else 's'} fixed x {HOURS_PER_BUG} h")
    if signals.tests_passed:
        hours += min(MAX_TEST_HOURS, signals.tests_passed * HOURS_PER_TEST)
        parts.append(f"{signals.tests_passed} tests passing x {HOURS_PER_TEST} h")
    if hours == 0:
        active = duration_ms / 3_600_000
        hours = min(MAX_RESEARCH_HOURS, active * RESEARCH_SHARE)
        parts.append(f"{active:.2f} h active x {RESEARCH_SHARE}")
    mid = min(MAX_HOURS, max(MIN_HOURS, hours))
    if mid != hours:
        parts.append(f"kept within {MIN_HOURS}-{MAX_HOURS:g} h")
    return round(mid, 4), "; ".join(parts)


def heuristic(signals, git, category: str, duration_ms: int, rate_of, *, reverted: int = 0) -> Estimate:
    """rate_of(role) -> Range: the hourly rate for the configured region and seniority."""
    mid, basis = heuristic_hours(signals, git, duration_ms)
    lines = (git.lines_added + git.lines_removed) if git else 0
    if category == "BVA":
        role = "research-analyst"
    elif signals.tests_passed and not signals.edits and not lines:
        role = "qa-engineer"
    else:
        role = "software-engineer"
    quality = {"VA": "with-edits", "BVA": "draft-only"}.get(category, "harmful" if reverted else "failed")
    return Estimate("heuristic", role, Range(mid / 2, mid, mid * 2), rate_of(role), quality, basis)


def parse_triple(text: str, flag: str) -> Range:
    """'1,2,4' -> Range(1, 2, 4): three non-negative numbers, low <= mid <= high. A single number
    means the same low, mid and high. Raises ValueError with a one-line message."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 1:
        parts = parts * 3
    if len(parts) != 3:
        raise ValueError(f"{flag} {text!r}: expected three numbers low,mid,high (e.g. 1,2,4)")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected numbers low,mid,high (e.g. 1,2,4)") from None
    if any(n != n or n < 0 or n == float("inf") for n in nums):
        raise ValueError(f"{flag} {text!r}: numbers must be finite and not negative")
    if not nums[0] <= nums[1] <= nums[2]:
        raise ValueError(f"{flag} {text!r}: expected low <= mid <= high")
    return Range(*nums)
