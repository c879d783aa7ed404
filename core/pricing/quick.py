"""Rates without genai-prices, for the Claude Code hooks (standard library only, a few ms).

Two JSON files, tried in order:
- the rates cache, `state_dir()/rates-cache.json`: the effective rates (overrides merged) of
  every model `reprice()` priced, keyed by the model name as the agent wrote it;
- the shipped snapshot, `core/data/rates-snapshot.json`, generated from genai-prices by
  `scripts/update-rates` for the current Anthropic, OpenAI and Google models, with each model's
  genai-prices match logic so dated names (`claude-sonnet-4-5-20250929`) resolve the same way.
"""

from __future__ import annotations

import os

from .. import fastjson, paths
from .rates import Rates

# json, re, datetime and pathlib are ~12 ms of a hook's start: fastjson reads the files, paths
# are strings, and re / datetime are imported only to match a model the rates cache lacks.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

SNAPSHOT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data",
                             "rates-snapshot.json")
_memo: dict[str, tuple] = {}   # path -> (mtime_ns, size, parsed)


def cache_path_str() -> str:
    return os.path.join(paths.state_dir_str(), "rates-cache.json")


def cache_path() -> Path:
    from pathlib import Path
    return Path(cache_path_str())


def _load(path: Path | str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    hit = _memo.get(str(path))
    if hit and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
        return hit[2]
    try:
        with open(path, "rb") as f:
            parsed = fastjson.loads(f.read())
    except (OSError, ValueError):
        return None
    _memo[str(path)] = (st.st_mtime_ns, st.st_size, parsed)
    return parsed


# -- the snapshot's copy of genai-prices' model matching --------------------------------------
def _matches(clause, ref: str) -> bool:
    if clause is None:
        return False
    if "or" in clause:
        return any(_matches(c, ref) for c in clause["or"])
    if "and" in clause:
        return all(_matches(c, ref) for c in clause["and"])
    if "starts_with" in clause:
        return ref.startswith(clause["starts_with"].lower())
    if "ends_with" in clause:
        return ref.endswith(clause["ends_with"].lower())
    if "contains" in clause:
        return clause["contains"].lower() in ref
    if "equals" in clause:
        return ref == clause["equals"].lower()
    if "regex" in clause:
        pattern = clause["regex"]
        prefix = _prefixes.get(pattern)
        if prefix is None:
            prefix = _prefixes[pattern] = _literal_prefix(pattern)
        if not ref.startswith(prefix):
            return False           # decided without re (~7 ms to import with enum)
        import re
        return re.search(pattern, ref) is not None
    return False


_prefixes: dict[str, str] = {}
_SPECIAL = frozenset("\\.^$*+?{}[]|()")


def _literal_prefix(pattern: str) -> str:
    """What every match of `pattern` (as re.search, no flags) starts with: the literal text after
    a leading `^` up to the first special character; "" (no shortcut) for anything else."""
    if not pattern.startswith("^") or "|" in pattern:
        return ""
    end = 1
    while end < len(pattern) and pattern[end] not in _SPECIAL:
        end += 1
    if end < len(pattern) and pattern[end] in "*?{":
        end -= 1                   # a quantifier makes the last literal character optional
    return pattern[1:end]


_compact_date = None


def _dashed_dates(ref: str) -> str:
    """`gpt-5.2-20251211` -> `gpt-5.2-2025-12-11`, genai-prices' fallback for compact dates."""
    global _compact_date
    if "-20" not in ref:
        return ref                 # (what the pattern needs; no re import for most names)
    import re
    from datetime import date
    if _compact_date is None:
        _compact_date = re.compile(r"(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")

    def repl(m):
        try:
            date(int(m.group(2)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            return m.group(0)
        return f"-{m.group(2)}-{m.group(3)}-{m.group(4)}"
    return _compact_date.sub(repl, ref)


def snapshot_rates(model: str) -> Rates | None:
    snap = _load(SNAPSHOT_PATH)
    if not snap:
        return None
    refs = [model.lower()]
    if "/" in model:
        refs.append(model.rsplit("/", 1)[1].lower())
    for ref in refs:
        for provider in snap.get("providers", ()):
            if not _matches(provider.get("match"), ref):
                continue
            for candidate in dict.fromkeys((ref, _dashed_dates(ref))):
                for entry in provider["models"]:
                    if _matches(entry["match"], candidate):
                        return Rates.from_dict(entry["rates"])
            break    # genai-prices stops at the first provider whose pattern matches
    return None


def snapshot_info() -> dict:
    snap = _load(SNAPSHOT_PATH) or {}
    return {k: snap.get(k) for k in ("generated_from", "generated_at")}


# -- the rates cache --------------------------------------------------------------------------
_MISSING = object()


def cached_rates(model: str):
    """Rates from the cache, None when reprice() found the model unpriced, _MISSING when the
    cache does not know it."""
    cache = _load(cache_path_str())
    if not cache:
        return _MISSING
    entry = cache.get("models", {}).get(model, _MISSING)
    if entry is _MISSING or entry is None:
        return entry
    try:
        return Rates.from_dict(entry)
    except (KeyError, TypeError, ValueError):
        return _MISSING


def quick_rates(model: str | None) -> Rates | None:
    if not model:
        return None
    hit = cached_rates(model)
    if hit is not _MISSING:
        return hit
    return snapshot_rates(model)


def update_cache(entries: dict[str, Rates | None], version: str, *, replace_all: bool = False,
                 schedules: dict[str, tuple | None] | None = None) -> None:
    """Merge `entries` (and the models' whole `schedules`, see pricing.reprice) into the cache
    file (atomically: write a temp file, then rename)."""
    path = cache_path()
    cached = {} if replace_all else (_load(path) or {})
    models = dict(cached.get("models") or {})
    for name, rates in entries.items():
        models[name] = rates.to_dict() if rates is not None else None
    known = dict(cached.get("schedules") or {})
    for name, schedule in (schedules or {}).items():
        known[name] = None if schedule is None else [[cond, rates.to_dict()] for cond, rates in schedule]
    payload = {"version": version, "models": dict(sorted(models.items())), "schedules": dict(sorted(known.items()))}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    from ..safe_io import private
    with open(tmp, "w", encoding="utf-8", opener=private) as f:
        import json
        json.dump(payload, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def cached_schedules(version: str) -> dict[str, tuple | None]:
    """The schedules (condition, Rates) the cache holds, when it was written under `version`
    (the price table's fingerprint: the same genai-prices, prices.yaml and rules), else none."""
    cache = _load(cache_path()) or {}
    if cache.get("version") != version:
        return {}
    out: dict[str, tuple | None] = {}
    for name, entry in (cache.get("schedules") or {}).items():
        try:
            out[name] = None if entry is None else tuple((_as_tuple(c), Rates.from_dict(r)) for c, r in entry)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _as_tuple(cond):
    return tuple(_as_tuple(c) for c in cond) if isinstance(cond, list) else cond


def cached_models() -> list[str]:
    return list(((_load(cache_path()) or {}).get("models") or {}).keys())
