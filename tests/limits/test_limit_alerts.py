"""Alerts against a real HTTP receiver on loopback: one POST per threshold crossing (limits and
budgets), figures and no content, a failing endpoint logged and retried later without blocking,
and a desktop notification through notify-send where there is one."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from token_roi.guard import quota
from token_roi.limits import alerts, snapshots
from token_roi.limits.snapshots import Snapshot
from token_roi.store import Store


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it is sent; `fail` makes it answer 500."""

    def __init__(self):
        self.received: list[dict] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.received.append({"type": self.headers["Content-Type"], "body": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def config(url: str | None, **extra) -> dict:
    return {"alerts": {"webhook_url": url, "desktop": False, "limit_percent": [80, 95],
                       "budget_percent": [80, 100], **extra},
            "guard": {"daily_budget_usd": None}, "ai": {"cost_budget_monthly": None}}


def store_with(used: float, now: int, resets: int) -> Store:
    store = Store()
    with store.transaction():
        snapshots.append(store.db, [Snapshot("claude", "five_hour", used, resets, now - 10, "statusline", "s1")])
    return store


def test_a_crossing_is_posted_once_with_figures_only(receiver):
    now = int(time.time())
    resets = now + 3600
    store = store_with(82.0, now, resets)
    try:
        new = alerts.check(store, config(receiver.url), now)
        assert len(new) == 1 and receiver.received[0]["type"] == "application/json"
        body = receiver.received[0]["body"]
        assert body["type"] == "limit" and body["agent"] == "claude" and body["window"] == "five_hour"
        assert body["threshold_percent"] == 80 and body["used_percentage"] == 82.0 and body["resets_at"] == resets
        assert body["text"].startswith("token-roi: claude 5-hour plan limit at 82%")
        assert set(body) <= {"source", "text", "type", "agent", "window", "threshold_percent", "used_percentage",
                             "resets_at", "captured_at", "at"}
        assert alerts.check(store, config(receiver.url), now + 5) == []          # once per crossing
        with store.transaction():
            snapshots.append(store.db, [Snapshot("claude", "five_hour", 96.0, resets, now + 20, "statusline")])
        alerts.check(store, config(receiver.url), now + 30)
        assert [r["body"]["threshold_percent"] for r in receiver.received] == [80, 95]
    finally:
        store.close()


def test_a_failing_endpoint_is_logged_and_retried_later(receiver):
    now = int(time.time())
    store = store_with(85.0, now, now + 3600)
    try:
        receiver.fail = True
        started = time.monotonic()
        alerts.check(store, config(receiver.url), now)
        assert time.monotonic() - started < alerts.TIMEOUT_S + 1
        assert receiver.received == []
        log = (Path(os.environ["TOKEN_ROI_HOME"]) / "token-roi.log").read_text()
        assert "webhook failed (limit:claude:five_hour:" in log and "attempt 1" in log
        receiver.fail = False
        alerts.check(store, config(receiver.url), now + 10)            # before the back-off: not yet
        assert receiver.received == []
        alerts.check(store, config(receiver.url), now + 61)            # after it: sent, once
        alerts.check(store, config(receiver.url), now + 200)
        assert len(receiver.received) == 1 and receiver.received[0]["body"]["used_percentage"] == 85.0
    finally:
        store.close()


def test_an_endpoint_that_is_not_there_never_blocks():
    now = int(time.time())
    store = store_with(99.0, now, now + 3600)
    try:
        started = time.monotonic()
        # A closed port on loopback: refused at once.
        alerts.check(store, config("http://127.0.0.1:9/none"), now)
        assert time.monotonic() - started < alerts.TIMEOUT_S + 1
        state = json.loads(Path(alerts.state_path()).read_text())
        assert len(state["pending"]) == 2 and all(p["attempts"] == 1 for p in state["pending"])
    finally:
        store.close()


def test_budget_crossings(receiver):
    now = int(time.time())
    store = Store()
    try:
        with store.transaction():
            store.db.execute(
                "INSERT INTO calls (agent, dedupe_key, ts, session_id, input_tokens, cost, price_source, ingested_at) "
                "VALUES ('claude', 'k1', ?, 's', 10, 8.5, 'override', 0)", (now * 1000 - 1000,))
        cfg = config(receiver.url)
        cfg["guard"]["daily_budget_usd"] = 10.0
        alerts.check(store, cfg, now)
        got = [(r["body"]["scope"], r["body"]["threshold_percent"], r["body"]["spent_usd"]) for r in receiver.received]
        assert got == [("daily", 80, 8.5)]
        alerts.check(store, cfg, now + 1)
        assert len(receiver.received) == 1
    finally:
        store.close()


def test_stale_figures_do_not_alert(receiver):
    now = int(time.time())
    store = store_with(90.0, now - 3600, now + 3600)          # captured an hour ago, never confirmed since
    try:
        assert alerts.check(store, config(receiver.url), now) == []
    finally:
        store.close()


def test_desktop_notification_through_notify_send(tmp_path, monkeypatch):
    """notify-send where there is one: a stand-in on PATH records its arguments."""
    record = tmp_path / "notified.txt"
    fake = tmp_path / "bin" / "notify-send"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {record}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    now = int(time.time())
    store = store_with(81.0, now, now + 3600)
    try:
        alerts.check(store, config(None, desktop=True), now)
        alerts.check(store, config(None, desktop=True), now + 1)
    finally:
        store.close()
    lines = record.read_text().splitlines()
    assert lines[:2] == ["--app-name=token-roi", "token-roi"]
    assert lines[2].startswith("claude 5-hour plan limit at 81%") and len(lines) == 3


def test_no_alerts_section_means_nothing_happens(receiver):
    now = int(time.time())
    store = store_with(99.0, now, now + 3600)
    try:
        assert alerts.check(store, {"alerts": {}}, now) == []
        assert not Path(quota.limits_dir(), "alerts.json").exists()
    finally:
        store.close()
