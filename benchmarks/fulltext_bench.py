"""Full text: section-aware classification throughput, its accuracy beside the naive readings, and the fetch figures.

(a) Throughput: 5,000 papers of full text, each built from the labelled full-text papers in
    tests/fixtures/fulltext/gold.jsonl: every section of a synthetic paper joins the sentences of several
    sections of the same kind (introduction, related work, method, experiments, appendix) drawn at random,
    shuffled, to about 1,000 words a section: some 5,000 words a paper, like a real one (but denser in mentions
    of algorithms and rewards, so a pessimistic load). Target: at least 50 papers/s.
    Beside it: the same papers read as title and abstract only, and with the sections pasted into the abstract.
(b) Accuracy on the labelled set: per-facet micro-F1 of the section-aware classifier, of the same classifier
    reading the sections pasted into the abstract, and of title and abstract alone (classify.evaluate's scores);
    for all papers and for the "fresh" ones (written after the sentence cues were fixed, never tuned on).
(d) The same comparison on benchmarks/data/fulltext_blind.jsonl: 49 papers written and labelled by a
    team member who never saw the classifier (a held-out check; never tuned on).
(c) The fetch figures of benchmarks/fulltext_fetch.py (requests per paper, bytes stored per paper), when present.

    .venv/bin/python benchmarks/fulltext_bench.py            # 5,000 papers
    .venv/bin/python benchmarks/fulltext_bench.py --quick    # 500 papers
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from pathlib import Path

from rlmllm_graph.classify import get_classifier
from rlmllm_graph.classify.fulltext_eval import READINGS, compare_readings, pasted, read_fulltext_gold
from rlmllm_graph.classify.sections import section_role, split_sentences
from rlmllm_graph.classify.vocabulary import FACETS

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "fixtures" / "fulltext" / "gold.jsonl"
BLIND = ROOT / "benchmarks" / "data" / "fulltext_blind.jsonl"
TARGET = 50.0
KINDS = ("introduction", "related", "method", "experiments", "appendix")


def _kind(title: str) -> str:
    t = title.lower()
    if "introduction" in t:
        return "introduction"
    if re.search(r"related|background|preliminar", t):
        return "related"
    if re.match(r"\s*[a-z](\.\d+)*\s", t) or "appendix" in t:
        return "appendix"
    role = section_role(title)
    return "method" if role in ("used", "unknown") else "experiments"


def synthetic(records: list[dict], n: int, *, seed: int = 0, words_per_section: int = 1000) -> list[dict]:
    """``n`` papers of full text sampled and perturbed from ``records`` (see the module docstring)."""
    rng = random.Random(seed)
    pool: dict[str, list[tuple[str, list[str]]]] = {k: [] for k in KINDS}
    for r in records:
        for s in r["sections"]:
            pool[_kind(s["title"])].append((s["title"], split_sentences(s["text"])))
    out = []
    for i in range(n):
        base = rng.choice(records)
        sections = []
        for kind in KINDS:
            if not pool[kind]:
                continue
            title, sentences, words = None, [], 0
            while words < words_per_section:
                t, ss = rng.choice(pool[kind])
                title = title or t
                sentences += ss
                words += sum(len(x.split()) for x in ss)
            rng.shuffle(sentences)
            sections.append({"title": title, "text": " ".join(sentences)})
        out.append({"paper_id": f"bench{i}", "title": base["title"], "abstract": base["abstract"],
                    "sections": sections})
    return out


def throughput(n: int) -> None:
    records, _ = read_fulltext_gold(GOLD.read_text().splitlines(), source=str(GOLD))
    clf = get_classifier()  # trained here, outside the timings
    papers = synthetic(records, n)
    words = sum(len(s["text"].split()) for p in papers for s in p["sections"]) / len(papers)
    print(f"(a) throughput on {n:,} papers of full text ({words:,.0f} words of sections a paper, from {len(records)} "
          "labelled papers)")
    runs = [
        ("section-aware", papers),
        ("sections pasted into abstract", [pasted(p) for p in papers]),
        ("title and abstract only", [{k: p[k] for k in ("paper_id", "title", "abstract")} for p in papers]),
    ]
    rates = {}
    for name, batch in runs:
        t, c = time.perf_counter(), time.process_time()
        out = clf.predict(batch)
        rates[name] = (len(batch) / (time.perf_counter() - t), len(batch) / (time.process_time() - c))
        assert len(out) == len(batch)
    t = time.perf_counter()
    assert len(clf.predict(papers, workers=None)) == len(papers)  # what `classify` does: every core
    every = len(papers) / (time.perf_counter() - t)
    print(f"    {'reading (one process)':<32} {'papers/s':>10} {'per CPU-s':>10}")
    for name, (w, c) in rates.items():
        print(f"    {name:<32} {w:>10,.0f} {c:>10,.0f}")
    print(f"    {'section-aware, every core':<32} {every:>10,.0f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"    section-aware on {os.cpu_count()} cores (as `classify` runs it): {every:,.0f} papers/s against a "
          f"target of {TARGET:.0f} ({every / TARGET:.1f}x; {'met' if every >= TARGET else 'NOT met'}); "
          f"load average {load:.1f} while measuring (other work on the machine slows every figure)")


def accuracy() -> None:
    records, gold = read_fulltext_gold(GOLD.read_text().splitlines(), source=str(GOLD))
    fresh = [i for i, line in enumerate(GOLD.read_text().splitlines()) if '"split": "fresh"' in line]
    clf = get_classifier()
    print(f"\n(b) per-facet micro-F1 on the labelled full-text set ({len(records)} papers, written by us from real "
          "papers; see tests/fixtures/fulltext/README.md)")
    for name, what in READINGS.items():
        print(f"    {name:<15} {what}")
    for label, idx in (("all papers", range(len(records))), ("fresh papers only", fresh)):
        if not idx:
            continue
        scores = compare_readings([records[i] for i in idx], [gold[i] for i in idx], classifier=clf)
        print(f"\n    {label} ({len(idx)})")
        print(f"    {'facet':<12}" + "".join(f"{name:>16}" for name in READINGS))
        for facet in FACETS:
            print(f"    {facet:<12}" + "".join(f"{scores[name][facet].micro['f1']:>16.3f}" for name in READINGS))


def blind_accuracy() -> None:
    """The same comparison on a set written and labelled by someone who never saw the classifier."""
    records, gold = read_fulltext_gold(BLIND.read_text().splitlines(), source=str(BLIND))
    scores = compare_readings(records, gold)  # trained without any paper of the set
    print(f"\n(d) per-facet micro-F1 on the blind full-text set ({len(records)} papers, written and labelled blind "
          "to the classifier, scored without tuning; see benchmarks/data/README.md)")
    print(f"    {'facet':<12}" + "".join(f"{name:>16}" for name in READINGS))
    for facet in FACETS:
        print(f"    {facet:<12}" + "".join(f"{scores[name][facet].micro['f1']:>16.3f}" for name in READINGS))


def fetch_figures() -> None:
    print("\n(c) fetching full text (benchmarks/fulltext_fetch.py)")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import fulltext_fetch  # type: ignore[import-not-found]
    except ImportError:
        print("    not available")
        return
    figures = fulltext_fetch.measure()
    for key, value in figures.items():
        print(f"    {key:<40} {value}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 papers instead of 5,000")
    ap.add_argument("--papers", type=int, default=None, help="how many synthetic papers to classify")
    args = ap.parse_args()
    throughput(args.papers or (500 if args.quick else 5000))
    accuracy()
    blind_accuracy()
    fetch_figures()


if __name__ == "__main__":
    main()
