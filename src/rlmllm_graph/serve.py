"""``serve``: the report site served live from the database, read-only.

A stdlib :class:`http.server.ThreadingHTTPServer` on 127.0.0.1 by default.
Pages are rendered by :func:`rlmllm_graph.site.render_site` and cached until the
database file changes (size or modification time of the file and its WAL), so
a ``refresh`` or ``classify`` in another terminal shows on the next load.

Routes (GET and HEAD only; anything else is 405)::

    /, /index.html, /trends.html, /graph.html, /papers.html, /table.html
    /assets/<file>          plotly.js, sigma.js, graphology, the site's scripts and styles
    /api/search?q=&limit=   full-text search (store.search_papers: bound parameters)
    /api/paper/<id>         one paper with authors and labels (store.get_paper)
    /api/stats              store.compute_stats

The connection is opened read-only by the caller; no route writes.
"""

from __future__ import annotations

import json
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlite_utils

from . import store
from .errors import RlmGraphError
from .site import PAGES, read_site_asset, render_site, site_asset_names

__all__ = ["SiteServer", "make_server"]

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


class SiteServer(ThreadingHTTPServer):
    """The HTTP server; holds the database, a lock around it and the page cache."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: sqlite_utils.Database, *, seed: int = 42) -> None:
        super().__init__(address, _Handler)
        self.db = db
        self.seed = seed
        self.lock = threading.Lock()
        self._pages: dict[str, str] | None = None
        self._signature: tuple[Any, ...] | None = None

    def _db_signature(self) -> tuple[Any, ...]:
        path = store.db_path(self.db)
        sig: list[Any] = []
        for p in (path, path + "-wal"):
            try:
                st = os.stat(p)
                sig.append((st.st_size, st.st_mtime_ns))
            except OSError:
                sig.append(None)
        return tuple(sig)

    def page(self, name: str) -> str:
        """A page, re-rendered when the database has changed since the last render."""
        with self.lock:
            sig = self._db_signature()
            if self._pages is None or sig != self._signature:
                self._pages = render_site(self.db, seed=self.seed, generated="live from the database")
                self._signature = sig
            return self._pages[name]

    def query(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return fn(self.db, *args, **kwargs)


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer
    server_version = "rlmllm-graph"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if os.environ.get("RLMLLM_DEBUG"):
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str, *, head: bool = False, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, *, head: bool = False) -> None:
        body = json.dumps(obj, ensure_ascii=False, default=str).encode()
        self._send(status, body, "application/json; charset=utf-8", head=head)

    def _error(self, status: HTTPStatus, message: str, *, head: bool = False) -> None:
        self._json(status, {"error": message}, head=head)

    def do_HEAD(self) -> None:  # noqa: N802
        self._route(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._route(head=False)

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    def _route(self, *, head: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        try:
            if path in ("/", ""):
                path = "/index.html"
            name = path.lstrip("/")
            if name in PAGES:
                self._send(200, self.server.page(name).encode("utf-8"), _TYPES[".html"], head=head)
            elif name.startswith("assets/"):
                asset = name[len("assets/"):]
                if asset not in site_asset_names():
                    self._error(HTTPStatus.NOT_FOUND, "no such asset", head=head)
                    return
                ext = os.path.splitext(asset)[1]
                self._send(200, read_site_asset(asset), _TYPES.get(ext, "application/octet-stream"), head=head, cache=True)
            elif name == "api/search":
                qs = parse_qs(url.query)
                q = (qs.get("q") or [""])[0]
                try:
                    limit = max(1, min(int((qs.get("limit") or ["20"])[0]), 200))
                except ValueError:
                    self._error(HTTPStatus.BAD_REQUEST, "limit must be a number", head=head)
                    return
                self._json(200, {"query": q, "results": self.server.query(store.search_papers, q, limit=limit)}, head=head)
            elif name.startswith("api/paper/"):
                ref = name[len("api/paper/"):]
                pid = self.server.query(store.resolve_paper_id, ref)
                self._json(200, self.server.query(store.get_paper, pid), head=head)
            elif name == "api/stats":
                self._json(200, self.server.query(store.compute_stats), head=head)
            elif name == "favicon.ico":
                self._send(204, b"", "image/x-icon", head=head)
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found", head=head)
        except RlmGraphError as exc:
            status = HTTPStatus.NOT_FOUND if exc.exit_code == 2 else HTTPStatus.INTERNAL_SERVER_ERROR
            self._error(status, str(exc), head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass


def make_server(db: sqlite_utils.Database, *, host: str = "127.0.0.1", port: int = 8765, seed: int = 42) -> SiteServer:
    """A :class:`SiteServer` bound to ``host:port`` (port 0 picks a free one); call ``serve_forever()``.

    Renders the pages once up front, so a database with no papers fails here
    (EmptyGraph) rather than on the first request. Raises RlmGraphError when the
    address cannot be bound.
    """
    try:
        server = SiteServer((host, port), db, seed=seed)
    except OSError as exc:
        raise RlmGraphError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        server.page("index.html")
    except BaseException:
        server.server_close()
        raise
    return server
