"""The crawler against the fake Semantic Scholar server: what it stores, what it costs, and that
faults, interruptions and later refreshes all end with the right database."""

from __future__ import annotations

import copy
import hashlib
import sys
import types

import pytest

from fake_s2 import ALL_FAULTS, FakePaper, FakeS2, every, expected_crawl, make_graph, snapshot
from rlmllm_graph import store
from rlmllm_graph.crawl import CrawlProgress, crawl, floor_requests
from rlmllm_graph.errors import BadInput, MalformedResponse, PaperNotFound, RlmGraphError
from rlmllm_graph.sources import S2Client

SEED = "ARXIV:2504.21277"


@pytest.fixture(scope="module")
def big_graph():
    """A seed with 40 references and 1,500 citers (two pages of citers and then some)."""
    return make_graph(40, 1500, elided_citers=5, elided_refs=3)


@pytest.fixture(scope="module")
def small_graph():
    return make_graph(15, 120, rng_seed=3)


def client(fake: FakeS2, **kw) -> S2Client:
    kw.setdefault("pace", 0)
    kw.setdefault("backoff", 0.001)
    kw.setdefault("timeout", 2.0)
    return S2Client(fake.url, **kw)


def new_db(tmp_path, name="crawl"):
    return store.open_db(tmp_path / f"{name}.db")


def clean_crawl(graph, tmp_path, name="clean", **kw):
    with FakeS2(graph) as fake:
        db = new_db(tmp_path, name)
        report = crawl(client(fake), db, **kw)
    return db, report


def test_depth_1_stores_seed_neighbours_and_every_edge_among_them_at_the_request_floor(big_graph, tmp_path):
    with FakeS2(big_graph) as fake:
        db = new_db(tmp_path)
        report = crawl(client(fake), db, seeds=[SEED], depth=1)
        papers, edges = expected_crawl(fake, [SEED])
        assert report.requests == fake.count()
    got_papers = {r[0] for r in db.execute("SELECT paper_id FROM papers")}
    got_edges = set(db.execute("SELECT citing_id, cited_id FROM citations").fetchall())
    assert got_papers == papers
    assert got_edges == edges
    seed = big_graph[0]
    # every edge between two stored papers, not only those touching the seed
    among = {(a, b) for a, b in got_edges if a in got_papers and b in got_papers and seed.paper_id not in (a, b)}
    assert len(among) > 1000
    hops = dict(db.execute("SELECT paper_id, hop FROM papers").fetchall())
    assert hops[seed.paper_id] == 0 and set(hops.values()) == {0, 1}
    # 1 seed + 1 reference page + 2 citation pages + ceil(1548 / 500) batches
    floor = floor_requests(43, 1505)
    assert report.floor == floor == 8
    assert report.requests <= 1.2 * floor
    assert report.elided >= 8  # 5 elided citers + 3 elided references, counted and skipped
    run = db.execute("SELECT requests, status, papers_added, edges_added, seeds, depth FROM crawl_runs").fetchall()
    assert run == [(report.requests, "done", len(papers), len(edges), '["ARXIV:2504.21277"]', 1)]
    seed_row = store.get_paper(db, seed.paper_id)
    assert seed_row["title"].startswith("Reinforced MLLM") and seed_row["authors"] == ["Guanghao Zhou", "Panjia Qiu"]
    assert seed_row["citation_count"] == 1505
    # papers without abstracts are fine
    assert db.execute("SELECT count(*) FROM papers WHERE abstract IS NULL").fetchone()[0] > 0
    # edge attributes from the citation pages are kept
    assert db.execute("SELECT count(*) FROM citations WHERE cited_id = ? AND is_influential = 1",
                      [seed.paper_id]).fetchone()[0] > 0


def test_depth_0_stores_the_seeds_only(small_graph, tmp_path):
    db, report = clean_crawl(small_graph, tmp_path, seeds=[SEED, small_graph[1].paper_id], depth=0)
    assert report.requests == 1
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM citations").fetchone()[0] == 0


