"""Field queries: the fake server's bulk search (its parser, paging, filters and errors), the query set, and a
refresh that finds, classifies and expands query hits exactly as specified, records routes, and resumes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from conftest import FAST_S2

from fake_s2 import FakePaper, FakeS2, QuerySyntaxError, parse_query, query_matches, snapshot
from rlmllm_graph import store
from rlmllm_graph.crawl import crawl
from rlmllm_graph.errors import BadInput
from rlmllm_graph.queries import (
    DEFAULT_QUERY_YEAR,
    FieldQuery,
    default_queries,
    format_queries,
    parse_queries,
    query_set,
)
from rlmllm_graph.sources import S2Client

SEED = "ARXIV:2504.21277"
QUERY = "reinforcement + visual"


pytestmark = pytest.mark.usefixtures("fast_s2")


def client(fake: FakeS2) -> S2Client:
    return S2Client(fake.url, pace=0, backoff=0.001, timeout=5.0)


# -- the fake server's query parser -----------------------------------------------------------------

TEXT = "Vision-R1: Incentivizing Reasoning in Multimodal LLMs with GRPO. We train a vision-language model."


@pytest.mark.parametrize(
    "query, expected",
    [
        ("grpo", True),
        ("GRPO + reasoning", True),
        ("GRPO reasons", True),  # adjacent terms AND, and stemming: reasons ~ reasoning
        ("GRPO + audio", False),
        ("audio | video | multimodal", True),
        ("audio | video", False),
        ("GRPO -multimodal", False),
        ("GRPO + -audio", True),
        ('"multimodal llms"', True),
        ('"llms multimodal"', False),  # a phrase keeps its order
        ("vision-language", True),  # a hyphenated word is the phrase of its parts
        ('"language vision"', False),
        ("incentiv*", True),  # prefix
        ("incentives*", False),
        ("(audio | GRPO) + (speech | vision)", True),
        ("(audio | GRPO) + (speech | music)", False),
        ("audio GRPO | vision", True),  # AND binds tighter than OR: (audio GRPO) | vision
        ("audio (GRPO | vision)", False),
        ("-(audio | speech) + r1", True),
        ('"reasoning in multimodal"~2 + train*', True),  # slop is accepted
        ("r1*", True),
        ("vision-lang*", True),  # a hyphenated prefix: the phrase, its last word a prefix
        ("language-vis*", False),
    ],
)
def test_the_fake_search_parser_against_hand_computed_matches(query, expected):
    assert query_matches(query, TEXT) is expected


@pytest.mark.parametrize("query", ["", "(a | b", "a | b)", '"a b', "a +", "| a", "a + + b", "- a", "( )", "~2"])
def test_the_fake_search_parser_refuses_what_it_cannot_parse(query):
    with pytest.raises(QuerySyntaxError):
        parse_query(query)


def test_every_default_query_parses_and_the_set_reads_back(tmp_path):
    queries = default_queries()
    assert len(queries) >= 3
    for q in queries:
        parse_query(q.query)
        assert q.filters["year"] == "2023-"
    assert parse_queries(format_queries(queries)) == queries
    f = tmp_path / "q.txt"
    f.write_text(format_queries(queries))
    assert query_set(file=f) == queries


def test_query_set_adds_replaces_and_filters():
    assert query_set(["GRPO + video*"], defaults=False) == [FieldQuery("GRPO + video*", {"year": DEFAULT_QUERY_YEAR})]
    with_extra = query_set(["GRPO + video*"])
    assert with_extra[: len(default_queries())] == default_queries() and len(with_extra) == len(default_queries()) + 1
    assert all("year" not in q.filters for q in query_set(year="any"))
    assert {q.filters["year"] for q in query_set(["a"], year="2024-2025")} == {"2024-2025"}
    assert query_set(["a", "a"], defaults=False) == [FieldQuery("a", {"year": DEFAULT_QUERY_YEAR})]


@pytest.mark.parametrize(
    "text, message",
    [
        ("@venue NeurIPS\nGRPO\n", "line 1: unknown filter @venue"),
        ("# c\n@year 20x\n", "line 2: year filter '20x'"),
        ("GRPO\n(video | image\n", "line 2: field query '(video | image': unbalanced parentheses"),
        ('"video reasoning\n', "line 1: field query '\"video reasoning': a phrase is not closed"),
        ("@sort relevance\n", "line 1: sort 'relevance'"),
        ("video +\n", "line 1: field query 'video +': an operator"),
    ],
)
def test_a_bad_query_file_names_the_line(text, message):
    with pytest.raises(BadInput, match="^" + re.escape("the query file, " + message)):
        parse_queries(text)


# -- the fake server's bulk search, through the client ----------------------------------------------


def _pid(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def _paper(name: str, title: str, refs=(), *, year: int = 2025, month: int = 5, fos=("Computer Science",),
           abstract: str | None = None, arxiv: str | None = None) -> FakePaper:
    return FakePaper(
        _pid(name), title=title, abstract=abstract, year=year, publication_date=f"{year}-{month:02d}-01",
        references=[_pid(r) for r in refs], fields_of_study=list(fos), arxiv=arxiv,
        corpus_id=int(_pid(name)[:6], 16), authors=[{"authorId": f"a-{name}", "name": f"Author {name}"}],
    )


def test_search_pages_with_a_token_filters_and_sorts():
    papers = [
        _paper(f"p{i}", f"Visual reinforcement study {i}", year=2020 + i % 6, month=1 + i % 12,
               fos=("Medicine",) if i % 4 == 0 else ("Computer Science",))
        for i in range(23)
    ] + [_paper("other", "Protein folding")]
    with FakeS2(papers, search_page=10) as fake:
        c = client(fake)
        ids, token, pages = [], None, 0
        while True:
            page = c.search_bulk("visual + reinforc*", fields=("paperId", "title", "year"), token=token)
            pages += 1
            assert page.total == 23 and len(page.papers) <= 10
            ids += [p["paperId"] for p in page.papers]
            token = page.token
            if token is None:
                break
        assert pages == 3 and ids == sorted(p.paper_id for p in papers[:23])  # by paperId, as the API
        recent = c.search_bulk("visual", fields=("paperId", "year"), year="2024-")
        assert recent.total == sum(p.year >= 2024 for p in papers[:23])
        assert {p["year"] for p in recent.papers} <= {2024, 2025}
        spring = c.search_bulk(
            "visual", fields=("paperId", "publicationDate"), publication_date_or_year="2023-03:2024-04"
        )
        assert {p["publicationDate"] for p in spring.papers} == {
            p.publication_date for p in papers[:23] if "2023-03" <= p.publication_date[:7] <= "2024-04"
        }
        med = c.search_bulk("visual", fields=("paperId",), fields_of_study=["Medicine"])
        assert med.total == 6
        newest = c.search_bulk("visual", fields=("paperId", "publicationDate"), sort="publicationDate:desc")
        dates = [p["publicationDate"] for p in newest.papers]
        assert dates == sorted(dates, reverse=True)
        none = c.search_bulk("quantum + chromodynamics", fields=("paperId",))
        assert (none.total, none.token, none.papers) == (0, None, [])
        assert fake.count("search") == 8


@pytest.mark.parametrize(
    "params, error",
    [
        ({"query": "(visual"}, "unbalanced parentheses"),
        ({"query": "visual", "fieldsOfStudy": "Cooking"}, "Unrecognized fieldsOfStudy: [Cooking]"),
        ({"query": "visual", "year": "twenty"}, "Invalid year filter: twenty"),
        ({"query": "visual", "colour": "red"}, "Unrecognized or unsupported parameters: [colour]"),
        ({"query": "visual", "fields": "references"}, "Unrecognized or unsupported fields: [references]"),
        ({"query": "visual", "token": "nonsense"}, "Invalid token"),
    ],
)
def test_search_errors_come_in_the_api_error_shape(params, error):
    with FakeS2([_paper("a", "Visual reinforcement")]) as fake:
        r = httpx.get(f"{fake.url}/graph/v1/paper/search/bulk", params=params)
    assert r.status_code == 400 and r.json() == {"error": error}


def test_the_client_turns_a_refused_search_into_one_line_of_bad_input():
    with FakeS2([_paper("a", "Visual reinforcement")]) as fake:
        with pytest.raises(BadInput) as exc:
            client(fake).search_bulk("visual -", fields_of_study="Computer Science")
        assert fake.count("search") == 1  # a 400 is not retried
    assert str(exc.value) == "Semantic Scholar refused the search 'visual -': '-' without a term at character 8"


# -- a refresh with a field query -------------------------------------------------------------------


def field_world() -> list[FakePaper]:
    """The survey and its neighbours; query hits far from it (core, related, other, and one too old); their
    neighbours; and a bystander. Titles carry the relevance the test predictor gives them."""
    return [
        _paper("S", "Reinforced MLLM: a survey of multimodal models", ["R1", "R2"], arxiv="2504.21277"),
        _paper("R1", "Proximal policy optimization algorithms", year=2017),
        _paper("R2", "Learning transferable features", year=2021),
        _paper("C1", "Visual reinforcement for chart reasoning [related]", ["S", "R1"]),
        _paper("C2", "A paper citing the survey", ["S"]),
        _paper("K1", "Reinforcement learning for visual reasoning [core]", ["X1", "X2", "R1"]),
        _paper("K2", "Visual reinforcement fine-tuning [core]", ["K1", "X3"], month=7),
        _paper("L1", "A benchmark of visual agents trained by reinforcement [related]", ["X4"]),
        _paper("O1", "Reinforcement learning for visual robot control [other]", ["X5"]),
        _paper("F1", "Reinforcement learning with visual rewards [core]", year=2019),
        *[_paper(f"X{i}", f"Prior work {i}", year=2022) for i in range(1, 6)],
        _paper("Y1", "A follow-up of K1", ["K1"]),
        _paper("Y2", "Another follow-up of K1", ["K1", "Y1"]),
        _paper("Y3", "A follow-up of K2 citing PPO", ["K2", "R1"]),
        _paper("Y4", "A follow-up of the related benchmark", ["L1"]),
        _paper("Y5", "A follow-up of the robot paper", ["O1"]),
        _paper("Z1", "Protein folding with graph networks", ["R1"]),
    ]


def marker_predict(calls: list | None = None):
    def predict(records):
        if calls is not None:
            calls.append(list(records))
        out = []
        for r in records:
            t = r.get("title") or ""
            rel = "core" if "[core]" in t else "related" if "[related]" in t else "other"
            out.append({"paper_id": r["paper_id"], "labels": {"relevance": [rel]}})
        return out

    return predict


def ids(*names: str) -> set[str]:
    return {_pid(n) for n in names}


STORED = ("S", "R1", "R2", "C1", "C2", "K1", "K2", "L1", "X1", "X2", "X3", "Y1", "Y2", "Y3")
ROUTES = {
    "S": ("seed", SEED),
    "R1": ("cited-by-seed", _pid("S")), "R2": ("cited-by-seed", _pid("S")),
    "C1": ("cites-seed", _pid("S")), "C2": ("cites-seed", _pid("S")),
    "K1": ("query", QUERY), "K2": ("query", QUERY), "L1": ("query", QUERY),
    "X1": ("expansion", _pid("K1")), "X2": ("expansion", _pid("K1")), "X3": ("expansion", _pid("K2")),
    "Y1": ("expansion", _pid("K1")), "Y2": ("expansion", _pid("K1")), "Y3": ("expansion", _pid("K2")),
}


def run_field_crawl(db, fake, **kw):
    kw.setdefault("predict", marker_predict())
    return crawl(client(fake), db, seeds=[SEED], queries=[FieldQuery(QUERY, {"year": "2023-"})], **kw)


def test_query_hits_are_classified_before_anything_is_fetched_and_only_core_ones_expanded(tmp_path):
    world = field_world()
    calls: list = []
    hit_ids = ids("C1", "K1", "K2", "L1", "O1")
    with FakeS2(world) as fake:
        seen_before: list[int] = []

        def predict(records):
            seen_before.append(sum(1 for r in fake.log if r["endpoint"] == "batch"
                                   and hit_ids & set(r.get("batch_ids") or [])))
            return marker_predict(calls)(records)

        db = store.open_db(tmp_path / "q.db")
        report = run_field_crawl(db, fake, predict=predict)
        log = list(fake.log)
    # classified from what the search returned, before any request named a hit
    assert seen_before == [0]
    assert {r["paper_id"] for r in calls[0]} == hit_ids  # F1 is too old for the year filter
    assert {(r["title"], r["abstract"]) for r in calls[0]} == {(p.title, p.abstract) for p in world
                                                                if p.paper_id in hit_ids}
    # `other` hits are neither stored nor fetched; nor is anything reached only through them or related ones
    stored = {r[0] for r in db.execute("SELECT paper_id FROM papers")}
    assert stored == ids(*STORED)
    named = {i for r in log for i in r.get("batch_ids") or []} | {r["path"].split("/")[4] for r in log
                                                                   if r["endpoint"] in ("citations", "references")}
    assert not named & ids("O1", "X5", "Y5", "F1")
    # core hits expanded (their citers and references), related ones and the seed's neighbours not
    expanded = {r[0] for r in db.execute("SELECT paper_id FROM crawl_frontier WHERE expanded = 1")}
    assert expanded == ids("S", "K1", "K2")
    hops = dict(db.execute("SELECT paper_id, hop FROM papers").fetchall())
    assert {hops[i] for i in ids("S", "K1", "K2")} == {0} and hops[_pid("L1")] == 1
    # the network is closed: every reference of every stored paper is stored as an edge
    edges = set(db.execute("SELECT citing_id, cited_id FROM citations").fetchall())
    by_id = {p.paper_id: p for p in world}
    assert edges == {(a, b) for a in stored for b in by_id[a].references}
    assert (_pid("Y3"), _pid("R1")) in edges and (_pid("K2"), _pid("K1")) in edges
    # routes
    got = {pid: (by, via) for pid, by, via in db.execute("SELECT paper_id, found_by, found_via FROM papers")}
    assert got == {_pid(n): r for n, r in ROUTES.items()}
    # costs: the core hits were expanded by one batch, not a /citations and /references page each
    assert fake.count("citations") == 1 and fake.count("references") == 1 and fake.count("search") == 1
    assert report.requests == len(log) == 7
    assert report.queries == [{"query": QUERY, "filters": {"year": "2023-"}, "pages": 1, "total": 5, "hits": 5,
                               "kept": 4, "core": 2, "done": 1}]
    assert report.routes == {"seed": 1, "cites-seed": 2, "cited-by-seed": 2, "query": 3, "expansion": 6}


def test_a_tight_nested_budget_and_max_papers(tmp_path):
    world = field_world()
    with FakeS2(world) as fake:
        db0 = store.open_db(tmp_path / "clean.db")
        run_field_crawl(db0, fake)
    with FakeS2(world, nested_budget=3) as fake:  # lists come back cut: the crawler pages what a batch cut short
        db = store.open_db(tmp_path / "tight.db")
        run_field_crawl(db, fake)
        assert fake.count("citations") > 1
    a, b = snapshot(db), snapshot(db0)
    assert [e[:2] for e in a.pop("citations")] == [e[:2] for e in b.pop("citations")]  # pages carry intents too
    assert a == b
    routes = "SELECT paper_id, found_by, found_via FROM papers ORDER BY paper_id"
    assert db.execute(routes).fetchall() == db0.execute(routes).fetchall()
    with FakeS2(world) as fake:
        small = store.open_db(tmp_path / "small.db")
        report = run_field_crawl(small, fake, max_papers=8)
    assert store.paper_count(small) == report.papers == 8 and report.papers_skipped > 0


def test_refresh_with_the_real_classifier(invoke, db_path):
    """Through the CLI, with rlmllm_graph.classify deciding: what it calls other is not stored, core is expanded."""
    classify = pytest.importorskip("rlmllm_graph.classify")
    world = field_world()
    texts = {
        "K1": ("Vision-R1: incentivizing reasoning in multimodal LLMs with GRPO reinforcement learning", None),
        "K2": ("Video-R1: reinforcing video reasoning in MLLMs", "We apply GRPO reinforcement learning to visual "
               "reasoning of a multimodal large language model with rule-based rewards."),
        "L1": ("A benchmark for visual reasoning of multimodal models trained with reinforcement learning", None),
        "O1": ("Visual field loss after reinforcement of the orbital floor", None),
    }
    for p in world:
        name = next((n for n in texts if p.paper_id == _pid(n)), None)
        if name:
            p.title, p.abstract = texts[name]
    hits = [p for p in world if p.year >= 2023 and query_matches(QUERY, f"{p.title} {p.abstract or ''}")]
    assert len(hits) == 4
    preds = classify.predict_labels([{"paper_id": p.paper_id, "title": p.title, "abstract": p.abstract} for p in hits])
    rel = {p.paper_id: (pr["labels"]["relevance"] or ["other"])[0] for p, pr in zip(hits, preds)}
    assert "other" in rel.values() and "core" in rel.values()  # the world exercises both gates
    with FakeS2(world) as fake:
        r = invoke("refresh", "--api-url", fake.url, "--no-default-queries", "--query", QUERY, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    db = store.open_db(db_path)
    stored = {x[0] for x in db.execute("SELECT paper_id FROM papers")}
    assert {h for h, v in rel.items() if v == "other"}.isdisjoint(stored)
    assert {h for h, v in rel.items() if v != "other"} <= stored
    expanded = {x[0] for x in db.execute("SELECT paper_id FROM crawl_frontier WHERE expanded = 1")}
    assert expanded == {h for h, v in rel.items() if v == "core"} | ids("S")
    assert out["queries"][0]["core"] == sum(v == "core" for v in rel.values())
    assert out["queries"][0]["kept"] == sum(v != "other" for v in rel.values())


def test_stats_show_coverage_by_route(invoke, db_path, tmp_path):
    with FakeS2(field_world()) as fake:
        db = store.open_db(db_path)
        run_field_crawl(db, fake)
    with store.transaction(db):
        store.save_manual_labels(db, _pid("K1"), {"relevance": ["core"]})
        store.save_manual_labels(db, _pid("Y1"), {"relevance": ["core"]})
    r = invoke("stats", "--json")
    assert r.exit_code == 0
    routes = json.loads(r.stdout)["routes"]
    assert routes == {
        "seed": {"papers": 1, "core": 0},
        "cites-seed": {"papers": 2, "core": 0},
        "cited-by-seed": {"papers": 2, "core": 0},
        "query": {"papers": 3, "core": 1},
        "expansion": {"papers": 6, "core": 1},
    }
    text = invoke("stats").stdout
    assert ("found by    seed 1 (0 core), cites-seed 2 (0 core), cited-by-seed 2 (0 core), query 3 (1 core), "
            "expansion 6 (1 core)") in text
    # an import records its route; a paper keeps the route that first brought it in
    f = tmp_path / "more.jsonl"
    f.write_text(json.dumps({"paperId": "f" * 40, "title": "Imported"}) + "\n"
                 + json.dumps({"paperId": _pid("K1"), "title": "Reinforcement learning for visual reasoning"}) + "\n")
    assert invoke("import", str(f)).exit_code == 0
    routes = json.loads(invoke("stats", "--json").stdout)["routes"]
    assert routes["import"] == {"papers": 1, "core": 0} and routes["query"]["papers"] == 3


# -- errors -------------------------------------------------------------------------------------------


def _with_files(args, tmp_path):
    """The CLI arguments with a last ``FILE:<text>`` written to a query file, and ``missing.txt`` under tmp_path."""
    args = list(args)
    if args[-1].startswith("FILE:"):
        f = tmp_path / "q.txt"
        f.write_text(args[-1][5:])
        args[-1] = str(f)
    elif args[-1] == "missing.txt":
        args[-1] = str(tmp_path / "missing.txt")
    return args


@pytest.mark.parametrize(
    "args, message",
    [
        (["--query", "(GRPO | PPO"], "Error: field query '(GRPO | PPO': unbalanced parentheses"),
        (["--query-year", "recent"], "Error: year filter 'recent': expected a year or a range"),
        (["--queries-file", "FILE:@venue NeurIPS\nGRPO\n"], "line 1: unknown filter @venue"),
        (["--queries-file", "missing.txt"], "Error: cannot read the query file"),
    ],
)
def test_bad_queries_and_filters_are_one_line_and_exit_2_before_anything_opens(args, message, invoke, db_path,
                                                                                tmp_path):
    args = _with_files(args, tmp_path)
    with FakeS2(field_world()) as fake:
        r = invoke("refresh", "--api-url", fake.url, *args)
        assert fake.count() == 0
    assert r.exit_code == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not db_path.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--query", "visual -"], "Error: Semantic Scholar refused the search 'visual -': '-' without a term"),
        (["--queries-file", "FILE:@fields-of-study Cooking\nvisual\n"],
         "Error: Semantic Scholar refused the search 'visual': Unrecognized fieldsOfStudy: [Cooking]"),
    ],
)
def test_a_query_or_filter_the_api_refuses_is_one_line_exit_2_and_loses_nothing(args, message, invoke, db_path,
                                                                                 tmp_path):
    args = _with_files(args, tmp_path)
    with FakeS2(field_world()) as fake:
        r = invoke("refresh", "--api-url", fake.url, "--no-default-queries", *args)
    assert r.exit_code == 2
    assert r.stderr.strip() == message or (message in r.stderr and len(r.stderr.strip().splitlines()) == 1)
    db = store.open_db(db_path)
    # what was stored before the query ran stays: the survey, and its edges to its references and citers
    assert store.paper_count(db) == 1
    assert db.execute("SELECT count(*) FROM citations").fetchone()[0] == 4
    assert db.execute("SELECT status FROM crawl_runs").fetchall() == [("failed",)]


# -- resume -------------------------------------------------------------------------------------------


def paging_world() -> list[FakePaper]:
    """Twelve hits for QUERY, read three a page; a few of them with neighbours of their own."""
    world = field_world()
    topics = ["image", "video", "chart", "GUI", "medical", "geometry", "audio", "3D", "spatial", "math", "OCR", "map"]
    for i, t in enumerate(topics):
        world.append(_paper(f"H{i}", f"{t.title()}-R1: reinforcement learning with GRPO for visual {t} reasoning in "
                            "multimodal LLMs", ["X1"] if i % 3 == 0 else [], month=1 + i))
        if i % 4 == 1:
            world.append(_paper(f"H{i}-citer", f"Follow-up of {t} R1", [f"H{i}"]))
    return world


def _refresh(path: Path, url: str, env: dict, *extra: str) -> list[str]:
    return [sys.executable, "-m", "rlmllm_graph", "refresh", "--api-url", url, "--db", str(path),
            "--no-default-queries", "--query", QUERY, *extra]


def test_a_refresh_killed_while_paging_a_query_resumes_from_the_stored_token(tmp_path):
    world = paging_world()
    with FakeS2(world, search_page=3) as fake:
        db0 = store.open_db(tmp_path / "clean.db")
        clean = crawl(client(fake), db0, seeds=[SEED], queries=query_set([QUERY], defaults=False))
    assert clean.queries[0]["pages"] == 6  # 17 hits, 3 a page

    path = tmp_path / "killed.db"
    env = {**os.environ, **FAST_S2}
    env.pop("S2_API_KEY", None)
    plan: dict = {}

    def on_request(n: int, req: dict) -> None:
        if req["endpoint"] != "search":
            return
        plan["searches"] = plan.get("searches", 0) + 1
        if plan["searches"] == plan.get("at"):
            proc = plan["proc"]
            if plan.get("delay") is None:
                os.kill(proc.pid, signal.SIGKILL)  # mid-request: this page's answer never arrives
            else:  # just after the answer: while the page is being classified and stored
                kill = lambda: proc.poll() is None and os.kill(proc.pid, signal.SIGKILL)  # noqa: E731
                threading.Timer(plan["delay"], kill).start()

    killed = 0
    with FakeS2(world, search_page=3, on_request=on_request) as fake:
        for at, delay in ((3, None), (2, 0.0)):  # the first run dies at its third page, the second soon after
            plan.update(at=at, delay=delay, searches=0)
            fake.reset_log()
            proc = subprocess.Popen(_refresh(path, fake.url, env), env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            plan["proc"] = proc
            _, err = proc.communicate(timeout=120)
            assert proc.returncode in (-signal.SIGKILL, 0), err
            killed += proc.returncode == -signal.SIGKILL
            if killed == 1 and delay is None:
                state = store.open_db(path).execute("SELECT pages, token, done FROM crawl_queries").fetchone()
                assert state[0] == 2 and state[1] and state[2] == 0  # two pages stored, the third's token kept
        plan.clear()
        fake.reset_log()
        final = subprocess.run(_refresh(path, fake.url, env, "--json"), env=env, capture_output=True, text=True,
                               timeout=120)
        first_search = next(r for r in fake.log if r["endpoint"] == "search")
    assert final.returncode == 0, final.stderr
    assert killed == 2
    assert "token=" in first_search["path"]  # it went on from the stored token, not from the first page
    report = json.loads(final.stdout)
    assert report["resumed"] and report["queries"][0]["pages"] == 6 and report["queries"][0]["hits"] == 17
    db = store.open_db(path)
    assert snapshot(db) == snapshot(db0)
    routes = "SELECT paper_id, found_by, found_via FROM papers ORDER BY paper_id"
    assert db.execute(routes).fetchall() == db0.execute(routes).fetchall()
    q = "SELECT query, pages, total, hits, kept, core, done FROM crawl_queries"
    assert db.execute(q).fetchall() == db0.execute(q).fetchall()


def test_a_second_refresh_keeps_routes_and_finds_what_is_new(tmp_path, invoke, db_path):
    world = field_world()
    with FakeS2(world) as fake:
        db = store.open_db(db_path)
        run_field_crawl(db, fake)
        routes = "SELECT paper_id, found_by, found_via FROM papers ORDER BY paper_id"
        before = db.execute(routes).fetchall()
        world.append(_paper("K3", "Visual reinforcement with verifiable rewards [core]", ["X1"]))
        world.append(_paper("Y6", "Building on K1 and K3", ["K1", "K3"]))
        fake.set_papers(world)
        fake.reset_log()
        report = run_field_crawl(db, fake)
        assert fake.count("references") == 1  # the seed's, listed afresh as ever; the hits' are known
    after = dict((pid, (by, via)) for pid, by, via in db.execute(routes))
    assert {pid: after[pid] for pid, _, _ in before} == {pid: (by, via) for pid, by, via in before}
    assert after[_pid("K3")] == ("query", QUERY)
    assert after[_pid("Y6")][0] == "expansion"
    assert report.papers_added == 2 and report.status == "done"
    r = invoke("refresh", "--show-queries", "--json", "--no-default-queries", "--query", QUERY, db=False)
    assert json.loads(r.stdout) == [{"query": QUERY, "filters": {"year": DEFAULT_QUERY_YEAR}}]


def test_show_queries_prints_the_shipped_file_which_reads_back(invoke, tmp_path):
    r = invoke("refresh", "--show-queries", db=False)
    assert r.exit_code == 0 and r.stdout.startswith("# Field queries")
    f = tmp_path / "mine.txt"
    f.write_text(r.stdout + "@year 2024-\n(GRPO | RLVR) + audio\n")
    assert query_set(file=f) == default_queries() + [FieldQuery("(GRPO | RLVR) + audio", {
        "year": "2024-", "sort": "publicationDate:desc"})]


def test_the_summary_line_says_what_the_queries_added(tmp_path):
    with FakeS2(field_world()) as fake:
        report = run_field_crawl(store.open_db(tmp_path / "s.db"), fake)
    assert (" and 1 field query (5 hits, 4 kept, 2 core; 3 papers outside the seeds' neighbourhood, 6 more by "
            "expansion) (+14 new, 14 stored)") in report.summary()
