"""The sample generator: real transcript shape, deterministic, and honest ground truth.

The totals the generator claims are re-derived here from the written files with an independent
parse of every line, so a bench or demo comparing a reader against them compares against what
is actually on disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from token_roi.sample import SampleTree, Totals, append_session, encode_project_dir, generate_claude_tree, parse_size

SIZE = 6 * 1024 * 1024


@pytest.fixture(scope="module")
def traps_tree(tmp_path_factory) -> SampleTree:
    return generate_claude_tree(tmp_path_factory.mktemp("traps"), total_bytes=SIZE, seed=7)


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory) -> SampleTree:
    return generate_claude_tree(tmp_path_factory.mktemp("clean"), total_bytes=SIZE, seed=7, traps=False)


def _lines(root: Path):
    for path in sorted(root.rglob("*.jsonl")):
        data = path.read_bytes()
        parts = data.split(b"\n")
        for i, raw in enumerate(parts):
            complete = i < len(parts) - 1
            yield path, raw, complete


def _recount(root: Path) -> dict:
    """Every rule, from the files alone."""
    best: dict[str, tuple] = {}
    first_by_req: dict[tuple, dict] = {}
    every = Totals()
    bad = half = 0
    types = Counter()
    objs = []
    for path, raw, complete in _lines(root):
        if not complete:
            half += bool(raw)
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            bad += 1
            continue
        types[obj.get("type")] += 1
        objs.append((path, raw, obj))
        msg = obj.get("message") if isinstance(obj.get("message"), dict) else None
        if not msg or "usage" not in msg or msg.get("model") == "<synthetic>":
            continue
        u = msg["usage"]
        every.add(u)
        key = msg["id"]
        first_by_req.setdefault((key, obj["requestId"]), u)
        total = u["input_tokens"] + u["output_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
        rank = (not obj["isSidechain"], total)
        if key not in best or rank > best[key][0]:      # on a tie the first copy met stays
            best[key] = (rank, u, obj["timestamp"][:10])
    expected = Totals()
    by_day: dict[str, Totals] = {}
    for _, u, day in best.values():
        expected.add(u)
        by_day.setdefault(day, Totals()).add(u)
    first = Totals()
    for u in first_by_req.values():
        first.add(u)
    return {"expected": expected, "by_day": by_day, "first": first, "every": every, "bad": bad, "half": half,
            "types": types, "objs": objs}


@pytest.fixture(scope="module")
def traps_recount(traps_tree):
    return _recount(traps_tree.root)


def test_layout_is_claude_codes(traps_tree):
    root = traps_tree.root
    projects = sorted(p.name for p in (root / "projects").iterdir())
    assert projects == sorted(encode_project_dir(cwd) for cwd in traps_tree.projects)
    assert encode_project_dir("/home/dev/src/web.frontend") == "-home-dev-src-web-frontend"
    subagents = list(root.glob("projects/*/*/subagents/agent-*.jsonl"))
    assert len(subagents) == traps_tree.subagent_files > 0
    sessions = list(root.glob("projects/*/*.jsonl"))
    assert len(sessions) == traps_tree.sessions
    assert traps_tree.files == len(sessions) + len(subagents)
    on_disk = sum(p.stat().st_size for p in root.rglob("*.jsonl"))
    assert on_disk == traps_tree.bytes
    assert SIZE <= on_disk < SIZE * 1.5
    for sub in subagents:     # a subagent's lines belong to the parent session, on the sidechain
        first = json.loads(sub.read_bytes().split(b"\n", 1)[0])
        assert first["sessionId"] == sub.parent.parent.name
        assert first["isSidechain"] is True and first["agentId"] == sub.stem.removeprefix("agent-")


def test_lines_are_compact_json_with_the_real_fields(traps_recount):
    types = traps_recount["types"]
    for kind in ("user", "assistant", "summary", "system", "file-history-snapshot", "progress"):
        assert types[kind] > 0, kind
    checked = 0
    for _path, raw, obj in traps_recount["objs"]:
        assert json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() == raw
        if obj.get("type") == "assistant" and obj["message"].get("model") != "<synthetic>":
            for key in ("parentUuid", "isSidechain", "requestId", "uuid", "timestamp", "cwd", "sessionId",
                        "version", "gitBranch"):
                assert key in obj, key
            assert obj["timestamp"].endswith("Z") and obj["message"]["id"].startswith("msg_01")
            assert len(obj["message"]["content"]) == 1          # one line per content block
            checked += 1
    assert checked > 100


def test_claimed_totals_match_the_files(traps_tree, traps_recount):
    assert traps_recount["expected"].as_dict() == traps_tree.expected.as_dict()
    # the day of each call is the day of the copy kept (the first of the largest copies)
    assert {d: t.as_dict() for d, t in traps_recount["by_day"].items()} == \
        {d: t.as_dict() for d, t in traps_tree.by_day.items()}
    assert traps_recount["first"].as_dict() == traps_tree.first_per_id_and_request.as_dict()
    assert traps_recount["every"].as_dict() == traps_tree.every_line.as_dict()
    assert traps_recount["bad"] == traps_tree.bad_lines
    assert traps_recount["half"] == traps_tree.half_lines
    assert sum(t.calls for t in traps_tree.by_model.values()) == traps_tree.expected.calls
    assert sum(t.total for t in traps_tree.by_day.values()) == traps_tree.expected.total


def test_traps_separate_correct_from_naive_counting(traps_tree, traps_recount):
    t = traps_tree
    # early streaming copies: the first copy of a response under-reports output
    assert t.first_per_id_and_request.output < t.expected.output
    # sidechain replays: more (id, requestId) pairs than real calls
    assert t.first_per_id_and_request.calls > t.expected.calls
    assert t.every_line.total > 2 * t.expected.total
    replays = Counter()
    for _, _, obj in traps_recount["objs"]:
        if obj.get("type") == "assistant" and obj.get("isSidechain") and "agentId" not in obj:
            replays[obj["message"]["id"]] += 1
    main_ids = {obj["message"]["id"] for _, _, obj in traps_recount["objs"]
                if obj.get("type") == "assistant" and not obj.get("isSidechain")}
    assert any(mid in main_ids for mid in replays), "no /btw replay of a main-chain response"


def test_clean_tree_has_no_ambiguous_duplicates(clean_tree):
    c = _recount(clean_tree.root)
    assert c["expected"].as_dict() == clean_tree.expected.as_dict() == c["first"].as_dict()
    assert clean_tree.first_per_id_and_request.as_dict() == clean_tree.expected.as_dict()
    # still written the way Claude Code writes: several lines per response, resumed copies
    assert c["every"].calls > clean_tree.expected.calls
    assert clean_tree.resumed_sessions > 0
    for _, _, obj in c["objs"]:
        assert not (obj.get("isSidechain") and "agentId" not in obj and obj.get("type") == "assistant")


def test_the_ugly_cases_are_present(traps_tree, traps_recount):
    t = traps_tree
    models = set(t.by_model)
    assert {"claude-nimbus-5-20261001", "claude-haiku-4-5-20251001"} <= models
    assert any("opus" in m for m in models) and any("sonnet" in m for m in models)
    assert t.expected.cache_write_1h > 0 and t.expected.cache_write_5m > 0
    assert t.long_context_calls > 0
    assert t.synthetic_lines > 0 and t.bad_lines > 0
    assert len(t.by_day) >= 10
    big = max(len(raw) for _, raw, obj in traps_recount["objs"] if obj.get("type") == "user")
    assert big > 400_000                          # a tool result of a megabyte or so
    old_split = [obj for _, _, obj in traps_recount["objs"]
                 if obj.get("type") == "assistant" and "cache_creation" not in obj["message"]["usage"]]
    assert old_split, "no line from an older build without the 5m/1h split"


def test_deterministic_for_a_seed(tmp_path):
    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
        return h.hexdigest()

    a = generate_claude_tree(tmp_path / "a", total_bytes=400_000, seed=3)
    b = generate_claude_tree(tmp_path / "b", total_bytes=400_000, seed=3)
    c = generate_claude_tree(tmp_path / "c", total_bytes=400_000, seed=4)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert a.as_dict() | {"root": ""} == b.as_dict() | {"root": ""}
    assert a.expected.as_dict() != c.expected.as_dict()


def test_start_and_days_bound_the_sessions(tmp_path):
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    t = generate_claude_tree(tmp_path, total_bytes=1_000_000, seed=1, start=start, days=10)
    assert t.first_ts >= "2026-03-01" and t.first_ts < "2026-03-11"
    assert min(t.by_day) >= "2026-03-01"


def test_append_session_adds_one_file_with_its_own_totals(tmp_path):
    tree = generate_claude_tree(tmp_path, total_bytes=300_000, seed=2)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.jsonl")}
    path, added = append_session(tmp_path, total_bytes=200_000, seed=99,
                                 when=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc),
                                 cwd=tree.projects[0])
    assert path not in before and path.parent.name == encode_project_dir(tree.projects[0])
    assert all(p.read_bytes() == data for p, data in before.items())
    files = [path, *path.parent.glob(f"{path.stem}/subagents/*.jsonl")]
    ids = set()
    for f in files:
        for raw in f.read_bytes().splitlines():
            try:
                o = json.loads(raw)
            except ValueError:
                continue
            if isinstance(o, dict) and o.get("type") == "assistant" and o["message"]["model"] != "<synthetic>":
                ids.add(o["message"]["id"])
    assert added.files == len(files) and added.expected.calls == len(ids) > 0
    assert added.first_ts.startswith("2026-11-02")


def test_parse_size():
    assert parse_size("1GB") == 1024 ** 3
    assert parse_size("200MB") == 200 * 1024 ** 2
    assert parse_size("64KiB") == 64 * 1024
    assert parse_size("12345") == 12345
    with pytest.raises(ValueError):
        parse_size("lots")
