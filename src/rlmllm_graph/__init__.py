"""rlmllm-graph: the citation graph of RL-based reasoning in multimodal LLMs, as a library.

Open a database and read it the way the CLI does::

    import rlmllm_graph as rg
    db = rg.open_db("data/rlmllm.db")
    papers = rg.load_papers(db)          # pandas DataFrame
"""

from __future__ import annotations

from .analysis import (
    compute_cocitation,
    compute_communities,
    compute_coupling,
    compute_discovery,
    compute_graph_report,
    compute_lineage,
    compute_node_metrics,
    compute_pagerank,
)
from .changes import Changes, compute_changes
from .classify import FACETS, classify_database, predict_labels
from .crawl import CrawlReport, crawl
from .config import DEFAULT_API_URL, DEFAULT_DB, DEFAULT_SEED, Settings, resolve_settings
from .errors import (
    BadInput,
    EmptyGraph,
    PaperNotFound,
    RlmGraphError,
    SourceError,
    StoreError,
)
from .explore import compute_layout, graph_to_payload
from .feed import render_feed
from .fulltext import FulltextReport, fetch_fulltext
from .export import (
    ExportReport,
    export_bibtex,
    export_csv,
    export_database,
    export_gexf,
    export_graphml,
    export_jsonl,
)
from .graph import build_citation_graph, build_cocitation_graph, build_coupling_graph
from .ingest import ImportReport, import_files
from .plots import plot_emerging, plot_heatmap, plot_paper_counts, plot_timeline, plot_trends
from .records import Author, Citation, Paper, normalise_paper_id
from .store import (
    compute_stats,
    get_paper,
    load_authors,
    load_citations,
    load_labels,
    load_papers,
    open_db,
    resolve_paper_id,
    search_papers,
)
from .site import build_site
from .snapshot import SnapshotReport, load_snapshot, snapshot_info
from .sources import S2Client
from .sources.arxiv import ArxivClient
from .table import build_taxonomy_table, render_table_html, render_table_markdown
from .trends import (
    compute_cooccurrence,
    compute_emerging,
    compute_paper_counts,
    compute_trends,
    compute_trends_report,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DB",
    "DEFAULT_SEED",
    "FACETS",
    "ArxivClient",
    "Author",
    "BadInput",
    "Changes",
    "Citation",
    "CrawlReport",
    "EmptyGraph",
    "ExportReport",
    "FulltextReport",
    "ImportReport",
    "Paper",
    "PaperNotFound",
    "RlmGraphError",
    "S2Client",
    "Settings",
    "SnapshotReport",
    "SourceError",
    "StoreError",
    "build_citation_graph",
    "build_cocitation_graph",
    "build_coupling_graph",
    "build_site",
    "build_taxonomy_table",
    "classify_database",
    "compute_changes",
    "compute_cocitation",
    "compute_communities",
    "compute_cooccurrence",
    "compute_coupling",
    "compute_discovery",
    "compute_emerging",
    "compute_graph_report",
    "compute_layout",
    "compute_lineage",
    "compute_node_metrics",
    "compute_pagerank",
    "compute_paper_counts",
    "compute_stats",
    "compute_trends",
    "compute_trends_report",
    "crawl",
    "export_bibtex",
    "export_csv",
    "export_database",
    "export_gexf",
    "export_graphml",
    "export_jsonl",
    "fetch_fulltext",
    "get_paper",
    "graph_to_payload",
    "import_files",
    "load_authors",
    "load_citations",
    "load_labels",
    "load_papers",
    "load_snapshot",
    "normalise_paper_id",
    "open_db",
    "plot_emerging",
    "plot_heatmap",
    "plot_paper_counts",
    "plot_timeline",
    "plot_trends",
    "predict_labels",
    "render_feed",
    "render_table_html",
    "render_table_markdown",
    "resolve_paper_id",
    "resolve_settings",
    "search_papers",
    "snapshot_info",
]
