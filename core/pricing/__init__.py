"""Cost per call: genai-prices' data, the user's prices.yaml on top, applied in bulk SQL.

Every row of `calls` carries `cost` (USD, NULL while unpriced), `price_source` ('genai-prices',
'override' or 'unpriced') and `price_version`, the fingerprint of the price table that set them
(genai-prices' version, the bytes of prices.yaml, PRICING_RULES_VERSION). `reprice()` prices
every row whose version is not the current one; a better copy of a call resets the three
columns to NULL, so it is priced again. A model no price table knows stays 'unpriced' with a
NULL cost and all its tokens; it is never priced at $0 unless prices.yaml says so. A fast-mode
call (`speed = 'fast'`) bills at the model's fast card; where none is known (a prices.yaml entry,
or genai-prices without a fast variant for the model) it stays unpriced with price_source
'unpriced:speed' rather than being priced at the standard rate.

Standard library only at import time (the Claude Code hooks import this): genai-prices, yaml
and jsonschema are imported inside the functions that need them; hooks use `quick_rates`.
Rates are USD per million tokens (see rates.py for the formula).
"""

from __future__ import annotations

import time

from . import overrides as _overrides
from .overrides import PricingError, load_overrides, overrides_path
from .overrides import remove_override as _remove_override, save_override as _save_override
from . import quick as quick_cache
from .quick import quick_rates
from .rates import Rates, cost_of

__all__ = [
    "PRICING_RULES_VERSION", "PricingError", "Rates", "cost_of", "current_version", "load_overrides",
    "overrides_path", "price_usage", "quick_rates", "rates_for", "remove_override", "reprice", "save_override",
]

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
    from . import catalog, quick
    # Installed is not enough: it must import, or the snapshot prices. Whether it imports is only
    # learnt when something needs a price (see reprice), so a report with nothing new to price
    # never pays for importing it.
    if catalog.genai_present():
        return f"genai-prices {catalog.genai_version()}"
    return f"snapshot {quick.snapshot_info().get('generated_from')}"


def current_version(override_bytes: bytes | None = None) -> str:
    """Fingerprint of the price table in force: changes when genai-prices is upgraded, prices.yaml
    is edited, or PRICING_RULES_VERSION is bumped."""
    from ..digest import blake2b       # (not hashlib: it loads OpenSSL, ~3 ms of every report)
    raw = _overrides.file_bytes() if override_bytes is None else override_bytes
    h = blake2b(f"rules {PRICING_RULES_VERSION}\0{_table_version()}\0".encode(), digest_size=8)
    h.update(raw)
    return h.hexdigest()


def _schedule(model: str | None, overrides: dict[str, Rates]):
    """The branches `(condition, Rates)` pricing `model`, or None when it is unpriced."""
    from . import catalog, quick
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
    from . import catalog
    schedule = _schedule(model, _current_overrides()[1])
    if schedule is None:
        return None
    return catalog.pick(schedule, int(time.time() * 1000) if ts_ms is None else ts_ms)


def price_usage(model: str, *, input_tokens: int, output_tokens: int, cache_read_tokens: int = 0,
                cache_write_5m_tokens: int = 0, cache_write_1h_tokens: int = 0, reasoning_tokens: int = 0,
                ts_ms: int | None = None, speed: str | None = None) -> tuple[float | None, str]:
    """(USD, source) for one call; (None, 'unpriced') when no price is known, (None,
    'unpriced:speed') when the model is priced but not at this speed."""
    from .rates import UNPRICED_SPEED
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


def _stale_models(db, version: str, full: bool) -> list:
    if full:
        return [r[0] for r in db.execute(f"SELECT DISTINCT model FROM calls WHERE {_STALE}", (version,))]
    # Every priced row carries the version in meta (see reprice): only new rows can be stale.
    return [r[0] for r in db.execute("SELECT DISTINCT model FROM calls WHERE price_version IS NULL")]


