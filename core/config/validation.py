"""JSON Schema validation turned into one-line messages: the key (dotted path), the value and
what is allowed. jsonschema is imported only when something is validated."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from .. import paths

SCHEMA_DIR = Path(paths.SCHEMA_DIR_STR)

_TYPE_WORDS = {
    "number": "a number", "integer": "a whole number", "boolean": "true or false",
    "string": "text", "array": "a list", "object": "a mapping of keys",
}


@cache
def load_schema(name: str) -> dict:
    with open(SCHEMA_DIR / name, encoding="utf-8") as f:
        return json.load(f)


def dotted(path) -> str:
    """('subscriptions', 0, 'fee') -> 'subscriptions[0].fee'"""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def show_value(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)                         # (nan, inf: what YAML and JSON input wrote)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _types(spec) -> str:
    names = [spec] if isinstance(spec, str) else list(spec)
    words = [_TYPE_WORDS.get(n, n) for n in names if n != "null"]
    text = " or ".join(words)
    return text + (" (or empty)" if "null" in names else "")


def allowed(error) -> str:
    """Words for what the failing part of the schema accepts."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    v, arg = error.validator, error.validator_value
    if v == "enum":
        names = [str(x) for x in arg if x is not None]
        return "one of " + ", ".join(names) + (" (or empty)" if None in arg else "")
    if v == "type":
        return _types(arg)
    if v == "minimum":
        return f"a number >= {arg:g}"
    if v == "maximum":
        return f"a number <= {arg:g}"
    if v == "exclusiveMinimum":
        return f"a number > {arg:g}"
    if v == "minLength":
        return "non-empty text"
    if v == "format" and arg == "regex":
        return "a valid regular expression"
    if v == "format" and arg == "date":
        return "a real date as YYYY-MM-DD"
    if v == "required":
        return "required keys: " + ", ".join(schema.get("required", arg))
    if v == "additionalProperties":
        return "known keys: " + ", ".join(schema.get("properties", {}))
    if schema.get("description"):
        return schema["description"]
    if v == "pattern":
        return f"text matching {arg}"
    return error.message


def describe(error) -> tuple[str, str, str]:
    """(key, value shown, allowed) for one jsonschema ValidationError."""
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return dotted(path + [missing]), "missing", allowed(error)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        key = dotted(path + [extra[0]]) if extra else dotted(path)
        return key, "an unknown key", allowed(error)
    return dotted(path), show_value(error.instance), allowed(error)


def one_line(where: str, problem: tuple[str, str, str]) -> str:
    key, value, allowed_text = problem
    if value == "missing":
        return f"{where}: {key} is missing ({allowed_text})"
    if value == "an unknown key":
        return f"{where}: {key} is not a known key ({allowed_text})"
    return f"{where}: {key} = {value} is not allowed: expected {allowed_text}"


def not_finite(value, path: tuple = ()) -> tuple[tuple, float] | None:
    """(where, value) of the first NaN or infinite number in a parsed document, else None: JSON
    Schema's minimum and maximum let NaN through, and YAML writes them as .nan and .inf."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for k, v in items:
        found = not_finite(v, (*path, k))
        if found is not None:
            return found
    return None


MAX_NODES = 100_000     # values in a config or price file once its YAML aliases are expanded


def expanded_size(value, limit: int = MAX_NODES) -> int:
    """How many values `value` holds with every YAML alias expanded, counted without expanding
    (each shared list or mapping is sized once); stops counting past `limit`. A "billion laughs"
    file (aliases of aliases) is a few hundred bytes and ~10^9 values: checked before anything
    walks it."""
    sizes: dict[int, int] = {}

    def size(v) -> int:
        if not isinstance(v, (dict, list)):
            return 1
        known = sizes.get(id(v))
        if known is not None:
            return known
        sizes[id(v)] = limit + 1                  # (a cycle counts as too big)
        items = v.values() if isinstance(v, dict) else v
        total = 1
        for item in items:
            total += size(item)
            if total > limit:
                break
        sizes[id(v)] = total
        return total

    return size(value)


def errors(instance, schema_name: str) -> list[tuple[str, str, str]]:
    """Every problem with `instance`, best first, as (key, value, allowed)."""
    import jsonschema
    from jsonschema.exceptions import best_match, relevance

    bad = not_finite(instance)
    if bad is not None:
        return [(dotted(bad[0]), show_value(bad[1]), "a finite number")]
    schema = load_schema(schema_name)
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    found = list(validator.iter_errors(instance))
    if not found:
        return []
    first = best_match(found)
    rest = sorted((e for e in found if e is not first), key=relevance)
    return [describe(e) for e in [first, *rest]]
