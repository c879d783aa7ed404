"""A broken file the user controls stops a command with one line naming it, never a traceback
or an 'internal error'."""

import subprocess
import sys


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "token_roi.cli", *args], capture_output=True, text=True, env=env)


def test_bad_price_override_is_one_line_naming_file_model_and_field(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "prices.yaml").write_text("claude-sonnet-4-5: {input: -3, output: 15}\n")
    out = run("daily", "--json")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "prices.yaml" in lines[0] and "claude-sonnet-4-5" in lines[0] and "input" in lines[0]
    assert "internal error" not in lines[0] and "Traceback" not in out.stderr


def test_bad_config_is_one_line_naming_the_key(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.yaml").write_text("company:\n  stage: seed\n")
    out = run("budget")
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "company.stage" in out.stderr and "seed" in out.stderr and "Traceback" not in out.stderr


def test_corrupt_ledger_file_is_one_line(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "ledger.sqlite3").write_bytes(b"this is not a database" * 100)
    out = run("daily")
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "ledger.sqlite3" in out.stderr and "Traceback" not in out.stderr


def test_the_command_prints_everything_before_it_exits(isolated_home, monkeypatch, tmp_path):
    # Whatever the command printed arrives whole, and says the same as main() run in this process.
    import json
    import os
    import shutil
    from pathlib import Path

    from token_roi.cli import main
    tree = tmp_path / "claude"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "claude" / "projects", tree / "projects")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tree))
    out = run("session", "--json", "-z", "UTC", env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["sessions"] and got["totals"]["totalTokens"] > 0
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["session", "--json", "-z", "UTC"]) == 0
    assert json.loads(buf.getvalue()) == got


def test_a_reader_gone_before_the_output_is_a_quiet_exit_0(isolated_home):
    # `token-roi demo --json | head -0`: stdout is a pipe nobody reads: a quiet exit 0, no traceback.
    import os
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "token_roi.cli", "demo", "--json"], stdout=w,
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.close(w)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception" not in proc.stderr, proc.stderr


def test_the_exit_waits_for_threads_that_are_not_daemons(tmp_path):
    # A command that left a thread running exits only once that thread is done.
    marker = tmp_path / "done"
    code = (
        "import sys, threading, time\n"
        "import token_roi.cli as cli\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        f"    open({str(marker)!r}, 'w').write('ok')\n"
        "def fake_main(argv=None):\n"
        "    threading.Thread(target=late).start()\n"
        "    return 3\n"
        "cli.main = fake_main\n"
        "cli.entry()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 3, out.stderr
    assert marker.read_text() == "ok"
