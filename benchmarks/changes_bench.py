"""What recording changes adds to a refresh, at scale.

    .venv/bin/python benchmarks/changes_bench.py [--quick] [--papers N]

Builds a database of N papers (default 100,000), 10 edges and 4 labels a
paper, then times the two hooks every refresh runs (``changes.begin_run``:
label diff and checkpoint; ``changes.finish_run``: stand-in merge, new papers,
in-corpus citation counts) and ``compute_changes`` after 1% of the labels and
100 edges changed between the two runs. Baseline: the in-corpus count as one SQL join of
``citations`` with ``papers`` on both ends and a GROUP BY (what
``finish_run`` first did).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from pathlib import Path

from rlmllm_graph import changes, store
from rlmllm_graph.records import Paper

BASELINE_SQL = (
    "SELECT count(*) FROM (SELECT c.cited_id, count(*) FROM citations c JOIN papers a ON a.paper_id = c.citing_id "
    "JOIN papers b ON b.paper_id = c.cited_id WHERE c.citing_id != c.cited_id GROUP BY c.cited_id)"
)


def build(path: Path, n: int) -> tuple[object, list[str]]:
    db = store.open_db(path)
    ids = [hashlib.sha1(f"p{i}".encode()).hexdigest() for i in range(n)]
    rng = random.Random(0)
    with store.bulk_write(db):
        store.upsert_papers(db, [Paper(paper_id=p, title=f"Paper {i}", arxiv_id=f"{2300 + i // 99999}.{i % 99999:05d}")
                                 for i, p in enumerate(ids)])
        store.upsert_citations(db, [(ids[rng.randrange(n)], ids[rng.randrange(n)], None, None) for _ in range(10 * n)])
        db.conn.executemany(
            "INSERT OR IGNORE INTO labels (paper_id, facet, value, confidence, source, evidence) VALUES (?, ?, ?, 0.9, 'rules', '')",
            [(p, f, v) for p in ids for f, v in (("relevance", "core"), ("modality", "image"), ("algorithm", "grpo"),
                                                ("reward", "rule"))],
        )
    return db, ids


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="20,000 papers")
    args = ap.parse_args()
    n = 20_000 if args.quick else args.papers
    with tempfile.TemporaryDirectory() as tmp:
        db, ids = build(Path(tmp) / "bench.db", n)
        rng = random.Random(1)
        print(f"{n:,} papers, {10 * n:,} edges, {4 * n:,} labels")
        for run in (1, 2):
            db.execute("INSERT INTO crawl_runs (run_id, started_at, status) VALUES (?, ?, 'done')", [run, store.now_iso()])
            if run == 2:
                db.execute("UPDATE labels SET value = 'video' WHERE facet = 'modality' AND paper_id IN "
                           f"(SELECT paper_id FROM papers LIMIT {n // 100})")
                store.upsert_citations(db, [(ids[rng.randrange(n)], ids[7], None, None) for _ in range(100)])
            with store.transaction(db):
                tb, _ = timed(lambda: changes.begin_run(db, run))
            with store.transaction(db):
                tf, done = timed(lambda: changes.finish_run(db, run))
            print(f"run {run}: begin_run {tb:.2f} s, finish_run {tf:.2f} s ({done})")
        tc, c = timed(lambda: changes.compute_changes(db))
        print(f"compute_changes (run 2): {tc:.2f} s ({c.counts['citation_jumps']} jump)")
        tc, c = timed(lambda: changes.compute_changes(db, since="1"))
        print(f"compute_changes --since 1: {tc:.2f} s ({c.counts['new_papers']:,} new papers, "
              f"{c.counts['label_changes']:,} label changes)")
        from rlmllm_graph.store import changes as cs

        with store.transaction(db):
            ours, _ = timed(lambda: cs.record_citation_counts(db, 3))
        base, _ = timed(lambda: db.execute(BASELINE_SQL).fetchone())
        print(f"in-corpus counts: ours {ours:.2f} s (one scan, counted in Python) vs baseline {base:.2f} s "
              f"(SQL join + GROUP BY): {base / max(ours, 1e-9):.1f}x")
        db.conn.close()


if __name__ == "__main__":
    main()
