"""Classifier throughput: papers per second on 50,000 papers, beside the keyword-only baseline.

Papers are drawn (with replacement, seeded) from ../shared/data/corpus.jsonl, so
the mix of title-only papers and papers with abstracts is the real one (about 7%
have abstracts); a second run uses only papers with abstracts, the worst case.
Without ../shared/data the labelled papers the classifier trains on are the pool.
Training (once per process, on first use) is timed apart from classifying. The
headline figure is one process; the line below it uses one process per core, as
``classify`` does for large inputs.

    .venv/bin/python benchmarks/classify_bench.py           # 50,000 papers
    .venv/bin/python benchmarks/classify_bench.py --quick   # 5,000 papers
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

from rlmllm_graph.classify import get_classifier, keyword_labels, load_labelled, load_lexicon
from rlmllm_graph.classify.classifier import PARALLEL_FROM

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "corpus.jsonl"
TARGET = 2000.0


def pool() -> tuple[list[dict], str]:
    if SHARED.exists():
        recs = []
        with SHARED.open() as fh:
            for line in fh:
                r = json.loads(line)
                recs.append({"paper_id": r["paperId"], "title": r.get("title"), "abstract": r.get("abstract")})
        return recs, str(SHARED)
    return [{"paper_id": p.paper_id, "title": p.title, "abstract": p.abstract} for p in load_labelled()], "the training labels"


def sample(recs: list[dict], n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [dict(rng.choice(recs), paper_id=f"bench{i}") for i in range(n)]


def run(name: str, papers: list[dict]) -> None:
    clf = get_classifier()
    lex = load_lexicon()
    t = time.perf_counter()
    for p in papers:
        keyword_labels(lex.scan(p["title"], p["abstract"]))
    kw = len(papers) / (time.perf_counter() - t)
    t = time.perf_counter()
    out = clf.predict(papers)
    ours = len(papers) / (time.perf_counter() - t)
    assert len(out) == len(papers)
    t = time.perf_counter()
    clf.predict(papers, workers=None)
    par = len(papers) / (time.perf_counter() - t)
    with_abs = sum(1 for p in papers if p["abstract"])
    status = "meets" if ours >= TARGET else "BELOW"
    print(f"{name}: {len(papers):,} papers ({with_abs:,} with abstract)")
    print(f"  classifier (rules + models, with evidence)  {ours:>9,.0f} papers/s   target {TARGET:,.0f}: {status}")
    print(f"  the same, one process per core ({os.cpu_count()})       {par:>9,.0f} papers/s   "
          f"(classify and --input use this from {PARALLEL_FROM:,} papers)")
    print(f"  keyword-only baseline                        {kw:>9,.0f} papers/s")
    print(f"  ratio classifier / keyword baseline          {ours / kw:>9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 papers instead of 50,000")
    ap.add_argument("-n", type=int, default=None, help="number of papers")
    args = ap.parse_args()
    n = args.n or (5_000 if args.quick else 50_000)
    recs, source = pool()
    t = time.perf_counter()
    clf = get_classifier()
    print(f"training on first use: {time.perf_counter() - t:.1f} s ({clf.trained_on} labelled papers); pool: {source}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work on the machine slows "
          "every figure, the one-process-per-core one most)")
    run("corpus mix", sample(recs, n))
    run("abstracts only (worst case)", sample([r for r in recs if r["abstract"]], n, seed=1))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
