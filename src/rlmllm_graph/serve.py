"""``serve``: the report site served live from the database, read-only.

A stdlib :class:`http.server.ThreadingHTTPServer` on 127.0.0.1 by default.
Pages are rendered by :func:`rlmllm_graph.site.render_site` and cached until the
database file changes (size or modification time of the file and its WAL), so
a ``refresh`` or ``classify`` in another terminal shows on the next load.

Routes (GET and HEAD only; POST, PUT, DELETE and PATCH are 405, other methods 501)::

    /, /index.html, /trends.html, /graph.html, /papers.html, /table.html
    /assets/<file>          plotly.js, the explorer, the paper list and the site's other scripts and styles
    /api/search?q=&limit=   full-text search (store.search_papers: bound parameters)
    /data/papers.js, /data/graph.js   the packed papers table and graph the pages load
    /api/paper/<id>         one paper with authors and labels (store.get_paper)
    /api/papers?offset=&limit=&sort=&order=&q=   one page of the paper list (store.page_papers)
    /api/neighbours/<id>?limit=                  a paper's citations in the corpus (store.paper_neighbours)
    /api/stats              store.compute_stats

The connection is opened read-only by the caller; no route writes. Each request
reads through its own read-only connection to the same file (opened by
store.open_db), so a slow request never holds up the others; only a page
re-render is serialised. Every request gets an answer, and every error is a JSON
``{"error": ...}``: 400 for bad input (a malformed paper id is quoted only in
part), 404, 405/501 for other methods, 414/431 for an over-long request line or
headers, 503 when another process holds the database, 500 with one line for a
damaged database; such failures also go to stderr as one line, never a traceback.

A request whose ``Host`` header names neither the address the server binds nor
localhost (``localhost``, ``127.0.0.1``, ``[::1]``) with the right port gets 421:
a web page on another site that resolves its name to 127.0.0.1 (DNS
rebinding) reads nothing. Bound to a wildcard address, any IP literal and this
machine's names are accepted too.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlite_utils

from . import store
from .errors import BadInput, DatabaseLocked, PaperNotFound, RlmGraphError
from .site import DATA_FILES, PAGES, read_site_asset, render_site, site_asset_names

__all__ = ["SiteServer", "make_server"]

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


QUERY_SECONDS = 10.0  # an API query running longer is interrupted (503)
BUSY = "database is busy, try again"


class QueryTimeout(RlmGraphError):
    """An API query ran longer than QUERY_SECONDS."""


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    """The sqlite3 error behind ``exc`` (pandas wraps it in its own DatabaseError), or None."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 5:
        if isinstance(e, sqlite3.Error):
            return e
        e = e.__cause__ or e.__context__
        seen += 1
    return None


_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
ID_SHOWN = 40  # characters of a malformed paper id quoted back in an error


def _host_name(name: str) -> str:
    """How a Host header spells an address: IPv6 in brackets, lower case, no trailing dot."""
    name = name.strip().lower().rstrip(".")
    return f"[{name}]" if ":" in name and not name.startswith("[") else name


