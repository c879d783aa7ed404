"""The optional C loops (setup.py builds them where a compiler is found) next to the Python loops
they stand in for: tests run under each."""

from __future__ import annotations

import shutil

import pytest


def one_loop(loop: str, monkeypatch, module, attr: str) -> str:
    """For tests run under both loops of an optional C extension (setup.py builds it where a
    compiler is found): "python" sets module.attr to None, so the Python loop runs; "c" needs the
    C loop, which must be built wherever a compiler is here (skipped only where none is)."""
    if loop == "python":
        monkeypatch.setattr(module, attr, None)
    elif getattr(module, attr) is None:
        if shutil.which("cc") or shutil.which("gcc"):
            pytest.fail(f"{module.__name__}.{attr}: the C loop is not built although a compiler is here "
                        "(pip install -e . builds it)")
        pytest.skip("no C compiler: only the Python loop is here")
    return loop
