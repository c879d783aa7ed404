"""A realistic, deterministic Claude Code transcript tree: the demo's data and the benchmark's.

`generate_claude_tree(root, total_bytes=..., seed=...)` writes `root/projects/<encoded cwd>/
<session>.jsonl` (and `<session>/subagents/agent-<id>.jsonl`) shaped like real transcripts
(docs: shared reference, claude-code.md section 1): compact JSON with every field, one line per
content block each carrying the response's usage, user lines with tool results from a few bytes
to megabytes, summary/system/progress/file-history-snapshot lines, synthetic API-error lines,
resumed sessions that start with a copy of their parent's lines, 5-minute and 1-hour cache
writes, calls over 200k prompt tokens, a little of a model nobody prices, and rare garbage.

`traps=True` adds the duplicates that split correct counting from naive counting: early
streaming copies with a placeholder `output_tokens`, and `/btw` sidechain replays (same
`message.id`, new `requestId`, `isSidechain: true`). With `traps=False` every copy of a response
carries identical usage, so any reader that counts each response once must agree.

The returned SampleTree knows the true totals (one count per message.id, the largest copy,
main chain preferred) and what two naive rules would count, so tests and the benchmark can check
a reader against ground truth, not against another tool.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAIN_MODELS = (  # (model, weight) for a session's main model
    ("claude-sonnet-4-6", 40),
    ("claude-sonnet-4-5-20250929", 15),
    ("claude-opus-4-6", 30),
    ("claude-opus-4-1-20250805", 5),
    ("claude-haiku-4-5-20251001", 6),
    ("claude-nimbus-5-20261001", 2),   # a model no price table knows: must come out "unpriced"
)
SUBAGENT_MODELS = (("claude-haiku-4-5-20251001", 60), ("claude-sonnet-4-6", 40))
LONG_CONTEXT_MODELS = ("claude-sonnet-4-6", "claude-sonnet-4-5-20250929", "claude-opus-4-6")
UNKNOWN_MODEL = "claude-nimbus-5-20261001"
VERSIONS_OLD = ("1.0.98", "1.0.120")      # older field order, no 5m/1h split on usage
VERSIONS_NEW = ("2.0.37", "2.1.104", "2.1.126")
PROJECT_NAMES = ("acme-api", "billing", "infra", "web.frontend", "ml-pipeline", "docs-site",
                 "cli-tools", "data-lake", "auth-service", "mobile-app", "search", "notebooks")
TOOLS = ("Bash", "Read", "Edit", "Write", "Grep", "Glob", "Task", "TodoWrite", "WebFetch")
TOOL_WEIGHTS = (30, 28, 14, 5, 8, 5, 3, 5, 2)
DEFAULT_START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
MB = 1024 * 1024
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
COUNTERS = ("input", "output", "cache_creation", "cache_read", "cache_write_5m", "cache_write_1h")


def encode_project_dir(cwd: str) -> str:
    """Claude Code's folder name for a working directory: every non-alphanumeric becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


# -- totals -------------------------------------------------------------------------------------

@dataclass
class Totals:
    calls: int = 0
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    def add(self, u: dict) -> None:
        self.calls += 1
        self.input += u["input_tokens"]
        self.output += u["output_tokens"]
        self.cache_creation += u["cache_creation_input_tokens"]
        self.cache_read += u["cache_read_input_tokens"]
        split = u.get("cache_creation")
        if split:
            self.cache_write_5m += split["ephemeral_5m_input_tokens"]
            self.cache_write_1h += split["ephemeral_1h_input_tokens"]
        else:
            self.cache_write_5m += u["cache_creation_input_tokens"]

    def merge(self, other: Totals) -> None:
        for name in ("calls",) + COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        d = {name: getattr(self, name) for name in ("calls",) + COUNTERS}
        d["total"] = self.total
        return d


