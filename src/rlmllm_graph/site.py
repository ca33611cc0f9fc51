"""The report site: overview, trends, graph explorer, papers and taxonomy table.

``build_site(db, out_dir)`` writes a self-contained static site::

    out_dir/index.html      counts, what is new since the last refresh, top papers, emerging topics
    out_dir/trends.html     stacked areas per facet over time, modality x algorithm heat map, core timeline
    out_dir/graph.html      the graph explorer (our own WebGL layer; layout precomputed, cached in the database)
    out_dir/papers.html     every paper, virtual scrolling, search and sort; details with labels and evidence
    out_dir/table.html      the survey-style taxonomy table
    out_dir/data/papers.js  the papers table, packed once for both pages (``explore.data``, ``explore.pack``)
    out_dir/data/graph.js   positions, citation links and facet masks as typed arrays
    out_dir/assets/         plotly.min.js (from the installed plotly), the site's scripts and styles
    out_dir/feed.xml        an Atom feed of new core papers (``feed``), linked from index.html
    out_dir/.rlmllm-site.json  the files this report wrote (so a folder holding others' files is refused)

Nothing is loaded from the network: the pages open from ``file://``.
``rlmllm_graph.serve`` serves the same pages live (:func:`render_site`).

Paper text (titles, abstracts, venues, authors, evidence) is untrusted. HTML
is built with :func:`html.escape` on every value; the two big pages carry no
paper text at all: it travels base64-encoded inside ``data/*.js`` (an alphabet
that cannot end a string or a script) and the scripts put it into the DOM with
``textContent`` only. Plotly figures are JSON in ``<script
type="application/json">`` blocks; the pages carry no inline executable
script, and a Content-Security-Policy allows scripts from the site only.
"""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import sqlite_utils

from . import output, store
from .errors import BadInput, EmptyGraph, StoreError
from .explore import FACET_ORDER, JS_ESCAPES, asset_names, read_asset, read_template
from .explore.pack import pack_js

__all__ = [
    "DATA_FILES",
    "MANIFEST",
    "PAGES",
    "SiteData",
    "data_files",
    "build_site",
    "load_site_data",
    "read_site_asset",
    "render_page",
    "render_site",
    "site_asset_names",
]

#: File name → (navigation label, page title).
PAGES: dict[str, tuple[str, str]] = {
    "index.html": ("Overview", "Overview"),
    "trends.html": ("Trends", "Trends"),
    "graph.html": ("Graph explorer", "Graph explorer"),
    "papers.html": ("Papers", "Papers"),
    "table.html": ("Taxonomy table", "Taxonomy table"),
}

#: The packed data the pages load once (``explore.pack``): the papers table and the graph.
DATA_FILES: tuple[str, ...] = ("data/papers.js", "data/graph.js")
#: What ``report`` wrote into its folder, so a later run knows its own files from anyone else's.
MANIFEST = ".rlmllm-site.json"

_PLOTLY = "plotly.min.js"

def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def esc(v: Any) -> str:
    """``v`` as escaped HTML text; None, NaN and NA are empty."""
    return "" if _missing(v) else html.escape(str(v), quote=True)


# --------------------------------------------------------------------------- data


@dataclass
class SiteData:
    """Everything the pages show, loaded once from the database."""

    G: nx.DiGraph
    metrics: pd.DataFrame
    papers: pd.DataFrame
    labels: pd.DataFrame
    stats: dict[str, Any]
    trends: Any = None
    table_rows: list[dict[str, Any]] = field(default_factory=list)
    generated: str = ""
    seed: int = 42
    timings: dict[str, float] = field(default_factory=dict)
    site_labels: pd.DataFrame | None = None
    src: Any = None
    dst: Any = None
    positions: Any = None
    layout: dict[str, Any] = field(default_factory=dict)


