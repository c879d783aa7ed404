"""Claude Code: `projects/**/*.jsonl` transcripts, one row per API call.

Format and counting rules: README.md beside this file. In short: only lines with
`message.usage` carry tokens; one response is written as several lines (a copy per content block,
an early streaming copy with a placeholder output count), so rows are keyed on `message.id`
(`requestId` when there is none) and the store keeps the best copy (main chain, then largest);
`/btw` replays reuse the id as sidechain copies and lose to the original; subagent transcripts
hold their own calls, attributed to the parent session. `usage.speed` ('fast' bills at a
multiple of the standard rate) is kept on the row; 'standard' is stored as None.

Speed: transcripts run to hundreds of MB, almost all of it tool output in lines without usage.
A JSON string cannot hold the bytes `"usage":` unescaped (every quote inside a string is
written `\\"`), so searching the raw buffer for them finds every line that can carry usage,
and only those lines are decoded. The other lines are checked by shape only (`{...}`). A
response's further block lines (same id, byte-identical usage, same chain) are recognised from
their bytes and not decoded at all. User lines (prompts and tool results: most of the bytes) are
recognised by their first bytes and not searched at all, only their last few KB. Measured: ~900
MB/s of CPU on a transcript that is mostly tool output, ~420 MB/s on a generated tree where a
quarter of the bytes are usage lines (the Python loop); the same loop in C (_claude_scan.c) reads
that tree at ~2.5 GB/s.
"""

from __future__ import annotations

import marshal
import os
import stat
import time

from ...rows import UsageRow, copy_rank
from ..base import Source
from ..fields import epoch_ms, tokens
from ..jsonl import JsonlAdapter

TYPE_CHECKING = False   # no `typing` import in the hooks; annotations are never evaluated
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

# The JSON codec, bound by _codec() at the first parse: orjson (a C decoder) when installed, the
# standard library's otherwise (the hooks run without site-packages). Not at import: importing
# orjson costs ~25 ms (it loads dataclasses, uuid, json, datetime), and a warm report parses nothing.
_loads: Any = None
_dumps: Any = None
_DecodeError: Any = ValueError


def _codec() -> None:
    global _loads, _dumps, _DecodeError
    try:
        from orjson import JSONDecodeError, dumps, loads
        _loads, _dumps, _DecodeError = loads, dumps, JSONDecodeError
    except ImportError:  # pragma: no cover - exercised only where orjson is missing
        from ... import fastjson  # json's C codec without json's ~7 ms import (the hooks)

        def _loads(data):
            return fastjson.loads(bytes(data))

        def _dumps(obj) -> bytes:
            return fastjson.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

        _DecodeError = ValueError


USAGE_KEY = b'"usage":'
# A user line: `"message":{"role":"user"` before any other `{` of the line (so it is the
# top-level message: no string can hold those bytes unescaped) within its first HEAD bytes.
USER_HEAD = b'"message":{"role":"user"'
HEAD = 1024
# How far from its end a line's usage can sit: after `message` a record holds only a few short
# fields (requestId, type, uuid, timestamp, cwd, sessionId, version, gitBranch: ~400 bytes).
TAIL = 4096


def transcript_roots() -> list[Path]:
    """Existing `projects/` folders: each CLAUDE_CONFIG_DIR entry's, else both default ones."""
    from pathlib import Path  # not at import: ~4 ms of every hook and report
    return [Path(r) for r in transcript_root_strs()]


def transcript_root_strs() -> list[str]:
    """transcript_roots() as strings, resolved."""
    env = os.environ.get("CLAUDE_CONFIG_DIR", "")
    if env.strip():
        candidates = [os.path.join(os.path.expanduser(p.strip()), "projects") for p in env.split(",") if p.strip()]
    else:
        home = os.path.expanduser("~")
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        config = (os.path.expanduser(xdg) if xdg and os.path.isabs(os.path.expanduser(xdg))
                  else os.path.join(home, ".config"))
        candidates = [os.path.join(config, "claude", "projects"), os.path.join(home, ".claude", "projects")]
    out: list[str] = []
    for p in candidates:
        real = os.path.realpath(p)
        if real not in out and os.path.isdir(real):
            out.append(real)
    return out


