"""Pricing the ledger: every row whose price_version is not the current table's gets its cost,
in bulk SQL (see the package docstring for the rules); single calls priced the same way."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..digest import blake2b
from ..safe_io import private
from ..store import Store
from . import catalog, quick
from . import overrides as _overrides
from .overrides import remove_override as _remove_override
from .overrides import save_override as _save_override
from .rates import UNPRICED_SPEED, Rates, cost_of, sql_speed_cost, sql_speed_source

Schedule = tuple[tuple[Any, Rates], ...]    # (condition, Rates) branches: see catalog

# Bump when the way rows are priced changes (formula, derivation rules, matching): every row
# is then priced again on the next refresh.
PRICING_RULES_VERSION = "2"     # 2: fast-mode calls priced at the fast card

_parsed: dict[bytes, dict] = {}


def _current_overrides() -> tuple[bytes, dict[str, Rates]]:
    raw = _overrides.file_bytes()
    if raw not in _parsed:
        _parsed.clear()
        _parsed[raw] = _overrides.parse_overrides(raw) if raw.strip() else {}
    return raw, _parsed[raw]


def _table_version() -> str:
    # Installed is not enough: it must import, or the snapshot prices. Whether it imports is only
    # learnt when something needs a price (see reprice), so a report with nothing new to price
    # never pays for importing it.
    if catalog.genai_present():
        return f"genai-prices {catalog.genai_version()}"
    return f"snapshot {quick.snapshot_info().get('generated_from')}"


def current_version(override_bytes: bytes | None = None) -> str:
    """Fingerprint of the price table in force: changes when genai-prices is upgraded, prices.yaml
    is edited, or PRICING_RULES_VERSION is bumped."""
    raw = _overrides.file_bytes() if override_bytes is None else override_bytes
    h = blake2b(f"rules {PRICING_RULES_VERSION}\0{_table_version()}\0".encode(), digest_size=8)
    h.update(raw)
    return h.hexdigest()


def _schedule(model: str | None, overrides: dict[str, Rates]):
    """The branches `(condition, Rates)` pricing `model`, or None when it is unpriced."""
    if not model or model.startswith("<"):      # '<synthetic>' and friends: no API call
        return None
    found = _overrides.match(model, overrides, genai_id=catalog.model_id)
    if found is not None:
        return ((None, found),)
    try:
        return catalog.genai_schedule(model)
    except catalog.Unavailable:
        rates = quick.snapshot_rates(model)
        return ((None, rates),) if rates is not None else None
    except Exception:   # noqa: BLE001 - a price-table quirk must not stop a report: show it unpriced
        return None


def rates_for(model: str, ts_ms: int | None = None) -> Rates | None:
    """The rates a call to `model` at `ts_ms` (epoch ms, default now) bills at: prices.yaml first,
    then genai-prices (dated and suffixed names match their entry), else None (unpriced)."""
    schedule = _schedule(model, _current_overrides()[1])
    if schedule is None:
        return None
    return catalog.pick(schedule, int(time.time() * 1000) if ts_ms is None else ts_ms)


def price_usage(model: str, *, input_tokens: int, output_tokens: int, cache_read_tokens: int = 0,
                cache_write_5m_tokens: int = 0, cache_write_1h_tokens: int = 0, reasoning_tokens: int = 0,
                ts_ms: int | None = None, speed: str | None = None) -> tuple[float | None, str]:
    """(USD, source) for one call; (None, 'unpriced') when no price is known, (None,
    'unpriced:speed') when the model is priced but not at this speed."""
    rates = rates_for(model, ts_ms)
    if rates is None:
        return None, "unpriced"
    rates = rates.for_speed(speed)
    if rates is None:
        return None, UNPRICED_SPEED
    return cost_of(rates, input_tokens=input_tokens, output_tokens=output_tokens,
                   reasoning_tokens=reasoning_tokens, cache_read_tokens=cache_read_tokens,
                   cache_write_5m_tokens=cache_write_5m_tokens,
                   cache_write_1h_tokens=cache_write_1h_tokens), rates.source


_STALE = "(price_version IS NULL OR price_version <> ?)"
_META_KEY = "pricing.version"
_CHUNK = 64      # models per UPDATE: bounds the CASE (and its parameters) of one statement


def _stale_models(db: sqlite3.Connection, version: str, full: bool) -> list[str | None]:
    if full:
        return [r[0] for r in db.execute(f"SELECT DISTINCT model FROM calls WHERE {_STALE}", (version,))]
    # Every priced row carries the version in meta (see reprice): only new rows can be stale.
    return [r[0] for r in db.execute("SELECT DISTINCT model FROM calls WHERE price_version IS NULL")]


def _case_for(plans) -> tuple[str, str, list, list]:
    """The cost and price_source CASE expressions over `model` for a group of priced models."""
    cost_sql, cost_params, source_sql, source_params = ["CASE model"], [], ["CASE model"], []
    for model, schedule in plans:
        branches, branch_params, sources, sources_params = [], [], [], []
        for cond, rates in schedule:
            where, where_params = catalog.sql_condition(cond)
            expr, expr_params = sql_speed_cost(rates)
            branches.append(f"WHEN {where} THEN {expr}")
            branch_params += where_params + expr_params
            expr, expr_params = sql_speed_source(rates)
            sources.append(f"WHEN {where} THEN {expr}")
            sources_params += where_params + expr_params
        cost_sql.append(f"WHEN ? THEN (CASE {' '.join(branches)} END)")
        cost_params += [model, *branch_params]
        if all(r.fast is not None for _, r in schedule) or len(schedule) == 1:
            # one card, or fast everywhere: the source needs no time condition
            expr, expr_params = sql_speed_source(schedule[0][1])
            source_sql.append(f"WHEN ? THEN {expr}")
            source_params += [model, *expr_params]
        else:
            source_sql.append(f"WHEN ? THEN (CASE {' '.join(sources)} END)")
            source_params += [model, *sources_params]
    return " ".join(cost_sql) + " END", " ".join(source_sql) + " END", cost_params, source_params


def reprice(store: Store) -> int:
    """Price every row whose price_version is not the current one; returns how many rows it
    priced (rows found unpriced included). Bulk SQL in one transaction: per group of models one
    UPDATE whose CASE holds each model's rates (a CASE branch per price period, the cliff as a
    CASE inside), so the table is scanned once per 64 models, not once per row or per model.
    Then refreshes the rates cache the hooks read. Raises PricingError on a bad prices.yaml."""
    raw, overrides = _current_overrides()
    version = current_version(raw)
    db = store.db
    full = store.get_meta(_META_KEY) != version
    models = _stale_models(db, version, full)
    if not models:
        return 0
    # Rates are looked up before taking the write lock (genai-prices loads in ~0.2 s), from the
    # schedules the last reprice under this same price table left in the rates cache when it
    # has them all (the usual case: a few new calls of models seen before), so that pricing
    # them does not load genai-prices at all ...
    known: dict[str | None, Schedule | None] = {k: v for k, v in cached_schedules(version).items()}
    schedules: dict[str | None, Schedule | None]
    if all(model in known for model in models):
        schedules = {model: known[model] for model in models}
    else:
        known = {}    # (a model is new: genai-prices loads, and the version may change with it)
        schedules = {model: _schedule(model, overrides) for model in models}
    # Looking the rates up imported genai-prices: if that failed, the snapshot priced them, and
    # the version must say so.
    looked_up, version = version, current_version(raw)
    count = 0     # rows priced (cursor rowcounts: total_changes would add the triggers' rows)
    # (inside the caller's transaction, e.g. a bulk load, nothing moved since the first look)
    again = not db.in_transaction or version != looked_up
    # A new price table prices every row again: the quarter-hour sums are then summed once after,
    # not noted row by row (Store.bucket_triggers_off).
    with store.bucket_triggers_off() if full else store.transaction():
        # ... and the stale set is read again under it: another process may have moved on.
        if again:
            full = store.get_meta(_META_KEY) != version
            models = _stale_models(db, version, full)
        for model in models:
            if model not in schedules:
                schedules[model] = known[model] if model in known else _schedule(model, overrides)
        stale = _STALE if full else "price_version IS NULL"
        stale_params: tuple[str, ...] = (version,) if full else ()
        wanted = set(models)
        priced = [(m, s) for m, s in schedules.items() if s is not None and m is not None and m in wanted]
        unpriced = [m for m, s in schedules.items() if s is None and m is not None and m in wanted]
        for i in range(0, len(priced), _CHUNK):
            group = priced[i:i + _CHUNK]
            cost_sql, source_sql, cost_params, source_params = _case_for(group)
            marks = ", ".join("?" * len(group))
            count += db.execute(f"UPDATE calls SET cost = {cost_sql}, price_source = {source_sql}, price_version = ? "
                                f"WHERE model IN ({marks}) AND {stale}",
                                (*cost_params, *source_params, version, *(m for m, _ in group), *stale_params)).rowcount
        for i in range(0, len(unpriced), _CHUNK * 8):
            names = unpriced[i:i + _CHUNK * 8]
            count += db.execute(f"UPDATE calls SET cost = NULL, price_source = 'unpriced', price_version = ? "
                                f"WHERE model IN ({', '.join('?' * len(names))}) AND {stale}",
                                (version, *names, *stale_params)).rowcount
        if None in wanted:
            count += db.execute(f"UPDATE calls SET cost = NULL, price_source = 'unpriced', price_version = ? "
                                f"WHERE model IS NULL AND {stale}", (version, *stale_params)).rowcount
        store.set_meta(_META_KEY, version)
    _refresh_cache(list(schedules.items()), version)
    return count


def pin_given_costs(store: Store) -> int:
    """A cost a person typed on a manual ledger entry is the entry's cost, whatever the price
    table says: run after reprice() so every report's `cost` column shows it."""
    with store.transaction():
        cur = store.db.execute(
            "UPDATE calls SET cost = recorded_cost, price_source = 'ledger' "
            "WHERE origin = 'manual' AND recorded_cost IS NOT NULL "
            "AND (cost IS NULL OR cost != recorded_cost OR price_source IS NOT 'ledger')")
        return cur.rowcount


