"""Network analysis of the citation graph: ``compute_*(G, ...)`` → dict or DataFrame.

Every function takes the citation graph first (a :class:`networkx.DiGraph`
with edges *citing → cited*, as :func:`rlmllm_graph.graph.build_citation_graph`
makes it), takes its options as keywords, never prints and never does I/O.
Anything random takes ``seed=``.

The heavy lifting runs on a scipy sparse adjacency (``graph.citation_matrix``)
so that a graph of 100,000 papers and a million citations is analysed in
seconds: PageRank is the same power iteration as :func:`networkx.pagerank`
(agreeing to its tolerance), and communities are found by the Leiden algorithm
optimising modularity (python-igraph, in C), a refinement of the Louvain method
of :func:`networkx.community.louvain_communities`.

>>> import networkx as nx
>>> G = nx.DiGraph([("b", "a"), ("c", "a"), ("c", "b")])
>>> m = compute_node_metrics(G)
>>> int(m.loc["a", "in_corpus_citations"]), int(m.loc["c", "in_corpus_references"])
(2, 2)
>>> m["pagerank"].idxmax()
'a'
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from networkx.utils import not_implemented_for

from .classify.vocabulary import DISPLAY_NAMES, FACET_ORDER
from .errors import EmptyGraph
from .graph import citation_matrix

__all__ = [
    "compute_cocitation",
    "compute_communities",
    "compute_community_summary",
    "compute_coupling",
    "compute_discovery",
    "compute_graph_report",
    "compute_lineage",
    "compute_node_metrics",
    "compute_pagerank",
    "core_papers",
]


#: Community id given to papers that share a community with nobody (no in-corpus link).
ISOLATED = -1

_PRETTY = {
    **{k: v for k, v in DISPLAY_NAMES["algorithm"].items() if k != "other"},
    "3d": DISPLAY_NAMES["modality"]["3d"],
    # phrases that read better in a community's name than the survey's column spelling
    "gui-agent": "GUI agents",
    "rule": "rule rewards",
    "model": "reward models",
    "process": "process rewards",
    "sft+rl": "SFT+RL",
    "value-free": "critic-free",
    "value-based": "critic-based",
}

_STOP = set(
    """a an and are as at be by for from in into is it its of on or our that the their this to via we with
    without using towards toward toward based beyond through can do does how what when why which new not vs
    large language languages model models learning reasoning multimodal multi modal llm llms mllm mllms lmm lmms
    vlm vlms vision visual study approach approaches method methods framework frameworks paper data better more
    via reinforcement rl towards improving improve improves enhancing enhance enhanced scaling scale""".split()
)


def _require_nonempty(G: nx.Graph) -> None:
    if G.number_of_nodes() == 0:
        raise EmptyGraph(
            "nothing to analyse: the database holds no papers yet "
            "(fill it with `rlmllm-graph refresh` or `rlmllm-graph import`)"
        )


def core_papers(G: nx.DiGraph) -> list[Any]:
    """The papers labelled ``relevance=core``; if none is, the crawl seeds (``hop == 0``).

    Sorted by node id, so every function that starts from "the core" is deterministic.
    """
    core = [n for n, d in G.nodes(data=True) if "core" in (d.get("labels") or {}).get("relevance", ())]
    if not core:
        core = [n for n, d in G.nodes(data=True) if d.get("hop") == 0]
    return sorted(core, key=str)


# --------------------------------------------------------------------------- PageRank


def _pagerank_vector(A: sp.csr_array, *, alpha: float, tol: float, max_iter: int) -> np.ndarray:
    """networkx's ``_pagerank_scipy`` on a prepared adjacency (uniform teleport, dangling → uniform)."""
    N = A.shape[0]
    if N == 0:
        return np.zeros(0)
    out = np.asarray(A.sum(axis=1)).ravel()
    inv = np.divide(1.0, out, out=np.zeros_like(out), where=out != 0)
    P = sp.csr_array(sp.diags_array(inv) @ A)
    PT = P.T.tocsr()  # x @ P == PT @ x, and CSR mat-vec is the fast one
    dangling = out == 0
    x = np.full(N, 1.0 / N)
    p = np.full(N, 1.0 / N)
    for _ in range(max_iter):
        xlast = x
        x = alpha * (PT @ x + x[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - xlast).sum() < N * tol:
            break
    return x / x.sum()


@not_implemented_for("undirected")
def compute_pagerank(
    G: nx.DiGraph, *, alpha: float = 0.85, tol: float = 1.0e-6, max_iter: int = 100
) -> dict[Any, float]:
    """PageRank of every paper (a paper ranks high when high-ranked papers cite it).

    The power iteration of :func:`networkx.pagerank` (same defaults, same
    handling of papers that cite nothing) on a sparse matrix built straight
    from the adjacency, so it agrees with networkx to ``tol``.

    >>> import networkx as nx
    >>> pr = compute_pagerank(nx.DiGraph([("a", "b"), ("b", "a")]))
    >>> round(pr["a"], 3), round(pr["b"], 3)
    (0.5, 0.5)
    """
    order, A = citation_matrix(G)
    x = _pagerank_vector(A, alpha=alpha, tol=tol, max_iter=max_iter)
    return dict(zip(order, x.tolist()))


# --------------------------------------------------------------------------- communities


def _leiden_membership(n: int, rows: np.ndarray, cols: np.ndarray, *, seed: int, resolution: float) -> list[int]:
    import igraph as ig  # imported here: only communities need it

    g = ig.Graph(n=n, edges=list(zip(rows.tolist(), cols.tolist())), directed=False)
    rng_state = random.Random(seed)
    ig.set_random_number_generator(rng_state)
    try:
        part = g.community_leiden(objective_function="modularity", resolution=resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    return list(part.membership)


def compute_communities(G: nx.Graph, *, seed: int = 42, resolution: float = 1.0) -> dict[Any, int]:
    """Community of every paper: Leiden modularity optimisation on the undirected citation graph.

    Deterministic for a given ``seed``. Communities are numbered 0, 1, 2, … by
    size (largest first; ties by their smallest paper id); a paper that shares
    its community with nobody (it has no in-corpus citation link) gets ``-1``.

    Parameters
    ----------
    G : networkx.Graph or DiGraph
        Edge direction is ignored.
    seed : int, default 42
    resolution : float, default 1.0
        Higher gives more, smaller communities (as in networkx's Louvain).
    """
    order, A = citation_matrix(G)
    return _communities(order, A, seed=seed, resolution=resolution)


def _communities(order: list[Any], A: sp.csr_array, *, seed: int, resolution: float) -> dict[Any, int]:
    if not order:
        return {}
    U = sp.triu(A + A.T, k=1).tocoo()  # each undirected link once, no self-loops
    membership = _leiden_membership(len(order), U.row, U.col, seed=seed, resolution=resolution)
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(membership):
        groups.setdefault(c, []).append(i)
    keyed = sorted(groups.values(), key=lambda idx: (-len(idx), min(str(order[i]) for i in idx)))
    result: dict[Any, int] = {}
    next_id = 0
    for idx in keyed:
        if len(idx) == 1:
            result[order[idx[0]]] = ISOLATED
            continue
        for i in idx:
            result[order[i]] = next_id
        next_id += 1
    return result


def _pretty(value: str) -> str:
    return _PRETTY.get(value, value.replace("-", " ").capitalize() if value.islower() else value)


_ACRONYMS = {"gui": "GUI", "grpo": "GRPO", "ppo": "PPO", "dpo": "DPO", "vqa": "VQA", "rag": "RAG", "sft": "SFT",
             "cot": "CoT", "ui": "UI", "3d": "3D", "r1": "R1", "rlhf": "RLHF", "rlvr": "RLVR", "vla": "VLA",
             "ocr": "OCR", "agi": "AGI", "prm": "PRM", "prms": "PRMs", "gpt": "GPT"}


def _title_terms(title: Any) -> set[str]:
    """Content words and adjacent word pairs of a title (lower case, stop words dropped)."""
    if not isinstance(title, str):
        return set()
    words = re.findall(r"[a-z0-9][a-z0-9\-]*", title.lower())
    terms = {w for w in words if len(w) > 2 and w not in _STOP and not w.isdigit()}
    for a, b in zip(words, words[1:]):
        if a not in _STOP and b not in _STOP and len(a) > 1 and len(b) > 2 and not (a.isdigit() or b.isdigit()):
            terms.add(f"{a} {b}")
    return terms


def _pretty_term(term: str) -> str:
    return " ".join(_ACRONYMS.get(w, w) for w in term.split())


def _community_names(G: nx.Graph, communities: dict[Any, int]) -> dict[int, str]:
    """A readable name per community: its dominant tags, then its most distinctive title terms."""
    members: dict[int, list[Any]] = {}
    for n, c in communities.items():
        if c != ISOLATED:
            members.setdefault(c, []).append(n)
    terms_of = {n: _title_terms(G.nodes[n].get("title")) for n in communities}
    df_all: Counter[str] = Counter()
    for ts in terms_of.values():
        df_all.update(ts)
    total = max(len(terms_of), 1)
    facets = ("application", "modality", "algorithm", "reward")
    tag_all: Counter[tuple[str, str]] = Counter()
    for n in communities:
        labels = G.nodes[n].get("labels") or {}
        tag_all.update((f, v) for f in facets for v in labels.get(f, ()))
    names: dict[int, str] = {}
    seen: Counter[str] = Counter()
    for c in sorted(members):
        nodes = members[c]
        size = len(nodes)
        tags: list[tuple[float, str]] = []
        for facet in facets:
            counts: Counter[str] = Counter()
            for n in nodes:
                counts.update((G.nodes[n].get("labels") or {}).get(facet, ()))
            for value, k in counts.items():
                # a tag names a community when it is common there and commoner than elsewhere
                lift = (k / size) / (tag_all[(facet, value)] / total)
                if value in ("general", "other") or k < 2 or k / size < 0.34 or lift < 1.25:
                    continue
                tags.append((k / size, value))
        tags.sort(key=lambda t: (-t[0], t[1]))
        picked = [_pretty(v) for _, v in tags[:2]]
        taken = {w for v in picked for w in v.lower().split()}
        df_c: Counter[str] = Counter()
        for n in nodes:
            df_c.update(terms_of[n])
        scored = []
        for t, k in df_c.items():
            if k < 2 and size > 3:
                continue
            lift = (k / size) / (df_all[t] / total)
            bonus = 1.3 if " " in t else 1.0  # a pair of words reads better than one
            scored.append((bonus * k * math.log(1.0 + lift), t))
        scored.sort(key=lambda x: (-x[0], x[1]))
        words: list[str] = []
        for _, t in scored:
            if " " not in t:  # a frequent pair containing the word reads better ("GUI agents")
                pairs = [(k, b) for b, k in df_c.items() if " " in b and t in b.split() and 2 * k >= df_c[t]]
                if pairs:
                    t = max(pairs)[1]
            parts = set(t.split())
            if parts & taken or any(parts & set(w.split()) for w in words):
                continue
            words.append(t)
            if len(words) == 2 or " " in t:
                break
        phrase = ", ".join(_pretty_term(w) for w in words)
        name = " · ".join(picked)
        if phrase:
            name = f"{name}: {phrase}" if name else phrase[:1].upper() + phrase[1:]
        name = name or f"Community {c}"
        seen[name] += 1
        names[c] = name if seen[name] == 1 else f"{name} ({c})"
    names[ISOLATED] = "Unconnected"
    return names


@not_implemented_for("undirected")
def compute_node_metrics(
    G: nx.DiGraph, *, seed: int = 42, matrix: tuple[list[Any], sp.csr_array] | None = None
) -> pd.DataFrame:
    """Per-paper network metrics, one row per node.

    ``matrix`` is ``(nodes, A)`` as :func:`~rlmllm_graph.graph.citation_matrix`
    returns it, for a caller that has it already (``G`` may then hold the nodes
    only: the report builds the matrix straight from the citations table).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``paper_id`` (node order of ``G``), columns ``pagerank``
        (float, sums to 1), ``in_corpus_citations`` (papers of ``G`` citing it),
        ``in_corpus_references`` (papers of ``G`` it cites), ``community``
        (int, deterministic for ``seed``; ``-1`` for unconnected papers) and
        ``community_name`` (str). An empty graph gives an empty frame.
    """
    return _node_metrics(G, *(matrix if matrix is not None else citation_matrix(G)), seed=seed)


def _node_metrics(G: nx.DiGraph, order: list[Any], A: sp.csr_array, *, seed: int) -> pd.DataFrame:
    columns = ["pagerank", "in_corpus_citations", "in_corpus_references", "community", "community_name"]
    if not order:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="paper_id"))
    pr = _pagerank_vector(A, alpha=0.85, tol=1.0e-6, max_iter=100)
    comm = _communities(order, A, seed=seed, resolution=1.0)
    names = _community_names(G, comm)
    community = np.fromiter((comm[n] for n in order), dtype=np.int64, count=len(order))
    frame = pd.DataFrame(
        {
            "pagerank": pr,
            "in_corpus_citations": np.asarray(A.sum(axis=0)).ravel().astype(np.int64),
            "in_corpus_references": np.asarray(A.sum(axis=1)).ravel().astype(np.int64),
            "community": community,
            "community_name": [names[c] for c in community.tolist()],
        },
        index=pd.Index(order, name="paper_id"),
    )
    return frame


