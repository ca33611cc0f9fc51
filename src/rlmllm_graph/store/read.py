"""Reading the database: counts, papers, edges and labels as records or DataFrames.

Everything above the store (analysis, site, exports, notebooks) reads through
these functions, so no other module needs SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, PaperNotFound
from ..records import INT64_MAX, normalise_paper_id
from .crawl import ROUTES

if TYPE_CHECKING:
    import pandas as pd  # annotations only: pandas is imported where it is used
    import sqlite_utils  # annotations only: sqlite-utils imports pandas when it is imported

__all__ = [
    "compute_stats",
    "database_file",
    "get_paper",
    "iter_papers",
    "last_crawl",
    "load_authors",
    "load_paper_authors",
    "load_citations",
    "load_labels",
    "load_papers",
    "resolve_paper_id",
    "routes",
    "search_papers",
    "SEARCH_MAX_CHARS",
    "SEARCH_MAX_WORDS",
]

SEARCH_MAX_WORDS = 32  # distinct words in one full-text query
SEARCH_MAX_CHARS = 1000  # characters in one full-text query


def database_file(db: sqlite_utils.Database) -> str | None:
    """The file the database lives in (None in memory): what file writers must never write onto."""
    for _seq, name, file in db.conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or None
    return None


def iter_papers(db: sqlite_utils.Database, *, columns: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]:
    """Every paper as a dict, ordered by ``paper_id``."""
    cols = ", ".join(columns) if columns else "*"
    cur = db.execute(f"SELECT {cols} FROM papers ORDER BY paper_id")
    names = [d[0] for d in cur.description]
    for row in cur:
        yield dict(zip(names, row))


def load_papers(db: sqlite_utils.Database) -> pd.DataFrame:
    """Papers as a DataFrame indexed by nothing, one row each (no ``external_ids`` JSON)."""
    import pandas as pd
    return pd.read_sql_query(
        "SELECT paper_id, corpus_id, arxiv_id, doi, title, abstract, year, publication_date, venue, "
        "citation_count, reference_count, url, hop, first_seen, updated_at FROM papers ORDER BY paper_id",
        db.conn,
    )


def load_citations(db: sqlite_utils.Database, *, stored_only: bool = True) -> pd.DataFrame:
    """Citation edges (``citing_id`` → ``cited_id``); by default only those whose both ends are stored."""
    import pandas as pd
    sql = "SELECT c.citing_id, c.cited_id, c.is_influential, c.intents FROM citations c"
    if stored_only:
        sql += (
            " JOIN papers a ON a.paper_id = c.citing_id JOIN papers b ON b.paper_id = c.cited_id"
        )
    return pd.read_sql_query(sql + " ORDER BY c.citing_id, c.cited_id", db.conn)


def load_labels(db: sqlite_utils.Database, *, facet: str | None = None) -> pd.DataFrame:
    """Labels (``paper_id, facet, value, confidence, source, evidence``)."""
    import pandas as pd
    sql = "SELECT paper_id, facet, value, confidence, source, evidence FROM labels"
    params: list[Any] = []
    if facet:
        sql += " WHERE facet = ?"
        params.append(facet)
    return pd.read_sql_query(sql + " ORDER BY paper_id, facet, value", db.conn, params=params)


_AUTHORS_SQL = (
    "SELECT pa.paper_id, pa.author_id, a.name FROM paper_authors pa "
    "LEFT JOIN authors a ON a.author_id = pa.author_id ORDER BY pa.paper_id, pa.position"
)


def load_authors(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """``paper_id`` → author names in order (``""`` for an author with no name)."""
    out: dict[str, list[str]] = {}
    for pid, _, name in db.execute(_AUTHORS_SQL):
        out.setdefault(pid, []).append(name or "")
    return out


def load_paper_authors(db: sqlite_utils.Database) -> dict[str, list[tuple[str, str | None]]]:
    """``paper_id`` → ``[(author_id, name), ...]`` in author order (name None when unknown)."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for pid, aid, name in db.execute(_AUTHORS_SQL):
        out.setdefault(pid, []).append((aid, name))
    return out


def resolve_paper_id(db: sqlite_utils.Database, ref: str) -> str:
    """Any accepted spelling of a paper id → the ``paper_id`` stored. Raises PaperNotFound."""
    row = db.execute("SELECT paper_id FROM papers WHERE paper_id = ?", [ref.strip()]).fetchone()
    if row:  # stored ids need not look like S2 ids (bulk records without a url are ``CorpusId:N``)
        return str(row[0])
    norm = normalise_paper_id(ref)
    prefix, _, rest = norm.partition(":")
    if not rest:
        row = db.execute("SELECT paper_id FROM papers WHERE paper_id = ?", [norm]).fetchone()
    elif prefix == "ARXIV":
        row = db.execute("SELECT paper_id FROM papers WHERE arxiv_id = ? ORDER BY paper_id", [rest]).fetchone()
    elif prefix == "DOI":
        row = db.execute("SELECT paper_id FROM papers WHERE doi = ? ORDER BY paper_id", [rest]).fetchone()
    elif prefix == "CorpusId" and len(rest.lstrip("0")) <= 19 and int(rest) <= INT64_MAX:  # else: no corpus_id
        row = db.execute(
            "SELECT paper_id FROM papers WHERE corpus_id = ? OR paper_id = ? ORDER BY paper_id", [int(rest), norm]
        ).fetchone()
    else:
        row = db.execute("SELECT paper_id FROM papers WHERE paper_id = ?", [norm]).fetchone()
    if not row:
        raise PaperNotFound(ref, "not in the database")
    return str(row[0])


