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

The modules:
- rates.py: `Rates` and the cost formula (USD per million tokens);
- quick.py: rates by exact model name from the rates cache and the shipped snapshot, for the
  hooks, which cannot import genai-prices on every tool call;
- catalog.py: genai-prices' data as our `Rates` and schedules;
- overrides.py: the user's prices.yaml;
- apply.py: pricing the ledger (`reprice`, the last stage of ingest) and single calls.

This package is on the live path: the hooks import `quick_rates` and `cost_of` from it, so this
file imports only those light modules; the names of apply.py load it on first use.
"""

from __future__ import annotations

from .overrides import PricingError, load_overrides, overrides_path
from .quick import quick_rates
from .rates import Rates, cost_of

__all__ = [
    "PRICING_RULES_VERSION", "PricingError", "Rates", "cost_of", "current_version", "load_overrides",
    "overrides_path", "pin_given_costs", "price_usage", "quick_rates", "rates_for", "remove_override", "reprice",
    "save_override",
]

_APPLY = frozenset({"PRICING_RULES_VERSION", "current_version", "pin_given_costs", "price_usage", "rates_for",
                    "remove_override", "reprice", "save_override"})


def __getattr__(name: str) -> object:
    if name in _APPLY:
        from . import apply
        return getattr(apply, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
