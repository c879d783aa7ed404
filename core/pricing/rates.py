"""The rate card of one model and the one cost formula, shared by Python and SQL.

Rates are USD per million tokens (the unit price lists, genai-prices and prices.yaml use).
A call costs

    (input x input + output x output + reasoning x output + cache_read x cache_read
     + cache_write_5m x cache_write_5m + cache_write_1h x cache_write_1h) / 1,000,000

and when the call's whole prompt (input + cache_read + cache_write_5m + cache_write_1h) is
strictly over `long_threshold`, the WHOLE call bills at `long` instead (a cliff, not a marginal
tier). `long` may itself carry a higher threshold, for the few models with several tiers.

`TERMS` pairs each ledger counter with the rate it bills at; `cost_of` (Python) and `sql_cost`
(the bulk UPDATE) are both built from it, so the formula exists once.

Speed: a call made in fast mode (`speed = 'fast'` on the row) bills at `fast`, the model's own
fast-mode card (with its own cliffs). A fast call on a card without one, or a speed we have no
card for, is unpriced (`UNPRICED_SPEED`), never priced at the standard rate.
"""

from __future__ import annotations

from ..record import Record

# ledger column / counter name -> Rates field it bills at
TERMS: tuple[tuple[str, str], ...] = (
    ("input_tokens", "input"),
    ("output_tokens", "output"),
    ("reasoning_tokens", "output"),        # reasoning bills at the output rate
    ("cache_read_tokens", "cache_read"),
    ("cache_write_5m_tokens", "cache_write_5m"),
    ("cache_write_1h_tokens", "cache_write_1h"),
)
PROMPT_COUNTERS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")
RATE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
PER = 1_000_000.0

# price_source of a call whose speed has no known rate: its cost stays NULL (unpriced).
UNPRICED_SPEED = "unpriced:speed"
_STANDARD_SQL = "(speed IS NULL OR speed = 'standard')"

# Anthropic's published cache multipliers of the input rate, used only to fill a rate a price
# table leaves out for a Claude model.
ANTHROPIC_CACHE_READ = 0.1
ANTHROPIC_CACHE_WRITE_5M = 1.25
ANTHROPIC_CACHE_WRITE_1H = 2.0


class Rates(Record):
    """USD per million tokens. `source` is 'genai-prices' or 'override'; `model_id` is the price
    entry that matched (genai-prices' model id, or the override key). Immutable and hashable, as
    the @dataclass(frozen=True) it replaces (see record.py); `replace` gives a changed copy."""
    __slots__ = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                 "long_threshold", "long", "source", "model_id", "fast")
    input: float
    output: float
    cache_read: float
    cache_write_5m: float
    cache_write_1h: float
    long_threshold: int | None
    long: Rates | None
    source: str
    model_id: str | None
    fast: Rates | None

    def __init__(self, input: float, output: float, cache_read: float, cache_write_5m: float,
                 cache_write_1h: float,
                 long_threshold: int | None = None,   # prompt tokens; strictly above it the whole call bills at `long`
                 long: Rates | None = None,
                 source: str = "genai-prices",
                 model_id: str | None = None,
                 fast: Rates | None = None):          # the fast-mode card; None = no known fast price
        set_ = object.__setattr__
        set_(self, "input", input)
        set_(self, "output", output)
        set_(self, "cache_read", cache_read)
        set_(self, "cache_write_5m", cache_write_5m)
        set_(self, "cache_write_1h", cache_write_1h)
        set_(self, "long_threshold", long_threshold)
        set_(self, "long", long)
        set_(self, "source", source)
        set_(self, "model_id", model_id)
        set_(self, "fast", fast)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}: Rates are immutable (use .replace)")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}: Rates are immutable")

    def __hash__(self) -> int:  # type: ignore[override]  # (Record's are unhashable; Rates are frozen)
        return hash(self._values())

    def __reduce__(self):       # copy and pickle without the refused __setattr__
        return (Rates, self._values())

    def replace(self, **changes) -> Rates:
        """A copy with `changes` applied (dataclasses.replace)."""
        values = {name: getattr(self, name) for name in self._fields}
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"Rates has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return Rates(**values)

    def for_speed(self, speed: str | None) -> Rates | None:
        """The card a call at `speed` bills at; None when no price is known for that speed."""
        if speed is None or speed == "standard":
            return self
        return self.fast if speed == "fast" else None

    def at(self, prompt_tokens: int) -> Rates:
        """The rates a call with this many prompt tokens bills at (the highest cliff it passes)."""
        rates = self
        while rates.long is not None and rates.long_threshold is not None and prompt_tokens > rates.long_threshold:
            rates = rates.long
        return rates

    def to_dict(self) -> dict:
        d = {f: getattr(self, f) for f in RATE_FIELDS}
        if self.long is not None:
            d["long_threshold"] = self.long_threshold
            d["long"] = self.long.to_dict()
        d["source"] = self.source
        if self.model_id:
            d["model_id"] = self.model_id
        if self.fast is not None:
            d["fast"] = self.fast.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Rates:
        long, fast = d.get("long"), d.get("fast")
        input, output, cache_read, cache_write_5m, cache_write_1h = (float(d[f]) for f in RATE_FIELDS)
        return cls(input, output, cache_read, cache_write_5m, cache_write_1h,
                   long_threshold=d.get("long_threshold") if long else None,
                   long=cls.from_dict(long) if long else None,
                   source=d.get("source", "genai-prices"), model_id=d.get("model_id"),
                   fast=cls.from_dict(fast) if fast else None)

    def with_source(self, source: str, model_id: str | None = None) -> Rates:
        long = self.long.with_source(source, model_id) if self.long else None
        fast = self.fast.with_source(source, model_id) if self.fast else None
        return self.replace(source=source, model_id=model_id, long=long, fast=fast)


