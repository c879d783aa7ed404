"""hooks/run, the launcher every hooks.json command goes through: python3 is found on PATH once
(through a version manager's shim, here a stand-in that counts its calls), its interpreter is
cached, and later hooks exec that interpreter without PATH. Stale or unwritable caches, no
Python at all, 100 first calls at once, paths with spaces: the hook still does its job or exits 0
quietly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hook_support import REPO, Transcript, hook_command, hook_env, log_lines, post_tool, state_of

SID = "3f1e2d4c-5b6a-4789-8abc-def012345678"


@pytest.fixture
def transcript(tmp_path):
    t = Transcript(tmp_path / "claude" / "projects" / "-home-dev-src-acme-api" / f"{SID}.jsonl", SID)
    t.user()
    t.assistant("msg_01A", input=3, output=120, cache_read=1000)
    t.tool_result("msg_01A")
    return t


@pytest.fixture
def shim(tmp_path):
    """A python3 that, like pyenv's shim, is a script in front of the real interpreter; it notes each call."""
    folder = tmp_path / "shims"
    folder.mkdir()
    calls = tmp_path / "shim-calls"
    script = folder / "python3"
    script.write_text(f'#!/bin/sh\necho x >> "{calls}"\nexec "{sys.executable}" "$@"\n')
    script.chmod(0o755)
    return folder, calls


def shim_calls(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def env_with(path: str, **extra: str) -> dict:
    env = hook_env(**extra)
    env["PATH"] = path
    return env


def run(transcript, env: dict, n: int = 0, root: Path = REPO) -> subprocess.CompletedProcess:
    """The PostToolUse command string as Claude Code runs it: /bin/sh -c, the payload on stdin."""
    payload = post_tool(SID, transcript.path, "Read", {"file_path": f"/src/m{n}.py"}, n=n)
    return subprocess.run(["/bin/sh", "-c", hook_command("PostToolUse", root)], input=json.dumps(payload).encode(),
                          capture_output=True, env=env, timeout=120)


def ok(proc: subprocess.CompletedProcess) -> None:
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b""), proc


def state_home() -> Path:
    return Path(os.environ["TOKEN_ROI_HOME"])


