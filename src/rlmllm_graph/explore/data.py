"""The site's two data files: the papers table and the graph, as packed typed arrays.

``papers_data(...)`` builds ``data/papers.js`` (shared by ``papers.html`` and
``graph.html``, loaded once): one row per paper in ``paper_id`` order, text
columns in the header, numbers as typed arrays, and every label with its
confidence, source, evidence and evidence source (``title``, ``abstract``, a
section title or ``manual``) as flat arrays indexed by ``lab_start``.
``graph_data(...)`` builds ``data/graph.js``: layout positions, citation
edges, node degrees and one bit mask per facet (bit ``k`` set when the paper
has the facet's ``values[k]``), which the explorer's filters test without
rebuilding anything. :func:`~rlmllm_graph.explore.pack.pack_js` writes both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..classify.vocabulary import FACETS

__all__ = [
    "ABSTRACT_CHARS",
    "MAX_COMMUNITIES",
    "community_masks",
    "cut_text",
    "facet_values",
    "graph_data",
    "papers_data",
]

#: Characters of an abstract carried by the static site (the full text is one click away on arXiv/S2).
ABSTRACT_CHARS = 600
#: Communities with their own colour; the rest are grouped as "other communities".
MAX_COMMUNITIES = 12
#: Values a facet mask can hold (bits of a uint32); rarer unknown values beyond are not filterable.
_MASK_BITS = 32
_NONE = 0xFF


def _strings(col: Sequence[Any]) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in col]


def cut_text(text: str | None, limit: int) -> str | None:
    """``text`` cut at a word to at most ``limit`` characters, ending " …" when cut; None or "" stay."""
    if not text:
        return text
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def facet_values(labels: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Every facet with its values: the vocabulary's order first, unknown values after (sorted)."""
    seen: dict[str, set[str]] = {}
    if len(labels):
        for facet, value in labels[["facet", "value"]].drop_duplicates().itertuples(index=False):
            seen.setdefault(str(facet), set()).add(str(value))
    names = list(FACETS) + sorted(set(seen) - set(FACETS))
    out = []
    for f in names:
        have = seen.get(f, set())
        known = [v for v in FACETS.get(f, ()) if v in have]
        out.append((f, known + sorted(have - set(known))))
    return out


def _index_of(ids: pd.Index, values: pd.Series) -> np.ndarray:
    return ids.get_indexer(values.astype(str))