@dataclass
class SampleTree:
    """What was written, and the totals a correct reader must report for it."""
    root: Path
    seed: int
    traps: bool
    files: int = 0
    subagent_files: int = 0
    sessions: int = 0
    projects: list[str] = field(default_factory=list)
    bytes: int = 0
    lines: int = 0
    usage_lines: int = 0           # assistant lines carrying message.usage, copies included
    bad_lines: int = 0             # complete lines that are not a JSON object
    half_lines: int = 0            # files ending in a half-written line (no newline)
    expected: Totals = field(default_factory=Totals)      # the rule: message.id, largest, main chain
    by_model: dict[str, Totals] = field(default_factory=dict)
    by_day: dict[str, Totals] = field(default_factory=dict)   # UTC date
    # What naive rules count on this tree (equal to `expected` when traps=False):
    first_per_id_and_request: Totals = field(default_factory=Totals)  # first copy per (id, requestId)
    every_line: Totals = field(default_factory=Totals)                # no dedupe at all
    long_context_calls: int = 0    # calls whose prompt is over 200k tokens
    resumed_sessions: int = 0      # files that start with a copy of their parent session's lines
    synthetic_lines: int = 0
    first_ts: str = ""
    last_ts: str = ""

    def as_dict(self) -> dict:
        return {
            "root": str(self.root), "seed": self.seed, "traps": self.traps, "files": self.files,
            "subagent_files": self.subagent_files, "sessions": self.sessions, "projects": self.projects,
            "bytes": self.bytes, "lines": self.lines, "usage_lines": self.usage_lines,
            "bad_lines": self.bad_lines, "half_lines": self.half_lines,
            "expected": self.expected.as_dict(),
            "by_model": {k: v.as_dict() for k, v in sorted(self.by_model.items())},
            "by_day": {k: v.as_dict() for k, v in sorted(self.by_day.items())},
            "first_per_id_and_request": self.first_per_id_and_request.as_dict(),
            "every_line": self.every_line.as_dict(),
            "long_context_calls": self.long_context_calls, "synthetic_lines": self.synthetic_lines,
            "resumed_sessions": self.resumed_sessions,
            "first_ts": self.first_ts, "last_ts": self.last_ts,
        }


# -- text ---------------------------------------------------------------------------------------

_WORDS = ("def", "return", "self", "import", "from", "class", "for", "in", "if", "else", "None",
          "value", "result", "config", "path", "data", "rows", "store", "test", "assert", "error",
          "token", "usage", "cache", "session", "model", "cost", "ledger", "report", "while",
          "async", "await", "const", "let", "function", "=>", "{", "}", "(", ")", "[", "]", "==",
          "+=", "0", "1", "42", "'utf-8'", "\"name\"", "\\n", "# TODO", "café", "naïve", "→", "✓",
          "日本語", "PASSED", "FAILED", "ok", "src/app.py", "tests/test_app.py", "Δ", "—")
_POOL: str | None = None


def _pool() -> str:
    """About 1 MB of code-like text (quotes, backslashes, tabs, non-ASCII), built once, seed-free."""
    global _POOL
    if _POOL is None:
        rng = random.Random(1234)
        lines = []
        size = 0
        while size < MB:
            indent = "    " * rng.randrange(4)
            line = indent + " ".join(rng.choices(_WORDS, k=rng.randrange(2, 14)))
            if rng.random() < 0.03:
                line += "\t# " + "x" * rng.randrange(1, 40)
            lines.append(line)
            size += len(line) + 1
        _POOL = "\n".join(lines)
    return _POOL


