"""The Claude reader's parse_lines has two implementations: the pure-Python reference
(reader.py_parse_lines) and its optional C twin (_claude_scan.c, built by setup.py where a
compiler is found). `claude_parse` runs a test under each, as markupsafe runs its tests under
both escape()s."""

from __future__ import annotations

import shutil

import pytest

from token_roi.adapters.claude import reader


def use_parse(which: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """"python": parse_lines is the reference; "c": the C twin, which must be built wherever a
    compiler is here (skipped only where none is)."""
    if which == "python":
        monkeypatch.setattr(reader, "parse_lines", reader.py_parse_lines)
    elif reader.parse_lines is reader.py_parse_lines:
        if shutil.which("cc") or shutil.which("gcc"):
            pytest.fail("the C parse_lines is not built although a compiler is here (pip install -e . builds it)")
        pytest.skip("no C compiler: only the Python parse_lines is here")
    return which
