"""The dashboard's HTTP server: the standard library's ThreadingHTTPServer serving the page
(static/ in this package, Chart.js vendored: no network) and the JSON API (api.py).

Each request opens its own connection to the ledger (SQLite connections stay in their thread)
and closes it after; writes (price overrides, re-pricing) are serialised by one lock.

Caching: index.html names each script and the stylesheet with its content's hash (?v=...), and
those URLs are cached for good (immutable); `token-roi dashboard` listens on the same port for
the same ledger each launch when it is free (preferred_port), so a returning browser has the
page's code, compiled, in its cache. The page itself and the API are never cached.

Safety: it binds to 127.0.0.1 unless a host is given explicitly; whatever it is bound to, it
answers only requests whose Host header names loopback or a name given with --host (a web page
elsewhere cannot reach it by DNS rebinding); writes need a JSON body and an Origin that is the
page's own (no cross-site form or script); every answer forbids framing (X-Frame-Options, CSP
frame-ancestors) and sniffing; a body nested too deep is a 400.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import re
import sys
import threading
import time
import urllib.parse
from concurrent.futures import Future
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .. import paths
from ..config import ConfigError, load
from ..dates import system_timezone
from ..errorlog import log_exception
from ..store import Store, StoreError
from . import api

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
META_CSP = re.compile(rb'http-equiv="Content-Security-Policy" content="([^"]*)"')
NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'"     # (the API's JSON and the assets)
MAX_BODY = 64 * 1024
# What index.html's head asks for on the default route, and how long an answer started for it
# when the page itself was served may wait for that request.
EARLY_QUERY = {"period": api.DEFAULT_PERIOD, "stack": "agent"}
EARLY_WAIT_S = 5.0
# The preferred ports: below Linux's ephemeral range (32768-60999), where outgoing connections
# would take them, and above the common development servers' ports.
PREFERRED_PORTS = range(20000, 30000)
# The assets index.html names: served with ?v=<their hash> there, and then cached for good.
ASSET_REF = re.compile(r'((?:src|href)=")(/[\w./-]+\.(?:js|css))"')
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class Settings:
    store_path: Path | None = None      # None: the default ledger (paths.db_path())
    tz: dt.tzinfo | None = None         # None: the system zone
    config: str | None = None           # settings file (None: the default)
    git: bool = True                    # read projects' git history for the value figures
    today: dt.date | None = None        # fixed "today" (tests, benchmarks); None: the real day
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    hosts: tuple[str, ...] = ()         # names (or addresses) given with --host, allowed as Host besides loopback


class Handler(BaseHTTPRequestHandler):
    server_version = "token-roi-dashboard"
    settings: Settings          # set on the subclass make_server builds

    def log_message(self, fmt, *args):   # quiet: the terminal shows only the URL
        pass

    # -- plumbing ---------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, cache: str = "no-store", headers=()) -> None:
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            if not any(name == "Content-Security-Policy" for name, _ in headers):
                self.send_header("Content-Security-Policy", NO_CONTENT_CSP)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the page moved on before the answer came: nothing to tell anyone

    def _json(self, status: int, obj) -> None:
        body = json.dumps(obj, ensure_ascii=False, allow_nan=False).encode()
        self._send(status, body, "application/json; charset=utf-8")

    def _host_ok(self) -> bool:
        """The Host header names loopback or a name given with --host, whatever the address bound
        (0.0.0.0 too): a page on another site cannot reach the dashboard by DNS rebinding."""
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
        allowed = {h.lower() for h in self.settings.hosts if h not in WILDCARDS}
        allowed |= {f"[{h}]" for h in allowed if ":" in h}
        return name in LOOPBACK or name in allowed

    def _origin_ok(self) -> bool:
        """A write comes from the dashboard's own page: its Origin is this server as the browser
        reached it (the Host header, already checked). A page elsewhere, or no Origin, is refused."""
        origin = (self.headers.get("Origin") or "").strip().lower()
        host = (self.headers.get("Host") or "").strip().lower()
        return bool(host) and origin == f"http://{host}"

    def _context(self):
        s = self.settings
        tz = s.tz or system_timezone()
        store = Store(s.store_path)
        cfg = load(s.config)
        today = s.today or dt.datetime.now(tz).date()
        return api.Context(store, tz, cfg, today, s.git)

    def _api(self, name: str, table: dict, arg) -> None:
        handler = table.get(name)
        if handler is None:
            self._json(404, {"error": f"no such endpoint: /api/{name}"})
            return
        ctx = None
        try:
            early = self._take_early()        # any request drops it: only the next may use it
            if early is not None and table is api.GET and name == "overview" and arg == EARLY_QUERY:
                result = early.result()
            else:
                ctx = self._context()
                if table is api.POST:
                    with self.settings.write_lock:
                        result = handler(ctx, arg)
                else:
                    result = handler(ctx, arg)
        except api.BadRequest as exc:
            self._json(400, {"error": str(exc)})
        except (StoreError, ConfigError) as exc:
            self._json(500, {"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - one line for the page, the details in our log
            where = log_exception(exc, "dashboard")
            self._json(500, {"error": f"internal error: {type(exc).__name__}: {exc} (details in {where})"})
        else:
            self._json(200, result)
        finally:
            if ctx is not None:
                ctx.store.close()

    # -- the default overview, started with the page ------------------------------------------
    def _start_early(self) -> None:
        """Start computing the default view's overview as the page itself is served: the page
        asks for it from its head, tens of milliseconds later (more on a busy machine), and then
        finds it under way. The next API request drops it, and only an overview request for the
        same view within EARLY_WAIT_S uses it; a page on another route wastes one overview's work."""
        future: Future = Future()

        def run() -> None:
            ctx = None
            try:
                ctx = self._context()
                future.set_result(api.overview(ctx, dict(EARLY_QUERY)))
            except BaseException as exc:  # noqa: BLE001 - the request that takes it answers as for its own
                future.set_exception(exc)
            finally:
                if ctx is not None:
                    ctx.store.close()

        server = self._dashboard_server()
        with server.early_lock:
            server.early = (time.monotonic(), future)
        threading.Thread(target=run, name="token-roi-dashboard-early", daemon=True).start()

    def _dashboard_server(self) -> DashboardServer:
        assert isinstance(self.server, DashboardServer)
        return self.server

    def _take_early(self) -> Future | None:
        server = self._dashboard_server()
        with server.early_lock:
            early, server.early = server.early, None
        if early is None or time.monotonic() - early[0] > EARLY_WAIT_S:
            return None
        return early[1]

    # -- methods ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._host_ok():
            self._json(403, {"error": "the dashboard answers only on localhost"})
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/api/"):
            q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
            self._api(url.path[len("/api/"):], api.GET, q)
            return
        self._static(url.path, url.query)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if not self._host_ok():
            self._json(403, {"error": "the dashboard answers only on localhost"})
            return
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/api/"):
            self._json(404, {"error": "not found"})
            return
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._json(415, {"error": "send JSON (Content-Type: application/json)"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._json(413, {"error": "request body too large"})
            return
        if not self._origin_ok():
            self._json(403, {"error": "writes are taken only from the dashboard's own page (Origin)"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as exc:
            self._json(400, {"error": f"body is not valid JSON: {exc}"})
            return
        except RecursionError:
            self._json(400, {"error": "body is not valid JSON: nested too deeply"})
            return
        self._api(url.path[len("/api/"):], api.POST, body)

    def _static(self, path: str, query: str) -> None:
        if path in ("/", "/index.html"):
            path = "/index.html"
        rel = urllib.parse.unquote(path).lstrip("/")
        target = (STATIC / rel).resolve()
        if STATIC not in target.parents or not target.is_file():
            self._send(404, b"not found", "text/plain; charset=utf-8")
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript",):
            ctype += "; charset=utf-8"
        if rel == "index.html":
            if self.command == "GET":
                self._start_early()
            html, scripts = page_html(target)
            # The scripts asked for as the page's response is committed, before its parser starts
            # (~20-40 ms sooner on a cold load: Chart.js is the first render's critical path).
            preload = [("Link", ", ".join(f"<{u}>; rel=preload; as=script" for u in scripts))] if scripts else []
            self._send(200, html, ctype, headers=[*preload, ("Content-Security-Policy", page_csp(html))])
            return
        body, version = asset(target)
        # Only the URL index.html gives (this content's hash) is cached; any other asks again.
        fresh = urllib.parse.parse_qs(query).get("v") == [version]
        self._send(200, body, ctype, cache=IMMUTABLE if fresh else "no-cache")


_assets: dict[Path, tuple[tuple[int, int], bytes, str]] = {}


def asset(target: Path) -> tuple[bytes, str]:
    """(content, version: a hash of it) of a static file, read again only when it changed."""
    st = target.stat()
    known = _assets.get(target)
    if known is None or known[0] != (st.st_mtime_ns, st.st_size):
        body = target.read_bytes()
        known = _assets[target] = ((st.st_mtime_ns, st.st_size), body, hashlib.sha256(body).hexdigest()[:16])
    return known[1], known[2]


def page_html(target: Path) -> tuple[bytes, list[str]]:
    """(index.html with each asset it names as /path?v=<hash of its content>, the scripts' URLs)."""
    scripts = []

    def versioned(m: re.Match) -> str:
        f = (STATIC / m.group(2).lstrip("/")).resolve()
        if STATIC not in f.parents or not f.is_file():
            return m.group(0)
        url = f"{m.group(2)}?v={asset(f)[1]}"
        if m.group(2).endswith(".js"):
            scripts.append(url)
        return f'{m.group(1)}{url}"'
    return ASSET_REF.sub(versioned, asset(target)[0].decode("utf-8")).encode("utf-8"), scripts


def page_csp(html: bytes) -> str:
    """The page's own policy (its meta tag: the inline script's hash) as a header, with what only
    a header can say: no framing by any other page (clickjacking)."""
    m = META_CSP.search(html)
    own = m.group(1).decode("utf-8") if m else "default-src 'self'"
    return f"{own.rstrip('; ')}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def preferred_port(store_path: Path | None = None) -> int:
    """The port this ledger's dashboard asks for first: the same at every launch (the browser's
    cache is per address), different for another ledger (another user, another TOKEN_ROI_HOME)."""
    where = str(Path(store_path or paths.db_path()).resolve())
    n = int.from_bytes(hashlib.sha256(where.encode("utf-8")).digest()[:4], "big")
    return PREFERRED_PORTS.start + n % len(PREFERRED_PORTS)


class DashboardServer(ThreadingHTTPServer):
    """The standard library's server, with the overview a page load computes early (see
    Handler._start_early)."""
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        super().__init__(address, handler)
        self.early: tuple[float, Future] | None = None
        self.early_lock = threading.Lock()


def make_server(host: str = "127.0.0.1", port: int | None = 0, settings: Settings | None = None) -> DashboardServer:
    """A server bound to host:port, not yet serving: call serve_forever(). Port 0: a free one;
    None: this ledger's preferred_port if it is free, else a free one."""
    mimetypes.add_type("application/javascript", ".js")
    mimetypes.add_type("text/css", ".css")
    settings = settings or Settings()
    handler = type("DashboardHandler", (Handler,), {"settings": settings})
    if port is None:
        try:
            server = DashboardServer((host, preferred_port(settings.store_path)), handler)
        except OSError:             # taken (another dashboard, another program): any free one
            server = DashboardServer((host, 0), handler)
    else:
        server = DashboardServer((host, port), handler)
    return server


def serving_process() -> None:
    """For a process that only serves the dashboard: hand the interpreter lock over every 0.5 ms
    (not 5). While one thread computes the page's overview, the others serve the page's scripts
    and accept its connections; each needs the lock a few times, and waited up to 5 ms each time
    (the scripts arrived ~20 ms later on a cold load)."""
    sys.setswitchinterval(0.0005)


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = str(server.server_address[0]), server.server_address[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"


def start_in_thread(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 0):
    """(server, url) with the server running in a daemon thread: for tests and benchmarks.
    Stop it with server.shutdown(); server.server_close()."""
    server = make_server(host, port, settings)
    threading.Thread(target=server.serve_forever, name="token-roi-dashboard", daemon=True).start()
    return server, url_of(server)