@pytest.mark.parametrize("depth, max_papers", [(1, 20_000), (2, 400)])
def test_one_request_in_four_failing_gives_the_same_database(small_graph, big_graph, tmp_path, depth, max_papers):
    graph = big_graph if depth == 1 else small_graph
    db0, clean = clean_crawl(graph, tmp_path, depth=depth, max_papers=max_papers)
    with FakeS2(graph, faults=every(4, ALL_FAULTS), slow_seconds=0.4) as fake:
        db = new_db(tmp_path, "faulty")
        faulty = crawl(client(fake, timeout=0.15), db, depth=depth, max_papers=max_papers)
        faults = [r["fault"] for r in fake.log if r["fault"]]
    assert len(faults) >= 2 and len(faults) >= len(fake.log) // 4 - 1
    assert faulty.requests >= clean.requests + len(faults)  # (a loaded machine may time out more)
    assert snapshot(db) == snapshot(db0)


class Crash(BaseException):
    """Stands for the process dying between two requests."""


class CrashingSource:
    """A source that dies before its n-th request."""

    def __init__(self, inner: S2Client, after: int) -> None:
        self.inner = inner
        self.after = after

    @property
    def requests(self) -> int:
        return self.inner.requests

    def _check(self) -> None:
        if self.inner.requests + 1 >= self.after:
            raise Crash()

    def fetch_batch(self, *a, **kw):
        self._check()
        return self.inner.fetch_batch(*a, **kw)

    def fetch_citations(self, *a, **kw):
        self._check()
        return self.inner.fetch_citations(*a, **kw)

    def fetch_references(self, *a, **kw):
        self._check()
        return self.inner.fetch_references(*a, **kw)


@pytest.mark.parametrize("max_papers", [300, 150])
def test_interrupted_crawl_resumes_to_the_same_database(small_graph, tmp_path, max_papers):
    db0, clean = clean_crawl(small_graph, tmp_path, depth=2, max_papers=max_papers)
    assert clean.requests > (40 if max_papers == 300 else 6)
    with FakeS2(small_graph) as fake:
        db = new_db(tmp_path, "resumed")
        crashes = 0
        report = None
        for after in (1, 2, 3, 5, 9, 20, 33):  # each run dies at a later point of the whole crawl
            c = client(fake)
            c.requests = db.execute("SELECT coalesce(max(requests), 0) FROM crawl_runs").fetchone()[0]
            try:
                report = crawl(CrashingSource(c, after), db, depth=2, max_papers=max_papers)
                break  # this one got to the end
            except Crash:
                crashes += 1
        assert crashes >= 4
        report = report or crawl(client(fake), db, depth=2, max_papers=max_papers)
    assert report.resumed and report.status == "done"
    assert snapshot(db) == snapshot(db0)
    runs = db.execute("SELECT status FROM crawl_runs ORDER BY run_id").fetchall()
    assert runs[-1] == ("done",)
    # the first crash came before the seeds were stored: no run then
    assert len(runs) == 1


def test_a_new_run_with_other_parameters_abandons_the_unfinished_one(small_graph, tmp_path):
    with FakeS2(small_graph) as fake:
        db = new_db(tmp_path)
        with pytest.raises(Crash):
            crawl(CrashingSource(client(fake), 4), db, depth=1)
        crawl(client(fake), db, depth=0)
    assert db.execute("SELECT status FROM crawl_runs ORDER BY run_id").fetchall() == [("abandoned",), ("done",)]


def _ids(n: int, tag: str) -> list[str]:
    return [hashlib.sha1(f"{tag}{i}".encode()).hexdigest() for i in range(n)]