def _case_for(plans) -> tuple[str, str, list, list]:
    """The cost and price_source CASE expressions over `model` for a group of priced models."""
    from . import catalog
    from .rates import sql_speed_cost, sql_speed_source
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


class NewRowPricer:
    """Prices the rows a first ingest (Store.bulk_load) has just inserted, batch by batch while
    the workers still parse, with the same UPDATE reprice() runs (rows with id above a mark),
    so reprice() at the end finds only what is left: rows a better copy reset, unpriced models,
    manual entries. reprice(store, pricer) then takes its schedules as its own when the price
    table is still the same. Raises PricingError on a bad prices.yaml (then: reprice alone).

    start_lookups() forks a process that imports genai-prices (~0.2 s of CPU) and looks the
    schedules up, so that the writing process, the one a first ingest waits for, never imports
    it: rows of a model whose schedule has not come back yet wait, unpriced, for a later batch
    (or finish()). Without it (no fork, or it died) the schedules are looked up here."""

    def __init__(self):
        self.raw, self.overrides = _current_overrides()
        self.schedules: dict = {}       # model -> schedule or None, in the order first met
        self.version: str | None = None
        self.lookups: _Lookups | None = None
        self.waiting_above: int | None = None   # rows above this id may wait for a schedule
        # Every row of the ledger is one this load writes (it had none before): then the only
        # rows reprice() can find stale are those left unpriced, whatever the meta says.
        self.only_new_rows = False

    def start_lookups(self) -> None:
        """Fork the lookup process (call before forking anything that must not hold its pipes;
        see inherited_fds). Nothing happens where it cannot fork."""
        import os
        if self.lookups is None and hasattr(os, "fork"):
            try:
                self.lookups = _Lookups(self.overrides)
            except OSError:
                self.lookups = None

    def inherited_fds(self) -> list[int]:
        """This process's ends of the lookup pipes: a process forked after must close them."""
        return self.lookups.fds() if self.lookups is not None else []

    def close(self) -> None:
        if self.lookups is not None:
            self.lookups.close()
            self.lookups = None

    def _look_up(self, models: list, block: bool) -> None:
        lookups = self.lookups
        if lookups is not None:
            for model in models:
                if model not in self.schedules and model not in lookups.asked:
                    lookups.ask([m for m in models if m not in self.schedules and m not in lookups.asked])
                    break
            for import_ok, got in lookups.take(block):
                if not import_ok:
                    from . import catalog
                    catalog.import_failed()     # (the lookups priced from the snapshot: the version says so)
                self.schedules.update(got)
            if not lookups.alive:
                self.close()                    # (gone: what it did not answer is looked up here)
        if self.lookups is None:
            for model in models:
                if model not in self.schedules:
                    self.schedules[model] = _schedule(model, self.overrides)

    def price_after(self, store, mark: int) -> None:
        """Price the unpriced rows whose id is above `mark` (inside the caller's transaction),
        and those of earlier batches still waiting for their model's schedule."""
        db = store.db
        if self.waiting_above is not None:
            mark = min(mark, self.waiting_above)
        models = [r[0] for r in db.execute(
            "SELECT DISTINCT model FROM calls WHERE id > ? AND price_version IS NULL", (mark,))]
        self._look_up(models, block=False)
        known = self.schedules
        self.waiting_above = mark if any(m not in known for m in models) else None
        priced = [(m, known[m]) for m in models if m is not None and known.get(m) is not None]
        if not priced:
            return
        version = current_version(self.raw)
        if self.version is None:
            self.version = version
        elif version != self.version:
            return                      # the price table moved (an import failed): reprice() decides
        for i in range(0, len(priced), _CHUNK):
            group = priced[i:i + _CHUNK]
            cost_sql, source_sql, cost_params, source_params = _case_for(group)
            db.execute(f"UPDATE calls SET cost = {cost_sql}, price_source = {source_sql}, price_version = ? "
                       f"WHERE id > ? AND model IN ({', '.join('?' * len(group))}) AND price_version IS NULL",
                       (*cost_params, *source_params, version, mark, *(m for m, _ in group)))

    def finish(self, store) -> None:
        """After the last batch: wait for the schedules still being looked up, price the rows
        that waited for them, and stop the lookup process."""
        if self.lookups is not None:
            while self.lookups is not None and self.lookups.unanswered:
                self._look_up([], block=True)
            self.close()
        if self.waiting_above is not None:
            self.price_after(store, self.waiting_above)
        if self.version is None:
            self.version = current_version(self.raw)


