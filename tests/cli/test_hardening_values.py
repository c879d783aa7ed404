"""One bad value never breaks every command: out-of-range counts and dates, NaN budgets, an
entry costing 1e999, a YAML "billion laughs" — each refused with one line, or skipped by file
and line while the rest is counted; --json is always strict JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = ('{"id": "good00000001", "ts": "2026-09-03T15:20:00Z", "agent": "chatgpt", "model": "gpt-4o", '
        '"category": "research", "input_tokens": 42000, "output_tokens": 6100, "cost_usd": 12.0, '
        '"cost_source": "given"}\n')


def run(*args, cwd=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "token_roi.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def strict(text: str):
    def refuse(name):
        raise AssertionError(f"not strict JSON: {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "cogs" / "ai-ledger").mkdir(parents=True)
    return root


def entries_file(project: Path) -> Path:
    return project / "cogs" / "ai-ledger" / "entries.jsonl"


@pytest.mark.parametrize("value", ["99999999999999999999999", "9223372036854775808", "10000000001"])
def test_log_refuses_an_out_of_range_count_in_one_line(project, value):
    out = run("log", "--model", "gpt-4o", "--input-tokens", value, "--output-tokens", "1", "--agent", "chatgpt",
              "--category", "research", "--cost", "1", cwd=project)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--input-tokens" in lines[0] and "out of range" in lines[0], out.stderr
    assert not entries_file(project).exists() or value not in entries_file(project).read_text()
    # and nothing was broken for the next command
    assert run("daily", "--json", cwd=project).returncode == 0


@pytest.mark.parametrize("bad", [
    '"input_tokens": 99999999999999999999999, "output_tokens": 1, "cost_usd": 1.0',
    '"input_tokens": 5000000000000000000, "output_tokens": 1, "cost_usd": 1.0',
    '"input_tokens": 1, "output_tokens": 1, "cost_usd": 1e999',
    '"input_tokens": 1, "output_tokens": 1, "cost_usd": NaN',
])
def test_an_entries_line_out_of_range_is_named_and_skipped_the_rest_counted(project, bad):
    line = ('{"id": "bad000000001", "ts": "2026-09-04T10:00:00Z", "agent": "claude", "model": "gpt-4o", '
            f'"category": "research", {bad}, "cost_source": "given"}}\n')
    # two lines of 5e18 (both over the bound) would also sum past 2^63
    entries_file(project).write_text(GOOD + line + line.replace("bad000000001", "bad000000002"))
    where = f"{entries_file(project)} line 2"
    out = run("daily", "--json", "--since", "2026-09-01", "--until", "2026-09-30", cwd=project)
    assert out.returncode == 0, out.stderr
    assert "internal error" not in out.stderr and where in out.stderr, out.stderr
    doc = strict(out.stdout)
    assert doc["totals"]["inputTokens"] == 42000 and doc["totals"]["totalCost"] == 12.0
    for command in (["session", "--json"], ["monthly", "--json"]):
        out = run(*command, cwd=project)
        assert out.returncode == 0 and "internal error" not in out.stderr, out.stderr
        strict(out.stdout)
    # accounting commands refuse to add up a ledger with a bad line: one line naming it
    out = run("budget", cwd=project)
    assert "internal error" not in out.stderr and where in out.stderr, out.stderr


def test_dates_out_of_range_are_an_answer_or_one_line(project):
    entries_file(project).write_text(GOOD)
    out = run("daily", "--json", "--until", "9999-12-31", cwd=project)
    assert out.returncode == 0, out.stderr
    assert strict(out.stdout)["totals"]["inputTokens"] == 42000
    out = run("daily", "--json", "--since", "0001-01-01", "--until", "9999-12-31", "-z", "America/New_York",
              cwd=project)
    assert out.returncode == 0, out.stderr
    out = run("log", "--model", "gpt-4o", "--input-tokens", "1", "--output-tokens", "1", "--agent", "chatgpt",
              "--category", "research", "--cost", "1", "--at", "9999-12-31T23:59:59Z", cwd=project)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "--at" in out.stderr and "internal error" not in out.stderr
    assert "9999" not in entries_file(project).read_text()


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_or_infinite_budgets_are_refused(tmp_path, monkeypatch, value):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"ai:\n  cost_budget_monthly: {value}\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(cfg))
    out = run("config", "check")
    assert out.returncode != 0, out.stdout
    assert "cost_budget_monthly" in out.stderr + out.stdout and "finite" in out.stderr + out.stdout
    out = run("budget")
    assert out.returncode != 0 and "$nan" not in out.stdout and "healthy" not in out.stdout
    assert len(out.stderr.strip().splitlines()) == 1 and "internal error" not in out.stderr, out.stderr


def test_billion_laughs_config_is_refused_quickly(tmp_path, monkeypatch):
    lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lol.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join(lol) + "\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(cfg))
    out = run("config", "check", timeout=20)
    assert out.returncode != 0
    assert "aliases" in out.stderr + out.stdout and "internal error" not in out.stderr


def test_json_output_is_strict_even_for_a_non_finite_value(capsys):
    from token_roi.cli.common import print_json
    print_json({"cost": float("inf"), "share": float("nan"), "ok": 1.5})
    assert strict(capsys.readouterr().out) == {"cost": None, "share": None, "ok": 1.5}
