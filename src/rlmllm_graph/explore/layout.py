"""A fast, seeded ForceAtlas2-style layout for the explorer, computed in Python.

The browser should draw, not simulate: positions are computed once here so the
explorer's first frame at 10,000 nodes needs no physics. Forces follow
ForceAtlas2 (linear attraction along edges; repulsion ``(deg_i+1)(deg_j+1)/d``;
gravity ``(deg+1)`` towards the centre), but the all-pairs repulsion is
computed on a grid (a particle-mesh method: node masses binned into a 2-D
histogram, convolved with the ``1/d`` force kernel by FFT), so one iteration
costs O(n + g² log g) instead of O(n²).

>>> import networkx as nx
>>> pos = compute_layout(nx.path_graph(4), seed=1)
>>> pos.shape
(4, 2)
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy import fft as sfft
from scipy.sparse import csgraph

__all__ = ["compute_layout", "extend_layout", "layout_arrays", "layout_dict"]


def _kernel_fft(g: int) -> tuple[np.ndarray, int]:
    """FFT of the force of unit mass at grid offset (dx, dy), in cell units: (dx + i·dy) / |d|².

    Both force components travel as one complex kernel, so each iteration costs
    one forward and one inverse FFT of the padded grid.
    """
    r = np.arange(-g, g + 1, dtype=np.float64)
    dx, dy = np.meshgrid(r, r, indexing="ij")
    d2 = dx * dx + dy * dy
    d2[g, g] = np.inf  # a cell does not push itself
    size = sfft.next_fast_len(3 * g, real=False)
    return sfft.fft2((dx + 1j * dy) / d2, s=(size, size)), size


def compute_layout(
    G: nx.Graph,
    *,
    seed: int = 42,
    iterations: int | None = None,
    grid: int | None = None,
    gravity: float = 1.0,
) -> np.ndarray:
    """Node positions, an ``(n, 2)`` float array in the node order of ``G``.

    Parameters
    ----------
    G : networkx.Graph or DiGraph
        Edge direction is ignored.
    seed : int, default 42
        Seeds the initial positions; the same graph and seed give the same layout.
    iterations : int, optional
        Force iterations (the step size cools linearly over them): 150, or 100 above 50,000 papers.
    grid : int, optional
        Cells per side of the repulsion grid (default grows with ``n``, 32 to 192).
    gravity : float, default 1.0
        Pull towards the centre (keeps isolated papers near the rest).

    Returns
    -------
    numpy.ndarray
        ``float64`` positions centred on 0; about unit spacing between linked papers.
    """
    order = list(G.nodes)
    index = {v: i for i, v in enumerate(order)}
    pairs = [(index[u], index[v]) for u, v in G.edges()]
    src = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    dst = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    years = np.array([_year(G.nodes[v].get("year")) for v in order], dtype=np.float64)
    return layout_arrays(len(order), src, dst, years=years, seed=seed, iterations=iterations, grid=grid,
                         gravity=gravity)


def _year(v: Any) -> float:
    try:
        return float(v) if v is not None and v == v else np.nan
    except (TypeError, ValueError):
        return np.nan


def _undirected_pairs(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each undirected link once (lower index first), self-loops dropped."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    keep = src != dst
    lo, hi = np.minimum(src, dst)[keep], np.maximum(src, dst)[keep]
    if not len(lo):
        return lo, hi
    key = np.unique(lo * n + hi)
    return key // n, key % n


def layout_arrays(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    *,
    years: np.ndarray | None = None,
    seed: int = 42,
    iterations: int | None = None,
    grid: int | None = None,
    gravity: float = 1.0,
) -> np.ndarray:
    """:func:`compute_layout` on node indices: ``n`` nodes, edges ``src[k] - dst[k]`` (direction ignored).

    ``years`` (float, NaN where unknown) orders the isolated papers on their
    annulus. Every per-edge step is a ``bincount``, so an iteration on a
    million edges costs tens of milliseconds. ``iterations`` defaults to 150,
    100 above 50,000 papers (the picture settles sooner than the time grows).
    """
    if iterations is None:
        iterations = 150 if n <= 50_000 else 100
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.zeros((1, 2))
    src, dst = _undirected_pairs(n, src, dst)
    deg = np.bincount(np.concatenate([src, dst]), minlength=n).astype(np.float64)
    mass = deg + 1.0
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(n, 2)) * np.sqrt(n)
    g = grid or int(min(192, max(32, 2 * np.sqrt(n))))
    kf, size = _kernel_fft(g)
    kr = 1.0
    span0 = float(np.ptp(pos, axis=0).max())
    for it in range(iterations):
        lo = pos.min(axis=0)
        cell = max(float(np.ptp(pos, axis=0).max()) / (g - 1), 1e-9)
        ij = np.clip(((pos - lo) / cell).astype(np.int64), 0, g - 1)
        flat = ij[:, 0] * g + ij[:, 1]
        dens = np.bincount(flat, weights=mass, minlength=g * g).reshape(g, g)
        field = sfft.ifft2(sfft.fft2(dens, s=(size, size)) * kf)[g : 2 * g, g : 2 * g].ravel()[flat]
        force = kr * mass[:, None] * np.column_stack([field.real, field.imag]) / cell
        if len(src):
            delta = pos[dst] - pos[src]
            for axis in (0, 1):
                d = delta[:, axis]
                force[:, axis] += np.bincount(src, weights=d, minlength=n) - np.bincount(dst, weights=d, minlength=n)
        norm = np.linalg.norm(pos, axis=1, keepdims=True) + 1e-9
        force -= gravity * mass[:, None] * pos / norm
        step = force / mass[:, None]
        # cool linearly from a tenth of the initial span to almost nothing
        temp = span0 * 0.1 * (1.0 - it / iterations) + 0.01
        length = np.linalg.norm(step, axis=1, keepdims=True) + 1e-12
        pos += step * np.minimum(1.0, temp / length)
    return _pack_small_components(n, pos, src, dst, years)


_GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    A = sp.coo_array((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    return csgraph.connected_components(A, directed=False)[1]


def _pack_small_components(
    n: int, pos: np.ndarray, src: np.ndarray, dst: np.ndarray, years: np.ndarray | None
) -> np.ndarray:
    """Move isolated papers and tiny components (< 5 papers) onto a sunflower annulus round the rest.

    Repulsion from the whole connected mass would otherwise push them onto a
    distant ring and shrink the interesting part of the picture to a dot.
    """
    label = _components(n, src, dst)
    sizes = np.bincount(label)
    in_big = sizes[label] >= 5
    big = np.flatnonzero(in_big)
    out = pos.copy()
    if len(big):
        centre = out[big].mean(axis=0)
        out -= centre
        radius = float(np.quantile(np.linalg.norm(out[big], axis=1), 0.95))
        lengths = np.linalg.norm(out[dst] - out[src], axis=1)[in_big[src]] if len(src) else np.zeros(0)
        spacing = float(np.median(lengths)) * 1.5 if len(lengths) else 1.0
        spacing = max(spacing, radius / max(np.sqrt(len(big)), 1.0))
    else:
        radius, spacing = 0.0, 1.0
    small_nodes = np.flatnonzero(~in_big)
    if not len(small_nodes):
        return out
    # group the small components; order them by year (oldest inside), then by first member
    comp = label[small_nodes]
    order = np.lexsort((small_nodes, comp))
    small_nodes, comp = small_nodes[order], comp[order]
    starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]])
    ends = np.r_[starts[1:], len(comp)]
    firsts = small_nodes[starts]
    yrs = years[firsts] if years is not None and len(years) == n else np.full(len(firsts), np.nan)
    ranked = np.lexsort((firsts, np.nan_to_num(yrs, nan=0.0), np.isnan(yrs)))
    r0 = radius * 1.1 + spacing if len(big) else 0.0
    slots = np.arange(len(ranked))
    ring_r = np.sqrt(r0 * r0 + slots * spacing * spacing / np.pi * 1.2)
    theta = slots * _GOLDEN_ANGLE
    spot = np.column_stack([ring_r * np.cos(theta), ring_r * np.sin(theta)])
    size = (ends - starts)[ranked]
    single = size == 1  # most of them: an isolated paper goes straight to its spot
    out[small_nodes[starts[ranked[single]]]] = spot[single]
    for slot in np.flatnonzero(~single).tolist():
        k = int(ranked[slot])
        members = small_nodes[starts[k] : ends[k]]
        rel = out[members] - out[members].mean(axis=0)
        rel_len = np.linalg.norm(rel, axis=1, keepdims=True) + 1e-12
        rel = rel / rel_len * np.minimum(rel_len, spacing * 0.6)
        out[members] = rel + spot[slot]
    return out


def extend_layout(
    old: np.ndarray, known: np.ndarray, src: np.ndarray, dst: np.ndarray, *, seed: int = 42
) -> np.ndarray:
    """Positions for a graph that grew a little: cached positions kept, new papers placed beside their neighbours.

    ``old`` is ``(n, 2)`` with the cached positions where ``known`` is true.
    A new paper linked to placed papers goes to their mean (plus a small
    jitter), and so does a paper of the outer ring (unlinked before) that the
    new links joined to the big component; the rest go round the outside of
    the picture, where the isolated papers are. Much cheaper than :func:`layout_arrays`: a few passes over the edges.
    """
    n = len(known)
    pos = np.array(old, dtype=np.float64).reshape(n, 2)
    placed = np.asarray(known, dtype=bool).copy()
    rng = np.random.default_rng(seed)
    src, dst = _undirected_pairs(n, src, dst)
    # papers of the outer ring (isolated before) that the refresh linked into the big component move in
    deg = np.bincount(np.concatenate([src, dst]), minlength=n)
    label = _components(n, src, dst)
    in_big = np.bincount(label)[label] >= 5
    norm = np.linalg.norm(pos, axis=1)
    ring = placed & (deg == 0)
    if ring.any():
        placed &= ~(in_big & (norm >= norm[ring].min() * 0.98))
    a = np.concatenate([src, dst])
    b = np.concatenate([dst, src])
    both = placed[src] & placed[dst]
    jitter = float(np.median(np.linalg.norm(pos[src[both]] - pos[dst[both]], axis=1))) * 0.3 if both.any() else 0.3
    for _ in range(4):  # a new paper citing only new papers is placed on a later pass
        todo = ~placed
        if not todo.any():
            break
        use = todo[a] & placed[b]
        cnt = np.bincount(a[use], minlength=n)
        ready = todo & (cnt > 0)
        if not ready.any():
            break
        for axis in (0, 1):
            pos[ready, axis] = np.bincount(a[use], weights=pos[b[use], axis], minlength=n)[ready] / cnt[ready]
        pos[ready] += rng.normal(size=(int(ready.sum()), 2)) * jitter
        placed |= ready
    rest = np.flatnonzero(~placed)
    if len(rest):
        radius = float(np.linalg.norm(pos[placed], axis=1).max()) if placed.any() else 1.0
        theta = rng.uniform(0, 2 * np.pi, size=len(rest))
        r = radius * (1.02 + 0.05 * rng.random(len(rest)))
        pos[rest] = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return pos


def layout_dict(G: nx.Graph, **kwargs: Any) -> dict[Any, tuple[float, float]]:
    """:func:`compute_layout` as ``{node: (x, y)}`` (networkx layout convention)."""
    pos = compute_layout(G, **kwargs)
    return {v: (float(x), float(y)) for v, (x, y) in zip(G.nodes, pos)}
