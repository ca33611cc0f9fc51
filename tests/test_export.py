"""Exports read back by their own readers: bibtexparser, csv, networkx (GraphML, GEXF) and our importer."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import bibtexparser
import networkx as nx
import pytest
from bibtexparser.bparser import BibTexParser

from conftest import FIXTURES, write_jsonl
from rlmllm_graph import store
from rlmllm_graph.errors import BadInput
from rlmllm_graph.export import (
    compute_citation_keys,
    export_bibtex,
    export_csv,
    export_database,
    export_gexf,
    export_graphml,
    export_jsonl,
    latex_escape,
)
from rlmllm_graph.ingest import import_files
from taxonomy_fixture import build_taxonomy_db, pid

FACETS = ["relevance", "modality", "algorithm", "paradigm", "reward", "strategy", "application"]


@pytest.fixture
def tdb(tmp_path: Path):
    d = build_taxonomy_db(tmp_path / "taxonomy.db")
    yield d
    d.conn.close()


def _bib(text: str) -> dict[str, dict[str, str]]:
    parsed = bibtexparser.loads(text, parser=BibTexParser(common_strings=True))
    assert not parsed.comments or all("rlmllm-graph" in c for c in parsed.comments)
    entries = {e["ID"]: e for e in parsed.entries}
    assert len(entries) == len(parsed.entries), "duplicate keys"
    return entries


# --- BibTeX --------------------------------------------------------------------------------


def test_bibtex_parses_back_with_keys_and_arxiv_fields(tdb, tmp_path: Path) -> None:
    out = tmp_path / "papers.bib"
    report = export_bibtex(tdb, out)
    assert report.papers == 8
    entries = _bib(out.read_text(encoding="utf-8"))
    assert sorted(entries) == [
        "anon2025arxiv250299999",
        "feng2025video",
        "huang2025vision",
        "huang2025visionb",
        "mullerlukasz2025omni",
        "shao2024deepseekmath",
        "wei2025learning",
        "zhou2025reinforced",
    ]
    v = entries["huang2025vision"]
    assert v["ENTRYTYPE"] == "misc"
    assert v["title"] == "{Vision-R1}: Incentivizing Reasoning Capability in Multimodal Large Language Models"
    assert v["author"] == "Wenxuan Huang and Bohan Jia"
    assert (v["year"], v["month"]) == ("2025", "March")
    assert (v["eprint"], v["archiveprefix"]) == ("2503.06749", "arXiv")
    assert v["url"] == "https://arxiv.org/abs/2503.06749"
    assert "algorithm:grpo" in v["keywords"] and "relevance:core" in v["keywords"]
    survey = entries["zhou2025reinforced"]
    assert survey["doi"] == "10.48550/arxiv.2504.21277"
    conf = entries["wei2025learning"]
    assert conf["ENTRYTYPE"] == "inproceedings"
    assert conf["booktitle"] == "Computer Vision and Pattern Recognition"
    assert conf["doi"] == "10.1109/cvpr.2025.0042" and "eprint" not in conf
    assert "title" not in entries["anon2025arxiv250299999"]


def test_bibtex_escapes_latex_specials(tdb) -> None:
    buf = io.StringIO()
    export_bibtex(tdb, buf)
    omni = _bib(buf.getvalue())["mullerlukasz2025omni"]
    title = omni["title"]
    for escaped in (r"Omni\_R1", r"Audio \& Video", r"100\%", r"\{Two\}", r"\$RL\$", r"\#1",
                    r"\textasciitilde{}", r"\textasciicircum{}", r"\textbackslash{}z"):
        assert escaped in title, escaped
    assert omni["author"] == "Zoë Müller-Łukasz and Ana de la Cruz"
    # every brace in the file is balanced, so BibTeX and Zotero see the same field boundaries
    depth = 0
    text = buf.getvalue().replace(r"\{", "").replace(r"\}", "")
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_latex_escape() -> None:
    assert latex_escape("a & b_c\n  d") == r"a \& b\_c d"
    assert latex_escape("\\{}") == r"\textbackslash{}\{\}"


def test_citation_keys_are_stable_as_the_database_grows(tdb, tmp_path: Path) -> None:
    before = compute_citation_keys(tdb)
    newcomer = {
        "paperId": "cccc000000000000000000000000000000000001",
        "title": "Vision Beyond Words",  # huang + 2025 + vision again
        "year": 2025,
        "authors": [{"authorId": "103", "name": "Wenxuan Huang"}],
    }
    import_files(tdb, [write_jsonl(tmp_path / "new.jsonl", [newcomer])])
    after = compute_citation_keys(tdb)
    assert {k: after[k] for k in before} == before
    assert after["cccc000000000000000000000000000000000001"] == "huang2025visionc"
    assert len(set(after.values())) == len(after)


def test_bibtex_relevance_filter(tdb) -> None:
    buf = io.StringIO()
    assert export_bibtex(tdb, buf, relevance=["core"]).papers == 5
    assert "zhou2025reinforced" not in _bib(buf.getvalue())


# --- CSV -----------------------------------------------------------------------------------


def test_csv_one_row_per_paper_one_column_per_facet(tdb) -> None:
    buf = io.StringIO()
    assert export_csv(tdb, buf).papers == 8
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(rows) == 8
    assert list(rows[0])[-len(FACETS) - 1:] == [*FACETS, "abstract"]
    omni = next(r for r in rows if r["paper_id"] == pid(4))
    assert omni["modality"] == "audio;video"
    assert omni["reward"] == "model;process"
    assert omni["algorithm"] == "dpo;grpo"
    assert omni["authors"] == "Zoë Müller-Łukasz;Ana de la Cruz"
    assert omni["title"].startswith("Omni_R1 <AV> | *Beta*:")
    blank = next(r for r in rows if r["paper_id"] == pid(8))
    assert blank["title"] == "" and blank["modality"] == "" and blank["relevance"] == "other"


# --- GraphML and GEXF ----------------------------------------------------------------------


def _check_graph(G: nx.DiGraph) -> None:
    assert G.number_of_nodes() == 8
    assert G.number_of_edges() == 12  # citations whose both ends are stored
    for n, data in G.nodes(data=True):
        for k, v in data.items():
            assert v is not None and not isinstance(v, (list, dict, set, tuple)), (n, k, v)
        for facet in FACETS:
            assert isinstance(data[facet], str)
        assert isinstance(data["pagerank"], float) and data["pagerank"] > 0
        assert isinstance(data["community"], int)
        assert isinstance(data["community_name"], str)
    v = G.nodes[pid(2)]
    assert v["label"] == "Vision-R1"
    assert v["year"] == 2025 and isinstance(v["year"], int)
    assert v["modality"] == "image" and v["relevance"] == "core"
    assert v["authors"] == "Wenxuan Huang;Bohan Jia"
    assert v["in_corpus_citations"] == 5
    assert G.nodes[pid(4)]["modality"] == "audio;video"
    assert G.nodes[pid(8)]["modality"] == ""
    assert "year" not in G.nodes[pid(8)] or G.nodes[pid(8)]["year"] == 2025
    assert G.has_edge(pid(3), pid(2)) and not G.has_edge(pid(2), pid(3))
    ranks = sorted(G.nodes, key=lambda n: -G.nodes[n]["pagerank"])
    assert ranks[0] in (pid(2), pid(5))  # the most cited papers lead


def test_graphml_reads_back_in_networkx(tdb, tmp_path: Path) -> None:
    out = tmp_path / "g.graphml"
    report = export_graphml(tdb, out)
    assert (report.papers, report.edges) == (8, 12)
    _check_graph(nx.read_graphml(out))


def test_gexf_reads_back_in_networkx(tdb, tmp_path: Path) -> None:
    out = tmp_path / "g.gexf"
    export_gexf(tdb, out)
    G = nx.read_gexf(out)
    _check_graph(G)
    text = out.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<gexf ')
    assert 'label="Vision-R1"' in text  # Gephi shows this as the node label


def test_graph_export_to_binary_stream_and_core_only(tdb) -> None:
    buf = io.BytesIO()
    report = export_graphml(tdb, buf, relevance=["core"])
    assert report.papers == 5
    G = nx.read_graphml(io.BytesIO(buf.getvalue()))
    assert set(G.nodes) == {pid(2), pid(3), pid(4), pid(6), pid(7)}
    assert all(G.nodes[n]["relevance"] == "core" for n in G)


def test_empty_database_exports(db, tmp_path: Path) -> None:
    for fmt in ("bibtex", "csv", "graphml", "gexf", "jsonl"):
        out = tmp_path / f"empty.{fmt}"
        assert export_database(db, out, format=fmt).papers == 0
        assert out.exists()
    assert nx.read_graphml(tmp_path / "empty.graphml").number_of_nodes() == 0
    assert nx.read_gexf(tmp_path / "empty.gexf").number_of_nodes() == 0


# --- JSONL round trip ----------------------------------------------------------------------


def _records(df) -> list[dict[str, object]]:
    return df.astype(object).where(df.notna(), None).to_dict("records")  # NaN != NaN; None == None


def _content(db) -> dict[str, object]:
    papers = store.load_papers(db).drop(columns=["first_seen", "updated_at", "hop"])
    ext = {p["paper_id"]: p["external_ids"] for p in store.iter_papers(db, columns=("paper_id", "external_ids"))}
    return {
        "papers": _records(papers),
        "external_ids": ext,
        "authors": sorted(db.execute("SELECT author_id, name FROM authors").fetchall()),
        "paper_authors": sorted(db.execute("SELECT paper_id, author_id, position FROM paper_authors").fetchall()),
        "citations": _records(store.load_citations(db, stored_only=False)),
    }


def test_jsonl_round_trip_gives_the_same_database(tdb, tmp_path: Path) -> None:
    out = tmp_path / "dump.jsonl"
    report = export_jsonl(tdb, out)
    assert report.papers == 8
    assert report.edges == 14 and report.skipped_edges == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all("paperId" in obj and isinstance(obj["references"], list) for obj in lines)
    fresh = store.open_db(tmp_path / "fresh.db")
    import_files(fresh, [out])
    assert _content(fresh) == _content(tdb)
    # the influential, intent-carrying edge survived
    edge = fresh.execute(
        "SELECT is_influential, intents FROM citations WHERE citing_id = ? AND cited_id = ?", [pid(1), pid(4)]
    ).fetchone()
    assert edge == (1, '["background", "methodology"]')
    # and a second export of the copy is byte-identical
    again = tmp_path / "again.jsonl"
    export_jsonl(fresh, again)
    assert again.read_bytes() == out.read_bytes()
    fresh.conn.close()


# --- errors and the CLI --------------------------------------------------------------------


def test_unknown_format_and_missing_folder(tdb, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="unknown export format"):
        export_database(tdb, tmp_path / "x", format="ris")
    with pytest.raises(BadInput, match="does not exist"):
        export_csv(tdb, tmp_path / "missing" / "x.csv")
    assert not list(tmp_path.glob("*.part"))


def test_export_command_every_format(tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "t.db"
    build_taxonomy_db(path).conn.close()
    for fmt, suffix in (("bibtex", "bib"), ("csv", "csv"), ("graphml", "graphml"), ("gexf", "gexf"),
                        ("jsonl", "jsonl")):
        out = tmp_path / f"out.{suffix}"
        res = runner.invoke(cli, ["export", "--db", str(path), "--format", fmt, "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert res.stderr.startswith("Wrote 8 papers")
        assert out.stat().st_size > 0
    res = runner.invoke(cli, ["export", "--db", str(path), "--format", "csv", "--out", "-", "--relevance", "core"])
    assert res.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(res.stdout)))) == 5
    res = runner.invoke(cli, ["export", "--db", str(path), "--format", "bibtex", "--out", str(tmp_path / "k.bib"),
                              "--json"])
    assert json.loads(res.stdout)["papers"] == 8


def test_export_command_errors(tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "t.db"
    build_taxonomy_db(path).conn.close()
    res = runner.invoke(cli, ["export", "--db", str(path), "--format", "ris", "--out", "x"])
    assert res.exit_code == 2 and res.stderr.startswith("Error: Invalid value for '--format'")
    res = runner.invoke(cli, ["export", "--db", str(path), "--format", "csv", "--out", str(tmp_path / "no" / "x")])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"Error: cannot write {tmp_path / 'no' / 'x'}: folder {tmp_path / 'no'} does not exist"
    res = runner.invoke(cli, ["export", "--db", str(tmp_path / "none.db"), "--format", "csv", "--out", "x.csv"])
    assert res.exit_code == 1 and res.stderr.startswith("Error: no database at")


# --- real data -----------------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_corpus_bibtex_and_round_trip(shared_data: Path, tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "real.db")
    import_files(db, [shared_data / "corpus.jsonl"])
    n = store.paper_count(db)
    buf = io.StringIO()
    assert export_bibtex(db, buf).papers == n
    assert len(_bib(buf.getvalue())) == n  # every key unique, every entry parsed
    dump = tmp_path / "dump.jsonl"
    export_jsonl(db, dump)
    fresh = store.open_db(tmp_path / "fresh.db")
    import_files(fresh, [dump])
    assert _content(fresh) == _content(db)


def test_jsonl_of_an_older_database_with_implausible_dates_imports_back(db, tmp_path: Path) -> None:
    rows = [("good", 2025, "2025-03-09"), ("far", 10000, "10000-01-01"), ("day", 2024, "yesterday"),
            ("leap", 2025, "2025-02-30"), ("huge", 2**63 - 1, None)]
    db.conn.executemany("INSERT INTO papers (paper_id, title, year, publication_date) VALUES (?, ?, ?, ?)",
                        [(p, f"Paper {p}", y, d) for p, y, d in rows])
    out = tmp_path / "old.jsonl"
    assert export_jsonl(db, out).papers == 5
    fresh = store.open_db(tmp_path / "fresh.db")
    import_files(fresh, [out])  # would refuse the implausible values: they are written as unknown
    got = fresh.execute("SELECT paper_id, year, publication_date FROM papers ORDER BY paper_id").fetchall()
    assert got == [("day", 2024, None), ("far", None, None), ("good", 2025, "2025-03-09"),
                   ("huge", None, None), ("leap", 2025, None)]


def test_jsonl_round_trip_of_bulk_dataset_records(db, tmp_path: Path) -> None:
    """Bulk records (lower-case keys, no paperId) come back with the same ids, arXiv id and DOI."""
    bulk = [
        {"corpusid": 11, "externalids": {"arxiv": "2501.00011", "doi": "10.5/ABC"}, "title": "Bulk one",
         "year": 2025, "authors": [{"authorId": "9", "name": "A. Author"}]},
        {"corpusid": 12, "externalids": {"ArXiv": "2501.00012"}, "title": "Bulk two", "year": 2025,
         "url": "https://www.semanticscholar.org/paper/" + "d" * 40},
        {"citingcorpusid": 11, "citedcorpusid": 12, "isinfluential": False},
    ]
    import_files(db, [write_jsonl(tmp_path / "bulk.jsonl", bulk)])
    out = tmp_path / "dump.jsonl"
    export_jsonl(db, out)
    fresh = store.open_db(tmp_path / "fresh.db")
    import_files(fresh, [out])
    cols = ["paper_id", "corpus_id", "arxiv_id", "doi", "title", "year", "url"]
    assert _records(store.load_papers(fresh)[cols]) == _records(store.load_papers(db)[cols])
    assert _records(store.load_citations(fresh)) == _records(store.load_citations(db))
    assert store.load_authors(fresh) == store.load_authors(db)
    fresh.conn.close()
