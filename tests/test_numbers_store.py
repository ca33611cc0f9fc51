"""Numbers that must be right: one count of citations, read-only commands never touch a foreign file,
discovery never proposes what is known, import reports repeated ids and empty files, papers without text
get no labels."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import networkx as nx
import pytest

from rlmllm_graph import ingest, store
from rlmllm_graph.analysis import compute_discovery, compute_graph_report
from rlmllm_graph.graph import build_citation_graph

from conftest import write_jsonl

S = [f"{i:040x}" for i in range(1, 8)]  # Semantic Scholar-shaped ids


def _paper(i: int, refs: list[int] = (), **extra) -> dict:
    return {"paperId": S[i], "title": f"Paper {i} on RL for video reasoning", "year": 2025,
            "publicationDate": f"2025-0{1 + i % 6}-10", "externalIds": {"CorpusId": 100 + i},
            "references": [{"paperId": S[j]} for j in refs], **extra}


# --------------------------------------------------------------------------- one count of citations


def test_a_self_citation_is_refused_and_every_count_agrees(invoke, db_path, tmp_path):
    records = [
        _paper(0, [0, 1, 2]),  # cites itself, 1 and 2
        _paper(1, [1, 2]),  # cites itself and 2
        _paper(2, [3]),  # 3 is never stored: a dangling edge
        {"citingcorpusid": 102, "citedcorpusid": 102},  # a bulk self-citation
        {"citingcorpusid": 101, "citedcorpusid": 100},  # 1 -> 0
    ]
    r = invoke("import", str(write_jsonl(tmp_path / "in.jsonl", records)), "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["citations_added"] == 5  # 0->1, 0->2, 1->2, 2->3, 1->0

    stats = json.loads(invoke("stats", "--json").stdout)
    assert stats["citations"] == 5 and stats["citations_in_corpus"] == 4
    graph = json.loads(invoke("graph", "--json").stdout)
    assert graph["edges"] == 4 and graph["nodes"] == 3
    site = tmp_path / "site"
    rep = json.loads(invoke("report", "--out", str(site), "--json").stdout)
    assert rep["edges"] == 4
    index = (site / "index.html").read_text()
    assert '<div class="n">4</div><div class="k">citations between them</div>' in index
    for fmt, pattern in (("graphml", "<edge "), ("gexf", "<edge ")):
        out = tmp_path / f"g.{fmt}"
        r = invoke("export", "--format", fmt, "--out", str(out))
        assert r.exit_code == 0, r.stderr
        assert out.read_text().count(pattern) == 4, fmt
    out = tmp_path / "g.jsonl"
    invoke("export", "--format", "jsonl", "--out", str(out))
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(len(p.get("references") or []) for p in exported) == 5  # every stored edge, dangling one too
    assert all(p["paperId"] not in (p.get("references") or []) for p in exported)
    # and the raw store: no row, and a direct write is ignored by the trigger
    db = store.open_db(db_path)
    assert db.execute("SELECT count(*) FROM citations WHERE citing_id = cited_id").fetchone()[0] == 0
    assert store.upsert_citations(db, [(S[1], S[1], None, None)]) == 0
    db.execute("INSERT INTO citations (citing_id, cited_id) VALUES (?, ?)", [S[2], S[2]])
    assert db.execute("SELECT count(*) FROM citations").fetchone()[0] == 5
    db.conn.close()


def test_the_migration_drops_self_citations_already_stored(db_path):
    import sqlite_utils

    from rlmllm_graph.store.migrations import MIGRATIONS, m006_numbers_no_self_citations

    before = MIGRATIONS.index(m006_numbers_no_self_citations)  # a database of the schema before it (later
    conn = sqlite3.connect(db_path)  # migrations need not run twice)
    for step in MIGRATIONS[:before]:
        step(sqlite_utils.Database(conn))
    conn.execute(f"PRAGMA user_version = {before}")
    conn.execute("INSERT INTO citations (citing_id, cited_id) VALUES ('a', 'a'), ('a', 'b')")
    conn.commit()
    conn.close()
    db = store.open_db(db_path)
    assert db.execute("SELECT citing_id, cited_id FROM citations").fetchall() == [("a", "b")]
    db.conn.close()


# --------------------------------------------------------------------------- read-only commands and foreign files


def _foreign_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["empty"] = tmp_path / "empty.db"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "notes.txt"
    files["text"].write_text("my notes\nnot a database\n")
    files["sqlite"] = tmp_path / "other.sqlite"
    conn = sqlite3.connect(files["sqlite"])
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    files["versioned"] = tmp_path / "app.sqlite"  # another application that numbers its schema too
    conn = sqlite3.connect(files["versioned"])
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    files["empty-sqlite"] = tmp_path / "blank.sqlite"
    sqlite3.connect(files["empty-sqlite"]).close()  # SQLite creates nothing until asked: 0 bytes
    return files


def _fingerprint(path: Path) -> tuple[str, int, list[str]]:
    st = path.stat()
    siblings = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, siblings


READ_ONLY = [
    ["stats"], ["stats", "--json"], ["graph"], ["trends"], ["table"],
    ["export", "--format", "csv", "--out", "{tmp}/out.csv"], ["report", "--out", "{tmp}/site"], ["serve", "--port", "0"],
]


@pytest.mark.parametrize("kind", ["empty", "text", "sqlite", "versioned", "empty-sqlite"])
def test_read_only_commands_refuse_a_foreign_file_and_leave_it_alone(runner, tmp_path, kind):
    from rlmllm_graph.cli import cli

    path = _foreign_files(tmp_path)[kind]
    before = _fingerprint(path)
    time.sleep(0.01)
    for argv in READ_ONLY:
        args = [a.format(tmp=tmp_path) for a in argv] + ["--db", str(path)]
        r = runner.invoke(cli, args, catch_exceptions=False)
        assert r.exit_code == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "not an rlmllm-graph database" in lines[0], (args, r.stderr)
        assert str(path) in lines[0]
        assert _fingerprint(path) == before, args
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "site").exists()


def test_a_real_database_still_opens_for_reading(db, db_path):
    db.conn.close()
    assert store.open_db(db_path, create=False).execute("SELECT count(*) FROM papers").fetchone()[0] == 0
    assert store.open_db(db_path, readonly=True).execute("SELECT count(*) FROM papers").fetchone()[0] == 0


def test_a_writing_command_refuses_another_applications_versioned_file(invoke, tmp_path):
    path = _foreign_files(tmp_path)["versioned"]
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = invoke("import", str(write_jsonl(tmp_path / "in.jsonl", [_paper(0)])), "--db", str(path), db=False)
    assert r.exit_code == 1 and "is an SQLite file but not an rlmllm-graph database" in r.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_writing_command_still_initialises_an_empty_file(invoke, db_path, tmp_path):
    db_path.write_bytes(b"")
    r = invoke("import", str(write_jsonl(tmp_path / "in.jsonl", [_paper(0)])))
    assert r.exit_code == 0, r.stderr
    assert json.loads(invoke("stats", "--json").stdout)["papers"] == 1


# --------------------------------------------------------------------------- discovery


def test_discovery_never_proposes_a_seed_or_a_core_paper():
    G = nx.DiGraph()
    G.add_node("c1", labels={"relevance": ["core"]}, hop=1)
    G.add_node("c2", labels={"relevance": ["core"]}, hop=1)
    G.add_node("seed", labels={"relevance": ["related"]}, hop=0)  # the survey: a seed, not labelled core
    G.add_node("cand", labels={}, hop=1)
    for i in range(4):  # papers citing c1 with the seed, the candidate and c2
        for t in ("c1", "seed", "cand", "c2"):
            G.add_edge(f"x{i}", t)
        G.nodes[f"x{i}"].update(labels={}, hop=1)
    disc = compute_discovery(G)
    assert list(disc["paper_id"]) == ["cand"]
    assert not {"c1", "c2", "seed"} & set(disc["paper_id"])
    # a core paper outside the core given is still never proposed
    disc = compute_discovery(G, core=["c1"])
    assert "cand" in set(disc["paper_id"]) and not {"c1", "c2", "seed"} & set(disc["paper_id"])
    rep = compute_graph_report(G, top=10)
    assert not {"c1", "c2", "seed"} & {d["paper_id"] for d in rep["discovery"]}


def test_discovery_from_a_real_crawl_has_no_seed(db, tmp_path):
    recs = [_paper(0, [1, 2, 3]), _paper(1, [2, 3]), _paper(2), _paper(3), _paper(4, [0, 1, 2, 3]),
            _paper(5, [1, 2, 3])]
    ingest.import_files(db, [write_jsonl(tmp_path / "c.jsonl", recs)])
    db.execute("UPDATE papers SET hop = CASE WHEN paper_id = ? THEN 0 ELSE 1 END", [S[2]])
    store.insert_labels(db, [{"paper_id": S[1], "facet": "relevance", "value": "core", "confidence": 1.0,
                              "source": "manual", "evidence": None}])
    disc = compute_discovery(build_citation_graph(db))
    assert len(disc) and S[2] not in set(disc["paper_id"]) and S[1] not in set(disc["paper_id"])


# --------------------------------------------------------------------------- duplicates and empties


def test_a_paper_repeated_in_one_file_is_merged_and_named_with_its_lines(invoke, db_path, tmp_path):
    recs = [_paper(0, venue="NeurIPS"), _paper(1), "", {**_paper(0), "title": "Paper 0, revised", "venue": None}]
    path = write_jsonl(tmp_path / "dup.jsonl", recs)
    r = invoke("import", str(path), "--json")
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["papers_added"] == 2
    assert out["warnings"] == [f"{path}: paper {S[0]} is on lines 1, 4; {ingest.MERGE_RULE}"]
    assert f"warning: {path}: paper {S[0]} is on lines 1, 4" in r.stderr
    db = store.open_db(db_path)
    # the documented rule: the later line's value, unless it is empty
    assert db.execute("SELECT title, venue FROM papers WHERE paper_id = ?", [S[0]]).fetchone() == (
        "Paper 0, revised", "NeurIPS")
    db.conn.close()
    # the same paper in two files is an ordinary update, not a warning
    other = write_jsonl(tmp_path / "other.jsonl", [_paper(1)])
    assert json.loads(invoke("import", str(other), "--json").stdout)["warnings"] == []


def test_an_empty_import_file_warns(invoke, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    full = write_jsonl(tmp_path / "full.jsonl", [_paper(0)])
    r = invoke("import", str(empty), str(full))
    assert r.exit_code == 0
    assert r.stderr.strip() == f"warning: {empty}: holds no records; nothing imported from it"
    assert "1 paper added" in r.stdout


def test_papers_without_title_or_abstract_get_no_labels(db, tmp_path):
    from rlmllm_graph.classify import classify_database

    recs = [_paper(0, abstract="We train a video MLLM with GRPO and a rule-based reward."),
            {**_paper(1), "title": None}, {**_paper(2), "title": "  ", "abstract": ""}]
    ingest.import_files(db, [write_jsonl(tmp_path / "p.jsonl", recs)])
    report = classify_database(db)
    assert report.no_text == 2 and report.classified == 3
    labelled = {r[0] for r in db.execute("SELECT DISTINCT paper_id FROM labels")}
    assert labelled == {S[0]}
    # a paper that loses its text loses its labels on the next run
    db.execute("UPDATE papers SET title = NULL, abstract = NULL WHERE paper_id = ?", [S[0]])
    report = classify_database(db)
    assert report.no_text == 1 and db.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
