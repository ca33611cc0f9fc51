"""`serve`: the Host header is checked (DNS rebinding), every error is JSON, malformed ids are 400 and not echoed."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from rlmllm_graph import store
from rlmllm_graph.serve import ID_SHOWN, make_server

from _site_data import fill_db, pid


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve_numbers")
    db = store.open_db(tmp / "serve.db")
    fill_db(db, tmp, n=12)
    db.conn.close()
    ro = store.open_db(tmp / "serve.db", readonly=True)
    srv = make_server(ro, port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()
    srv.db.conn.close()


def request(srv, method: str, path: str, *, host: str | None = "default", headers: dict[str, str] | None = None):
    """(status, headers, body) of one request, with the Host header set by hand (None: no Host header)."""
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host == "default":
            host = f"127.0.0.1:{srv.server_address[1]}"
        if host is not None:
            conn.putheader("Host", host)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def raw(srv, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes (for requests http.client refuses to build) and parse the answer."""
    with socket.create_connection(srv.server_address[:2], timeout=30) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, headers, body


def json_error(headers: dict[str, str], body: bytes) -> str:
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)["error"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example:{port}",
                                  "127.0.0.1:{other}", "localhost:{other}", "127.0.0.1:{port}@evil", "[::1"])
def test_a_foreign_host_header_gets_421_and_no_data(server, host):
    port = server.server_address[1]
    h = host.format(port=port, other=port + 1 if port < 65535 else port - 1)
    for path in ("/api/stats", f"/api/paper/{pid(3)}", "/index.html"):
        status, headers, body = request(server, "GET", path, host=h)
        assert status == 421, (h, path)
        assert "Host header refused" in json_error(headers, body)
        assert b"papers" not in body and b"title" not in body


@pytest.mark.parametrize("host", ["localhost:{port}", "LOCALHOST:{port}", "127.0.0.1:{port}", "[::1]:{port}",
                                  "localhost.:{port}", None])
def test_local_names_with_the_right_port_pass(server, host):
    h = None if host is None else host.format(port=server.server_address[1])
    status, _, body = request(server, "GET", "/api/stats", host=h)
    assert status == 200
    assert json.loads(body)["papers"] == 12


def test_two_host_headers_are_refused(server):
    port = server.server_address[1]
    status, headers, body = request(server, "GET", "/api/stats", host=f"127.0.0.1:{port}",
                                    headers={"Host": "evil.example"})
    assert status == 421 and json_error(headers, body)


def test_a_wildcard_bind_accepts_ip_literals_but_not_names(tmp_path):
    db = store.open_db(tmp_path / "w.db")
    fill_db(db, tmp_path, n=6)
    srv = make_server(db, host="0.0.0.0", port=0)
    try:
        port = srv.server_address[1]
        assert srv.host_allowed(f"192.168.1.20:{port}") and srv.host_allowed(f"localhost:{port}")
        assert srv.host_allowed(f"{socket.gethostname()}:{port}")
        assert not srv.host_allowed(f"evil.example:{port}") and not srv.host_allowed("192.168.1.20:1")
    finally:
        srv.server_close()
        db.conn.close()


def test_malformed_id_is_400_and_quoted_only_in_part(server):
    bad = "<script>" + "x" * 5000
    status, headers, body = request(server, "GET", "/api/paper/" + bad)
    error = json_error(headers, body)
    assert status == 400 and error.startswith("not a paper id: <script>")
    assert "x" * ID_SHOWN not in error and len(error) < 200
    status, headers, body = request(server, "GET", "/api/paper/nope")
    assert status == 400 and "not a paper id: nope " in json_error(headers, body)
    # a well-formed id that is not stored is 404, also clipped
    status, headers, body = request(server, "GET", "/api/paper/DOI:10.1/" + "y" * 3000)
    error = json_error(headers, body)
    assert status == 404 and error.startswith("paper not found: DOI:10.1/yyy") and len(error) < 100


def test_unsupported_method_is_501_json(server):
    status, headers, body = request(server, "BREW", "/index.html")
    assert status == 501 and "Unsupported method" in json_error(headers, body)
    status, headers, body = request(server, "POST", "/api/stats")
    assert status == 405 and headers["Allow"] == "GET, HEAD" and "GET and HEAD" in json_error(headers, body)


def test_uri_too_long_is_414_json(server):
    status, headers, body = raw(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 414 and json_error(headers, body) == "Request-URI Too Long"


def test_headers_too_large_is_431_json(server):
    status, headers, body = raw(server, b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert status == 431 and json_error(headers, body) == "Line too long"
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    status, headers, body = raw(server, b"GET / HTTP/1.1\r\nHost: localhost\r\n" + many + b"\r\n")
    assert status == 431 and json_error(headers, body) == "Too many headers"


def test_bad_request_line_is_400_json(server):
    status, headers, body = raw(server, b"GET / x HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 400 and json_error(headers, body).startswith("Bad request syntax")
