"""One row per paper: stand-in rows merged into the same paper's Semantic Scholar row.

The bundled snapshot (and ``corpus.jsonl``-style files) key papers by a
stand-in id, ``sha1("ARXIV:<arxiv id>")``, because their Semantic Scholar ids
were not known when they were written. When a refresh later stores the same
paper under its real id, the two rows share an arXiv id (or a DOI, including
arXiv's ``10.48550/arxiv.<id>``): :func:`find_stand_ins` pairs them and
:func:`merge_papers` folds the stand-in into the real row — citations, authors,
labels (a manual label wins; otherwise the real row's labels are kept), the
route that found it first and its earliest ``first_seen``, full text and the
change-tracking rows — and deletes the stand-in. Two real ids are never merged.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence

import sqlite_utils

from .core import _translate, db_path

__all__ = ["find_stand_ins", "is_stand_in", "merge_papers", "stand_in_id"]

_ARXIV_DOI = "10.48550/arxiv."

#: Tables keyed by a paper id whose rows follow a merged paper ("the real row's wins where it has some").
_FOLLOW = (
    "paper_authors", "classified", "sections", "fulltext_papers", "crawl_papers", "paper_first_run",
    "label_checkpoint", "label_changes", "citation_counts",
)
_MERGED_COLUMNS = (
    "corpus_id", "arxiv_id", "doi", "title", "abstract", "year", "publication_date", "venue", "citation_count",
    "reference_count", "url", "external_ids",
)


def stand_in_id(arxiv_id: str) -> str:
    """The stand-in id of an arXiv paper: ``sha1("ARXIV:<id>")`` in hex."""
    return hashlib.sha1(f"ARXIV:{arxiv_id}".encode()).hexdigest()


def is_stand_in(paper_id: str, arxiv_id: str | None, doi: str | None) -> bool:
    if arxiv_id and paper_id == stand_in_id(arxiv_id):
        return True
    return bool(doi) and paper_id == hashlib.sha1(f"DOI:{doi}".encode()).hexdigest()


def find_stand_ins(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(stand-in id, real id) for every stand-in row whose paper is also stored under a real id."""
    try:
        rows = db.execute(
            "SELECT paper_id, arxiv_id, doi FROM papers WHERE arxiv_id IS NOT NULL OR doi IS NOT NULL ORDER BY paper_id"
        ).fetchall()
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    real: dict[tuple[str, str], str] = {}
    stand_ins: list[tuple[str, list[tuple[str, str]]]] = []
    for pid, arxiv, doi in rows:
        keys = []
        if arxiv:
            keys += [("arxiv", arxiv), ("doi", _ARXIV_DOI + arxiv.lower())]
        if doi:
            keys.append(("doi", doi))
            if doi.startswith(_ARXIV_DOI):
                keys.append(("arxiv", doi[len(_ARXIV_DOI):]))
        if is_stand_in(pid, arxiv, doi):
            stand_ins.append((pid, keys))
        else:
            for k in keys:
                real.setdefault(k, pid)
    pairs = []
    for pid, keys in stand_ins:
        target = next((real[k] for k in keys if k in real), None)
        if target is not None:
            pairs.append((pid, target))
    return pairs


