"""The graph explorer and the paper list: their data, layout, templates and scripts.

The report writes the explorer's data as packed typed arrays
(:mod:`~rlmllm_graph.explore.data`, :mod:`~rlmllm_graph.explore.pack`),
laid out once in Python (:mod:`~rlmllm_graph.explore.layout`) and cached in
the database (:mod:`~rlmllm_graph.explore.cache`); ``static/explorer.js``
draws it with its own small WebGL layer and ``static/papers.js`` lists the
papers with virtual scrolling.

``graph_to_payload(G, metrics)`` gives the same graph as one JSON-ready dict
(columnar node arrays, layout positions, edges as index pairs, every facet as
value lists per node), for notebooks and other tools.

Paper text is untrusted: :func:`json_for_script` escapes ``<``, ``>``, ``&``
and U+2028/U+2029 so a title cannot close a script block, and the pages put
text into the DOM with ``textContent`` only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..classify.vocabulary import FACET_ORDER, FACETS, ordered_facets
from .data import community_masks, cut_text
from .layout import compute_layout

__all__ = [
    "FACET_ORDER",
    "JS_ESCAPES",
    "asset_names",
    "compute_layout",
    "graph_to_payload",
    "json_for_script",
    "read_asset",
    "read_template",
]


#: what makes text safe inside an HTML <script> block: no "</script>", "<!--" or JS line terminators
JS_ESCAPES: dict[int, str] = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_for_script(obj: Any) -> str:
    """``obj`` as JSON that is safe inside an HTML ``<script>`` block.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc. (so ``</script>`` and
    ``<!--`` cannot appear), as do U+2028/U+2029 (line terminators in older
    JavaScript). NaN and infinities are refused: clean them to ``None`` first.

    >>> json_for_script({"t": "</script><b>&"})
    '{"t":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(JS_ESCAPES)


def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _text(v: Any) -> str | None:
    v = _clean(v)
    return None if v is None else str(v)


def _ordered_values(facet: str, seen: set[str]) -> list[str]:
    known = [v for v in FACETS.get(facet, ()) if v in seen]
    return known + sorted(seen - set(known))


def _label_details(labels: pd.DataFrame | Sequence[Mapping[str, Any]] | None) -> dict[str, list[list[Any]]]:
    """``paper_id`` → ``[[facet, value, confidence, source, evidence], ...]``."""
    out: dict[str, list[list[Any]]] = {}
    if labels is None:
        return out
    if isinstance(labels, pd.DataFrame):
        cols = [labels[c].tolist() if c in labels else [None] * len(labels)
                for c in ("paper_id", "facet", "value", "confidence", "source", "evidence")]
        rows = zip(*cols)
    else:
        rows = ((r["paper_id"], r["facet"], r["value"], r.get("confidence"), r.get("source"), r.get("evidence"))
                for r in labels)
    for paper_id, facet, value, confidence, source, evidence in rows:
        conf = _clean(confidence)
        out.setdefault(str(paper_id), []).append(
            [str(facet), str(value), None if conf is None else round(float(conf), 3), _text(source), _text(evidence)]
        )
    return out