def test_nested_budget_and_long_reference_lists(tmp_path):
    """Neighbours with many references: batches are packed under the 9,999 nested entries; a list the
    budget cut short is fetched again or paged; a list longer than 1,000 is paged."""
    graph = make_graph(30, 700, refs_per_paper=(40, 90), n_outside=300, rng_seed=5)
    graph[1].references = graph[1].references + _ids(1500, "far")  # a reference with 1,500+ references
    with FakeS2(graph) as fake:
        db = new_db(tmp_path)
        report = crawl(client(fake), db)
        papers, edges = expected_crawl(fake, [SEED])
        starved = [r for r in fake.log if r["endpoint"] == "references" and graph[1].paper_id not in r["path"]]
    assert {r[0] for r in db.execute("SELECT paper_id FROM papers")} == papers
    assert set(db.execute("SELECT citing_id, cited_id FROM citations").fetchall()) == edges
    total_refs = sum(len(p.references) for p in graph if p.paper_id in papers and p is not graph[0])
    budget_floor = 1 + 1 + 1 + -(-total_refs // 9999)
    assert report.requests <= budget_floor + 3  # + the 2 pages of the long list, + slack for packing
    assert len(starved) <= 1  # seed's own reference page only: no starved list needed paging

    # a server whose budget is far smaller than the real one: the crawler still gets every list
    with FakeS2(graph, nested_budget=2000) as fake:
        db2 = new_db(tmp_path, "tight")
        crawl(client(fake), db2)
        batches = fake.count("batch")
    assert set(db2.execute("SELECT citing_id, cited_id FROM citations").fetchall()) == edges
    assert batches > 6


def test_incremental_refresh_brings_new_citers_edges_and_metadata_at_no_more_cost(tmp_path):
    graph = make_graph(20, 400, rng_seed=7)
    seed, neighbours = graph[0], graph[1:421]
    with FakeS2(graph) as fake:
        db = new_db(tmp_path)
        first = crawl(client(fake), db)
        again = crawl(client(fake), db)  # nothing changed: nothing added
        assert (again.papers_added, again.edges_added) == (0, 0)
        assert again.requests <= first.requests

        later = copy.deepcopy(graph)
        later[5].title = "A retitled paper"
        later[6].abstract = "An abstract that appeared later."
        newcomers = [
            FakePaper(pid, title=f"New citer {i}", year=2026, references=[seed.paper_id, neighbours[i].paper_id, neighbours[i + 50].paper_id])
            for i, pid in enumerate(_ids(60, "new"))
        ]
        later += newcomers
        fake.set_papers(later)
        second = crawl(client(fake), db)
        papers, edges = expected_crawl(fake, [SEED])
    assert second.requests <= first.requests
    assert second.papers_added == 60 and second.edges_added == 180
    assert {r[0] for r in db.execute("SELECT paper_id FROM papers")} == papers
    assert set(db.execute("SELECT citing_id, cited_id FROM citations").fetchall()) == edges
    assert store.get_paper(db, later[5].paper_id)["title"] == "A retitled paper"
    assert store.get_paper(db, later[6].paper_id)["abstract"] == "An abstract that appeared later."
    assert store.get_paper(db, neighbours[0].paper_id)["citation_count"] == fake.citation_count(later[1])
    # the same database as a first crawl of today's API
    db_fresh, _ = clean_crawl(later, tmp_path, "fresh")
    assert snapshot(db) == snapshot(db_fresh)
    runs = db.execute("SELECT requests, papers_added, edges_added, status FROM crawl_runs ORDER BY run_id").fetchall()
    assert [r[3] for r in runs] == ["done"] * 3 and runs[2][1:3] == (60, 180)


def test_depth_2_is_bounded_by_max_papers(small_graph, tmp_path):
    db, report = clean_crawl(small_graph, tmp_path, depth=2, max_papers=150)
    assert report.papers == 150 and report.papers_skipped > 0
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] <= 150
    assert set(r[0] for r in db.execute("SELECT DISTINCT hop FROM papers")) == {0, 1, 2}
    db2, report2 = clean_crawl(small_graph, tmp_path, "again", depth=2, max_papers=150)
    assert snapshot(db) == snapshot(db2)  # which papers are kept is deterministic


def _core_if_even(records):
    out = []
    for r in records:
        core = r["title"] is not None and int(r["title"].split(":")[0].split()[-1]) % 2 == 0
        out.append({"paper_id": r["paper_id"], "labels": {"relevance": ["core" if core else "other"]}})
    return out


def test_expand_core_expands_only_core_papers(small_graph, tmp_path, monkeypatch):
    with FakeS2(small_graph) as fake:
        db = new_db(tmp_path)
        store.insert_labels(db, [
            {"paper_id": small_graph[1].paper_id, "facet": "relevance", "value": "other", "source": "manual"},
            {"paper_id": small_graph[2].paper_id, "facet": "relevance", "value": "core", "source": "manual"},
        ])
        # the classifier, imported lazily by the crawler, may not exist yet: stand in for it
        monkeypatch.setitem(sys.modules, "rlmllm_graph.classify",
                            types.SimpleNamespace(predict_labels=_core_if_even))
        crawl(client(fake), db, depth=2, expand="core")
        expanded = {r["path"].split("/")[4] for r in fake.log if r["endpoint"] == "citations"}
    titles = dict(db.execute("SELECT paper_id, title FROM papers WHERE hop = 1").fetchall())
    core = {p for p, t in titles.items() if t and int(t.split(":")[0].split()[-1]) % 2 == 0}
    core.discard(small_graph[1].paper_id)  # manual "other" wins
    core.add(small_graph[2].paper_id)  # manual "core" wins
    marked = {r[0] for r in db.execute("SELECT paper_id FROM crawl_frontier WHERE expand = 1 AND expanded = 1")}
    assert marked == core | {small_graph[0].paper_id}
    assert small_graph[0].paper_id in expanded and expanded <= marked  # papers with no citers cost nothing
    assert 0 < len(core) < len(titles)


