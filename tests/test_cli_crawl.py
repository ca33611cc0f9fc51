"""``refresh`` end to end: summary, JSON, errors and exit codes, the API key, and SIGKILL + resume (the seeds'
neighbourhood alone, --no-default-queries; field queries are tested in test_queries.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading

import pytest

from conftest import FAST_S2

from fake_s2 import FakeS2, expected_crawl, make_graph, snapshot
from rlmllm_graph import store
from rlmllm_graph.crawl import crawl
from rlmllm_graph.errors import DatabaseLocked
from rlmllm_graph.sources import S2Client



pytestmark = pytest.mark.usefixtures("fast_s2")


@pytest.fixture(scope="module")
def graph():
    return make_graph(25, 1100, rng_seed=11)


def test_refresh_prints_one_summary_line_with_the_request_count(graph, invoke, db_path):
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url)
        n = fake.count()
        papers, edges = expected_crawl(fake, ["ARXIV:2504.21277"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and f"{n} requests" in lines[0] and f"{len(papers)} papers" in lines[0]
    s = json.loads(invoke("stats", "--json").stdout)
    assert s["papers"] == len(papers) and s["citations"] == len(edges)
    assert s["last_crawl"]["requests"] == n and s["last_crawl"]["status"] == "done"


def test_refresh_json_and_env_api_url(graph, invoke, monkeypatch):
    with FakeS2(graph) as fake:
        monkeypatch.setenv("S2_API_URL", fake.url)
        r = invoke("refresh", "--no-default-queries", "--json", "--seed", "ARXIV:2504.21277", "--depth", "1", "--max-papers", "500")
        n = fake.count()
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["requests"] == n and out["papers"] == 500 and out["papers_skipped"] > 0
    assert {"run_id", "papers_added", "edges_added", "seed_ids", "status", "elided"} <= set(out)


def test_unknown_seed_exits_2_with_paper_not_found(graph, invoke):
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--seed", "ARXIV:2999.00001")
    assert r.exit_code == 2
    assert r.stderr == "Error: paper not found: ARXIV:2999.00001\n"


def test_an_api_paper_with_a_huge_integer_is_stored_with_that_value_unknown(invoke, db_path):
    graph = make_graph(3, 4, rng_seed=2)
    graph[0].corpus_id = 10**20
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--seed", graph[0].paper_id)
    assert r.exit_code == 0, r.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT corpus_id FROM papers WHERE paper_id = ?", [graph[0].paper_id]).fetchone() == (None,)


def test_a_seed_that_is_not_an_id_exits_2(invoke):
    r = invoke("refresh", "--no-default-queries", "--api-url", "http://127.0.0.1:9", "--seed", "not an id")
    assert r.exit_code == 2 and r.stderr.startswith("Error: not a paper id")


def test_an_api_url_that_is_not_a_url_exits_2(invoke):
    r = invoke("refresh", "--no-default-queries", "--api-url", "api.semanticscholar.org")
    assert r.exit_code == 2 and r.stderr.startswith("Error: not an API URL: 'api.semanticscholar.org'")


@pytest.mark.parametrize("args, words", [
    (["--pace", "inf"], "'--pace': 'inf' is not a finite number of seconds"),
    (["--pace", "nan"], "'--pace': 'nan' is not a finite number of seconds"),
    (["--pace", "-1"], "'--pace': '-1' is not a finite number of seconds"),
    (["--api-url", "http://[::1"], "not an API URL: 'http://[::1'"),
    (["--api-url", "http://127.0.0.1:99999"], "not an API URL: 'http://127.0.0.1:99999'"),
    (["--api-url", ""], "--api-url is empty"),
    (["--api-url", "  "], "--api-url is empty"),
])
def test_bad_pace_or_api_url_is_a_usage_error_before_the_database_is_touched(invoke, db_path, args, words):
    r = invoke("refresh", "--no-default-queries", *args)
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: ") and words in r.stderr
    assert not db_path.exists()


@pytest.mark.parametrize("env, value, words", [
    ("RLMLLM_S2_PACE", "inf", "'inf' (from RLMLLM_S2_PACE) is not a finite number of seconds"),
    ("RLMLLM_S2_PACE", "nan", "'nan' (from RLMLLM_S2_PACE) is not a finite number of seconds"),
    ("RLMLLM_S2_PACE", "-2", "'-2' (from RLMLLM_S2_PACE) is not a finite number of seconds"),
    ("S2_API_URL", "", "S2_API_URL is set but empty"),
    ("S2_API_URL", " ", "S2_API_URL is set but empty"),
    ("S2_API_URL", "http://[::1", "not an API URL: 'http://[::1'"),
])
def test_bad_pace_or_api_url_in_the_environment_is_a_usage_error(invoke, db_path, monkeypatch, env, value, words):
    monkeypatch.setenv(env, value)
    r = invoke("refresh", "--no-default-queries")
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and words in r.stderr
    assert not db_path.exists()


@pytest.mark.parametrize("key", ["SECRET\rKEY123", "SECRÉTKEY123", "SECRET KEY123", "SECRET\x1bKEY123"])
def test_a_key_a_header_cannot_carry_is_a_usage_error_that_never_shows_it(graph, invoke, db_path, monkeypatch, key):
    with FakeS2(graph) as fake:
        assert invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--max-papers", "50").exit_code == 0
        before, n0 = _snapshot(db_path), fake.count()
        monkeypatch.setenv("S2_API_KEY", key)
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url)
        n = fake.count()
    assert r.exit_code == 2, r.output
    assert r.stderr == (
        "Error: S2_API_KEY holds characters an HTTP header cannot carry (an API key is printable ASCII "
        "without spaces or control characters): check how it was set, e.g. a stray carriage return\n"
    )
    assert "SECRET" not in r.output and "KEY123" not in r.output
    assert before["papers"] and _snapshot(db_path) == before and n == n0  # nothing sent, nothing lost
    monkeypatch.setenv("S2_API_KEY", key)
    monkeypatch.setenv("S2_API_URL", "")
    # commands that never call the API do not mind, including those that write files
    assert invoke("stats").exit_code == 0
    out = db_path.parent / "papers.csv"
    r = invoke("export", "--format", "csv", "--out", str(out))
    assert r.exit_code == 0 and out.exists(), r.stderr


def _snapshot(path):
    conn = sqlite3.connect(path)
    try:
        return snapshot(conn)
    finally:
        conn.close()


def test_blanks_around_the_key_are_dropped(graph, invoke, monkeypatch):
    monkeypatch.setenv("S2_API_KEY", "  sk-key-0123\r\n")
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--max-papers", "50")
        sent = {x["api_key"] for x in fake.log}
    assert r.exit_code == 0, r.output
    assert sent == {"sk-key-0123"}


def test_unreachable_api_exits_1_naming_the_url(invoke):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = invoke("refresh", "--no-default-queries", "--api-url", f"http://127.0.0.1:{port}")
    assert r.exit_code == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: cannot reach the Semantic Scholar API at ")
    assert f"http://127.0.0.1:{port}/graph/v1/paper/batch" in r.stderr
    assert "--api-url" in r.stderr and "S2_API_KEY" in r.stderr


def test_api_key_is_sent_and_never_stored(graph, invoke, db_path, monkeypatch):
    key = "s2-key-that-must-not-leak-0123456789"
    monkeypatch.setenv("S2_API_KEY", key)
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--json")
        sent = {x["api_key"] for x in fake.log}
    assert r.exit_code == 0 and sent == {key}
    assert key not in r.stdout + r.stderr
    for p in db_path.parent.glob(db_path.name + "*"):  # the database, its WAL and shm
        assert key.encode() not in p.read_bytes()


def test_sigkill_at_any_moment_then_resume_gives_the_same_database(tmp_path):
    """A real process, killed with SIGKILL at several points (between requests, while waiting for an
    answer, a few milliseconds after one arrived), then run again to the end."""
    graph = make_graph(15, 120, rng_seed=3)
    args = ["--depth", "2", "--max-papers", "1000", "--no-default-queries"]
    with FakeS2(graph) as fake:
        db0 = store.open_db(tmp_path / "clean.db")
        clean = crawl(S2Client(fake.url, pace=0), db0, depth=2, max_papers=1000)
    assert clean.requests > 60

    path = tmp_path / "killed.db"
    env = {**os.environ, **FAST_S2}
    env.pop("S2_API_KEY", None)
    plan: dict[str, object] = {}

    def on_request(n: int, req: dict) -> None:
        if n == plan.get("at"):
            proc = plan["proc"]
            delay = plan.get("delay")
            if delay is None:
                os.kill(proc.pid, signal.SIGKILL)  # mid-request: the answer never arrives
            else:  # after the answer: while it is being stored
                threading.Timer(delay, lambda: proc.poll() is None and os.kill(proc.pid, signal.SIGKILL)).start()

    killed = 0
    with FakeS2(graph, on_request=on_request) as fake:
        for at, delay in ((1, None), (3, 0.0), (12, None), (30, 0.003), (70, 0.001)):
            fake.reset_log()
            plan.update(at=at, delay=delay)
            proc = subprocess.Popen(
                [sys.executable, "-m", "rlmllm_graph", "refresh", "--api-url", fake.url, "--db", str(path), *args],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            plan["proc"] = proc
            out, err = proc.communicate(timeout=120)
            assert proc.returncode in (-signal.SIGKILL, 0), err
            killed += proc.returncode == -signal.SIGKILL
        plan.clear()
        final = subprocess.run(
            [sys.executable, "-m", "rlmllm_graph", "refresh", "--api-url", fake.url, "--db", str(path), *args, "--json"],
            env=env, capture_output=True, text=True, timeout=120,
        )
    assert final.returncode == 0, final.stderr
    assert killed >= 4
    db = store.open_db(path)
    assert snapshot(db) == snapshot(db0)
    assert db.execute("SELECT status FROM crawl_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0] == "done"


def test_expand_core_uses_the_classifier(invoke, db_path):
    classify = pytest.importorskip("rlmllm_graph.classify")
    graph = make_graph(6, 30, rng_seed=2)
    for p in graph[1:37:2]:
        p.title, p.abstract = "Protein folding with graph neural networks", "We predict protein structures."
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--depth", "2", "--expand", "core")
        expanded = {x["path"].split("/")[4] for x in fake.log if x["endpoint"] == "citations"}
    assert r.exit_code == 0, r.output
    db = store.open_db(db_path)
    hop1 = [dict(zip(("paper_id", "title", "abstract"), row)) for row in
            db.execute("SELECT paper_id, title, abstract FROM papers WHERE hop = 1 ORDER BY paper_id")]
    core = {p["paper_id"] for p, pred in zip(hop1, classify.predict_labels(hop1)) if "core" in pred["labels"]["relevance"]}
    marked = {r[0] for r in db.execute("SELECT paper_id FROM crawl_frontier WHERE expand = 1 AND expanded = 1")}
    assert marked == core | {graph[0].paper_id}
    assert graph[0].paper_id in expanded and expanded <= marked
    assert len(core) < len(hop1)


def test_a_second_crawl_on_the_same_database_is_refused_until_the_first_dies(graph, invoke, db_path, db):
    """Another process holds the crawl lock: refresh stops with one line naming it, the database untouched;
    once that process is killed (SIGKILL: no clean-up of its own), refresh runs."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from rlmllm_graph import store; from rlmllm_graph.store.crawl import crawl_lock\n"
         f"db = store.open_db({str(db_path)!r})\n"
         "with crawl_lock(db):\n    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with FakeS2(graph) as fake:
            r = invoke("refresh", "--no-default-queries", "--api-url", fake.url)
            assert fake.count() == 0
        assert r.exit_code == 1
        assert r.stderr == (f"Error: another crawl is running on {db_path} (process {holder.pid}): wait for it to "
                            "finish, or stop it; a stopped crawl resumes where it left off\n")
        assert store.paper_count(db) == 0
    finally:
        holder.kill()
        holder.wait()
    with FakeS2(graph) as fake:
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url, "--max-papers", "50")
    assert r.exit_code == 0, r.stderr
    assert store.paper_count(db) == 50
    assert not (db_path.parent / (db_path.name + "-crawl.lock")).exists()  # a finished crawl tidies up


def test_crawl_lock_is_one_per_file_and_steps_aside_where_flock_is_missing(tmp_path, monkeypatch):
    import errno

    from rlmllm_graph.store import crawl as cstore

    real = tmp_path / "real.db"
    store.open_db(real).conn.close()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    a, b = store.open_db(real), store.open_db(link)
    with cstore.crawl_lock(a):
        with pytest.raises(DatabaseLocked, match="another crawl is running"):
            with cstore.crawl_lock(b):
                pass
    assert not list(tmp_path.glob("*-crawl.lock"))

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(cstore.fcntl, "flock", no_flock)
    with cstore.crawl_lock(a):  # no guard, but the crawl runs
        pass
    assert not list(tmp_path.glob("*-crawl.lock"))
