"""The trends folder (``trends --out DIR``): CSV tables, one interactive chart a file, and an index page.

:func:`write_trends_report` takes a computed :class:`~rlmllm_graph.trends.TrendsReport`
and writes it through :mod:`rlmllm_graph.output` (each file whole or not at all,
never onto the database). plotly.js is written once beside the pages, so the
folder opens from ``file://`` with no network.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from . import output, plots
from .output import PathLike
from .trends import TrendsReport, compute_cooccurrence

__all__ = ["write_trends_report"]


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def _contents(rep: TrendsReport) -> tuple[list[tuple[str, Any, bool]], list[tuple[str, str, Any]]]:
    """The tables (file name, DataFrame, write the index) and figures (name, title, Figure) of a report."""
    tables: list[tuple[str, Any, bool]] = [("papers_per_period.csv", rep.paper_counts, False)]
    for facet, df in rep.trends.items():
        tables.append((f"trends_{_slug(facet)}.csv", df, False))
    tables.append(("emerging.csv", rep.emerging, False))
    x_range = plots.period_range(rep.paper_counts)  # one date axis for every chart over time
    figures: list[tuple[str, str, Any]] = [
        ("papers_per_period", "Papers over time",
         plots.plot_paper_counts(rep.paper_counts, x_range=x_range, undated=rep.undated)),
    ]
    for facet, df in rep.trends.items():
        figures.append((f"trends_{_slug(facet)}", f"{facet} over time",
                        plots.plot_trends(df, facet=facet, x_range=x_range)))
        figures.append((f"share_{_slug(facet)}", f"{facet}: share over time",
                        plots.plot_trends(df, facet=facet, measure="share", x_range=x_range)))
    figures.append(("emerging", "Emerging values", plots.plot_emerging(rep.emerging)))
    present = set(rep.labels["facet"])
    if {"modality", "algorithm"} <= present:
        table = compute_cooccurrence(rep.papers, rep.labels, row_facet="modality", col_facet="algorithm")
        tables.append(("cooccurrence_modality_algorithm.csv", table, True))
        figures.append(("heatmap", "Modality × algorithm",
                        plots.plot_heatmap(rep.papers, rep.labels, "modality", "algorithm")))
    timeline_facet = next((f for f in ("algorithm", "modality") if f in present), None)
    if timeline_facet:
        figures.append(("timeline", "Timeline of core papers",
                        plots.plot_timeline(rep.papers, rep.labels, facet=timeline_facet, x_range=x_range)))
    return tables, figures


def write_trends_report(rep: TrendsReport, out: PathLike, *, protect: PathLike | None = None) -> list[Path]:
    """Write CSV tables, one HTML file per chart and ``index.html`` with them all into the folder ``out``.

    The folder is created if need be. Every file name is checked against the
    database ``protect`` (and its -wal/-shm/-journal) before anything is
    written (:class:`~rlmllm_graph.errors.BadInput`). Returns the paths written.
    """
    from plotly.offline import get_plotlyjs

    tables, figures = _contents(rep)
    names = [t[0] for t in tables] + ["plotly.min.js"] + [f"{name}.html" for name, _, _ in figures] + ["index.html"]
    folder = output.prepare_folder(out, names, protect=protect)
    written: list[Path] = []
    for name, df, index in tables:
        written.append(output.write_text(folder / name, df.to_csv(index=index)))
    written.append(output.write_text(folder / "plotly.min.js", get_plotlyjs()))
    parts = []
    for name, title, fig in figures:
        written.append(output.write_text(folder / f"{name}.html",
                                         fig.to_html(include_plotlyjs="directory", full_html=True)))
        parts.append(f'<section><h2>{html.escape(title)}</h2>'
                     f'{fig.to_html(include_plotlyjs=False, full_html=False)}</section>')
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>rlmllm-graph trends</title>"
        "<script src='plotly.min.js'></script><style>body{font-family:system-ui,sans-serif;max-width:1100px;"
        "margin:2em auto;padding:0 1em;color:#222}h2{font-size:1.1em;margin-top:2em}</style></head><body>"
        f"<h1>Trends</h1><p>{len(rep.papers)} papers; period: {html.escape(rep.freq)}. "
        "Tables: " + ", ".join(f"<a href='{p.name}'>{p.name}</a>" for p in written if p.suffix == ".csv")
        + "</p>" + "".join(parts) + "</body></html>"
    )
    written.append(output.write_text(folder / "index.html", page))
    return written
