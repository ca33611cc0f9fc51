"""Opening the database, transactions, and writing papers, authors and citations.

All SQL of rlmllm-graph lives in this package. The connection runs in
autocommit mode (``isolation_level=None``); every write goes through
:func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``)
so a second writer fails fast with :class:`DatabaseLocked` instead of
corrupting anything, and rolls back on any error so a failed command leaves
the database as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import sqlite_utils

from ..errors import (
    BadDatabasePath,
    DatabaseLocked,
    DatabaseMissing,
    NotADatabase,
    NotOurDatabase,
    SchemaOutOfDate,
    StoreError,
)
from ..records import Citation, Paper
from .migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "PAPER_COLUMNS",
    "bulk_write",
    "now_iso",
    "open_db",
    "paper_count",
    "transaction",
    "upsert_citations",
    "upsert_papers",
]

PAPER_COLUMNS = (
    "paper_id",
    "corpus_id",
    "arxiv_id",
    "doi",
    "title",
    "abstract",
    "year",
    "publication_date",
    "venue",
    "citation_count",
    "reference_count",
    "url",
    "external_ids",
    "hop",
    "first_seen",
    "updated_at",
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_locked(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds the database (SQLITE_BUSY or SQLITE_LOCKED)."""
    msg = str(exc)
    return "locked" in msg or "busy" in msg or getattr(exc, "sqlite_errorcode", None) in (5, 6)


def _translate(exc: sqlite3.Error, path: str) -> StoreError:
    msg = str(exc)
    if is_locked(exc):
        return DatabaseLocked(f"database {path} is locked by another writer; try again when it has finished")
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return NotADatabase(f"{path} is not an rlmllm-graph database or is corrupt ({msg})")
    if "readonly" in msg or "read-only" in msg:
        return StoreError(f"database {path} cannot be written ({msg})")
    if "unable to open" in msg:
        return StoreError(f"cannot open database {path} ({msg})")
    return StoreError(f"database {path}: {msg}")


