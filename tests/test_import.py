"""``import`` and ``stats``: shapes, all-or-nothing, bad input, and the shared corpus."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from conftest import FIXTURES, write_jsonl
from rlmllm_graph import store

MINI = FIXTURES / "mini_corpus.jsonl"


def _dump(db_path: Path) -> dict[str, list]:
    conn = sqlite3.connect(db_path)
    out = {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
        for t in ("citations", "authors", "paper_authors")
    }
    out["papers"] = conn.execute(
        "SELECT paper_id, title, abstract, arxiv_id, doi, year, venue FROM papers ORDER BY 1"
    ).fetchall()
    conn.close()
    return out


def test_import_and_stats_json(invoke, db_path):
    r = invoke("import", str(MINI))
    assert r.exit_code == 0, r.output
    assert "4 papers added" in r.stdout
    s = json.loads(invoke("stats", "--json").stdout)
    assert {"papers", "citations", "authors", "labelled", "last_crawl"} <= set(s)
    assert s["papers"] == 4
    assert s["citations"] == 6  # including the edge to a paper not in the file
    assert s["citations_in_corpus"] == 5
    assert s["authors"] == 5
    assert s["labelled"] == 0 and s["last_crawl"] is None
    d = store.open_db(db_path)
    p = store.get_paper(d, store.resolve_paper_id(d, "ARXIV:2504.21277"))
    assert p["doi"] == "10.48550/arxiv.2504.21277"  # lower-cased
    assert p["authors"] == ["Guanghao Zhou", "Panjia Qiu"]


def test_reimport_is_idempotent(invoke, db_path):
    invoke("import", str(MINI))
    first = _dump(db_path)
    r = invoke("import", str(MINI), "--json")
    rep = json.loads(r.stdout)
    assert rep["papers_added"] == 0 and rep["papers_updated"] == 4 and rep["citations_added"] == 0
    assert _dump(db_path) == first


def test_gzip_and_nested_citation_objects(invoke, tmp_path):
    recs = [
        {"paperId": "s1", "title": "Seed", "citations": [
            {"citingPaper": {"paperId": "c1", "title": "Citer"}, "isInfluential": True, "intents": ["background"]},
            {"citingPaper": {"paperId": None, "title": "elided"}},
        ], "references": [{"paperId": "r1", "title": "Ref", "year": 2020}, {"paperId": "r2"}]},
    ]
    gz = tmp_path / "x.jsonl.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in recs) + "\n")
    r = invoke("import", str(gz), "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["papers_added"] == 3  # s1 plus the nested paper objects c1 and r1
    assert rep["citations_added"] == 3 and rep["elided"] == 1


def test_bulk_dataset_records(invoke, tmp_path, db_path):
    f = write_jsonl(tmp_path / "bulk.jsonl", [
        {"corpusid": 1, "externalids": {"ArXiv": "2501.00001", "DOI": "10.5/X"}, "title": "One",
         "url": "https://www.semanticscholar.org/paper/" + "1" * 40, "year": 2025,
         "authors": [{"authorId": "9", "name": "Nine"}], "publicationdate": "2025-01-02"},
        {"corpusid": 2, "title": "Two", "year": 2024},
        {"corpusid": 2, "abstract": "abstract of two", "openaccessinfo": None},
        {"citationid": 5, "citingcorpusid": 1, "citedcorpusid": 2, "isinfluential": False,
         "intents": [["methodology"]]},
        {"citationid": 6, "citingcorpusid": 1, "citedcorpusid": 999},
    ])
    r = invoke("import", str(f), "--json")
    rep = json.loads(r.stdout)
    assert rep["papers_added"] == 2 and rep["citations_added"] == 1 and rep["unresolved_citations"] == 1
    d = store.open_db(db_path)
    assert store.get_paper(d, "CorpusId:2")["abstract"] == "abstract of two"
    assert store.resolve_paper_id(d, "ARXIV:2501.00001") == "1" * 40


@pytest.mark.parametrize(
    "bad_line, why",
    [
        ('{"paperId": "x", "title": ', "malformed JSON"),
        ('{"title": "no id"}', "not a Semantic Scholar record"),
        ('{"paperId": "x", "year": "soon"}', "must be a number"),
        ('{"paperId": "x", "authors": "Ann"}', "'authors' must be a list"),
        ("[1, 2]", "expected a JSON object"),
        ('{"paperId": "x", "year": 10000}', "'year' must be between 1000 and 2999, not 10000"),
        ('{"paperId": "x", "year": 1}', "'year' must be between 1000 and 2999, not 1"),
        ('{"paperId": "x", "publicationDate": "yesterday"}', "'publicationDate' must be a date YYYY, YYYY-MM or"),
        ('{"corpusid": 5, "title": "t", "publicationdate": "2025-02-30"}', "'publicationdate' must be a date"),
        ('{"paperId": "x", "year": 1' + "0" * 30 + "}", "'year' is out of range: larger than a 64-bit integer"),
        ('{"paperId": "x", "corpusId": 1' + "0" * 20 + "}", "'corpusId' is out of range"),
        ('{"paperId": "x", "corpusId": 9223372036854775808}', "'corpusId' is out of range"),
        ('{"paperId": "x", "referenceCount": -1' + "0" * 20 + "}", "'referenceCount' is out of range"),
        ('{"corpusid": 1' + "0" * 20 + ', "title": "t"}', "'corpusid' is out of range"),
        ('{"citingcorpusid": 1, "citedcorpusid": 1' + "0" * 20 + "}", "'citedcorpusid' is out of range"),
    ],
)
def test_malformed_line_stops_import_and_changes_nothing(invoke, tmp_path, db_path, bad_line, why):
    invoke("import", str(MINI))
    before = _dump(db_path)
    f = write_jsonl(tmp_path / "bad.jsonl", [{"paperId": "new1", "title": "New"}, bad_line])
    r = invoke("import", str(f))
    assert r.exit_code == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and f"{f}:2:" in err[0] and why in err[0]
    assert "Traceback" not in r.output
    assert _dump(db_path) == before


def test_skip_invalid_reports_lines(invoke, tmp_path):
    f = write_jsonl(tmp_path / "bad.jsonl", [{"paperId": "new1", "title": "New"}, "{oops", {"x": 1}])
    r = invoke("import", str(f), "--skip-invalid")
    assert r.exit_code == 0
    assert "1 paper added" in r.stdout and "2 lines skipped" in r.stdout
    assert f"{f}:2:" in r.stderr and f"{f}:3:" in r.stderr


def test_skip_invalid_skips_implausible_values(invoke, tmp_path, db_path):
    f = write_jsonl(tmp_path / "bad.jsonl", [
        {"paperId": "new1", "title": "New", "year": 2025, "publicationDate": "2025-03-09"},
        '{"paperId": "big", "year": 1' + "0" * 30 + "}",
        '{"paperId": "cid", "corpusId": 1' + "0" * 20 + "}",
        {"paperId": "far", "year": 10000},
        {"paperId": "day", "publicationDate": "yesterday"},
    ])
    r = invoke("import", str(f), "--skip-invalid")
    assert r.exit_code == 0, r.stderr
    assert "1 paper added" in r.stdout and "4 lines skipped" in r.stdout
    assert all(f"{f}:{n}:" in r.stderr for n in (2, 3, 4, 5))
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT paper_id, year, publication_date FROM papers").fetchall() == [
        ("new1", 2025, "2025-03-09")
    ]
    conn.close()


def test_missing_file_and_bad_gzip(invoke, tmp_path, db_path):
    r = invoke("import", str(tmp_path / "missing.jsonl"))
    assert r.exit_code == 2 and "no such file" in r.stderr
    gz = tmp_path / "broken.jsonl.gz"
    gz.write_bytes(gzip.compress(b'{"paperId": "a", "title": "A"}\n' * 50)[:40])
    r = invoke("import", str(MINI), str(gz))
    assert r.exit_code == 2 and str(gz) in r.stderr and "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1
    assert store.paper_count(store.open_db(db_path)) == 0  # the good file before it was rolled back too


def test_bad_database_paths(runner, tmp_path):
    from rlmllm_graph.cli import cli

    r = runner.invoke(cli, ["import", str(MINI), "--db", str(tmp_path / "no" / "such" / "x.db")])
    assert r.exit_code == 2 and "does not exist" in r.stderr
    notdb = tmp_path / "notdb.db"
    notdb.write_text("hello, I am a text file" * 50)
    r = runner.invoke(cli, ["import", str(MINI), "--db", str(notdb)])
    assert r.exit_code == 1 and "not an rlmllm-graph database" in r.stderr
    assert notdb.read_text().startswith("hello")
    r = runner.invoke(cli, ["stats", "--db", str(tmp_path / "absent.db")])
    assert r.exit_code == 1 and "no database at" in r.stderr
    r = runner.invoke(cli, ["stats", "--db", str(tmp_path / "absent.db"), "--nope"])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1


def test_locked_database(invoke, db_path, monkeypatch):
    invoke("import", str(MINI))
    before = _dump(db_path)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setenv("RLMLLM_BUSY_TIMEOUT_MS", "50")
    r = invoke("import", str(MINI))
    holder.execute("ROLLBACK")
    holder.close()
    assert r.exit_code == 1 and "locked by another writer" in r.stderr
    assert _dump(db_path) == before


def _big_file(path: Path, n: int, start: int = 0) -> Path:
    """``n`` papers with 2 references each: enough for the bulk path (over 10,000 and twice what is stored)."""
    with path.open("w") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"paperId": f"{i:040x}", "title": f"Paper {i} on GRPO for video",
                                 "abstract": "We study reinforcement learning. " * 5, "year": 2025,
                                 "authors": [{"authorId": str(i % 997), "name": f"Author {i % 997}"}],
                                 "references": [f"{(i + 1) % (start + n):040x}", f"{(i + 7) % (start + n):040x}"]})
                     + "\n")
    return path


def _journal_mode(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_bulk_import_beside_a_reader(invoke, tmp_path, db_path):
    """The bulk path (indexes dropped and rebuilt) stays in WAL mode: a reader open all along sees the old
    rows, then the new ones, and the full-text index is whole afterwards."""
    invoke("import", str(MINI))
    reader = store.open_db(db_path, readonly=True)
    try:
        reader.conn.execute("BEGIN")
        assert store.paper_count(reader) == 4
        r = invoke("import", str(_big_file(tmp_path / "big.jsonl", 12_000)), "--json")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["papers_added"] == 12_000
        assert store.paper_count(reader) == 4  # its snapshot
        reader.conn.execute("COMMIT")
        assert store.paper_count(reader) == 12_004
    finally:
        reader.conn.close()
    assert _journal_mode(db_path) == "wal"
    d = store.open_db(db_path)
    assert d.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.search_papers(d, "grpo video", limit=3)  # the full-text index was rebuilt


@pytest.mark.slow
def test_bulk_import_killed_midway_keeps_every_stored_row(tmp_path, db_path):
    """SIGKILL at several moments of a bulk load (parsing, writing, rebuilding indexes): every row stored
    before it is still there and the database is whole."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from rlmllm_graph.ingest import import_files

    d = store.open_db(db_path)
    import_files(d, [MINI])
    d.conn.close()
    before = _dump(db_path)
    big = _big_file(tmp_path / "big.jsonl", 60_000)
    killed = 0
    for delay in (0.4, 1.0, 1.6, 2.2):
        proc = subprocess.Popen([sys.executable, "-m", "rlmllm_graph", "import", str(big), "--db", str(db_path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.read()
        if proc.returncode == 0:
            break
        d = store.open_db(db_path)
        assert d.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        d.conn.close()
        now = _dump(db_path)
        if now != before:  # the kill landed after the commit, while the process was still exiting: all of it
            assert len(now["papers"]) == len(before["papers"]) + 60_000
            assert set(before["papers"]) <= set(now["papers"])
            break
    assert killed >= 1  # at least one kill before the commit (a fast machine may finish before the later ones)


def test_shared_corpus_counts_match_the_file(invoke, shared_data):
    path = shared_data / "corpus.jsonl"
    ids, edges, authors = set(), set(), set()
    for line in path.open():
        rec = json.loads(line)
        ids.add(rec["paperId"])
        edges.update((rec["paperId"], r) for r in rec.get("references") or [])
        authors.update(a["authorId"] or a["name"] for a in rec.get("authors") or [])
    r = invoke("import", str(path))
    assert r.exit_code == 0, r.output
    s = json.loads(invoke("stats", "--json").stdout)
    assert s["papers"] == len(ids) == 1588
    assert s["citations"] == len(edges) == 263
    assert s["authors"] == len(authors)
