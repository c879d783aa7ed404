"""Ledger files (git-tracked JSONL of manual entries) mirrored into the store exactly once."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from token_roi.accounting import entries, ledger
from token_roi.cli import main
from token_roi.ingest import refresh
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "accounting"


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "acme"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/PRD-12-onboarding\n")
    monkeypatch.chdir(root)
    return root


def ledger_file(root: Path) -> Path:
    return root / "cogs" / "ai-ledger" / "entries.jsonl"


def manual_rows(store) -> list[tuple]:
    return store.db.execute("SELECT agent, dedupe_key, model, recorded_cost, category, feature FROM calls "
                            "WHERE origin = 'manual' ORDER BY ts").fetchall()


def copy_fixture(root: Path) -> Path:
    path = ledger_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "entries.jsonl", path)
    return path


def bump(path: Path) -> None:
    """Make sure the next sync sees a new mtime even on a coarse-clock file system."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_sync_is_idempotent_and_counts_each_entry_once(project):
    path = copy_fixture(project)
    store = Store()
    first = ledger.sync_file(store, path)
    assert (first.written, first.errors) == (4, [])
    assert len(manual_rows(store)) == 4
    again = ledger.sync_file(store, path)
    assert again.changed == 0 and len(manual_rows(store)) == 4
    # a merge that duplicated a line: still one row for that entry
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines) + lines[0])
    bump(path)
    assert ledger.sync_file(store, path).changed == 1
    assert len(manual_rows(store)) == 4


def test_edited_removed_and_reassigned_entries_follow_the_file(project):
    path = copy_fixture(project)
    store = Store()
    ledger.sync_file(store, path)
    objs = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    objs[0]["cost_usd"] = 15.5                       # a teammate corrected the typed cost
    objs[2]["agent"] = "windsurf"                    # ... and the agent of another entry
    del objs[3]                                      # ... and removed a mistaken one
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    bump(path)
    result = ledger.sync_file(store, path)
    assert (result.written, result.removed) == (3, 2)   # removed: the deleted entry + the old agent's row
    rows = manual_rows(store)
    assert [r[0] for r in rows] == ["chatgpt", "claude", "windsurf"]
    assert rows[0][3] == 15.5
    assert rows[1][3] is None                        # price-table entry: pricing computes it


def test_touched_file_with_same_bytes_is_not_reread(project):
    path = copy_fixture(project)
    store = Store()
    ledger.sync_file(store, path)
    bump(path)
    assert ledger.sync_file(store, path).changed == 0


def test_deleted_file_keeps_its_rows(project):
    path = copy_fixture(project)
    store = Store()
    ledger.sync_file(store, path)
    path.unlink()
    ledger.sync_all(store)
    assert len(manual_rows(store)) == 4


def test_same_entries_in_two_checkouts_count_once(project, tmp_path):
    path = copy_fixture(project)
    other = tmp_path / "acme-worktree" / "cogs" / "ai-ledger" / "entries.jsonl"
    other.parent.mkdir(parents=True)
    shutil.copy(path, other)
    store = Store()
    ledger.sync_all(store, [path, other])
    assert len(manual_rows(store)) == 4


def test_malformed_line_named_by_number_and_others_kept(project):
    path = copy_fixture(project)
    with open(path, "a") as f:
        f.write('{"id": "d00dfeed0001", "ts": "2026-09-23T10:00:00Z", "agent": "claude", "model": "claude-haiku-4-5", '
                '"category": "ship-flow", "input_tokens": "lots", "output_tokens": 10}\n')
        f.write('{"id": "d00dfeed0002", "ts": "2026-09-23T10:0\n')
    store = Store()
    result = ledger.sync_file(store, path)
    assert len(manual_rows(store)) == 4
    assert result.errors[0] == (f'{path} line 6: input_tokens = "lots" is not allowed: expected a whole number')
    assert result.errors[1].startswith(f"{path} line 7: not valid JSON")
    # the same errors are remembered until the file is fixed
    assert ledger.sync_file(store, path).errors == result.errors


