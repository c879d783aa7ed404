"""A file or folder whose name is not valid UTF-8 under an agent's folder is skipped with one
warning line naming it; the rest is read and no command fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hardening_data import line


def test_non_utf8_names_are_skipped_with_a_warning(tmp_path):
    projects = tmp_path / "user-home" / ".claude" / "projects"
    good = projects / "-home-u-p"
    good.mkdir(parents=True)
    (good / "s-1.jsonl").write_text(line("msg_ok", 1, '{"input_tokens":10,"output_tokens":20}'))
    bad_folder = os.path.join(os.fsencode(projects), b"-home-u-caf\xe9")
    os.mkdir(bad_folder)
    with open(os.path.join(bad_folder, b"s-2.jsonl"), "w") as f:
        f.write(line("msg_in_bad_folder", 2, '{"input_tokens":1000,"output_tokens":1}'))
    with open(os.path.join(os.fsencode(good), b"s-\xff\xfe.jsonl"), "w") as f:
        f.write(line("msg_bad_name", 3, '{"input_tokens":2000,"output_tokens":1}'))
    for _ in range(2):                       # (the second run too: nothing stored half-way)
        for command in ("daily", "session", "ingest"):
            out = subprocess.run([sys.executable, "-m", "token_roi.cli", command, "--json"],
                                 capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
            assert "internal error" not in out.stderr
            if command != "ingest":
                assert json.loads(out.stdout)["totals"]["inputTokens"] == 10
                warned = [w for w in out.stderr.splitlines() if "not valid UTF-8" in w]
                assert len(warned) == 2 and any("s-\ufffd\ufffd.jsonl" in w for w in warned), out.stderr
