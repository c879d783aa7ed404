"""Small value conversions the non-Claude adapters share: timestamps and token counts as the
agents write them (ISO strings, epoch seconds or milliseconds; counts that may be missing)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)
_MS_THRESHOLD = 100_000_000_000     # epoch seconds stay below this until the year 5138


def epoch_ms(value) -> int | None:
    """ISO-8601 (a zone-less time is UTC), epoch seconds or epoch milliseconds -> epoch ms."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            return None
        return int(value) if value >= _MS_THRESHOLD else int(round(value * 1000))
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.isdigit():
        return epoch_ms(int(text))
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"        # fromisoformat accepts "Z" only from 3.11
    try:
        t = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return (t - _EPOCH) // _MS


def json_object(text: bytes | str) -> dict:
    """One JSON object; ValueError (the caller's bad line) for bad JSON or any other JSON value."""
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    return obj


def count(value) -> int:
    """A counter from a source that keeps loose numbers: missing, null, negative or not a number
    is 0 (unlike tokens(), which makes such a record a bad line)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def tokens(record: dict | None, key: str) -> int:
    """A token counter: missing or null is 0; anything but a non-negative whole number raises
    ValueError naming the field (the caller counts the record as a bad line)."""
    if not record:
        return 0
    v = record.get(key)
    if v is None:
        return 0
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if type(v) is not int or v < 0:
        raise ValueError(f"bad token count in field {key!r}: {v!r}")
    return v
