"""Dates and time zones as the commands and the dashboard take them."""

from __future__ import annotations

import datetime as dt
import os

from .errors import TokenRoiError

# zoneinfo is imported where a named zone is resolved, not here: it reads sysconfig and costs a
# report ~2.4 ms, and a report in UTC (`-z UTC`, TZ=UTC) needs no zone database (measured:
# docs/benchmarks.md, "Warm report: the last milliseconds").

# UTC has one offset and no rules: no zone database needed.
UTC_NAMES = ("UTC", "Etc/UTC")


class DateError(TokenRoiError):
    """A date or time zone that cannot be read: one line naming the flag and the value."""
    code = 2


FIRST_DAY, LAST_DAY = dt.date(1969, 1, 1), dt.date(9998, 12, 31)


def parse_date(value: str, flag: str) -> dt.date:
    """YYYY-MM-DD or YYYYMMDD."""
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            day = dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        # Days beyond these hold no call (times are after 1970) and leave no room for a day after
        # or a zone's offset: the nearest one gives the same answer.
        return min(max(day, FIRST_DAY), LAST_DAY)
    raise DateError(f"{flag} {value!r}: expected a date as YYYY-MM-DD or YYYYMMDD")


def system_timezone() -> dt.tzinfo:
    """The machine's zone with its DST rules ($TZ, else /etc/localtime), not just today's offset:
    a fixed offset would put summer days of a winter-run report an hour off."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name in UTC_NAMES:
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # (not at import: see above)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def resolve_timezone(name: str | None) -> dt.tzinfo:
    """An IANA zone by name, or the system's zone when none is given."""
    if not name:
        return system_timezone()
    if name in UTC_NAMES:
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # (not at import: see above)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateError(f"--timezone {name!r}: not a known IANA time zone (e.g. Europe/Berlin, UTC)") from None
