"""Import throughput: `rlmllm-graph import` beside a bare sqlite3.executemany baseline.

Generates a Semantic Scholar-shaped corpus (default 100,000 papers, 1,000,000
reference edges), then in the same run:
  * ours:     rlmllm_graph.ingest.import_files (the code path of `rlmllm-graph import`:
              parse, validate, merge-upsert, authors, FTS index, one transaction)
  * baseline: json.loads each line + plain INSERTs with sqlite3.executemany into the
              same tables without merging, validation or full-text index.
Prints papers/s and edges/s of both and the ratio (target: ours ≥ 0.5 × baseline).

    .venv/bin/python benchmarks/import_bench.py            # 100k papers, 1M edges
    .venv/bin/python benchmarks/import_bench.py --quick    # 10k papers, 100k edges
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rlmllm_graph import ingest, store  # noqa: E402

WORDS = ("reinforcement learning multimodal reasoning vision language model reward policy optimization "
         "grpo video audio benchmark chain thought verifiable rule process step grounding").split()


def generate(path: Path, n_papers: int, n_edges: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    ids = [f"{i:040x}" for i in range(n_papers)]
    per = n_edges // n_papers
    with path.open("w") as fh:
        for i, pid in enumerate(ids):
            refs = set()
            while len(refs) < per:
                j = rng.randrange(n_papers)
                if j != i:
                    refs.add(ids[j])
            rec = {
                "paperId": pid,
                "externalIds": {"ArXiv": f"25{rng.randrange(1, 13):02d}.{i % 100000:05d}", "CorpusId": i + 1},
                "title": " ".join(rng.choices(WORDS, k=8)).title(),
                "abstract": " ".join(rng.choices(WORDS, k=40)),
                "year": rng.choice((2023, 2024, 2025)),
                "publicationDate": f"2025-{rng.randrange(1, 13):02d}-01",
                "venue": "arXiv.org",
                "citationCount": rng.randrange(100),
                "referenceCount": per,
                "authors": [{"authorId": str(rng.randrange(n_papers // 2)), "name": f"Author {k}"}
                            for k in range(3)],
                "references": sorted(refs),
            }
            fh.write(json.dumps(rec) + "\n")


def baseline(path: Path, db_file: Path, *, same_schema: bool) -> float:
    """json.loads + plain INSERTs with executemany, one transaction.

    same_schema: into a database made by rlmllm-graph itself (same tables, indexes,
    full-text triggers, WAL); otherwise into bare tables with primary keys only.
    """
    if same_schema:
        store.open_db(db_file).conn.close()
        conn = sqlite3.connect(db_file)
    else:
        conn = sqlite3.connect(db_file)
        conn.executescript(
            "CREATE TABLE papers (paper_id TEXT PRIMARY KEY, corpus_id INT, arxiv_id TEXT, title TEXT, abstract TEXT,"
            " year INT, publication_date TEXT, venue TEXT, citation_count INT, reference_count INT);"
            "CREATE TABLE authors (author_id TEXT PRIMARY KEY, name TEXT);"
            "CREATE TABLE paper_authors (paper_id TEXT, author_id TEXT, position INT, PRIMARY KEY (paper_id, position));"
            "CREATE TABLE citations (citing_id TEXT, cited_id TEXT, PRIMARY KEY (citing_id, cited_id));"
        )
    cols = "paper_id, corpus_id, arxiv_id, title, abstract, year, publication_date, venue, citation_count, reference_count"
    t0 = time.perf_counter()
    papers, authors, links, edges = [], {}, [], []
    for line in path.open():
        r = json.loads(line)
        papers.append((r["paperId"], r["externalIds"].get("CorpusId"), r["externalIds"].get("ArXiv"), r["title"],
                       r["abstract"], r["year"], r["publicationDate"], r["venue"], r["citationCount"],
                       r["referenceCount"]))
        for pos, a in enumerate(r["authors"]):
            authors[a["authorId"]] = a["name"]
            links.append((r["paperId"], a["authorId"], pos))
        edges.extend((r["paperId"], c) for c in r["references"])
    with conn:
        conn.executemany(f"INSERT INTO papers ({cols}) VALUES (?,?,?,?,?,?,?,?,?,?)", papers)
        conn.executemany("INSERT INTO authors (author_id, name) VALUES (?,?)", authors.items())
        conn.executemany("INSERT INTO paper_authors (paper_id, author_id, position) VALUES (?,?,?)", links)
        conn.executemany("INSERT INTO citations (citing_id, cited_id) VALUES (?,?)", edges)
    conn.close()
    return time.perf_counter() - t0


def ours(path: Path, db_file: Path) -> tuple[float, ingest.ImportReport]:
    db = store.open_db(db_file)
    t0 = time.perf_counter()
    report = ingest.import_files(db, [path])
    db.conn.close()  # closing checkpoints the WAL: part of the cost, as in the CLI
    dt = time.perf_counter() - t0
    return dt, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="10k papers, 100k edges")
    args = ap.parse_args()
    if args.quick:
        args.papers, args.edges = 10_000, 100_000
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        corpus = t / "corpus.jsonl"
        t0 = time.perf_counter()
        generate(corpus, args.papers, args.edges)
        print(f"generated {args.papers:,} papers, {args.edges:,} edges "
              f"({corpus.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        same = baseline(corpus, t / "baseline_same.db", same_schema=True)
        bare = baseline(corpus, t / "baseline_bare.db", same_schema=False)
        o, rep = ours(corpus, t / "ours.db")
        assert rep.papers_added == args.papers and rep.citations_added == args.edges, rep
    rows = [
        ("baseline: executemany, same schema", same),
        ("baseline: executemany, bare tables", bare),
        ("rlmllm-graph import", o),
    ]
    print(f"{'':<40}{'papers/s':>12}{'edges/s':>12}{'seconds':>10}")
    for name, secs in rows:
        print(f"{name:<40}{args.papers / secs:>12,.0f}{args.edges / secs:>12,.0f}{secs:>10.2f}")
    for name, secs in rows[:2]:
        ratio = secs / o
        print(f"speed ratio ours / {name.split(': ')[1]}: {ratio:.2f} "
              f"(target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
