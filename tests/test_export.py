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


# --- where the output goes: never onto the database, through symlinks, onto devices ---------


def _papers_in(path: Path) -> int:
    d = store.open_db(path, create=False)
    try:
        return store.paper_count(d)
    finally:
        d.conn.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "bibtex", "graphml", "gexf"])
def test_export_onto_the_database_is_refused(tmp_path: Path, runner, fmt: str) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "ow.db"
    build_taxonomy_db(path).conn.close()
    res = runner.invoke(cli, ["export", "--format", fmt, "--out", str(path), "--db", str(path)])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        f"Error: --out {path} is the database; writing there would destroy it; choose another file"
    ]
    assert _papers_in(path) == 8


def test_output_onto_the_database_or_its_siblings_is_refused(tmp_path: Path, runner, monkeypatch) -> None:
    from rlmllm_graph.cli import cli

    path = tmp_path / "ow.db"
    build_taxonomy_db(path).conn.close()
    (tmp_path / "link.db").symlink_to(path)
    (tmp_path / "hard.db").hardlink_to(path)
    for out in (str(path), str(tmp_path / "link.db"), str(tmp_path / "hard.db"),
                str(tmp_path / "sub" / ".." / "ow.db"), str(path) + "-wal", str(path) + "-shm",
                str(path) + "-journal"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        for args in (["export", "--format", "csv", "--out", out], ["table", "--out", out]):
            res = runner.invoke(cli, [*args, "--db", str(path)])
            assert res.exit_code == 2, (args, res.output)
            assert len(res.stderr.splitlines()) == 1 and "writing there would destroy it" in res.stderr
    # the database named by RLMLLM_DB instead of --db
    monkeypatch.setenv("RLMLLM_DB", str(path))
    for args in (["export", "--format", "jsonl", "--out", str(path)], ["table", "--out", str(path)]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 2 and "is the database" in res.stderr
    assert _papers_in(path) == 8
    assert not (tmp_path / "ow.db-journal").exists()


def test_export_writes_through_a_symlink(tdb, tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    target = tmp_path / "target.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    res = runner.invoke(cli, ["export", "--db", str(tmp_path / "taxonomy.db"), "--format", "csv", "--out", str(link)])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("paper_id,title,")
    assert target.stat().st_mode & 0o777 == 0o640  # the file replaced keeps its mode
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to("new.csv")
    export_csv(tdb, dangling)
    assert dangling.is_symlink() and (tmp_path / "new.csv").read_text().startswith("paper_id,")
    assert not list(tmp_path.glob("*.part"))


def test_export_writes_directly_to_a_fifo(tdb, tmp_path: Path, runner) -> None:
    # a FIFO stands for every non-regular file (devices too): the code before this fix renamed its
    # temporary file over the target, so this test must never be pointed at a real device
    import os
    import stat
    import threading

    from rlmllm_graph.cli import cli

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for run in (lambda: export_jsonl(tdb, fifo),
                lambda: runner.invoke(cli, ["export", "--db", str(tmp_path / "taxonomy.db"), "--format", "bibtex",
                                            "--out", str(fifo)])):
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
        reader.start()
        result = run()
        reader.join(10)
        assert stat.S_ISFIFO(fifo.stat().st_mode)
        assert got and got[0]
        assert getattr(result, "exit_code", 0) == 0
    assert len(_bib(got[0].decode())) == 8  # the bibtex entries went through the FIFO
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("fifo.*"))


def test_output_under_a_regular_file_is_a_usage_error(tdb, tmp_path: Path, runner) -> None:
    from rlmllm_graph.cli import cli

    afile = tmp_path / "afile"
    afile.write_text("x")
    for args in (["export", "--format", "csv"], ["export", "--format", "gexf"], ["table"]):
        out = afile / "x.out"
        res = runner.invoke(cli, [*args, "--db", str(tmp_path / "taxonomy.db"), "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert res.stderr.splitlines() == [f"Error: cannot write {out}: {afile} is a file, not a folder"]
    with pytest.raises(BadInput, match="is a file, not a folder"):
        export_csv(tdb, afile / "x.csv")


def _full_disk(*args, **kwargs):
    import errno
    import os

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_out_of_space_is_one_plain_line(tdb, tmp_path: Path, runner, monkeypatch) -> None:
    import csv as csv_mod
    import io as io_mod

    from rlmllm_graph import export as export_mod
    from rlmllm_graph.cli import cli

    out = tmp_path / "out.csv"
    out.write_text("before\n")

    class FullWriter:
        def __init__(self, fh) -> None:
            self.writerow = _full_disk

    monkeypatch.setattr(export_mod.csv, "writer", FullWriter)
    res = runner.invoke(cli, ["export", "--db", str(tmp_path / "taxonomy.db"), "--format", "csv", "--out", str(out)])
    monkeypatch.setattr(export_mod.csv, "writer", csv_mod.writer)
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"Error: cannot write: No space left on device ({out})"]
    assert out.read_text() == "before\n"  # the old file is kept whole
    assert not list(tmp_path.glob("*.part"))

    class FullFile(io_mod.StringIO):
        write = _full_disk

    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, mode="r", *a, **k: FullFile() if "w" in mode
                        else real_open(self, mode, *a, **k))
    res = runner.invoke(cli, ["table", "--db", str(tmp_path / "taxonomy.db"), "--out", str(tmp_path / "t.md")])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"Error: cannot write: No space left on device ({tmp_path / 't.md'})"]


def test_export_to_dev_stdout_appends_to_the_callers_file(tmp_path):
    """``--out /dev/stdout`` (or /proc/self/fd/1) writes into the caller's open file, as `>>` asked, and never
    replaces the link or the file behind it."""
    import subprocess
    import sys

    db_path = tmp_path / "a.db"
    import_files(store.open_db(db_path), [FIXTURES / "mini_corpus.jsonl"])
    log = tmp_path / "app.log"
    for target in ("/dev/stdout", "/proc/self/fd/1"):
        log.write_text("old line\n")
        with log.open("a") as fh:
            r = subprocess.run([sys.executable, "-m", "rlmllm_graph", "export", "--db", str(db_path),
                                "--format", "csv", "--out", target], stdout=fh, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, r.stderr
        lines = log.read_text().splitlines()
        assert lines[0] == "old line" and lines[1].startswith("paper_id,title") and len(lines) >= 5, target
    assert Path("/dev/stdout").is_symlink()