def subagent_meta(path: str | Path) -> dict:
    """Subagent transcripts: `<session>/subagents/agent-<id>.jsonl` (current builds) or
    `agent-<id>.jsonl` beside the session files (older builds). The parent session comes from
    the folder name when the layout gives it, else from the lines' own `sessionId`."""
    path = os.fspath(path)            # a str or a Path (os.path: no pathlib on the hooks' path)
    if not os.path.basename(path).startswith("agent-"):
        return {}
    parent = os.path.dirname(path)
    if os.path.basename(parent) == "subagents":
        return {"is_subagent": True, "parent_session": os.path.basename(os.path.dirname(parent))}
    return {"is_subagent": True}


def subagent_folder(transcript: str) -> str:
    """Where the subagents of the session whose transcript is `<session>.jsonl` write theirs
    (current builds: `<session>/subagents/`)."""
    return os.path.join(transcript[:-6] if transcript.endswith(".jsonl") else transcript, "subagents")


def _shape_bad(buf: bytes) -> int:
    """Lines that cannot be a JSON object (not `{...}`), blank lines aside. Finding newlines is
    memchr-fast, so this costs little even on megabyte lines."""
    find = buf.find
    bad = pos = 0
    while True:
        end = find(b"\n", pos)
        if end < 0:
            return bad
        if end > pos:
            last = end - 1 if buf[end - 1] == 13 and end - 1 > pos else end   # "\r\n" endings
            if buf[pos] != 123 or buf[last - 1] != 125:                         # "{" ... "}"
                line = buf[pos:end].strip()
                if line and not (line[:1] == b"{" and line[-1:] == b"}"):
                    bad += 1
        pos = end + 1


def _recover(line: memoryview) -> tuple[dict | None, bool]:
    """For a line that is not valid JSON: (the object found after the junk or None, True).
    A crash can leave half a line that the next write continues
    (`{"type":"user","mes{"parentUuid":...}`): the object after the junk is still a real call,
    and the line still counts as bad."""
    raw = bytes(line)
    # Where a record can start: messages open with "parentUuid" in every build seen so far; any
    # other `{"` is tried after, a bounded number of times (each try costs the line's length).
    for marker, tries in ((b'{"parentUuid":', 64), (b'{"', 32)):
        pos = 0
        for _ in range(tries):
            pos = raw.find(marker, pos + 1)
            if pos < 0:
                break
            try:
                obj = _loads(raw[pos:])
            except _DecodeError:
                continue
            if type(obj) is dict:
                return obj, True
    return None, True


DIR, FILE, LINK, OTHER = 0, 1, 2, 3


class FolderCache:
    """What each transcript folder held when last listed, so that a warm run lists again only
    the folders whose mtime moved (a file added, removed or renamed in it). A folder is kept only
    once its mtime is SETTLED_NS old: file system clocks tick coarsely (a jiffy), and a change
    within the tick of the listing would leave the mtime as it was. Folders holding symlinks are
    always listed again. A derived file (data dir, `claude-folders.cache`): lost or unreadable,
    every folder is listed again, nothing else."""

    SETTLED_NS = 10 * 10**9
    NAME = "claude-folders.cache"

    def __init__(self, path: str | None, known: dict):
        self.path, self.known, self.now = path, known, time.time_ns()
        self.listed: dict = {}              # folder -> (mtime_ns, inode, entries), for the next run

    @classmethod
    def load(cls) -> FolderCache:
        from ... import paths
        path = os.path.join(paths.data_dir_str(), cls.NAME)
        try:
            with open(path, "rb") as f:
                known = marshal.loads(f.read())    # (load(f) reads it in thousands of small calls)
            if type(known) is not dict:
                known = {}
        except (OSError, ValueError, EOFError, TypeError):
            known = {}
        return cls(path, known)

    def entries(self, folder: str, st: os.stat_result) -> list:
        """(name, DIR|FILE|LINK|OTHER, inode) of the folder's entries, by name."""
        got = self.known.get(folder)
        if got is not None and got[0] == st.st_mtime_ns and got[1] == st.st_ino:
            self.listed[folder] = got
            return got[2]
        entries = []
        with os.scandir(folder) as it:
            for e in it:
                try:
                    kind = LINK if e.is_symlink() else DIR if e.is_dir() else FILE if e.is_file() else OTHER
                    entries.append((e.name, kind, e.inode()))
                except OSError:
                    continue                      # gone meanwhile
        entries.sort()
        if st.st_mtime_ns < self.now - self.SETTLED_NS and not any(k == LINK for _, k, _ in entries):
            self.listed[folder] = (st.st_mtime_ns, st.st_ino, entries)
        return entries

    def save(self) -> None:
        if self.listed == self.known or self.path is None:
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            from ...safe_io import private
            with open(tmp, "wb", opener=private) as f:
                marshal.dump(self.listed, f)
            os.replace(tmp, self.path)
        except OSError:                           # (no data dir yet, read-only): list them next time
            try:
                os.unlink(tmp)
            except OSError:
                pass


