"""Flat rows for financial reporting: one row per call (automatic or manual) and one per
subscription per month, each with its cost type — proportional, covered (menu-price value a plan
paid for, not spend) or fixed — so a spreadsheet can keep them apart."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from collections.abc import Iterator

from ..reports.query import Filters, where_clause
from .features import Resolver
from .spend import COST_SQL
from .subscriptions import covering, fixed_cost, month_bounds

FIELDS = ("date", "time_utc", "kind", "cost_type", "agent", "model", "origin", "category", "feature",
          "session_id", "project", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
          "cost_usd", "price_source", "plan", "notes")


def call_rows(store, filters: Filters, tz: dt.tzinfo, branch_pattern: str | None, subs) -> Iterator[dict]:
    where, params = where_clause(filters, tz)
    resolve = Resolver(store, branch_pattern)
    cur = store.db.cursor()
    cur.row_factory = sqlite3.Row
    sql = (f"SELECT ts, agent, model, origin, category, feature, session_id, git_branch, project, input_tokens, "
           "output_tokens + reasoning_tokens AS output, cache_read_tokens, "
           "cache_write_5m_tokens + cache_write_1h_tokens AS cache_write, "
           f"{COST_SQL} AS usd, price_source, notes FROM calls{where} ORDER BY ts, id")
    for r in cur.execute(sql, params):
        when = dt.datetime.fromtimestamp(r["ts"] / 1000, dt.timezone.utc)
        day = when.astimezone(tz).date()
        feature, category = resolve(r["agent"], r["session_id"], r["git_branch"], r["feature"], r["category"])
        origin = r["origin"] or "auto"
        plan = covering(subs, r["agent"], day) if origin == "auto" else None
        yield {
            "date": day.isoformat(), "time_utc": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "kind": "usage", "cost_type": "covered" if plan else "proportional",
            "agent": r["agent"], "model": r["model"], "origin": origin, "category": category,
            "feature": feature, "session_id": r["session_id"], "project": r["project"],
            "input_tokens": r["input_tokens"], "output_tokens": r["output"],
            "cache_read_tokens": r["cache_read_tokens"], "cache_write_tokens": r["cache_write"],
            "cost_usd": r["usd"],
            "price_source": "ledger" if origin == "manual" and r["price_source"] is None and r["usd"] is not None
            else (r["price_source"] or ("unpriced" if r["usd"] is None else None)),
            "plan": plan, "notes": r["notes"],
        }


def fee_rows(subs, first: dt.date, last: dt.date) -> list[dict]:
    """Each plan's fee share per calendar month within first..last (see subscriptions.fixed_cost)."""
    out = []
    month = first.replace(day=1)
    while month <= last:
        m_first, m_last = month_bounds(month)
        lo, hi = max(first, m_first), min(last, m_last)
        for s in subs:
            if s.active_in(m_first, m_last):
                out.append({**dict.fromkeys(FIELDS), "date": lo.isoformat(), "kind": "subscription",
                            "cost_type": "fixed", "agent": s.agent, "cost_usd": round(fixed_cost(s, lo, hi), 6),
                            "plan": s.plan,
                            "notes": f"monthly fee {s.monthly_fee:.2f}" + (
                                f", {(hi - lo).days + 1}/{m_last.day} days" if (lo, hi) != (m_first, m_last) else "")})
        month = m_last + dt.timedelta(days=1)
    return out


def to_csv(rows) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r[k]) for k in FIELDS})
    return buf.getvalue()


def totals(rows: list[dict]) -> dict:
    out = {"proportional": 0.0, "covered": 0.0, "fixed": 0.0, "unpricedCalls": 0, "calls": 0, "manualEntries": 0}
    for r in rows:
        if r["kind"] == "usage":
            out["calls"] += 1
            out["manualEntries"] += r["origin"] == "manual"
        if r["cost_usd"] is None:
            out["unpricedCalls"] += 1
        else:
            out[r["cost_type"]] += r["cost_usd"]
    out["spend"] = out["proportional"] + out["fixed"]
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in out.items()}
