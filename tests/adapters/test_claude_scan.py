"""The C parse_lines (core/adapters/claude/_claude_scan.c) against py_parse_lines, the Python
reference it is a twin of.

The C twin reads the lines it is certain of and hands every other usage line to the reader's
_line. So two things are pinned here on realistic transcript lines: ordinary lines
are read in C (nothing handed back), and each ugly shape is handed back or read to exactly the
rows and bad-line count the Python loop gives, which is also checked against the expected values.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from claude_parses import use_parse

from token_roi.adapters.base import Source
from token_roi.adapters.claude import reader as claude

FIXTURES = Path(__file__).parents[1] / "fixtures" / "claude"
_spec = importlib.util.spec_from_file_location("claude_fixture_build", FIXTURES / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

SESSION = build.SESSION


@pytest.fixture(autouse=True)
def c_loop(monkeypatch):
    use_parse("c", monkeypatch)


def parse_both(data: bytes, monkeypatch, meta: dict | None = None):
    """(rows, bad, lines handed back) from the C loop, after checking the Python loop agrees."""
    source = Source("claude", "/p/s.jsonl", "jsonl", meta or {})
    handed = []
    real_line = claude._line

    def counting(buf, start, hit, end, *rest):
        handed.append(bytes(buf[start:end]))
        return real_line(buf, start, hit, end, *rest)

    with monkeypatch.context() as m:
        m.setattr(claude, "_line", counting)
        rows, bad = claude.ADAPTER.parse(data, source, {})
    with monkeypatch.context() as m:
        m.setattr(claude, "parse_lines", claude.py_parse_lines)
        py_rows, py_bad = claude.ADAPTER.parse(data, source, {})
    assert (rows, bad) == (py_rows, py_bad)
    return rows, bad, handed


def session(*extra_lines: str) -> tuple[bytes, build.Writer]:
    """A realistic session: a prompt, a streamed response written as three block lines (an early
    copy with a placeholder output count), a tool result, a second response; then `extra_lines`."""
    w = build.Writer(SESSION)
    w.user_prompt("fix the failing test")
    w.assistant("msg_01A", "req_01A", "claude-opus-4-6",
                [build.thinking("look at the test"), build.text("Running it."),
                 build.tool_use("toolu_1", "Bash", {"command": "pytest -x"})],
                build.usage(3, 12000, 1000, 500, 250), first_output=1)
    w.tool_result("toolu_1", build.pytest_output(40),
                  {"stdout": build.pytest_output(40), "stderr": "", "interrupted": False})
    w.assistant("msg_01B", "req_01B", "claude-opus-4-6", [build.text("Fixed.")], build.usage(5, 13000, 200, 0, 90),
                stop="end_turn")
    lines = w.lines + list(extra_lines)
    return "".join(line + "\n" for line in lines).encode(), w


def assistant_line(msg_id: str = "msg_X", usage: dict | None = None, **top) -> dict:
    w = build.Writer(SESSION)
    w.assistant(msg_id, "req_" + msg_id, "claude-sonnet-4-6", [build.text("ok")],
                usage or build.usage(7, 100, 20, 0, 30), stop="end_turn")
    obj = json.loads(w.lines[0])
    obj.update(top)
    return obj


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def by_key(rows):
    return {r.dedupe_key: r for r in rows}


def test_ordinary_lines_are_all_read_in_c(monkeypatch):
    data, _ = session()
    rows, bad, handed = parse_both(data, monkeypatch)
    assert handed == [] and bad == 0
    got = by_key(rows)
    assert set(got) == {"msg_01A", "msg_01B"}
    a = got["msg_01A"]
    assert (a.input_tokens, a.cache_read_tokens, a.cache_write_5m_tokens, a.cache_write_1h_tokens, a.output_tokens) == \
        (3, 12000, 1000, 500, 250)      # the final copy, not the streaming placeholder (output 1)
    assert (a.session_id, a.project, a.model, a.git_branch, a.speed, a.recorded_cost) == \
        (SESSION, build.CWD, "claude-opus-4-6", "feature/ledger", None, None)


def test_the_fixture_transcripts_read_alike(monkeypatch):
    for path in sorted((FIXTURES / "projects").rglob("*.jsonl")):
        data = path.read_bytes()
        meta = claude.subagent_meta(str(path))
        rows, bad, handed = parse_both(data, monkeypatch, meta)
        assert rows, path
        # the fixture's odd lines (junk prefix, cut line, string count, synthetic...) go back to
        # Python; the rest are read in C
        assert len(handed) < data.count(b'"usage":') // 2, path


def one_odd_line(obj_or_text, monkeypatch):
    text = obj_or_text if isinstance(obj_or_text, str) else compact(obj_or_text)
    data, _ = session(text)
    rows, bad, handed = parse_both(data, monkeypatch)
    return by_key(rows), bad, handed


def test_escaped_windows_path_is_read_in_c(monkeypatch):
    rows, bad, handed = one_odd_line(assistant_line(cwd="C:\\Users\\dev\\acme \"api\""), monkeypatch)
    assert handed == [] and bad == 0
    assert rows["msg_X"].project == 'C:\\Users\\dev\\acme "api"'


@pytest.mark.parametrize("name, top, usage_patch, expect", [
    # (what is odd, top-level fields to set, usage fields to set, (field, value) expected on the row)
    ("unicode escape in cwd", {"cwd": "/home/dev/caf\u00e9"}, {}, ("project", "/home/dev/caf\u00e9")),
    ("float counter", {}, {"input_tokens": 12.0}, ("input_tokens", 12)),
    ("null counter", {}, {"input_tokens": None}, ("input_tokens", 0)),
    ("recorded cost", {"costUSD": 0.25}, {}, ("recorded_cost", 0.25)),
    ("time without milliseconds", {"timestamp": "2026-05-04T01:02:03Z"}, {}, ("ts", 1777856523000)),
    ("1-hour part above the writes", {}, {"cache_creation_input_tokens": 10,
                                          "cache_creation": {"ephemeral_1h_input_tokens": 15,
                                                             "ephemeral_5m_input_tokens": 0}},
     ("cache_write_1h_tokens", 10)),
    ("19-digit counter", {}, {"output_tokens": 1234567890123456789}, ("output_tokens", 1234567890123456789)),
    ("non-ASCII speed", {}, {"speed": "r\u00e1pido"}, ("speed", "r\u00e1pido")),
    ("no message id", {}, {}, ("dedupe_key", "req_msg_X")),
])
def test_odd_lines_go_back_to_python_and_read_alike(monkeypatch, name, top, usage_patch, expect):
    obj = assistant_line(**{k: v for k, v in top.items()})
    if "escape" in name:
        text = compact(obj).replace("caf\u00e9", "caf\\u00e9")
    else:
        obj["message"]["usage"].update(usage_patch)
        if name == "no message id":
            del obj["message"]["id"]
        text = compact(obj)
    rows, bad, handed = one_odd_line(text, monkeypatch)
    assert len(handed) == 1, name
    field, value = expect
    key = "req_msg_X" if name == "no message id" else "msg_X"
    assert getattr(rows[key], field) == value
    assert bad == 0


@pytest.mark.parametrize("name, edit", [
    ("whitespace in usage", lambda t: t.replace('"usage":{"input_tokens":7,', '"usage": {"input_tokens": 7, ')),
    ("duplicate counter: the last wins",
     lambda t: t.replace('"usage":{"input_tokens":7,', '"usage":{"input_tokens":1,"input_tokens":7,')),
    ("minus zero", lambda t: t.replace('"input_tokens":7,', '"input_tokens":-0,')),
    ("escaped id", lambda t: t.replace('"id":"msg_X"', '"id":"msg_\\u0058"')),
    ("deep nesting outside the content",
     lambda t: t.replace('"userType":"external"', '"userType":' + "[" * 70 + "]" * 70)),
])
def test_shapes_orjson_reads_another_way_go_back(monkeypatch, name, edit):
    text = edit(compact(assistant_line()))
    assert text != compact(assistant_line()), name
    rows, bad, handed = one_odd_line(text, monkeypatch)
    assert len(handed) == 1, name
    assert rows["msg_X"].input_tokens in (7, 0) and bad == 0


@pytest.mark.parametrize("name, edit, counted_bad", [
    ("negative counter", lambda t: t.replace('"input_tokens":7,', '"input_tokens":-7,'), 1),
    ("raw tab in a string", lambda t: t.replace('"gitBranch":"feature/ledger"', '"gitBranch":"feature\tledger"'), 1),
    ("bytes that are not UTF-8", lambda t: t.replace('"userType":"external"', '"userType":"ext\udcffernal"'), 1),
    ("garbage after the object", lambda t: t + "x", 1),
    # no such time of day: both give fields.epoch_ms's answer (none), not a roll-over to the next day
    ("hour 24", lambda t: t.replace('"timestamp":"2026-05-04T', '"timestamp":"2026-05-04T24:00:00.000Z","x":"'), 1),
    ("second 60", lambda t: t.replace('"timestamp":"2026-05-04T', '"timestamp":"2026-05-04T10:00:60.000Z","x":"'), 1),
])
def test_broken_lines_go_back_and_count_alike(monkeypatch, name, edit, counted_bad):
    text = edit(compact(assistant_line()))
    data, _ = session()
    data += text.encode("utf-8", "surrogateescape") + b"\n"
    rows, bad, handed = parse_both(data, monkeypatch)
    assert len(handed) == 1, name
    assert bad == counted_bad
    assert "msg_X" not in by_key(rows)


def test_speed_model_and_skipped_lines_in_c(monkeypatch):
    fast = assistant_line("msg_F", usage={**build.usage(1, 2, 3, 0, 4), "speed": "fast"})
    long_speed = assistant_line("msg_L", usage={**build.usage(1, 2, 3, 0, 4), "speed": "s" * 40})
    no_model = assistant_line("msg_N")
    no_model["message"]["model"] = None
    synthetic = assistant_line("msg_S")
    synthetic["message"]["model"] = "<synthetic>"
    api_error = assistant_line("msg_E", isApiErrorMessage=True)
    sub = assistant_line("msg_U")
    odd = (fast, long_speed, no_model, synthetic, api_error, sub)
    rows, bad, handed = one_odd_line("\n".join(compact(o) for o in odd), monkeypatch)
    assert handed == [] and bad == 0
    assert rows["msg_F"].speed == "fast" and rows["msg_L"].speed == "s" * 32
    assert rows["msg_N"].model is None
    assert "msg_S" not in rows and "msg_E" not in rows


def test_subagent_rows_take_the_parent_session(monkeypatch):
    data, _ = session()
    rows, _, handed = parse_both(data, monkeypatch, {"is_subagent": True, "parent_session": "parent-1"})
    assert handed == []
    assert {(r.session_id, r.is_subagent) for r in rows} == {("parent-1", True)}


def test_sidechain_copy_loses_in_c_too(monkeypatch):
    main = assistant_line("msg_C", usage=build.usage(1, 2, 3, 0, 4))
    side = assistant_line("msg_C", usage=build.usage(1, 2, 3, 0, 400), isSidechain=True)
    rows, _, handed = one_odd_line(compact(side) + "\n" + compact(main), monkeypatch)
    assert handed == []
    assert rows["msg_C"].output_tokens == 4 and rows["msg_C"].is_sidechain is False


def test_state_carries_across_handed_back_lines(monkeypatch):
    # a copy read in Python (float counter) between two read in C: one row, the largest copy
    first = assistant_line("msg_M", usage=build.usage(1, 2, 3, 0, 4))
    middle = assistant_line("msg_M", usage={**build.usage(1, 2, 3, 0, 5), "input_tokens": 1.0})
    last = assistant_line("msg_M", usage=build.usage(1, 2, 3, 0, 5))
    rows, bad, handed = one_odd_line("\n".join(compact(o) for o in (first, middle, last)), monkeypatch)
    assert len(handed) == 1 and bad == 0
    assert rows["msg_M"].output_tokens == 5


def test_crlf_and_a_last_line_without_newline(monkeypatch):
    data, _ = session()
    data = data.replace(b"\n", b"\r\n") + compact(assistant_line("msg_T")).encode()
    rows, bad, handed = parse_both(data, monkeypatch)
    assert handed == [] and bad == 0
    assert set(by_key(rows)) == {"msg_01A", "msg_01B", "msg_T"}


def test_shape_bad_counts_like_python():
    data = b'{"a":1}\n\n  \n[1,2]\n {"b":2} \r\n{"c":3}\r\nnot json\n{"cut":\n'
    assert claude.parse_lines(data, False, None) == claude.py_parse_lines(data, False, None) == ([], 3)


def test_mutated_transcripts_read_alike_in_both_loops():
    # A differential fuzz: realistic usage lines (the fixture transcripts and a session with
    # copies), bytes inserted, removed, cut or counters garbled near the fields the loop reads,
    # lines repeated as copies; the C loop must give what the Python loop gives, every time.
    import random
    lines = [line for path in sorted((FIXTURES / "projects").rglob("*.jsonl"))
             for line in path.read_bytes().split(b"\n") if b'"usage":' in line]
    lines += [line for line in session()[0].split(b"\n") if b'"usage":' in line]
    special = [b"\\", b'"', b"\\u00e9", b"\\ud800", b"\xff", b"\xc3", b"\t", b" ", b"{", b"}", b"[", b"]", b",",
               b":", b"-0", b"1.5", b"1e5", b"null", b"true", b"99999999999999999999", b"\n", b"\r"]
    rnd = random.Random(20261122)
    source = Source("claude", "/p/s.jsonl", "jsonl", {})
    fast, reference = claude.parse_lines, claude.py_parse_lines
    for _ in range(1500):
        picked = [bytearray(rnd.choice(lines)) for _ in range(rnd.randint(1, 5))]
        if rnd.random() < 0.5:
            picked.append(bytearray(picked[0]))           # a copy of a line read before
        for line in picked:
            for _ in range(rnd.randint(0, 3)):
                op, i = rnd.random(), rnd.randrange(len(line) + 1)
                at = line.find(b'"usage":')
                if op < 0.4:
                    if at >= 0 and rnd.random() < 0.7:
                        i = min(len(line), at + rnd.randrange(400))
                    line[i:i] = rnd.choice(special)
                elif op < 0.6:
                    del line[i:i + rnd.randint(1, 5)]
                elif op < 0.8 and at >= 0:
                    k = at + rnd.randrange(300)
                    if k < len(line) and line[k] in b"0123456789":
                        line[k] = rnd.choice(b"0123456789-.e")
                else:
                    del line[rnd.randrange(len(line) + 1):]
        data = b"\n".join(bytes(line) for line in picked) + (b"\n" if rnd.random() < 0.8 else b"")
        assert fast is not reference
        got = fast(data, False, None)
        expected = reference(data, False, None)
        assert got == expected, data
        assert claude.ADAPTER.parse(data, source, {}) == got
