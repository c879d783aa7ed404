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