# --------------------------------------------------------------------------- communities summary


def _paper_brief(G: nx.Graph, n: Any, metrics: pd.DataFrame) -> dict[str, Any]:
    d = G.nodes[n]
    return {
        "paper_id": n,
        "title": d.get("title"),
        "year": d.get("year"),
        "pagerank": float(metrics.at[n, "pagerank"]),
        "in_corpus_citations": int(metrics.at[n, "in_corpus_citations"]),
    }


def compute_community_summary(
    G: nx.DiGraph, metrics: pd.DataFrame, *, top_papers: int = 5, max_communities: int | None = None
) -> list[dict[str, Any]]:
    """One dict per community (largest first): ``id``, ``name``, ``size``, ``top_papers``, ``dominant_tags``.

    ``top_papers`` are the community's highest-PageRank papers (dicts with
    ``paper_id``, ``title``, ``year``, ``pagerank``, ``in_corpus_citations``);
    ``dominant_tags`` maps facet → {value: papers} for the three commonest
    values of each facet. Unconnected papers (community ``-1``) are left out.
    """
    connected = metrics[metrics["community"] != ISOLATED]
    out: list[dict[str, Any]] = []
    for cid, grp in connected.groupby("community", sort=True):
        if max_communities is not None and len(out) >= max_communities:
            break
        ranked = grp.sort_values(["pagerank", "in_corpus_citations"], ascending=False, kind="stable")
        tags: dict[str, dict[str, int]] = {}
        counters: dict[str, Counter[str]] = {}
        for n in grp.index:
            for facet, values in (G.nodes[n].get("labels") or {}).items():
                counters.setdefault(facet, Counter()).update(values)
        for facet in sorted(counters, key=lambda f: (FACET_ORDER.index(f) if f in FACET_ORDER else 99, f)):
            common = sorted(counters[facet].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            tags[facet] = {v: int(k) for v, k in common}
        out.append(
            {
                "id": int(cid),
                "name": str(grp["community_name"].iloc[0]),
                "size": int(len(grp)),
                "top_papers": [_paper_brief(G, n, metrics) for n in ranked.index[:top_papers]],
                "dominant_tags": tags,
            }
        )
    return out


# --------------------------------------------------------------------------- co-citation, coupling


def _top_pairs(
    M: sp.csr_array, order: list[Any], degree: np.ndarray, *, rows: np.ndarray | None, top: int, min_weight: int
) -> pd.DataFrame:
    """Top pairs of ``M @ M.T`` (rows of M = papers) by weight, then similarity."""
    if rows is None:
        S = (M @ M.T).tocoo()
        r, c, w = S.row, S.col, S.data
        keep = r < c
    else:
        S = (M[rows] @ M.T).tocoo()
        r, c, w = rows[S.row], S.col, S.data
        keep = r != c
    keep &= w >= min_weight
    r, c, w = r[keep], c[keep], w[keep]
    a, b = np.minimum(r, c), np.maximum(r, c)
    if rows is not None and len(a):  # a pair of two selected papers appears twice
        uniq = np.unique(np.column_stack([a, b, w]), axis=0)
        a, b, w = uniq[:, 0].astype(np.int64), uniq[:, 1].astype(np.int64), uniq[:, 2]
    sim = w / np.sqrt(degree[a] * degree[b])
    idx = np.lexsort((b, a, -sim, -w))[:top]
    return pd.DataFrame(
        {
            "paper_a": [order[i] for i in a[idx].tolist()],
            "paper_b": [order[i] for i in b[idx].tolist()],
            "weight": w[idx].astype(np.int64),
            "similarity": sim[idx],
        }
    )


def _rows_of(order: list[Any], nodes: Iterable[Any] | None) -> np.ndarray | None:
    if nodes is None:
        return None
    index = {n: i for i, n in enumerate(order)}
    return np.array(sorted({index[n] for n in nodes if n in index}), dtype=np.int64)


@not_implemented_for("undirected")
def compute_cocitation(
    G: nx.DiGraph, *, top: int = 20, min_weight: int = 2, nodes: Iterable[Any] | None = None
) -> pd.DataFrame:
    """The most co-cited pairs: papers that other papers of ``G`` cite together.

    Returns a DataFrame ``paper_a, paper_b, weight, similarity`` (``weight`` =
    papers citing both; ``similarity`` = weight / sqrt(citations_a × citations_b)),
    best first; ``nodes`` restricts to pairs touching those papers.
    """
    return _cocitation(*citation_matrix(G), top=top, min_weight=min_weight, nodes=nodes)


def _cocitation(order: list[Any], A: sp.csr_array, *, top: int, min_weight: int,
                nodes: Iterable[Any] | None) -> pd.DataFrame:
    AT = A.T.tocsr()
    degree = np.asarray(AT.sum(axis=1)).ravel()
    return _top_pairs(AT, order, degree, rows=_rows_of(order, nodes), top=top, min_weight=min_weight)


@not_implemented_for("undirected")
def compute_coupling(
    G: nx.DiGraph, *, top: int = 20, min_weight: int = 2, nodes: Iterable[Any] | None = None
) -> pd.DataFrame:
    """The most strongly coupled pairs: papers of ``G`` that cite the same papers.

    Same columns as :func:`compute_cocitation` (``weight`` = shared references).
    On a big graph pass ``nodes``: a paper cited by thousands makes the
    unrestricted product quadratic in its citations.
    """
    return _coupling(*citation_matrix(G), top=top, min_weight=min_weight, nodes=nodes)


def _coupling(order: list[Any], A: sp.csr_array, *, top: int, min_weight: int,
              nodes: Iterable[Any] | None) -> pd.DataFrame:
    degree = np.asarray(A.sum(axis=1)).ravel()
    return _top_pairs(A, order, degree, rows=_rows_of(order, nodes), top=top, min_weight=min_weight)


# --------------------------------------------------------------------------- discovery


@not_implemented_for("undirected")
def compute_discovery(
    G: nx.DiGraph, *, core: Sequence[Any] | None = None, top: int = 20, min_links: int = 1
) -> pd.DataFrame:
    """Papers outside the core that the literature puts next to core papers, best first.

    A candidate scores the sum, over core papers, of its co-citation (both
    cited by the same papers) and its bibliographic coupling (both cite the
    same papers), each link weighted by resource allocation: a paper that cites
    ``k`` papers adds ``1/(k-1)`` to every pair it co-cites, and a reference
    cited by ``m`` papers adds ``1/(m-1)`` to every pair it couples. So a survey
    citing two hundred papers, or a classic everyone cites, counts for little,
    while a few focused papers citing a candidate next to core papers count
    for a lot. Strong candidates are what a survey of the core may have missed.
    A seed of the crawl or a paper labelled core is never a candidate.

    Parameters
    ----------
    core : sequence, optional
        The core papers; default :func:`core_papers` (``relevance=core``, else the seeds).
    top : int, default 20
    min_links : int, default 1
        Keep candidates linked (by co-citation or coupling) to at least this many core papers.

    Returns
    -------
    pandas.DataFrame
        ``paper_id, title, year, relevance, score, cocitation, coupling,
        cocited_with, coupled_with, closest_core`` (``relevance`` is the
        paper's label or ``""``; ``closest_core`` the core paper it is most
        similar to).
    """
    core = core_papers(G) if core is None else list(core)
    return _discovery(G, *citation_matrix(G), core=core, top=top, min_links=min_links)


def _known(d: dict[str, Any]) -> bool:
    """A crawl seed (``hop == 0``) or a paper labelled ``relevance=core``: never a discovery."""
    return d.get("hop") == 0 or "core" in (d.get("labels") or {}).get("relevance", ())


def _discovery(G: nx.DiGraph, order: list[Any], A: sp.csr_array, *, core: Sequence[Any], top: int,
               min_links: int) -> pd.DataFrame:
    columns = ["paper_id", "title", "year", "relevance", "score", "cocitation", "coupling",
               "cocited_with", "coupled_with", "closest_core"]
    rows = _rows_of(order, core)
    if rows is None or len(rows) == 0 or not order:
        return pd.DataFrame(columns=columns)
    AT = A.T.tocsr()
    indeg = np.asarray(AT.sum(axis=1)).ravel()
    outdeg = np.asarray(A.sum(axis=1)).ravel()

    def allocation(deg: np.ndarray) -> sp.dia_array:
        share = np.divide(1.0, deg - 1, out=np.zeros_like(deg), where=deg > 1)
        return sp.diags_array(share)

    co = sp.csr_array(AT[rows] @ (allocation(outdeg) @ A))  # core × papers, via the papers citing both
    cp = sp.csr_array(A[rows] @ (allocation(indeg) @ AT))  # core × papers, via the references both cite
    co.eliminate_zeros()
    cp.eliminate_zeros()
    co_sum = np.asarray(co.sum(axis=0)).ravel()
    cp_sum = np.asarray(cp.sum(axis=0)).ravel()
    co_n = np.diff(co.tocsc().indptr)
    cp_n = np.diff(cp.tocsc().indptr)
    score = co_sum + cp_sum
    is_core = np.zeros(len(order), dtype=bool)
    is_core[rows] = True
    # never propose what is known already: a seed of the crawl, or a paper labelled core (given ``core`` or not)
    is_core |= np.array([_known(G.nodes[n]) for n in order], dtype=bool)
    linked = (co + cp).tocsc()
    n_linked = np.diff(linked.indptr)
    candidates = np.flatnonzero(~is_core & (score > 0) & (n_linked >= min_links))
    ranked = candidates[np.lexsort((candidates, -score[candidates]))][:top]
    out = []
    for j in ranked.tolist():
        col = linked[:, [j]].tocoo()
        best = rows[col.row[np.lexsort((col.row, -col.data))[0]]] if col.nnz else None
        d = G.nodes[order[j]]
        out.append(
            {
                "paper_id": order[j],
                "title": d.get("title"),
                "year": d.get("year"),
                "relevance": ",".join((d.get("labels") or {}).get("relevance", ())),
                "score": float(score[j]),
                "cocitation": float(co_sum[j]),
                "coupling": float(cp_sum[j]),
                "cocited_with": int(co_n[j]),
                "coupled_with": int(cp_n[j]),
                "closest_core": None if best is None else order[int(best)],
            }
        )
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------- lineage


def _date_key(d: dict[str, Any]) -> str | None:
    date = d.get("publication_date")
    if isinstance(date, str) and len(date) >= 4 and date[:4].isdigit():
        return (date + "-00-00")[:10] if len(date) < 10 else date[:10]
    year = d.get("year")
    if year is not None:
        return f"{int(year):04d}-06-30"  # year only: mid-year
    return None


def _logsumexp(values: list[float]) -> float:
    m = max(values)
    if m == -math.inf:
        return m
    return m + math.log(sum(math.exp(v - m) for v in values))


@not_implemented_for("undirected")
def compute_lineage(G: nx.DiGraph, *, nodes: Iterable[Any] | None = None) -> pd.DataFrame:
    """The main path of the citation DAG: the chain of papers most knowledge flowed through.

    Global main-path analysis with search-path-count (SPC) weights: knowledge
    flows cited → citing; each link is weighted by the number of source-to-sink
    paths through it, and the path from a source (an earliest paper) to a sink
    (a newest) with the largest total weight is returned. Citation graphs are
    not always acyclic (mutual citations, revised preprints): papers are put in
    date order (publication date, else mid-year; undated papers are left out)
    and a link is kept only when it flows forward in that order, which breaks
    every cycle deterministically.

    Parameters
    ----------
    nodes : iterable, optional
        Restrict to these papers; default the field (papers labelled
        ``relevance`` core or related: core papers alone are often linked only
        through related work), or every paper when fewer than two are labelled.

    Returns
    -------
    pandas.DataFrame
        One row per paper on the path, earliest first: ``step, paper_id,
        title, year, publication_date, path_share`` (the share of all
        source-to-sink paths that run through the link into this paper; NaN
        for the first).
    """
    columns = ["step", "paper_id", "title", "year", "publication_date", "path_share"]
    if nodes is None:
        wanted = {"core", "related"}
        nodes = [n for n, d in G.nodes(data=True) if wanted & set((d.get("labels") or {}).get("relevance", ()))]
        if len(nodes) < 2:
            nodes = list(G.nodes)
    keys = {n: _date_key(G.nodes[n]) for n in nodes if n in G}
    dated = sorted((k, str(n), n) for n, k in keys.items() if k is not None)
    pos = {n: i for i, (_, _, n) in enumerate(dated)}
    seq = [n for _, _, n in dated]
    preds: list[list[int]] = [[] for _ in seq]
    succs: list[list[int]] = [[] for _ in seq]
    for citing in seq:
        j = pos[citing]
        for cited in G.successors(citing):
            i = pos.get(cited)
            if i is not None and i < j:  # flow cited → citing, forward in time
                preds[j].append(i)
                succs[i].append(j)
    active = [i for i in range(len(seq)) if preds[i] or succs[i]]
    if not active:
        return pd.DataFrame(columns=columns)
    lnm = [0.0] * len(seq)  # log number of paths from any source to i
    for i in active:
        if preds[i]:
            lnm[i] = _logsumexp([lnm[u] for u in preds[i]])
    lnp = [0.0] * len(seq)  # log number of paths from i to any sink
    for i in reversed(active):
        if succs[i]:
            lnp[i] = _logsumexp([lnp[v] for v in succs[i]])
    total = _logsumexp([lnm[i] for i in active if not succs[i]])
    best = [-math.inf] * len(seq)  # log of the best total SPC of a path ending at i
    back = [-1] * len(seq)
    for v in active:
        for u in preds[v]:
            cand = float(np.logaddexp(best[u], lnm[u] + lnp[v]))
            if cand > best[v]:
                best[v], back[v] = cand, u
    sinks = [i for i in active if not succs[i]]
    end = max(sinks, key=lambda i: (best[i], -i))
    path = [end]
    while back[path[-1]] >= 0:
        path.append(back[path[-1]])
    path.reverse()
    out = []
    for step, i in enumerate(path):
        d = G.nodes[seq[i]]
        share = math.nan if step == 0 else math.exp(lnm[path[step - 1]] + lnp[i] - total)
        out.append([step, seq[i], d.get("title"), d.get("year"), d.get("publication_date"), share])
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------- the report


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    recs = df.astype(object).where(pd.notna(df), None).to_dict(orient="records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in recs]


def _with_titles(G: nx.Graph, pairs: pd.DataFrame) -> pd.DataFrame:
    pairs = pairs.copy()
    pairs["title_a"] = [G.nodes[n].get("title") for n in pairs["paper_a"]]
    pairs["title_b"] = [G.nodes[n].get("title") for n in pairs["paper_b"]]
    return pairs


@not_implemented_for("undirected")
def compute_graph_report(
    G: nx.DiGraph,
    *,
    top: int = 20,
    seed: int = 42,
    metrics: pd.DataFrame | None = None,
    max_communities: int | None = None,
) -> dict[str, Any]:
    """Everything ``rlmllm-graph graph --json`` prints, as a JSON-ready dict.

    Keys: ``nodes``, ``edges``, ``top`` (the ``top`` papers by PageRank:
    ``paper_id, title, pagerank, in_corpus_citations, community``),
    ``communities`` (see :func:`compute_community_summary`; at most
    ``max_communities``, default ``top``), plus ``n_communities``,
    ``unconnected`` (papers with no in-corpus link), ``core`` (core papers
    used), ``cocitation`` (top co-cited pairs, with ``title_a``/``title_b``),
    ``coupling`` (top coupled pairs involving a core paper), ``lineage`` (main path, see
    :func:`compute_lineage`) and ``discovery`` (see :func:`compute_discovery`).

    Raises
    ------
    EmptyGraph
        When ``G`` has no nodes.
    """
    _require_nonempty(G)
    order, A = citation_matrix(G)
    if metrics is None:
        metrics = _node_metrics(G, order, A, seed=seed)
    ranked = metrics.sort_values(["pagerank", "in_corpus_citations"], ascending=False, kind="stable")
    top_rows = [
        {
            "paper_id": n,
            "title": G.nodes[n].get("title"),
            "pagerank": float(row.pagerank),
            "in_corpus_citations": int(row.in_corpus_citations),
            "community": int(row.community),
        }
        for n, row in zip(ranked.index[:top], ranked.iloc[:top].itertuples(index=False))
    ]
    communities = compute_community_summary(
        G, metrics, max_communities=top if max_communities is None else max_communities
    )
    core = core_papers(G)
    cocitation = _with_titles(G, _cocitation(order, A, top=top, min_weight=2, nodes=None))
    coupling = _with_titles(G, _coupling(order, A, top=top, min_weight=2, nodes=core) if core else
                            pd.DataFrame(columns=["paper_a", "paper_b", "weight", "similarity"]))
    return {
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "top": top_rows,
        "communities": communities,
        "n_communities": int(metrics.loc[metrics["community"] != ISOLATED, "community"].nunique()),
        "unconnected": int((metrics["community"] == ISOLATED).sum()),
        "core": len(core),
        "cocitation": _records(cocitation),
        "coupling": _records(coupling),
        "lineage": _records(compute_lineage(G)),
        "discovery": _records(_discovery(G, order, A, core=core, top=top, min_links=1)),
    }
