"""Small value conversions the non-Claude adapters share: timestamps and token counts as the
agents write them (ISO strings, epoch seconds or milliseconds; counts that may be missing)."""

from __future__ import annotations

import os

from .. import fastjson

_MS_THRESHOLD = 100_000_000_000     # epoch seconds stay below this until the year 5138


def epoch_ms(value) -> int | None:
    """ISO-8601 (a zone-less time is UTC), epoch seconds or epoch milliseconds -> epoch ms."""
    if type(value) is str:
        fast = _utc_z_ms(value)             # the usual shape, first
        if fast is not None:
            return fast
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
    fast = _utc_z_ms(text)
    if fast is not None:
        return fast
    # Any other shape: datetime (~1.6 ms to import), which the hooks' Claude lines never need.
    from datetime import datetime, timedelta, timezone
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"        # fromisoformat accepts "Z" only from 3.11
    try:
        t = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)


_DIGITS = frozenset("0123456789")
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _utc_z_ms(text: str) -> int | None:
    """Epoch ms of `YYYY-MM-DDTHH:MM:SSZ` with no, 3 or 6 fraction digits (what Claude Code and
    most agents write), by arithmetic; None for anything else, including invalid dates (the
    datetime path then decides). Equal to the datetime path wherever it answers."""
    n = len(text)
    if n == 20:
        frac = ""
    elif (n == 24 or n == 27) and text[19] == ".":
        frac = text[20:n - 1]
    else:
        return None
    if text[13] != ":" or text[16] != ":" or text[n - 1] != "Z":
        return None
    days = _DAYS.get(text[:11])
    if days is None:
        days = _days(text[:11])
        if days is None:
            return None
        if len(_DAYS) > 4096:
            _DAYS.clear()
        _DAYS[text[:11]] = days
    clock = text[11:13] + text[14:16] + text[17:19] + frac
    if not _DIGITS.issuperset(clock):
        return None
    h, mi, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if h > 23 or mi > 59 or s > 59:
        return None
    return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + (int(frac[:3]) if frac else 0)


_DAYS: dict[str, int] = {}          # "YYYY-MM-DDT" -> days since 1970-01-01 (a log spans few days)


def _days(date: str) -> int | None:
    """Days since 1970-01-01 of `YYYY-MM-DDT` (proleptic Gregorian), None when it is no such date."""
    if date[4] != "-" or date[7] != "-" or date[10] != "T":
        return None
    digits = date[0:4] + date[5:7] + date[8:10]
    if not _DIGITS.issuperset(digits):
        return None
    y, mo, d = int(date[0:4]), int(date[5:7]), int(date[8:10])
    if y < 1 or not 1 <= mo <= 12 or d < 1:
        return None
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if d > _MONTH_DAYS[mo] + (mo == 2 and leap):
        return None
    # H. Hinnant's days_from_civil.
    yy = y - (mo <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def as_dict(value: object) -> dict:
    """`value` when it is a JSON object (a dict), else an empty one: for optional nested records."""
    return value if isinstance(value, dict) else {}


def json_object(text: bytes | str) -> dict:
    """One JSON object; ValueError (the caller's bad line) for bad JSON or any other JSON value."""
    obj = fastjson.loads(text)
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


def agent_data_dir(env_var: str, name: str) -> str:
    """An agent's data folder: `$env_var` when set, else `$XDG_DATA_HOME/<name>` (an absolute
    XDG_DATA_HOME only), else `~/.local/share/<name>`."""
    env = os.environ.get(env_var, "").strip()
    if env:
        return os.path.expanduser(env)
    xdg = os.path.expanduser(os.environ.get("XDG_DATA_HOME", "").strip())
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, name)
