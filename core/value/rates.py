"""Human market rates for the human-equivalent value of a session, and the value arithmetic.

Rates are editable data: the shipped core/data/human-rates.yaml, or the user's copy of it in the
config dir. Every figure is a range (low / mid / high); nothing pretends to be exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import TokenRoiError

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "human-rates.yaml"
QUALITY = {"full-replacement": 1.0, "with-edits": 0.7, "draft-only": 0.4, "failed": 0.0}


class RatesError(TokenRoiError):
    """One line naming the rates file and what is wrong in it."""


@dataclass(frozen=True)
class Range:
    low: float
    mid: float
    high: float

    def as_dict(self) -> dict:
        return {"low": self.low, "mid": self.mid, "high": self.high}

    def __mul__(self, k: float) -> Range:
        return Range(self.low * k, self.mid * k, self.high * k)


def rates_file() -> Path:
    user = paths.config_dir() / "human-rates.yaml"
    return user if user.exists() else SHIPPED


def load_table(path: Path | None = None) -> dict:
    import yaml
    path = path or rates_file()
    try:
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RatesError(f"{path}: cannot read the rate table: {str(exc).splitlines()[0]}") from None
    for section in ("roles", "regions", "seniority"):
        if not isinstance(table, dict) or not isinstance(table.get(section), dict) or not table[section]:
            raise RatesError(f"{path}: '{section}' must be a non-empty mapping")
    for role, r in table["roles"].items():
        if not isinstance(r, dict) or not all(isinstance(r.get(k), (int, float)) for k in ("low", "mid", "high")) \
                or not r["low"] <= r["mid"] <= r["high"]:
            raise RatesError(f"{path}: roles.{role} needs numbers low <= mid <= high, got {r!r}")
    return table


def hourly_rate(role: str, region: str = "us-west", seniority: str = "senior", table: dict | None = None) -> Range:
    table = table or load_table()
    try:
        base = table["roles"][role]
    except KeyError:
        raise RatesError(f"unknown role {role!r}; known roles: {', '.join(table['roles'])}") from None
    if region not in table["regions"]:
        raise RatesError(f"unknown region {region!r}; known regions: {', '.join(table['regions'])}")
    if seniority not in table["seniority"]:
        raise RatesError(f"unknown seniority {seniority!r}; known: {', '.join(table['seniority'])}")
    k = table["regions"][region] * table["seniority"][seniority]
    return Range(base["low"] * k, base["mid"] * k, base["high"] * k)


def value_range(hours: Range, rate: Range, quality: float) -> Range:
    """Value = hours x rate x quality; mid from the mids, low and high from the extremes."""
    return Range(hours.low * rate.low * quality, hours.mid * rate.mid * quality, hours.high * rate.high * quality)


def roi_range(value: Range, cost: float) -> Range | None:
    """ROI = value / AI cost. None when the cost is zero or unknown (no ratio to speak of)."""
    if not cost or cost <= 0:
        return None
    return Range(value.low / cost, value.mid / cost, value.high / cost)
