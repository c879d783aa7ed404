"""The hook path's stand-ins for modules it no longer imports: fastjson (json's C codec without
json), the ISO timestamp arithmetic in adapters.fields (without datetime), the regex prefix test
in pricing.quick (without re) and the str paths (without pathlib) give exactly what the
standard library gave, on the values the hooks meet and on hostile ones."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from token_roi import fastjson, paths
from token_roi.adapters import fields
from token_roi.guard import state as st
from token_roi.pricing import apply, quick

STATE_LIKE = {
    "schema": 1, "session_id": "8c2d1f0e-3a4b-4c5d-9e6f-7a8b9c0d1e2f", "session_start": "2026-11-02T09:00:00.120Z",
    "total_tokens_used": 61_464, "cost_usd": 0.0412345678901234, "unpriced_tokens": 0, "fast_tier_triggered": False,
    "tool_calls": {"Read": 3, "Bash": 2, "mcp__ünï__tool": 1}, "loop_attempts": {"Bash": 2},
    "actions": [{"tool": "Bash", "ok": False, "hash": "ab12", "at": 1.5e-7}, {"tool": "Read", "ok": True}],
    "files": {"/home/dev/.claude/projects/-x/s.jsonl": {"cursor": {"offset": 1 << 40, "state": {}}, "models": {
        "claude-sonnet-4-6": [2, None]}}},
    "text": "quotes \" backslash \\ tab \t nl \n ctrl \x01 emoji 😀 bmp 中文 lone surrogate \ud800",
    "numbers": [0, -1, 1e308, -0.0, 5e-324, 123456789012345678901234567890, 0.1 + 0.2, True, None],
    "": "", "nested": [[[]], {}, [{}]],
}


@pytest.mark.parametrize("kwargs", [
    {}, {"separators": (",", ":")}, {"ensure_ascii": False}, {"sort_keys": True},
    {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "default": str},
])
def test_dumps_is_json_dumps(kwargs):
    for value in (STATE_LIKE, [], {}, "", "é", 0, 1.5, None, True, [float("inf"), float("-inf")],
                  {1: "int key", 2.5: "f"}):
        assert fastjson.dumps(value, **kwargs) == json.dumps(value, **kwargs)


def test_dumps_raises_what_json_raises():
    circular: list = []
    circular.append(circular)
    for value, kind in ((object(), TypeError), ({"k": {1, 2}}, TypeError), (circular, ValueError),
                        ({(1, 2): 3}, TypeError)):
        with pytest.raises(kind) as ours:
            fastjson.dumps(value)
        with pytest.raises(kind) as theirs:
            json.dumps(value)
        assert str(ours.value) == str(theirs.value)
    assert fastjson.dumps([1, circular[:0]]) == "[1, []]"        # no marker left behind by the failure
    assert fastjson.dumps({"t": (1, 2)}, default=str) == json.dumps({"t": (1, 2)}, default=str)
    assert fastjson.dumps({"s": {3}}, default=str) == '{"s": "{3}"}'


class _Str(str):
    pass


def test_dumps_indented_is_json_dumps_indent_2():
    from enum import IntEnum

    class Level(IntEnum):
        HIGH = 3

    rng = random.Random(7)

    def random_value(depth=0):
        kind = rng.randrange(9 if depth < 4 else 6)
        if kind == 0:
            return rng.choice(["", "a", "é", "\u2028", "quote\"", "tab\t", "\ud800", "😀"])
        if kind == 1:
            return rng.randrange(-10**20, 10**20)
        if kind == 2:
            return rng.choice([0.0, -0.0, 1e-7, 0.1 + 0.2, 1e308, rng.random()])
        if kind in (3, 4, 5):
            return rng.choice([None, True, False])
        if kind == 6:
            return [random_value(depth + 1) for _ in range(rng.randrange(4))]
        if kind == 7:
            return tuple(random_value(depth + 1) for _ in range(rng.randrange(3)))
        return {rng.choice(["k", "ü", "", "totalCost", "a\nb"]) + str(i): random_value(depth + 1)
                for i in range(rng.randrange(4))}

    values = [STATE_LIKE, [], {}, "", 0, 1.5, None, True, [[]], {"a": {}}, {"daily": [{"date": "2026-10-01"}]},
              [float("nan"), float("inf"), -float("inf")], {1: "int key", 2.5: "f", None: 0}, {True: 1},
              {"level": Level.HIGH}, [_Str("sub")], {"t": (1, (2, [3]))}]
    values += [random_value() for _ in range(300)]
    for value in values:
        assert fastjson.dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False), value


def test_dumps_indented_raises_what_json_raises():
    circular: list = []
    circular.append(circular)
    for value, kind in ((object(), TypeError), ({"k": {1, 2}}, TypeError), (circular, ValueError)):
        with pytest.raises(kind) as ours:
            fastjson.dumps_indented(value)
        with pytest.raises(kind) as theirs:
            json.dumps(value, indent=2, ensure_ascii=False)
        assert str(ours.value) == str(theirs.value)


def test_dump_indented_streams_the_same_text_in_pieces():
    import io
    rows = {"daily": [{"date": f"2026-10-{i % 30 + 1:02d}", "cost": i / 7, "models": ["a", "é"], "m": {}}
                      for i in range(2000)], "totals": {"calls": 2000}}
    pieces: list[str] = []
    fastjson.dump_indented(rows, pieces.append, flush_every=16)
    assert len(pieces) > 100 and "".join(pieces) == json.dumps(rows, indent=2, ensure_ascii=False)
    # an unserialisable value half-way: what came before it is written, as json.dump writes it
    bad = {"daily": [1, 2, {"b": object()}]}
    ours, theirs = io.StringIO(), io.StringIO()
    with pytest.raises(TypeError):
        fastjson.dump_indented(bad, ours.write)
    with pytest.raises(TypeError):
        json.dump(bad, theirs, indent=2, ensure_ascii=False)
    assert ours.getvalue() == theirs.getvalue() != ""


def test_loads_is_json_loads():
    text = json.dumps(STATE_LIKE)
    for doc in (text, json.dumps(STATE_LIKE, ensure_ascii=False), json.dumps(STATE_LIKE, indent=2),
                " \n\t" + text + " \r\n", "[]", "0", "-0.0", '"x"', "NaN", "[Infinity, -Infinity]", "1e400",
                '{"a": 1, "a": 2}', "[1.0000000000000002, 12345678901234567890]"):
        for data in (doc, doc.encode("utf-8", "surrogatepass"), bytearray(doc.encode("utf-8", "surrogatepass"))):
            ours, theirs = fastjson.loads(data), json.loads(data)
            assert repr(ours) == repr(theirs)       # repr: NaN != NaN, and -0.0 == 0.0
    assert math.isnan(fastjson.loads("NaN"))


@pytest.mark.parametrize("data", [
    "", "   ", "{", "[1,]", '{"a" 1}', "[1] [2]", "[1] x", "nul", '"\\x"', '"tab\there"', "\ufeff{}", "{} \x00",
    b"", b"\xff\xfe{", b"\xef\xbb\xbf{}", b"\xc3", '{"a": [1, 2, {"b": tru}]}', "[" * 100_000,
])
def test_bad_json_raises_json_own_error(data):
    try:
        expected = json.loads(data)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)) as got:
            fastjson.loads(data)
        assert str(got.value) == str(exc)
    else:           # (a BOM'd UTF-8 byte string is valid for json.loads)
        assert fastjson.loads(data) == expected


def test_loads_of_utf16_and_32_bytes_as_json_does():
    for enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"):
        data = json.dumps(STATE_LIKE, ensure_ascii=False).replace("\ud800", "").encode(enc)
        assert fastjson.loads(data) == json.loads(data)


def test_fuzzed_documents_round_trip_like_json():
    rnd = random.Random(7)
    alphabet = ['"', "\\", "{", "}", "[", "]", ",", ":", " ", "1", "-", ".", "e", "a", "é", "\n", "t", "n", "u"]
    for _ in range(3000):
        doc = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        try:
            expected = repr(json.loads(doc))
        except ValueError as exc:
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                fastjson.loads(doc)
        else:
            assert repr(fastjson.loads(doc)) == expected


def test_without_the_accelerator_it_is_the_standard_library():
    code = ("import sys; sys.modules['_json'] = None\n"
            "from token_roi import fastjson\n"
            "assert fastjson.make_scanner is None\n"
            "print(fastjson.dumps({'a': [1, 'é']}, separators=(',', ':')), fastjson.loads('[1, {\"b\": null}]'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == '{"a":[1,"\\u00e9"]} [1, {\'b\': None}]\n'


# -- timestamps without datetime -----------------------------------------------------------------

def _datetime_ms(text: str):
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)


def test_claude_timestamps_are_the_datetime_answer():
    assert fields.epoch_ms("2026-11-02T18:04:05.120Z") == 1793642645120
    rnd = random.Random(3)
    fast = 0
    for _ in range(100_000):
        y = rnd.choice([1, 4, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999, rnd.randint(1, 9999)])
        frac = rnd.choice(["", f".{rnd.randint(0, 999):03d}", f".{rnd.randint(0, 999_999):06d}", ".5", ".1234"])
        text = (f"{y:04d}-{rnd.randint(0, 13):02d}-{rnd.randint(0, 32):02d}T{rnd.randint(0, 24):02d}:"
                f"{rnd.randint(0, 60):02d}:{rnd.randint(0, 60):02d}{frac}Z")
        if rnd.random() < 0.03:
            text = text.replace("1", "\u0661", 1)         # an Arabic-Indic digit: int() takes it, ISO does not
        got = fields._utc_z_ms(text)
        if got is not None:
            fast += 1
            assert got == _datetime_ms(text), text
        assert fields.epoch_ms(text) == _datetime_ms(text), text
    assert fast > 30_000                      # the arithmetic, not the fallback, answered those


@pytest.mark.parametrize("text", ["2026-02-29T00:00:00Z", "2024-02-29T23:59:59.999Z", "2026-04-31T00:00:00.000Z",
                                  "2026-11-02T24:00:00Z", "2026-11-02T18:04:60Z", "0000-01-01T00:00:00Z",
                                  "2026-11-02 18:04:05.120Z", "2026-11-02T18:04:05.120+02:00", "2026-11-02T18:04:05"])
def test_odd_timestamps_go_to_datetime(text):
    assert fields.epoch_ms(text) == _datetime_ms(text)


# -- paths without pathlib -----------------------------------------------------------------------

@pytest.mark.parametrize("env", [
    {"TOKEN_ROI_HOME": "~/tr//home/"}, {"TOKEN_ROI_HOME": "rel/dir"},
    {"XDG_STATE_HOME": "/x/state/", "XDG_DATA_HOME": "/x//data", "XDG_CONFIG_HOME": "/x/cfg"},
    {"XDG_STATE_HOME": "relative", "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "~/cfg"}, {},
])
def test_str_paths_name_the_same_folders(monkeypatch, env):
    for var in ("TOKEN_ROI_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "TOKEN_ROI_BUDGET_FILE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert Path(paths.state_dir_str()) == paths.state_dir()
    assert Path(paths.data_dir_str()) == paths.data_dir()
    assert Path(paths.config_dir_str()) == paths.config_dir()
    assert Path(paths.log_path_str()) == paths.log_path()
    assert Path(quick.cache_path_str()) == apply.cache_path()
    for sid in ("8c2d1f0e-3a4b-4c5d-9e6f-7a8b9c0d1e2f", "../../etc/passwd", ""):
        assert Path(st.session_file(sid)) == st.session_path(sid)
    monkeypatch.setenv("TOKEN_ROI_BUDGET_FILE", "~/budget.json")
    assert Path(st.session_file("x")) == st.session_path("x") == Path(os.path.expanduser("~/budget.json"))


@pytest.mark.parametrize("name", ["s.json", "a.b.json", "noext", ".hidden", "trailing.", "x/y.z/s.json", "/abs/s"])
def test_with_suffix_is_pathlibs(name):
    for suffix in (".keys", ".subagents.json"):
        assert Path(st.with_suffix(name, suffix)) == Path(name).with_suffix(suffix)
        assert st.with_suffix(Path(name), suffix) == st.with_suffix(name, suffix)