class ClaudeAdapter(JsonlAdapter):
    name = "claude"
    title = "Claude Code"
    untracked = "subscription plan and rate-limit state; web and desktop app usage"

    def roots(self) -> list[Path]:
        return transcript_roots()

    def root_keys(self) -> tuple[str, ...]:
        return tuple(transcript_root_strs())

    def source_at(self, path: str) -> Source:
        return Source(self.name, path, "jsonl", subagent_meta(path))

    def sources(self) -> Iterator[Source]:
        seen: set[tuple[int, int]] = set()
        folders = FolderCache.load()
        roots = self.root_keys()
        walked: list[str] = []
        self._listing = None
        for root in roots:
            for path, ident, meta in self._walk(root, folders, walked):
                if ident in seen:
                    continue                      # the same file through another root or link
                seen.add(ident)
                yield Source(self.name, path, "jsonl", meta)   # a str: a warm run makes thousands
        folders.save()
        listed = folders.listed
        if all(f in listed for f in walked):      # all settled, no links, none unreadable
            self._listing = (roots, {f: listed[f][:2] for f in walked})

    def listing(self) -> tuple[tuple, dict] | None:
        return getattr(self, "_listing", None)

    def _walk(self, root: str, folders: FolderCache, walked: list) -> Iterator[tuple[str, tuple[int, int], dict]]:
        """(path, (device, inode), meta) of every `*.jsonl` below `root`, each folder's files by
        name before its subfolders; `walked` gets every folder visited. A folder unchanged since
        it was last listed (see FolderCache) costs one stat: a warm run walks thousands of them."""
        visited: set = set()
        todo: list[tuple[str, tuple[int, int] | None]] = [(root, None)]
        while todo:
            folder, ident = todo.pop()
            walked.append(folder)
            try:
                st = os.stat(folder)
                ident = ident or (st.st_dev, st.st_ino)
                if ident in visited:
                    continue                      # a symlink loop
                visited.add(ident)
                entries = folders.entries(folder, st)
            except FileNotFoundError:
                continue                          # removed while we looked: nothing to read
            except OSError as exc:
                self.warn(f"{folder}: {exc.strerror or exc}, skipped")
                continue
            dev = ident[0]
            prefix = folder + os.sep
            sub_meta = None
            subdirs = []
            for name, kind, inode in entries:
                path = prefix + name
                if kind == LINK:                  # follow it, identify the target
                    try:
                        est = os.stat(path)
                    except OSError:
                        continue                  # a dangling link or a file gone meanwhile
                    kind = DIR if stat.S_ISDIR(est.st_mode) else FILE if stat.S_ISREG(est.st_mode) else None
                    entry_ident = (est.st_dev, est.st_ino)
                else:
                    entry_ident = (dev, inode)
                if kind == DIR:
                    subdirs.append((path, entry_ident))
                elif kind == FILE and name.endswith(".jsonl"):
                    meta = {}
                    if name.startswith("agent-"):
                        if sub_meta is None:
                            sub_meta = subagent_meta(path)   # (the same for the whole folder)
                        meta = sub_meta
                    yield path, entry_ident, meta
            todo.extend(reversed(subdirs))

    def parse(self, buf: bytes, source: Source, state: dict) -> tuple[list[UsageRow], int]:
        meta = source.meta if "is_subagent" in source.meta else subagent_meta(source.path)
        return parse_lines(buf, bool(meta.get("is_subagent")), meta.get("parent_session"))