class _Lookups:
    """A forked process that imports genai-prices and answers schedule lookups: this process
    asks with a list of model names (marshalled), it answers with (whether genai-prices
    imported, {model: schedule}) pickled, each frame prefixed by its size (4 bytes)."""

    def __init__(self, overrides: dict):
        import os
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (req_r, self.req_w, self.rep_r, rep_w):
                os.close(fd)
            raise
        if pid == 0:                            # never returns
            _serve_lookups(req_r, rep_w, (self.req_w, self.rep_r), overrides)
        os.close(req_r)
        os.close(rep_w)
        os.set_blocking(self.rep_r, False)
        self.pid = pid
        self.asked: set = set()
        self.unanswered = 0
        self.buf = bytearray()
        self.alive = True

    def fds(self) -> list[int]:
        return [fd for fd in (self.req_w, self.rep_r) if fd >= 0]

    def ask(self, models: list) -> None:
        import marshal
        from .. import forked
        body = marshal.dumps(models)
        try:
            forked.write_all(self.req_w, len(body).to_bytes(4, "little") + body)
        except OSError:                         # (it is gone: take() says so)
            self.alive = False
            return
        self.asked.update(models)
        self.unanswered += 1

    def take(self, block: bool) -> list:
        """The answers in so far (waiting for one at least when `block` and one is due)."""
        import os
        import pickle
        import select
        out = []
        while self.alive:
            if block and self.unanswered and not out:
                select.select([self.rep_r], [], [])
            try:
                data = os.read(self.rep_r, 1 << 16)
            except BlockingIOError:
                break
            if not data:                        # gone (killed, or its import raised)
                self.alive = False
                break
            self.buf += data
            while len(self.buf) >= 4 and len(self.buf) >= 4 + int.from_bytes(self.buf[:4], "little"):
                size = int.from_bytes(self.buf[:4], "little")
                out.append(pickle.loads(bytes(self.buf[4:4 + size])))
                del self.buf[:4 + size]
                self.unanswered -= 1
        return out

    def close(self) -> None:
        import os
        from .. import forked
        for fd in (self.req_w, self.rep_r):
            if fd >= 0:
                os.close(fd)
        self.req_w = self.rep_r = -1
        if self.pid:
            forked.stop(self.pid)
            self.pid = 0
        self.alive = False


def _serve_lookups(req: int, rep: int, others, overrides: dict) -> None:
    import os
    code = 0
    try:
        for fd in others:
            os.close(fd)
        import marshal
        import pickle
        from .. import forked
        from . import catalog
        catalog.import_lean()
        catalog.prepare()
        import_ok = catalog.genai_present()     # (an import that failed says no now)

        def read(n: int) -> bytes:
            got = b""
            while len(got) < n:
                part = os.read(req, n - len(got))
                if not part:
                    raise EOFError
                got += part
            return got

        while True:
            try:
                models = marshal.loads(read(int.from_bytes(read(4), "little")))
            except EOFError:
                break
            body = pickle.dumps((import_ok, {m: _schedule(m, overrides) for m in models}))
            forked.write_all(rep, len(body).to_bytes(4, "little") + body)
    except BaseException:                       # noqa: BLE001 - killed, a closed pipe: just stop
        code = 1
    finally:
        os._exit(code)