def _split_host(header: str) -> tuple[str, int | None] | None:
    """``'[::1]:8765'`` → ``('[::1]', 8765)``; ``'localhost'`` → ``('localhost', None)``; None if malformed."""
    header = header.strip()
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return None
        name, rest = header[: end + 1], header[end + 1:]
    else:
        name, colon, port_text = header.partition(":")
        rest = colon + port_text
    if rest and (not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6):
        return None
    return _host_name(name), (int(rest[1:]) if rest else None)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, control characters escaped (it may come from the request), at most ``limit`` long."""
    text = " ".join(str(text).split())
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SiteServer(ThreadingHTTPServer):
    """The HTTP server; holds the database, the page cache and the lock around re-rendering."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: sqlite_utils.Database, *, seed: int = 42) -> None:
        super().__init__(address, _Handler)
        self.host_names = self._host_names(address[0])
        self.db = db
        self.seed = seed
        self.lock = threading.Lock()  # guards self.db (when shared) and the page cache
        self.query_seconds = QUERY_SECONDS
        self.busy_timeout_ms = 2000  # how long a request waits for another process's lock before 503
        path = store.db_path(db)
        self._path = path if path != "database" and os.path.exists(path) else None
        self._pages: dict[str, str] | None = None
        self._signature: tuple[Any, ...] | None = None

    def _host_names(self, requested: str) -> frozenset[str]:
        names = set(_LOCAL_NAMES) | {_host_name(requested), _host_name(str(self.server_address[0]))}
        if requested in _WILDCARDS:
            for name in (socket.gethostname(), socket.getfqdn()):
                names.add(_host_name(name))
        return frozenset(names)

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request's ``Host`` header names this server (see the module's note on DNS rebinding).

        No header at all (HTTP/1.0 tools; a browser always sends one) is allowed.
        """
        if header is None:
            return True
        parts = _split_host(header)
        if parts is None:
            return False
        name, port = parts
        if (port or 80) != self.server_address[1]:
            return False
        return name in self.host_names or (self.server_address[0] in _WILDCARDS and _is_ip(name))

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

    def _open(self, busy_timeout_ms: int | None = None) -> sqlite_utils.Database:
        """A new read-only connection to the served file (the caller closes it)."""
        assert self._path is not None
        wait = self.busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
        return store.open_db(self._path, create=False, readonly=True, busy_timeout_ms=wait)

    @contextmanager
    def connection(self, *, deadline: float | None = None) -> Iterator[sqlite_utils.Database]:
        """A read-only connection of this request's own (the shared one, locked, for a database with no file).

        With ``deadline`` (seconds), a query still running after it is interrupted (QueryTimeout).
        """
        if self._path is None:
            with self.lock:
                yield self.db
            return
        db = self._open()
        try:
            if deadline is not None:
                end = time.monotonic() + deadline
                db.conn.set_progress_handler(lambda: int(time.monotonic() > end), 10_000)
            try:
                yield db
            except sqlite3.OperationalError as exc:
                if deadline is not None and "interrupted" in str(exc):
                    raise QueryTimeout(f"query took longer than {deadline:g} s") from None
                raise
        finally:
            db.conn.close()

    def page(self, name: str) -> str:
        """A page, re-rendered when the database has changed since the last render.

        While the database is busy (another process holds it), the last rendering
        is served as it is; with none, DatabaseLocked propagates.
        """
        with self.lock:
            sig = self._db_signature()
            if self._pages is None or sig != self._signature:
                try:
                    if self._path is None:
                        pages = render_site(self.db, seed=self.seed, generated="live from the database",
                                         cache_layout=False, text=False)
                    else:
                        db = self._open()
                        try:
                            pages = render_site(db, seed=self.seed, generated="live from the database",
                                         cache_layout=False, text=False)
                        finally:
                            db.conn.close()
                except Exception as exc:
                    if self._pages is not None and _is_busy(exc):
                        return self._pages[name]
                    raise
                self._pages = pages
                self._signature = sig
            return self._pages[name]

    def query(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(db, *args, **kwargs)`` on a connection of this request's own, bounded by ``query_seconds``."""
        with self.connection(deadline=self.query_seconds) as db:
            return fn(db, *args, **kwargs)

    def locked_out(self) -> bool:
        """Whether another process holds the database now (tells a lock from damage when SQLite's message does not)."""
        if self._path is None:
            return False
        try:
            self._open(busy_timeout_ms=0).conn.close()
        except DatabaseLocked:
            return True
        except RlmGraphError:
            return False
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line on stderr instead of socketserver's traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return
        _log(f"error answering {client_address[0]}: {type(exc).__name__}: {_one_line(str(exc))}")


def _is_busy(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseLocked):
        return True
    err = _sqlite_error(exc)
    return err is not None and store.is_locked(err)


