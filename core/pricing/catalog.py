"""Prices from genai-prices (imported lazily: ~0.2 s), turned into our `Rates` and schedules.

A model's prices can change over time (a price cut on a date; off-peak hours), so a model maps
to a *schedule*: branches `(when, Rates)` tried in order, the first whose condition holds for
the call's timestamp wins, and the last is unconditional. This mirrors genai-prices'
`ModelInfo.get_prices` (conditional prices tried last to first, else the first one), and the
bulk re-price turns each branch into one UPDATE with the same condition in SQL.

A condition is None (always), ("since", epoch_ms), ("daily", start_ms, end_ms) where the
times are milliseconds into the UTC day and end < start wraps past midnight, or
("all", cond, cond, ...) when several must hold.

Fast mode: genai-prices states it as price variants (`when: {speed: fast}`) whose prices
override the standard card key by key, resolved first to last, each with its own optional time
constraint. Each branch's Rates carries the resolved card as `fast` (None where no variant
applies, so fast calls there are unpriced).
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from copy import copy
from datetime import datetime, timezone
from importlib.util import find_spec
from typing import Any

from .rates import Rates, fill_missing, is_claude

DAY_MS = 86_400_000


class Unavailable(Exception):
    """genai-prices is not importable here."""


_import_failed = False


def _genai():
    global _import_failed
    try:
        import genai_prices  # noqa: F401
        from genai_prices import data_snapshot, types
    except ImportError as exc:
        _import_failed = True
        raise Unavailable(str(exc)) from None
    return data_snapshot, types


def prepare() -> None:
    """Import genai-prices and load its snapshot now (~0.2 s), e.g. while other processes parse,
    so that pricing later does not wait for it. Nothing happens where it cannot be imported."""
    try:
        data_snapshot, _ = _genai()
        data_snapshot.get_snapshot()
    except Unavailable:
        pass


def genai_present() -> bool:
    """Whether genai-prices is there to import, answered without importing it (~0.2 s, which a
    report with nothing to price should not pay). An import that already failed in this process
    says no; an installed copy that would fail to import says yes until something imports it
    (reprice() then takes the version again)."""
    if "genai_prices" in sys.modules:
        return sys.modules["genai_prices"] is not None
    if _import_failed:
        return False
    try:
        return find_spec("genai_prices") is not None
    except (ImportError, ValueError):
        return False


def genai_version() -> str | None:
    """The installed genai-prices' version. Read from the METADATA beside the package when there is
    exactly one (importing importlib.metadata and scanning sys.path costs ~20 ms per report), else
    from importlib.metadata."""
    try:
        spec = find_spec("genai_prices")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        try:
            found = [n for n in os.listdir(site) if n.startswith("genai_prices-") and n.endswith(".dist-info")]
            if len(found) == 1:
                with open(os.path.join(site, found[0], "METADATA"), encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Version:"):
                            return line[8:].strip()
                        if not line.strip():
                            break                   # end of the headers
        except OSError:
            pass
    # (importlib.metadata scans sys.path: imported only where the METADATA above was not found)
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return None


# Our field -> genai-prices price key(s), first present wins.
_PRICE_KEYS = {
    "input": ("input_mtok",),
    "output": ("output_mtok",),
    "cache_read": ("cache_read_mtok",),
    "cache_write_5m": ("cache_write_5m_mtok", "cache_write_mtok"),
    "cache_write_1h": ("cache_write_1h_mtok",),
}


def _price_at(price, level: int | None):
    """A genai-prices price (Decimal or TieredPrices) for calls whose prompt is just above
    `level` tokens (None = below every tier)."""
    tiers = getattr(price, "tiers", None)
    if tiers is None:
        return price
    applicable = price.base
    if level is not None:
        for tier in sorted(tiers, key=lambda t: t.start):
            if tier.start <= level:
                applicable = tier.price
    return applicable


def rates_from_model_price(model_price, model_id: str, claude: bool) -> Rates | None:
    """genai-prices ModelPrice -> Rates (USD/M, tiers as long-context cliffs); None when it
    prices no input tokens (audio-hour, page or per-request models)."""
    raw = {}
    for field, keys in _PRICE_KEYS.items():
        for key in keys:
            value = getattr(model_price, key, None)
            if value is not None:
                raw[field] = value
                break
    if raw.get("input") is None:
        if not any(v is not None for k, v in vars(model_price).items() if not k.startswith("_")):
            # An empty price card is genai-prices saying the model is free (OpenRouter ':free'
            # variants, Gemma): its statement, not a gap, so $0 with source genai-prices.
            return Rates(0.0, 0.0, 0.0, 0.0, 0.0, source="genai-prices", model_id=model_id)
        return None     # priced only in units we do not count (audio hours, pages): unpriced
    thresholds = sorted({t.start for v in raw.values() for t in (getattr(v, "tiers", None) or ())})
    levels = [None] + thresholds
    cards = []
    for level in levels:
        values = {f: float(_price_at(v, level)) for f, v in raw.items()}
        cards.append(fill_missing(values, claude))
    rates = None
    # Build from the highest tier down so each level points at the next one up.
    for i in range(len(levels) - 1, -1, -1):
        nxt = levels[i + 1] if i + 1 < len(levels) else None
        rates = Rates(**cards[i], long_threshold=nxt if rates is not None else None, long=rates,
                      source="genai-prices", model_id=model_id)
    return rates


def _condition(constraint, types) -> tuple | None:
    if constraint is None:
        return None
    if isinstance(constraint, types.StartDateConstraint):
        d = constraint.start_date
        start = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        return ("since", int(start.timestamp() * 1000))
    if isinstance(constraint, types.TimeOfDateConstraint):
        def ms(t):
            if t.tzinfo is not None:
                offset = t.utcoffset()
                secs = t.hour * 3600 + t.minute * 60 + t.second - (offset.total_seconds() if offset else 0)
            else:
                secs = t.hour * 3600 + t.minute * 60 + t.second
            return int(secs * 1000 + t.microsecond // 1000) % DAY_MS
        return ("daily", ms(constraint.start_time), ms(constraint.end_time))
    raise TypeError(f"unknown price constraint {type(constraint).__name__}")


def holds(cond: tuple | None, ts_ms: int) -> bool:
    if cond is None:
        return True
    if cond[0] == "all":
        return all(holds(c, ts_ms) for c in cond[1:])
    if cond[0] == "since":
        return ts_ms >= cond[1]
    tod = ts_ms % DAY_MS
    start, end = cond[1], cond[2]
    if end < start:
        return tod >= start or tod < end
    return start <= tod < end


def sql_condition(cond: tuple | None) -> tuple[str, list]:
    if cond is None:
        return "1", []
    if cond[0] == "all":
        parts = [sql_condition(c) for c in cond[1:]]
        return "(" + " AND ".join(p[0] for p in parts) + ")", [v for p in parts for v in p[1]]
    if cond[0] == "since":
        return "ts >= ?", [cond[1]]
    start, end = cond[1], cond[2]
    if end < start:
        return f"((ts % {DAY_MS}) >= ? OR (ts % {DAY_MS}) < ?)", [start, end]
    return f"((ts % {DAY_MS}) >= ? AND (ts % {DAY_MS}) < ?)", [start, end]


def _find(snapshot, model: str):
    try:
        return snapshot.find_provider_model(model, None, None, None)
    except LookupError:
        return None


FAST_CONTEXT = {"speed": "fast"}     # the price_context of a fast-mode call


def _fast_variants(info, types) -> list[tuple]:
    """(condition, ModelPrice) of the variants a fast-mode call matches, in genai-prices' order."""
    return [(_condition(v.constraint, types), v.prices) for v in info.price_variants or ()
            if all(FAST_CONTEXT.get(k) == want for k, want in v.when.items())]