def merge_papers(db: sqlite_utils.Database, pairs: Sequence[tuple[str, str]]) -> int:
    """Fold each ``old`` paper into ``new`` and delete ``old``; returns how many were merged.

    Call inside :func:`~rlmllm_graph.store.transaction`.
    """
    pairs = [(a, b) for a, b in dict(pairs).items() if a != b]
    if not pairs:
        return 0
    tables = set(db.table_names())
    old_ids = "(SELECT old FROM _merge)"
    new_of = "(SELECT new FROM _merge WHERE old = {col})"
    sql: list[str] = []
    # the real row keeps what it knows, takes what only the stand-in knew, and the earlier route and date
    fill = ", ".join(f"{c} = coalesce(n.{c}, o.{c})" for c in _MERGED_COLUMNS)
    sql.append(
        f"UPDATE papers AS n SET {fill}, "
        "hop = CASE WHEN n.hop IS NULL THEN o.hop WHEN o.hop IS NULL THEN n.hop ELSE min(n.hop, o.hop) END, "
        "found_by = CASE WHEN coalesce(o.first_seen, '') <= coalesce(n.first_seen, '') "
        "THEN coalesce(o.found_by, n.found_by) ELSE coalesce(n.found_by, o.found_by) END, "
        "found_via = CASE WHEN coalesce(o.first_seen, '') <= coalesce(n.first_seen, '') "
        "THEN coalesce(o.found_via, n.found_via) ELSE coalesce(n.found_via, o.found_via) END, "
        "first_seen = min(coalesce(n.first_seen, o.first_seen), coalesce(o.first_seen, n.first_seen)) "
        "FROM _merge m JOIN papers o ON o.paper_id = m.old WHERE n.paper_id = m.new"
    )
    for col in ("citing_id", "cited_id"):
        sql.append(f"UPDATE OR IGNORE citations SET {col} = {new_of.format(col=col)} WHERE {col} IN {old_ids}")
        sql.append(f"DELETE FROM citations WHERE {col} IN {old_ids}")
    sql.append("DELETE FROM citations WHERE citing_id = cited_id AND citing_id IN (SELECT new FROM _merge)")
    # labels, facet by facet: a manual label (or a facet set to none by hand) wins; else the real row's labels
    manual_old = (
        "SELECT m.new AS pid, l.facet FROM labels l JOIN _merge m ON l.paper_id = m.old WHERE l.source = 'manual' "
        "UNION SELECT m.new, x.facet FROM manual_none x JOIN _merge m ON x.paper_id = m.old"
    )
    manual_new = (
        "SELECT m.old AS pid, l.facet FROM labels l JOIN _merge m ON l.paper_id = m.new WHERE l.source = 'manual' "
        "UNION SELECT m.old, x.facet FROM manual_none x JOIN _merge m ON x.paper_id = m.new"
    )
    sql += [
        f"DELETE FROM labels WHERE (paper_id, facet) IN ({manual_new})",
        f"DELETE FROM manual_none WHERE (paper_id, facet) IN ({manual_new})",
        f"DELETE FROM labels WHERE source != 'manual' AND (paper_id, facet) IN ({manual_old})",
        "DELETE FROM labels WHERE paper_id IN (SELECT old FROM _merge) AND source != 'manual' AND EXISTS "
        "(SELECT 1 FROM labels x JOIN _merge m ON x.paper_id = m.new WHERE m.old = labels.paper_id "
        "AND x.facet = labels.facet)",
    ]
    for t in ("labels", "manual_none"):
        sql.append(f"UPDATE OR IGNORE {t} SET paper_id = {new_of.format(col='paper_id')} WHERE paper_id IN {old_ids}")
        sql.append(f"DELETE FROM {t} WHERE paper_id IN {old_ids}")
    for t in _FOLLOW:
        if t not in tables:
            continue
        sql.append(
            f"DELETE FROM {t} WHERE paper_id IN (SELECT m.old FROM _merge m WHERE EXISTS "
            f"(SELECT 1 FROM {t} x WHERE x.paper_id = m.new))"
        )
        sql.append(f"UPDATE OR IGNORE {t} SET paper_id = {new_of.format(col='paper_id')} WHERE paper_id IN {old_ids}")
        sql.append(f"DELETE FROM {t} WHERE paper_id IN {old_ids}")
    sql.append(f"DELETE FROM crawl_frontier WHERE paper_id IN {old_ids}")
    sql.append(f"DELETE FROM papers WHERE paper_id IN {old_ids}")
    try:
        conn = db.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _merge (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
        conn.execute("DELETE FROM _merge")
        conn.executemany("INSERT INTO _merge (old, new) VALUES (?, ?)", pairs)
        for s in sql:
            conn.execute(s)
        conn.execute("DELETE FROM _merge")
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(pairs)
