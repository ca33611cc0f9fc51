"""rlmllm-graph: the citation graph of RL-based reasoning in multimodal LLMs, as a library.

Open a database and read it the way the CLI does::

    import rlmllm_graph as rg
    db = rg.open_db("data/rlmllm.db")
    papers = rg.load_papers(db)          # pandas DataFrame
"""

from __future__ import annotations

from ._lazy import export_lazily
from .errors import BadInput, EmptyGraph, PaperNotFound, RlmGraphError, SourceError, StoreError
from .config import DEFAULT_API_URL, DEFAULT_DB, DEFAULT_SEED, Settings, resolve_settings
from .records import Author, Citation, Paper, normalise_paper_id

__version__ = "0.1.0"

#: The rest of the public API, by module: imported on first use, so that ``import rlmllm_graph`` (and the
#: command line's ``--help``) does not load pandas, networkx, scikit-learn or plotly before they are needed.
export_lazily(__name__, {
    "analysis": (
        "compute_cocitation",
        "compute_communities",
        "compute_coupling",
        "compute_discovery",
        "compute_graph_report",
        "compute_lineage",
        "compute_node_metrics",
        "compute_pagerank",
    ),
    "classify": ("FACETS", "classify_database", "predict_labels"),
    "crawl": ("CrawlReport", "crawl"),
    "explore": ("compute_layout", "graph_to_payload"),
    "fulltext": ("FulltextReport", "fetch_fulltext"),
    "export": (
        "ExportReport",
        "export_bibtex",
        "export_csv",
        "export_database",
        "export_gexf",
        "export_graphml",
        "export_jsonl",
    ),
    "graph": ("build_citation_graph", "build_cocitation_graph", "build_coupling_graph"),
    "ingest": ("ImportReport", "import_files"),
    "plots": ("plot_emerging", "plot_heatmap", "plot_paper_counts", "plot_timeline", "plot_trends"),
    "site": ("build_site",),
    "sources": ("S2Client",),
    "sources.arxiv": ("ArxivClient",),
    "store": (
        "compute_stats",
        "get_paper",
        "load_authors",
        "load_citations",
        "load_labels",
        "load_papers",
        "open_db",
        "resolve_paper_id",
        "search_papers",
    ),
    "table": ("build_taxonomy_table", "render_table_html", "render_table_markdown"),
    "trends": (
        "compute_cooccurrence",
        "compute_emerging",
        "compute_paper_counts",
        "compute_trends",
        "compute_trends_report",
    ),
})

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DB",
    "DEFAULT_SEED",
    "FACETS",
    "ArxivClient",
    "Author",
    "BadInput",
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
    "SourceError",
    "StoreError",
    "build_citation_graph",
    "build_cocitation_graph",
    "build_coupling_graph",
    "build_site",
    "build_taxonomy_table",
    "classify_database",
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
    "normalise_paper_id",
    "open_db",
    "plot_emerging",
    "plot_heatmap",
    "plot_paper_counts",
    "plot_timeline",
    "plot_trends",
    "predict_labels",
    "render_table_html",
    "render_table_markdown",
    "resolve_paper_id",
    "resolve_settings",
    "search_papers",
]