def cache_path() -> Path:
    return Path(quick.cache_path_str())


def _read_cache() -> dict[str, Any]:
    try:
        loaded = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def cached_models() -> list[str]:
    return list((_read_cache().get("models") or {}).keys())


def cached_schedules(version: str) -> dict[str, Schedule | None]:
    """The schedules (condition, Rates) the cache holds, when it was written under `version`
    (the price table's fingerprint: the same genai-prices, prices.yaml and rules), else none."""
    cache = _read_cache()
    if cache.get("version") != version:
        return {}
    out: dict[str, Schedule | None] = {}
    for name, entry in (cache.get("schedules") or {}).items():
        try:
            out[name] = None if entry is None else tuple((_as_tuple(c), Rates.from_dict(r)) for c, r in entry)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _as_tuple(cond: Any) -> Any:
    return tuple(_as_tuple(c) for c in cond) if isinstance(cond, list) else cond


def update_cache(entries: dict[str, Rates | None], version: str, *, replace_all: bool = False,
                 schedules: dict[str, Schedule | None] | None = None) -> None:
    """Merge `entries` (and the models' whole `schedules`) into the rates cache (atomically:
    a temporary file, then a rename)."""
    path = cache_path()
    cached = {} if replace_all else _read_cache()
    models = dict(cached.get("models") or {})
    for name, rates in entries.items():
        models[name] = rates.to_dict() if rates is not None else None
    known = dict(cached.get("schedules") or {})
    for name, schedule in (schedules or {}).items():
        known[name] = None if schedule is None else [[cond, rates.to_dict()] for cond, rates in schedule]
    payload = {"version": version, "models": dict(sorted(models.items())), "schedules": dict(sorted(known.items()))}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", opener=private) as f:
        f.write(json.dumps(payload, indent=1) + "\n")
    tmp.replace(path)


def _refresh_cache(plans: list[tuple[str | None, Schedule | None]], version: str) -> None:
    now = int(time.time() * 1000)
    entries = {model: (catalog.pick(s, now) if s is not None else None) for model, s in plans if model}
    try:
        update_cache(entries, version, replace_all=_read_cache().get("version") != version,
                     schedules={model: s for model, s in plans if model})
    except OSError:
        pass    # the cache only speeds the hooks up; the snapshot still answers them


def _after_override_change() -> None:
    """Bring the rates cache in line with prices.yaml now, so the hooks see a saved override
    before the next reprice() (which re-prices the rows: the version changed)."""
    raw, overrides = _current_overrides()
    names = cached_models()
    if names:
        _refresh_cache([(m, _schedule(m, overrides)) for m in names], current_version(raw))


def save_override(model: str, rates: dict) -> Rates:
    """Validate and write one model's rates (USD per million tokens) into prices.yaml."""
    saved = _save_override(model, rates)
    _after_override_change()
    return saved


def remove_override(model: str) -> bool:
    """Drop one model from prices.yaml; True when it was there."""
    removed = _remove_override(model)
    if removed:
        _after_override_change()
    return removed