def test_commands_refuse_a_malformed_ledger_with_one_line(project, capsys):
    path = copy_fixture(project)
    with open(path, "a") as f:
        f.write('{"id": "d00dfeed0003", "ts": "yesterday", "agent": "claude", "model": "m", '
                '"category": "ship-flow", "input_tokens": 1, "output_tokens": 1}\n')
    assert main(["budget"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path} line 6: ts = " in err and "ISO 8601" in err
    # other reports still work and show it as a warning
    assert main(["daily", "--json"]) == 0
    captured = capsys.readouterr()
    assert "line 6" in captured.err and json.loads(captured.out)["daily"]


def test_unknown_field_is_rejected(project):
    path = ledger_file(project)
    path.parent.mkdir(parents=True)
    path.write_text('{"id": "abcdef123456", "ts": "2026-09-01T00:00:00Z", "agent": "claude", "model": "m", '
                    '"category": "ad-hoc", "input_tokens": 1, "output_tokens": 1, "cost": 3}\n')
    result = ledger.sync_file(Store(), path)
    assert result.errors == [f"{path} line 1: cost is not a known key (known keys: id, ts, agent, model, category, "
                             "feature, session, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
                             "cost_usd, cost_source, notes)"]


def test_refresh_brings_entries_into_every_report_with_typed_cost(project):
    copy_fixture(project)
    store = Store()
    refresh(store, show_progress=False)
    rows = dict(store.db.execute("SELECT dedupe_key, cost FROM calls WHERE origin = 'manual'").fetchall())
    assert rows["ledger:7f3a9c21d4e8b601"] == 12.0                 # typed, though gpt-4o prices it at ~$0.17
    assert rows["ledger:a0c4e5f6b7d8e9f0"] == pytest.approx(0.45)  # priced: 0.1M × 3 + 0.01M × 15
    assert rows["ledger:c9d8e7f6a5b4c3d2"] == 8.0                  # unknown model, typed cost
    source = store.db.execute("SELECT price_source FROM calls WHERE dedupe_key = 'ledger:7f3a9c21d4e8b601'").fetchone()
    assert source[0] == "ledger"
    refresh(store, show_progress=False)                            # stable on a second run
    assert store.db.execute("SELECT cost FROM calls WHERE dedupe_key = 'ledger:7f3a9c21d4e8b601'").fetchone()[0] == 12.0


def test_append_adds_missing_newline_first(tmp_path):
    path = tmp_path / "entries.jsonl"
    path.write_text('{"hand": "edited"}')             # a person saved without a final newline
    entry = entries.make_entry(agent="claude", model="claude-haiku-4-5", category="ad-hoc", input_tokens=1,
                               output_tokens=2, cost_usd=None, cost_source="unpriced")
    entries.append_entry(path, entry)
    lines = path.read_text().splitlines()
    assert lines[0] == '{"hand": "edited"}' and json.loads(lines[1])["id"] == entry["id"]
    assert path.read_text().endswith("\n")


# -- token-roi log ----------------------------------------------------------------------------------

def test_log_appends_a_valid_line_and_prints_budget_impact(project, capsys, tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ai:\n  cost_budget_monthly: 100\nfeature:\n  branch_pattern: 'PRD-\\d+'\n")
    monkeypatch.setenv("TOKEN_ROI_CONFIG", str(cfg))
    assert main(["log", "--model", "claude-sonnet-4-5", "--input-tokens", "20000", "--output-tokens", "1,500",
                 "--agent", "claude", "--category", "ship-flow", "--notes", "PR review"]) == 0
    out = capsys.readouterr().out
    # 0.02M × 3 + 0.0015M × 15 = 0.06 + 0.0225 = 0.0825 -> $0.08; month to date = that entry alone
    assert out.strip() == "Entry logged: $0.08 · Budget: $0.08 / $100.00 (0.1%)"
    assert main(["log", "--model", "gpt-4o", "--input-tokens", "0", "--output-tokens", "0", "--cost", "13.74",
                 "--agent", "chatgpt", "--category", "research", "--feature", "PRD-99"]) == 0
    assert capsys.readouterr().out.strip() == "Entry logged: $13.74 · Budget: $13.82 / $100.00 (13.8%)"
    lines = [json.loads(l) for l in ledger_file(project).read_text().splitlines()]
    assert lines[0]["feature"] == "PRD-12"            # from the branch PRD-12-onboarding
    assert lines[0]["cost_source"] == "price-table" and lines[0]["cost_usd"] == pytest.approx(0.0825)
    assert lines[0]["output_tokens"] == 1500 and lines[0]["notes"] == "PR review"
    assert (lines[1]["feature"], lines[1]["cost_source"], lines[1]["cost_usd"]) == ("PRD-99", "given", 13.74)


def test_log_feature_from_env_and_unpriced_model(project, capsys, monkeypatch):
    monkeypatch.setenv("TOKEN_ROI_FEATURE", "ONB-3")
    assert main(["log", "--model", "acme-internal-1", "--input-tokens", "100", "--output-tokens", "10",
                 "--agent", "acme", "--category", "ad-hoc", "--at", "2026-09-02"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Entry logged: unpriced (no price for acme-internal-1; pass --cost)")
    entry = json.loads(ledger_file(project).read_text())
    assert entry["feature"] == "ONB-3" and entry["cost_usd"] is None and entry["cost_source"] == "unpriced"
    assert entry["ts"].startswith("2026-09-02T")


def test_log_rejects_unknown_category_and_bad_numbers(project, capsys):
    assert main(["log", "--model", "m", "--input-tokens", "1", "--output-tokens", "1", "--agent", "a",
                 "--category", "marketing"]) == 2
    assert ("--category 'marketing': expected one of ship-flow, agent-session, research, ad-hoc"
            in capsys.readouterr().err)
    with pytest.raises(SystemExit):
        main(["log", "--model", "m", "--input-tokens", "-5", "--output-tokens", "1", "--agent", "a",
              "--category", "ad-hoc"])
    assert not ledger_file(project).exists()


def test_log_extra_category_from_config(project, capsys, tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("categories: [marketing]\n")
    assert main(["log", "--model", "m", "--input-tokens", "1", "--output-tokens", "1", "--agent", "a",
                 "--category", "marketing", "--cost", "1", "--config", str(cfg)]) == 0
    assert json.loads(ledger_file(project).read_text())["category"] == "marketing"


def test_log_when_tracking_is_off_writes_nothing(project, capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ai:\n  cost_tracking_enabled: false\n")
    assert main(["log", "--model", "m", "--input-tokens", "1", "--output-tokens", "1", "--agent", "a",
                 "--category", "ad-hoc", "--config", str(cfg)]) == 0
    assert "cost tracking is off" in capsys.readouterr().out
    assert not ledger_file(project).exists()


def test_windows_line_endings_and_bom_from_a_teammates_editor(project):
    path = ledger_file(project)
    path.parent.mkdir(parents=True)
    text = (FIXTURES / "entries.jsonl").read_text().replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = ledger.sync_file(Store(), path)
    assert (result.written, result.errors) == (4, [])


def test_ledger_path_setting(project, tmp_path):
    assert ledger.ledger_path({"ledger": {"path": "finance/ai.jsonl"}}, project / "src") == project / "finance/ai.jsonl"
    absolute = tmp_path / "shared" / "ai.jsonl"
    assert ledger.ledger_path({"ledger": {"path": str(absolute)}}) == absolute