def load_site_data(
    db: sqlite_utils.Database, *, seed: int = 42, generated: str | None = None, cache_layout: bool = True
) -> SiteData:
    """Load and analyse the database for the pages. Raises EmptyGraph when it holds no papers.

    The explorer's layout comes from the database's cache when the graph has
    not changed (``explore.cache``), and is saved there otherwise unless
    ``cache_layout`` is false. Raises BadInput when ``seed`` is negative (the
    layout's random generator takes 0 or more).
    """
    if seed < 0:
        raise BadInput(f"the seed must be 0 or more, not {seed}")
    from .analysis import compute_node_metrics
    from .explore.cache import cached_layout
    from .graph import build_citation_graph
    from .table import build_taxonomy_table
    from .trends import compute_trends_report

    timings: dict[str, float] = {}
    t = time.perf_counter()
    papers = store.load_papers(db)
    site_labels = store.load_site_labels(db)  # with where each label's evidence came from
    labels = site_labels.drop(columns=["evidence_source"])
    # nodes in networkx (titles, authors, labels), a million citations as index arrays
    G = build_citation_graph(db, papers=papers, labels=labels, edges=False)
    if G.number_of_nodes() == 0:
        raise EmptyGraph(
            "nothing to report: the database holds no papers yet "
            "(fill it with `rlmllm-graph refresh` or `rlmllm-graph import`)"
        )
    order = list(G.nodes)
    n = len(order)
    src, dst = store.load_citation_index(db, pd.Index(order))
    A = sp.csr_array((np.ones(len(src)), (src, dst)), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0
    coo = A.tocoo()
    src, dst = coo.row.astype(np.int64), coo.col.astype(np.int64)
    timings["graph"] = time.perf_counter() - t
    t = time.perf_counter()
    metrics = compute_node_metrics(G, seed=seed, matrix=(order, A))
    timings["metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    trends = compute_trends_report(db, papers=papers, labels=labels)
    timings["trends"] = time.perf_counter() - t
    t = time.perf_counter()
    years = pd.to_numeric(papers.set_index("paper_id")["year"].reindex(order), errors="coerce").to_numpy(float)
    positions, layout = cached_layout(db, [str(v) for v in order], src, dst, years=years, seed=seed,
                                      save=cache_layout)
    timings["layout"] = time.perf_counter() - t
    return SiteData(
        G=G,
        metrics=metrics,
        papers=papers,
        labels=labels,
        stats=store.compute_stats(db),
        trends=trends,
        table_rows=build_taxonomy_table(db, papers=papers, labels=labels),
        generated=generated or "built " + datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        seed=seed,
        timings=timings,
        site_labels=site_labels,
        src=src,
        dst=dst,
        positions=positions,
        layout=layout,
    )


# --------------------------------------------------------------------------- layout


def _nav(active: str) -> str:
    active_attr = ' class="active" aria-current="page"'
    return "".join(
        f'<a href="{name}"{active_attr if name == active else ""}>{esc(label)}</a>'
        for name, (label, _) in PAGES.items()
    )


def _page(name: str, data: SiteData, body: str, *, scripts: Sequence[str] = (), body_class: str = "") -> str:
    base = Template(read_template("base.html"))
    return base.substitute(
        title=esc(PAGES[name][1]),
        head=_FEED_LINK if name == "index.html" else "",
        nav=_nav(name),
        generated=esc(data.generated),
        body_class=esc(body_class),
        body=body,
        scripts="".join(f'<script src="{esc(s if "/" in s else "assets/" + s)}"></script>\n' for s in scripts),
    )


_FEED_LINK = '<link rel="alternate" type="application/atom+xml" title="New core papers" href="feed.xml">'


def _figure(fig: Any, fig_id: str) -> str:
    """A plotly figure as a div + JSON block, drawn by assets/site.js (no inline script)."""
    spec = fig.to_json()  # plotly's encoder (numpy, dates); escaped below for the script block
    return (
        f'<div class="chart"><div id="{esc(fig_id)}" data-figure="{esc(fig_id)}-data"></div></div>\n'
        f'<script type="application/json" id="{esc(fig_id)}-data">{spec.translate(JS_ESCAPES)}</script>\n'
    )




def _graph_href(paper_id: Any) -> str:
    return "graph.html#paper=" + esc(paper_id)


def _paper_cell(row: Mapping[str, Any]) -> str:
    title = "(untitled)" if _missing(row.get("title")) or not row.get("title") else row["title"]
    return f'<a href="{_graph_href(row["paper_id"])}" title="Show in the graph explorer">{esc(title)}</a>'


def _year(v: Any) -> str:
    return "" if _missing(v) else str(int(v))


def _num(v: Any, fmt: str = "{:,}") -> str:
    try:
        if v is None or pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return fmt.format(v)


# --------------------------------------------------------------------------- pages


def _index(data: SiteData) -> str:
    s = data.stats
    per = s.get("labels", {})
    rel = per.get("relevance", {})
    n_comm = int((data.metrics["community"] >= 0).groupby(data.metrics["community"]).any().sum()) if len(data.metrics) else 0
    cards = [
        (s["papers"], "papers"),
        (s["citations_in_corpus"], "citations between them"),
        (s["authors"], "authors"),
        (s["labelled"], "labelled papers"),
        (rel.get("core", 0), "core papers"),
        (rel.get("related", 0), "related papers"),
        (n_comm, "communities"),
    ]
    out = ['<main class="page">', "<h1>RL-based reasoning in multimodal LLMs</h1>"]
    out.append(
        '<p class="muted">The citation graph of the Reinforced MLLM survey (arXiv 2504.21277): every paper classified by '
        "the survey's taxonomy. Start with the <a href=\"graph.html\">graph explorer</a>, the "
        '<a href="trends.html">trends</a>, the <a href="papers.html">paper list</a> or the '
        '<a href="table.html">taxonomy table</a>.</p>'
    )
    out.append('<p class="muted"><a href="feed.xml" type="application/atom+xml">Atom feed of new core papers</a> '
               "(feed.xml, for any feed reader)</p>")
    out.append('<div class="cards">')
    out += [f'<div class="card"><div class="n">{_num(int(n))}</div><div class="k">{esc(k)}</div></div>' for n, k in cards]
    out.append("</div>")

    run = s.get("last_crawl")
    out.append("<h2>New since the last refresh</h2>")
    if not run:
        out.append('<p class="muted">No crawl recorded yet (the papers were imported).</p>')
    else:
        since = str(run.get("started_at") or "")
        out.append(
            f'<p class="muted">Last refresh {esc(run.get("finished_at") or since)} ({esc(run.get("status"))}): '
            f'{_num(run.get("papers_added") or 0)} papers and {_num(run.get("edges_added") or 0)} citations added, '
            f'{_num(run.get("requests") or 0)} API requests.</p>'
        )
        fresh = data.papers[data.papers["first_seen"].fillna("") >= since] if since else data.papers.iloc[0:0]
        fresh = fresh.sort_values(["publication_date", "year"], ascending=False, na_position="last")
        if len(fresh):
            out.append(_paper_table(fresh.head(25), data, cols=("date", "venue", "citations")))
            if len(fresh) > 25:
                out.append(f'<p class="muted">… and {len(fresh) - 25} more on the <a href="papers.html">papers page</a>.</p>')
        else:
            out.append('<p class="muted">No new papers in the last refresh.</p>')

    out.append(_routes_table(s.get("routes")))
    out.append('<div class="twocol"><div>')
    out.append("<h2>Top papers by PageRank</h2>")
    top = data.metrics.sort_values(["pagerank", "in_corpus_citations"], ascending=False, kind="stable").head(15)
    rows = data.papers.set_index("paper_id").reindex(top.index).reset_index()
    out.append(_paper_table(rows, data, cols=("year", "in_corpus", "pagerank")))
    out.append("</div><div>")
    out.append("<h2>Emerging topics</h2>")
    out.append(_emerging_table(data))
    out.append("</div></div>")
    out.append("</main>")
    return "\n".join(out)


#: How each route that brings papers in reads on the overview (``papers.found_by``).
_ROUTE_NAMES = {
    "seed": "seed papers", "cites-seed": "cite a seed", "cited-by-seed": "cited by a seed",
    "query": "field queries", "expansion": "expanding the crawl", "import": "imported", "snapshot": "bundled snapshot",
    "unrecorded": "not recorded (stored before routes were kept)",
}


def _routes_table(routes: Any) -> str:
    """Coverage by route (``compute_stats(db)["routes"]``): papers each route brought in, and how many are core."""
    if not isinstance(routes, Mapping) or not routes:
        return ""
    out = ["<h2>How the papers were found</h2>",
           '<table class="data routes"><thead><tr><th>Route</th><th class="num">Papers</th>'
           '<th class="num">Core</th><th class="num">Core share</th></tr></thead><tbody>']
    for route, c in routes.items():
        n, core = int(c.get("papers", 0)), int(c.get("core", 0))
        out.append(f'<tr><td>{esc(_ROUTE_NAMES.get(str(route), route))}</td><td class="num">{_num(n)}</td>'
                   f'<td class="num">{_num(core)}</td><td class="num">{(core / n if n else 0):.0%}</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


def _paper_table(rows: pd.DataFrame, data: SiteData, *, cols: Sequence[str]) -> str:
    heads = {"date": "Date", "year": "Year", "venue": "Venue", "citations": "Citations",
             "in_corpus": "Cited here", "pagerank": "PageRank"}
    out = ['<table class="data"><thead><tr><th>Title</th>']
    out += [f'<th class="{"num" if c in ("citations", "in_corpus", "pagerank") else ""}">{heads[c]}</th>' for c in cols]
    out.append("</tr></thead><tbody>")
    m = data.metrics
    for r in rows.to_dict("records"):
        pid = r["paper_id"]
        cells = [f"<td>{_paper_cell(r)}</td>"]
        for c in cols:
            if c == "date":
                date = _year(r.get("year")) if _missing(r.get("publication_date")) else r["publication_date"]
                cells.append(f"<td>{esc(date)}</td>")
            elif c == "year":
                cells.append(f"<td>{_year(r.get('year'))}</td>")
            elif c == "venue":
                cells.append(f"<td>{esc(r.get('venue'))}</td>")
            elif c == "citations":
                cells.append(f'<td class="num">{_num(r.get("citation_count"), "{:,.0f}")}</td>')
            elif c == "in_corpus":
                cells.append(f'<td class="num">{_num(m.at[pid, "in_corpus_citations"] if pid in m.index else None)}</td>')
            elif c == "pagerank":
                cells.append(f'<td class="num">{_num(m.at[pid, "pagerank"] if pid in m.index else None, "{:.4f}")}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _emerging_table(data: SiteData) -> str:
    em = getattr(data.trends, "emerging", None)
    if em is None or not len(em):
        return '<p class="muted">Not enough labelled papers with a publication month to tell yet.</p>'
    months = getattr(data.trends, "recent_months", 6)
    out = [
        f'<p class="muted">Share of papers in the last {months} months against before '
        "(one-sided Fisher test, Benjamini–Hochberg q).</p>",
        '<table class="data"><thead><tr><th>Topic</th><th class="num">Recent</th><th class="num">Before</th>'
        '<th class="num">Growth</th><th class="num">q</th></tr></thead><tbody>',
    ]
    for r in em.head(10).to_dict("records"):
        star = " ▲" if r.get("rising") else ""
        out.append(
            f'<tr><td><span class="chip chip-{esc(r["facet"])}">{esc(r["facet"])}: {esc(r["value"])}</span>{star}</td>'
            f'<td class="num">{_num(r.get("recent_share"), "{:.0%}")} ({_num(r.get("recent"))})</td>'
            f'<td class="num">{_num(r.get("before_share"), "{:.0%}")}</td>'
            f'<td class="num">{_num(r.get("growth"), "{:.1f}×")}</td>'
            f'<td class="num">{_num(r.get("q_value"), "{:.3f}")}</td></tr>'
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def _trends(data: SiteData) -> str:
    from . import plots

    tr = data.trends
    out = ['<main class="page">', "<h1>Trends</h1>"]
    if tr is None:
        out.append('<p class="muted">No trends yet.</p></main>')
        return "\n".join(out)
    who = "core and related papers" if len(tr.papers) < len(data.papers) else "all papers"
    out.append(f'<p class="muted">{_num(len(tr.papers))} {who}, by month of publication. Hover for counts and shares; '
               "click a legend entry to hide a value.</p>")
    k = 0

    def fig(f: Any) -> None:
        nonlocal k
        k += 1
        out.append(_figure(f, f"fig{k}"))

    if len(tr.paper_counts):
        fig(plots.plot_paper_counts(tr.paper_counts))
    out.append("<h2>Every facet over time</h2>")
    for facet in tr.facets:
        df = tr.trends.get(facet)
        if df is not None and len(df):
            fig(plots.plot_trends(df, facet=facet))
    out.append("<h2>Modality × algorithm</h2>")
    fig(plots.plot_heatmap(tr.papers, tr.labels, "modality", "algorithm"))
    out.append("<h2>Timeline of core papers</h2>")
    fig(plots.plot_timeline(data.papers, data.labels, facet="algorithm", relevance=("core",), metrics=data.metrics))
    if len(tr.emerging):
        out.append("<h2>Emerging topics</h2>")
        fig(plots.plot_emerging(tr.emerging))
    out.append("</main>")
    return "\n".join(out)


def _graph(data: SiteData) -> str:
    return read_template("graph.html")


def _papers(data: SiteData) -> str:
    return read_template("papers.html").replace("$UNSURE", f"{UNSURE:.1f}")


def data_files(data: SiteData, *, text: bool = True) -> dict[str, bytes]:
    """The packed data files (:data:`DATA_FILES`) for ``data``: the papers table and the explorer's graph.

    With ``text=False`` the papers table carries ids, titles, years and numbers
    only (``serve``: the pages ask the database for the rest as they show it).
    """
    from .explore.data import graph_data, papers_data

    order = [str(v) for v in data.G.nodes]
    papers = data.papers.set_index("paper_id", drop=False).reindex(order)
    papers["paper_id"] = order
    authors = {n: a.get("authors") or [] for n, a in data.G.nodes(data=True)}
    labels = data.site_labels if data.site_labels is not None else data.labels
    head, arrays = papers_data(papers, labels, authors=authors, metrics=data.metrics, text=text)
    ghead, garrays = graph_data(order, data.src, data.dst, data.positions, labels, metrics=data.metrics)
    return {
        "data/papers.js": pack_js("papers", head, arrays),
        "data/graph.js": pack_js("graph", {**ghead, "generated": data.generated}, garrays),
    }


#: a classifier label below this confidence is drawn dashed, with a "?": worth a person's check
UNSURE = 0.6


def _table(data: SiteData) -> str:
    from .table import render_table_html

    n = len(data.table_rows)
    intro = (
        f'<p class="muted">{n} core papers, newest first, in the columns of the survey\'s table '
        "(model, date, modality, strategy, algorithm, reward, application).</p>"
        if n
        else '<p class="muted">No core papers yet: run <code>rlmllm-graph classify</code>.</p>'
    )
    return f'<main class="page"><h1>Taxonomy table</h1>{intro}{render_table_html(data.table_rows)}</main>'


_RENDERERS: dict[str, tuple[Callable[[SiteData], str], tuple[str, ...], str]] = {
    "index.html": (_index, ("site.js",), ""),
    "trends.html": (_trends, (_PLOTLY, "site.js"), ""),
    "graph.html": (_graph, ("data/papers.js", "data/graph.js", "data.js", "explorer.js"), "explorer"),
    "papers.html": (_papers, ("data/papers.js", "data.js", "papers.js"), "paper-list"),
    "table.html": (_table, ("site.js",), ""),
}


def render_page(name: str, data: SiteData) -> str:
    """One page of the site as HTML. ``name`` is a key of :data:`PAGES`."""
    fn, scripts, body_class = _RENDERERS[name]
    return _page(name, data, fn(data), scripts=scripts, body_class=body_class)


def render_site(db: sqlite_utils.Database, *, seed: int = 42, generated: str | None = None,
                cache_layout: bool = True, text: bool = True) -> dict[str, str]:
    """Every page and data file as text, keyed by its path in the site (what ``serve`` serves).

    ``text=False``: the papers data without abstracts, authors, labels and
    evidence (see :func:`data_files`).
    """
    data = load_site_data(db, seed=seed, generated=generated, cache_layout=cache_layout)
    out = {name: render_page(name, data) for name in PAGES}
    out.update({name: blob.decode("ascii") for name, blob in data_files(data, text=text).items()})
    return out


# --------------------------------------------------------------------------- assets


def site_asset_names() -> list[str]:
    """Files the pages load from ``assets/``: the explorer's static folder plus plotly.min.js."""
    return sorted(set(asset_names()) | {_PLOTLY})


def read_site_asset(name: str) -> bytes:
    """The bytes of ``assets/<name>``. Raises KeyError for anything else."""
    if name == _PLOTLY:
        return resources.files("plotly").joinpath("package_data", _PLOTLY).read_bytes()
    if name not in asset_names():
        raise KeyError(name)
    return read_asset(name)


def site_files() -> list[str]:
    """Every path ``report`` writes, relative to its folder (pages, data, assets, the feed, the manifest)."""
    from .feed import FEED_FILE

    return [*PAGES, *DATA_FILES, *(f"assets/{a}" for a in site_asset_names()), FEED_FILE, MANIFEST]


# --------------------------------------------------------------------------- build


def _foreign_files(out: Path) -> list[str]:
    """Files under ``out`` that the last ``report`` there did not write (by its manifest)."""
    if not out.exists():
        return []
    ours: set[str] = set()
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        ours = {str(f) for f in manifest.get("files", [])} | {MANIFEST}
    except (OSError, ValueError, AttributeError):
        pass
    found = []
    for root, dirs, files in os.walk(out):
        dirs.sort()
        for f in sorted(files):
            rel = Path(root, f).relative_to(out).as_posix()
            if rel not in ours:
                found.append(rel)
    return found


def _write(path: Path, blob: bytes, protect: str | Path | None) -> bool:
    """Write ``blob`` to ``path`` through :mod:`rlmllm_graph.output`; False when it already holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return output.write_if_changed(path, blob, protect=protect)


def build_site(db: sqlite_utils.Database, out_dir: str | Path, *, seed: int = 42, force: bool = False,
               cache_layout: bool = True, protect: str | Path | None = None) -> dict[str, Any]:
    """Write the static site into ``out_dir`` (created if needed; our own files are overwritten).

    A folder that holds files an earlier ``report`` did not write (by the
    manifest it keeps, ``.rlmllm-site.json``) is refused with BadInput unless
    ``force``. Files whose bytes did not change are left alone, so a rebuild
    after a small refresh rewrites little; files of an earlier report that
    this one no longer writes are removed. Files are written through
    :mod:`rlmllm_graph.output`, never onto the database (``protect``, default the
    file ``db`` lives in): a file that would land on it is a BadInput before
    anything is written.

    Returns ``{"out": str, "pages": [...], "assets": [...], "data": [...], "papers": n,
    "edges": m, "written": files changed, "bytes": site size, "layout": "cached"|"extended"|"computed",
    "seconds": total, "timings": {...}}``. Raises EmptyGraph on a database with no papers,
    StoreError when ``out_dir`` cannot be written.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    protect = store.database_file(db) if protect is None else protect
    for name in site_files():
        output.refuse_database_path(out / name, protect)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file, not a folder")
    foreign = _foreign_files(out)
    if foreign and not force:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise BadInput(f"{out} holds files report did not write ({foreign[0]}{more}); "
                       "choose an empty folder or pass --force to write into it anyway")
    try:
        old = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        old = []
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {out}: {exc.strerror or exc}") from None
    data = load_site_data(db, seed=seed, cache_layout=cache_layout)
    timings = dict(data.timings)
    written: list[str] = []
    changed = 0
    files: list[str] = []
    size = 0
    try:
        t = time.perf_counter()
        blobs = data_files(data)
        timings["data"] = time.perf_counter() - t
        for name in PAGES:
            t = time.perf_counter()
            blob = render_page(name, data).encode("utf-8")
            changed += _write(out / name, blob, protect)
            size += len(blob)
            timings[name] = time.perf_counter() - t
            written.append(name)
        for name, blob in blobs.items():
            changed += _write(out / name, blob, protect)
            size += len(blob)
        assets = site_asset_names()
        for name in assets:
            blob = read_site_asset(name)
            changed += _write(out / "assets" / name, blob, protect)
            size += len(blob)
        from .feed import FEED_FILE, render_feed

        blob = render_feed(db).encode("utf-8")  # feed.xml: new core papers, linked from index.html
        changed += _write(out / FEED_FILE, blob, protect)
        size += len(blob)
        files = [*written, *blobs, *(f"assets/{a}" for a in assets), FEED_FILE]
        for stale in sorted(set(old) - set(files)):
            p = out / stale
            if ".." not in Path(stale).parts and p.is_file():
                p.unlink()
        manifest = {"tool": "rlmllm-graph report", "files": files}
        _write(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode(), protect)
    except OSError as exc:
        raise StoreError(f"cannot write the site into {out}: {exc.strerror or exc}") from None
    return {
        "out": str(out),
        "pages": written,
        "assets": assets,
        "data": list(DATA_FILES),
        "feed": "feed.xml",
        "papers": data.G.number_of_nodes(),
        "edges": int(len(data.src)),
        "isolated": int(np.sum(np.bincount(np.concatenate([data.src, data.dst]),
                                           minlength=data.G.number_of_nodes()) == 0)),
        "written": changed,
        "bytes": size,
        "layout": data.layout.get("layout"),
        "layout_cached": bool(data.layout.get("saved")),
        "seconds": round(time.perf_counter() - t0, 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
