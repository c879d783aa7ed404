"""A fixture ledger for the dashboard tests: realistic calls built with Store/UsageRow, priced by
the real pricing (genai-prices), with guard signals, a hand-set category, a subscription and a
budget in the settings. Deterministic (seeded); "today" is fixed at TODAY."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from token_roi import paths, pricing
from token_roi.rows import UsageRow
from token_roi.store import Store

TODAY = dt.date(2026, 11, 20)
TZ = ZoneInfo("UTC")
START = dt.date(2026, 10, 1)
UNPRICED_MODEL = "claude-nimbus-5-20261001"        # no price table knows it: must show as unpriced
# agent -> [(model, weight)]
MODELS = {
    "claude": [("claude-sonnet-4-5-20250929", 6), ("claude-opus-4-1-20250805", 2), ("claude-haiku-4-5-20251001", 2),
               (UNPRICED_MODEL, 1)],
    "codex": [("gpt-5", 1)],
    "gemini": [("gemini-2.5-pro", 1)],
}
PROJECTS = ["/home/dev/acme-api", "/home/dev/billing", "/home/dev/docs-site"]
CONFIG = """\
ai:
  cost_budget_monthly: 300
  cost_alert_threshold_percent: 80
subscriptions:
  - {plan: Claude Max 5x, agent: claude, monthly_fee: 100, start: 2026-09-01}
"""


def build(store_path=None, *, seed: int = 7) -> dict:
    """Write the ledger (and settings) into TOKEN_ROI_HOME; returns facts the tests check against."""
    rnd = random.Random(seed)
    rows: list[UsageRow] = []
    sessions: list[tuple[str, str, str]] = []
    day = START
    n = 0
    while day <= TODAY:
        for s in range(rnd.randint(1, 3)):
            agent = rnd.choices(["claude", "codex", "gemini"], [6, 2, 1])[0]
            project = rnd.choice(PROJECTS)
            sid = f"{agent[:2]}-{day:%m%d}-{s}-{rnd.randrange(16**6):06x}"
            sessions.append((agent, sid, project))
            t = dt.datetime(day.year, day.month, day.day, rnd.randint(8, 19), rnd.randint(0, 59), tzinfo=TZ)
            models, weights = zip(*MODELS[agent])
            for _ in range(rnd.randint(4, 30)):
                n += 1
                t += dt.timedelta(seconds=rnd.randint(5, 240))
                model = rnd.choices(models, weights)[0]
                inp = rnd.randint(10, 3000)
                cached = agent == "claude" or rnd.random() < 0.5
                rows.append(UsageRow(
                    agent=agent, dedupe_key=f"{agent}-{n}", ts=int(t.timestamp() * 1000), session_id=sid,
                    project=project, model=model, input_tokens=inp, output_tokens=rnd.randint(50, 4000),
                    reasoning_tokens=rnd.randint(0, 2000) if agent == "codex" else 0,
                    cache_read_tokens=rnd.randint(5000, 120000) if cached else 0,
                    cache_write_5m_tokens=rnd.randint(0, 8000) if agent == "claude" else 0,
                    cache_write_1h_tokens=rnd.randint(0, 3000) if agent == "claude" and rnd.random() < 0.3 else 0,
                    git_branch="main"))
        day += dt.timedelta(days=1)
    config_dir = paths.config_dir()
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.yaml").write_text(CONFIG, encoding="utf-8")
    store = Store(store_path)
    try:
        with store.transaction():
            store.upsert_calls(rows)
        pricing.reprice(store)
        from token_roi.value import records, signals
        loop_agent, loop_sid, _ = next(s for s in sessions if s[0] == "claude")
        with store.transaction():
            signals.save(store.db, signals.Signals(
                loop_agent, loop_sid, "guard", tool_calls={"Bash": 14, "Edit": 6, "Read": 9},
                failures_by_tool={"Bash": 5}, loop_attempts_max=4, loop_attempts_total=7, tests_passed=12,
                tests_failed=1, edits=6, reads=9))
        nva_agent, nva_sid, _ = sessions[-1]
        records.set_category(store, nva_agent, nva_sid, "NVA", "re-ran the same failing migration")
    finally:
        store.close()
    return {"calls": len(rows), "sessions": sessions, "loop_session": (loop_agent, loop_sid),
            "nva_session": (nva_agent, nva_sid)}
