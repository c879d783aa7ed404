"""Helpers for the hook tests (no tests here): run the real hook script exactly as hooks/hooks.json
wires it (through hooks/run, with this interpreter as PATH's python3), build the JSON Claude Code
sends, write transcripts shaped like real ones."""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOOKS_JSON = REPO / "hooks" / "hooks.json"
HOOK_SCRIPT = REPO / "hooks" / "token_budget_guard.py"
LAUNCHER = REPO / "hooks" / "run"
CWD = "/home/dev/src/acme-api"
MODEL = "claude-sonnet-4-6"


def hook_command(event: str, root: Path = REPO) -> str:
    """The command string hooks.json gives for `event`, ${CLAUDE_PLUGIN_ROOT} substituted."""
    hooks = json.loads((root / "hooks" / "hooks.json").read_text())["hooks"]
    command = hooks.get(event, hooks["PostToolUse"])[0]["hooks"][0]["command"]
    return command.replace("${CLAUDE_PLUGIN_ROOT}", str(root))


def hook_argv(event: str) -> list[str]:
    """What Claude Code's `/bin/sh -c <command>` execs for `event`: the launcher and its arguments."""
    argv = shlex.split(hook_command(event))
    assert argv[:2] == ["/bin/sh", str(LAUNCHER)], argv
    return argv


_PYTHON_BIN = ""


def python_bin() -> str:
    """A folder whose python3 is this interpreter, for the front of PATH: the hooks run under the
    Python running the tests, found and cached by hooks/run as any python3 on PATH would be."""
    global _PYTHON_BIN
    if not _PYTHON_BIN:
        folder = tempfile.mkdtemp(prefix="token-roi-test-python-")
        os.symlink(sys.executable, os.path.join(folder, "python3"))
        atexit.register(shutil.rmtree, folder, True)
        _PYTHON_BIN = folder
    return _PYTHON_BIN


@dataclass
class HookResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.stdout)


def hook_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["CLAUDE_PLUGIN_ROOT"] = str(REPO)
    env["PATH"] = python_bin() + os.pathsep + env.get("PATH", "")
    for var in ("CLAUDE_PLUGIN_DATA", "TOKEN_ROI_PYTHON", "TOKEN_ROI_PYTHON_CACHE"):
        env.pop(var, None)
    env.update(extra)
    return env


def run_hook(payload, *, event: str | None = None, env: dict | None = None, timeout: float = 60) -> HookResult:
    """Run the hook for one payload (a dict, or raw bytes/str sent as they are)."""
    if isinstance(payload, dict):
        event = event or payload.get("hook_event_name")
        data = json.dumps(payload).encode()
    else:
        data = payload.encode() if isinstance(payload, str) else payload
    proc = subprocess.run(hook_argv(event or "PostToolUse"), input=data, capture_output=True,
                          env=env or hook_env(), timeout=timeout)
    return HookResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def log_lines() -> list[str]:
    from token_roi import paths
    try:
        text = paths.log_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line for line in text.split("\n") if line]   # entries end in "\n" only


def state_of(session_id: str) -> dict:
    from token_roi.guard import state
    return json.loads(state.session_path(session_id).read_text())


# -- payloads (field names as in Claude Code's sdk.d.ts) ------------------------------------------

def base(event: str, session_id: str, transcript: Path | str | None, **extra) -> dict:
    p = {"session_id": session_id, "transcript_path": str(transcript) if transcript else None,
         "cwd": CWD, "permission_mode": "default", "hook_event_name": event}
    if transcript is None:
        del p["transcript_path"]
    p.update(extra)
    return p


def session_start(session_id: str, transcript, source: str = "startup") -> dict:
    return base("SessionStart", session_id, transcript, source=source, model=MODEL)


def post_tool(session_id: str, transcript, tool: str, tool_input: dict, response=None, *, n: int = 0) -> dict:
    if response is None:
        response = _default_response(tool, tool_input)
    return base("PostToolUse", session_id, transcript, tool_name=tool, tool_input=tool_input,
                tool_response=response, tool_use_id=f"toolu_01{n:022d}", duration_ms=41)


def post_tool_failure(session_id: str, transcript, tool: str, tool_input: dict, error: str, *, n: int = 0) -> dict:
    return base("PostToolUseFailure", session_id, transcript, tool_name=tool, tool_input=tool_input,
                tool_use_id=f"toolu_01{n:022d}", error=error, is_interrupt=False, duration_ms=1312)


def pre_tool(session_id: str, transcript, tool: str, tool_input: dict, *, n: int = 0) -> dict:
    return base("PreToolUse", session_id, transcript, tool_name=tool, tool_input=tool_input,
                tool_use_id=f"toolu_01{n:022d}")


