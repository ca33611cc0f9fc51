"""Full text by section (``sections``, ``fulltext_papers``, ``fulltext_runs`` tables).

A section row is ``(paper_id, position, title, text, source, version, licence,
fetched_at)``; ``text`` is stored zlib-compressed and handed out as ``str``.
Saving a paper's sections replaces every section it had, in one transaction.

``fulltext_papers`` keeps the outcome of the last fetch of each paper
(``fetched``, ``no-text``, ``missing``, ``withdrawn``, ``error``), written in
the same transaction as its sections and its run's counters, so a run killed
at any moment resumes without fetching a stored paper again.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils

from .core import _translate, db_path, now_iso, transaction

__all__ = [
    "FULLTEXT_DONE",
    "fulltext_candidates",
    "fulltext_outcomes",
    "finish_fulltext_run",
    "get_fulltext_run",
    "load_sections",
    "pack_text",
    "record_fulltext",
    "save_sections",
    "start_fulltext_run",
    "unpack_text",
]

#: outcomes that are final until ``--refetch`` (``error`` is tried again by the next run)
FULLTEXT_DONE = ("fetched", "no-text", "missing", "withdrawn")
_RUN_COUNTER = {"fetched": "papers_fetched", "no-text": "papers_without_text", "missing": "papers_without_text",
                "withdrawn": "papers_without_text", "error": "papers_failed"}


def pack_text(text: str) -> bytes:
    """Compress a section's text for storage."""
    return zlib.compress(text.encode("utf-8"), 6)


def unpack_text(blob: bytes | str | None) -> str:
    """The text of a stored section (plain ``str`` rows are accepted as they are)."""
    if blob is None:
        return ""
    if isinstance(blob, str):
        return blob
    return zlib.decompress(blob).decode("utf-8")


def _section_rows(
    paper_id: str, sections: Sequence[Mapping[str, Any]], source: str, version: str | None, licence: str | None,
    when: str,
) -> tuple[list[tuple[Any, ...]], int]:
    rows = []
    stored = 0
    for position, sec in enumerate(sections):
        blob = pack_text(str(sec.get("text") or ""))
        stored += len(blob)
        rows.append((paper_id, position, sec.get("title"), blob, source, version, licence, when))
    return rows, stored


def _replace_sections(db: sqlite_utils.Database, paper_id: str, rows: list[tuple[Any, ...]]) -> None:
    db.conn.execute("DELETE FROM sections WHERE paper_id = ?", (paper_id,))
    db.conn.executemany(
        "INSERT INTO sections (paper_id, position, title, text, source, version, licence, fetched_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def save_sections(
    db: sqlite_utils.Database,
    paper_id: str,
    sections: Sequence[Mapping[str, Any]],
    *,
    source: str,
    version: str | None = None,
    licence: str | None = None,
    fetched_at: str | None = None,
) -> int:
    """Replace the stored sections of ``paper_id`` with ``sections`` (dicts with ``title`` and ``text``).

    Returns the number of compressed bytes stored.
    """
    rows, stored = _section_rows(paper_id, sections, source, version, licence, fetched_at or now_iso())
    try:
        with transaction(db):
            _replace_sections(db, paper_id, rows)
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return stored


def record_fulltext(
    db: sqlite_utils.Database,
    paper_id: str,
    *,
    status: str,
    sections: Sequence[Mapping[str, Any]] = (),
    source: str | None = None,
    version: str | None = None,
    licence: str | None = None,
    requests: int = 0,
    error: str | None = None,
    run_id: int | None = None,
    when: str | None = None,
) -> int:
    """One paper's fetch, in one transaction: its sections (replaced only when there are new ones),
    its ``fulltext_papers`` outcome, and its run's counters. Returns the compressed bytes stored."""
    if status not in _RUN_COUNTER:
        raise ValueError(f"unknown full-text status {status!r}")
    when = when or now_iso()
    rows, stored = _section_rows(paper_id, sections, source or "", version, licence, when)
    try:
        with transaction(db):
            if rows:
                _replace_sections(db, paper_id, rows)
            db.conn.execute(
                "INSERT OR REPLACE INTO fulltext_papers (paper_id, status, source, version, bytes, requests, "
                "checked_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (paper_id, status, source, version, stored if rows else None, requests, when, error),
            )
            if run_id is not None:
                counter = _RUN_COUNTER[status]
                db.conn.execute(
                    f"UPDATE fulltext_runs SET requests = coalesce(requests, 0) + ?, "
                    f"{counter} = coalesce({counter}, 0) + 1 WHERE run_id = ?",
                    (requests, run_id),
                )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return stored


