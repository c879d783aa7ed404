"""Cursor: best effort from the editor's local store, exact figures from its usage CSV export.

Local store: `state.vscdb` (SQLite, opened read-only) in `User/globalStorage/` under
`~/.config/Cursor` (Linux, or `$XDG_CONFIG_HOME/Cursor`), `~/Library/Application Support/Cursor`
(macOS) or `%APPDATA%\\Cursor` (Windows). Table `cursorDiskKV(key, value)`: keys
`bubbleId:<composerId>:<bubbleId>` hold one chat message as JSON with `tokenCount.{inputTokens,
outputTokens}`, `modelInfo.modelName`, `createdAt` and `requestId`. The counts are often 0 (then
nothing is booked), there is no cache split and no cost; the model, when missing, comes from the
chat's `composerData:<composerId>`. One row per `requestId`. Cursor's own Claude names
(`claude-4.5-sonnet-thinking`) are turned into Anthropic's (`claude-sonnet-4-5`) so they price.

Usage CSV (downloaded by the user from cursor.com's dashboard): `Date,Kind,Model,Max Mode,Input
(w/ Cache Write),Input (w/o Cache Write),Cache Read,Output Tokens,Total Tokens,Cost`. Imported
with `token-roi import cursor-csv FILE`: every line is validated first (nothing is stored when one
line is bad), rows keep Cursor's cost as recorded_cost, and re-importing the same or an
overlapping export stores nothing twice (a row's key is its content, plus its occurrence number
among identical lines). The CSV covers the same requests as the local store, so local rows inside
an imported CSV's time span are replaced by the CSV's and not booked again later.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from ...cursor import Cursor
from ...digest import blake2b
from ...record import Record
from ...rows import UsageRow
from .. import sqlite_ro
from ..base import Adapter, ReadResult, Source
from ..fields import as_dict, count
from . import places

CSV_COLUMNS = ("Date", "Kind", "Model", "Max Mode", "Input (w/ Cache Write)", "Input (w/o Cache Write)",
               "Cache Read", "Output Tokens", "Total Tokens", "Cost")
CSV_OPTIONAL = {"Kind", "Max Mode", "Total Tokens"}
CSV_KEY_PREFIX = "csv:"
FULL_RESCAN_S = 24 * 3600
NO_COST = {"", "-", "n/a", "na", "none"}
INCLUDED_COST = {"included", "free", "included in pro", "included in business"}


def _user_dirs() -> list[Path]:
    return [Path(d) for d in places.cursor_user_dirs()]


def _ts_ms(value) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value if value > 1e11 else value * 1000)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return _ts_ms(int(text))
        try:
            t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        return int(t.timestamp() * 1000)
    return None


# Compiled (and cached by re) at first use, not on every report.
CURSOR_CLAUDE = r"^claude-(\d+(?:\.\d+)?)-(opus|sonnet|haiku)(?:-[a-z-]+)?$"


def model_name(name: str | None) -> str | None:
    """Cursor's model names as the model makers spell them where they differ, so they price:
    Cursor writes `claude-4.5-sonnet-thinking` for Anthropic's `claude-sonnet-4-5` (the thinking
    and effort variants bill at the same rates). Other names are kept as Cursor writes them."""
    if not name or name == "default":
        return None
    m = re.match(CURSOR_CLAUDE, name.strip().lower())
    if not m:
        return name
    version, family = m.group(1).replace(".", "-"), m.group(2)
    return f"claude-{version}-{family}" if int(version.split("-")[0]) < 4 else f"claude-{family}-{version}"


def _in_ranges(ts: int, ranges: list) -> bool:
    return any(lo <= ts <= hi for lo, hi in ranges)


class CursorAdapter(Adapter):
    name = "cursor"
    title = "Cursor"
    untracked = ("local token counts are often 0 and have no cache split or cost; exact usage needs "
                 "the usage CSV from cursor.com imported with `token-roi import cursor-csv FILE`; "
                 "no project")

    def roots(self) -> list[Path]:
        if not places.present():
            return []
        out, seen = [], set()
        for d in _user_dirs():
            db = d / "User" / "globalStorage" / "state.vscdb"
            if db.is_file() and db.resolve() not in seen:
                seen.add(db.resolve())
                out.append(db.parent)
        return out

    def sources(self) -> Iterator[Source]:
        for root in self.roots():
            yield Source(self.name, root / "state.vscdb", "sqlite")

    def size_hint(self, source: Source, cursor: Cursor | None) -> int:
        return sqlite_ro.size_hint(source.path, cursor)

    def read(self, source: Source, cursor: Cursor | None) -> ReadResult:
        size, mtime = sqlite_ro.signature(source.path)
        if cursor is not None and (cursor.size, cursor.mtime_ns) == (size, mtime):
            return ReadResult([], cursor, unchanged=True)
        state = dict(cursor.state) if cursor else {}
        csv_ranges = state.get("csv_ranges", [])
        found = self._bubbles(source.path, state)
        bubbles, bad = [], 0
        for r in found:
            try:
                bubble = json.loads(r["value"])
            except (TypeError, ValueError):
                bad += 1
                continue
            if not isinstance(bubble, dict):
                bad += 1
                continue
            counts = as_dict(bubble.get("tokenCount"))
            inp, out = count(counts.get("inputTokens")), count(counts.get("outputTokens"))
            if inp or out:
                parts = str(r["key"]).split(":")
                bubbles.append((parts[1] if len(parts) > 2 else "", parts[-1], bubble, inp, out))
        composers = self._composers(source.path, {b[0] for b in bubbles if b[0]})
        fallback_ts = mtime // 1_000_000
        rows = []
        for composer_id, bubble_id, bubble, inp, out in bubbles:
            chat = composers.get(composer_id, {})
            timing = as_dict(bubble.get("timingInfo"))
            ts = (_ts_ms(bubble.get("createdAt")) or _ts_ms(timing.get("clientStartTime"))
                  or _ts_ms(chat.get("createdAt")) or fallback_ts)
            if _in_ranges(ts, csv_ranges):
                continue             # an imported usage CSV already holds this request, exactly
            info = as_dict(bubble.get("modelInfo"))
            model = info.get("modelName") or chat.get("model")
            rows.append(UsageRow(
                agent=self.name,
                dedupe_key=(f"req:{bubble['requestId']}" if bubble.get("requestId")
                            else f"bubble:{composer_id}:{bubble_id}"),
                ts=ts, session_id=composer_id or None,
                model=model_name(model),
                input_tokens=inp, output_tokens=out))
        st = os.stat(source.path)
        # Signature from before the read: a write during it makes the next ingest look again.
        new = Cursor(self.name, source.key, 0, size, mtime, st.st_ino, None, state,
                     (cursor.bad_lines if cursor else 0) + bad, (cursor.rows_seen if cursor else 0) + len(rows))
        return ReadResult(rows, new, bytes_read=size, bad_lines=bad)

    def _bubbles(self, path: str | Path, state: dict) -> list:
        """Messages that mention a token count, new since the last read. Cursor rewrites a row
        with INSERT OR REPLACE, which gives it a new rowid, so rows above the last rowid seen are
        the new and the changed ones; once a day the whole table is read again in case a count
        was changed in place. Updates `state`."""
        # Values may be TEXT or BLOB; LIKE never matches a BLOB, so compare as text.
        where = "key LIKE 'bubbleId:%' AND instr(CAST(value AS TEXT), '\"tokenCount\"') > 0"
        now = int(time.time())
        full = "rowid" not in state or now - state.get("full_at", 0) > FULL_RESCAN_S
        try:
            top = sqlite_ro.query(path, "SELECT MAX(rowid) AS top FROM cursorDiskKV")[0]["top"] or 0
        except sqlite_ro.SqliteReadError:
            top = None                      # a table without rowids: always read it whole
        if top is None or full:
            found = sqlite_ro.query(path, f"SELECT key, value FROM cursorDiskKV WHERE {where}")
            state["full_at"] = now
        else:
            found = sqlite_ro.query(path, f"SELECT key, value FROM cursorDiskKV WHERE rowid > ? AND {where}",
                                    (state["rowid"],))
        if top is None:
            state.pop("rowid", None)
        else:
            state["rowid"] = top
        return found

    def _composers(self, path: str | Path, ids: set[str]) -> dict[str, dict]:
        """composerId -> {model, createdAt} for the chats whose messages carry counts."""
        out: dict[str, dict] = {}
        ids_list = sorted(ids)
        for i in range(0, len(ids_list), 500):
            chunk = ids_list[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for r in sqlite_ro.query(path, f"SELECT key, value FROM cursorDiskKV WHERE key IN ({marks})",
                                     tuple(f"composerData:{c}" for c in chunk)):
                try:
                    data = json.loads(r["value"])
                except (TypeError, ValueError):
                    continue
                if isinstance(data, dict):
                    config = as_dict(data.get("modelConfig"))
                    out[str(r["key"]).split(":", 1)[1]] = {"model": config.get("modelName"),
                                                          "createdAt": data.get("createdAt")}
        return out


ADAPTER = CursorAdapter()


# -- usage CSV import ---------------------------------------------------------------------------

class CsvFormatError(ValueError):
    """One line of a usage CSV is not what Cursor exports: `file:line: what is wrong`."""


class CsvImport(Record):
    __slots__ = ("rows", "stored", "local_replaced", "first_ts", "last_ts")

    def __init__(self, rows: int = 0,              # rows in the file
                 stored: int = 0,                  # rows new to the ledger
                 local_replaced: int = 0,          # local-store rows superseded by the CSV's exact figures
                 first_ts: int | None = None, last_ts: int | None = None):
        self.rows = rows
        self.stored = stored
        self.local_replaced = local_replaced
        self.first_ts = first_ts
        self.last_ts = last_ts


def _csv_int(value: str, column: str, where: str) -> int:
    text = value.strip().replace(",", "").replace("_", "")
    if text == "":
        return 0
    try:
        number = float(text)
    except ValueError:
        raise CsvFormatError(f"{where}: {column} {value!r} is not a token count") from None
    if number < 0 or number != int(number):
        raise CsvFormatError(f"{where}: {column} {value!r} is not a token count")
    return int(number)


def _csv_cost(value: str, where: str) -> float | None:
    text = value.strip()
    if text.lower() in NO_COST:
        return None
    if text.lower() in INCLUDED_COST:
        return 0.0
    try:
        cost = float(text.replace("$", "").replace(",", ""))
    except ValueError:
        raise CsvFormatError(f"{where}: Cost {value!r} is not an amount in USD") from None
    if cost < 0:
        raise CsvFormatError(f"{where}: Cost {value!r} is negative")
    return cost


def read_usage_csv(path: Path | str) -> list[UsageRow]:
    """Every row of a Cursor usage export, validated; raises CsvFormatError naming file and line.
    Columns are found by name: newer exports add columns (`Cloud Agent ID`, `Automation ID`),
    some omit `Kind`, `Max Mode` or `Total Tokens`."""
    # Only an import reads a CSV: csv and pathlib stay out of every report.

    path = Path(path)
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise CsvFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise CsvFormatError(f"{path}: cannot read: {exc.strerror}") from None
    rows: list[UsageRow] = []
    seen: dict[str, int] = {}
    with f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
            if header is None:
                raise CsvFormatError(f"{path}:1: empty file, expected Cursor's usage CSV header")
            index = {name.strip(): i for i, name in enumerate(header)}
            missing = [c for c in CSV_COLUMNS if c not in index and c not in CSV_OPTIONAL]
            if missing:
                raise CsvFormatError(f"{path}:1: not a Cursor usage CSV: no column {', '.join(missing)} "
                                     f"(expected {','.join(CSV_COLUMNS)})")
            for fields in reader:
                where = f"{path}:{reader.line_num}"
                if not fields or all(not x.strip() for x in fields):
                    continue
                if len(fields) != len(header):
                    raise CsvFormatError(f"{where}: expected {len(header)} fields, found {len(fields)}")
                get = {c: (fields[index[c]].strip() if c in index else "") for c in CSV_COLUMNS}
                ts = _ts_ms(get["Date"])
                if ts is None:
                    raise CsvFormatError(f"{where}: Date {get['Date']!r} is not a date and time")
                max_mode = get["Max Mode"].lower()
                if max_mode not in ("yes", "no", "true", "false", ""):
                    raise CsvFormatError(f"{where}: Max Mode {get['Max Mode']!r} is not Yes or No")
                cache_write, plain, cache_read, output = (_csv_int(get[c], c, where) for c in CSV_COLUMNS[4:8])
                _csv_int(get["Total Tokens"], "Total Tokens", where)
                recorded = _csv_cost(get["Cost"], where)
                if not (cache_write or plain or cache_read or output) and not recorded:
                    continue          # a request that used nothing and cost nothing
                # The key is the request's content (core columns only, so old and new export
                # formats agree) plus its occurrence number: identical lines are separate requests.
                content = "\x1f".join((str(ts), get["Kind"], get["Model"], max_mode, str(cache_write), str(plain),
                                       str(cache_read), str(output), repr(recorded)))
                digest = blake2b(content.encode(), digest_size=12).hexdigest()
                seen[digest] = seen.get(digest, 0) + 1
                rows.append(UsageRow(
                    agent="cursor", dedupe_key=f"{CSV_KEY_PREFIX}{digest}#{seen[digest]}", ts=ts,
                    model=model_name(get["Model"]), input_tokens=plain, cache_write_5m_tokens=cache_write,
                    cache_read_tokens=cache_read, output_tokens=output, recorded_cost=recorded))
        except csv.Error as exc:
            raise CsvFormatError(f"{path}:{reader.line_num}: unreadable CSV: {exc}") from None
        except UnicodeDecodeError:
            raise CsvFormatError(f"{path}: not UTF-8 text") from None
    return rows


def import_usage_csv(store, path: Path | str) -> CsvImport:
    """Validate the whole file, then store its rows and retire local-store rows it covers, in one
    transaction. The covered span is also remembered in each local source's cursor so a later
    read of the local store does not book those requests again."""
    rows = read_usage_csv(path)
    result = CsvImport(rows=len(rows))
    if not rows:
        return result
    lo, hi = min(r.ts for r in rows), max(r.ts for r in rows)
    result.first_ts, result.last_ts = lo, hi
    with store.transaction() as db:
        result.stored = store.upsert_calls(rows)
        result.local_replaced = db.execute(
            "DELETE FROM calls WHERE agent = ? AND dedupe_key NOT LIKE ? AND ts BETWEEN ? AND ?",
            (ADAPTER.name, CSV_KEY_PREFIX + "%", lo, hi)).rowcount
        for source in ADAPTER.sources():
            cursor = store.get_cursor(ADAPTER.name, source.key) or Cursor(ADAPTER.name, source.key, size=-1)
            ranges = [list(r) for r in cursor.state.get("csv_ranges", [])]
            if [lo, hi] not in ranges:
                ranges.append([lo, hi])
            cursor.state = {**cursor.state, "csv_ranges": ranges}
            store.put_cursor(cursor)
    return result