def test_expand_core_without_a_classifier_is_a_clear_error(small_graph, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rlmllm_graph.classify", None)  # import fails
    with FakeS2(small_graph) as fake, pytest.raises(RlmGraphError, match="classifier"):
        crawl(client(fake), new_db(tmp_path), depth=2, expand="core")


def test_unknown_seed_is_paper_not_found_and_writes_nothing(small_graph, tmp_path):
    with FakeS2(small_graph) as fake:
        db = new_db(tmp_path)
        with pytest.raises(PaperNotFound, match="^paper not found: ARXIV:2999.00001$"):
            crawl(client(fake), db, seeds=[SEED, "arxiv:2999.00001"])
    assert db.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 0


@pytest.mark.parametrize("attr, value, column", [
    ("year", 10000, "year"),
    ("year", 10**30, "year"),
    ("publication_date", "yesterday", "publication_date"),
    ("publication_date", "2019-02-29", "publication_date"),
    ("corpus_id", 10**20, "corpus_id"),
    ("reference_count", 10**20, "reference_count"),
    ("citation_count", 10**20, "citation_count"),
])
@pytest.mark.parametrize("who", ["seed", "citer"])
def test_implausible_values_from_the_api_are_unknown_not_fatal(tmp_path, attr, value, column, who):
    """One odd paper in an API answer must not stop the crawl (and so every resume): the value is unknown."""
    graph = make_graph(4, 6, rng_seed=5)
    bad = graph[0] if who == "seed" else graph[-1 - 10]  # the seed, or one of its citers
    setattr(bad, attr, value)
    with FakeS2(graph) as fake:
        db = new_db(tmp_path)
        crawl(client(fake), db, seeds=[SEED], depth=1)
        again = crawl(client(fake), db, seeds=[SEED], depth=1)  # and a refresh after it runs too
    assert again.papers_added == 0
    row = db.execute(f"SELECT {column}, title FROM papers WHERE paper_id = ?", [bad.paper_id]).fetchone()
    assert row is not None and row[0] is None and row[1] == bad.title


def test_bad_arguments(small_graph, tmp_path):
    with FakeS2(small_graph) as fake:
        for kw in ({"seeds": ["not an id"]}, {"depth": -1}, {"expand": "some"}, {"max_papers": 0}):
            with pytest.raises(BadInput):
                crawl(client(fake), new_db(tmp_path), **kw)
        assert fake.count() == 0


def test_data_null_pages_are_empty_not_fatal(tmp_path):
    graph = make_graph(5, 10)
    graph[0].data_null = True
    db, report = clean_crawl(graph, tmp_path)
    assert report.null_pages == 2 and report.papers == 1


def test_progress_reports_every_step(small_graph, tmp_path):
    events: list[CrawlProgress] = []
    with FakeS2(small_graph) as fake:
        report = crawl(client(fake), new_db(tmp_path), progress=events.append)
    assert events[0].phase == "seeds" and events[-1].phase == "done"
    assert [e.requests for e in events] == sorted(e.requests for e in events)
    assert events[-1].requests == report.requests == events[-1].estimated_requests
    assert events[0].estimated_requests >= report.requests - 1
    assert events[-1].papers == report.papers and events[-1].edges == report.edges_added


def test_a_database_of_schema_1_is_migrated_and_crawls(small_graph, tmp_path):
    import sqlite3

    import sqlite_utils

    from rlmllm_graph.store.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    MIGRATIONS[0](sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO crawl_runs (started_at, seeds, depth, requests, status) VALUES ('2025-01-01', '[]', 1, 5, 'done')")
    conn.commit()
    conn.close()
    db = store.open_db(path)
    with FakeS2(small_graph) as fake:
        report = crawl(client(fake), db)
    assert report.run_id == 2 and report.papers == 1 + 15 + 120
    assert db.execute("SELECT requests, status FROM crawl_runs ORDER BY run_id").fetchall()[0] == (5, "done")
