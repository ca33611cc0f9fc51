"""Store rows → networkx graphs: the citation graph, co-citation and bibliographic coupling.

``build_citation_graph(db)`` is the one graph every analysis, the site and the
exports start from: a :class:`networkx.DiGraph` with one node per stored paper
and an edge *citing → cited* for every citation between two stored papers.

The two similarity graphs are built from that graph:

* **co-citation** — two papers are linked when a third paper cites both
  (``weight`` = how many papers cite both);
* **bibliographic coupling** — two papers are linked when they cite a common
  paper (``weight`` = how many references they share).

Both carry ``similarity``, the Salton cosine ``weight / sqrt(k_a * k_b)`` where
``k`` is the paper's in-corpus citation (co-citation) or reference (coupling)
count, so a pair of heavily cited papers does not win on volume alone.

>>> import networkx as nx
>>> G = nx.DiGraph([("c1", "a"), ("c1", "b"), ("c2", "a"), ("c2", "b")])
>>> sorted(build_cocitation_graph(G).edges(data="weight"))
[('a', 'b', 2)]
>>> sorted(build_coupling_graph(G).edges(data="weight"))
[('c1', 'c2', 2)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import sqlite_utils
from networkx.utils import not_implemented_for

from . import store

__all__ = [
    "build_citation_graph",
    "build_cocitation_graph",
    "build_coupling_graph",
    "citation_matrix",
]

_NODE_COLUMNS = (
    "title",
    "year",
    "publication_date",
    "venue",
    "arxiv_id",
    "doi",
    "url",
    "citation_count",
    "hop",
)


def _column(frame: pd.DataFrame, name: str, *, integer: bool = False) -> list[Any]:
    """A column as Python values with every missing value (NaN, NA, NaT) as None."""
    col = frame[name]
    if integer:
        col = pd.to_numeric(col, errors="coerce")
        if col.dtype.kind == "f":  # NULLs made it float: the largest SQLite integers round past int64
            col = col.where(col.abs() < 2.0**63)
        col = col.astype("Int64")
    return [None if v is pd.NA else v for v in col.astype(object).where(col.notna(), None).tolist()]


def build_citation_graph(
    db: sqlite_utils.Database, *, papers: pd.DataFrame | None = None, labels: pd.DataFrame | None = None,
    edges: bool = True,
) -> nx.DiGraph:
    """The citation graph of the database: papers as nodes, ``citing → cited`` edges.

    Parameters
    ----------
    db : sqlite_utils.Database
        An open rlmllm-graph database.
    papers, labels : pandas.DataFrame, optional
        :func:`~rlmllm_graph.store.load_papers` and
        :func:`~rlmllm_graph.store.load_labels` of ``db`` when the caller has
        them already (``report`` loads them once for every page).
    edges : bool, default True
        False gives the nodes only (``report`` keeps a million citations as
        index arrays, not as networkx edges).

    Returns
    -------
    networkx.DiGraph
        One node per stored paper (node id = ``paper_id``) with the attributes
        ``title``, ``year``, ``publication_date``, ``venue``, ``arxiv_id``,
        ``doi``, ``url``, ``citation_count``, ``hop`` (missing values are
        ``None``), ``authors`` (list of names in order) and ``labels`` (dict
        facet → sorted list of values; ``{}`` when unlabelled). One edge per
        citation whose both ends are stored, with ``is_influential``
        (bool or None). Nodes are added in ``paper_id`` order. An empty
        database gives an empty graph (``compute_graph_report`` raises
        :class:`~rlmllm_graph.errors.EmptyGraph` on it).
    """
    papers = store.load_papers(db) if papers is None else papers
    citations = store.load_citations(db, stored_only=True) if edges else None
    labels = store.load_labels(db) if labels is None else labels
    authors = store.load_authors(db)

    by_paper: dict[str, dict[str, list[str]]] = {}
    for pid, facet, value in zip(labels["paper_id"], labels["facet"], labels["value"]):
        by_paper.setdefault(pid, {}).setdefault(facet, []).append(value)
    for facets in by_paper.values():
        for facet, values in facets.items():
            facets[facet] = sorted(set(values))

    G = nx.DiGraph()
    ints = {"year", "citation_count", "hop"}
    cols = [_column(papers, c, integer=c in ints) for c in _NODE_COLUMNS]
    ids = papers["paper_id"].tolist()
    G.add_nodes_from(
        (
            pid,
            {**dict(zip(_NODE_COLUMNS, values)), "authors": list(authors.get(pid, ())),
             "labels": by_paper.get(pid, {})},
        )
        for pid, *values in zip(ids, *cols)
    )

    if citations is None:
        return G
    flags = [None if f is None else bool(f) for f in _column(citations, "is_influential")]
    G.add_edges_from(
        (a, b, {"is_influential": f})
        for a, b, f in zip(citations["citing_id"].tolist(), citations["cited_id"].tolist(), flags)
        if a != b
    )
    return G


def citation_matrix(G: nx.DiGraph, nodes: Sequence[Any] | None = None) -> tuple[list[Any], sp.csr_array]:
    """``(nodes, A)`` where ``A[i, j] = 1`` when ``nodes[i]`` cites ``nodes[j]`` (CSR, float64).

    The sparse adjacency every fast path of :mod:`rlmllm_graph.analysis` works
    on; much cheaper than :func:`networkx.to_scipy_sparse_array` on a million
    edges because it walks the adjacency once with C-level list building.
    """
    order = list(G.nodes) if nodes is None else list(nodes)
    index = {n: i for i, n in enumerate(order)}
    n = len(order)
    rows: list[int] = []
    cols: list[int] = []
    for u, nbrs in G.adjacency():
        iu = index.get(u)
        if iu is None:
            continue
        js = [index[v] for v in nbrs if v in index]
        rows.extend([iu] * len(js))
        cols.extend(js)
    data = np.ones(len(rows), dtype=np.float64)
    A = sp.csr_array(
        (data, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))), shape=(n, n)
    )
    A.sum_duplicates()
    A.data[:] = 1.0
    return order, A


def _similarity_graph(
    M: sp.csr_array, order: list[Any], degree: np.ndarray, *, min_weight: int, rows: Iterable[int] | None
) -> nx.Graph:
    """Graph of the upper triangle of ``M @ M.T`` (restricted to ``rows`` when given)."""
    if rows is None:
        S = (M @ M.T).tocoo()
    else:
        sel = np.fromiter(rows, dtype=np.int64)
        S = (M[sel] @ M.T).tocoo()
        S = sp.coo_array((S.data, (sel[S.row], S.col)), shape=(M.shape[0], M.shape[0]))
    H = nx.Graph()
    H.add_nodes_from(order)
    mask = (S.row != S.col) & (S.data >= min_weight)
    r, c, w = S.row[mask], S.col[mask], S.data[mask]
    if rows is None:
        keep = r < c
        r, c, w = r[keep], c[keep], w[keep]
    for i, j, x in zip(r.tolist(), c.tolist(), w.tolist()):
        weight = int(x)
        H.add_edge(order[i], order[j], weight=weight, similarity=weight / math.sqrt(degree[i] * degree[j]))
    return H


@not_implemented_for("undirected")
def build_cocitation_graph(
    G: nx.DiGraph, *, min_weight: int = 1, nodes: Iterable[Any] | None = None
) -> nx.Graph:
    """Co-citation graph: ``a — b`` when some paper of ``G`` cites both.

    Parameters
    ----------
    G : networkx.DiGraph
        A citation graph (edges citing → cited), e.g. from :func:`build_citation_graph`.
    min_weight : int, default 1
        Keep pairs co-cited by at least this many papers.
    nodes : iterable, optional
        Only pairs with at least one end in ``nodes`` (much cheaper on big graphs).

    Returns
    -------
    networkx.Graph
        Every node of ``G``; edges carry ``weight`` (papers citing both) and
        ``similarity`` (``weight / sqrt(cites_a * cites_b)``, in (0, 1]).
    """
    order, A = citation_matrix(G)
    AT = A.T.tocsr()
    degree = np.asarray(AT.sum(axis=1)).ravel()
    index = {n: i for i, n in enumerate(order)}
    rows = None if nodes is None else sorted(index[n] for n in nodes if n in index)
    return _similarity_graph(AT, order, degree, min_weight=min_weight, rows=rows)


@not_implemented_for("undirected")
def build_coupling_graph(
    G: nx.DiGraph, *, min_weight: int = 1, nodes: Iterable[Any] | None = None
) -> nx.Graph:
    """Bibliographic-coupling graph: ``a — b`` when both cite some paper of ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
        A citation graph (edges citing → cited).
    min_weight : int, default 1
        Keep pairs sharing at least this many references.
    nodes : iterable, optional
        Only pairs with at least one end in ``nodes``.

    Returns
    -------
    networkx.Graph
        Every node of ``G``; edges carry ``weight`` (shared references) and
        ``similarity`` (``weight / sqrt(refs_a * refs_b)``).
    """
    order, A = citation_matrix(G)
    degree = np.asarray(A.sum(axis=1)).ravel()
    index = {n: i for i, n in enumerate(order)}
    rows = None if nodes is None else sorted(index[n] for n in nodes if n in index)
    return _similarity_graph(A, order, degree, min_weight=min_weight, rows=rows)
