"""Browser fixtures: Debian's Chromium (/usr/bin/chromium) driven by Playwright, and a dashboard
server on a fixture ledger. When the browser cannot be launched the tests FAIL and say why:
a silent skip would let a broken page pass."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browser_support import ARGS, CHROMIUM, VIEWPORT, Dashboard  # noqa: E402 (after the path insert)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright for Python: pip install -e '.[test]' "
                    "(it is in the test extra)", pytrace=False)
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium "
                    "(.ci/run installs it), or set TOKEN_ROI_CHROMIUM to a Chromium binary", pytrace=False)
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Exception as exc:  # noqa: BLE001 - say what went wrong, then fail
        pw.stop()
        pytest.fail(f"cannot launch Chromium at {CHROMIUM}: {str(exc).splitlines()[0]}", pytrace=False)
    yield b
    b.close()
    pw.stop()


def _server_and_page(browser, build: bool):
    import dashboard_fixture as fx

    from token_roi.dashboard.server import Settings, start_in_thread
    from token_roi.store import Store
    facts = fx.build() if build else None
    if not build:
        Store().close()
    server, url = start_in_thread(Settings(tz=fx.TZ, today=fx.TODAY, git=False))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    return server, context, Dashboard(page, url), facts


@pytest.fixture
def full_dashboard(browser):
    server, context, dash, facts = _server_and_page(browser, True)
    dash.facts = facts
    yield dash
    context.close()
    server.shutdown()
    server.server_close()


@pytest.fixture
def empty_dashboard(browser):
    server, context, dash, _ = _server_and_page(browser, False)
    yield dash
    context.close()
    server.shutdown()
    server.server_close()
