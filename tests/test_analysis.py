"""Network metrics against hand-computed graphs and against networkx on generated ones."""

from __future__ import annotations

import json
import math

import networkx as nx
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis_fixture import fill_small
from rlmllm_graph.analysis import (
    compute_cocitation,
    compute_communities,
    compute_coupling,
    compute_discovery,
    compute_graph_report,
    compute_lineage,
    compute_node_metrics,
    compute_pagerank,
    core_papers,
)
from rlmllm_graph.errors import EmptyGraph
from rlmllm_graph.graph import build_citation_graph


@pytest.fixture
def G(db):
    return build_citation_graph(fill_small(db))


def _two_cliques() -> nx.DiGraph:
    G = nx.DiGraph()
    left, right = [f"a{i}" for i in range(5)], [f"b{i}" for i in range(5)]
    for group in (left, right):
        for i, u in enumerate(group):
            for v in group[:i]:
                G.add_edge(u, v)  # newer cites older
    G.add_edge("b0", "a4")
    G.add_node("z")  # cites nothing, cited by nothing
    for n in G:
        G.nodes[n].update(title=("video grounding " if n.startswith("a") else "math proofs ") + n,
                          labels={"modality": ["video"]} if n.startswith("a") else {"application": ["math"]})
    return G


# --------------------------------------------------------------------------- PageRank


def test_pagerank_by_hand_two_nodes():
    # a → b, b cites nothing (its rank is spread evenly): x_a = .075 + .425 x_b, x_a + x_b = 1
    pr = compute_pagerank(nx.DiGraph([("a", "b")]))
    assert pr["a"] == pytest.approx(0.5 / 1.425, abs=1e-6)
    assert pr["b"] == pytest.approx(1 - 0.5 / 1.425, abs=1e-6)


def test_pagerank_agrees_with_networkx_on_a_generated_graph():
    G = nx.scale_free_graph(800, seed=7)
    G = nx.DiGraph(G)  # collapse multi-edges the way a citation table does
    G.remove_edges_from(nx.selfloop_edges(G))
    ours = compute_pagerank(G)
    theirs = nx.pagerank(G)
    assert max(abs(ours[n] - theirs[n]) for n in G) < 1e-8
    assert sum(ours.values()) == pytest.approx(1.0)


# --------------------------------------------------------------------------- node metrics


def test_node_metrics_by_hand(G):
    m = compute_node_metrics(G)
    assert list(m.columns) == ["pagerank", "in_corpus_citations", "in_corpus_references", "community",
                               "community_name"]
    assert m.index.name == "paper_id" and list(m.index) == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert m["in_corpus_citations"].to_dict() == {"p1": 3, "p2": 1, "p3": 1, "p4": 1, "p5": 0, "p6": 0}
    assert m["in_corpus_references"].to_dict() == {"p1": 0, "p2": 1, "p3": 2, "p4": 2, "p5": 1, "p6": 0}
    assert m["pagerank"].idxmax() == "p1"
    assert m["pagerank"].sum() == pytest.approx(1.0)
    assert m.loc["p6", "community"] == -1 and m.loc["p6", "community_name"] == "Unconnected"
    assert m["community"].dtype.kind == "i"
    assert (m.loc[["p1", "p2", "p3", "p4", "p5"], "community"] >= 0).all()


def test_node_metrics_of_empty_graph_is_an_empty_frame():
    m = compute_node_metrics(nx.DiGraph())
    assert m.empty and "pagerank" in m.columns


# --------------------------------------------------------------------------- communities


def test_communities_two_cliques_by_hand():
    G = _two_cliques()
    comm = compute_communities(G)
    assert {comm[f"a{i}"] for i in range(5)} == {0}  # ties by size: the smaller paper id first
    assert {comm[f"b{i}"] for i in range(5)} == {1}
    assert comm["z"] == -1
    m = compute_node_metrics(G)
    assert m.loc["a0", "community_name"].startswith("Video")
    assert m.loc["b0", "community_name"].startswith("Math")


def test_communities_are_deterministic():
    G = nx.DiGraph(nx.scale_free_graph(1500, seed=11))
    first = compute_node_metrics(G, seed=3)
    second = compute_node_metrics(G, seed=3)
    pd.testing.assert_frame_equal(first, second)
    assert first["community"].max() > 2


