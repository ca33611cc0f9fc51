"""The explorer's layout, computed once and kept in the database until the graph changes.

:func:`cached_layout` compares a signature of the graph (paper ids, links,
seed, layout version) with the one stored beside the cached positions
(``store.load_layout``):

- the same graph: the cached positions, no computation (``"cached"``);
- a graph that grew a little (at most :data:`EXTEND_SHARE` new papers since
  the last full layout, same seed): the cached positions are kept and the new
  papers placed beside their neighbours (``"extended"``, a few passes over the edges);
- otherwise a full :func:`~rlmllm_graph.explore.layout.layout_arrays` (``"computed"``).

The result is saved back (``store.save_layout``); where the database cannot
be written the layout is simply not cached (``"saved": False``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from .. import store
from .layout import extend_layout, layout_arrays

__all__ = ["EXTEND_SHARE", "LAYOUT_VERSION", "cached_layout", "graph_signature"]

#: Bumped when the layout algorithm changes, so old caches are recomputed.
LAYOUT_VERSION = "3"
#: New papers (since the last full layout) up to this share of the graph are placed, not laid out again.
EXTEND_SHARE = 0.1


def graph_signature(ids: list[str], src: np.ndarray, dst: np.ndarray, *, seed: int) -> str:
    """A hash of the papers, their undirected links, the seed and the layout version."""
    h = hashlib.sha256(f"v{LAYOUT_VERSION};seed={seed};n={len(ids)}\n".encode())
    h.update("\n".join(ids).encode())
    n = max(len(ids), 1)
    a = np.minimum(src, dst).astype(np.int64)
    b = np.maximum(src, dst).astype(np.int64)
    h.update(np.unique(a[a != b] * n + b[a != b]).tobytes())
    return h.hexdigest()


def cached_layout(
    db: sqlite_utils.Database,
    ids: list[str],
    src: np.ndarray,
    dst: np.ndarray,
    *,
    years: np.ndarray | None = None,
    seed: int = 42,
    save: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Positions ``(n, 2)`` for ``ids`` and ``{"layout": "cached"|"extended"|"computed", "saved": bool}``."""
    n = len(ids)
    sig = graph_signature(ids, src, dst, seed=seed)
    cached = store.load_layout(db)
    how = "computed"
    base_n = n
    pos: np.ndarray | None = None
    if cached is not None:
        meta, frame = cached
        if meta.get("signature") == sig and len(frame) == n:
            xy = frame.set_index("paper_id").reindex(pd.Index(ids))
            if not xy.isna().any().any():
                return xy[["x", "y"]].to_numpy(np.float64), {"layout": "cached", "saved": True}
        if meta.get("version") == LAYOUT_VERSION and meta.get("seed") == str(seed):
            xy = frame.set_index("paper_id").reindex(pd.Index(ids))
            known = xy["x"].notna().to_numpy()
            base_n = int(meta.get("base_n") or len(frame))
            if known.any() and n - base_n <= EXTEND_SHARE * base_n and known.sum() >= (1 - EXTEND_SHARE) * n:
                pos = extend_layout(xy[["x", "y"]].fillna(0).to_numpy(np.float64), known, src, dst, seed=seed)
                how = "extended"
    if pos is None:
        pos = layout_arrays(n, src, dst, years=years, seed=seed)
        base_n = n
    saved = False
    if save and n:
        meta = {"signature": sig, "version": LAYOUT_VERSION, "seed": seed, "base_n": base_n, "papers": n,
                "links": int(len(src)), "computed_at": store.now_iso(), "how": how}
        saved = store.save_layout(db, ids, pos, meta)
    return pos, {"layout": how, "saved": saved}
