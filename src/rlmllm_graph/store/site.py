"""What the report site and ``serve`` read beyond the basic loaders: the layout cache, labels with
their evidence source, and the paged paper list and neighbourhoods ``serve`` answers as JSON.

The layout cache (``site_layout``, ``site_layout_meta``, migration m006) is
the one thing ``report`` writes: it opens a second, writable connection to the
same file for it (:func:`save_layout`), and gives up quietly where the file
cannot be written (a read-only copy, another process holding the lock).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, RlmGraphError
from .core import _translate, db_path, open_db, transaction
from .read import SEARCH_MAX_CHARS, SEARCH_MAX_WORDS

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy is imported where it is used
    import sqlite_utils  # annotations only: sqlite-utils imports pandas when it is imported
    import pandas as pd  # annotations only: pandas is imported where it is used

__all__ = [
    "PAGE_SORTS",
    "load_citation_index",
    "load_layout",
    "load_site_labels",
    "page_papers",
    "paper_neighbours",
    "save_layout",
]


def load_site_labels(db: sqlite_utils.Database) -> pd.DataFrame:
    """Labels with where their evidence came from: ``paper_id, facet, value, confidence, source, evidence,
    evidence_source`` (``title``, ``abstract``, a section title or ``manual``; None where not recorded)."""
    import pandas as pd
    return pd.read_sql_query(
        "SELECT paper_id, facet, value, confidence, source, evidence, evidence_source FROM labels "
        "ORDER BY paper_id, facet, value",
        db.conn,
    )


def load_citation_index(db: sqlite_utils.Database, ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Citations between the papers ``ids`` as index arrays ``(citing, cited)`` into ``ids``, self-citations left out.

    Reads the two id columns only (no join: ids outside ``ids`` are dropped here),
    so a million citations cost a second, not a networkx graph.
    """
    import numpy as np
    import pandas as pd
    try:
        frame = pd.read_sql_query("SELECT citing_id, cited_id FROM citations", db.conn)
    except (sqlite3.Error, pd.errors.DatabaseError) as exc:
        err = exc if isinstance(exc, sqlite3.Error) else exc.__cause__
        if isinstance(err, sqlite3.Error):
            raise _translate(err, db_path(db)) from None
        raise
    src = ids.get_indexer(frame["citing_id"])
    dst = ids.get_indexer(frame["cited_id"])
    keep = (src >= 0) & (dst >= 0) & (src != dst)
    return src[keep].astype(np.int64), dst[keep].astype(np.int64)


# --------------------------------------------------------------------------- layout cache


def load_layout(db: sqlite_utils.Database) -> tuple[dict[str, str], pd.DataFrame] | None:
    """The cached layout: ``(meta, frame of paper_id, x, y)``, or None when there is none."""
    import pandas as pd
    try:
        meta = dict(db.execute("SELECT key, value FROM site_layout_meta").fetchall())
        if not meta:
            return None
        frame = pd.read_sql_query("SELECT paper_id, x, y FROM site_layout", db.conn)
    except (sqlite3.Error, pd.errors.DatabaseError):
        return None
    return meta, frame


def save_layout(db: sqlite_utils.Database, ids: list[str], pos: np.ndarray, meta: dict[str, Any]) -> bool:
    """Replace the cached layout. Returns False (and writes nothing) when the database cannot be written now.

    ``db`` may be a read-only connection: the write goes through a second
    connection to the same file, closed before returning.
    """
    rows = list(zip(ids, pos[:, 0].astype(float).tolist(), pos[:, 1].astype(float).tolist()))
    path = db_path(db)
    twin = None
    target = db
    if path != "database":
        try:
            twin = open_db(path, create=False, busy_timeout_ms=500)
        except RlmGraphError:
            return False
        target = twin
    try:
        with transaction(target):
            target.conn.execute("DELETE FROM site_layout")
            target.conn.execute("DELETE FROM site_layout_meta")
            target.conn.executemany("INSERT INTO site_layout (paper_id, x, y) VALUES (?, ?, ?)", rows)
            target.conn.executemany("INSERT INTO site_layout_meta (key, value) VALUES (?, ?)",
                                    [(str(k), str(v)) for k, v in meta.items()])
    except (RlmGraphError, sqlite3.Error):
        return False
    finally:
        if twin is not None:
            twin.conn.close()
    return True


# --------------------------------------------------------------------------- serve: pages of papers