def papers_data(
    papers: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    authors: Mapping[str, Sequence[str]],
    metrics: pd.DataFrame | None = None,
    abstract_chars: int = ABSTRACT_CHARS,
    text: bool = True,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The papers table as ``(header, arrays)`` for :func:`~rlmllm_graph.explore.pack.pack_js`.

    ``papers`` in the site's row order (``paper_id`` order); ``labels`` with
    ``paper_id, facet, value, confidence, source, evidence`` and optionally
    ``evidence_source``; ``metrics`` indexed by paper id (PageRank, in-corpus
    citations, community). With ``text=False`` only ids, titles and years
    travel (``serve`` answers the rest from the database on demand).
    """
    n = len(papers)
    ids = pd.Index(papers["paper_id"].astype(str))
    cols: dict[str, list[str]] = {"id": ids.tolist(), "title": _strings(papers["title"].tolist())}
    years = pd.to_numeric(papers["year"], errors="coerce").fillna(0).astype(np.int32).to_numpy()
    arrays: dict[str, np.ndarray] = {"year": years.astype(np.int16)}
    m = metrics.reindex(ids) if metrics is not None and len(metrics) else None
    arrays["pagerank"] = (m["pagerank"].fillna(0).to_numpy(np.float32) if m is not None
                          else np.zeros(n, np.float32))
    arrays["in_corpus"] = (m["in_corpus_citations"].fillna(0).to_numpy(np.uint32) if m is not None
                           else np.zeros(n, np.uint32))
    cites = pd.to_numeric(papers["citation_count"], errors="coerce")
    arrays["citations"] = cites.fillna(-1).astype(np.int32).to_numpy()
    header: dict[str, Any] = {"version": 2, "n": n, "text": text}
    if not text:
        header["columns"] = cols
        header["facets"] = [{"name": f, "values": vals} for f, vals in facet_values(labels)]
        return header, arrays

    cols["date"] = _strings(papers["publication_date"].tolist())
    cols["venue"] = _strings(papers["venue"].tolist())
    cols["arxiv"] = _strings(papers["arxiv_id"].tolist())
    cols["doi"] = _strings(papers["doi"].tolist())
    cols["url"] = _strings(papers["url"].tolist()) if "url" in papers else [""] * n
    cols["hop"] = _strings(papers["hop"].astype("Int64").tolist()) if "hop" in papers else [""] * n
    cols["abstract"] = [cut_text(a, abstract_chars) or "" for a in _strings(papers["abstract"].tolist())]
    cols["authors"] = []
    n_auth = np.zeros(n, np.uint16)
    for k, pid in enumerate(cols["id"]):
        names = list(authors.get(pid, ()))
        n_auth[k] = min(len(names), 65535)
        cols["authors"].append(", ".join(str(a) for a in names[:12]))
    arrays["n_authors"] = n_auth

    facets = facet_values(labels)
    fidx = {f: k for k, (f, _) in enumerate(facets)}
    vidx = {(f, v): k for f, vals in facets for k, v in enumerate(vals)}
    lab = labels.copy()
    lab["row"] = _index_of(ids, lab["paper_id"])
    lab = lab[lab["row"] >= 0]
    lab["frank"] = lab["facet"].astype(str).map(fidx)
    lab = lab.sort_values(["row", "frank", "value"], kind="stable")
    counts = np.bincount(lab["row"].to_numpy(), minlength=n)
    arrays["lab_start"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint32)
    arrays["lab_facet"] = lab["frank"].to_numpy(np.uint8)
    arrays["lab_value"] = np.array([vidx[(str(f), str(v))] for f, v in zip(lab["facet"], lab["value"])], np.uint8)
    conf = pd.to_numeric(lab["confidence"], errors="coerce")
    arrays["lab_conf"] = np.where(conf.isna(), _NONE, (conf.fillna(0).clip(0, 1) * 100).round()).astype(np.uint8)
    sources = sorted({s for s in _strings(lab["source"].tolist()) if s})
    sidx = {s: k for k, s in enumerate(sources)}
    arrays["lab_source"] = np.array([sidx.get(s, _NONE) for s in _strings(lab["source"].tolist())], np.uint8)
    esrc = _strings(lab["evidence_source"].tolist()) if "evidence_source" in lab else [""] * len(lab)
    where = [""] + sorted({s for s in esrc if s})
    widx = {s: k for k, s in enumerate(where)}
    arrays["lab_where"] = np.array([widx[s] for s in esrc], np.uint16)
    header.update({
        "columns": cols,
        "facets": [{"name": f, "values": vals} for f, vals in facets],
        "sources": sources,
        "where": where,
        "evidence": _strings(lab["evidence"].tolist()),
    })
    return header, arrays


def community_masks(community: np.ndarray, names: Sequence[Any] | None) -> tuple[list[str], np.ndarray]:
    """The biggest communities by name (others grouped) and each paper's bit mask."""
    c = np.asarray(community, dtype=np.int64)
    valid = c >= 0
    sizes = np.bincount(c[valid]) if valid.any() else np.zeros(0, np.int64)
    ranked = [int(k) for k in np.lexsort((np.arange(len(sizes)), -sizes)) if sizes[k] > 1][:MAX_COMMUNITIES]
    label: dict[int, str] = {}
    if names is not None:
        for k, name in zip(c.tolist(), names):
            if k >= 0 and k not in label and isinstance(name, str) and name:
                label[k] = name
    values = [label.get(k) or f"community {k}" for k in ranked]
    slot = np.full(len(sizes) + 1, -1, np.int64)
    for s, k in enumerate(ranked):
        slot[k] = s
    mask = np.zeros(len(c), np.uint32)
    pos = np.where(valid, slot[np.where(valid, c, len(sizes))], -1)
    if (valid & (pos < 0)).any():
        values.append("other communities")
        pos = np.where(valid & (pos < 0), len(values) - 1, pos)
    mask[pos >= 0] = np.left_shift(np.uint32(1), pos[pos >= 0].astype(np.uint32))
    return values, mask


def graph_data(
    ids: Sequence[str],
    src: np.ndarray,
    dst: np.ndarray,
    pos: np.ndarray,
    labels: pd.DataFrame,
    *,
    metrics: pd.DataFrame | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The explorer's graph as ``(header, arrays)``: positions, edges (citing first), degrees, facet masks."""
    n = len(ids)
    index = pd.Index([str(i) for i in ids])
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    deg = np.bincount(np.concatenate([src, dst]), minlength=n).astype(np.uint32)
    arrays: dict[str, np.ndarray] = {
        "x": np.asarray(pos[:, 0], np.float32) if n else np.zeros(0, np.float32),
        "y": np.asarray(pos[:, 1], np.float32) if n else np.zeros(0, np.float32),
        "src": src.astype(np.uint32),
        "dst": dst.astype(np.uint32),
        "degree": deg,
    }
    facets = []
    lab = labels[["paper_id", "facet", "value"]].copy()
    lab["row"] = _index_of(index, lab["paper_id"])
    lab = lab[lab["row"] >= 0]
    for f, vals in facet_values(labels):
        vals = vals[:_MASK_BITS]
        pos_of = {v: k for k, v in enumerate(vals)}
        sub = lab[lab["facet"].astype(str) == f]
        bit = sub["value"].astype(str).map(pos_of)
        ok = bit.notna().to_numpy()
        mask = np.zeros(n, np.uint32)
        np.bitwise_or.at(mask, sub["row"].to_numpy()[ok], np.left_shift(np.uint32(1), bit[ok].to_numpy(np.uint32)))
        arrays["mask_" + f] = mask
        facets.append({"name": f, "values": vals})
    m = metrics.reindex(index) if metrics is not None and len(metrics) else None
    community = m["community"].fillna(-1).to_numpy(np.int64) if m is not None else np.full(n, -1, np.int64)
    cnames = m["community_name"].tolist() if m is not None and "community_name" in m else None
    values, cmask = community_masks(community, cnames)
    arrays["mask_community"] = cmask
    facets.append({"name": "community", "values": values})
    header = {"version": 2, "n": n, "m": int(len(src)), "facets": facets, "isolated": int((deg == 0).sum())}
    return header, arrays