def reprice(store, pricer: NewRowPricer | None = None) -> int:
    """Price every row whose price_version is not the current one; returns how many rows it
    priced (rows found unpriced included). Bulk SQL in one transaction: per group of models one
    UPDATE whose CASE holds each model's rates (a CASE branch per price period, the cliff as a
    CASE inside), so the table is scanned once per 64 models, not once per row or per model.
    Then refreshes the rates cache the hooks read. Raises PricingError on a bad prices.yaml.
    `pricer`: what priced the new rows of this transaction already (see NewRowPricer)."""
    raw, overrides = _current_overrides()
    version = current_version(raw)
    db = store.db
    if pricer is not None and (pricer.version != version or pricer.raw != raw):
        pricer = None                   # (priced under another table: those rows are stale now)
    full = store.get_meta(_META_KEY) != version and not (pricer is not None and pricer.only_new_rows)
    models = _stale_models(db, version, full)
    if not models and pricer is None:
        return 0
    # Rates are looked up before taking the write lock (genai-prices loads in ~0.2 s), from the
    # schedules the last reprice under this same price table left in the rates cache when it
    # has them all (the usual case: a few new calls of models seen before), so that pricing
    # them does not load genai-prices at all ...
    known = quick_cache.cached_schedules(version) if pricer is None else dict(pricer.schedules)
    if all(model in known for model in models):
        schedules = {model: known[model] for model in models}
    else:
        known = {}    # (a model is new: genai-prices loads, and the version may change with it)
        schedules = {model: _schedule(model, overrides) for model in models}
    if pricer is not None:
        # every model of the load, in the order met (the rates cache gets them all, as before)
        schedules = {**pricer.schedules, **schedules}
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
        stale_params = (version,) if full else ()
        # Only models with stale rows: each UPDATE scans the table when its index is away (a bulk
        # load), and after a NewRowPricer `schedules` holds every model of the load.
        models = set(models)
        priced = [(m, s) for m, s in schedules.items() if s is not None and m is not None and m in models]
        unpriced = [m for m, s in schedules.items() if s is None and m is not None and m in models]
        for i in range(0, len(priced), _CHUNK):
            group = priced[i:i + _CHUNK]
            cost_sql, source_sql, cost_params, source_params = _case_for(group)
            marks = ", ".join("?" * len(group))
            count += db.execute(f"UPDATE calls SET cost = {cost_sql}, price_source = {source_sql}, price_version = ? "
                                f"WHERE model IN ({marks}) AND {stale}",
                                (*cost_params, *source_params, version, *(m for m, _ in group), *stale_params)).rowcount
        for i in range(0, len(unpriced), _CHUNK * 8):
            group = unpriced[i:i + _CHUNK * 8]
            count += db.execute(f"UPDATE calls SET cost = NULL, price_source = 'unpriced', price_version = ? "
                                f"WHERE model IN ({', '.join('?' * len(group))}) AND {stale}",
                                (version, *group, *stale_params)).rowcount
        if None in models:
            count += db.execute(f"UPDATE calls SET cost = NULL, price_source = 'unpriced', price_version = ? "
                                f"WHERE model IS NULL AND {stale}", (version, *stale_params)).rowcount
        store.set_meta(_META_KEY, version)
    _refresh_cache(list(schedules.items()), version)
    return count


def _refresh_cache(plans, version: str) -> None:
    from . import catalog, quick
    now = int(time.time() * 1000)
    entries = {model: (catalog.pick(s, now) if s is not None else None) for model, s in plans if model}
    cache = quick._load(quick.cache_path()) or {}
    try:
        quick.update_cache(entries, version, replace_all=cache.get("version") != version,
                           schedules={model: s for model, s in plans if model})
    except OSError:
        pass    # the cache only speeds the hooks up; the snapshot still answers them


def _after_override_change() -> None:
    """Bring the rates cache in line with prices.yaml now, so the hooks see a saved override
    before the next reprice() (which re-prices the rows: the version changed)."""
    from . import catalog, quick
    raw, overrides = _current_overrides()
    names = quick.cached_models()
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
