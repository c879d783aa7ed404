"""One manual ledger entry: a JSON object on one line of a git-tracked file
(core/schema/ledger-entry.schema.json). Written by `token-roi log`, read by ledger.py."""

from __future__ import annotations

from ..errors import TokenRoiError
import datetime as dt
import os

from ..rows import UsageRow
from .. import fastjson as json   # (json's codec without its import: every report loads this module)

TYPE_CHECKING = False   # (no pathlib at import: every report syncs the ledger files)
if TYPE_CHECKING:
    from pathlib import Path

SCHEMA = "ledger-entry.schema.json"


class LedgerError(TokenRoiError):
    """One line: the file, the line number and what is wrong with it."""


def new_id() -> str:
    import uuid
    return uuid.uuid4().hex[:16]


def iso_utc(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> int:
    """Epoch ms of an entry's ISO time (zone required by the schema)."""
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def make_entry(*, agent: str, model: str, category: str, input_tokens: int, output_tokens: int,
               cache_read_tokens: int = 0, cache_write_tokens: int = 0, cost_usd: float | None,
               cost_source: str, feature: str | None = None, session: str | None = None,
               notes: str | None = None, when: dt.datetime | None = None, entry_id: str | None = None) -> dict:
    entry = {
        "id": entry_id or new_id(),
        "ts": iso_utc(when or dt.datetime.now(dt.timezone.utc)),
        "agent": agent,
        "model": model,
        "category": category,
        "feature": feature,
        "session": session,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_write_tokens": cache_write_tokens,
        "cost_usd": None if cost_usd is None else round(cost_usd, 6),
        "cost_source": cost_source,
        "notes": notes,
    }
    problems = problems_of(entry)
    if problems:
        key, value, allowed = problems[0]
        raise LedgerError(f"entry {key} = {value} is not allowed: expected {allowed}")
    return entry


def problems_of(entry) -> list[tuple[str, str, str]]:
    from ..config.validation import errors
    found = errors(entry, SCHEMA)
    if not found and isinstance(entry, dict):
        try:
            parse_ts(entry["ts"])
        except ValueError:
            from ..config.validation import show_value
            found = [("ts", show_value(entry["ts"]), "a real ISO 8601 time, e.g. 2026-11-22T14:05:00Z")]
    return found


def parse_line(line: bytes | str, path: Path | str, lineno: int) -> dict:
    """The entry on one line, or LedgerError('<path> line <n>: ...')."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerError(f"{path} line {lineno}: not UTF-8 text") from None
    try:
        entry = json.loads(line)
    except ValueError as exc:
        raise LedgerError(f"{path} line {lineno}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(entry, dict):
        raise LedgerError(f"{path} line {lineno}: expected a JSON object, found {type(entry).__name__}")
    problems = problems_of(entry)
    if problems:
        from ..config.validation import one_line
        raise LedgerError(one_line(f"{path} line {lineno}", problems[0]))
    return entry


def parse_lines(data: bytes, path: Path | str) -> tuple[list[tuple[int, dict]], list[str]]:
    """((line number, entry) for each good line, one-line errors for the bad ones). Blank lines
    are allowed; a last line without its newline is read too (a person may have edited the file)."""
    good, bad = [], []
    if data.startswith(b"\xef\xbb\xbf"):           # a BOM some editors add; CRLF endings are JSON whitespace
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            good.append((lineno, parse_line(raw, path, lineno)))
        except LedgerError as exc:
            bad.append(str(exc))
    return good, bad


def append_entry(path: Path, entry: dict) -> None:
    """Append one line; a file whose last line lacks its newline gets one first, so two entries
    never share a line. O_APPEND keeps concurrent writers' lines whole."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    line = "\n" + line
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def to_row(entry: dict, project: str | None) -> UsageRow:
    """The `calls` row an entry becomes (dedupe key `ledger:<id>`). The given cost, when the
    person typed one, is kept as recorded_cost and wins over our price (ledger.pin_given_costs)."""
    return UsageRow(
        agent=entry["agent"],
        dedupe_key=f"ledger:{entry['id']}",
        ts=parse_ts(entry["ts"]),
        session_id=entry.get("session"),
        project=project,
        model=entry["model"],
        input_tokens=entry["input_tokens"],
        output_tokens=entry["output_tokens"],
        cache_read_tokens=entry.get("cache_read_tokens", 0),
        cache_write_5m_tokens=entry.get("cache_write_tokens", 0),
        # A cost typed by hand (cost_source 'given', or absent on a hand-written line) is kept;
        # one computed from the price table at log time is left to pricing to recompute.
        recorded_cost=(entry.get("cost_usd") if entry.get("cost_source", "given") == "given" else None),
    )
