"""The one query every accounting report reads: spend lines, each booked to a day, agent, model,
origin (auto/manual), category, feature and session, and marked covered when a subscription
pays for it. SQL does the sums (per 15-minute UTC bucket, as reports/query.py does, so local
days are exact in any zone); Python resolves features and coverage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ..reports.query import BUCKET_MS, UNKNOWN_MODEL, Filters, where_clause
from .features import Resolver
from .subscriptions import BreakEven, Subscription, break_even, covering, month_bounds

# A cost a person typed on a ledger entry is that entry's cost (ledger.pin_given_costs also
# writes it to `cost` for every other report; this keeps accounting right even before that).
COST_SQL = "CASE WHEN origin = 'manual' AND recorded_cost IS NOT NULL THEN recorded_cost ELSE cost END"


@dataclass
class Line:
    day: dt.date
    agent: str
    model: str
    origin: str                  # 'auto' | 'manual'
    category: str
    feature: str | None
    session_id: str | None
    calls: int
    input_tokens: int            # uncached input
    output_tokens: int           # output + reasoning (billed at the output rate)
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float                  # USD of the priced calls
    unpriced_calls: int
    covered_by: str | None = None   # plan name when a subscription covers this usage

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def proportional(self) -> float:
        """Per-call spend: what this usage costs at menu price when no plan covers it."""
        return 0.0 if self.covered_by else self.cost

    @property
    def covered_value(self) -> float:
        """Menu-price value of usage a flat-fee plan already paid for (not spend)."""
        return self.cost if self.covered_by else 0.0


@dataclass
class Totals:
    calls: int = 0
    entries: int = 0             # manual ledger entries among the calls
    tokens: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    proportional: float = 0.0
    covered_value: float = 0.0
    unpriced_calls: int = 0
    unpriced_models: list[str] = field(default_factory=list)
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    @property
    def value(self) -> float:
        """Menu-price value of all the usage, covered or not."""
        return self.proportional + self.covered_value

    def add(self, line: Line) -> None:
        self.calls += line.calls
        if line.origin == "manual":
            self.entries += line.calls
        self.tokens += line.tokens
        self.input_tokens += line.input_tokens
        self.output_tokens += line.output_tokens
        self.cache_read_tokens += line.cache_read_tokens
        self.cache_write_tokens += line.cache_write_tokens
        self.proportional += line.proportional
        self.covered_value += line.covered_value
        self.unpriced_calls += line.unpriced_calls
        if line.unpriced_calls and line.model not in self.unpriced_models:
            self.unpriced_models.append(line.model)
        if self.first_day is None or line.day < self.first_day:
            self.first_day = line.day
        if self.last_day is None or line.day > self.last_day:
            self.last_day = line.day

    def as_json(self) -> dict:
        return {
            "calls": self.calls, "manualEntries": self.entries, "totalTokens": self.tokens,
            "inputTokens": self.input_tokens, "outputTokens": self.output_tokens,
            "cacheReadTokens": self.cache_read_tokens, "cacheCreationTokens": self.cache_write_tokens,
            "proportionalCost": round(self.proportional, 6), "coveredValue": round(self.covered_value, 6),
            "unpricedCalls": self.unpriced_calls, "unpricedModels": list(self.unpriced_models),
        }


def cost_text(amount: float, t: Totals) -> str:
    """$1.23, '*' when some calls have no price (a lower bound), 'n/a*' when none has: an unknown
    price is never shown as $0 (the reports' convention)."""
    if t.calls and t.unpriced_calls == t.calls:
        return "n/a*"
    return f"${amount:,.2f}" + ("*" if t.unpriced_calls else "")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def total(lines: Iterable[Line]) -> Totals:
    t = Totals()
    for line in lines:
        t.add(line)
    return t


def group(lines: Iterable[Line], key: Callable[[Line], object]) -> dict:
    """key -> Totals, costliest (proportional + covered value) first."""
    out: dict = {}
    for line in lines:
        out.setdefault(key(line), Totals()).add(line)
    return dict(sorted(out.items(), key=lambda kv: (-kv[1].value, -kv[1].calls, str(kv[0]))))


def spend_lines(store, *, filters: Filters = Filters(), tz: dt.tzinfo = dt.timezone.utc,
                branch_pattern: str | None = None,
                subscriptions: Sequence[Subscription] = ()) -> list[Line]:
    where, params = where_clause(filters, tz)
    sql = (
        f"SELECT ts / {BUCKET_MS}, agent, model, origin, category, feature, session_id, git_branch, "
        "COUNT(*), SUM(input_tokens), SUM(output_tokens + reasoning_tokens), SUM(cache_read_tokens), "
        f"SUM(cache_write_5m_tokens + cache_write_1h_tokens), TOTAL({COST_SQL}), SUM(({COST_SQL}) IS NULL) "
        f"FROM calls{where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8")
    resolve = Resolver(store, branch_pattern)
    day_of: dict[int, dt.date] = {}
    # A bucket's rows repeat the same few sessions, branches and plans: each is worked out once
    # (both are fixed for the query: the session tags read once, the subscriptions given).
    booked: dict[tuple, tuple] = {}
    plan_of: dict[tuple, str | None] = {}
    merged: dict[tuple, Line] = {}
    for r in store.db.execute(sql, params):
        day = day_of.get(r[0])
        if day is None:
            day = day_of[r[0]] = dt.datetime.fromtimestamp(r[0] * BUCKET_MS / 1000, tz).date()
        agent, model, origin = r[1], r[2] or UNKNOWN_MODEL, r[3] or "auto"
        k = (agent, r[6], r[7], r[5], r[4])
        fc = booked.get(k)
        if fc is None:
            fc = booked[k] = resolve(*k)
        feature, category = fc
        plan = None
        if origin == "auto":
            plan_key = (agent, day)
            if plan_key in plan_of:
                plan = plan_of[plan_key]
            else:
                plan = plan_of[plan_key] = covering(subscriptions, agent, day)
        key = (day, agent, model, origin, category, feature, r[6], plan)
        line = merged.get(key)
        if line is None:
            merged[key] = Line(day, agent, model, origin, category, feature, r[6], r[8], r[9], r[10], r[11],
                               r[12], r[13], r[14], plan)
        else:
            line.calls += r[8]
            line.input_tokens += r[9]
            line.output_tokens += r[10]
            line.cache_read_tokens += r[11]
            line.cache_write_tokens += r[12]
            line.cost += r[13]
            line.unpriced_calls += r[14]
    return sorted(merged.values(), key=lambda l: (l.day, l.agent, l.model))


def judge(lines: Iterable[Line], subs: list[Subscription], as_of: dt.date) -> list[BreakEven]:
    """BreakEven for each plan active in the month of `as_of` (what `token-roi subscriptions`
    and the dashboard show)."""
    lines = list(lines)
    m_first, m_last = month_bounds(as_of)
    out = []
    for sub in subs:
        if not sub.active_in(m_first, m_last):
            continue
        daily: dict[dt.date, float] = {}
        unpriced = 0
        for line in lines:
            if line.covered_by == sub.plan and line.agent == sub.agent and m_first <= line.day <= as_of:
                daily[line.day] = daily.get(line.day, 0.0) + line.cost
                unpriced += line.unpriced_calls
        out.append(break_even(sub, daily, as_of, unpriced))
    return out