def graph_to_payload(
    G: nx.DiGraph,
    metrics: pd.DataFrame | None = None,
    *,
    labels: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    positions: np.ndarray | Mapping[Any, Sequence[float]] | None = None,
    abstracts: Mapping[Any, Any] | None = None,
    abstract_chars: int = 600,
    seed: int = 42,
) -> dict[str, Any]:
    """The explorer's data: nodes, layout, edges, facets and label evidence, JSON-ready.

    Parameters
    ----------
    G : networkx.DiGraph
        A citation graph (``citing → cited``) with the node attributes of
        :func:`~rlmllm_graph.graph.build_citation_graph` (missing ones are ``None``).
    metrics : pandas.DataFrame, optional
        :func:`~rlmllm_graph.analysis.compute_node_metrics` output (indexed by
        paper id); PageRank, in-corpus citations and communities are zero/``-1``
        without it.
    labels : DataFrame or list of dicts, optional
        Label rows (``paper_id, facet, value, confidence, source, evidence``,
        e.g. :func:`~rlmllm_graph.store.load_labels`) for the details panel's
        evidence; facet membership itself comes from the ``labels`` node attribute.
    positions : array (n, 2) in node order, or dict node → (x, y), optional
        Layout; computed with :func:`compute_layout` (``seed``) when omitted.
    abstracts : dict paper id → abstract, optional
        Shown in the details panel, cut to ``abstract_chars`` characters
        (``None`` in the ``abstract`` column when absent).

    Returns
    -------
    dict
        ``{"version": 1, "n": n, "nodes": {column: list}, "edges": [s0, t0, s1, t1, ...],
        "facets": [{"name", "values", "members"}], "labels": [[...] per node],
        "years": [min, max] or None}``. ``members[i]`` lists indices into
        ``values`` for node ``i``; edges are node indices, citing first.
    """
    order = list(G.nodes)
    n = len(order)
    index = {v: i for i, v in enumerate(order)}
    if positions is None:
        pos = compute_layout(G, seed=seed)
    elif isinstance(positions, Mapping):
        pos = np.array([positions[v] for v in order], dtype=np.float64).reshape(n, 2)
    else:
        pos = np.asarray(positions, dtype=np.float64).reshape(n, 2)

    m = metrics.reindex(order) if metrics is not None and len(metrics) else None

    def metric(col: str, default: float) -> list[Any]:
        if m is None or col not in m:
            return [default] * n
        return [default if _clean(x) is None else _clean(x) for x in m[col].tolist()]

    attrs = [G.nodes[v] for v in order]
    nodes: dict[str, list[Any]] = {
        "id": [str(v) for v in order],
        "title": [_text(a.get("title")) or "(untitled)" for a in attrs],
        "year": [_clean(a.get("year")) for a in attrs],
        "date": [_text(a.get("publication_date")) for a in attrs],
        "venue": [_text(a.get("venue")) for a in attrs],
        "arxiv": [_text(a.get("arxiv_id")) for a in attrs],
        "doi": [_text(a.get("doi")) for a in attrs],
        "url": [_text(a.get("url")) for a in attrs],
        "authors": [[str(x) for x in (a.get("authors") or [])] for a in attrs],
        "citations": [None if _clean(a.get("citation_count")) is None else int(_clean(a.get("citation_count")))
                      for a in attrs],
        "hop": [_clean(a.get("hop")) for a in attrs],
        "pagerank": [float(x) for x in metric("pagerank", 0.0)],
        "in_corpus": [int(x) for x in metric("in_corpus_citations", 0)],
        "community": [int(x) for x in metric("community", -1)],
        "abstract": [cut_text(_text((abstracts or {}).get(v)), abstract_chars) for v in order],
        "x": [round(float(x), 3) for x in pos[:, 0]] if n else [],
        "y": [round(float(y), 3) for y in pos[:, 1]] if n else [],
    }
    for key in ("year", "hop"):
        nodes[key] = [None if v is None else int(v) for v in nodes[key]]

    edges: list[int] = []
    for u, v in G.edges():
        if u != v:
            edges.extend((index[u], index[v]))

    facets: list[dict[str, Any]] = []
    node_labels = [a.get("labels") or {} for a in attrs]
    names = ordered_facets(f for lab in node_labels for f in lab)
    for facet in names:
        seen = {str(x) for lab in node_labels for x in (lab.get(facet) or ())}
        values = _ordered_values(facet, seen)
        pos_of = {v: k for k, v in enumerate(values)}
        members = [sorted(pos_of[str(x)] for x in (lab.get(facet) or ()) if str(x) in pos_of) for lab in node_labels]
        facets.append({"name": facet, "values": values, "members": members})
    facets.append(_community_facet(nodes["community"], m))
    facets.append(_decade_free_year_facet(nodes["year"]))

    details = _label_details(labels)
    years = [y for y in nodes["year"] if y is not None]
    return {
        "version": 1,
        "n": n,
        "nodes": nodes,
        "edges": edges,
        "facets": facets,
        "labels": [details.get(pid, []) for pid in nodes["id"]],
        "years": [min(years), max(years)] if years else None,
    }


def _community_facet(community: list[int], m: pd.DataFrame | None) -> dict[str, Any]:
    """The biggest communities by name (others grouped), as a facet to colour or filter by."""
    names = m["community_name"].tolist() if m is not None and "community_name" in m else None
    values, mask = community_masks(np.asarray(community, dtype=np.int64), names)
    return {"name": "community", "values": values,
            "members": [[int(x).bit_length() - 1] if x else [] for x in mask.tolist()]}


def _decade_free_year_facet(years: list[int | None]) -> dict[str, Any]:
    """Publication year as a facet (colour by year); the year-range filter is separate."""
    values = sorted({y for y in years if y is not None})
    pos_of = {y: k for k, y in enumerate(values)}
    return {
        "name": "year",
        "values": [str(y) for y in values],
        "members": [[pos_of[y]] if y is not None else [] for y in years],
    }


def read_asset(name: str) -> bytes:
    """A file of ``explore/static`` (the explorer's scripts, styles and vendored libraries)."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


def asset_names() -> list[str]:
    """Every file in ``explore/static``."""
    return sorted(p.name for p in resources.files(__package__).joinpath("static").iterdir() if p.is_file())


def read_template(name: str) -> str:
    """A file of ``explore/templates``."""
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")