def test_first_call_finds_python3_on_path_and_the_next_ones_skip_it(transcript, shim):
    folder, calls = shim
    env = env_with(f"{folder}:/usr/bin:/bin")
    ok(run(transcript, env, 1))
    cache = state_home() / "hook-python"
    assert cache.read_text() == sys.executable + "\n"        # the interpreter, not the shim
    assert shim_calls(calls) == 1
    for n in range(2, 5):
        ok(run(transcript, env, n))
    assert shim_calls(calls) == 1
    # No python3 on PATH at all: the cached interpreter still runs the hook.
    ok(run(transcript, env_with("/nonexistent"), 5))
    assert state_of(SID)["tool_calls"] == {"Read": 5}
    assert state_of(SID)["total_tokens_used"] == 3 + 120 + 1000
    assert [p.name for p in cache.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_the_cache_goes_in_claude_plugin_data_when_set(transcript, shim, tmp_path):
    folder, calls = shim
    data = tmp_path / "plugin-data" / "token-roi"              # not created yet
    env = env_with(f"{folder}:/usr/bin:/bin", CLAUDE_PLUGIN_DATA=str(data))
    ok(run(transcript, env, 1))
    ok(run(transcript, env, 2))
    assert (data / "hook-python").read_text() == sys.executable + "\n"
    assert not (state_home() / "hook-python").exists()
    assert shim_calls(calls) == 1
    assert state_of(SID)["tool_calls"] == {"Read": 2}


@pytest.mark.parametrize("stale", ["gone", "not-executable", "a-folder", "relative", "garbage", "empty"])
def test_a_stale_cache_is_found_again_through_path(transcript, shim, tmp_path, stale):
    folder, calls = shim
    cache = state_home() / "hook-python"
    cache.parent.mkdir(parents=True, exist_ok=True)
    target = {"gone": tmp_path / "uninstalled" / "python3", "not-executable": tmp_path / "plain-file",
              "a-folder": tmp_path, "relative": "python3", "garbage": "\x00\x01 ~~", "empty": ""}[stale]
    if stale == "not-executable":
        target.write_text("#!/bin/sh\nexit 3\n")
    cache.write_text(f"{target}\n" if stale != "empty" else "")
    env = env_with(f"{folder}:/usr/bin:/bin")
    ok(run(transcript, env, 1))
    assert shim_calls(calls) == 1
    assert cache.read_text() == sys.executable + "\n"
    ok(run(transcript, env, 2))
    assert shim_calls(calls) == 1
    assert state_of(SID)["tool_calls"] == {"Read": 2}


def test_no_python_at_all_exits_0_quietly_and_logs(transcript):
    ok(run(transcript, env_with("/nonexistent")))
    lines = log_lines()
    assert len(lines) == 1 and "hook [?] error no python3 on PATH (/nonexistent)" in lines[0], lines
    assert not (state_home() / "sessions").exists()


def test_no_python_and_no_log_location_still_exits_0(transcript, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    ok(run(transcript, env_with("/nonexistent", TOKEN_ROI_HOME=str(blocker / "home"))))


def test_an_unwritable_cache_means_path_every_time(transcript, shim, tmp_path):
    folder, calls = shim
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = env_with(f"{folder}:/usr/bin:/bin", CLAUDE_PLUGIN_DATA=str(blocker / "data"))
    for n in range(1, 4):
        ok(run(transcript, env, n))
    assert shim_calls(calls) == 3
    assert state_of(SID)["tool_calls"] == {"Read": 3}
    assert [p for p in tmp_path.rglob("*.tmp")] == []
    assert not any("error" in line for line in log_lines())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder(transcript, shim, tmp_path):
    folder, calls = shim
    data = tmp_path / "ro"
    data.mkdir()
    data.chmod(0o555)
    try:
        env = env_with(f"{folder}:/usr/bin:/bin", CLAUDE_PLUGIN_DATA=str(data))
        ok(run(transcript, env, 1))
        ok(run(transcript, env, 2))
        assert shim_calls(calls) == 2 and list(data.iterdir()) == []
    finally:
        data.chmod(0o755)


def test_token_roi_python_overrides_path_and_cache(transcript, shim, tmp_path):
    folder, calls = shim
    cache = state_home() / "hook-python"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(str(folder / "python3") + "\n")             # would go through the shim
    ok(run(transcript, env_with("/nonexistent", TOKEN_ROI_PYTHON=sys.executable), 1))
    assert shim_calls(calls) == 0
    assert cache.read_text() == str(folder / "python3") + "\n"   # left alone
    # An override that is not an interpreter falls back to the usual search.
    ok(run(transcript, env_with(f"{folder}:/usr/bin:/bin", TOKEN_ROI_PYTHON=str(tmp_path / "nope")), 2))
    assert shim_calls(calls) == 1
    assert state_of(SID)["tool_calls"] == {"Read": 2}


@pytest.mark.parametrize("where", ["home", "home-tilde", "xdg", "xdg-tilde", "xdg-relative", "default"])
def test_the_cache_sits_in_token_roi_state_dir(transcript, shim, tmp_path, where):
    """hooks/run works out the state folder in sh: the same folder as token_roi.paths.state_dir()."""
    folder, _ = shim
    user = Path(os.environ["HOME"])
    extra = {"home": {"TOKEN_ROI_HOME": str(tmp_path / "trh")}, "home-tilde": {"TOKEN_ROI_HOME": "~/trh"},
             "xdg": {"XDG_STATE_HOME": str(tmp_path / "xdg")}, "xdg-tilde": {"XDG_STATE_HOME": "~/xdg"},
             "xdg-relative": {"XDG_STATE_HOME": "relative/state"}, "default": {}}[where]
    env = env_with(f"{folder}:/usr/bin:/bin", **extra)
    if "TOKEN_ROI_HOME" not in extra:
        del env["TOKEN_ROI_HOME"]
    ok(run(transcript, env, 1))
    probe = subprocess.run([sys.executable, "-c", "from token_roi import paths; print(paths.state_dir())"],
                           env=env, capture_output=True, text=True, check=True)
    state = Path(probe.stdout.strip())
    assert state.is_relative_to(tmp_path)
    assert (state / "hook-python").read_text() == sys.executable + "\n"
    assert (state / "sessions" / f"{SID}.json").exists()
    if where == "default":
        assert state == user / ".local" / "state" / "token-roi"


@pytest.mark.parametrize("home", ["relative-home", "~nobody-such/x", "~/x without HOME"])
def test_no_cache_where_the_state_folder_would_be_relative(transcript, shim, tmp_path, home):
    """A relative folder would be relative to the project Claude Code runs the hook in."""
    folder, calls = shim
    project = tmp_path / "project"
    project.mkdir()
    env = env_with(f"{folder}:/usr/bin:/bin", TOKEN_ROI_HOME=home.split(" ")[0])
    if "without HOME" in home:
        del env["HOME"]
    payload = post_tool(SID, transcript.path, "Read", {"file_path": "/src/a.py"})
    for _ in range(2):
        proc = subprocess.run(["/bin/sh", "-c", hook_command("PostToolUse")], input=json.dumps(payload).encode(),
                              capture_output=True, env=env, timeout=120, cwd=project)
        ok(proc)
    assert shim_calls(calls) == 2
    assert [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("hook-python*")] == []


def test_a_plugin_folder_with_spaces_and_a_quote(transcript, shim, tmp_path):
    folder, calls = shim
    plugin = tmp_path / "my plugins" / "token-roi's (copy)"
    shutil.copytree(REPO / "core", plugin / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "hooks", plugin / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    env = env_with(f"{folder}:/usr/bin:/bin", CLAUDE_PLUGIN_ROOT=str(plugin))
    ok(run(transcript, env, 1, root=plugin))
    ok(run(transcript, env, 2, root=plugin))
    assert shim_calls(calls) == 1
    assert state_of(SID)["tool_calls"] == {"Read": 2}


def test_100_first_calls_at_once(transcript, shim):
    """Claude runs tool calls in parallel: a new install's first hooks all miss the cache together."""
    folder, calls = shim
    env = env_with(f"{folder}:/usr/bin:/bin")
    argv = ["/bin/sh", "-c", hook_command("PostToolUse")]
    procs = [subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(100)]
    for n, proc in enumerate(procs):
        payload = post_tool(SID, transcript.path, "Read", {"file_path": f"/src/m{n}.py"}, n=n)
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
    for proc in procs:
        proc.wait(timeout=300)
        assert (proc.returncode, proc.stdout.read(), proc.stderr.read()) == (0, b"", b"")
        proc.stdout.close()
        proc.stderr.close()
    assert 1 <= shim_calls(calls) <= 100
    home = state_home()
    assert (home / "hook-python").read_text() == sys.executable + "\n"
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []
    assert state_of(SID)["tool_calls"] == {"Read": 100}
    before = shim_calls(calls)
    ok(run(transcript, env, 100))
    assert shim_calls(calls) == before