#: ``sort`` values of :func:`page_papers` → the SQL ordering (NULLs last either way).
PAGE_SORTS: dict[str, str] = {
    "date": "coalesce(p.publication_date, CAST(p.year AS TEXT))",
    "title": "p.title COLLATE NOCASE",
    "venue": "p.venue COLLATE NOCASE",
    "citations": "p.citation_count",
    "year": "p.year",
}


def _match(query: str) -> str | None:
    if len(query) > SEARCH_MAX_CHARS:
        raise BadInput(f"search query too long: {len(query)} characters, at most {SEARCH_MAX_CHARS}")
    import re

    words = list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", query)))
    if len(words) > SEARCH_MAX_WORDS:
        raise BadInput(f"search query has {len(words)} different words, at most {SEARCH_MAX_WORDS}")
    return " ".join('"' + w.replace('"', "") + '"' for w in words) or None


def page_papers(
    db: sqlite_utils.Database, *, offset: int = 0, limit: int = 100, sort: str = "date", descending: bool = True,
    query: str = "",
) -> dict[str, Any]:
    """One page of the paper list: ``{"total", "offset", "limit", "papers": [...]}``.

    Each paper has ``paper_id, title, year, publication_date, venue,
    citation_count, arxiv_id`` and ``labels`` (``[[facet, value], ...]``).
    ``query`` filters by the full-text index (words, bound parameters);
    ``sort`` is a key of :data:`PAGE_SORTS`. Raises BadInput for anything else.
    """
    if sort not in PAGE_SORTS:
        raise BadInput(f"sort must be one of {', '.join(PAGE_SORTS)}, not {sort[:40]!r}")
    if offset < 0 or not 1 <= limit <= 1000:
        raise BadInput("offset must be 0 or more and limit 1 to 1000")
    match = _match(query) if query.strip() else None
    where, params = "", []
    if match:
        where = "WHERE p.rowid IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)"
        params.append(match)
    key = PAGE_SORTS[sort]
    direction = "DESC" if descending else "ASC"
    try:
        total = int(db.execute(f"SELECT count(*) FROM papers p {where}", params).fetchone()[0])
        cur = db.execute(
            "SELECT p.paper_id, p.title, p.year, p.publication_date, p.venue, p.citation_count, p.arxiv_id "
            f"FROM papers p {where} ORDER BY ({key}) IS NULL, {key} {direction}, p.paper_id LIMIT ? OFFSET ?",
            params + [int(limit), int(offset)],
        )
        names = [d[0] for d in cur.description]
        papers = [dict(zip(names, r)) for r in cur]
        if papers:
            marks = ",".join("?" for _ in papers)
            by: dict[str, list[list[str]]] = {}
            for pid, facet, value in db.execute(
                f"SELECT paper_id, facet, value FROM labels WHERE paper_id IN ({marks}) ORDER BY facet, value",
                [p["paper_id"] for p in papers],
            ):
                by.setdefault(pid, []).append([facet, value])
            for p in papers:
                p["labels"] = by.get(p["paper_id"], [])
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return {"total": total, "offset": offset, "limit": limit, "papers": papers}


def paper_neighbours(db: sqlite_utils.Database, paper_id: str, *, limit: int = 50) -> dict[str, Any]:
    """A paper's citation neighbourhood inside the corpus: ``{"paper_id", "cites": [...], "cited_by": [...],
    "cites_total", "cited_by_total"}``; each neighbour ``{paper_id, title, year, citation_count}``, most cited first."""
    out: dict[str, Any] = {"paper_id": paper_id}
    try:
        for key, mine, theirs in (("cites", "citing_id", "cited_id"), ("cited_by", "cited_id", "citing_id")):
            out[key + "_total"] = int(db.execute(
                f"SELECT count(*) FROM citations c JOIN papers p ON p.paper_id = c.{theirs} WHERE c.{mine} = ?",
                [paper_id]).fetchone()[0])
            cur = db.execute(
                f"SELECT p.paper_id, p.title, p.year, p.citation_count FROM citations c "
                f"JOIN papers p ON p.paper_id = c.{theirs} WHERE c.{mine} = ? AND c.{theirs} != c.{mine} "
                "ORDER BY p.citation_count IS NULL, p.citation_count DESC, p.paper_id LIMIT ?",
                [paper_id, int(limit)],
            )
            names = [d[0] for d in cur.description]
            out[key] = [dict(zip(names, r)) for r in cur]
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return out