def py_parse_lines(buf: bytes, is_subagent: bool, parent_session: str | None) -> tuple[list[UsageRow], int]:
    """The transcript's complete lines (buf ends with a newline) -> (one row per API call, the
    best copy of each; lines skipped as unreadable). The reference: parse_lines is this function,
    or its C twin (_claude_scan.c) where setup.py built it, which gives the same answers."""
    if _loads is None:
        _codec()
    best: dict[str, UsageRow] = {}
    ranks: dict[str, int] = {}
    copy_of: tuple[bytes, bytes, bool] | None = None
    bad = _shape_bad(buf)
    find, rfind, startswith = buf.find, buf.rfind, buf.startswith
    pos = 0
    while True:
        # Prompts and tool results (most of the bytes) are passed over, not searched: a line
        # whose top-level message is the user's cannot carry a billed usage. Its own last
        # bytes are still searched, so a record glued after a cut-off line (see _recover)
        # is never passed over with it.
        while True:
            head = find(USER_HEAD, pos, pos + HEAD)
            if head < 0 or find(b"{", pos + 1, head) >= 0 or find(b"\n", pos, head) >= 0:
                break                         # not a user line, or not sure: search it
            nl = find(b"\n", head)
            if nl < 0 or find(USAGE_KEY, max(head, nl - TAIL), nl) >= 0:
                break
            pos = nl + 1
        hit = find(USAGE_KEY, pos)
        if hit < 0:
            break
        start = rfind(b"\n", 0, hit) + 1
        end = find(b"\n", hit)
        if end < 0:
            end = len(buf)                    # a caller passed a last line without newline
        pos = end + 1
        if buf[end - 1] == 13:                # "\r\n" endings
            end -= 1
        if (copy_of is not None and startswith(copy_of[0], hit) and find(copy_of[1], start, end) > 0
                and (find(b'"isSidechain":true', start, end) > 0) is copy_of[2]):
            # The next block line of the response just read: same message.id, same usage bytes,
            # same chain. Decoding it would change nothing (its rank is the same), so skip it.
            continue
        more, copy_of = _line(buf, start, hit, end, best, ranks, copy_of, is_subagent, parent_session)
        bad += more
    return list(best.values()), bad


def _line(buf: bytes, start: int, hit: int, end: int, best: dict, ranks: dict, copy_of,
          is_subagent: bool, parent_session: str | None) -> tuple[int, tuple | None]:
    """One usage line (buf[start:end], its first `"usage":` at hit) that is not a copy of the
    last row's line: decoded, checked and kept in `best` when it is the best copy of its call so
    far. Returns (bad lines found, the copy marker for the lines after)."""
    # (Per usage line this is most of a first ingest's CPU where the C loop is not built: names
    # are bound locally and the rows' fields taken inline, not through helpers.)
    if _loads is None:
        _codec()
    bad = 0
    obj = _without_content(buf, start, hit, end)
    if obj is not None:
        damaged = False
    else:
        line = memoryview(buf)[start:end]
        try:
            obj = _loads(line)
            damaged = type(obj) is not dict
        except _DecodeError:
            obj, damaged = _recover(line)
        if damaged and buf[start] == 123 and buf[end - 1] == 125:
            bad += 1      # (a line not shaped "{...}" was already counted by _shape_bad: once)
    if type(obj) is not dict:
        return bad, copy_of                       # (nothing, or JSON that is no object: an array)
    get = obj.get
    message = get("message")
    if type(message) is not dict:
        return bad, copy_of
    usage = message.get("usage")
    if type(usage) is not dict:
        if usage is not None and not damaged:
            bad += 1
        return bad, copy_of
    key = message.get("id") or get("requestId")
    if type(key) is not str:
        return bad, copy_of
    model = message.get("model")
    if model == "<synthetic>" or get("isApiErrorMessage") is True:
        return bad, copy_of                       # local errors: no API call was billed
    counts = _counts(usage)
    if counts is None:
        if not damaged:
            bad += 1                              # malformed usage: skipped, counted
        return bad, copy_of
    uncached, cache_read, w5m, w1h, output = counts
    sidechain = get("isSidechain") is True
    # UsageRow.rank, computed before building the row: most lines are copies (a copy of a row
    # already kept has the same rank, and loses here).
    rank = copy_rank(uncached + cache_read + w5m + w1h + output, sidechain)
    if ranks.get(key, -1) >= rank:
        return bad, copy_of
    ts = epoch_ms(get("timestamp"))
    if ts is None:
        if not damaged:
            bad += 1                              # malformed time: skipped, counted
        return bad, copy_of
    ranks[key] = rank
    cost = get("costUSD")
    speed = usage.get("speed")
    session = get("sessionId")
    project = get("cwd")
    branch = get("gitBranch")
    # (positional, in UsageRow's order; a field that is not a non-empty string is None)
    best[key] = UsageRow(
        "claude", key, ts,
        parent_session or (session if type(session) is str and session else None),
        project if type(project) is str and project else None,
        model if type(model) is str and model else None,
        uncached, output, 0, cache_read, w5m, w1h, sidechain, is_subagent,
        branch if type(branch) is str and branch else None,
        float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
        None if speed is None or speed == "standard" else _speed(speed),
    )
    return bad, (USAGE_KEY + _dumps(usage), b'"id":"' + key.encode() + b'"', sidechain)


