"""`token-roi config show|check|init`: the settings in effect, a validation run, a starter file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from ..config import TEMPLATE, ConfigError, check, config_path, get, load, suggested_budget
from ..pricing import load_overrides, overrides_path
from ..record import Record
from .common import UserError, print_json


def add_config_argument(p: argparse.ArgumentParser) -> None:
    """--config PATH, shared by every accounting command."""
    p.add_argument("--config", metavar="PATH",
                   help="settings file (default: $TOKEN_ROI_CONFIG, else config.yaml in the config dir)")


def load_or_fail(path: str | None) -> dict:
    try:
        return load(path)
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("action", nargs="?", choices=("show", "check", "init"), default="show",
                   help="show (default): settings in effect; check: validate; init: write a starter file")
    add_config_argument(p)
    p.add_argument("--force", action="store_true", help="init: overwrite an existing file")
    p.add_argument("--json", action="store_true", help="machine-readable output (show, check)")


def run(args) -> int:
    return {"show": _show, "check": _check, "init": _init}[args.action](args)


def _price_overrides() -> tuple[str, object]:
    """(path, entries) of prices.yaml; entries is one line of error when it cannot be read."""
    path = str(overrides_path())
    try:
        entries: object = load_overrides()
    except Exception as exc:  # noqa: BLE001 - shown, not fatal: `config show` must still work
        return path, f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return path, entries


def _show(args) -> int:
    file, _ = config_path(args.config)
    cfg = load_or_fail(args.config)
    if isinstance(cfg.get("team"), dict) and cfg["team"].get("url"):    # (a DSN's password is never shown)
        from ..team.config import redact
        cfg = {**cfg, "team": {**cfg["team"], "url": redact(str(cfg["team"]["url"]))}}
    stage = get(cfg, "company.stage")
    budget = get(cfg, "ai.cost_budget_monthly")
    overrides_path, overrides = _price_overrides()
    if args.json:
        print_json({"path": str(file), "exists": file.exists(), "config": cfg,
                    "suggestedBudget": None if budget is not None else suggested_budget(stage),
                    "priceOverrides": {"path": overrides_path, "entries": _jsonable(overrides)}})
        return 0
    print(f"# config file: {file}" + ("" if file.exists() else " (not present: defaults in effect)"))
    if budget is None:
        hint = suggested_budget(stage)
        print("# no monthly budget set" + (f"; suggested for the {stage} stage: {hint}" if hint else
                                          "; set company.stage for a suggested range"))
    import yaml
    sys.stdout.write(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    print(f"# price overrides: {overrides_path}" if overrides_path else "# price overrides: (pricing not installed)")
    if isinstance(overrides, str):
        print(f"#   {overrides}")
    elif overrides:
        for model, rates in _jsonable(overrides).items():
            shown = {k: v for k, v in rates.items() if v is not None and k not in ("source", "model_id")} \
                if isinstance(rates, dict) else rates
            print(f"#   {model}: {json.dumps(shown)}")
    return 0


def _jsonable(value):
    """Rates objects (records, see token_roi.record) as plain JSON values."""

    def plain(o: object) -> object:
        if isinstance(o, Record):
            return {name: getattr(o, name) for name in o._fields}
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        return getattr(o, "__dict__", str(o))
    try:
        return json.loads(json.dumps(value, default=plain))
    except (TypeError, ValueError):
        return str(value)


def _check(args) -> int:
    file, exists, errors, warnings = check(args.config)
    if args.json:
        print_json({"path": str(file), "exists": exists, "valid": not errors, "errors": errors, "warnings": warnings})
        return 2 if errors else 0
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if errors:
        for e in errors:
            print(f"token-roi: {e}", file=sys.stderr)
        return 2
    print(f"{file}: valid" if exists else f"{file}: not present (defaults in effect)")
    return 0


def _init(args) -> int:
    file, _ = config_path(args.config)
    if file.exists() and not args.force:
        raise UserError(f"{file}: already exists (use --force to overwrite)")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(TEMPLATE, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{file}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {file}")
    return 0
