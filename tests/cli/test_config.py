"""The settings file: defaults, path resolution, one-line errors, company.config.yaml, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from token_roi import config
from token_roi.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "accounting"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_default_file_gives_defaults(isolated_home):
    cfg = config.load()
    assert cfg["ai"] == {"cost_budget_monthly": None, "cost_tracking_enabled": True,
                         "cost_alert_threshold_percent": 80}
    assert cfg["guard"]["warn_at_attempt"] == 3 and cfg["guard"]["max_fix_attempts"] == 5
    assert cfg["guard"]["max_loop_tokens"] == 50000 and cfg["guard"]["hard_cap"] is False
    assert cfg["benchmark"] == {"region": "us-west", "seniority": "senior"}
    assert cfg["ledger"]["path"] == "cogs/ai-ledger/entries.jsonl"
    assert cfg["categories"] == ["ship-flow", "agent-session", "research", "ad-hoc"]
    assert cfg["variance"]["threshold_percent"] == 20
    assert cfg["subscriptions"] == []


def test_path_resolution_order(isolated_home, tmp_path, monkeypatch):
    write(isolated_home / "config.yaml", "ai:\n  cost_budget_monthly: 10\n")
    assert config.load()["ai"]["cost_budget_monthly"] == 10
    env_file = write(tmp_path / "env.yaml", "ai:\n  cost_budget_monthly: 20\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(env_file))
    assert config.load()["ai"]["cost_budget_monthly"] == 20
    explicit = write(tmp_path / "explicit.yaml", "ai:\n  cost_budget_monthly: 30\n")
    assert config.load(explicit)["ai"]["cost_budget_monthly"] == 30


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(config.ConfigError, match="no such config file"):
        config.load(tmp_path / "nope.yaml")


def test_company_config_yaml_validates_and_merges():
    cfg = config.load(FIXTURES / "company.config.yaml")
    assert cfg["ai"]["cost_budget_monthly"] == 150
    assert cfg["ai"]["cost_alert_threshold_percent"] == 75
    assert cfg["ai"]["cost_tracking_enabled"] is True
    assert cfg["company"]["stage"] == "mvp"                 # 'MVP' accepted, lower-cased
    assert cfg["company"]["name"] == "Acme Robotics"        # their own keys kept
    assert cfg["product"]["name"] == "Acme Scheduler"
    assert cfg["subscriptions"] == [{"plan": "Claude Max 5x", "agent": "claude", "monthly_fee": 100,
                                     "start": "2026-01-01"}]
    assert cfg["categories"] == ["ship-flow", "agent-session", "research", "ad-hoc", "design", "ops"]
    assert cfg["feature"]["branch_pattern"] == r"PRD-\d+"
    assert cfg["guard"]["max_fix_attempts"] == 5            # defaults fill what the file lacks


@pytest.mark.parametrize("text, expected", [
    ("company:\n  stage: seed\n",
     'company.stage = "seed" is not allowed: expected one of idea, mvp, growth, scale'),
    ("ai:\n  cost_budget_monthly: -5\n",
     "ai.cost_budget_monthly = -5 is not allowed: expected a number >= 0"),
    ("ai:\n  cost_alert_threshold_percent: 150\n",
     "ai.cost_alert_threshold_percent = 150 is not allowed: expected a number <= 100"),
    ("ai:\n  cost_tracking_enabled: maybe\n",
     'ai.cost_tracking_enabled = "maybe" is not allowed: expected true or false'),
    ("guard:\n  max_fix_attempts: lots\n",
     'guard.max_fix_attempts = "lots" is not allowed: expected a whole number'),
    ("subscriptions:\n  - plan: Max\n    agent: claude\n    start: 2026-01-01\n",
     "subscriptions[0].monthly_fee is missing"),
    ("subscriptions:\n  - {plan: Max, agent: claude, monthly_fee: 100, start: 2026-13-01}\n",
     'subscriptions[0].start = "2026-13-01" is not allowed: expected a real date as YYYY-MM-DD'),
    ("feature:\n  branch_pattern: 'PRD-(\\d+'\n",
     "feature.branch_pattern"),
    ("categories: [Design Work]\n", "categories[0]"),
])
def test_bad_value_is_one_line_naming_file_key_value(tmp_path, text, expected):
    path = write(tmp_path / "config.yaml", text)
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_invalid_yaml_names_line(tmp_path):
    path = write(tmp_path / "config.yaml", "ai:\n  cost_budget_monthly: 10\nguard: [1, 2\n")
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    assert str(info.value).startswith(f"{path}: line ") and "not valid YAML" in str(info.value)


def test_empty_sections_and_values_keep_defaults(tmp_path):
    cfg = config.load(write(tmp_path / "c.yaml",
                            "guard:\nai:\n  cost_budget_monthly:\n  cost_tracking_enabled: false\n"))
    assert cfg["guard"]["warn_at_attempt"] == 3
    assert cfg["ai"]["cost_budget_monthly"] is None
    assert cfg["ai"]["cost_tracking_enabled"] is False
    assert config.load(write(tmp_path / "empty.yaml", ""))["ai"]["cost_alert_threshold_percent"] == 80


def test_validated_file_is_cached_and_change_is_revalidated(tmp_path):
    path = write(tmp_path / "c.yaml", "ai:\n  cost_budget_monthly: 10\n")
    assert config.load(path)["ai"]["cost_budget_monthly"] == 10
    assert config.load(path)["ai"]["cost_budget_monthly"] == 10      # from the cache
    write(path, "ai:\n  cost_budget_monthly: -1000\n")                 # different size: re-read
    with pytest.raises(config.ConfigError):
        config.load(path)


def test_module_imports_with_stdlib_only():
    code = ("import sys; import token_roi.config as c; c.load(); "
            "bad = [m for m in ('yaml', 'jsonschema') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_suggested_budget_ranges():
    assert config.suggested_budget("idea") == "$25–50"
    assert config.suggested_budget("mvp") == "$50–200"
    assert config.suggested_budget("growth") == "$200–1000"
    assert config.suggested_budget("scale") == "$1000+"
    assert config.suggested_budget(None) is None


def test_get_dotted():
    cfg = config.load()
    assert config.get(cfg, "guard.max_loop_tokens") == 50000
    assert config.get(cfg, "ai.cost_budget_monthly", 0) == 0
    assert config.get(cfg, "no.such.key") is None


# -- CLI ------------------------------------------------------------------------------------------

def test_cli_init_check_show(isolated_home, capsys):
    assert main(["config", "check"]) == 0
    assert "not present" in capsys.readouterr().out
    assert main(["config", "init"]) == 0
    assert (isolated_home / "config.yaml").exists()
    assert main(["config", "init"]) == 2                      # refuses to overwrite
    assert "already exists" in capsys.readouterr().err
    assert main(["config", "check"]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["exists"] is True
    assert shown["config"]["ai"]["cost_budget_monthly"] == 100      # the template's example budget
    assert shown["priceOverrides"]["path"].endswith("prices.yaml")


def test_cli_show_suggests_stage_budget(tmp_path, capsys):
    path = write(tmp_path / "c.yaml", "company:\n  stage: growth\n")
    assert main(["config", "show", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "suggested for the growth stage: $200–1000" in out


def test_cli_bad_config_one_line_error(tmp_path, capsys, monkeypatch):
    path = write(tmp_path / "c.yaml", "company:\n  stage: seed\nai:\n  cost_budget_monthly: lots\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(path))
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "(and 1 more" in err
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert any("ai.cost_budget_monthly" in e for e in err) and any("company.stage" in e for e in err)


def test_cli_check_warns_on_unknown_guard_key(tmp_path, capsys):
    path = write(tmp_path / "c.yaml", "guard:\n  max_fix_attemps: 4\n")
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "guard.max_fix_attemps: not a token-roi setting" in capsys.readouterr().err


def test_cli_show_lists_price_overrides(isolated_home, capsys):
    write(isolated_home / "prices.yaml", "acme-internal-1: {input: 2, output: 8}\n")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert f"# price overrides: {isolated_home / 'prices.yaml'}" in out
    assert '#   acme-internal-1: {"input": 2.0, "output": 8.0' in out
    write(isolated_home / "prices.yaml", "acme-internal-1: {input: -2}\n")
    assert main(["config", "show"]) == 0                     # a bad prices.yaml is shown, not fatal here
    assert "#   error: " in capsys.readouterr().out


def test_validated_file_loads_later_without_yaml_or_jsonschema(tmp_path):
    """Hooks load the config on every call: once validated, the cached copy needs neither."""
    path = write(tmp_path / "c.yaml", "guard:\n  max_fix_attempts: 7\n")
    assert config.load(path)["guard"]["max_fix_attempts"] == 7
    code = (f"import sys; import token_roi.config as c; v = c.load({str(path)!r})['guard']['max_fix_attempts']; "
            "print(v, [m for m in ('yaml', 'jsonschema') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "7 []"


def test_settings_loaded_never_share_the_defaults():
    # each load() hands out its own copy: a caller editing its settings must not edit the defaults
    from token_roi.config import DEFAULTS, load
    before = json.dumps(DEFAULTS, sort_keys=True)
    cfg = load()
    for value in cfg.values():
        if isinstance(value, dict):
            value["added-by-a-caller"] = 1
        elif isinstance(value, list):
            value.append("added-by-a-caller")
    assert json.dumps(DEFAULTS, sort_keys=True) == before
    assert load() == json.loads(before)          # (no config file here: the defaults, untouched)
