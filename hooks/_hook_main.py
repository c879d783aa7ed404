"""The body of hooks/token_budget_guard.py, token-roi's Claude Code hook (one script for every
event, hooks/hooks.json). A module rather than the script itself: Python compiles a script from
source on every run (~2.5 ms for this file) but loads a module from its cached bytecode.

Reads the event JSON on stdin, updates the session's guard state, prints Claude Code's JSON
answer or nothing. Whatever happens (bad input, missing transcript, corrupt state, read-only
disk, unknown event) it exits 0, prints nothing it should not, and logs the error to our log.
Standard library only.
"""

import os
import sys


def _state_dir() -> str:
    """token_roi.paths.state_dir() without importing anything (see the PreToolUse fast path)."""
    home = os.environ.get("TOKEN_ROI_HOME")
    if home:
        return os.path.expanduser(home)
    state = os.path.expanduser(os.environ.get("XDG_STATE_HOME") or "")
    base = state if os.path.isabs(state) else os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "token-roi")


def _hard_cap_off() -> bool:
    """PreToolUse runs before every tool call but only matters with the opt-in hard cap: on
    unless TOKEN_ROI_HARD_CAP says so or the config file set it (settings.sync_hard_cap_flag)."""
    env = os.environ.get("TOKEN_ROI_HARD_CAP", "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return False
    if env in ("0", "false", "no", "off"):
        return True
    return not os.path.exists(os.path.join(_state_dir(), "guard-hard-cap"))


def _fallback_log(exc: BaseException) -> None:
    """Used only when token_roi itself cannot be loaded."""
    try:
        import time
        folder = _state_dir()
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(os.path.join(folder, "token-roi.log"), "a", encoding="utf-8",
                  opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            f.write(f"{stamp} hook [?] error {type(exc).__name__}: {str(exc)[:300]}\n")
    except BaseException:
        pass


def _remember_interpreter() -> None:
    """hooks/run found no usable cached interpreter and ran python3 from PATH (through a shim,
    perhaps): record this interpreter so that the next hooks exec it directly."""
    cache = os.environ.get("TOKEN_ROI_PYTHON_CACHE")
    exe = sys.executable
    if not cache or sys.version_info < (3, 10) or not os.path.isabs(exe) or not os.access(exe, os.X_OK):
        return
    tmp = f"{cache}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(cache), mode=0o700, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            f.write(exe + "\n")
        os.replace(tmp, cache)     # whole or not at all, whatever other hooks do at the same time
    except OSError:
        # A read-only folder: python3 from PATH every time, as without the cache.
        try:
            os.unlink(tmp)
        except OSError:
            pass


def main() -> int:
    try:
        raw = sys.stdin.buffer.read()
    except BaseException as exc:
        raw = b""
        _fallback_log(exc)
    if sys.argv[1:2] == ["--pre-tool-use"] and _hard_cap_off():
        return 0
    try:
        import _bootstrap
        _bootstrap.load()
        from token_roi.guard.hook import run
    except BaseException as exc:
        _fallback_log(exc)
        return 0
    out = run(raw)
    if out:
        try:
            sys.stdout.buffer.write(out.encode("utf-8"))   # UTF-8 whatever the locale says
            sys.stdout.buffer.flush()
        except BaseException as exc:
            _fallback_log(exc)
    return 0


def run_as_script() -> None:
    try:
        code = main()
    except BaseException:
        code = 0
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    try:
        _remember_interpreter()
    except BaseException:
        pass
    os._exit(code)
