"""Default settings, the built-in categories, the stage budget ranges and the `config init`
template. Key names follow the `company.config.yaml` solo founders already keep."""

from __future__ import annotations

BUILTIN_CATEGORIES = ("ship-flow", "agent-session", "research", "ad-hoc")

# Suggested monthly AI budget (USD) by company stage, shown when no budget is set.
STAGE_BUDGETS: dict[str, tuple[float, float | None]] = {
    "idea": (25, 50),
    "mvp": (50, 200),
    "growth": (200, 1000),
    "scale": (1000, None),
}

DEFAULTS: dict = {
    "ai": {
        "cost_budget_monthly": None,
        "cost_tracking_enabled": True,
        "cost_alert_threshold_percent": 80,
    },
    "company": {"stage": None},
    "guard": {
        "warn_at_attempt": 3,
        "max_fix_attempts": 5,
        "max_loop_tokens": 50000,
        "session_budget_usd": None,
        "daily_budget_usd": None,
        "hard_cap": False,
        "quota_alert_percent": 80,
        "quota_cap_percent": None,
    },
    "alerts": {"webhook_url": None, "desktop": False, "limit_percent": [80, 95], "budget_percent": [80, 100]},
    "subscriptions": [],
    "benchmark": {"region": "us-west", "seniority": "senior"},
    "ledger": {"path": "cogs/ai-ledger/entries.jsonl"},
    "categories": list(BUILTIN_CATEGORIES),
    "feature": {"branch_pattern": None},
    "variance": {"threshold_percent": 20},
    "team": {"url": None, "member": None, "project_names": "hashed", "auto_sync": False},
}

# Keys of our own sections, for `config check` to point out likely typos (not an error: a
# company.config.yaml may carry keys of its own).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    section: tuple(value) for section, value in DEFAULTS.items() if isinstance(value, dict)
}

TEMPLATE = """\
# token-roi settings. Every key is optional; `token-roi config show` prints what is in effect.
# A founder's company.config.yaml with other sections works too: point --config or
# TOKEN_ROI_CONFIG at it.

ai:
  cost_budget_monthly: 100          # USD per calendar month; empty = no budget
  cost_tracking_enabled: true
  cost_alert_threshold_percent: 80  # `token-roi budget` exits 10 past this, 11 past the budget

company:
  stage: mvp                        # idea | mvp | growth | scale (suggests a budget when none is set)

guard:                              # the Claude Code hooks
  warn_at_attempt: 3
  max_fix_attempts: 5
  max_loop_tokens: 50000
  session_budget_usd:               # empty = no cap
  daily_budget_usd:
  hard_cap: false                   # true = block when a cap is hit, false = warn only
  quota_alert_percent: 80           # note to Claude past this use of a 5-hour / 7-day plan window
  quota_cap_percent:                # with hard_cap: deny tool calls past this use (empty = none)

alerts:                             # optional: once per threshold crossing (docs/limits.md)
  webhook_url:                      # JSON POST: what crossed and its figures, never content
  desktop: false                    # notify-send, where there is one
  limit_percent: [80, 95]           # plan windows
  budget_percent: [80, 100]         # guard.daily_budget_usd and ai.cost_budget_monthly

# Fixed cost: flat-fee plans. Usage by that agent while a plan is active counts as covered.
subscriptions: []
#  - plan: Claude Max 5x
#    agent: claude
#    monthly_fee: 100
#    start: 2026-01-01
#    end:                           # empty = still active

benchmark:                          # the human rate usage is compared against
  region: us-west
  seniority: senior

ledger:
  path: cogs/ai-ledger/entries.jsonl  # manual entries (`token-roi log`), relative to the project

categories: []                      # added to ship-flow, agent-session, research, ad-hoc

feature:
  branch_pattern:                   # e.g. 'PRD-\\d+': a branch named PRD-12-login books to PRD-12

variance:
  threshold_percent: 20

team:                               # the team store on PostgreSQL (docs/team.md)
  url:                              # a libpq DSN (or TOKEN_ROI_TEAM_URL),
                                    # e.g. postgresql://alice@db.example.com/tokenroi
  member:                           # empty = the database user
  project_names: hashed             # hashed | plain: project paths leave the machine only as a hash
  auto_sync: false                  # true = the Stop hook pushes in the background
"""
