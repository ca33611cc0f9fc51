"""A big synthetic citation database for the large browser tests and benchmarks/site_bench.py.

``fill_big_db(db, n, edges)`` writes ``n`` papers in topical clusters (titles and
abstracts drawn from a word list, 1 to 4 authors, a year and month), ``edges``
citations (80% inside a paper's own cluster, always from a newer to an older
paper) and labels with evidence and evidence source. About 15% of the papers
cite and are cited by nothing in the corpus (isolated), as in a real crawl with
field queries. Deterministic for a seed.
"""

from __future__ import annotations

import hashlib

import numpy as np

from rlmllm_graph import store
from rlmllm_graph.records import Author, Paper

__all__ = ["fill_big_db", "paper_id"]

WORDS = (
    "reinforcement learning multimodal reasoning vision language model policy reward verifiable video image audio "
    "grounding chain thought benchmark agent gui medical spatial embodied math geometry chart table document "
    "preference optimisation group relative proximal critic value advantage rollout sampling curriculum dataset "
    "evaluation perception detection segmentation caption question answering robust efficient scalable large small "
    "token visual textual alignment instruction tuning supervised cold start self improvement exploration entropy"
).split()
MODS = ["image", "video", "audio", "3d"]
ALGS = ["grpo", "ppo", "dpo", "rloo", "reinforce"]
APPS = ["general", "math", "medical", "gui-agent", "spatial", "perception"]
SOURCES = ["title", "abstract", "Method", "3 Approach", "manual"]


def paper_id(i: int) -> str:
    return hashlib.sha1(f"big-{i}".encode()).hexdigest()


def fill_big_db(db, n: int, edges: int, *, seed: int = 1, abstract_words: int = 150, isolated: float = 0.15) -> int:
    """Fill ``db`` with ``n`` papers and about ``edges`` citations; returns the citations written."""
    rng = np.random.default_rng(seed)
    k = max(3, n // 200)
    cluster = rng.integers(0, k, size=n)
    words = np.array(WORDS)
    ids = [paper_id(i) for i in range(n)]
    lone = rng.random(n) < isolated
    with store.transaction(db):
        batch: list[Paper] = []
        for i in range(n):
            year = 2016 + (10 * i) // n
            c = int(cluster[i])
            title = f"Topic {c}: " + " ".join(words[rng.integers(0, len(words), size=8)]) + f" {i}"
            abstract = " ".join(words[rng.integers(0, len(words), size=abstract_words)]).capitalize() + "."
            batch.append(Paper(
                paper_id=ids[i], corpus_id=10_000_000 + i, arxiv_id=f"{year % 100:02d}{1 + i % 12:02d}.{i % 100000:05d}",
                title=title, abstract=abstract, year=year, publication_date=f"{year}-{1 + i % 12:02d}-01",
                venue=["arXiv.org", "CVPR", "NeurIPS", "ICLR", "ACL"][i % 5], citation_count=int(rng.integers(0, 500)),
                authors=[Author(author_id=f"a{(i * 7 + j) % 50_000}", name=f"Author {(i * 7 + j) % 50_000}")
                         for j in range(1 + i % 4)],
                hop=1,
            ))
            if len(batch) == 5000:
                store.upsert_papers(db, batch)
                batch = []
        store.upsert_papers(db, batch)

        # edges: citing i -> cited j < i; 80% inside the cluster
        linked = np.flatnonzero(~lone)
        src = rng.choice(linked[linked > 0], size=int(edges * 1.05))
        by_cluster: dict[int, np.ndarray] = {}
        cl_linked = cluster[linked]
        for c in range(k):
            by_cluster[c] = linked[cl_linked == c]
        dst = np.empty_like(src)
        same = rng.random(len(src)) < 0.8
        for t, s in enumerate(src):
            pool = by_cluster[int(cluster[s])] if same[t] else linked
            hi = np.searchsorted(pool, s)
            dst[t] = pool[int(rng.integers(0, hi))] if hi else linked[int(rng.integers(0, np.searchsorted(linked, s)))]
        pairs = np.unique(np.stack([src, dst], axis=1), axis=0)[:edges]
        rows = [(ids[a], ids[b], None, None) for a, b in pairs.tolist()]
        store.upsert_citations(db, rows)

        labels = []
        for i in range(n):
            c = int(cluster[i])
            rel = ["core", "related", "other"][c % 3]
            src_name = SOURCES[i % len(SOURCES)]
            labels.append(dict(paper_id=ids[i], facet="relevance", value=rel, confidence=0.9, source="rules",
                               evidence="reinforcement learning", evidence_source="abstract"))
            if rel != "other":
                labels.append(dict(paper_id=ids[i], facet="modality", value=MODS[c % 4], confidence=0.8,
                                   source="rules", evidence="on images", evidence_source="abstract"))
                if i % 3:
                    labels.append(dict(paper_id=ids[i], facet="algorithm", value=ALGS[(c + i) % 5], confidence=0.8,
                                       source="manual" if src_name == "manual" else "rules",
                                       evidence="we optimise the policy", evidence_source=src_name))
                labels.append(dict(paper_id=ids[i], facet="application", value=APPS[c % 6], confidence=0.7,
                                   source="rules", evidence="for the task", evidence_source="title"))
        store.insert_labels(db, labels)
        db.conn.executemany(  # the evidence source again: the benchmark fills its database with older code too
            "UPDATE labels SET evidence_source = ? WHERE paper_id = ? AND facet = ? AND value = ?",
            [(r["evidence_source"], r["paper_id"], r["facet"], r["value"]) for r in labels],
        )
    return len(rows)
