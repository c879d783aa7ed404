"""The CLI pauses the garbage collector only while a command's modules load (cli.main): it
runs again for the command itself, also when loading fails."""

from __future__ import annotations

import gc

import pytest

import token_roi.cli as cli


def test_the_collector_runs_again_once_the_command_is_loaded():
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        cli.main(["daily", "--help"])           # parsed after the command's module loaded
    assert gc.isenabled()


def test_the_collector_runs_again_when_loading_the_command_fails(monkeypatch):
    def broken(only=None):
        raise ImportError("a module of the command is missing")

    monkeypatch.setattr(cli, "build_parser", broken)
    with pytest.raises(ImportError):
        cli.main(["daily"])
    assert gc.isenabled()
