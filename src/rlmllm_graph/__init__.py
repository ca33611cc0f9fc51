"""rlmllm-graph: the citation graph of RL-based reasoning in multimodal LLMs, as a library.

Open a database and read it the way the CLI does::

    import rlmllm_graph as rg
    db = rg.open_db("data/rlmllm.db")
    papers = rg.load_papers(db)          # pandas DataFrame
"""

from __future__ import annotations

from .config import DEFAULT_API_URL, DEFAULT_DB, DEFAULT_SEED, Settings, resolve_settings
from .errors import (
    BadInput,
    PaperNotFound,
    RlmGraphError,
    SourceError,
    StoreError,
)
from .ingest import ImportReport, import_files
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

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DB",
    "DEFAULT_SEED",
    "Author",
    "BadInput",
    "Citation",
    "ImportReport",
    "Paper",
    "PaperNotFound",
    "RlmGraphError",
    "Settings",
    "SourceError",
    "StoreError",
    "compute_stats",
    "get_paper",
    "import_files",
    "load_authors",
    "load_citations",
    "load_labels",
    "load_papers",
    "normalise_paper_id",
    "open_db",
    "resolve_paper_id",
    "resolve_settings",
    "search_papers",
]
