"""A month of mixed automatic usage and manual ledger entries, every figure checked by hand.

September 2026 (30 days), judged as of 2026-09-20 (day 20), time zone UTC. Rates (USD per
million tokens, genai-prices): claude-sonnet-4-5 3 in / 15 out, gpt-5 1.25 in / 10 out.

Automatic usage (inserted as UsageRows, priced by pricing.reprice):
- claude, sonnet-4-5, Sep 1..10, 5 calls a day of 100k input + 10k output:
  0.1M × 3 + 0.01M × 15 = 0.30 + 0.15 = $0.45 a call, $2.25 a day -> $22.50 (Sep 1..10)
  one more call Sep 25: $0.45 (after the as-of day). Session cc-DD, branch main.
  Covered by the "Claude Pro" plan ($20/month, agent claude, since 2026-08-01).
- codex, gpt-5, Sep 2..11, 1 call a day of 100k input + 10k output:
  0.1 × 1.25 + 0.01 × 10 = 0.125 + 0.10 = $0.225 a day -> $2.25; branch feature/PRD-8-export.
- codex, acme-internal-1 (no price), Sep 12: 50k + 5k tokens: unpriced, tokens counted.
- codex, gpt-5, Aug 20: $0.225 (previous month, never in September's figures).
Manual entries (tests/fixtures/accounting/entries.jsonl):
- Sep 3  chatgpt gpt-4o research PRD-7, typed cost $12.00
- Sep 5  claude sonnet-4-5 ship-flow PRD-7, from the price table: $0.45 (manual: never covered)
- Sep 15 cursor ship-flow PRD-8, typed cost $8.00
- Sep 22 chatgpt ad-hoc, typed cost $50.00 (after the as-of day)
Subscriptions: Claude Pro $20 (claude, since 2026-08-01) and Cursor Pro $20 (cursor, since
2026-06-01): fixed $40 in September. The cursor entry is manual, so Cursor Pro covers nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest

from token_roi.cli import main
from token_roi.rows import UsageRow
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "accounting"
H = 3_600_000


def ms(y, m, d, hour=12) -> int:
    return int(dt.datetime(y, m, d, hour, tzinfo=dt.timezone.utc).timestamp() * 1000)


def automatic_rows() -> list[UsageRow]:
    rows = []
    for day in range(1, 11):
        for i in range(5):
            rows.append(UsageRow("claude", f"msg_{day:02d}_{i}", ms(2026, 9, day) + i * 60_000, f"cc-{day:02d}",
                                 "/home/dev/acme", "claude-sonnet-4-5", input_tokens=100_000, output_tokens=10_000,
                                 git_branch="main"))
    rows.append(UsageRow("claude", "msg_25_0", ms(2026, 9, 25), "cc-25", "/home/dev/acme", "claude-sonnet-4-5",
                         input_tokens=100_000, output_tokens=10_000, git_branch="main"))
    for day in range(2, 12):
        rows.append(UsageRow("codex", f"resp_{day:02d}", ms(2026, 9, day, 15), f"cx-{day:02d}", "/home/dev/acme",
                             "gpt-5", input_tokens=100_000, output_tokens=10_000, git_branch="feature/PRD-8-export"))
    rows.append(UsageRow("codex", "resp_12", ms(2026, 9, 12, 15), "cx-12", "/home/dev/acme", "acme-internal-1",
                         input_tokens=50_000, output_tokens=5_000, git_branch="main"))
    rows.append(UsageRow("codex", "resp_aug", ms(2026, 8, 20, 15), "cx-aug", "/home/dev/acme", "gpt-5",
                         input_tokens=100_000, output_tokens=10_000, git_branch="main"))
    return rows


CONFIG = """\
ai:
  cost_budget_monthly: {budget}
  cost_alert_threshold_percent: 80
company:
  stage: mvp
subscriptions:
  - plan: Claude Pro
    agent: claude
    monthly_fee: 20
    start: 2026-08-01
  - plan: Cursor Pro
    agent: cursor
    monthly_fee: 20
    start: 2026-06-01
feature:
  branch_pattern: 'PRD-\\d+'
