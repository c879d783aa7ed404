"""The real Claude Code client against a scripted Messages API, for the guard's end-to-end tests.

- `claude_binary()` installs `@anthropic-ai/claude-code` at CLAUDE_CODE_VERSION from npm into a
  cache folder outside the repository (~/.cache/token-roi-tests/, or $TOKEN_ROI_TEST_CACHE),
  reused when present; it fails the test, saying why, when npm or the package is unavailable.
- `StubAPI` is a Messages API on 127.0.0.1 that streams (SSE) scripted answers: each request the
  client makes for its main loop (or for a subagent, told apart by a marker in its prompt) takes
  the next step of that conversation's script, a tool call or a final text. Every request body
  is kept, so a test can read what the client sent back: tool results, hook context, block text.
- `run_claude()` runs `claude -p PROMPT --plugin-dir <repo>` with a private HOME and config dir.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLAUDE_CODE_VERSION = "2.1.197"
MODEL = "claude-sonnet-4-6"
# What each scripted answer reports as its usage (a 30k cached prompt, as real requests re-read).
USAGE = {"input_tokens": 12, "cache_read_input_tokens": 30_000, "cache_creation_input_tokens": 500,
         "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 0}}
OUTPUT_TOKENS = 40


def cache_dir() -> Path:
    base = os.environ.get("TOKEN_ROI_TEST_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "token-roi-tests")
    return Path(base) / f"claude-code-{CLAUDE_CODE_VERSION}"


def claude_binary() -> Path:
    """The pinned client, installed on first use (npm), else pytest.fail with the reason."""
    folder = cache_dir()
    binary = folder / "node_modules" / ".bin" / "claude"
    if not _works(binary):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("the Claude Code end-to-end tests need npm (Node.js) to install "
                        f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}; none on PATH")
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(folder),
                               f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not _works(binary):
            pytest.fail(f"could not install @anthropic-ai/claude-code@{CLAUDE_CODE_VERSION} into {folder} "
                        f"(npm exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-800:]}")
    return binary


def _works(binary: Path) -> bool:
    if not binary.exists():
        return False
    try:
        proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and CLAUDE_CODE_VERSION in proc.stdout


# -- the scripted API ---------------------------------------------------------------------------------

@dataclass
class Step:
    """One answer: a tool call (name, input) or, with tool None, a final text."""
    tool: str | None = None
    input: dict = field(default_factory=dict)
    text: str = "Done."


def bash(command: str, description: str = "Run the tests") -> Step:
    return Step("Bash", {"command": command, "description": description})


def say(text: str) -> Step:
    return Step(None, text=text)


class StubAPI:
    """`with StubAPI({"main": [...], "MARKER": [...]}) as api:`: conversations by key; a request
    whose first user message contains a key other than "main" follows that key's script."""

    def __init__(self, scripts: dict[str, list[Step]]):
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.requests: list[dict] = []          # every /v1/messages body, in order
        self.conversation: list[str] = []       # the script each request followed ("side" for others)
        self.lock = threading.Lock()
        self.n = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._json(200, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                path = self.path.split("?")[0]
                if path.endswith("/count_tokens"):
                    self._json(200, {"input_tokens": 1000})
                    return
                if not path.endswith("/v1/messages"):
                    self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
                    return
                step, model = stub._answer(body)
                if body.get("stream"):
                    self._stream(step, model)
                else:
                    self._json(200, stub._message(step, model))

            def _json(self, code: int, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, step: Step, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for event, data in stub._events(step, model):
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StubAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- answers --

    def _key(self, body: dict) -> str | None:
        """Which script a request follows: None for the client's side requests (titles, topic
        checks), which carry no tools."""
        if not body.get("tools"):
            return None
        messages = body.get("messages") or []
        first = json.dumps(messages[0]) if messages else ""
        for key in self.scripts:
            if key != "main" and key in first:
                return key
        return "main"

    def _answer(self, body: dict) -> tuple[Step, str]:
        model = body.get("model") or MODEL
        with self.lock:
            key = self._key(body)
            self.requests.append(body)
            self.conversation.append(key or "side")
            script = self.scripts.get(key) if key else None
            step = script.pop(0) if script else say("Done.")
            self.n += 1
        return step, model

    def _message(self, step: Step, model: str) -> dict:
        block = ({"type": "tool_use", "id": f"toolu_stub{self.n:04d}", "name": step.tool, "input": step.input}
                 if step.tool else {"type": "text", "text": step.text})
        return {"id": f"msg_stub{self.n:04d}", "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": "tool_use" if step.tool else "end_turn", "stop_sequence": None,
                "usage": {**USAGE, "output_tokens": OUTPUT_TOKENS}}

    def _events(self, step: Step, model: str):
        msg = self._message(step, model)
        start = {**msg, "content": [], "stop_reason": None, "usage": {**USAGE, "output_tokens": 1}}
        yield "message_start", {"type": "message_start", "message": start}
        block = msg["content"][0]
        if step.tool:
            yield "content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {**block, "input": {}}}
            yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "input_json_delta", "partial_json": json.dumps(step.input)}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}}
            yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": step.text}}
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        yield "message_delta", {"type": "message_delta",
                                "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                "usage": {"output_tokens": OUTPUT_TOKENS}}
        yield "message_stop", {"type": "message_stop"}

    # -- reading what the client sent --

    def sent(self, key: str = "main") -> list[str]:
        """The JSON text of each request of one conversation, in order."""
        return [json.dumps(b) for b, k in zip(self.requests, self.conversation) if k == key]


# -- running the client -------------------------------------------------------------------------------

@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    home: Path
    config: Path


def run_claude(prompt: str, api: StubAPI, tmp_path: Path, *, env_extra: dict | None = None,
               args: tuple[str, ...] = ("--allowedTools", "Bash"), cwd: Path | None = None,
               timeout: float = 120) -> Run:
    """`claude -p PROMPT --plugin-dir <repo>` against the stub, with its own HOME, config dir
    and token-roi home (the hooks write there)."""
    home = tmp_path / "home"
    config = home / ".claude"
    config.mkdir(parents=True, exist_ok=True)
    work = cwd or tmp_path / "work"
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "TOKEN_ROI_"))}
    env.update({
        "HOME": str(home), "CLAUDE_CONFIG_DIR": str(config), "ANTHROPIC_BASE_URL": api.url,
        "ANTHROPIC_API_KEY": "sk-ant-test-stub", "ANTHROPIC_MODEL": MODEL,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1", "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
        "TOKEN_ROI_HOME": os.environ["TOKEN_ROI_HOME"], "NO_COLOR": "1",
    })
    env.update(env_extra or {})
    proc = subprocess.run([str(claude_binary()), "-p", prompt, "--plugin-dir", str(REPO), "--model", MODEL, *args],
                          cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr, home, config)
