"""The dashboard keeps its Host allow-list on any address (--host 0.0.0.0 too), takes writes only
from its own page (Origin), forbids framing and sniffing, and answers odd requests with a 4xx."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from token_roi import pricing
from token_roi.dashboard.server import Settings, make_server
from token_roi.rows import UsageRow
from token_roi.store import Store


@pytest.fixture
def wide():
    """A dashboard bound to every address, as `dashboard --host 0.0.0.0 --host mybox.lan` runs it."""
    store = Store()
    with store.transaction():
        store.upsert_calls([UsageRow("claude", "k1", 1_790_000_000_000, "s", "/p", "claude-sonnet-4-5", 10, 5)])
    store.close()
    try:
        settings = Settings(hosts=("0.0.0.0", "mybox.lan"))
    except TypeError:                   # (a version without the allow-list: the tests say what fails)
        settings = Settings()
    server = make_server("0.0.0.0", 0, settings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def ask(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data, r


def test_host_allow_list_holds_on_every_address(wide):
    for host in ("evil.example", f"evil.example:{wide}", "192.0.2.7", "mybox.lan.evil.example"):
        status, body, _ = ask(wide, "GET", "/api/meta", headers={"Host": host})
        assert status == 403, host
    for host in (f"localhost:{wide}", f"127.0.0.1:{wide}", f"mybox.lan:{wide}", f"MyBox.lan:{wide}"):
        status, body, _ = ask(wide, "GET", "/api/meta", headers={"Host": host})
        assert status == 200, (host, body)


def test_writes_need_the_pages_own_origin(wide):
    body = json.dumps({"model": "gpt-5", "rates": {"input": 1, "output": 2}}).encode()
    host = f"127.0.0.1:{wide}"
    for origin in (None, "http://evil.example", f"http://evil.example:{wide}", "null", f"https://{host}"):
        headers = {"Host": host, "Content-Type": "application/json"}
        if origin is not None:
            headers["Origin"] = origin
        status, out, _ = ask(wide, "POST", "/api/prices", body, headers)
        assert status == 403, (origin, out)
    assert not pricing.overrides_path().exists()
    status, out, _ = ask(wide, "POST", "/api/prices", body,
                         {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/json"})
    assert status == 200, out
    assert pricing.overrides_path().exists()


def test_every_answer_forbids_framing_and_sniffing(wide):
    host = {"Host": f"localhost:{wide}"}
    status, html, r = ask(wide, "GET", "/", headers=host)
    assert status == 200
    csp = r.getheader("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp and "default-src 'self'" in csp
    for path in ("/", "/api/meta", "/app.js", "/nope"):
        _, _, r = ask(wide, "GET", path, headers=host)
        assert r.getheader("X-Frame-Options") == "DENY", path
        assert r.getheader("X-Content-Type-Options") == "nosniff", path
        assert "frame-ancestors 'none'" in (r.getheader("Content-Security-Policy") or ""), path


def test_deeply_nested_body_is_a_400(wide):
    host = f"127.0.0.1:{wide}"
    status, out, _ = ask(wide, "POST", "/api/prices", b"[" * 30_000 + b"]" * 30_000,
                         {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/json"})
    assert status == 400 and b"internal error" not in out


def test_huge_since_until_answers(wide):
    host = {"Host": f"localhost:{wide}"}
    status, out, _ = ask(wide, "GET", "/api/overview?period=custom&since=0001-01-01&until=9999-12-31", headers=host)
    assert status == 200, out
    labels = json.loads(out)["chart"]["labels"]
    assert 1 <= len(labels) <= 3660 and "2026-09-21" in labels
    status, out, _ = ask(wide, "GET", "/api/sessions?period=custom&since=0001-01-01&until=9999-12-31", headers=host)
    assert status == 200, out
