"""`prices.yaml` in the config dir: the user's own rates (custom, negotiated or local models).

    claude-sonnet-4-5: {input: 3, output: 15, cache_read: 0.3, cache_write_5m: 3.75, cache_write_1h: 6}
    my-local-model: {input: 0, output: 0}      # explicitly free: the user's statement

USD per million tokens, checked against core/schema/prices.schema.json. A key applies to the
model name as the agent wrote it, to that name without a date suffix, or to every name
genai-prices maps to that id (`claude-sonnet-4-5` covers `claude-sonnet-4-5-20250929`).
Rates left out are filled by `rates.fill_missing` (Anthropic's ratios for Claude models).
yaml and jsonschema are imported only here, when the file exists.
"""

from __future__ import annotations

import os

from .. import paths
from ..errors import TokenRoiError
from .rates import RATE_FIELDS, Rates, fill_missing, is_claude

# The hooks import this module (through token_roi.pricing) but never read prices.yaml: json, re
# and pathlib (~10 ms together) are imported where they are used, not here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

SCHEMA_PATH = os.path.join(paths.SCHEMA_DIR_STR, "prices.schema.json")
_date_suffix = None


def _strip_date(name: str) -> str:
    """`name` without a date suffix (`-20250929`, `@20250929`, `-2025-09-29`)."""
    global _date_suffix
    if _date_suffix is None:
        import re
        _date_suffix = re.compile(r"(?:[-@]20\d{6}|-20\d{2}-\d{2}-\d{2})$")
    return _date_suffix.sub("", name)
_RATE_HELP = "a number >= 0 (USD per million tokens)"


class PricingError(TokenRoiError):
    """A one-line, user-facing problem with the price overrides (file, model key, field, value)."""
    code = 1


def overrides_path() -> Path:
    return paths.config_dir() / "prices.yaml"       # (a Path: pathlib loaded by paths, when asked)


def file_bytes() -> bytes:
    path = os.path.join(paths.config_dir_str(), "prices.yaml")     # (overrides_path(), without pathlib)
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise PricingError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _yaml():
    try:
        import yaml
    except ImportError:
        raise PricingError(f"{overrides_path()}: PyYAML is not installed, cannot read price overrides "
                           "(pip install pyyaml)") from None
    return yaml


def _parse(text: bytes | str, where: Path) -> dict:
    yaml = _yaml()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PricingError(f"{where}: {line}not valid YAML: {problem}") from None
    if data is None:
        return {}
    from ..config.validation import MAX_NODES, expanded_size
    if expanded_size(data) > MAX_NODES:
        raise PricingError(f"{where}: more than {MAX_NODES:,} values once its YAML aliases are expanded: refused")
    if not isinstance(data, dict):
        raise PricingError(f"{where}: expected a mapping of model name -> rates, "
                           f"e.g. 'my-model: {{input: 1, output: 2}}', not a {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _describe(error, where: Path) -> str:
    """One line from a jsonschema error: the file, the model key, the field, the value, what's allowed."""
    path = list(error.absolute_path)
    key = path[0] if path else None
    head = f"{where}: model {key!r}" if key is not None else f"{where}"
    fields = path[1:]
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed_fields = ", ".join(k for k in schema.get("properties", {}))
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        where_field = "/".join(map(str, fields + [extra[0] if extra else "?"]))
        return f"{head}: unknown field {where_field!r} (allowed: {allowed_fields})"
    if error.validator == "required":
        missing = [r for r in schema.get("required", []) if r not in error.instance]
        where_field = "/".join(map(str, fields + [missing[0] if missing else "?"]))
        return f"{head}: field {where_field!r} is missing (required: {', '.join(schema['required'])})"
    if fields:
        field = "/".join(map(str, fields))
        if fields[-1] == "threshold":
            allowed = "a whole number of prompt tokens >= 1"
        elif fields[-1] == "long_context":
            allowed = "a mapping with threshold, input and output"
        else:
            allowed = _RATE_HELP
        return f"{head}: field {field!r}: {error.instance!r} is not allowed, expected {allowed}"
    if key is not None:
        return (f"{head}: {error.instance!r} is not allowed, expected a mapping of rates "
                f"in USD per million tokens such as {{input: 3, output: 15}}")
    if error.validator in ("minLength", "type") and error.validator_value in (1, "string"):
        return f"{where}: a model name is empty or not text: {error.instance!r}"
    return f"{where}: {error.message}"


def _check_finite(data: dict, where: Path) -> None:
    """JSON Schema lets .nan and .inf through `minimum: 0`; a rate must be a real amount."""
    import math
    for key, entry in data.items():
        for field, value in entry.items():
            items = value.items() if field == "long_context" else [(None, value)]
            for sub, v in items:
                if isinstance(v, float) and not math.isfinite(v):
                    name = f"long_context/{sub}" if sub else field
                    raise PricingError(f"{where}: model {key!r}: field {name!r}: {v!r} is not allowed, "
                                       f"expected {_RATE_HELP}")


def validate(data: dict, where: Path) -> None:
    try:
        import jsonschema
    except ImportError:
        raise PricingError(f"{where}: jsonschema is not installed, cannot check price overrides "
                           "(pip install jsonschema)") from None
    import json
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.loads(f.read())
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(data))
    if errors:
        # Keys in file order: report the first model that is wrong, its most specific error.
        order = {k: i for i, k in enumerate(data)}
        # A misspelt field also makes a required one "missing": name the misspelling first.
        rank = {"additionalProperties": 0, "required": 2}
        first = min(errors, key=lambda e: (order.get(e.absolute_path[0], -1) if e.absolute_path else -1,
                                           -len(e.absolute_path), rank.get(e.validator, 1)))
        raise PricingError(_describe(first, where))
    _check_finite(data, where)


