"""The store: the only place rlmllm-graph speaks SQL.

``core`` opens, migrates and writes; ``read`` loads for everything above;
``labels`` keeps classifier and manual labels; ``crawl`` keeps crawl state.
"""

from __future__ import annotations

from .core import (
    bulk_write,
    db_path,
    is_locked,
    PAPER_COLUMNS,
    now_iso,
    open_db,
    paper_count,
    resolve_corpus_citations,
    set_abstracts_by_corpus_id,
    table_counts,
    transaction,
    upsert_citations,
    upsert_papers,
)
from .labels import (
    insert_labels,
    load_classified,
    load_manual_facets,
    load_manual_none,
    save_classifier_labels,
    save_manual_labels,
)
from .migrations import SCHEMA_VERSION
from .sections import load_sections, pack_text, save_sections, unpack_text
from .site import load_citation_index, load_layout, load_site_labels, page_papers, paper_neighbours, save_layout
from .read import (
    compute_stats,
    database_file,
    get_paper,
    iter_papers,
    last_crawl,
    load_authors,
    load_paper_authors,
    load_citations,
    load_labels,
    load_papers,
    resolve_paper_id,
    search_papers,
)

__all__ = [
    "bulk_write",
    "PAPER_COLUMNS",
    "SCHEMA_VERSION",
    "compute_stats",
    "database_file",
    "db_path",
    "is_locked",
    "get_paper",
    "insert_labels",
    "iter_papers",
    "last_crawl",
    "load_classified",
    "load_authors",
    "load_paper_authors",
    "load_citations",
    "load_labels",
    "load_manual_facets",
    "load_manual_none",
    "load_papers",
    "load_sections",
    "load_citation_index",
    "load_layout",
    "load_site_labels",
    "page_papers",
    "paper_neighbours",
    "save_layout",
    "now_iso",
    "pack_text",
    "open_db",
    "paper_count",
    "resolve_corpus_citations",
    "resolve_paper_id",
    "save_classifier_labels",
    "save_manual_labels",
    "save_sections",
    "search_papers",
    "set_abstracts_by_corpus_id",
    "table_counts",
    "transaction",
    "unpack_text",
    "upsert_citations",
    "upsert_papers",
]