# An assistant line is mostly its message's content (text, thinking, tool input), which counts
# for nothing here: where the line has the shape Claude Code writes, `..."role":"assistant",
# "content":[ ... ],"stop_reason":...,"usage":{...}}...`, it is decoded with that array cut out.
CONTENT_OPEN = b'"role":"assistant","content":['
CONTENT_CLOSE = b'],"stop_reason":'


def _without_content(buf: bytes, start: int, hit: int, end: int) -> dict | None:
    """The line's object with message.content emptied, or None when that cannot be done with
    certainty (then the whole line is decoded). The cut runs from the array's opening, found
    right after the role near the line's start, to the last `],"stop_reason":` before the usage;
    what is kept must decode to a message holding that empty array, its id, model and usage, so a
    cut anywhere else (another field order, a nested look-alike) is never taken."""
    c = buf.find(CONTENT_OPEN, start, min(hit, start + HEAD))
    if c < 0:
        return None
    c += len(CONTENT_OPEN) - 1
    e = buf.rfind(CONTENT_CLOSE, c, hit)
    if e < 0:
        return None
    try:
        obj = _loads(buf[start:c] + b"[]" + buf[e + 1:end])
    except _DecodeError:
        return None
    message = obj.get("message") if type(obj) is dict else None
    if (type(message) is dict and message.get("content") == [] and "usage" in message and "id" in message
            and "model" in message):
        return obj
    return None


def _counts(usage: dict) -> tuple[int, int, int, int, int] | None:
    """(uncached input, cache read, 5m write, 1h write, output), or None when a counter is not a
    non-negative whole number. Missing counters are 0; without the 5m/1h split every write is 5m."""
    get = usage.get
    uncached, cache_read = get("input_tokens", 0), get("cache_read_input_tokens", 0)
    writes, output = get("cache_creation_input_tokens", 0), get("output_tokens", 0)
    split = get("cache_creation")
    w1h = split.get("ephemeral_1h_input_tokens", 0) if type(split) is dict else 0
    if not (type(uncached) is int and type(cache_read) is int and type(writes) is int and type(output) is int
            and type(w1h) is int and uncached >= 0 and cache_read >= 0 and writes >= 0 and output >= 0
            and 0 <= w1h <= writes):
        try:                                      # null, 12.0, or a bad value: the careful way
            uncached, cache_read = tokens(usage, "input_tokens"), tokens(usage, "cache_read_input_tokens")
            writes, output = tokens(usage, "cache_creation_input_tokens"), tokens(usage, "output_tokens")
            w1h = min(tokens(split, "ephemeral_1h_input_tokens"), writes) if type(split) is dict else 0
        except ValueError:
            return None
    # The 5-minute part is what the billed total leaves (also when the split and total disagree).
    return uncached, cache_read, writes - w1h, w1h, output


def _speed(value) -> str | None:
    """`usage.speed` other than 'standard': a mode name ('fast'), kept short; not a string, None."""
    return value[:32] or None if type(value) is str else None


ADAPTER = ClaudeAdapter()


# The same function in C (_claude_scan.c, built by setup.py where a compiler is found; its
# benchmark line is in docs/benchmarks.md): it reads the lines it is certain of and hands every
# other usage line to _line above, so the rules stay here. Chosen once, here.
try:
    from ._claude_scan import parse_lines
except ImportError:
    parse_lines = py_parse_lines
