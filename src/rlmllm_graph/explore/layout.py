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
from scipy import fft as sfft

__all__ = ["compute_layout", "layout_dict"]


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
    iterations: int = 150,
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
    iterations : int, default 150
        Force iterations (the step size cools linearly over them).
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
    n = len(order)
    if n == 0:
        return np.zeros((0, 2))
    index = {v: i for i, v in enumerate(order)}
    pairs = {(min(index[u], index[v]), max(index[u], index[v])) for u, v in G.edges() if u != v}
    src = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    dst = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    deg = np.bincount(np.concatenate([src, dst]), minlength=n).astype(np.float64)
    mass = deg + 1.0
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(n, 2)) * np.sqrt(n)
    if n == 1:
        return np.zeros((1, 2))
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
            fa = np.zeros_like(pos)
            np.add.at(fa, src, delta)
            np.add.at(fa, dst, -delta)
            force += fa
        norm = np.linalg.norm(pos, axis=1, keepdims=True) + 1e-9
        force -= gravity * mass[:, None] * pos / norm
        step = force / mass[:, None]
        # cool linearly from a tenth of the initial span to almost nothing
        temp = span0 * 0.1 * (1.0 - it / iterations) + 0.01
        length = np.linalg.norm(step, axis=1, keepdims=True) + 1e-12
        pos += step * np.minimum(1.0, temp / length)
    return _pack_small_components(G, order, index, pos, src, dst)


_GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


def _pack_small_components(
    G: nx.Graph, order: list[Any], index: dict[Any, int], pos: np.ndarray, src: np.ndarray, dst: np.ndarray
) -> np.ndarray:
    """Move isolated papers and tiny components (< 5 papers) onto a sunflower annulus round the rest.

    Repulsion from the whole connected mass would otherwise push them onto a
    distant ring and shrink the interesting part of the picture to a dot.
    """
    U = G.to_undirected(as_view=True) if G.is_directed() else G
    comps = sorted((sorted(index[v] for v in c) for c in nx.connected_components(U)), key=lambda c: (len(c), c[0]))
    small = [c for c in comps if len(c) < 5]
    big = np.array(sorted(i for c in comps if len(c) >= 5 for i in c), dtype=np.int64)
    out = pos.copy()
    if len(big):
        centre = out[big].mean(axis=0)
        out -= centre
        radius = float(np.quantile(np.linalg.norm(out[big], axis=1), 0.95))
        in_big = np.zeros(len(order), dtype=bool)
        in_big[big] = True
        lengths = np.linalg.norm(out[dst] - out[src], axis=1)[in_big[src]] if len(src) else np.zeros(0)
        spacing = float(np.median(lengths)) * 1.5 if len(lengths) else 1.0
        spacing = max(spacing, radius / max(np.sqrt(len(big)), 1.0))
    else:
        radius, spacing = 0.0, 1.0
    # years first, so the annulus reads oldest (inside) to newest (outside)
    years = [G.nodes[order[c[0]]].get("year") if isinstance(G.nodes[order[c[0]]], dict) else None for c in small]
    ranked = sorted(range(len(small)), key=lambda k: (years[k] is None, years[k] or 0, small[k][0]))
    r0 = radius * 1.1 + spacing if len(big) else 0.0
    for slot, k in enumerate(ranked):
        members = np.array(small[k], dtype=np.int64)
        r = np.sqrt(r0 * r0 + slot * spacing * spacing / np.pi * 1.2)
        theta = slot * _GOLDEN_ANGLE
        rel = out[members] - out[members].mean(axis=0)
        rel_len = np.linalg.norm(rel, axis=1, keepdims=True) + 1e-12
        rel = rel / rel_len * np.minimum(rel_len, spacing * 0.6)
        out[members] = rel + np.array([r * np.cos(theta), r * np.sin(theta)])
    return out


def layout_dict(G: nx.Graph, **kwargs: Any) -> dict[Any, tuple[float, float]]:
    """:func:`compute_layout` as ``{node: (x, y)}`` (networkx layout convention)."""
    pos = compute_layout(G, **kwargs)
    return {v: (float(x), float(y)) for v, (x, y) in zip(G.nodes, pos)}
