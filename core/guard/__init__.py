"""The Claude Code guard: per-session state, loop detection, budgets and outcomes.

Everything here runs inside Claude Code hooks, often several at once, before anything is
pip-installed: standard library only, nothing heavy imported at module level, only new transcript
bytes read. Modules:
- state.py     the per-session JSON file: path, lock, atomic write, expiry
- settings.py  limits (env, then the config file once per session, then defaults)
- usage.py     session tokens and cost from the transcript, read incrementally
- loops.py     loop attempts per tool
- outcomes.py  test runner summaries -> tests passed, bugs fixed
- budget.py    session/daily budget alerts and the opt-in hard cap
- messages.py  every text the guard shows Claude or the user
- hook.py      one function per hook event, called by hooks/token_budget_guard.py
"""
