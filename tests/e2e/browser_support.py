"""What the browser tests share: where Chromium is, how it is started, and a Dashboard page
helper. A plain module (not conftest) so test files import it by a name no other folder uses."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("TOKEN_ROI_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Screenshots refresh the docs only when asked (TOKEN_ROI_SCREENSHOTS=docs/screenshots), so a test
# run does not leave the work tree changed; otherwise they go to a scratch folder.
SCREENSHOTS = Path(os.environ.get("TOKEN_ROI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "token-roi-screenshots")
VIEWPORT = {"width": 1280, "height": 900}


class Dashboard:
    """A page on the running server, with what every test needs: go to a route and wait until
    it has rendered, read texts, check for errors and outside requests, take a screenshot."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def open(self, route: str):
        self.page.goto(self.url + "#/" + route)
        return self.wait()

    def wait(self):
        self.page.wait_for_selector("body[data-ready]", timeout=20000)
        return self

    def click_and_wait(self, selector: str):
        self.page.evaluate("delete document.body.dataset.ready")
        self.page.click(selector)
        return self.wait()

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector).strip()

    def kpi(self, name: str) -> str:
        return self.text(f"#kpi-{name} .value")

    def assert_clean(self):
        assert self.page.query_selector_all("main .error") == [], self.text("main")
        assert self.errors == []
        outside = [u for u in self.requests if not u.startswith(self.url) and not u.startswith("data:")]
        assert outside == [], f"the page fetched from outside: {outside}"

    def screenshot(self, name: str):
        # The test's scratch home would show in file paths and change every run: show the default.
        self.page.evaluate("""() => document.querySelectorAll('main code').forEach(c => {
            c.textContent = c.textContent.replace(/^\\/.*\\/token-roi-home\\//, '~/.config/token-roi/'); })""")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