def prompt(session_id: str, transcript, text: str) -> dict:
    return base("UserPromptSubmit", session_id, transcript, prompt=text)


def stop(session_id: str, transcript) -> dict:
    return base("Stop", session_id, transcript, stop_hook_active=False,
                last_assistant_message="Done: the failing test now passes.")


def session_end(session_id: str, transcript, reason: str = "prompt_input_exit") -> dict:
    return base("SessionEnd", session_id, transcript, reason=reason)


def _default_response(tool: str, tool_input: dict):
    if tool == "Bash":
        return {"stdout": "ok", "stderr": "", "interrupted": False, "isImage": False}
    if tool == "Read":
        path = tool_input.get("file_path", "/x")
        return {"type": "text", "file": {"filePath": path, "content": "x = 1\n", "numLines": 1,
                                         "startLine": 1, "totalLines": 1}}
    if tool == "Edit":
        return {"filePath": tool_input.get("file_path"), "oldString": "a", "newString": "b",
                "structuredPatch": [], "userModified": False}
    return {"result": "ok"}


# -- transcripts ----------------------------------------------------------------------------------

class Transcript:
    """A Claude Code session transcript written line by line as Claude Code writes it."""

    def __init__(self, path: Path, session_id: str, model: str = MODEL, *, now: bool = False):
        self.now = now               # stamp lines with the current time (for "today" figures)
        self.sidechain = False       # subagent transcripts mark every line isSidechain: true
        self.path = path
        self.session_id = session_id
        self.model = model
        self.n = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def _write(self, obj: dict | str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write((obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))) + "\n")

    def _common(self) -> dict:
        self.n += 1
        if self.now:
            import time
            t = time.time()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
        else:
            stamp = f"2026-05-04T01:{self.n // 60 % 60:02d}:{self.n % 60:02d}.079Z"
        return {"uuid": f"0b6f3c1e-0000-4000-8000-{self.n:012d}", "timestamp": stamp,
                "cwd": CWD, "sessionId": self.session_id, "version": "2.1.126", "gitBranch": "main"}

    def user(self, text: str = "please fix the failing test") -> None:
        self._write({"parentUuid": None, "isSidechain": False, "userType": "external", "type": "user",
                     "message": {"role": "user", "content": text}, **self._common()})

    def assistant(self, msg_id: str, *, input: int = 3, output: int = 120, cache_read: int = 0,
                  cache_5m: int = 0, cache_1h: int = 0, model: str | None = None,
                  sidechain: bool | None = None, request_id: str | None = None, text: str | None = None,
                  tool: tuple[str, dict] | None = ("Bash", {"command": "pytest -q"})) -> None:
        content = [{"type": "text", "text": text}] if text else [
            {"type": "tool_use", "id": f"toolu_{msg_id}", "name": tool[0], "input": tool[1]}]
        self._write({
            "parentUuid": "d5c1", "isSidechain": self.sidechain if sidechain is None else sidechain,
            "userType": "external",
            "message": {"model": model or self.model, "id": msg_id, "type": "message", "role": "assistant",
                        "content": content, "stop_reason": "tool_use", "stop_sequence": None,
                        "usage": {"input_tokens": input, "cache_creation_input_tokens": cache_5m + cache_1h,
                                  "cache_read_input_tokens": cache_read, "output_tokens": output,
                                  "service_tier": "standard",
                                  "cache_creation": {"ephemeral_1h_input_tokens": cache_1h,
                                                     "ephemeral_5m_input_tokens": cache_5m}}},
            "requestId": request_id or f"req_{msg_id}", "type": "assistant", **self._common()})

    def tool_result(self, msg_id: str, stdout: str = "ok", is_error: bool = False) -> None:
        self._write({"parentUuid": "cb1f", "isSidechain": False, "userType": "external", "type": "user",
                     "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{msg_id}",
                                                              "content": stdout, "is_error": is_error}]},
                     "toolUseResult": {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False},
                     **self._common()})

    def half_line(self, text: str = '{"parentUuid":"x","isSidechain":false,"message":{"model"') -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text)

    def subagent(self, agent_id: str) -> Transcript:
        sub = Transcript(self.path.with_suffix("") / "subagents" / f"agent-{agent_id}.jsonl", self.session_id,
                         "claude-haiku-4-5-20251001")
        sub.sidechain = True
        return sub


def expected_cost(model: str, **counts) -> float:
    from token_roi.pricing import cost_of, quick_rates
    args = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_5m_tokens": 0,
            "cache_write_1h_tokens": 0, "reasoning_tokens": 0}
    args.update(counts)
    return cost_of(quick_rates(model), **args)