def cost_of(rates: Rates, *, input_tokens: int = 0, output_tokens: int = 0, reasoning_tokens: int = 0,
            cache_read_tokens: int = 0, cache_write_5m_tokens: int = 0, cache_write_1h_tokens: int = 0) -> float:
    """USD for one call. Computed in the same order as `sql_cost` so both give the same float."""
    counts = {
        "input_tokens": input_tokens, "output_tokens": output_tokens, "reasoning_tokens": reasoning_tokens,
        "cache_read_tokens": cache_read_tokens, "cache_write_5m_tokens": cache_write_5m_tokens,
        "cache_write_1h_tokens": cache_write_1h_tokens,
    }
    r = rates.at(sum(counts[c] for c in PROMPT_COUNTERS))
    total = 0.0
    for counter, field in TERMS:
        total += counts[counter] * getattr(r, field)
    return total / PER


def _sql_linear(r: Rates, params: list) -> str:
    parts = []
    for counter, field in TERMS:
        parts.append(f"{counter} * ?")
        params.append(float(getattr(r, field)))
    return f"(({' + '.join(parts)}) / {PER!r})"


def sql_cost(rates: Rates) -> tuple[str, list]:
    """A SQL expression over the `calls` columns giving the same cost as `cost_of`, and its
    parameters. The long-context cliffs become one CASE, highest threshold first."""
    params: list = []
    levels = [rates]
    while levels[-1].long is not None and levels[-1].long_threshold is not None:
        levels.append(levels[-1].long)
    if len(levels) == 1:
        return _sql_linear(rates, params), params
    prompt = "(" + " + ".join(PROMPT_COUNTERS) + ")"
    sql = "CASE"
    for lower, higher in reversed(list(zip(levels, levels[1:]))):
        sql += f" WHEN {prompt} > ? THEN "
        params.append(int(lower.long_threshold or 0))
        sql += _sql_linear(higher, params)
    sql += " ELSE " + _sql_linear(rates, params) + " END"
    return sql, params


def sql_speed_cost(rates: Rates) -> tuple[str, list]:
    """`sql_cost` chosen by the row's `speed`: the standard card, the fast card for 'fast' when
    there is one, else NULL (unpriced)."""
    sql, params = sql_cost(rates)
    if rates.fast is None:
        return f"(CASE WHEN {_STANDARD_SQL} THEN {sql} END)", params
    fast_sql, fast_params = sql_cost(rates.fast)
    return (f"(CASE WHEN {_STANDARD_SQL} THEN {sql} WHEN speed = 'fast' THEN {fast_sql} END)",
            params + fast_params)


def sql_speed_source(rates: Rates) -> tuple[str, list]:
    """The price_source matching `sql_speed_cost`: the card's source, or UNPRICED_SPEED."""
    known = _STANDARD_SQL if rates.fast is None else f"({_STANDARD_SQL} OR speed = 'fast')"
    return f"(CASE WHEN {known} THEN ? ELSE ? END)", [rates.source, UNPRICED_SPEED]


def is_claude(model: str | None) -> bool:
    return model is not None and "claude" in model.lower()


def fill_missing(values: dict, claude: bool) -> dict:
    """Complete a partial rate card (USD/M) whose `input` is known. Rates it leaves out:
    - Claude models: Anthropic's multipliers of input (read 0.1x, 5-minute write 1.25x, 1-hour 2x);
    - other models: reads and 5-minute writes at the input rate (the tokens were sent as input
      and bill as input unless a cached rate is stated: genai-prices' own rule), 1-hour writes
      at the 5-minute rate; output 0 when absent (input-only models such as embeddings).
    Returns a new dict with every field of RATE_FIELDS."""
    out = dict(values)
    inp = float(out["input"])
    if claude:
        out.setdefault("cache_read", inp * ANTHROPIC_CACHE_READ)
        out.setdefault("cache_write_5m", inp * ANTHROPIC_CACHE_WRITE_5M)
        out.setdefault("cache_write_1h", inp * ANTHROPIC_CACHE_WRITE_1H)
    else:
        out.setdefault("cache_read", inp)
        out.setdefault("cache_write_5m", inp)
        out.setdefault("cache_write_1h", out["cache_write_5m"])
    out.setdefault("output", 0.0)
    return {f: float(out[f]) for f in RATE_FIELDS}