def get_paper(db: sqlite_utils.Database, paper_id: str) -> dict[str, Any]:
    """One paper with its authors and labels. Raises PaperNotFound."""
    cur = db.execute("SELECT * FROM papers WHERE paper_id = ?", [paper_id])
    row = cur.fetchone()
    if row is None:
        raise PaperNotFound(paper_id, "not in the database")
    paper = dict(zip([d[0] for d in cur.description], row))
    paper["external_ids"] = json.loads(paper["external_ids"]) if paper.get("external_ids") else {}
    paper["authors"] = [
        r[0]
        for r in db.execute(
            "SELECT coalesce(a.name, '') FROM paper_authors pa LEFT JOIN authors a USING (author_id) "
            "WHERE pa.paper_id = ? ORDER BY pa.position",
            [paper_id],
        )
    ]
    paper["labels"] = [
        dict(zip(("facet", "value", "confidence", "source", "evidence", "evidence_source"), r))
        for r in db.execute(
            "SELECT facet, value, confidence, source, evidence, evidence_source FROM labels WHERE paper_id = ? "
            "ORDER BY facet, value",
            [paper_id],
        )
    ]
    return paper


def search_papers(db: sqlite_utils.Database, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Full-text search over title and abstract (bound parameters; words are quoted, never FTS syntax).

    Repeated words count once (case does not matter). Raises BadInput for a query
    longer than SEARCH_MAX_CHARS characters or with more than SEARCH_MAX_WORDS
    distinct words: FTS5 time grows with every term, so an unbounded query is slow.
    """
    if len(query) > SEARCH_MAX_CHARS:
        raise BadInput(f"search query too long: {len(query)} characters, at most {SEARCH_MAX_CHARS}")
    words = list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", query)))
    if not words:
        return []
    if len(words) > SEARCH_MAX_WORDS:
        raise BadInput(f"search query has {len(words)} different words, at most {SEARCH_MAX_WORDS}")
    match = " ".join('"' + w.replace('"', "") + '"' for w in words)
    cur = db.execute(
        "SELECT p.paper_id, p.title, p.year, p.arxiv_id FROM papers_fts f JOIN papers p ON p.rowid = f.rowid "
        "WHERE papers_fts MATCH ? ORDER BY rank LIMIT ?",
        [match, int(limit)],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


def last_crawl(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The newest crawl run, or None."""
    cur = db.execute("SELECT * FROM crawl_runs ORDER BY run_id DESC LIMIT 1")
    row = cur.fetchone()
    if row is None:
        return None
    run = dict(zip([d[0] for d in cur.description], row))
    if run.get("seeds"):
        try:
            run["seeds"] = json.loads(run["seeds"])
        except ValueError:
            pass
    return run


def compute_stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Counts for ``stats``: papers, citations, authors, labelled papers, per facet value, last crawl."""
    one = lambda sql: int(db.execute(sql).fetchone()[0])  # noqa: E731
    per_facet: dict[str, dict[str, int]] = {}
    for facet, value, n in db.execute(
        "SELECT facet, value, count(DISTINCT paper_id) FROM labels GROUP BY facet, value ORDER BY facet, value"
    ):
        per_facet.setdefault(facet, {})[value] = n
    return {
        "papers": one("SELECT count(*) FROM papers"),
        "citations": one("SELECT count(*) FROM citations"),
        "citations_in_corpus": one(
            "SELECT count(*) FROM citations c JOIN papers a ON a.paper_id = c.citing_id "
            "JOIN papers b ON b.paper_id = c.cited_id"
        ),
        "authors": one("SELECT count(*) FROM authors"),
        "with_abstract": one("SELECT count(*) FROM papers WHERE abstract IS NOT NULL"),
        "labelled": one("SELECT count(DISTINCT paper_id) FROM labels"),
        "labels": per_facet,
        "last_crawl": last_crawl(db),
        "routes": routes(db),
    }


def routes(db: sqlite_utils.Database) -> dict[str, dict[str, int]]:
    """Coverage by route: for each ``papers.found_by`` (``unrecorded`` for papers stored before routes were
    recorded), the papers it brought in and how many of them are labelled ``relevance=core``.

    Routes come in the order of ``store.crawl.ROUTES``, then any other value.
    """
    rows = db.execute(
        "SELECT coalesce(p.found_by, 'unrecorded'), count(*), count(l.paper_id) FROM papers p "
        "LEFT JOIN labels l ON l.paper_id = p.paper_id AND l.facet = 'relevance' AND l.value = 'core' GROUP BY 1"
    ).fetchall()
    found = {r: {"papers": int(n), "core": int(c)} for r, n, c in rows}
    order = [r for r in (*ROUTES, "unrecorded") if r in found] + sorted(set(found) - set(ROUTES) - {"unrecorded"})
    return {r: found[r] for r in order}