def test_communities_agree_with_networkx_louvain_on_a_planted_partition():
    U = nx.planted_partition_graph(5, 40, 0.3, 0.01, seed=2)
    G = nx.DiGraph()
    G.add_nodes_from(U)
    G.add_edges_from((max(u, v), min(u, v)) for u, v in U.edges)  # cite the older (smaller) paper
    ours = compute_communities(G, seed=1)
    theirs = nx.community.louvain_communities(U, seed=1)
    planted = [n // 40 for n in sorted(U)]
    assert adjusted_rand_score(planted, [ours[n] for n in sorted(U)]) > 0.95
    ours_sets = [{n for n in U if ours[n] == c} for c in set(ours.values())]
    q_ours = nx.community.modularity(U, ours_sets)
    q_theirs = nx.community.modularity(U, theirs)
    assert q_ours >= q_theirs - 0.01


# --------------------------------------------------------------------------- co-citation, coupling, discovery


def test_cocitation_and_coupling_pairs(G):
    co = compute_cocitation(G, min_weight=1)
    assert list(co.columns) == ["paper_a", "paper_b", "weight", "similarity"]
    assert {(a, b) for a, b in zip(co.paper_a, co.paper_b)} == {("p1", "p2"), ("p1", "p3")}
    assert co.iloc[0].tolist()[:3] == ["p1", "p2", 1]  # equal weights: the higher similarity first
    cp = compute_coupling(G, min_weight=1)
    assert {(a, b) for a, b in zip(cp.paper_a, cp.paper_b)} == {("p2", "p3"), ("p2", "p4"), ("p3", "p4")}
    restricted = compute_coupling(G, min_weight=1, nodes=["p4"])
    assert {(a, b) for a, b in zip(restricted.paper_a, restricted.paper_b)} == {("p2", "p4"), ("p3", "p4")}


def test_discovery_ranks_papers_cited_alongside_the_core():
    G = nx.DiGraph()
    for c in ("c1", "c2"):
        G.add_node(c, labels={"relevance": ["core"]}, title=c)
    G.add_node("d", labels={"relevance": ["related"]}, title="strong")
    G.add_node("e", labels={}, title="weak")
    G.add_node("f", labels={}, title="coupled")
    for i in range(4):  # four papers cite c1 together with d
        G.add_edge(f"x{i}", "c1")
        G.add_edge(f"x{i}", "d")
    G.add_edge("x0", "e")
    for i in range(30):  # a survey citing everything adds almost nothing
        G.add_edge("survey", f"s{i}")
    G.add_edge("survey", "c2")
    G.add_edge("c2", "r1")
    G.add_edge("c2", "r2")
    G.add_edge("f", "r1")
    G.add_edge("f", "r2")
    assert core_papers(G) == ["c1", "c2"]
    disc = compute_discovery(G)
    assert disc["paper_id"].iloc[0] == "d"
    top = disc.set_index("paper_id")
    assert top.loc["d", "cocited_with"] == 1 and top.loc["d", "closest_core"] == "c1"
    # x1..x3 cite only c1 and d (1 each); x0 also cites e, so it gives each of its pairs 1/2
    assert top.loc["d", "cocitation"] == pytest.approx(3.5)
    assert top.loc["e", "cocitation"] == pytest.approx(0.5)
    # f and c2 both cite r1 and r2, which nobody else cites: 1 + 1
    assert top.loc["f", "coupling"] == pytest.approx(2.0) and top.loc["f", "closest_core"] == "c2"
    assert top.loc["d", "score"] > top.loc["e", "score"]
    assert top.loc["d", "relevance"] == "related"
    assert not set(disc["paper_id"]) & {"c1", "c2"}
    assert top.loc["s0", "cocitation"] == pytest.approx(1 / 30)


def test_discovery_without_core_or_seeds_is_empty():
    assert compute_discovery(nx.DiGraph([("a", "b")])).empty


# --------------------------------------------------------------------------- lineage


def test_lineage_main_path_by_hand(G):
    # flow p1→p2→p3→p4→p5 (SPC 1+1+2+3 = 7) beats p1→p3→p4→p5 (6) and p1→p4→p5 (4)
    lin = compute_lineage(G, nodes=list(G))
    assert lin["paper_id"].tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert lin["step"].tolist() == [0, 1, 2, 3, 4]
    assert math.isnan(lin["path_share"].iloc[0])
    assert lin["path_share"].iloc[1:].tolist() == pytest.approx([1 / 3, 1 / 3, 2 / 3, 1.0])


def test_lineage_breaks_cycles_by_date(G):
    G.add_edge("p1", "p5")  # an old paper "citing" a newer one (revised preprint): a cycle
    G.add_edge("p2", "p3")  # and a mutual citation p2 ⇄ p3
    assert not nx.is_directed_acyclic_graph(G)
    lin = compute_lineage(G, nodes=list(G))
    assert lin["paper_id"].tolist() == ["p1", "p2", "p3", "p4", "p5"]


def test_lineage_defaults_to_the_field(G):
    lin = compute_lineage(G)  # core and related: p1, p2, p3, p5 (p4 is unlabelled, so p5 is cut off)
    assert lin["paper_id"].tolist() == ["p1", "p2", "p3"]


# --------------------------------------------------------------------------- the report


def test_graph_report_shape(G):
    r = compute_graph_report(G, top=3)
    assert r["nodes"] == 6 and r["edges"] == 6
    assert len(r["top"]) == 3
    assert set(r["top"][0]) == {"paper_id", "title", "pagerank", "in_corpus_citations", "community"}
    assert r["top"][0]["paper_id"] == "p1" and r["top"][0]["in_corpus_citations"] == 3
    for c in r["communities"]:
        assert set(c) >= {"id", "name", "size", "top_papers", "dominant_tags"}
        assert c["id"] >= 0 and c["size"] >= 2 and isinstance(c["name"], str) and c["name"]
    assert sum(c["size"] for c in r["communities"]) == 5 and r["unconnected"] == 1
    assert r["core"] == 3
    assert [p["paper_id"] for p in r["lineage"]] == ["p1", "p2", "p3"]
    assert {"cocitation", "coupling", "discovery", "n_communities"} <= set(r)
    assert {(p["paper_a"], p["paper_b"]) for p in r["coupling"]} == set()  # no pair shares two references
    json.dumps(r, allow_nan=False)  # JSON-ready: no NaN, no numpy scalars


def test_graph_report_of_empty_graph_raises():
    with pytest.raises(EmptyGraph, match="no papers"):
        compute_graph_report(nx.DiGraph())


def test_docstring_examples_run():
    import doctest

    from rlmllm_graph import analysis, graph

    for module in (analysis, graph):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_direction_matters_so_undirected_graphs_are_refused():
    with pytest.raises(nx.NetworkXNotImplemented):
        compute_node_metrics(nx.Graph([(1, 2)]))
    assert compute_communities(nx.Graph([(1, 2), (2, 3), (1, 3)])) == {1: 0, 2: 0, 3: 0}