def _with_fast(rates: Rates, model_price, variants: list, model_id: str, claude: bool) -> Rates:
    """`rates` with its fast card: `model_price` overridden by `variants` (ModelPrices, earlier
    wins per key, as ModelInfo.get_prices resolves them); no variant, no fast card."""
    if not variants:
        return rates
    overrides: dict = {}
    for prices in variants:
        for key, price in vars(prices).items():
            if price is not None:
                overrides.setdefault(key, price)
    merged = copy(model_price)
    merged.__dict__.update(overrides)
    return rates.replace(fast=rates_from_model_price(merged, model_id, claude))


def _all(*conds: tuple | None) -> tuple | None:
    present = [c for c in conds if c is not None]
    return None if not present else present[0] if len(present) == 1 else ("all", *present)


@functools.lru_cache(maxsize=4096)
def genai_schedule(model: str) -> tuple | None:
    """The schedule genai-prices gives `model` (dated and suffixed names match their entry;
    'provider/model' falls back to the part after the last '/'), or None when it has no
    per-token price. Raises Unavailable when genai-prices cannot be imported."""
    data_snapshot, types = _genai()
    snapshot = data_snapshot.get_snapshot()
    found = _find(snapshot, model)
    if found is None and "/" in model:
        found = _find(snapshot, model.rsplit("/", 1)[1])
    if found is None:
        return None
    provider, info = found
    claude = is_claude(info.id) or provider.id == "anthropic"
    conditional: list[tuple[tuple | None, Any]]
    if isinstance(info.prices, types.ModelPrice):
        conditional = [(None, info.prices)]
    else:
        conditional = [(_condition(c.constraint, types), c.prices) for c in reversed(info.prices)]
        conditional.append((None, info.prices[0].prices))   # nothing active: the first one
    fast = _fast_variants(info, types)
    timed = [i for i, (c, _) in enumerate(fast) if c is not None]
    # Which timed variants are active splits each branch: largest sets first, so the first
    # branch whose condition holds is the one naming exactly the active set (the empty set last).
    active_sets = [s for k in range(len(timed), -1, -1) for s in itertools.combinations(timed, k)]
    branches = []
    for cond, model_price in conditional:
        rates = rates_from_model_price(model_price, info.id, claude)
        if rates is None:
            return None
        for active in active_sets:
            variants = [p for i, (c, p) in enumerate(fast) if c is None or i in active]
            branches.append((_all(cond, *(fast[i][0] for i in active)),
                             _with_fast(rates, model_price, variants, info.id, claude)))
        if cond is None:
            break
    return tuple(branches)


