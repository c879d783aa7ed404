"""token-roi settings: one YAML file validated by core/schema/config.schema.json.

    from token_roi import config
    cfg = config.load()                      # defaults applied; ConfigError on a bad value
    config.get(cfg, "ai.cost_budget_monthly")

Where the file is: an explicit path, else $TOKEN_ROI_CONFIG, else `paths.config_dir()/config.yaml`.
The default location may be missing (defaults apply); an explicit or $TOKEN_ROI_CONFIG path must
exist. Unknown top-level sections are allowed, so a founder's company.config.yaml works as is.

Importing this module needs only the standard library. PyYAML (optional: a JSON config still
reads without it) and jsonschema are imported when a file is parsed and validated, and only
when it changed since it was last validated: a validated copy is cached in the state dir, keyed
by the file's size and mtime.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from .. import __version__, paths
from ..errors import TokenRoiError
from .defaults import BUILTIN_CATEGORIES, DEFAULTS, KNOWN_KEYS, STAGE_BUDGETS, TEMPLATE  # noqa: F401
from .validation import errors as schema_errors
from .validation import one_line

ENV_VAR = "TOKEN_ROI_CONFIG"
SCHEMA = "config.schema.json"


class ConfigError(TokenRoiError):
    """A one-line problem with the config file: names the file, the key, the value, what is allowed."""


def config_path(path: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """(the file to read, whether the user named it explicitly)."""
    file, explicit = _config_file(path)
    return Path(file), explicit


def _config_file(path: str | os.PathLike | None = None) -> tuple[str, bool]:
    if path:
        return os.path.expanduser(os.fspath(path)), True
    env = os.environ.get(ENV_VAR)
    if env:
        return os.path.expanduser(env), True
    return os.path.join(paths.config_dir_str(), "config.yaml"), False


def get(cfg: dict, key: str, default=None):
    """cfg value at a dotted key ('ai.cost_budget_monthly'), or `default` when absent or empty."""
    node = cfg
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return default if node is None else node


def suggested_budget(stage: str | None) -> str | None:
    """'$50–200' for a stage, None when the stage is unknown."""
    if stage not in STAGE_BUDGETS:
        return None
    low, high = STAGE_BUDGETS[stage]
    return f"${low:g}–{high:g}" if high is not None else f"${low:g}+"


def load(path: str | os.PathLike | None = None) -> dict:
    """The settings in effect: the file's values over DEFAULTS (categories extend the built-ins)."""
    file, explicit = _config_file(path)
    try:
        st = os.stat(file)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{file}: no such config file") from None
        return _merge({})
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    stamp = [os.path.realpath(file), st.st_size, st.st_mtime_ns, __version__, _schema_stamp()]
    cached = _read_cache(stamp)
    if cached is not None:
        return _merge(cached)
    raw = _parse(file)
    try:
        problems = validation_errors(raw)
    except ImportError:
        raise ConfigError(f"{file}: cannot validate it: jsonschema is not installed (pip install jsonschema)") from None
    if problems:
        more = f" (and {len(problems) - 1} more; run `token-roi config check`)" if len(problems) > 1 else ""
        raise ConfigError(one_line(str(file), problems[0]) + more)
    _write_cache(stamp, raw)
    return _merge(raw)


def check(path: str | os.PathLike | None = None) -> tuple[Path, bool, list[str], list[str]]:
    """For `config check`: (file, exists, errors, warnings), each message one line."""
    file, explicit = config_path(path)
    if not file.exists():
        if explicit:
            return file, False, [f"{file}: no such config file"], []
        return file, False, [], []
    try:
        raw = _parse(file)
    except ConfigError as exc:
        return file, True, [str(exc)], []
    errs = [one_line(str(file), p) for p in validation_errors(raw)]
    warnings = []
    for section, keys in KNOWN_KEYS.items():
        given = raw.get(section)
        if isinstance(given, dict) and section not in ("ai", "company"):
            for key in given:
                if key not in keys:
                    warnings.append(f"{file}: {section}.{key}: not a token-roi setting (known: {', '.join(keys)})")
    return file, True, errs, warnings


