"""The schema, as an ordered list of migrations; ``PRAGMA user_version`` is the schema version.

Add a change as a new function at the end of :data:`MIGRATIONS`; never edit an
old one (databases in the wild have already run it).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]


def m001_initial(db: sqlite_utils.Database) -> None:
    db["papers"].create(
        {
            "paper_id": str,
            "corpus_id": int,
            "arxiv_id": str,
            "doi": str,
            "title": str,
            "abstract": str,
            "year": int,
            "publication_date": str,
            "venue": str,
            "citation_count": int,
            "reference_count": int,
            "url": str,
            "external_ids": str,
            "hop": int,
            "first_seen": str,
            "updated_at": str,
        },
        pk="paper_id",
    )
    db["papers"].create_index(["arxiv_id"])
    db["papers"].create_index(["doi"])
    db["papers"].create_index(["corpus_id"])
    db["authors"].create({"author_id": str, "name": str}, pk="author_id")
    db["paper_authors"].create(
        {"paper_id": str, "author_id": str, "position": int},
        pk=("paper_id", "position"),
    )
    db["paper_authors"].create_index(["author_id"])
    db["citations"].create(
        {"citing_id": str, "cited_id": str, "is_influential": int, "intents": str},
        pk=("citing_id", "cited_id"),
    )
    db["citations"].create_index(["cited_id"])
    db["labels"].create(
        {
            "paper_id": str,
            "facet": str,
            "value": str,
            "confidence": float,
            "source": str,
            "evidence": str,
        },
        pk=("paper_id", "facet", "value"),
    )
    db["labels"].create_index(["facet", "value"])
    # which text a paper was last classified from, so unchanged papers are skipped
    db["classified"].create(
        {"paper_id": str, "text_hash": str, "classifier_version": str, "classified_at": str},
        pk="paper_id",
    )
    db["crawl_runs"].create(
        {
            "run_id": int,
            "started_at": str,
            "finished_at": str,
            "seeds": str,
            "depth": int,
            "max_papers": int,
            "api_url": str,
            "requests": int,
            "papers_added": int,
            "edges_added": int,
            "status": str,
        },
        pk="run_id",
    )
    db["papers"].enable_fts(["title", "abstract"], create_triggers=True, tokenize="porter")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [m001_initial]
SCHEMA_VERSION = len(MIGRATIONS)
