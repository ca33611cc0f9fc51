"""Small hand-made corpora for the graph, analysis, trends and CLI tests (no network, no shared data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rlmllm_graph import store
from rlmllm_graph.records import Author, Citation, Paper

# p1 ← p2 ← p3 → p1, p4 → p3, p4 → p1, p5 → p4; p6 isolated (edges are citing → cited)
SMALL_PAPERS = [
    {"paper_id": "p1", "title": "GRPO for video grounding", "publication_date": "2024-01-15", "year": 2024,
     "authors": ["Ada", "Bob"], "hop": 0},
    {"paper_id": "p2", "title": "Video grounding with rewards", "publication_date": "2024-03-02", "year": 2024,
     "authors": ["Cy"], "hop": 1},
    {"paper_id": "p3", "title": "Temporal grounding via RL", "publication_date": "2024-06-30", "year": 2024,
     "hop": 1},
    {"paper_id": "p4", "title": "Process rewards for math", "publication_date": None, "year": 2025, "hop": 1},
    {"paper_id": "p5", "title": "GUI agents with GRPO", "publication_date": "2025-09-01", "year": 2025, "hop": 1},
    {"paper_id": "p6", "title": "An unrelated paper", "publication_date": None, "year": None, "hop": 1},
]
SMALL_EDGES = [("p2", "p1"), ("p3", "p1"), ("p3", "p2"), ("p4", "p3"), ("p4", "p1"), ("p5", "p4")]
SMALL_LABELS = [
    ("p1", "relevance", "core"), ("p1", "modality", "video"), ("p1", "algorithm", "grpo"),
    ("p2", "relevance", "core"), ("p2", "modality", "video"), ("p2", "algorithm", "ppo"),
    ("p2", "algorithm", "grpo"),
    ("p3", "relevance", "related"), ("p3", "modality", "video"),
    ("p5", "relevance", "core"), ("p5", "application", "gui-agent"),
    ("p6", "relevance", "other"),
]


def fill(
    db: Any,
    papers: Iterable[Mapping[str, Any]],
    edges: Iterable[tuple[str, str]] = (),
    labels: Iterable[tuple[str, str, str]] = (),
) -> Any:
    """Write papers (dicts with Paper fields, ``authors`` as names), citation edges and labels."""
    records = []
    for p in papers:
        fields = {k: v for k, v in p.items() if k != "authors"}
        names = p.get("authors") or []
        records.append(Paper(**fields, authors=[Author(f"{p['paper_id']}-a{i}", n) for i, n in enumerate(names)]))
    with store.transaction(db):
        store.upsert_papers(db, records)
        store.upsert_citations(db, [Citation(a, b) for a, b in edges])
        store.insert_labels(
            db,
            [{"paper_id": pid, "facet": f, "value": v, "confidence": 1.0, "source": "manual", "evidence": None}
             for pid, f, v in labels],
        )
    return db


def fill_small(db: Any) -> Any:
    return fill(db, SMALL_PAPERS, SMALL_EDGES, SMALL_LABELS)