"""


@pytest.fixture
def month(tmp_path, monkeypatch):
    project = tmp_path / "acme"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    ledger_dir = project / "cogs" / "ai-ledger"
    ledger_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "entries.jsonl", ledger_dir / "entries.jsonl")
    monkeypatch.chdir(project)
    store = Store()
    with store.transaction():
        store.upsert_calls(automatic_rows())
    store.close()

    def configure(budget: float) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(CONFIG.format(budget=budget))
        monkeypatch.setenv("TOKEN_ROI_CONFIG", str(path))
        return path

    configure(100)
    return type("Month", (), {"project": project, "ledger_dir": ledger_dir, "configure": staticmethod(configure)})


def run_json(capsys, *argv) -> tuple[int, dict]:
    capsys.readouterr()
    code = main([*argv, "--json", "-z", "UTC"])
    return code, json.loads(capsys.readouterr().out)


def test_budget_month_to_date_and_projection(month, capsys):
    code, b = run_json(capsys, "budget", "--as-of", "2026-09-20")
    # proportional = codex 10 × 0.225 + manual 12.00 + 0.45 + 8.00 = 2.25 + 20.45 = 22.70
    assert b["proportionalCost"] == pytest.approx(22.70)
    assert b["manualCost"] == pytest.approx(20.45)
    # fixed = Claude Pro 20 + Cursor Pro 20
    assert b["fixedCost"] == pytest.approx(40.0)
    # covered value = claude 10 days × 2.25 (Sep 25 call is after the as-of day)
    assert b["coveredValue"] == pytest.approx(22.50)
    # spent = 22.70 + 40 = 62.70 of 100 -> 62.7 %, under the 80 % threshold
    assert b["spent"] == pytest.approx(62.70)
    assert b["percentUsed"] == pytest.approx(62.7)
    # daily average 22.70 / 20 = 1.135; × 30 days = 34.05; + fixed 40 = 74.05
    assert b["dailyAverage"] == pytest.approx(1.135)
    assert b["projectedProportional"] == pytest.approx(34.05)
    assert b["projected"] == pytest.approx(74.05)
    assert (b["status"], b["colour"], b["recommendation"], code) == ("healthy", "green", "stay the course", 0)
    assert b["unpricedCalls"] == 1 and b["unpricedModels"] == ["acme-internal-1"]
    # research 12.00 > ship-flow 0.45 + 8.00 = 8.45 this month
    rules = {s["rule"]: s for s in b["suggestions"]}
    assert rules["research-over-shipping"]["amount"] == pytest.approx(12.00 - 8.45)


def test_budget_alert_and_over_exit_codes(month, capsys):
    month.configure(70)
    code, b = run_json(capsys, "budget", "--as-of", "2026-09-20")
    # 62.70 / 70 = 89.57 % >= 80 -> alert, exit 10; projected 74.05 > 70 (<= 1.5 × 70) -> reduce usage
    assert (code, b["status"], b["colour"], b["recommendation"]) == (10, "alert", "yellow", "reduce usage")
    assert b["percentUsed"] == pytest.approx(89.57, abs=0.01)
    # room left 70 - 62.70 = 7.30 over the 10 days left -> $0.73/day
    assert "$0.73/day for the 10 days left" in b["advice"]

    month.configure(60)
    code, b = run_json(capsys, "budget", "--as-of", "2026-09-20")
    # 62.70 > 60 -> over, exit 11; raise the budget to ~ projected 74.05 rounded up to $80
    assert (code, b["status"], b["colour"], b["recommendation"]) == (11, "over", "red", "increase budget")
    assert "about $80" in b["advice"]


def test_budget_text_output(month, capsys):
    capsys.readouterr()
    assert main(["budget", "--as-of", "2026-09-20", "-z", "UTC"]) == 0
    out = capsys.readouterr().out
    assert "$62.70 / $100.00 (62.7%)" in out
    assert "$74.05 by month end (74.0" in out        # 74.05 % (74.0499… in binary floating point)
    assert "\x1b[" not in out                       # not a terminal: no colour


def test_subscriptions_break_even(month, capsys):
    code, s = run_json(capsys, "subscriptions", "--as-of", "2026-09-20")
    assert code == 0
    plans = {p["plan"]: p for p in s["subscriptions"]}
    pro = plans["Claude Pro"]
    # covered value 22.50 against the $20 fee -> 112.5 %; reached on Sep 9 (9 × 2.25 = 20.25 >= 20,
    # Sep 8: 18.00); projected 22.50 / 20 days × 30 = 33.75 = 1.69 × fee -> keep
    assert pro["coveredValue"] == pytest.approx(22.50)
    assert pro["breakEvenPercent"] == pytest.approx(112.5)
    assert pro["breakEvenDay"] == "2026-09-09"
    assert pro["projectedValue"] == pytest.approx(33.75)
    assert pro["hint"] == "keep"
    cursor = plans["Cursor Pro"]
    # the cursor usage is a manual entry (logged as spend), so the plan covered nothing -> cancel
    assert cursor["coveredValue"] == 0 and cursor["hint"] == "cancel"
    assert s["fixedCost"] == pytest.approx(40.0)
    assert s["proportionalCost"] == pytest.approx(22.70)
    pay = {a["agent"]: a["proportionalCost"] for a in s["payPerUseByAgent"]}
    assert pay == pytest.approx({"chatgpt": 12.0, "cursor": 8.0, "codex": 2.25, "claude": 0.45})


def test_subscription_upgrade_hint(month, capsys, tmp_path):
    # Claude Pro at $5: projected 33.75 = 6.75 × the fee (>= 3×) -> upgrade
    path = month.configure(100)
    path.write_text(path.read_text().replace("monthly_fee: 20\n    start: 2026-08-01",
                                             "monthly_fee: 5\n    start: 2026-08-01"))
    code, s = run_json(capsys, "subscriptions", "--as-of", "2026-09-20")
    pro = {p["plan"]: p for p in s["subscriptions"]}["Claude Pro"]
    assert pro["hint"] == "upgrade" and pro["breakEvenDay"] == "2026-09-03"   # 3 × 2.25 = 6.75 >= 5


def test_summary_whole_month_and_summary_md(month, capsys):
    code, s = run_json(capsys, "summary", "--period", "monthly", "--date", "2026-09-20")
    t = s["totals"]
    # proportional: 22.70 (to the 20th) + Sep 22 entry 50.00 = 72.70
    assert t["proportionalCost"] == pytest.approx(72.70)
    assert t["manualCost"] == pytest.approx(70.45)             # 12 + 0.45 + 8 + 50
    assert t["coveredValue"] == pytest.approx(22.95)           # 22.50 + the Sep 25 call 0.45
    assert t["fixedCost"] == pytest.approx(40.0)
    assert t["spend"] == pytest.approx(112.70)                 # 72.70 + 40
    assert t["calls"] == 51 + 11 + 4 and t["manualEntries"] == 4
    cats = {c["category"]: c for c in s["byCategory"]}
    assert cats["research"]["proportionalCost"] == pytest.approx(12.0)
    assert cats["ship-flow"]["proportionalCost"] == pytest.approx(8.45)
    assert cats["ad-hoc"]["proportionalCost"] == pytest.approx(50.0)
    assert cats["agent-session"]["proportionalCost"] == pytest.approx(2.25)     # codex, gpt-5
    assert cats["agent-session"]["coveredValue"] == pytest.approx(22.95)
    assert cats["agent-session"]["unpricedCalls"] == 1
    agents = {a["agent"]: a for a in s["byAgent"]}
    assert agents["claude"]["calls"] == 52 and agents["claude"]["manualEntries"] == 1
    feats = {f["feature"]: f for f in s["byFeature"]}
    # PRD-8: codex branch feature/PRD-8-export 2.25 + cursor entry 8.00
    assert feats["PRD-8"]["proportionalCost"] == pytest.approx(10.25)
    assert feats["PRD-7"]["proportionalCost"] == pytest.approx(12.45)
    md = (month.ledger_dir / "summary.md").read_text()
    assert s["summaryFile"] == str(month.ledger_dir / "summary.md")
    assert "| **Spend** | **$112.70** |" in md
    assert "| Fixed (subscription fees) | $40.00 |" in md
    assert "| Covered by subscriptions (menu-price value, not spend) | $22.95 |" in md
    assert "| PRD-8 | 11 | 1 | " in md


def test_summary_weekly_prorates_fixed_cost(month, capsys):
    code, s = run_json(capsys, "summary", "--period", "weekly", "--date", "2026-09-09")
    # ISO week Mon Sep 7 .. Sun Sep 13: fixed = 2 plans × 20 × 7/30 = 9.3333
    assert (s["since"], s["until"]) == ("2026-09-07", "2026-09-13")
    assert s["totals"]["fixedCost"] == pytest.approx(40 * 7 / 30)
    # codex gpt-5 Sep 7..11 = 5 × 0.225 = 1.125; claude Sep 7..10 covered 4 × 2.25 = 9.00
    assert s["totals"]["proportionalCost"] == pytest.approx(1.125)
    assert s["totals"]["coveredValue"] == pytest.approx(9.0)


def test_feature_cost_combines_entries_tags_and_branches(month, capsys):
    capsys.readouterr()
    assert main(["tag", "PRD-7", "--session", "cc-03"]) == 0
    assert "tagged claude session cc-03" in capsys.readouterr().out
    code, f = run_json(capsys, "feature-cost", "prd-7")
    # manual 12.00 (chatgpt) + 0.45 (claude entry); tagged session cc-03: 5 covered calls worth 2.25
    assert f["feature"] == "PRD-7"
    assert f["totals"]["proportionalCost"] == pytest.approx(12.45)
    assert f["totals"]["coveredValue"] == pytest.approx(2.25)
    assert f["totals"]["calls"] == 7 and f["totals"]["manualEntries"] == 2
    by_cat = {c["category"]: c["proportionalCost"] for c in f["byCategory"]}
    assert by_cat == pytest.approx({"research": 12.0, "ship-flow": 0.45, "agent-session": 0.0})
    assert [d["date"] for d in f["timeline"]] == ["2026-09-03", "2026-09-05"]
    code, f = run_json(capsys, "feature-cost", "PRD-8")
    assert f["totals"]["proportionalCost"] == pytest.approx(10.25)    # 10 × 0.225 + 8.00
    assert {a["agent"] for a in f["byAgent"]} == {"codex", "cursor"}


def test_export_keeps_cost_types_apart(month, capsys):
    capsys.readouterr()
    assert main(["export", "--format", "json", "--since", "2026-09-01", "--until", "2026-09-30", "-z", "UTC"]) == 0
    data = json.loads(capsys.readouterr().out)
    t = data["totals"]
    assert t["proportional"] == pytest.approx(72.70)
    assert t["covered"] == pytest.approx(22.95)
    assert t["fixed"] == pytest.approx(40.0)
    assert t["spend"] == pytest.approx(112.70)
    assert (t["calls"], t["manualEntries"], t["unpricedCalls"]) == (66, 4, 1)
    fees = [r for r in data["rows"] if r["kind"] == "subscription"]
    assert sorted((r["plan"], r["cost_usd"]) for r in fees) == [("Claude Pro", 20.0), ("Cursor Pro", 20.0)]
    assert main(["export", "--since", "2026-09-01", "--until", "2026-09-30", "-z", "UTC"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 66 + 2
    entry = next(r for r in rows if r["origin"] == "manual" and r["agent"] == "cursor")
    assert (entry["cost_usd"], entry["cost_type"], entry["feature"], entry["date"]) == (
        "8.0", "proportional", "PRD-8", "2026-09-15")
    unpriced = next(r for r in rows if r["model"] == "acme-internal-1")
    assert unpriced["cost_usd"] == "" and unpriced["price_source"] == "unpriced"


def test_daily_report_shows_manual_entries_beside_automatic(month, capsys):
    capsys.readouterr()
    assert main(["daily", "--json", "-z", "UTC", "--since", "2026-09-03", "--until", "2026-09-03"]) == 0
    day = json.loads(capsys.readouterr().out)["daily"][0]
    # Sep 3: claude 2.25 + codex 0.225 + the chatgpt entry's typed $12.00 (not gpt-4o's menu price)
    assert day["totalCost"] == pytest.approx(14.475)
    assert "gpt-4o" in day["modelsUsed"]