def pick(schedule, ts_ms: int) -> Rates:
    for cond, rates in schedule:
        if holds(cond, ts_ms):
            return rates
    return schedule[-1][1]


def model_id(model: str) -> str | None:
    """genai-prices' id for `model` (e.g. 'claude-sonnet-4-5' for a dated name), if any."""
    try:
        schedule = genai_schedule(model)
    except Exception:   # noqa: BLE001 - Unavailable, or a quirk of its data: no id to match on
        return None
    return schedule[0][1].model_id if schedule else None


def known_names(provider_ids: tuple[str, ...]) -> list[str]:
    """Every name genai-prices states for the models of these providers: each model's id, then
    the literal names of its match rules (`equals` and `starts_with` clauses), in its order."""
    data_snapshot, types = _genai()
    names: list[str] = []
    for provider in data_snapshot.get_snapshot().providers:
        if provider.id not in provider_ids:
            continue
        for info in provider.models:
            names.append(info.id)
            names += _literals(info.match, types)
    return list(dict.fromkeys(name.lower() for name in names))


def _literals(clause: Any, types: Any) -> list[str]:
    if isinstance(clause, types.ClauseEquals):
        return [clause.equals]
    if isinstance(clause, types.ClauseStartsWith):
        return [clause.starts_with]
    if isinstance(clause, types.ClauseOr):
        return [name for c in clause.or_ for name in _literals(c, types)]
    return []
