"""ISO-8601 UTC times as the guard writes them ("2026-05-04T01:02:03.079Z") and back to epoch
milliseconds. Standard library only (time, calendar): the guard's hooks and the value reports
both use it, so it sits below both."""

from __future__ import annotations

import time


def iso_now(now: float | None = None) -> str:
    t = time.time() if now is None else now
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def iso_ms(value: str | None) -> int | None:
    """Epoch milliseconds of an iso_now() time (None for anything else)."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    import calendar
    try:
        base = calendar.timegm(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    ms = 0
    if len(value) > 20 and value[19] == "." and value[20:23].isdigit():
        ms = int(value[20:23].ljust(3, "0"))
    return base * 1000 + ms
