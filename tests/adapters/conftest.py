"""Fixtures for the adapter tests."""

from __future__ import annotations

import pytest
from claude_parses import use_parse


@pytest.fixture(params=["c", "python"])
def claude_parse(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    return use_parse(request.param, monkeypatch)