def fulltext_candidates(db: sqlite_utils.Database, relevance: Sequence[str]) -> list[dict[str, Any]]:
    """Papers labelled with one of ``relevance``, in the order a run takes them (the first value of
    ``relevance`` first, then most cited), with their last fetch outcome (``status``, ``version``, ``source``;
    None when never fetched)."""
    values = list(dict.fromkeys(relevance))
    if not values:
        return []
    marks = ", ".join("?" * len(values))
    rank = " ".join(f"WHEN ? THEN {i}" for i in range(len(values)))
    sql = (
        "SELECT p.paper_id, p.arxiv_id, p.corpus_id, p.title, min(CASE l.value " + rank + " END) AS rank, "
        "f.status, f.version, f.source FROM papers p "
        "JOIN labels l ON l.paper_id = p.paper_id AND l.facet = 'relevance' AND l.value IN (" + marks + ") "
        "LEFT JOIN fulltext_papers f ON f.paper_id = p.paper_id "
        "GROUP BY p.paper_id ORDER BY rank, coalesce(p.citation_count, -1) DESC, p.paper_id"
    )
    try:
        cur = db.execute(sql, values + values)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def fulltext_outcomes(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """``paper_id`` -> its ``fulltext_papers`` row."""
    try:
        cur = db.execute("SELECT * FROM fulltext_papers ORDER BY paper_id")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur}
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def start_fulltext_run(db: sqlite_utils.Database, *, arxiv_url: str | None, when: str | None = None) -> int:
    """A new ``fulltext_runs`` row (``running``); runs left ``running`` by a killed process become ``interrupted``."""
    try:
        with transaction(db):
            db.conn.execute("UPDATE fulltext_runs SET status = 'interrupted' WHERE status = 'running'")
            cur = db.conn.execute(
                "INSERT INTO fulltext_runs (started_at, arxiv_url, requests, papers_fetched, papers_without_text, "
                "papers_failed, status) VALUES (?, ?, 0, 0, 0, 0, 'running')",
                (when or now_iso(), arxiv_url),
            )
            return int(cur.lastrowid or 0)
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def finish_fulltext_run(
    db: sqlite_utils.Database, run_id: int, *, status: str, error: str | None = None, extra_requests: int = 0,
    when: str | None = None,
) -> dict[str, Any]:
    """Close a run (``done``, ``failed`` or ``interrupted``); ``extra_requests`` are those no paper took. Returns the row."""
    try:
        db.conn.execute(
            "UPDATE fulltext_runs SET finished_at = ?, status = ?, error = ?, "
            "requests = coalesce(requests, 0) + ? WHERE run_id = ?",
            (when or now_iso(), status, error, extra_requests, run_id),
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return get_fulltext_run(db, run_id)


def get_fulltext_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any]:
    cur = db.execute("SELECT * FROM fulltext_runs WHERE run_id = ?", (run_id,))
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise KeyError(run_id)
    return dict(zip(names, row))


def load_sections(
    db: sqlite_utils.Database, paper_ids: Iterable[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``paper_id`` -> its sections in order, each ``{"title", "text", "source", "version"}``.

    ``paper_ids=None`` loads every paper that has text; papers without text are absent.
    """
    sql = "SELECT paper_id, title, text, source, version FROM sections"
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        if paper_ids is None:
            chunks: list[list[str] | None] = [None]
        else:
            ids = list(dict.fromkeys(paper_ids))
            chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            if chunk is None:
                cur = db.execute(sql + " ORDER BY paper_id, position")
            elif not chunk:
                continue
            else:
                marks = ", ".join("?" * len(chunk))
                cur = db.execute(sql + f" WHERE paper_id IN ({marks}) ORDER BY paper_id, position", chunk)
            for pid, title, blob, source, version in cur:
                out.setdefault(pid, []).append(
                    {"title": title, "text": unpack_text(blob), "source": source, "version": version}
                )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return out