def open_db(
    path: str | Path,
    *,
    create: bool = True,
    busy_timeout_ms: int = 2000,
    readonly: bool = False,
) -> sqlite_utils.Database:
    """Open (and if need be create and migrate) the database at ``path``.

    ``create=False`` is for read-only commands: a missing file is an error, not
    a new empty database, and a file that is not ours (empty, not SQLite, an
    SQLite file without our tables) is refused with
    :class:`~rlmllm_graph.errors.NotOurDatabase` before anything is written to
    it. Raises :class:`~rlmllm_graph.errors.StoreError` subclasses with one
    readable message.
    """
    p = Path(path)
    spath = str(p)
    if p.is_dir():
        raise BadDatabasePath(f"{spath} is a folder, not a database file")
    if not p.exists():
        if not create or readonly:
            raise DatabaseMissing(
                f"no database at {spath}; fill it first with `rlmllm-graph refresh` or `rlmllm-graph import`"
            )
        if not p.parent.exists():
            raise BadDatabasePath(f"cannot create database {spath}: folder {p.parent} does not exist")
    if not create:
        _refuse_foreign_file(p)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{quote(str(p.resolve()))}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(spath, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        if "conn" in locals():
            conn.close()  # a connection that opened but cannot be used is not left to the garbage collector
        raise _translate(exc, spath) from None
    db = sqlite_utils.Database(conn)
    tables = db.table_names()
    if "papers" not in tables and (tables or not create):  # another application's file: refused before any write
        conn.close()
        error = NotOurDatabase if not create else NotADatabase
        raise error(f"{spath} is an SQLite file but not an rlmllm-graph database (no papers table); left as it was")
    if version > SCHEMA_VERSION:
        conn.close()
        raise SchemaOutOfDate(
            f"database {spath} has schema version {version}, newer than this rlmllm-graph ({SCHEMA_VERSION}); upgrade"
        )
    if not readonly:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk loads stay in memory until commit
            conn.execute("PRAGMA temp_store = MEMORY")
            if version < SCHEMA_VERSION:
                _migrate(db, spath, version)
        except sqlite3.Error as exc:
            conn.close()
            raise _translate(exc, spath) from None
        except BaseException:
            conn.close()
            raise
    elif version < SCHEMA_VERSION:
        conn.close()
        raise SchemaOutOfDate(f"database {spath} needs migrating; open it once with a writing command")
    conn.execute("PRAGMA foreign_keys = OFF")
    db._rlmllm_path = spath  # type: ignore[attr-defined]
    return db


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _refuse_foreign_file(p: Path) -> None:
    """Raise NotOurDatabase when ``p`` is plainly not an SQLite database (read before SQLite opens it)."""
    try:
        with p.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError:
        return  # unreadable: SQLite's own error says why
    if not head:
        wal = Path(f"{p}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return  # a database whose pages are all still in its write-ahead log
        raise NotOurDatabase(f"{p} is an empty file, not an rlmllm-graph database; left as it was")
    if head != _SQLITE_MAGIC:
        raise NotOurDatabase(f"{p} is not an rlmllm-graph database or is corrupt (not an SQLite file); "
                             "left as it was")


def _migrate(db: sqlite_utils.Database, path: str, version: int) -> None:
    if db.table_names() and "papers" not in db.table_names():  # another application's file, whatever its version
        raise NotADatabase(f"{path} is an SQLite file but not an rlmllm-graph database")
    with transaction(db):
        # re-read under the lock: another process may have migrated meanwhile
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for i, step in enumerate(MIGRATIONS[version:], start=version + 1):
            step(db)
            db.execute(f"PRAGMA user_version = {i}")


def db_path(db: sqlite_utils.Database) -> str:
    return getattr(db, "_rlmllm_path", "database")


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One all-or-nothing write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error.

    Nested use joins the outer transaction. Do not call sqlite-utils'
    ``insert_all``/``upsert_all`` inside: they commit on their own.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise _translate(exc, db_path(db)) from None


@contextmanager
def bulk_write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A transaction for loading much more than the database holds.

    Secondary indexes and the full-text triggers of the written tables are
    dropped for the load and rebuilt at the end (a sorted build is several
    times faster than updating them row by row). DDL is transactional in
    SQLite, so an error still leaves the database exactly as it was.
    """
    with transaction(db):
        saved = db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
            "((type = 'index' AND tbl_name IN ('papers', 'citations', 'paper_authors')) OR "
            "(type = 'trigger' AND tbl_name = 'papers' AND name LIKE 'papers_a_'))"
        ).fetchall()
        for kind, name, _ in saved:
            db.execute(f"DROP {kind.upper()} [{name}]")
        yield db
        for _, _, sql in saved:
            db.execute(sql)
        if any(kind == "trigger" for kind, _, _ in saved):
            db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")


def _dumps(value: Any) -> str | None:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if value else None


def _upsert_sql(kept: tuple[str, ...] = ()) -> str:
    """Insert or merge a paper; ``kept`` columns keep a value already stored (``found_by``: the first route)."""
    cols = PAPER_COLUMNS + kept
    keep = "".join(f",\n  {c} = coalesce(papers.{c}, excluded.{c})" for c in kept)
    return f"""
INSERT INTO papers ({", ".join(cols)})
VALUES ({", ".join("?" for _ in cols)})
ON CONFLICT(paper_id) DO UPDATE SET
{", ".join(f"{c} = coalesce(excluded.{c}, papers.{c})" for c in PAPER_COLUMNS[1:-3])},
  hop = CASE WHEN papers.hop IS NULL THEN excluded.hop
             WHEN excluded.hop IS NULL THEN papers.hop
             ELSE min(papers.hop, excluded.hop) END,
  updated_at = excluded.updated_at{keep}
"""


_UPSERT_PAPER = _upsert_sql()
_UPSERT_PAPER_ROUTE = _upsert_sql(("found_by",))


def upsert_papers(
    db: sqlite_utils.Database, papers: Iterable[Paper], *, when: str | None = None, found_by: str | None = None
) -> int:
    """Insert or merge papers; a known value is never replaced by an unknown (null) one.

    ``found_by``: the route that brought them in (``papers.found_by``), kept where one is recorded already.

    Authors are replaced only when the new record lists some. Returns how many
    records were written. Call inside :func:`transaction` for atomicity.
    """
    when = when or now_iso()
    rows = []
    author_rows: dict[str, str | None] = {}
    links: list[tuple[str, str, int]] = []
    with_authors: list[tuple[str]] = []
    for p in papers:
        rows.append(
            (
                p.paper_id, p.corpus_id, p.arxiv_id, p.doi, p.title, p.abstract, p.year,
                p.publication_date, p.venue, p.citation_count, p.reference_count, p.url,
                _dumps(p.external_ids), p.hop, when, when, *((found_by,) if found_by else ()),
            )
        )
        if p.authors:
            with_authors.append((p.paper_id,))
            for pos, a in enumerate(p.authors):
                if a.name is not None or a.author_id not in author_rows:
                    author_rows[a.author_id] = a.name
                links.append((p.paper_id, a.author_id, pos))
    if not rows:
        return 0
    conn = db.conn
    try:
        conn.executemany(_UPSERT_PAPER_ROUTE if found_by else _UPSERT_PAPER, rows)
        if author_rows:
            conn.executemany(
                "INSERT INTO authors (author_id, name) VALUES (?, ?) "
                "ON CONFLICT(author_id) DO UPDATE SET name = coalesce(excluded.name, authors.name)",
                author_rows.items(),
            )
            conn.executemany("DELETE FROM paper_authors WHERE paper_id = ?", with_authors)
            conn.executemany(
                "INSERT OR REPLACE INTO paper_authors (paper_id, author_id, position) VALUES (?, ?, ?)", links
            )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(rows)


def upsert_citations(
    db: sqlite_utils.Database, citations: Iterable[Citation] | list[tuple[str, str, Any, Any]]
) -> int:
    """Insert citation edges; known ``is_influential``/``intents`` are kept when the new value is null.

    Takes :class:`Citation` records or store-ready rows
    ``(citing_id, cited_id, is_influential 0/1/None, intents JSON text/None)``.
    A paper citing itself is not stored (nor counted in the return value): see
    ``m006_numbers_no_self_citations``. Returns how many edges were written.
    """
    rows = citations if isinstance(citations, list) else list(citations)
    if not rows:
        return 0
    if any(isinstance(c, Citation) for c in rows):
        rows = [
            (c.citing_id, c.cited_id, None if c.is_influential is None else int(bool(c.is_influential)),
             json.dumps(c.intents) if c.intents else None) if isinstance(c, Citation) else c
            for c in rows
        ]
    rows = [r for r in rows if r[0] != r[1]]
    try:
        db.conn.executemany(
            "INSERT INTO citations (citing_id, cited_id, is_influential, intents) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(citing_id, cited_id) DO UPDATE SET "
            "is_influential = coalesce(excluded.is_influential, citations.is_influential), "
            "intents = coalesce(excluded.intents, citations.intents)",
            rows,
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(rows)


def set_abstracts_by_corpus_id(db: sqlite_utils.Database, abstracts: dict[int, str]) -> int:
    """Fill abstracts from a bulk ``abstracts`` record (by corpus id); returns rows touched."""
    cur = db.conn.executemany(
        "UPDATE papers SET abstract = ? WHERE corpus_id = ?", [(a, c) for c, a in abstracts.items()]
    )
    return cur.rowcount


def resolve_corpus_citations(
    db: sqlite_utils.Database, edges: list[tuple[int, int, bool | None, list[str] | None]]
) -> tuple[int, int]:
    """Store bulk citation records whose both ends are stored papers.

    Returns (edges written, edges skipped because an end is not in the database).
    """
    if not edges:
        return 0, 0
    ids = dict(db.execute("SELECT corpus_id, paper_id FROM papers WHERE corpus_id IS NOT NULL").fetchall())
    rows = []
    for citing, cited, infl, intents in edges:
        a, b = ids.get(citing), ids.get(cited)
        if a and b:
            rows.append((a, b, None if infl is None else int(infl), json.dumps(intents) if intents else None))
    return upsert_citations(db, rows), len(edges) - len(rows)


def paper_count(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM papers").fetchone()[0])


def table_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {
        t: int(db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0])
        for t in ("papers", "citations", "authors")
    }