def validation_errors(raw: dict) -> list[tuple[str, str, str]]:
    return schema_errors(raw, SCHEMA)


# -- internals ----------------------------------------------------------------------------------

def _parse(file: Path | str) -> dict:
    try:
        with open(file, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    try:
        import yaml
    except ImportError:  # YAML is a superset of JSON: a JSON config still works without PyYAML
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            raise ConfigError(f"{file}: PyYAML is not installed (pip install pyyaml) to read this YAML file") from None
    else:
        try:
            data = yaml.load(text, Loader=_loader(yaml))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{file}:{where}: not valid YAML: {problem}") from None
    if data is None:
        return {}
    from .validation import MAX_NODES, expanded_size
    if expanded_size(data) > MAX_NODES:
        raise ConfigError(f"{file}: more than {MAX_NODES:,} values once its YAML aliases are expanded: "
                          "refused (a file meant to blow up, or a mistake)")
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: (top level) = {type(data).__name__} is not allowed: expected a mapping of keys")
    return _normalise(data)


def _loader(yaml: Any) -> Any:
    """SafeLoader that leaves dates as text: `start: 2026-13-01` must reach the schema, not crash."""
    class Loader(yaml.SafeLoader):
        pass
    Loader.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return Loader


def _normalise(value: Any) -> Any:
    """YAML turns 2026-01-01 into a date: keep dates as ISO text so the schema and JSON see text."""
    if isinstance(value, dict):
        out = {str(k): _normalise(v) for k, v in value.items()}
        company = out.get("company")
        if isinstance(company, dict) and isinstance(company.get("stage"), str):
            company["stage"] = company["stage"].strip().lower()
        return out
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) else value.date().isoformat()
    return value


def _merge(raw: dict) -> dict:
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in raw.items():
        if isinstance(cfg.get(key), dict) and isinstance(value, dict):
            for sub, subval in value.items():
                # An empty value (`hard_cap:`) means "not set": keep the default.
                if subval is not None or cfg[key].get(sub) is None:
                    cfg[key][sub] = subval
        elif key == "categories":
            cfg[key] = list(BUILTIN_CATEGORIES) + [c for c in (value or []) if c not in BUILTIN_CATEGORIES]
        elif key == "subscriptions":
            cfg[key] = list(value or [])
        elif isinstance(cfg.get(key), dict) and value is None:
            continue                                     # `guard:` with nothing under it
        else:
            cfg[key] = value
    return cfg


def _schema_stamp() -> int:
    try:
        return os.stat(os.path.join(paths.SCHEMA_DIR_STR, SCHEMA)).st_mtime_ns
    except OSError:
        return 0


def _cache_file() -> str:
    return os.path.join(paths.state_dir_str(), "config-cache.json")


def _read_cache(stamp: list) -> dict | None:
    try:
        with open(_cache_file(), encoding="utf-8") as f:
            entries = json.loads(f.read())
        for entry in entries:
            if entry.get("stamp") == stamp:
                return entry["raw"]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        pass
    return None


def _write_cache(stamp: list, raw: dict) -> None:
    """Remember a validated file (a few most recent paths); failure to write is harmless."""
    cache = _cache_file()
    try:
        try:
            with open(cache, encoding="utf-8") as f:
                entries = [e for e in json.loads(f.read()) if e.get("stamp", [None])[0] != stamp[0]]
        except (OSError, ValueError, TypeError, AttributeError):
            entries = []
        entries = ([{"stamp": stamp, "raw": raw}] + entries)[:8]
        os.makedirs(os.path.dirname(cache), mode=0o700, exist_ok=True)
        tmp = os.path.join(os.path.dirname(cache), f".{os.path.basename(cache)}.{os.getpid()}")
        from ..safe_io import private
        with open(tmp, "w", encoding="utf-8", opener=private) as f:
            f.write(json.dumps(entries))
        os.replace(tmp, cache)
    except (OSError, TypeError, ValueError):
        pass
