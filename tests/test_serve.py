"""`serve`: the site live from the database, read-only, on 127.0.0.1."""

from __future__ import annotations

import json
import random
import sqlite3
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


def get(srv, path: str, *, method: str = "GET", timeout: float = 30):
    req = urllib.request.Request(url(srv, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
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
    assert get(server, "/assets/explorer.js")[0] == 200
    assert get(server, "/assets/sigma.min.js")[0] == 404  # the old renderer is gone
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
    assert status == 400 and "not a paper id" in json.loads(body)["error"]


def test_read_only_methods(server):
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = get(server, "/index.html", method=method)
        assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, _, body = get(server, "/index.html", method="HEAD")
    assert status == 200 and body == b""


def test_pages_follow_the_database(db, db_path, tmp_path):
    fill_db(db, tmp_path, n=5)
    server = _start(db_path)
    from rlmllm_graph.explore.pack import unpack_js

    def titles() -> list[str]:
        return unpack_js(get(server, "/data/papers.js")[2])[0]["columns"]["title"]

    assert "Brand new paper on video GRPO" not in titles()
    rec = {"paperId": "e" * 40, "title": "Brand new paper on video GRPO", "year": 2026, "authors": []}
    (tmp_path / "new.jsonl").write_text(json.dumps(rec) + "\n")
    ingest.import_files(db, [tmp_path / "new.jsonl"])  # the writer is another connection
    try:
        assert "Brand new paper on video GRPO" in titles()
    finally:
        _stop(server)


def test_server_never_writes(server):
    ro = server.db
    with pytest.raises(Exception):
        ro.execute("INSERT INTO labels (paper_id, facet, value) VALUES ('x', 'y', 'z')")


def test_serve_command_fails_cleanly_on_an_empty_database(db, invoke):
    r = invoke("serve", "--port", "0")
    assert r.exit_code == 1 and r.stderr.startswith("Error: nothing to report")


# --- bad requests always get an answer; the server keeps serving ---------------------------------


@pytest.fixture
def own_server(tmp_path):
    """A server of the test's own on a small rollback-journal database (so BEGIN EXCLUSIVE shuts readers out)."""
    path = tmp_path / "own.db"
    db = store.open_db(path)
    fill_db(db, tmp_path, n=8)
    db.execute("PRAGMA journal_mode = DELETE")
    db.conn.close()
    srv = _start(path)
    srv.busy_timeout_ms = 50
    yield srv, path
    _stop(srv)


def _error_of(srv, path):
    status, headers, body = get(srv, path)
    assert headers["Content-Type"].startswith("application/json")
    return status, json.loads(body)["error"]


def test_paper_id_too_large_for_sqlite_is_not_found(server, capfd):
    status, error = _error_of(server, "/api/paper/CorpusId:99999999999999999999999")
    assert status == 404 and "paper not found" in error
    assert "Traceback" not in capfd.readouterr().err
    assert get(server, f"/api/paper/{pid(3)}")[0] == 200


def test_locked_database_answers_503_and_recovers(own_server, capfd):
    srv, path = own_server
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for route in ("/api/search?q=video", f"/api/paper/{pid(1)}", "/api/stats"):
            status, error = _error_of(srv, route)
            assert status == 503 and error == "database is busy, try again", route
        assert get(srv, "/papers.html")[0] == 200  # the last rendering, while the writer works
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert err.count("-> 503 database is busy") == 3 and len(err.strip().splitlines()) == 3
    assert get(srv, "/api/search?q=video")[0] == 200
    assert get(srv, f"/api/paper/{pid(1)}")[0] == 200


def test_damaged_database_answers_500_with_one_line(own_server, capfd):
    srv, path = own_server
    data = bytearray(path.read_bytes())
    rng = random.Random(1)
    data[4096:] = bytes(rng.randrange(256) for _ in range(len(data) - 4096))  # keep the header, ruin the pages
    path.write_bytes(bytes(data))
    for route in ("/api/search?q=video", f"/api/paper/{pid(1)}", "/api/stats", "/papers.html"):
        status, error = _error_of(srv, route)
        assert status == 500 and "\n" not in error and error, route
    path.write_bytes(random.Random(2).randbytes(len(data)))  # not even an SQLite header
    status, error = _error_of(srv, "/api/stats")
    assert status == 500 and "not an rlmllm-graph database or is corrupt" in error
    err = capfd.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 5
    assert get(srv, "/assets/style.css")[0] == 200  # still serving


def test_search_is_bounded(server):
    status, _, body = get(server, "/api/search?q=" + "+".join(["video", "Video", "VIDEO"] * 55))
    assert status == 200 and json.loads(body)["results"]  # repeated words count once
    status, error = _error_of(server, "/api/search?q=" + "+".join(["video"] * 3000))
    assert status == 400 and "search query too long: 17999 characters, at most 1000" in error
    status, error = _error_of(server, "/api/search?q=" + "+".join(f"w{i}" for i in range(33)))
    assert status == 400 and "33 different words, at most 32" in error
    status, error = _error_of(server, "/api/search?q=" + "x" * 1001)
    assert status == 400 and "too long" in error
    assert get(server, "/api/search?q=" + "+".join(f"w{i}" for i in range(32)))[0] == 200


def test_a_slow_request_does_not_hold_up_the_others(own_server, monkeypatch):
    srv, _ = own_server
    inside, release = threading.Event(), threading.Event()

    def slow_search(db, q, limit=20):
        inside.set()
        release.wait(20)
        return []

    monkeypatch.setattr(store, "search_papers", slow_search)
    slow = threading.Thread(target=get, args=(srv, "/api/search?q=x"))
    slow.start()
    try:
        assert inside.wait(10)
        assert get(srv, "/api/stats", timeout=5)[0] == 200  # not queued behind the slow search
        assert get(srv, f"/api/paper/{pid(1)}", timeout=5)[0] == 200
    finally:
        release.set()
        slow.join(10)


def test_a_runaway_query_is_interrupted(own_server, monkeypatch, capfd):
    srv, _ = own_server
    srv.query_seconds = 0.2

    def endless(db):
        sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        return db.execute(sql).fetchone()

    monkeypatch.setattr(store, "compute_stats", endless)
    status, error = _error_of(srv, "/api/stats")
    assert status == 503 and "took too long" in error
    assert "Traceback" not in capfd.readouterr().err
    assert get(srv, "/api/search?q=video")[0] == 200


def test_data_files_are_served(server):
    from rlmllm_graph.explore.pack import unpack_js

    status, headers, body = get(server, "/data/papers.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    head, _ = unpack_js(body)
    assert head["n"] == 60 and XSS_TITLE in head["columns"]["title"]
    status, _, body = get(server, "/data/graph.js")
    assert status == 200 and unpack_js(body)[0]["n"] == 60


def test_api_papers_pages_sorts_and_searches(server):
    status, _, body = get(server, "/api/papers?offset=0&limit=7&sort=citations&order=desc")
    page = json.loads(body)
    assert status == 200 and page["total"] == 60 and len(page["papers"]) == 7
    assert [p["paper_id"] for p in page["papers"]] == [pid(i) for i in range(7)]  # citations (60 - i) * 3
    assert page["papers"][0]["labels"][0] == ["algorithm", "grpo"]
    every = []
    for offset in range(0, 60, 25):  # paging walks every paper once
        every += json.loads(get(server, f"/api/papers?offset={offset}&limit=25&sort=title&order=asc")[2])["papers"]
    assert len({p["paper_id"] for p in every}) == 60
    titles = [p["title"].lower() for p in every]
    assert titles == sorted(titles)
    found = json.loads(get(server, "/api/papers?q=model+7&limit=5")[2])
    assert found["total"] >= 1 and any(p["paper_id"] == pid(7) for p in found["papers"])
    for bad in ("limit=0", "limit=abc", "offset=-1", "sort=rowid;drop", "order=sideways", "limit=100000"):
        status, headers, body = get(server, f"/api/papers?{bad}")
        assert status == 400 and headers["Content-Type"].startswith("application/json"), bad
        assert "error" in json.loads(body)


def test_api_neighbours(server):
    status, _, body = get(server, f"/api/neighbours/{pid(0)}?limit=3")
    nb = json.loads(body)
    assert status == 200 and nb["paper_id"] == pid(0) and nb["cites"] == [] and nb["cites_total"] == 0
    assert nb["cited_by_total"] > 3 and len(nb["cited_by"]) == 3
    counts = [p["citation_count"] for p in nb["cited_by"]]
    assert counts == sorted(counts, reverse=True)
    assert get(server, "/api/neighbours/" + "0" * 40)[0] == 404
    assert get(server, f"/api/neighbours/{pid(0)}?limit=x")[0] == 400
