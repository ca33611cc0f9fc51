"""``fulltext`` against a fake arXiv on 127.0.0.1: fetching, politeness, outcomes, resume, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from fake_arxiv import FIXTURES, ArxivPaper, FakeArxiv, fixture_papers, folder_tar_gz, make_papers, seed_database, tar_gz
from fake_s2 import FakeS2, make_graph
from rlmllm_graph import store
from rlmllm_graph.errors import ApiUnreachable, RateLimited, ResponseTooLarge
from rlmllm_graph.fulltext import fetch_fulltext
from rlmllm_graph.sources import S2Client
from rlmllm_graph.sources.arxiv import ArxivClient, has_html, split_version
from test_fulltext_parse import gzip_bomb

FAST = {"RLMLLM_ARXIV_PACE": "0", "RLMLLM_ARXIV_BACKOFF": "0.001", "RLMLLM_ARXIV_TIMEOUT": "2",
        "RLMLLM_S2_PACE": "0", "RLMLLM_S2_BACKOFF": "0.001"}


@pytest.fixture(autouse=True)
def fast_env(monkeypatch):
    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("RLMLLM_ARXIV_URL", raising=False)
    monkeypatch.delenv("S2_API_KEY", raising=False)


def client(url: str, **kw) -> ArxivClient:
    return ArxivClient(url, **{"pace": 0, "timeout": 2, "backoff": 0.001, **kw})


def sections_rows(db):
    return db.execute(
        "SELECT paper_id, position, title, text, source, version, licence FROM sections ORDER BY paper_id, position"
    ).fetchall()


# -- the client ---------------------------------------------------------------------------------


def test_ids_versions_and_which_papers_may_have_html():
    assert split_version("2503.06749v2") == ("2503.06749", "v2") and split_version("2503.06749") == ("2503.06749", None)
    assert has_html("2312.00001") and has_html("2503.06749v3")
    assert not has_html("2311.99999") and not has_html("hep-th/9901001")


def test_throttling_is_retried_honouring_retry_after_and_the_client_names_itself():
    papers = fixture_papers()
    waits: list[float] = []
    with FakeArxiv(papers, faults={"/html/2503.06749": ["429-retry-after:7", "429", "503"]}) as fake:
        c = client(fake.url, sleep=waits.append, backoff=0.5)
        got = c.fetch_html("2503.06749")
        agents = {r["user_agent"] for r in fake.log}
    assert got.status == "ok" and got.requests == 4 and c.retries == 3
    assert got.version is None  # served without a redirect: the page itself names its version (the parser reads it)
    assert waits[0] == 7  # Retry-After honoured
    assert 0.5 <= waits[1] <= 1.0 and 1.0 <= waits[2] <= 2.0  # exponential back-off with jitter
    assert len(agents) == 1 and next(iter(agents)).startswith("rlmllm-graph/")


def test_requests_are_paced_one_at_a_time():
    waits: list[float] = []
    with FakeArxiv(fixture_papers()) as fake:
        c = client(fake.url, pace=3.0, sleep=waits.append)
        for aid in ("2503.06749", "2503.01785", "2503.21776"):
            c.fetch_html(aid)
    assert len(waits) == 2 and all(2.5 < w <= 3.0 for w in waits)


def test_version_comes_from_the_redirect_and_from_the_eprint_file_name():
    with FakeArxiv(fixture_papers()) as fake:
        c = client(fake.url)
        html = c.fetch_html("2503.21776")
        src = c.fetch_eprint("2504.07615")
    assert html.version == "v3" and html.url.endswith("/html/2503.21776v3")
    assert src.version == "v2"


def test_a_stalled_connection_is_cut_and_retried():
    with FakeArxiv(fixture_papers(), faults={"/html/2503.01785": ["stall"]}, slow_seconds=1.5) as fake:
        got = client(fake.url, timeout=0.4).fetch_html("2503.01785")
    assert got.status == "ok" and got.requests == 2
    with FakeArxiv(fixture_papers(), faults={"/html/2503.01785": ["stall", "stall"]}, slow_seconds=1.5) as fake:
        with pytest.raises(ApiUnreachable, match="did not answer in time 2 times"):
            client(fake.url, timeout=0.4, max_attempts=2).fetch_html("2503.01785")


def test_throttled_after_every_attempt_is_rate_limited():
    with FakeArxiv(fixture_papers(), faults={"/html/2503.01785": ["429"] * 3}) as fake:
        with pytest.raises(RateLimited, match="429"):
            client(fake.url, max_attempts=3).fetch_html("2503.01785")


def test_a_huge_page_is_not_read_past_the_cap():
    huge = ArxivPaper("2503.55555", huge=3_000_000)
    with FakeArxiv([huge]) as fake:
        with pytest.raises(ResponseTooLarge, match="larger than the 200,000 bytes"):
            client(fake.url, max_bytes=200_000).fetch_html("2503.55555")


def test_missing_and_withdrawn_are_answers_not_errors():
    with FakeArxiv(fixture_papers()) as fake:
        c = client(fake.url)
        assert c.fetch_html("2502.00001").status == "missing"
        assert c.fetch_eprint("2501.00002").status == "withdrawn"


# -- the policy ---------------------------------------------------------------------------------


def test_fixture_papers_are_fetched_from_the_right_source_with_their_versions(db):
    papers = fixture_papers()
    seed_database(db, papers)
    with FakeArxiv(papers) as fake:
        report = fetch_fulltext(db, client(fake.url))
        served = fake.count()
    outcomes = store.sections.fulltext_outcomes(db)
    by_id = {p.paper_id: p for p in papers}
    for pid, p in by_id.items():
        if p.relevance == "other":
            assert pid not in outcomes
            continue
        row = outcomes[pid]
        assert row["status"] == p.expect.get("status", "fetched"), (pid, row)
        if row["status"] == "fetched":
            assert row["source"] == p.expect["source"] and row["version"] == p.version
    text = store.load_sections(db)
    assert "We optimise with RLOO" in {s["title"]: s["text"] for s in text["p-mm-eureka"]}["Approach"]
    assert {s["version"] for s in text["p-vlm-r1"]} == {"v2"}
    # the report's numbers are the database's
    run = store.sections.get_fulltext_run(db, report.run_id)
    assert (report.fetched, report.without_text, report.missing, report.failed) == (5, 1, 2, 0)
    assert (run["papers_fetched"], run["papers_without_text"], run["papers_failed"], run["status"]) == (5, 3, 0, "done")
    assert report.requests == run["requests"] == sum(r["requests"] for r in outcomes.values())
    assert served == report.requests + 1  # the one redirect (/html/2503.21776 -> v3) is a request httpx follows
    assert report.by_source == {"arxiv-html": 3, "arxiv-latex": 2}
    stored = db.execute("SELECT sum(length(text)) FROM sections").fetchone()[0]
    assert report.bytes_stored == stored
    assert report.summary().startswith("Full text run 1: 5 of 8 papers fetched (3 arXiv HTML, 2 arXiv LaTeX)")


def test_a_second_run_fetches_nothing_and_refetch_and_max_papers_do_what_they_say(db):
    papers = fixture_papers()
    seed_database(db, papers)
    with FakeArxiv(papers) as fake:
        first = fetch_fulltext(db, client(fake.url), max_papers=3)
        assert first.selected == 3 and first.labelled == 8
        second = fetch_fulltext(db, client(fake.url))
        assert second.selected == 5 and second.already == 3
        fake.log.clear()
        third = fetch_fulltext(db, client(fake.url))
        # nothing fetched: one request to arXiv's API asks for the versions of the 5 papers stored from arXiv
        assert third.selected == 0 and third.requests == 1 and fake.count() == fake.count("api") == 1
        only_related = fetch_fulltext(db, client(fake.url), relevance="related", refetch=True)
        assert only_related.selected == 2  # the related ones, fetched again
        # a paper arXiv now lists in a newer version is fetched again, and only that one
        fake.papers["2503.06749"].version = "v3"
        fake.log.clear()
        again = fetch_fulltext(db, client(fake.url))
        assert [r["path"] for r in fake.log] == ["/api/query", "/html/2503.06749v3"]  # asked for by name
    assert again.selected == 1 and again.fetched == 1 and again.new_versions == 1
    assert "1 fetched again for a new arXiv version" in again.summary()
    assert store.sections.fulltext_outcomes(db)["p-vision-r1"]["version"] == "v3"
    # a version named by the stored arXiv id counts too, without asking the API
    db.execute("UPDATE papers SET arxiv_id = '2503.06749v4' WHERE paper_id = 'p-vision-r1'")
    with FakeArxiv(papers) as fake:
        fake.papers["2503.06749"].version = "v4"
        last = fetch_fulltext(db, client(fake.url), check_versions=False)
    assert last.selected == 1 and store.sections.fulltext_outcomes(db)["p-vision-r1"]["version"] == "v4"


def test_a_page_too_large_to_read_leaves_the_source_to_be_read(db):
    huge = ArxivPaper("2503.00004", huge=3_000_000, eprint=folder_tar_gz(FIXTURES / "2504.07615"), paper_id="p-huge")
    big_src = ArxivPaper("2201.00005", eprint=b"\x1f\x8b" + bytes(400_000), paper_id="p-bigsrc")
    seed_database(db, [huge, big_src])
    with FakeArxiv([huge, big_src]) as fake:
        report = fetch_fulltext(db, client(fake.url, max_bytes=200_000))
    outcomes = store.sections.fulltext_outcomes(db)
    assert outcomes["p-huge"]["status"] == "fetched" and outcomes["p-huge"]["source"] == "arxiv-latex"
    assert outcomes["p-bigsrc"]["status"] == "no-text" and "more than the 200,000 we read" in outcomes["p-bigsrc"]["error"]
    assert (report.fetched, report.without_text) == (1, 1)


def test_papers_without_an_arxiv_id_are_read_from_snippet_search(db):
    seed_database(db, [], extra=[("s2only", None, "core"), ("s2none", None, "related")])
    snippet = {"snippetKind": "body", "section": "Approach", "snippetOffset": {"start": 10, "end": 60},
               "text": "We fine-tune the policy with DPO on preference pairs."}
    with FakeS2([]) as s2fake, FakeArxiv([]) as fake:
        s2fake.snippets["s2only"] = [{"snippet": snippet, "score": 0.8,
                                      "paper": {"corpusId": "42", "openAccessInfo": {"license": "CCBY"}}}]
        report = fetch_fulltext(db, client(fake.url), s2=S2Client(s2fake.url, pace=0))
        asked = [r["path"] for r in s2fake.log]
    assert report.fetched == 1 and report.without_text == 1 and report.by_source == {"s2-snippets": 1}
    assert all("paperIds=s2" in p and "/graph/v1/snippet/search" in p for p in asked)
    assert store.load_sections(db)["s2only"] == [
        {"title": "Approach", "text": snippet["text"], "source": "s2-snippets", "version": None}]
    assert db.execute("SELECT licence FROM sections").fetchone()[0] == "CCBY"


def test_malformed_sources_give_one_line_each_and_store_nothing_outside_the_database(tmp_path, invoke, db_path):
    bad = [
        ArxivPaper("2201.00001", eprint=tar_gz({"main.tex": "\\documentclass{a}\\begin{document}\\section{A}b"
                                                "\\end{document}", "../../x.tex": "pwned"}), paper_id="p-escape"),
        ArxivPaper("2201.00002", eprint=gzip_bomb(), eprint_suffix=".gz", paper_id="p-bomb"),
        ArxivPaper("2503.00003", html=b"<html><body><p>Conversion failed</p></body></html>", paper_id="p-badhtml"),
    ]
    db = store.open_db(db_path)
    seed_database(db, bad + fixture_papers()[:1])
    db.conn.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    with FakeArxiv(bad + fixture_papers()[:1]) as fake:
        r = invoke("fulltext", "--arxiv-url", fake.url)
    after = sorted(p.name for p in tmp_path.iterdir())
    assert r.exit_code == 0, r.output
    assert set(after) - set(before) <= {"test.db-wal", "test.db-shm"}  # the database only: no file of a bundle
    warnings = r.stderr.strip().splitlines()
    assert len(warnings) == 3 and all(w.startswith("warning: arXiv 2") for w in warnings)
    assert any("points outside it" in w for w in warnings) and any("gzip bomb" in w for w in warnings)
    assert any("not a LaTeXML paper rendering" in w and "no source" in w for w in warnings)
    assert r.stdout.startswith("Full text run 1: 1 of 4 papers fetched (1 arXiv HTML), "
                               "0 without text, 0 missing on arXiv, 3 failed;")
    db = store.open_db(db_path)
    assert {row[0] for row in db.execute("SELECT DISTINCT paper_id FROM sections")} == {"p-vision-r1"}


# -- the CLI ------------------------------------------------------------------------------------


def test_cli_summary_json_and_usage_errors(invoke, db_path):
    r = invoke("fulltext", "--relevance", "other", "--arxiv-url", "http://127.0.0.1:9")  # nothing labelled yet
    assert r.exit_code == 0 and "note: no paper is labelled relevance=other; run 'rlmllm-graph classify'" in r.stderr
    assert r.stdout.startswith("Full text run 1: 0 of 0 papers fetched") and "0 requests" in r.stdout
    papers = fixture_papers()
    db = store.open_db(db_path)
    seed_database(db, papers)
    db.conn.close()
    with FakeArxiv(papers) as fake:
        r = invoke("fulltext", "--arxiv-url", fake.url, "--relevance", "core", "--json")
        assert r.exit_code == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["selected"] == 6 and out["fetched"] == 4 and out["relevance"] == ["core"]
        os.environ["RLMLLM_ARXIV_URL"] = fake.url
        try:
            r = invoke("fulltext")
        finally:
            del os.environ["RLMLLM_ARXIV_URL"]
        assert r.exit_code == 0 and r.stdout.startswith("Full text run 3: 1 of 2 papers fetched"), r.stdout
        assert "6 fetched earlier" in r.stdout
    for args, words in ((["--relevance", "core,maybe"], "'maybe' is not one of"),
                        (["--arxiv-url", "ftp://x"], "not an API URL"), (["--max-papers", "0"], "0 is not in")):
        r = invoke("fulltext", *args)
        assert r.exit_code == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr


def test_unreachable_arxiv_exits_1_with_one_line_and_keeps_what_was_stored(invoke, db_path):
    papers = fixture_papers()
    db = store.open_db(db_path)
    seed_database(db, papers)
    db.conn.close()
    with FakeArxiv(papers) as fake:
        assert invoke("fulltext", "--arxiv-url", fake.url, "--max-papers", "2").exit_code == 0
        dead = fake.url
    r = invoke("fulltext", "--arxiv-url", dead)
    assert r.exit_code == 1 and r.stderr.startswith("Error: cannot reach arXiv at http://127.0.0.1")
    assert r.stderr.count("\n") == 1
    db = store.open_db(db_path)
    assert len(store.load_sections(db)) == 2
    assert [row[0] for row in db.execute("SELECT status FROM fulltext_runs ORDER BY run_id")] == ["done", "failed"]


def test_sigkill_mid_run_then_resume_gives_the_same_sections(tmp_path):
    papers = make_papers(16, seed=5)
    clean_db = store.open_db(tmp_path / "clean.db")
    seed_database(clean_db, papers)
    with FakeArxiv(papers) as fake:
        fetch_fulltext(clean_db, client(fake.url))
        clean_requests = fake.count()

    path = tmp_path / "killed.db"
    db = store.open_db(path)
    seed_database(db, papers)
    db.conn.close()
    env = {**os.environ, **FAST}
    plan: dict[str, object] = {}

    def on_request(n: int, req: dict) -> None:
        if n == plan.get("at"):
            proc = plan["proc"]
            if plan.get("delay") is None:
                os.kill(proc.pid, signal.SIGKILL)  # while it waits for the answer
            else:  # after the answer, while it is parsed and stored
                threading.Timer(plan["delay"], lambda: proc.poll() is None and os.kill(proc.pid, signal.SIGKILL)).start()

    killed = 0
    with FakeArxiv(papers, on_request=on_request) as fake:
        for at, delay in ((3, None), (6, 0.002)):
            fake.log.clear()
            plan.update(at=at, delay=delay)
            proc = subprocess.Popen([sys.executable, "-m", "rlmllm_graph", "fulltext", "--arxiv-url", fake.url,
                                     "--db", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            plan["proc"] = proc
            proc.communicate(timeout=60)
            killed += proc.returncode == -signal.SIGKILL
            plan["total"] = int(plan.get("total", 0)) + fake.count()  # type: ignore[call-overload]
        plan["at"] = None
        fake.log.clear()
        final = subprocess.run([sys.executable, "-m", "rlmllm_graph", "fulltext", "--arxiv-url", fake.url,
                                "--db", str(path), "--json"], env=env, capture_output=True, text=True, timeout=60)
        total = int(plan["total"]) + fake.count()  # type: ignore[call-overload]
    assert final.returncode == 0, final.stderr
    assert killed == 2
    db = store.open_db(path)
    assert sections_rows(db) == sections_rows(clean_db)
    assert total <= clean_requests + 2 * killed  # only what was in flight when killed is asked again
    statuses = [r[0] for r in db.execute("SELECT status FROM fulltext_runs ORDER BY run_id")]
    assert statuses == ["interrupted"] * 2 + ["done"]


def test_refresh_fulltext_crawls_classifies_then_reads_core_papers(invoke, db_path, monkeypatch):
    graph = make_graph(3, 4, rng_seed=1)
    arx = []
    for p in graph:
        if p.arxiv:
            p.arxiv = "25" + p.arxiv[2:]  # papers recent enough for HTML
            arx.append(ArxivPaper(p.arxiv, html=fixture_papers()[2].html, paper_id=p.paper_id))
    with FakeS2(graph) as s2fake, FakeArxiv(arx) as fake:
        monkeypatch.setenv("RLMLLM_ARXIV_URL", fake.url)
        r = invoke("refresh", "--api-url", s2fake.url, "--fulltext", "--json")
        asked = fake.count()
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    db = store.open_db(db_path)
    relevant = {row[0] for row in db.execute(
        "SELECT p.paper_id FROM papers p JOIN labels l ON l.paper_id = p.paper_id AND l.facet = 'relevance' "
        "AND l.value IN ('core', 'related') WHERE p.arxiv_id IS NOT NULL")}
    assert relevant and out["fulltext"]["fetched"] == len(relevant) == asked
    assert set(store.load_sections(db)) == relevant
