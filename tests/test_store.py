"""The store: schema, migrations, merging upserts, locking and corrupt files."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from rlmllm_graph import store
from rlmllm_graph.errors import BadDatabasePath, DatabaseLocked, DatabaseMissing, NotADatabase, SchemaOutOfDate
from rlmllm_graph.records import Author, Citation, Paper


def test_schema_has_design_tables_and_columns(db):
    tables = set(db.table_names())
    assert {"papers", "authors", "paper_authors", "citations", "labels", "crawl_runs"} <= tables
    cols = set(db["papers"].columns_dict)
    assert {
        "paper_id", "corpus_id", "arxiv_id", "doi", "title", "abstract", "year", "publication_date", "venue",
        "citation_count", "reference_count", "url", "hop", "first_seen", "updated_at",
    } <= cols
    assert set(db["labels"].columns_dict) >= {"paper_id", "facet", "value", "confidence", "source", "evidence"}
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION


def test_upsert_never_erases_known_values(db):
    with store.transaction(db):
        store.upsert_papers(db, [Paper("p1", title="T", abstract="A", venue="V", year=2025,
                                       authors=[Author("a1", "Ann")], hop=1)])
    with store.transaction(db):
        store.upsert_papers(db, [Paper("p1", title="T2", abstract=None, venue=None, citation_count=5, hop=2)])
    p = store.get_paper(db, "p1")
    assert (p["title"], p["abstract"], p["venue"], p["year"], p["citation_count"]) == ("T2", "A", "V", 2025, 5)
    assert p["hop"] == 1  # the smallest hop wins
    assert p["authors"] == ["Ann"]  # a record without authors keeps the known ones


def test_citation_upsert_keeps_known_flags(db):
    with store.transaction(db):
        store.upsert_citations(db, [Citation("a", "b", True, ["methodology"])])
        store.upsert_citations(db, [Citation("a", "b", None, None)])
    row = db.execute("SELECT is_influential, intents FROM citations").fetchone()
    assert row == (1, '["methodology"]')


def test_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        with store.transaction(db):
            store.upsert_papers(db, [Paper("p1", title="x")])
            raise RuntimeError("boom")
    assert store.paper_count(db) == 0


def test_full_text_search_uses_bound_parameters(db):
    with store.transaction(db):
        store.upsert_papers(db, [Paper("p1", title="Vision-R1 reasoning", abstract="GRPO on images"),
                                 Paper("p2", title="Other", abstract="nothing")])
    assert [r["paper_id"] for r in store.search_papers(db, "grpo")] == ["p1"]
    assert store.search_papers(db, "\" OR 1=1; DROP TABLE papers; --") == []
    assert store.paper_count(db) == 2


def test_resolve_paper_id_by_external_ids(db):
    with store.transaction(db):
        store.upsert_papers(db, [Paper("p1", arxiv_id="2504.21277", doi="10.1/abc", corpus_id=7)])
    for ref in ("p1", "ARXIV:2504.21277", "arxiv:2504.21277v2", "https://arxiv.org/abs/2504.21277",
                "DOI:10.1/ABC", "CorpusId:7"):
        assert store.resolve_paper_id(db, ref) == "p1"


def test_second_writer_gets_a_clear_error(db_path):
    first = store.open_db(db_path)
    second = store.open_db(db_path, busy_timeout_ms=50)
    with store.transaction(first):
        store.upsert_papers(first, [Paper("p1", title="held")])
        with pytest.raises(DatabaseLocked, match="locked by another writer"):
            with store.transaction(second):
                store.upsert_papers(second, [Paper("p2")])
    assert store.paper_count(second) == 1
    first.conn.close()
    second.conn.close()


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(NotADatabase):
        store.open_db(bad)
    assert bad.read_bytes().startswith(b"this is not sqlite")


def test_foreign_sqlite_file_is_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE x (a)")
    conn.commit()
    conn.close()
    with pytest.raises(NotADatabase, match="not an rlmllm-graph database"):
        store.open_db(other)


def test_newer_schema_is_refused(db_path):
    d = store.open_db(db_path)
    d.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    d.conn.close()
    with pytest.raises(SchemaOutOfDate):
        store.open_db(db_path)


def test_paths(tmp_path):
    with pytest.raises(BadDatabasePath, match="does not exist"):
        store.open_db(tmp_path / "nope" / "x.db")
    with pytest.raises(BadDatabasePath, match="folder"):
        store.open_db(tmp_path)
    with pytest.raises(DatabaseMissing):
        store.open_db(tmp_path / "x.db", create=False)
    assert not (tmp_path / "x.db").exists()


def test_migrating_a_version_1_database_keeps_its_rows(tmp_path):
    from rlmllm_graph.store import migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    old = sqlite_utils.Database(conn)
    migrations.m001_initial(old)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO papers (paper_id, title) VALUES ('a', 'A'), ('b', 'B')")
    conn.execute("INSERT INTO citations VALUES ('a', 'b', 1, ?)", ['["background"]'])
    conn.close()
    db = store.open_db(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert db.execute("SELECT * FROM citations").fetchall() == [("a", "b", 1, '["background"]')]
    assert "WITHOUT ROWID" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'citations'").fetchone()[0]
    assert [r["paper_id"] for r in store.search_papers(db, "A")] == ["a"]



@pytest.mark.parametrize("name", ["a#b.db", "c?d.db", "e%41f.db", "g h.db"])
def test_read_only_open_of_a_path_with_uri_characters(tmp_path, name):
    path = tmp_path / name
    d = store.open_db(path)
    with store.transaction(d):
        store.upsert_papers(d, [Paper(paper_id="p1", title="Kept")])
    d.conn.close()
    ro = store.open_db(path, readonly=True)
    assert store.get_paper(ro, "p1")["title"] == "Kept"
    assert sorted(x.name for x in tmp_path.iterdir() if not x.name.startswith(name)) == []  # no stray file