def _text(rng: random.Random, n: int) -> str:
    pool = _pool()
    if n <= 0:
        return ""
    if n >= len(pool):
        return (pool * (n // len(pool) + 1))[:n]
    start = rng.randrange(len(pool) - n)
    return pool[start:start + n]


def _lognormal_int(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(rng.lognormvariate(0, sigma) * median)))


# -- ids and times ------------------------------------------------------------------------------

def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _b62(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(_B62, k=k))


def _iso(ms: int) -> str:
    t = time.gmtime(ms // 1000)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{ms % 1000:03d}Z")


# -- one session --------------------------------------------------------------------------------

class _Session:
    """Writes one session file (plus its subagent files) of about `target` bytes."""

    def __init__(self, gen: _Generator, project_cwd: str, session_id: str, target: int, t0: int,
                 *, subagent: tuple[str, str] | None = None, parent_lines: list[str] | None = None,
                 force: frozenset[str] = frozenset()):
        self.gen = gen
        self.rng = random.Random(gen.rng.getrandbits(64))
        rng = self.rng
        self.cwd = project_cwd
        self.session_id = session_id
        self.target = target
        self.t = t0
        self.subagent = subagent            # (agent id, model) when this is a subagent transcript
        self.sidechain = subagent is not None
        self.parent_lines = parent_lines
        self.out: list[str] = []
        self.size = 0
        self.prev_uuid: str | None = None
        old = rng.random() < 0.12
        self.version = rng.choice(VERSIONS_OLD if old else VERSIONS_NEW)
        self.old_format = old
        self.branch = rng.choice(("main", "main", "main", "dev", "feature/ledger", "fix/flaky-test"))
        if subagent:
            self.model = subagent[1]
        else:
            models, weights = zip(*MAIN_MODELS)
            self.model = rng.choices(models, weights)[0]
        self.force = set(force)
        if "unknown" in force:
            self.model = UNKNOWN_MODEL
        if "long" in force:
            self.model = "claude-sonnet-4-6"
        self.cache_1h = (not old) and rng.random() < 0.35
        self.long_context = "long" in force or (self.model in LONG_CONTEXT_MODELS and rng.random() < 0.08)
        self.compact_at = 600_000 if self.long_context else rng.randrange(140_000, 168_000)
        self.context = 0
        self.history: list[tuple[str, dict, dict]] = []   # (message id, usage, last content block)
        self.streamed: set[str] = set()   # ids written with placeholder copies (never copied on resume)
        self.pending_tokens = 0

    # -- line builders ---------------------------------------------------------------------------
    def _common(self, kind: str, uuid: str) -> dict:
        d = {"parentUuid": self.prev_uuid, "isSidechain": self.sidechain, "userType": "external",
             "cwd": self.cwd, "sessionId": self.session_id, "version": self.version,
             "gitBranch": self.branch}
        if self.subagent:
            d["agentId"] = self.subagent[0]
        d["type"] = kind
        d["uuid"] = uuid
        return d

    def _emit(self, line: str) -> None:
        self.out.append(line)
        self.size += len(line) + 1
        self.gen.tree.lines += 1

    def _tick(self, lo_ms: int, hi_ms: int) -> int:
        self.t += self.rng.randrange(lo_ms, hi_ms)
        return self.t

    def user_prompt(self) -> None:
        rng = self.rng
        uuid = _uuid(rng)
        d = self._common("user", uuid)
        d["message"] = {"role": "user", "content": _text(rng, _lognormal_int(rng, 160, 1.0, 5, 6000))}
        d["timestamp"] = _iso(self._tick(20_000, 600_000))
        if not self.old_format:
            d["thinkingMetadata"] = {"level": "high", "disabled": False, "triggers": []}
            d["permissionMode"] = rng.choice(("default", "acceptEdits", "bypassPermissions"))
        self._emit(_dumps(d))
        self.prev_uuid = uuid
        if not self.sidechain and not self.old_format and rng.random() < 0.5:
            mid = _uuid(rng)
            files = {f"src/{_b62(rng, 6)}.py": {"backupFileName": f"{_b62(rng, 16)}@v{rng.randrange(1, 9)}",
                                                "version": rng.randrange(1, 9), "backupTime": _iso(self.t)}
                     for _ in range(rng.randrange(0, 4))}
            self._emit(_dumps({"type": "file-history-snapshot", "messageId": mid,
                               "snapshot": {"messageId": mid, "trackedFileBackups": files,
                                            "timestamp": _iso(self.t)},
                               "isSnapshotUpdate": rng.random() < 0.3}))

    def _usage(self, out_tokens: int, new_tokens: int) -> dict:
        """Usage of one call: the context so far is read from cache, what is new is written."""
        rng = self.rng
        first = self.context == 0
        if first:
            new_tokens += rng.randrange(9_000, 24_000)      # system prompt and tool definitions
            if self.long_context:                           # a big codebase loaded up front
                new_tokens += rng.randrange(150_000, 260_000)
        if self.gen.no_cache_call(rng):
            inp, write, read = self.context + new_tokens, 0, 0
        else:
            inp, write, read = rng.randrange(1, 12), new_tokens, self.context
        u: dict[str, Any] = {"input_tokens": inp, "cache_creation_input_tokens": write,
             "cache_read_input_tokens": read, "output_tokens": out_tokens}
        if rng.random() < 0.1:
            u["server_tool_use"] = {"web_search_requests": 0, "web_fetch_requests": 0}
        u["service_tier"] = "standard"
        if not self.old_format:
            one_h = write if self.cache_1h else 0
            u["cache_creation"] = {"ephemeral_1h_input_tokens": one_h, "ephemeral_5m_input_tokens": write - one_h}
            u["speed"] = "standard"
        self.context += new_tokens + out_tokens
        return u

    def _assistant_line(self, msg_id: str, req_id: str, block: dict, usage: dict, stop, ts: int,
                        *, sidechain: bool | None = None, model: str | None = None) -> tuple[str, str]:
        uuid = _uuid(self.rng)
        msg = {"model": model or self.model, "id": msg_id, "type": "message", "role": "assistant",
               "content": [block], "stop_reason": stop, "stop_sequence": None, "usage": usage}
        side = self.sidechain if sidechain is None else sidechain
        if self.old_format:
            d = self._common("assistant", uuid)
            del d["type"], d["uuid"]
            d["isSidechain"] = side
            d["message"] = msg
            d["requestId"] = req_id
            d["type"] = "assistant"
            d["uuid"] = uuid
            d["timestamp"] = _iso(ts)
        else:   # the field order of current builds (see the reference's real line)
            d = {"parentUuid": self.prev_uuid, "isSidechain": side, "message": msg, "requestId": req_id,
                 "type": "assistant", "uuid": uuid, "timestamp": _iso(ts), "userType": "external",
                 "cwd": self.cwd, "sessionId": self.session_id, "version": self.version,
                 "gitBranch": self.branch}
            if self.subagent:
                d["agentId"] = self.subagent[0]
        self.prev_uuid = uuid
        return _dumps(d), uuid

    def assistant_response(self, want_tool: bool) -> dict | None:
        """One API call written as one line per content block; returns the tool_use block."""
        rng, gen = self.rng, self.gen
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.55:
            blocks.append({"type": "thinking", "thinking": _text(rng, _lognormal_int(rng, 700, 1.0, 20, 20_000)),
                           "signature": _b62(rng, rng.randrange(200, 900))})
        if rng.random() < 0.6 or not want_tool:
            blocks.append({"type": "text", "text": _text(rng, _lognormal_int(rng, 350, 1.1, 2, 12_000))})
        tool = None
        if want_tool:
            name = rng.choices(TOOLS, TOOL_WEIGHTS)[0]
            if self.sidechain and name == "Task":
                name = "Read"
            tool = {"type": "tool_use", "id": "toolu_01" + _b62(rng, 22), "name": name,
                    "input": self._tool_input(name)}
            blocks.append(tool)
        out_chars = sum(len(b.get("thinking") or b.get("text") or "") for b in blocks) + (
            len(repr(tool["input"])) if tool else 0)
        out_tokens = max(1, out_chars // 4 + rng.randrange(0, 80))
        usage = self._usage(out_tokens, rng.randrange(50, 900) + self.pending_tokens)
        self.pending_tokens = 0
        msg_id = "msg_01" + _b62(rng, 22)
        req_id = "req_011C" + _b62(rng, 21)
        ts = self._tick(1_500, 90_000)
        stop = "tool_use" if tool else "end_turn"
        streaming = self.gen.traps and rng.random() < 0.4
        copies = []   # (usage, timestamp) of every line written for this call, in file order
        if streaming and len(blocks) == 1:
            early = dict(usage, output_tokens=min(out_tokens, rng.randrange(1, 12)))
            t_copy = ts - rng.randrange(200, 3000)
            line, _ = self._assistant_line(msg_id, req_id, blocks[0], early, None, t_copy)
            self._emit(line)
            copies.append((early, t_copy))
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            # an early copy's placeholder never exceeds the final count: output only grows
            u = usage if (last or not streaming) else dict(usage, output_tokens=min(out_tokens, rng.randrange(1, 12)))
            t_copy = ts - (len(blocks) - 1 - i) * rng.randrange(50, 2000)
            line, _ = self._assistant_line(msg_id, req_id, block, u, stop if last else None, t_copy)
            self._emit(line)
            copies.append((u, t_copy))
        if streaming:
            self.streamed.add(msg_id)
        gen.account_call(self, copies)
        self.history.append((msg_id, usage, blocks[-1]))
        return tool

    def _tool_input(self, name: str) -> dict:
        rng = self.rng
        path = f"{self.cwd}/src/{rng.choice(('app', 'store', 'rows', 'cli', 'report', 'util'))}_{rng.randrange(40)}.py"
        if name == "Bash":
            return {"command": rng.choice(("pytest -q", "git status", "ls -la", "python -m build", "npm test",
                                           "grep -rn usage src/")), "description": "Run a command"}
        if name == "Read":
            return {"file_path": path}
        if name == "Edit":
            return {"file_path": path, "old_string": _text(rng, rng.randrange(20, 1500)),
                    "new_string": _text(rng, rng.randrange(20, 2500))}
        if name == "Write":
            return {"file_path": path, "content": _text(rng, _lognormal_int(rng, 3000, 1.2, 50, 120_000))}
        if name in ("Grep", "Glob"):
            return {"pattern": rng.choice(("usage", "def .*refresh", "**/*.py", "TODO")), "path": self.cwd}
        if name == "Task":
            return {"description": "Explore the codebase", "prompt": _text(rng, rng.randrange(100, 1500)),
                    "subagent_type": rng.choice(("Explore", "general-purpose"))}
        if name == "TodoWrite":
            return {"todos": [{"content": _text(rng, rng.randrange(10, 80)), "status": "pending",
                               "activeForm": "Working"} for _ in range(rng.randrange(1, 6))]}
        return {"url": "https://example.com/docs", "prompt": "Summarise the page"}

    def tool_result(self, tool: dict) -> None:
        rng = self.rng
        name = tool["name"]
        if rng.random() < self.gen.huge_rate:
            size = rng.randrange(400_000, 2_500_000)                   # a huge log or file
        elif "huge" in self.force:
            self.force.discard("huge")
            size = rng.randrange(400_000, 1_000_000)
        else:
            size = _lognormal_int(rng, 1_400, 1.5, 0, 300_000)
        if name in ("Edit", "Write", "TodoWrite"):
            size = min(size, rng.randrange(40, 400))
        body = _text(rng, size)
        if rng.random() < 0.01:   # the agent read a transcript: usage-looking text inside a string
            body += ('\n{"type":"assistant","message":{"model":"claude-opus-4-6","id":"msg_fake",'
                     '"usage":{"input_tokens":999999,"output_tokens":999999}},"requestId":"req_fake"}\n')
        is_error = rng.random() < 0.06
        uuid = _uuid(rng)
        d = self._common("user", uuid)
        d["message"] = {"role": "user", "content": [{"tool_use_id": tool["id"], "type": "tool_result",
                                                     "content": body, "is_error": is_error}]}
        d["timestamp"] = _iso(self._tick(200, 40_000 if name != "Task" else 400_000))
        if name == "Bash":
            d["toolUseResult"] = {"stdout": body, "stderr": "", "interrupted": False, "isImage": False}
        elif name == "Read":
            d["toolUseResult"] = {"type": "text", "file": {"filePath": tool["input"]["file_path"], "content": body,
                                                           "numLines": body.count("\n") + 1, "startLine": 1,
                                                           "totalLines": body.count("\n") + 1}}
        elif name in ("Grep", "Glob"):
            d["toolUseResult"] = {"mode": "files_with_matches", "filenames": [], "numFiles": rng.randrange(9)}
        else:
            d["toolUseResult"] = body[:200]
        self._emit(_dumps(d))
        self.prev_uuid = uuid
        self.pending_tokens = min(size // 4, 25_000)   # Claude Code truncates what the model sees

    def maybe_noise(self) -> None:
        """The other line types a transcript holds, and the rare broken line."""
        rng, gen = self.rng, self.gen
        r = rng.random()
        if r < 0.02:
            d = self._common("system", _uuid(rng))
            d.update({"subtype": "informational", "content": "Running PostToolUse hooks…", "isMeta": False,
                      "timestamp": _iso(self.t), "level": "info"})
            self._emit(_dumps(d))
        elif r < 0.05:
            d = self._common("progress", _uuid(rng))
            d.update({"data": {"type": "hook_progress", "hookEvent": "PostToolUse", "hookName": "PostToolUse:Bash",
                               "command": "token-roi-guard"}, "toolUseID": "toolu_01" + _b62(rng, 22),
                      "parentToolUseID": "toolu_01" + _b62(rng, 22), "timestamp": _iso(self.t)})
            self._emit(_dumps(d))
        elif r < 0.058:
            self.synthetic()
        elif r < 0.0585 + gen.garbage_rate:
            self.garbage()

    def synthetic(self) -> None:
        """A local error shown as an assistant message: model <synthetic>, zero usage, no requestId."""
        rng = self.rng
        uuid = _uuid(rng)
        zero = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}}
        d = {"parentUuid": self.prev_uuid, "isSidechain": self.sidechain, "userType": "external", "cwd": self.cwd,
             "sessionId": self.session_id, "version": self.version, "gitBranch": self.branch,
             "message": {"id": _uuid(rng), "container": None, "model": "<synthetic>", "role": "assistant",
                         "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message", "usage": zero,
                         "content": [{"type": "text", "text": rng.choice((
                             "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}",
                             "No response requested.", "API Error: Request timed out."))}]},
             "type": "assistant", "uuid": uuid, "timestamp": _iso(self.t)}
        if self.subagent:
            d["agentId"] = self.subagent[0]
        if rng.random() < 0.6:
            d["isApiErrorMessage"] = True
        self._emit(_dumps(d))
        self.gen.tree.synthetic_lines += 1
        self.prev_uuid = uuid

    def garbage(self) -> None:
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0 and self.out:      # a crash cut a line short; the session went on after it
            line = self.out[-1][: rng.randrange(1, max(2, len(self.out[-1]) // 2))]
        elif kind == 1:
            line = "\x00" * rng.randrange(1, 64)
        elif kind == 2:
            line = "null"
        else:
            line = "[1,2,3]"
        self._emit(line)
        self.gen.tree.bad_lines += 1

    def btw_replay(self) -> None:
        """A /btw side question: earlier responses replayed under a new requestId on the sidechain,
        then the side answer itself (a real call with its own id)."""
        rng = self.rng
        uuid = _uuid(rng)
        d = self._common("user", uuid)
        d["isSidechain"] = True
        d["message"] = {"role": "user", "content": "/btw " + _text(rng, rng.randrange(20, 200))}
        d["timestamp"] = _iso(self._tick(1_000, 60_000))
        self._emit(_dumps(d))
        for msg_id, usage, block in self.history[-rng.randrange(1, 4):]:
            req = "req_011C" + _b62(rng, 21)
            line, _ = self._assistant_line(msg_id, req, block, usage, None, self._tick(5, 300), sidechain=True)
            self._emit(line)
            self.gen.account_replay(usage)
        main = self.sidechain
        self.sidechain = True
        saved = self.context
        self.assistant_response(want_tool=False)
        self.context = saved
        self.sidechain = main

    def compact(self) -> None:
        rng = self.rng
        d = self._common("system", _uuid(rng))
        d.update({"subtype": "compact_boundary", "content": "Conversation compacted", "isMeta": False,
                  "timestamp": _iso(self.t), "level": "info",
                  "compactMetadata": {"trigger": "auto", "preTokens": self.context}})
        d["parentUuid"] = None
        d["logicalParentUuid"] = self.prev_uuid
        self._emit(_dumps(d))
        self.context = rng.randrange(12_000, 30_000)

    def run_subagent(self, task: dict) -> None:
        gen = self.gen
        agent_id = f"{self.rng.getrandbits(32):08x}"
        models = [model for model, _ in SUBAGENT_MODELS]
        weights = [weight for _, weight in SUBAGENT_MODELS]
        sub = _Session(gen, self.cwd, self.session_id, _lognormal_int(self.rng, 60_000, 1.0, 5_000, 2 * MB),
                       self.t, subagent=(agent_id, self.rng.choices(models, weights)[0]))
        sub.body()
        path = gen.project_dir(self.cwd) / self.session_id / "subagents" / f"agent-{agent_id}.jsonl"
        gen.write(path, sub.out, sub.t, subagent=True)
        self.t = max(self.t, sub.t)
        self.size += sub.size

    # -- the conversation ------------------------------------------------------------------------
    def body(self) -> None:
        rng, gen = self.rng, self.gen
        if self.parent_lines:                         # a resumed session starts with its parent's lines
            self._emit(_dumps({"type": "summary", "summary": _text(rng, rng.randrange(20, 70)).replace("\n", " "),
                               "leafUuid": _uuid(rng)}))
            for line in self.parent_lines:
                self._emit(line)
            gen.tree.resumed_sessions += 1
        self.user_prompt()
        while self.size < self.target:
            r = rng.random()
            if r < 0.12 and not self.sidechain:
                self.user_prompt()
            elif gen.traps and r < 0.125 and self.history and not self.sidechain:
                self.btw_replay()
                continue
            if self.context > self.compact_at:
                self.compact()
            tool = self.assistant_response(want_tool=rng.random() < 0.85)
            if tool is not None:
                if tool["name"] == "Task" and not self.sidechain:
                    self.run_subagent(tool)
                self.tool_result(tool)
            self.maybe_noise()
            if self.force and not self.sidechain:      # rare cases every tree must hold at least once
                for case in ("garbage", "synthetic", "btw"):
                    if case in self.force:
                        self.force.discard(case)
                        if case == "btw":
                            if gen.traps:
                                self.btw_replay()
                        else:
                            getattr(self, case)()
            if not self.sidechain and rng.random() < gen.overnight_rate:   # the session goes on another day
                self.t += rng.randrange(8, 40) * 3600_000


# -- the tree -----------------------------------------------------------------------------------

class _Generator:
    def __init__(self, root: Path, seed: int, traps: bool, start: dt.datetime, days: int,
                 n_projects: int):
        self.root = Path(root)
        self.rng = random.Random(seed)
        self.traps = traps
        self.start_ms = int(start.timestamp() * 1000)
        self.days = days
        self.tree = SampleTree(root=self.root, seed=seed, traps=traps)
        self.session_median = 100_000
        self.huge_rate = 0.004          # tool results of 0.4-2.5 MB, per tool call
        self.garbage_rate = 0.0008
        self.overnight_rate = 0.002
        names = list(PROJECT_NAMES)
        self.rng.shuffle(names)
        self.projects = [f"/home/dev/src/{n}" for n in names[:n_projects]]
        self.project_weights = [self.rng.uniform(0.3, 3.0) for _ in self.projects]

    def no_cache_call(self, rng: random.Random) -> bool:
        return rng.random() < 0.01

    def project_dir(self, cwd: str) -> Path:
        return self.root / "projects" / encode_project_dir(cwd)

    def account_call(self, session: _Session, copies: list[tuple[dict, int]]) -> None:
        """One API call written as `copies` (usage, timestamp), in file order. The rule keeps the
        largest copy (all are on one chain here); among equal copies the first, whose timestamp
        decides the call's day."""
        tree = self.tree
        top = max(_total(u) for u, _ in copies)
        usage, ts = next((u, t) for u, t in copies if _total(u) == top)
        tree.expected.add(usage)
        tree.by_model.setdefault(session.model, Totals()).add(usage)
        tree.by_day.setdefault(_iso(ts)[:10], Totals()).add(usage)
        tree.first_per_id_and_request.add(copies[0][0])
        for c, _ in copies:
            tree.every_line.add(c)
        tree.usage_lines += len(copies)
        if usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"] > 200_000:
            tree.long_context_calls += 1
        iso = _iso(ts)
        if not tree.first_ts or iso < tree.first_ts:
            tree.first_ts = iso
        if iso > tree.last_ts:
            tree.last_ts = iso

    def account_replay(self, usage: dict) -> None:
        self.tree.first_per_id_and_request.add(usage)
        self.tree.every_line.add(usage)
        self.tree.usage_lines += 1

    def write(self, path: Path, lines: list[str], last_ms: int, *, subagent: bool = False,
              half_line: str | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "\n".join(lines) + "\n" if lines else ""
        if half_line:
            data += half_line
        raw = data.encode("utf-8")
        with open(path, "wb") as f:
            f.write(raw)
        os.utime(path, ns=(last_ms * 1_000_000, last_ms * 1_000_000))
        tree = self.tree
        tree.files += 1
        tree.bytes += len(raw)
        if subagent:
            tree.subagent_files += 1

    def session_start(self) -> int:
        rng = self.rng
        day = rng.randrange(self.days)
        hour = rng.choice((8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 19, 21, 23, 2))
        return self.start_ms + day * 86_400_000 + hour * 3600_000 + rng.randrange(3600_000)

    def session(self, target: int, *, cwd: str | None = None, t0: int | None = None,
                parent: _Written | None = None, force: frozenset[str] = frozenset()) -> _Written:
        rng = self.rng
        if cwd is None:    # every project gets a session first, then by weight
            unused = [p for p in self.projects if p not in self.tree.projects]
            cwd = unused[0] if unused else rng.choices(self.projects, self.project_weights)[0]
        if cwd not in self.tree.projects:
            self.tree.projects.append(cwd)
        sid = _uuid(rng)
        if parent is not None:
            self.tree.bad_lines += parent.tail_bad
            for u in parent.tail_usage:
                self.tree.every_line.add(u)
                self.tree.usage_lines += 1
        s = _Session(self, cwd, sid, target, t0 if t0 is not None else self.session_start(),
                     parent_lines=parent.tail if parent else None, force=force)
        s.body()
        half = None
        # the agent was killed mid-write: a last line with no newline
        if (rng.random() < 0.01 or "half" in force) and s.out:
            half = s.out[-1][: len(s.out[-1]) // 2]
            self.tree.half_lines += 1
        path = self.project_dir(cwd) / f"{sid}.jsonl"
        self.write(path, s.out, s.t, half_line=half)
        self.tree.sessions += 1
        # What a resumed session would copy: this one's tail, minus responses that had placeholder
        # copies (which copy a naive reader meets first would then depend on its file order).
        tail, tail_usage, tail_bad = [], [], 0
        for line in s.out[-rng.randrange(4, 30):]:
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                tail_bad += 1
            elif obj.get("type") == "assistant":
                if obj["message"]["id"] in s.streamed:
                    continue
                tail_usage.append(obj["message"]["usage"])
            tail.append(line)
        return _Written(cwd, path, s.t, tail, tail_usage, tail_bad)

    def run(self, total_bytes: int) -> SampleTree:
        rng = self.rng
        # A few transcripts of tens of MB, due when the tree reaches a random point of its size.
        big = sorted((rng.uniform(0, total_bytes), rng.randrange(12 * MB, 55 * MB))
                     for _ in range(int(total_bytes // (200 * MB))))
        last = None
        # The first sessions hold the rare cases, so even a small (demo) tree has each of them.
        forced = [frozenset({"long", "garbage", "synthetic", "btw", "huge"}), frozenset({"unknown"}),
                  frozenset({"resume", "half"})]
        while self.tree.bytes < total_bytes:
            force = forced.pop(0) if forced else frozenset()
            if big and self.tree.bytes >= big[0][0]:
                size = big.pop(0)[1]
            else:
                size = _lognormal_int(rng, self.session_median, 1.15, 4_000, 6 * MB)
            size = min(size, max(total_bytes - self.tree.bytes, 4_000))
            if "unknown" in force:
                size = min(size, 40_000)
            if last is not None and ("resume" in force or rng.random() < 0.04):   # a new file continuing the last
                last = self.session(size, cwd=last.cwd, t0=last.end_ms + rng.randrange(60_000, 3 * 3600_000),
                                    parent=last, force=force)
            else:
                last = self.session(size, force=force)
        return self.tree


@dataclass
class _Written:
    cwd: str
    path: Path
    end_ms: int
    tail: list[str]
    tail_usage: list[dict]
    tail_bad: int


def _total(u: dict) -> int:
    return (u["input_tokens"] + u["output_tokens"] + u["cache_creation_input_tokens"]
            + u["cache_read_input_tokens"])


def generate_claude_tree(root: Path | str, *, total_bytes: int, seed: int = 0,
                         start: dt.datetime = DEFAULT_START, days: int = 28, projects: int | None = None,
                         traps: bool = True, session_median: int = 100_000,
                         huge_results: bool = True) -> SampleTree:
    """Write a Claude Code config dir at `root` (holding `projects/`) of about `total_bytes`.

    Same arguments, same bytes. `start` (UTC) and `days` bound when sessions begin; long sessions
    may run past the last day. `projects` defaults to 3 for small trees, up to 12 for large ones;
    session files are log-normal around `session_median` bytes, plus a few of tens of MB per 200 MB;
    `huge_results=False` keeps only one megabyte tool result (for small trees such as the demo's).
    """
    if projects is None:
        projects = max(2, min(len(PROJECT_NAMES), 3 + int(total_bytes // (100 * MB))))
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.timezone.utc)
    gen = _Generator(Path(root), seed, traps, start, max(1, days), min(projects, len(PROJECT_NAMES)))
    gen.session_median = session_median
    if not huge_results:       # a small tree's bytes go to sessions, not to a few megabyte outputs
        gen.huge_rate = 0.0
    return gen.run(total_bytes)


def append_session(root: Path | str, *, total_bytes: int, seed: int, when: dt.datetime,
                   cwd: str = "/home/dev/src/acme-api", traps: bool = True) -> tuple[Path, SampleTree]:
    """Write one more session (a new file) into an existing tree, as a running agent would.
    Returns the new file and the totals of that file alone."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    gen = _Generator(Path(root), seed, traps, when, 1, 1)
    gen.overnight_rate = 0.0
    written = gen.session(total_bytes, cwd=cwd, t0=int(when.timestamp() * 1000))
    return written.path, gen.tree


def parse_size(text: str) -> int:
    """'1GB', '200MB', '64KiB', '12345' -> bytes (binary units)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 200MB, 1GB)")
    return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2) or " "))
