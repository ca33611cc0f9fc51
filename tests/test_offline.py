"""The bundled snapshot, ``refresh --offline`` / ``--offline-fallback``, and ``make run`` without the API."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from build_snapshot import counts, read_corpus
from fake_s2 import FakeS2, expected_crawl, make_graph
from rlmllm_graph import store
from rlmllm_graph.classify.vocabulary import FACETS
from rlmllm_graph.snapshot import snapshot_info, snapshot_path

ROOT = Path(__file__).resolve().parents[1]
ATOM = "{http://www.w3.org/2005/Atom}"
SURVEY = "2504.21277"


def _records() -> list[dict]:
    with gzip.open(snapshot_path(), "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _closed_port() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def _fast_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RLMLLM_S2_PACE", "0")
    monkeypatch.setenv("RLMLLM_S2_BACKOFF", "0")


# -- the shipped snapshot ------------------------------------------------------------------------


def test_the_shipped_snapshot_matches_its_metadata():
    info = snapshot_info()
    data = snapshot_path().read_bytes()
    assert len(data) == info["bytes"] < 5_000_000
    assert hashlib.sha256(data).hexdigest() == info["sha256"]
    records = _records()
    got = counts(records)
    assert {k: info[k] for k in got} == got
    assert info["papers"] > 1000 and info["citations"] > 100 and info["labelled"] > 1000 and info["core"] > 100
    ids = {r["paperId"] for r in records}
    assert len(ids) == len(records)
    assert all(x in ids for r in records for x in r["references"])  # a closed network
    for r in records:
        assert hashlib.sha1(f"ARXIV:{r['externalIds']['ArXiv']}".encode()).hexdigest() == r["paperId"]
        for facet, values in (r.get("labels") or {}).items():
            assert facet in FACETS and set(values) <= set(FACETS[facet]), (r["paperId"], facet, values)
    text = (snapshot_path().parent / "snapshot.json").read_text()
    assert "shared" not in text and "/work" not in text


def test_the_snapshot_holds_the_corpus(shared_data):
    corpus = read_corpus(shared_data / "corpus.jsonl")
    snap = {r["paperId"]: r for r in _records()}
    assert set(snap) == {r["paperId"] for r in corpus}
    edges = {(r["paperId"], x) for r in corpus for x in r.get("references") or [] if isinstance(x, str)}
    assert {(p, x) for p, r in snap.items() for x in r["references"]} == edges
    for r in corpus:
        s = snap[r["paperId"]]
        for k in ("externalIds", "title", "abstract", "year", "publicationDate", "authors"):
            assert s[k] == r.get(k), (r["paperId"], k)


# -- refresh --offline ---------------------------------------------------------------------------


def test_refresh_offline_loads_the_snapshot_once(invoke, db_path):
    info = snapshot_info()
    r = invoke("refresh", "--offline", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["offline"] is True and out["unreachable"] is None
    assert out["papers_added"] == info["papers"] == out["papers_total"]
    assert out["citations_added"] == info["citations"] == out["edges_total"]
    assert out["labelled_papers"] == info["labelled"]
    db = store.open_db(db_path)
    assert db.execute("SELECT found_by, count(*) FROM papers GROUP BY 1").fetchall() == [("snapshot", info["papers"])]
    rel = dict(db.execute("SELECT value, count(*) FROM labels WHERE facet = 'relevance' AND source = 'manual' GROUP BY 1"))
    assert rel["core"] == info["core"] and rel["related"] == info["related"]
    assert db.execute("SELECT count(*) FROM papers WHERE abstract IS NOT NULL").fetchone()[0] == info["with_abstract"]
    assert db.execute("SELECT count(*) FROM authors").fetchone()[0] == info["authors"]
    run = db.execute("SELECT kind, status, requests FROM crawl_runs").fetchall()
    assert run == [("snapshot", "done", 0)]
    db.conn.close()
    again = invoke("refresh", "--offline")
    assert again.exit_code == 0
    assert "+0 new" in again.stdout and "+0 citation edges" in again.stdout
    db = store.open_db(db_path)
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == info["papers"]
    db.conn.close()


def test_a_manual_label_is_kept_when_the_snapshot_is_loaded(invoke, db_path):
    assert invoke("refresh", "--offline").exit_code == 0
    assert invoke("label", "ARXIV:2504.21277", "relevance=other").exit_code == 0
    assert invoke("refresh", "--offline").exit_code == 0
    db = store.open_db(db_path)
    pid = store.resolve_paper_id(db, "ARXIV:2504.21277")
    assert db.execute("SELECT value FROM labels WHERE paper_id = ? AND facet = 'relevance'", [pid]).fetchall() == [("other",)]
    db.conn.close()


@pytest.mark.parametrize("args", [["--seed", "ARXIV:2503.06749"], ["--depth", "2"], ["--fulltext"], ["--query", "GRPO"], ["--offline-fallback"]])
def test_offline_takes_no_crawl_option(invoke, db_path, args):
    r = invoke("refresh", "--offline", *args)
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: --offline")
    assert not db_path.exists()


# -- the fallback ----------------------------------------------------------------------------------


def test_fallback_unreachable_api_builds_the_site_from_the_snapshot(invoke, db_path, tmp_path, monkeypatch):
    """The commands `make run` runs, with the API on a closed port: one line, the snapshot, a site, exit 0."""
    _fast_client(monkeypatch)
    url = _closed_port()
    monkeypatch.setenv("S2_API_URL", url)
    r = invoke("refresh", "--offline-fallback")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"Cannot reach the Semantic Scholar API at {url}: building the database from the bundled")
    info = snapshot_info()
    assert f"{info['papers']:,} papers (+{info['papers']:,} new)" in r.stdout
    assert invoke("classify").exit_code == 0
    site = tmp_path / "site"
    rep = invoke("report", "--out", str(site))
    assert rep.exit_code == 0, rep.stderr
    assert f"({info['papers']:,} papers, {info['citations']:,} citations, " in rep.stdout
    index = (site / "index.html").read_text()
    assert '<link rel="alternate" type="application/atom+xml"' in index and 'href="feed.xml"' in index
    entries = ET.parse(site / "feed.xml").getroot().findall(f"{ATOM}entry")
    assert 0 < len(entries) <= 100
    db = store.open_db(db_path)
    core = {r[0] for r in db.execute("SELECT arxiv_id FROM papers JOIN labels USING (paper_id) "
                                     "WHERE facet = 'relevance' AND value = 'core'")}
    db.conn.close()
    assert {e.find(f"{ATOM}id").text.rsplit("/", 1)[1] for e in entries} <= core


def test_without_fallback_an_unreachable_api_still_fails(invoke, db_path, monkeypatch):
    _fast_client(monkeypatch)
    r = invoke("refresh", "--api-url", _closed_port())
    assert r.exit_code == 1 and r.stderr.startswith("Error: cannot reach the Semantic Scholar API")
    db = store.open_db(db_path)
    assert store.paper_count(db) == 0
    db.conn.close()


@pytest.mark.parametrize("fault, code", [("403", 1), ("400", 1)])
def test_fallback_is_for_an_unreachable_api_only(invoke, db_path, monkeypatch, fault, code):
    """A refused key or a rejected request is an error to fix, not a reason to go offline."""
    _fast_client(monkeypatch)
    with FakeS2(make_graph(3, 3), faults=lambda i, req: fault) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--offline-fallback")
    assert r.exit_code == code
    assert r.stderr.startswith("Error: the Semantic Scholar API re") and "snapshot" not in r.stderr
    db = store.open_db(db_path)
    assert store.paper_count(db) == 0
    db.conn.close()


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_run_without_the_api(tmp_path):
    """`make run` itself, with this test run's virtualenv, the API on a closed port and the site in tmp."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "rlmllm-graph").exists():
        pytest.skip("the rlmllm-graph script is not in this virtualenv")
    site, db = tmp_path / "site", tmp_path / "run.db"
    env = {**os.environ, "RLMLLM_DB": str(db), "S2_API_URL": _closed_port(), "RLMLLM_S2_PACE": "0",
           "RLMLLM_S2_BACKOFF": "0"}
    p = subprocess.run(
        ["make", "--no-print-directory", "-o", f"{venv}/.installed", "run", f"VENV={venv}", f"SITE={site}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert [line for line in p.stderr.splitlines() if "Semantic Scholar" in line] == [
        line for line in p.stderr.splitlines() if line.startswith("Cannot reach the Semantic Scholar API")
    ]
    assert f"The report is in {site}/: open {site}/index.html" in p.stdout
    assert (site / "index.html").exists() and (site / "feed.xml").exists() and (site / "graph.html").exists()
    d = store.open_db(db)
    assert store.paper_count(d) == snapshot_info()["papers"]
    d.conn.close()


def test_a_crawl_cut_off_by_the_network_falls_back_and_later_resumes(invoke, db_path, monkeypatch):
    """The connection drops mid-crawl: the snapshot is loaded, and the next refresh resumes the crawl."""
    _fast_client(monkeypatch)
    graph = make_graph(30, 40)
    with FakeS2(graph, faults=lambda i, req: "reset" if i > 2 else None) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--offline-fallback", "--json")
    assert r.exit_code == 0, r.stderr
    assert "dropped the connection" in json.loads(r.stdout)["unreachable"]
    db = store.open_db(db_path)
    runs = db.execute("SELECT run_id, coalesce(kind, 'crawl'), status FROM crawl_runs ORDER BY run_id").fetchall()
    assert runs == [(1, "crawl", "failed"), (2, "snapshot", "done")]
    db.conn.close()
    with FakeS2(graph) as fake:
        again = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--json")
    assert again.exit_code == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["resumed"] is True and report["run_id"] == 1
    crawled, _ = expected_crawl(fake, [f"ARXIV:{SURVEY}"])
    snapshot_arxiv = {r["externalIds"]["ArXiv"] for r in _records()}
    merged = {p for p in crawled if fake.papers[p].arxiv in snapshot_arxiv}
    assert merged  # the survey at least: the snapshot holds it too
    db = store.open_db(db_path)
    assert store.paper_count(db) == snapshot_info()["papers"] + len(crawled) - len(merged)
    assert db.execute("SELECT count(*) FROM papers WHERE arxiv_id = ?", [SURVEY]).fetchone()[0] == 1
    db.conn.close()


def test_fallback_with_fulltext_skips_the_text_when_arxiv_is_unreachable(invoke, db_path, monkeypatch):
    """`make run` with the API up and arXiv down: the crawl is stored and classified, the full text waits."""
    _fast_client(monkeypatch)
    monkeypatch.setenv("RLMLLM_ARXIV_URL", _closed_port())
    monkeypatch.setenv("RLMLLM_ARXIV_PACE", "0")
    monkeypatch.setenv("RLMLLM_ARXIV_BACKOFF", "0")
    graph = make_graph(4, 6)
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--offline-fallback", "--fulltext")
        assert r.exit_code == 0, r.stderr
        assert [line for line in r.stderr.splitlines() if line] == [
            line for line in r.stderr.splitlines() if line.startswith("No full text this time: ")
        ] and r.stderr.strip()
        assert r.stdout.startswith("Crawl 1 finished")
        strict = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--fulltext")
    assert strict.exit_code == 1 and strict.stderr.startswith("Error: ")
    db = store.open_db(db_path)
    crawled, _ = expected_crawl(fake, [f"ARXIV:{SURVEY}"])
    assert {r[0] for r in db.execute("SELECT paper_id FROM papers")} == crawled
    assert db.execute("SELECT count(*) FROM labels WHERE facet = 'relevance'").fetchone()[0] == len(crawled)
    db.conn.close()
