"""Cost accounting over the ledger: manual entries, budgets, features, subscriptions.

- entries.py       one line of a git-tracked ledger file (`token-roi log`): build, validate, append
- ledger.py        those files mirrored into the store's `calls` table, exactly once
- features.py      a call's feature and category: entry, `token-roi tag`, TOKEN_ROI_FEATURE, branch
- spend.py         the one query every accounting report reads: spend lines, fixed vs proportional
- subscriptions.py fixed cost: which usage a plan covers, its fee per period, break-even
- budget.py        month to date against the budget, projection, recommendation, exit code
- summary.py       spend by category/model/agent/feature for a period, summary.md
- feature_cost.py  one feature's cost: by agent, category, day
- export.py        flat rows for financial reporting (csv/json)
- suggestions.py   optimisation hints drawn from the data

Fixed cost (subscription fees) and proportional cost (per-call spend) are kept apart in every
result: usage an active subscription covers is reported as its menu-price value, not as spend.
"""
