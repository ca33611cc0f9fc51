"""`serve`: the site live from the database, read-only, on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from rlmllm_graph import ingest, store
from rlmllm_graph.serve import make_server

from _site_data import XSS_TITLE, fill_db, pid


def _start(db_path):
    ro = store.open_db(db_path, readonly=True)
    srv = make_server(ro, port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _stop(srv):
    srv.shutdown()
    srv.server_close()
    srv.db.conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    db = store.open_db(tmp / "serve.db")
    fill_db(db, tmp)
    db.conn.close()
    srv = _start(tmp / "serve.db")
    yield srv
    _stop(srv)


def url(srv, path: str) -> str:
    host, port = srv.server_address[:2]
    return f"http://{host}:{port}{path}"


def get(srv, path: str, *, method: str = "GET"):
    req = urllib.request.Request(url(srv, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_listens_on_localhost_by_default(server):
    assert server.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize("path", ["/", "/index.html", "/trends.html", "/graph.html", "/papers.html", "/table.html"])
def test_pages(server, path):
    status, headers, body = get(server, path)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert headers["X-Content-Type-Options"] == "nosniff"
    text = body.decode()
    assert text.startswith("<!DOCTYPE html>") and "live from the database" in text
    assert XSS_TITLE not in text


def test_assets(server):
    status, headers, body = get(server, "/assets/plotly.min.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and len(body) > 1_000_000
    assert get(server, "/assets/sigma.min.js")[0] == 200
    assert get(server, "/assets/style.css")[1]["Content-Type"].startswith("text/css")
    assert get(server, "/assets/../site.py")[0] == 404
    assert get(server, "/assets/%2e%2e/serve.py")[0] == 404
    assert get(server, "/nothing-here")[0] == 404


def test_search_uses_bound_parameters(server):
    status, _, body = get(server, "/api/search?q=Video+reasoning&limit=5")
    assert status == 200
    res = json.loads(body)
    assert 0 < len(res["results"]) <= 5
    assert all("Video reasoning" in r["title"] for r in res["results"])
    # SQL and FTS syntax are just words
    for q in ["'; DROP TABLE papers; --", 'title:"x" OR 1=1', "NEAR(a b)", "*", ")"]:
        status, _, body = get(server, "/api/search?q=" + urllib.request.quote(q))
        assert status == 200, q
        assert isinstance(json.loads(body)["results"], list)
    assert json.loads(get(server, "/api/stats")[2])["papers"] == 60
    assert get(server, "/api/search?q=x&limit=lots")[0] == 400


def test_paper_endpoint(server):
    status, _, body = get(server, f"/api/paper/{pid(3)}")
    assert status == 200
    paper = json.loads(body)
    assert paper["title"] == XSS_TITLE  # JSON, served as application/json + nosniff
    assert {l["facet"] for l in paper["labels"]} >= {"relevance", "algorithm"}
    assert get(server, "/api/paper/ARXIV:2500.00003")[0] == 200
    status, _, body = get(server, "/api/paper/" + "0" * 40)
    assert status == 404 and "paper not found" in json.loads(body)["error"]
    status, _, body = get(server, "/api/paper/nope")
    assert status == 404 and "not a paper id" in json.loads(body)["error"]


def test_read_only_methods(server):
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = get(server, "/index.html", method=method)
        assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, _, body = get(server, "/index.html", method="HEAD")
    assert status == 200 and body == b""


def test_pages_follow_the_database(db, db_path, tmp_path):
    fill_db(db, tmp_path, n=5)
    server = _start(db_path)
    assert "Brand new paper" not in get(server, "/papers.html")[2].decode()
    rec = {"paperId": "e" * 40, "title": "Brand new paper on video GRPO", "year": 2026, "authors": []}
    (tmp_path / "new.jsonl").write_text(json.dumps(rec) + "\n")
    ingest.import_files(db, [tmp_path / "new.jsonl"])  # the writer is another connection
    try:
        assert "Brand new paper" in get(server, "/papers.html")[2].decode()
    finally:
        _stop(server)


def test_server_never_writes(server):
    ro = server.db
    with pytest.raises(Exception):
        ro.execute("INSERT INTO labels (paper_id, facet, value) VALUES ('x', 'y', 'z')")


def test_serve_command_fails_cleanly_on_an_empty_database(db, invoke):
    r = invoke("serve", "--port", "0")
    assert r.exit_code == 1 and r.stderr.startswith("Error: nothing to report")
