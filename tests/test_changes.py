"""Refreshes merging over the snapshot (one row per paper), ``changes`` after two refreshes, and feed.xml."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from build_snapshot import counts, gzip_bytes, snapshot_records
from fake_s2 import FakePaper, FakeS2, expected_crawl, make_graph
from rlmllm_graph import store
from rlmllm_graph.changes import compute_changes, parse_since
from rlmllm_graph.errors import BadInput
from rlmllm_graph.feed import entry_id, render_feed
from rlmllm_graph.snapshot import load_snapshot

ATOM = "{http://www.w3.org/2005/Atom}"
SURVEY = "2504.21277"


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _stand_in(arxiv: str) -> str:
    return _sha(f"ARXIV:{arxiv}")


# -- a small snapshot and a fake API that overlap ----------------------------------------------------

ARX = {"r1": "2401.00001", "r2": "2401.00002", "c1": "2502.00003", "c2": "2502.00004", "c5": "2502.00005"}


def _write_snapshot(folder: Path) -> Path:
    """Five papers under stand-in ids, two edges, hand labels for r1 and c1."""
    corpus = [
        {"paperId": _stand_in(a), "externalIds": {"ArXiv": a}, "title": f"Snapshot title of {k}",
         "abstract": f"Snapshot abstract of {k}." if k == "r1" else None, "year": 2024, "publicationDate": None,
         "venue": "arXiv.org", "authors": [{"authorId": None, "name": f"Author {k}"}], "references": []}
        for k, a in ARX.items()
    ]
    corpus[1]["references"] = [_stand_in(ARX["r1"])]  # r2 -> r1
    corpus[2]["references"] = [_stand_in(ARX["r1"]), _stand_in(ARX["r2"])]  # c1 -> r1, c1 -> r2
    none = {f: [] for f in ("modality", "algorithm", "paradigm", "reward", "strategy", "application")}
    labels = {
        _stand_in(ARX["r1"]): {**none, "relevance": ["core"], "modality": ["image"], "algorithm": ["grpo"]},
        _stand_in(ARX["c1"]): {**none, "relevance": ["related"]},
    }
    records = snapshot_records(corpus, labels)
    data = gzip_bytes(records)
    path = folder / "snapshot.jsonl.gz"
    path.write_bytes(data)
    (folder / "snapshot.json").write_text(json.dumps({"date": "2026-01-01", **counts(records), "bytes": len(data)}))
    return path


def _world() -> list[FakePaper]:
    """The API: the survey, r1 and r2 (references, real ids), c1 (arXiv id), c2 (only arXiv's DOI),
    c3 (not in the snapshot), c5 (whose real id is the snapshot's id for it)."""
    seed = FakePaper(_sha("real-seed"), title="Reinforced MLLM: A Survey", arxiv=SURVEY, year=2025,
                     abstract="A survey of reinforcement learning for reasoning in multimodal LLMs.")
    r1 = FakePaper(_sha("real-r1"), title="Real title of r1", arxiv=ARX["r1"], year=2024, abstract=None)
    r2 = FakePaper(_sha("real-r2"), title="Real title of r2", arxiv=ARX["r2"], year=2024, references=[r1.paper_id])
    c1 = FakePaper(_sha("real-c1"), title="Real title of c1", arxiv=ARX["c1"], year=2025,
                   references=[seed.paper_id, r1.paper_id])
    c2 = FakePaper(_sha("real-c2"), title="Real title of c2", doi=f"10.48550/arxiv.{ARX['c2']}", year=2025,
                   references=[seed.paper_id])
    c3 = FakePaper(_sha("real-c3"), title="A paper the snapshot does not have", arxiv="2503.00009", year=2025,
                   references=[seed.paper_id, r1.paper_id])
    c5 = FakePaper(_stand_in(ARX["c5"]), title="Real title of c5", arxiv=ARX["c5"], year=2025,
                   references=[seed.paper_id])
    seed.references = [r1.paper_id, r2.paper_id]
    return [seed, r1, r2, c1, c2, c3, c5]


def _check_one_row_per_paper(db) -> None:
    world = {p.paper_id for p in _world()}
    assert {r[0] for r in db.execute("SELECT paper_id FROM papers")} == world  # no stand-in left, nothing twice
    assert db.execute("SELECT arxiv_id FROM papers GROUP BY arxiv_id HAVING count(*) > 1").fetchall() == []
    edges = set(db.execute("SELECT citing_id, cited_id FROM citations").fetchall())
    r1, r2, c1 = _sha("real-r1"), _sha("real-r2"), _sha("real-c1")
    assert {(r2, r1), (c1, r1), (c1, r2)} <= edges  # the snapshot's edges, now between the real ids
    assert all(a in world and b in world for a, b in edges)
    # r1's hand labels (manual) moved to the real row; its abstract (only the snapshot knew it) too
    labels = set(db.execute("SELECT facet, value, source FROM labels WHERE paper_id = ?", [r1]).fetchall())
    assert {("relevance", "core", "manual"), ("modality", "image", "manual"), ("algorithm", "grpo", "manual")} <= labels
    assert db.execute("SELECT abstract, title FROM papers WHERE paper_id = ?", [r1]).fetchone() == (
        "Snapshot abstract of r1.", "Real title of r1")
    assert db.execute("SELECT arxiv_id FROM papers WHERE paper_id = ?", [_sha("real-c2")]).fetchone()[0] == ARX["c2"]
    authors = db.execute("SELECT count(*) FROM paper_authors WHERE paper_id = ?", [r1]).fetchone()[0]
    assert authors == 1


def test_a_refresh_merges_over_the_snapshot(tmp_path, db, monkeypatch):
    monkeypatch.setenv("RLMLLM_S2_PACE", "0")
    snap = load_snapshot(db, _write_snapshot(tmp_path))
    assert (snap.papers_added, snap.papers_merged, snap.citations_added) == (5, 0, 3)
    from rlmllm_graph.crawl import crawl
    from rlmllm_graph.sources import S2Client

    with FakeS2(_world()) as fake, S2Client(fake.url, pace=0) as client:
        report = crawl(client, db, seeds=[f"ARXIV:{SURVEY}"])
    _check_one_row_per_paper(db)
    assert report.papers_added == 2  # the survey and c3; the other five were the snapshot's
    found = dict(db.execute("SELECT paper_id, found_by FROM papers").fetchall())
    assert found[_sha("real-r1")] == "snapshot" and found[_sha("real-c3")] == "cites-seed"  # the first route wins
    c = compute_changes(db)
    assert {p["paper_id"] for p in c.new_papers} == {_sha("real-seed"), _sha("real-c3")}
    runs = db.execute("SELECT run_id, papers_added, papers_merged FROM change_runs ORDER BY run_id").fetchall()
    assert runs == [(1, 5, 0), (2, 2, 4)]
    # in-corpus citations of r1: r2 and c1 (snapshot) and now c3 and the survey
    assert c.citation_jumps == [
        {"paper_id": _sha("real-r1"), "title": "Real title of r1", "arxiv_id": ARX["r1"], "relevance": "core",
         "before": 2, "after": 4, "jump": 2}
    ]


def test_the_snapshot_after_a_refresh_merges_into_it(tmp_path, db):
    from rlmllm_graph.crawl import crawl
    from rlmllm_graph.sources import S2Client

    with FakeS2(_world()) as fake, S2Client(fake.url, pace=0) as client:
        crawl(client, db, seeds=[f"ARXIV:{SURVEY}"])
    snap = load_snapshot(db, _write_snapshot(tmp_path))
    assert (snap.papers_added, snap.papers_merged, snap.papers_updated) == (0, 4, 1)
    _check_one_row_per_paper(db)
    assert compute_changes(db).new_papers == []
    # loading it once more changes nothing
    again = load_snapshot(db, _write_snapshot(tmp_path))
    assert (again.papers_added, again.citations_added) == (0, 0)
    _check_one_row_per_paper(db)


# -- changes after two refreshes -----------------------------------------------------------------------


def _in_corpus(fake: FakeS2, stored: set[str], pid: str) -> int:
    return sum(1 for p in stored if p != pid and pid in fake.papers[p].references)


def test_changes_after_two_refreshes(invoke, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("RLMLLM_S2_PACE", "0")
    graph = make_graph(6, 8, rng_seed=3, elided_citers=0, elided_refs=0)
    seed, target = graph[0], graph[1]  # the survey and its first reference
    with FakeS2(graph) as fake:
        assert invoke("refresh", "--no-default-queries", "--api-url", fake.url).exit_code == 0
        stored1, _ = expected_crawl(fake, [f"ARXIV:{SURVEY}"])
        before = {p: _in_corpus(fake, stored1, p) for p in (seed.paper_id, target.paper_id)}
        assert invoke("classify").exit_code == 0
        citer1 = graph[8].paper_id
        time.sleep(1.1)  # first_seen has one-second resolution: keep the two refreshes apart
        new = [
            FakePaper(_sha(f"new{i}"), title=t, abstract=a, year=2026, publication_date=f"2026-0{i + 1}-01",
                      arxiv=f"2601.0000{i}", references=[seed.paper_id, target.paper_id])
            for i, (t, a) in enumerate([
                ("GRPO for visual math reasoning in multimodal large language models",
                 "We train a vision-language model with reinforcement learning (GRPO) and verifiable rewards on images."),
                ("Video-R2: reinforcement learning for temporal reasoning in video MLLMs",
                 "Reinforcement learning with rule-based rewards improves video reasoning of multimodal LLMs."),
                ("A cooking robot dataset", "A data set of kitchen recordings."),
            ])
        ]
        fake.set_papers(graph + new)
        r = invoke("refresh", "--no-default-queries", "--api-url", fake.url)
        assert r.exit_code == 0, r.stderr
        stored2, _ = expected_crawl(fake, [f"ARXIV:{SURVEY}"])
        after = {p: _in_corpus(fake, stored2, p) for p in (seed.paper_id, target.paper_id)}
        assert invoke("classify").exit_code == 0
        # after refresh 2: a person relabels a paper of refresh 1 (shown live for run 2 until run 3 records it)
        assert invoke("label", citer1, "modality=video").exit_code == 0
        out, text = _changes(invoke)
        assert invoke("refresh", "--no-default-queries", "--api-url", fake.url).exit_code == 0  # run 3: the world did not change

    third = json.loads(invoke("changes", "--json").stdout)
    assert [r["run_id"] for r in third["runs"]] == [3]
    assert (third["new_papers"], third["citation_jumps"], third["label_changes"]) == ([], [], [])
    recorded, recorded_text = _changes(invoke, "--since", "2")
    assert [r["run_id"] for r in recorded["runs"]] == [2, 3]
    assert (recorded["new_papers"], recorded["citation_jumps"]) == (out["new_papers"], out["citation_jumps"])
    assert [(x["run_id"], x["paper_id"], x["facet"], x["after"]) for x in recorded["label_changes"]] == [
        (2, citer1, "modality", ["video"])]
    assert recorded_text[0] == "Changes in 2 runs since run 2:"
    assert [r["run_id"] for r in out["runs"]] == [2] and out["since"] == {"run": 2}
    new_ids = [p["paper_id"] for p in out["new_papers"]]
    assert set(new_ids) == {p.paper_id for p in new} and stored2 - stored1 == set(new_ids)
    rel = [p["relevance"] for p in out["new_papers"]]
    assert rel == sorted(rel, key=lambda v: ("core", "related", "other", None).index(v))  # core first
    assert all(p["labels"].get("relevance") == [p["relevance"]] for p in out["new_papers"])
    assert after[seed.paper_id] - before[seed.paper_id] == 3 == after[target.paper_id] - before[target.paper_id]
    jumps = {j["paper_id"]: (j["before"], j["after"], j["jump"]) for j in out["citation_jumps"]}
    assert jumps == {p: (before[p], after[p], 3) for p in (seed.paper_id, target.paper_id)}
    modality_before = [x for x in out["label_changes"] if x["paper_id"] == citer1]
    assert len(modality_before) == 1 and modality_before[0]["facet"] == "modality"
    assert modality_before[0]["after"] == ["video"] and modality_before[0]["before"] != ["video"]
    assert out["counts"] == {
        "runs": 1, "new_papers": 3, "new_by_relevance": _by_rel(out["new_papers"]), "citation_jumps": 2,
        "label_changes": len(out["label_changes"]), "papers_with_label_changes": 1,
    }

    assert text[0] == "Changes in run 2:"
    assert f"New papers: 3 (" in text[2]
    assert text[3].split()[0] == out["new_papers"][0]["relevance"]
    assert any(line.startswith("Citation jumps (+2 or more in-corpus citations): 2") for line in text)
    assert any(line.split()[:4] == ["+3", str(before[seed.paper_id]), "->", str(after[seed.paper_id])] for line in text)
    assert "Label changes: 1 in 1 papers" in text

    since1 = json.loads(invoke("changes", "--since", "1", "--json").stdout)
    assert [r["run_id"] for r in since1["runs"]] == [1, 2, 3]
    assert {p["paper_id"] for p in since1["new_papers"]} == stored2
    assert since1["citation_jumps"] == []  # nothing was stored before run 1
    assert since1["label_changes"] == recorded["label_changes"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    by_date = json.loads(invoke("changes", "--since", today, "--json").stdout)
    assert [r["run_id"] for r in by_date["runs"]] == [1, 2, 3]

    # the feed: core papers, the ones the second refresh added first
    site = tmp_path / "site"
    assert invoke("report", "--out", str(site)).exit_code == 0
    root = ET.parse(site / "feed.xml").getroot()
    entries = root.findall(f"{ATOM}entry")
    db = store.open_db(db_path)
    core = {pid: arx for pid, arx in db.execute(
        "SELECT paper_id, arxiv_id FROM papers JOIN labels USING (paper_id) WHERE facet = 'relevance' AND value = 'core'")}
    db.conn.close()
    assert len(entries) == len(core)
    new_core = [p for p in out["new_papers"] if p["relevance"] == "core"]
    assert new_core, "the classifier should call a GRPO-on-images paper core"
    first = [e.find(f"{ATOM}id").text for e in entries[: len(new_core)]]
    assert set(first) == {f"tag:rlmllm-graph,2025:arxiv/{p['arxiv_id']}" for p in new_core}
    newest = max(e.find(f"{ATOM}updated").text for e in entries)
    assert root.find(f"{ATOM}updated").text == newest
    assert {e.find(f"{ATOM}updated").text for e in entries[: len(new_core)]} == {newest}


def _changes(invoke, *args: str) -> tuple[dict, list[str]]:
    r = invoke("changes", "--json", *args)
    assert r.exit_code == 0, r.stderr
    t = invoke("changes", *args)
    return json.loads(r.stdout), t.stdout.splitlines()


def _by_rel(papers: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in papers:
        out[p["relevance"] or "unlabelled"] = out.get(p["relevance"] or "unlabelled", 0) + 1
    return out


@pytest.mark.parametrize("since, words", [
    ("yesterday", "is neither a run number"),
    ("2026-13-45", "is neither a run number"),
    ("3.5", "is neither a run number"),
    ("99", "no run 99 in this database"),
])
def test_a_bad_since_is_one_line_and_exit_2(invoke, since, words):
    assert invoke("refresh", "--offline").exit_code == 0
    r = invoke("changes", "--since", since)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: --since") and words in r.stderr


def test_changes_on_a_database_without_runs(invoke, db_path):
    store.open_db(db_path).conn.close()
    r = invoke("changes")
    assert r.exit_code == 0 and r.stdout.startswith("No refresh recorded yet")
    assert json.loads(invoke("changes", "--json").stdout)["runs"] == []
    missing = invoke("changes", "--db", str(db_path.parent / "nope.db"), db=False)
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: no database at")


def test_parse_since():
    assert parse_since("3") == ("run", 3) and parse_since("run 4") == ("run", 4)
    assert parse_since("2026-11-01") == ("date", "2026-11-01T00:00:00+00:00")
    assert parse_since("2026-11-01T12:30+02:00") == ("date", "2026-11-01T10:30:00+00:00")
    with pytest.raises(BadInput):
        parse_since("")


# -- the feed ---------------------------------------------------------------------------------------


def test_the_feed_escapes_paper_text_and_keeps_stable_ids(db):
    from rlmllm_graph.records import Author, Paper

    nasty = 'Bad <script>alert("x")</script> & ]]> title\x01\x0b'
    papers = [
        Paper(paper_id=_sha("p1"), arxiv_id="2601.00001", title=nasty, abstract="An <b>abstract</b> & more",
              publication_date="2026-01-05", authors=[Author("a1", "Zoë <Z> O'Hara")]),
        Paper(paper_id=_sha("p2"), doi="10.1000/x<y>", title="Second", year=2025),
        Paper(paper_id=_sha("p3"), title="Third, no id but its own"),
        Paper(paper_id=_sha("p4"), title="Not core"),
    ]
    with store.transaction(db):
        store.upsert_papers(db, papers)
        for p in papers:
            store.save_manual_labels(db, p.paper_id, {"relevance": ["other" if p.title == "Not core" else "core"]})
    xml = render_feed(db)
    root = ET.fromstring(xml.encode())
    entries = {e.find(f"{ATOM}title").text: e for e in root.findall(f"{ATOM}entry")}
    assert set(entries) == {'Bad <script>alert("x")</script> & ]]> title', "Second", "Third, no id but its own"}
    assert "<script>" not in xml
    e1 = entries['Bad <script>alert("x")</script> & ]]> title']
    assert e1.find(f"{ATOM}id").text == "tag:rlmllm-graph,2025:arxiv/2601.00001"
    assert e1.find(f"{ATOM}published").text == "2026-01-05T00:00:00Z"
    assert e1.find(f"{ATOM}author/{ATOM}name").text == "Zoë <Z> O'Hara"
    assert e1.find(f"{ATOM}link").get("href") == "https://arxiv.org/abs/2601.00001"
    assert e1.find(f"{ATOM}summary").text.startswith("An <b>abstract</b> & more")
    assert entries["Second"].find(f"{ATOM}id").text == "tag:rlmllm-graph,2025:doi/10.1000/x%3Cy%3E"
    third = entries["Third, no id but its own"]
    assert third.find(f"{ATOM}link") is None and third.find(f"{ATOM}content").text  # content stands in for a link
    assert entry_id({"paper_id": "x", "arxiv_id": "2601.00001"}) == e1.find(f"{ATOM}id").text
    assert render_feed(db) == xml  # the same database gives the same feed
    feedparser = pytest.importorskip("feedparser")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and len(parsed.entries) == 3
    assert {e.id for e in parsed.entries} == {e.find(f"{ATOM}id").text for e in entries.values()}


def test_an_empty_feed_is_still_valid_atom(db):
    root = ET.fromstring(render_feed(db).encode())
    assert root.tag == f"{ATOM}feed" and root.findall(f"{ATOM}entry") == []
    assert root.find(f"{ATOM}updated").text and root.find(f"{ATOM}id").text
