"""build_citation_graph, build_cocitation_graph, build_coupling_graph against hand-made corpora."""

from __future__ import annotations

import networkx as nx

from analysis_fixture import SMALL_EDGES, fill, fill_small
from rlmllm_graph.graph import build_citation_graph, build_cocitation_graph, build_coupling_graph, citation_matrix


def test_citation_graph_nodes_edges_and_attributes(db):
    fill_small(db)
    G = build_citation_graph(db)
    assert isinstance(G, nx.DiGraph)
    assert list(G.nodes) == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert sorted(G.edges) == sorted(SMALL_EDGES)
    p1 = G.nodes["p1"]
    assert p1["title"] == "GRPO for video grounding"
    assert p1["year"] == 2024 and isinstance(p1["year"], int)
    assert p1["publication_date"] == "2024-01-15"
    assert p1["authors"] == ["Ada", "Bob"]
    assert p1["hop"] == 0
    assert p1["labels"] == {"algorithm": ["grpo"], "modality": ["video"], "relevance": ["core"]}
    assert G.nodes["p2"]["labels"]["algorithm"] == ["grpo", "ppo"]  # sorted
    p6 = G.nodes["p6"]
    assert p6["labels"] == {"relevance": ["other"]}
    assert p6["year"] is None and p6["publication_date"] is None and p6["venue"] is None
    assert G.nodes["p3"]["authors"] == []
    for key in ("title", "year", "publication_date", "venue", "arxiv_id", "doi", "url", "citation_count", "hop",
                "authors", "labels"):
        assert all(key in d for _, d in G.nodes(data=True)), key


def test_edges_to_unknown_papers_and_self_citations_are_left_out(db):
    fill(db, [{"paper_id": "a"}, {"paper_id": "b"}], [("a", "b"), ("a", "zzz"), ("zzz", "b"), ("b", "b")])
    G = build_citation_graph(db)
    assert list(G.edges) == [("a", "b")]
    assert G.nodes["a"]["labels"] == {} and G.nodes["a"]["authors"] == []


def test_empty_database_gives_empty_graph(db):
    G = build_citation_graph(db)
    assert G.number_of_nodes() == 0 and G.number_of_edges() == 0


def test_citation_matrix_matches_networkx():
    G = nx.gnp_random_graph(60, 0.08, seed=3, directed=True)
    order, A = citation_matrix(G)
    B = nx.to_scipy_sparse_array(G, nodelist=order)
    assert (A != B).nnz == 0


def test_cocitation_by_hand(db):
    fill_small(db)
    C = build_cocitation_graph(build_citation_graph(db))
    # p3 cites p1 and p2; p4 cites p3 and p1
    assert sorted((tuple(sorted((a, b))), w) for a, b, w in C.edges(data="weight")) == [
        (("p1", "p2"), 1), (("p1", "p3"), 1)]
    # Salton cosine: 1 / sqrt(cites(p1)=3 * cites(p2)=1)
    assert abs(C["p1"]["p2"]["similarity"] - 1 / 3**0.5) < 1e-12
    assert set(C.nodes) == {"p1", "p2", "p3", "p4", "p5", "p6"}


def test_coupling_by_hand(db):
    fill_small(db)
    B = build_coupling_graph(build_citation_graph(db))
    # p2, p3, p4 all cite p1; p3 and p4 share nothing else
    assert sorted((tuple(sorted((a, b))), w) for a, b, w in B.edges(data="weight")) == [
        (("p2", "p3"), 1), (("p2", "p4"), 1), (("p3", "p4"), 1)]
    assert abs(B["p3"]["p4"]["similarity"] - 1 / 2) < 1e-12  # both cite 2 papers


def test_similarity_graphs_agree_with_a_direct_count():
    G = nx.gnp_random_graph(80, 0.1, seed=5, directed=True)
    C = build_cocitation_graph(G, min_weight=2)
    B = build_coupling_graph(G, min_weight=2)
    for a in range(0, 80, 7):
        for b in range(a + 1, 80, 5):
            co = len(set(G.predecessors(a)) & set(G.predecessors(b)))
            cp = len(set(G.successors(a)) & set(G.successors(b)))
            assert (C[a][b]["weight"] if C.has_edge(a, b) else 0) == (co if co >= 2 else 0)
            assert (B[a][b]["weight"] if B.has_edge(a, b) else 0) == (cp if cp >= 2 else 0)


def test_restricting_to_nodes_keeps_only_their_pairs():
    G = nx.gnp_random_graph(80, 0.1, seed=5, directed=True)
    full = build_cocitation_graph(G)
    part = build_cocitation_graph(G, nodes=[3, 10])
    assert all(3 in e or 10 in e for e in part.edges)
    for a, b, w in part.edges(data="weight"):
        assert full[a][b]["weight"] == w
    touching = {frozenset(e) for e in full.edges if 3 in e or 10 in e}
    assert {frozenset(e) for e in part.edges} == touching