def _log(message: str) -> None:
    try:
        sys.stderr.write(f"rlmllm-graph serve: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer
    server_version = "rlmllm-graph"
    sys_version = ""
    timeout = 30  # seconds a connection may sit idle before its thread lets it go

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if os.environ.get("RLMLLM_DEBUG"):
            super().log_message(format, *args)

    def _send(
        self, status: int, body: bytes, ctype: str, *, head: bool = False, cache: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, *, head: bool = False, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, ensure_ascii=False, default=str).encode()
        self._send(status, body, "application/json; charset=utf-8", head=head, headers=headers)

    def _error(self, status: HTTPStatus, message: str, *, head: bool = False) -> None:
        self._json(status, {"error": message}, head=head)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors raised by http.server itself (400, 414, 431, 501, ...) answered as JSON like every other."""
        try:
            short = HTTPStatus(code).phrase
        except ValueError:
            short = "error"
        text = _one_line(message or short, 200)
        if code >= 500 or code in (414, 431):
            _log(f"{self.command or '-'} -> {code} {text}")
        body = json.dumps({"error": text}, ensure_ascii=False).encode()
        self.close_connection = True
        try:
            self.send_response(code, short)
            self.send_header("Connection", "close")
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._route(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._route(head=False)

    def _refuse(self) -> None:
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "read-only: GET and HEAD only"},
                   headers={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    def _route(self, *, head: bool) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) > 1 or not self.server.host_allowed(hosts[0] if hosts else None):
            self._error(HTTPStatus.MISDIRECTED_REQUEST,
                        "this server answers only to the address it listens on (Host header refused)", head=head)
            return
        url = urlsplit(self.path)
        path = unquote(url.path)
        try:
            if path in ("/", ""):
                path = "/index.html"
            name = path.lstrip("/")
            if name in PAGES:
                self._send(200, self.server.page(name).encode("utf-8"), _TYPES[".html"], head=head)
            elif name in DATA_FILES:
                self._send(200, self.server.page(name).encode("ascii"), _TYPES[".js"], head=head)
            elif name == "api/papers":
                self._api_papers(url.query, head=head)
            elif name.startswith("api/neighbours/"):
                self._api_neighbours(name[len("api/neighbours/"):], url.query, head=head)
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
                pid = self._paper_id(name[len("api/paper/"):], head=head)
                if pid is not None:
                    self._json(200, self.server.query(store.get_paper, pid), head=head)
            elif name == "api/stats":
                self._json(200, self.server.query(store.compute_stats), head=head)
            elif name == "favicon.ico":
                self._send(204, b"", "image/x-icon", head=head)
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found", head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except PaperNotFound as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc), head=head)
        except BadInput as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc), head=head)
        except QueryTimeout as exc:
            message = f"request took too long, try a narrower one ({exc})"
            self._fail(HTTPStatus.SERVICE_UNAVAILABLE, message, exc, head=head)
        except Exception as exc:  # noqa: BLE001 - every request gets an answer, the server keeps serving
            if _is_busy(exc) or ("vtable constructor failed" in str(exc) and self.server.locked_out()):
                self._fail(HTTPStatus.SERVICE_UNAVAILABLE, BUSY, exc, head=head)
            else:
                err = _sqlite_error(exc)
                if isinstance(exc, RlmGraphError):
                    message = str(exc)
                elif err is not None:
                    message = f"database error: {err}"
                else:
                    message = f"internal error: {type(exc).__name__}: {exc}"
                self._fail(HTTPStatus.INTERNAL_SERVER_ERROR, _one_line(message), exc, head=head)

    def _paper_id(self, ref: str, *, head: bool) -> str | None:
        """The stored id for ``ref``, or None after answering 404 (not stored) or 400 (not an id, quoted in part)."""
        shown = ref if len(ref) <= ID_SHOWN else ref[: ID_SHOWN - 1] + "…"
        try:
            return str(self.server.query(store.resolve_paper_id, ref))  # a CorpusId beyond 64 bits: not found
        except PaperNotFound:
            self._error(HTTPStatus.NOT_FOUND, _one_line(f"paper not found: {shown}"), head=head)
        except BadInput:  # not a paper id at all: quoted in part only
            self._error(HTTPStatus.BAD_REQUEST, _one_line(
                f"not a paper id: {shown} (expected a Semantic Scholar id, ARXIV:…, CorpusId:…, DOI:… "
                "or an arXiv URL)"), head=head)
        return None

    def _int_param(self, qs: dict[str, list[str]], key: str, default: int, lo: int, hi: int) -> int:
        """A whole-number query parameter within [lo, hi]; BadInput (400) otherwise."""
        raw = (qs.get(key) or [str(default)])[0]
        try:
            value = int(raw)
        except ValueError:
            raise BadInput(f"{key} must be a whole number") from None
        if not lo <= value <= hi:
            raise BadInput(f"{key} must be between {lo} and {hi}")
        return value

    def _api_papers(self, query: str, *, head: bool) -> None:
        """``/api/papers?offset=&limit=&sort=date|title|venue|citations|year&order=desc|asc&q=``: one page of the list."""
        qs = parse_qs(query)
        order = (qs.get("order") or ["desc"])[0]
        if order not in ("asc", "desc"):
            raise BadInput("order must be asc or desc")
        page = self.server.query(
            store.page_papers,
            offset=self._int_param(qs, "offset", 0, 0, 10**9),
            limit=self._int_param(qs, "limit", 100, 1, 1000),
            sort=(qs.get("sort") or ["date"])[0],
            descending=order == "desc",
            query=(qs.get("q") or [""])[0],
        )
        self._json(200, page, head=head)

    def _api_neighbours(self, ref: str, query: str, *, head: bool) -> None:
        """``/api/neighbours/<id>?limit=``: what a paper cites and what cites it, inside the corpus."""
        limit = self._int_param(parse_qs(query), "limit", 50, 1, 1000)
        pid = self._paper_id(ref, head=head)
        if pid is not None:
            self._json(200, self.server.query(store.paper_neighbours, pid, limit=limit), head=head)

    def _fail(self, status: HTTPStatus, message: str, exc: BaseException, *, head: bool) -> None:
        """Answer ``status`` with ``message`` as JSON and log one line (the cause, no traceback)."""
        cause = _sqlite_error(exc) or exc
        _log(f"{self.command} {_one_line(self.path, 200)} -> {int(status)} {message}"
             + ("" if str(cause) in message else f" ({type(cause).__name__}: {_one_line(str(cause), 200)})"))
        try:
            headers = {"Retry-After": "2"} if status == HTTPStatus.SERVICE_UNAVAILABLE else {}
            self._json(status, {"error": message}, head=head, headers=headers)
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