def _card(values: dict, claude: bool) -> dict:
    return fill_missing({f: values[f] for f in RATE_FIELDS if f in values}, claude)


def to_rates(key: str, values: dict) -> Rates:
    claude = is_claude(key)
    long = None
    threshold = None
    if values.get("long_context"):
        lc = values["long_context"]
        threshold = int(lc["threshold"])
        long = Rates(**_card(lc, claude), source="override", model_id=key)
    return Rates(**_card(values, claude), long_threshold=threshold, long=long, source="override", model_id=key)


def parse_overrides(text: bytes | str, where: Path | None = None) -> dict[str, Rates]:
    where = where or overrides_path()
    data = _parse(text, where)
    validate(data, where)
    return {k.lower(): to_rates(k, v) for k, v in data.items()}


def load_overrides() -> dict[str, Rates]:
    """The overrides by lower-cased model key ({} when there is no file). Raises PricingError."""
    raw = file_bytes()
    if not raw.strip():
        return {}
    return parse_overrides(raw)


def match(model: str, overrides: dict[str, Rates], genai_id=None) -> Rates | None:   # genai_id(model) -> id
    """The override that applies to `model`: exact name, name without its date suffix, the part
    after a 'provider/' prefix, then genai-prices' id for the model."""
    if not overrides or not model:
        return None
    name = model.lower()
    candidates = [name, _strip_date(name)]
    if "/" in name:
        tail = name.rsplit("/", 1)[1]
        candidates += [tail, _strip_date(tail)]
    for c in candidates:
        if c in overrides:
            return overrides[c]
    if genai_id is not None:
        gid = genai_id(model)
        if gid and gid.lower() in overrides:
            return overrides[gid.lower()]
    return None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _dump(data: dict) -> str:
    yaml = _yaml()
    header = ("# token-roi price overrides: model -> USD per million tokens.\n"
              "# Fields: input, output, cache_read, cache_write_5m, cache_write_1h, long_context.\n")
    if not data:
        return header
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)


def save_override(model: str, rates: dict) -> Rates:
    """Validate `rates` for `model`, then write it into prices.yaml atomically (other keys kept;
    comments in the file are not preserved). Returns the effective Rates."""
    path = overrides_path()
    if not isinstance(model, str) or not model.strip():
        raise PricingError(f"{path}: model name must be a non-empty string, not {model!r}")
    raw = file_bytes()
    data = _parse(raw, path) if raw.strip() else {}
    validate(data, path)                     # refuse to build on a broken file
    entry = dict(rates) if isinstance(rates, dict) else rates
    validate({model: entry}, path)
    data = {k: v for k, v in data.items() if k.lower() != model.lower()}
    data[model] = entry
    _write_atomic(path, _dump(data))
    return to_rates(model, entry)


def remove_override(model: str) -> bool:
    """Drop `model`'s entry from prices.yaml; True when there was one."""
    path = overrides_path()
    raw = file_bytes()
    if not raw.strip():
        return False
    data = _parse(raw, path)
    kept = {k: v for k, v in data.items() if k.lower() != model.lower()}
    if len(kept) == len(data):
        return False
    _write_atomic(path, _dump(kept))
    return True
