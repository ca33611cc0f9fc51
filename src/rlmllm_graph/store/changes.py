"""The SQL of change tracking: which run first stored each paper, label checkpoints, citation counts.

The policy (when to checkpoint, how to read a window of runs) is in
:mod:`rlmllm_graph.changes`; the tables are described in
:func:`~rlmllm_graph.store.migrations.m006_offline_changes`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from .core import _translate, db_path, now_iso

__all__ = [
    "begin_change_run",
    "change_runs",
    "claim_route",
    "finish_change_run",
    "in_corpus_counts",
    "label_changes",
    "label_state",
    "latest_counts",
    "load_checkpoint",
    "mark_new_papers",
    "papers_first_stored",
    "save_counts",
    "save_label_changes",
    "start_snapshot_run",
    "update_checkpoint",
]

_CHUNK = 900


def _exec(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
    try:
        return db.conn.execute(sql, list(params))
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def _many(db: sqlite_utils.Database, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    try:
        db.conn.executemany(sql, rows)
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# -- runs -------------------------------------------------------------------------------------


def start_snapshot_run(db: sqlite_utils.Database, *, source: str, when: str | None = None) -> int:
    """A ``crawl_runs`` row of kind ``snapshot`` (no seeds, no requests); close it with ``store.crawl.finish_run``.

    Unlike a crawl's start it leaves an unfinished crawl and its frontier alone.
    """
    papers = int(_exec(db, "SELECT count(*) FROM papers").fetchone()[0])
    edges = int(_exec(db, "SELECT count(*) FROM citations").fetchone()[0])
    cur = _exec(
        db,
        "INSERT INTO crawl_runs (started_at, seeds, depth, max_papers, api_url, requests, papers_added, edges_added, "
        "status, expand, level, papers_before, edges_before, papers_skipped, kind) "
        "VALUES (?, '[]', 0, NULL, ?, 0, 0, 0, 'running', NULL, 0, ?, ?, 0, 'snapshot')",
        [when or now_iso(), source, papers, edges],
    )
    return int(cur.lastrowid or 0)


def begin_change_run(db: sqlite_utils.Database, run_id: int, when: str | None = None) -> int | None:
    """Record that run ``run_id`` is tracked; returns the tracked run before it (None for the first)."""
    prev = _exec(db, "SELECT max(run_id) FROM change_runs WHERE run_id < ?", [run_id]).fetchone()[0]
    _exec(db, "INSERT OR IGNORE INTO change_runs (run_id, started_at) VALUES (?, ?)", [run_id, when or now_iso()])
    return None if prev is None else int(prev)


def finish_change_run(
    db: sqlite_utils.Database, run_id: int, *, papers_added: int, papers_merged: int, when: str | None = None
) -> None:
    _exec(
        db,
        "INSERT INTO change_runs (run_id, started_at) VALUES (?, ?) ON CONFLICT(run_id) DO NOTHING",
        [run_id, when or now_iso()],
    )
    _exec(
        db,
        "UPDATE change_runs SET finished_at = ?, papers_added = coalesce(papers_added, 0) + ?, "
        "papers_merged = coalesce(papers_merged, 0) + ? WHERE run_id = ?",
        [when or now_iso(), papers_added, papers_merged, run_id],
    )


def change_runs(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every tracked run, oldest first, with its ``crawl_runs`` facts (``kind`` is ``refresh`` or ``snapshot``)."""
    rows = _dicts(
        _exec(
            db,
            "SELECT c.run_id, coalesce(r.kind, 'refresh') AS kind, r.started_at, r.finished_at, r.status, r.api_url, "
            "r.seeds, r.requests, r.papers_added AS papers_added_net, r.edges_added, c.papers_added, c.papers_merged, "
            "c.labels_changed FROM change_runs c LEFT JOIN crawl_runs r USING (run_id) ORDER BY c.run_id",
        )
    )
    for r in rows:
        try:
            r["seeds"] = json.loads(r["seeds"] or "[]")
        except ValueError:
            pass
    return rows


# -- papers -----------------------------------------------------------------------------------


def mark_new_papers(db: sqlite_utils.Database, run_id: int) -> int:
    """Every stored paper no run has claimed yet is claimed by ``run_id``; returns how many."""
    cur = _exec(
        db,
        "INSERT INTO paper_first_run (paper_id, run_id) SELECT paper_id, ? FROM papers "
        "WHERE paper_id NOT IN (SELECT paper_id FROM paper_first_run)",
        [run_id],
    )
    return int(cur.rowcount or 0)


def claim_route(db: sqlite_utils.Database, ids: Sequence[str], *, found_by: str, found_via: str | None) -> int:
    """Set how papers were found (``found_by``/``found_via``) for those of ``ids`` no run has claimed yet."""
    n = 0
    for i in range(0, len(ids), _CHUNK):
        part = list(ids[i : i + _CHUNK])
        cur = _exec(
            db,
            f"UPDATE papers SET found_by = ?, found_via = ? WHERE paper_id IN ({','.join('?' * len(part))}) "
            "AND paper_id NOT IN (SELECT paper_id FROM paper_first_run)",
            [found_by, found_via, *part],
        )
        n += int(cur.rowcount or 0)
    return n


def papers_first_stored(db: sqlite_utils.Database, run_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Papers first stored by one of ``run_ids``: ``paper_id, run_id, arxiv_id, doi, title, year,
    publication_date, venue, url, found_by, found_via`` and ``labels`` (facet → sorted values)."""
    if not run_ids:
        return []
    marks = ",".join("?" * len(run_ids))
    rows = _dicts(
        _exec(
            db,
            "SELECT p.paper_id, f.run_id, p.arxiv_id, p.doi, p.title, p.year, p.publication_date, p.venue, p.url, "
            f"p.found_by, p.found_via FROM paper_first_run f JOIN papers p USING (paper_id) WHERE f.run_id IN ({marks})",
            list(run_ids),
        )
    )
    by_id = {r["paper_id"]: r for r in rows}
    for r in rows:
        r["labels"] = {}
    ids = list(by_id)
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        for pid, facet, value in _exec(
            db,
            f"SELECT paper_id, facet, value FROM labels WHERE paper_id IN ({','.join('?' * len(part))}) "
            "ORDER BY paper_id, facet, value",
            part,
        ):
            by_id[pid]["labels"].setdefault(facet, []).append(value)
    return rows


# -- labels -----------------------------------------------------------------------------------


def label_state(db: sqlite_utils.Database) -> dict[tuple[str, str], str]:
    """(paper_id, facet) → the facet's values, sorted and comma-joined, for every stored label."""
    out: dict[tuple[str, str], list[str]] = {}
    for pid, facet, value in _exec(db, "SELECT paper_id, facet, value FROM labels ORDER BY paper_id, facet, value"):
        out.setdefault((pid, facet), []).append(value)
    return {k: ",".join(v) for k, v in out.items()}


def load_checkpoint(db: sqlite_utils.Database) -> dict[tuple[str, str], str]:
    return {(p, f): v for p, f, v in _exec(db, "SELECT paper_id, facet, vals FROM label_checkpoint")}


def update_checkpoint(
    db: sqlite_utils.Database, *, remove: Iterable[tuple[str, str]], put: Iterable[tuple[str, str, str]]
) -> None:
    _many(db, "DELETE FROM label_checkpoint WHERE paper_id = ? AND facet = ?", remove)
    _many(db, "INSERT OR REPLACE INTO label_checkpoint (paper_id, facet, vals) VALUES (?, ?, ?)", put)


def save_label_changes(db: sqlite_utils.Database, run_id: int, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """``(paper_id, facet, before, after)`` rows for ``run_id``; the run's ``labels_changed`` grows by their count."""
    _many(
        db,
        "INSERT OR REPLACE INTO label_changes (run_id, paper_id, facet, before, after) VALUES (?, ?, ?, ?, ?)",
        [(run_id, *r) for r in rows],
    )
    _exec(
        db,
        "UPDATE change_runs SET labels_changed = (SELECT count(*) FROM label_changes WHERE run_id = ?) WHERE run_id = ?",
        [run_id, run_id],
    )


def label_changes(db: sqlite_utils.Database, run_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Recorded label changes of ``run_ids``: ``run_id, paper_id, facet, before, after, title, arxiv_id``."""
    if not run_ids:
        return []
    marks = ",".join("?" * len(run_ids))
    return _dicts(
        _exec(
            db,
            "SELECT c.run_id, c.paper_id, c.facet, c.before, c.after, p.title, p.arxiv_id FROM label_changes c "
            f"JOIN papers p USING (paper_id) WHERE c.run_id IN ({marks}) ORDER BY c.run_id, c.paper_id, c.facet",
            list(run_ids),
        )
    )


# -- in-corpus citations ------------------------------------------------------------------------


def in_corpus_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """paper_id → stored papers citing it (itself excluded), for every stored paper (0 included)."""
    out = {r[0]: 0 for r in _exec(db, "SELECT paper_id FROM papers")}
    for pid, n in _exec(
        db,
        "SELECT c.cited_id, count(*) FROM citations c JOIN papers a ON a.paper_id = c.citing_id "
        "JOIN papers b ON b.paper_id = c.cited_id WHERE c.citing_id != c.cited_id GROUP BY c.cited_id",
    ):
        out[pid] = int(n)
    return out


def latest_counts(db: sqlite_utils.Database, *, before_run: int | None = None) -> dict[str, int]:
    """paper_id → its last recorded in-corpus citation count (only runs before ``before_run``, if given)."""
    sql = "SELECT paper_id, in_corpus FROM citation_counts"
    params: list[Any] = []
    if before_run is not None:
        sql += " WHERE run_id < ?"
        params.append(before_run)
    out: dict[str, int] = {}
    for pid, n in _exec(db, sql + " ORDER BY run_id", params):
        out[pid] = int(n)
    return out


def save_counts(db: sqlite_utils.Database, run_id: int, counts: Iterable[tuple[str, int]]) -> None:
    _many(
        db, "INSERT OR REPLACE INTO citation_counts (paper_id, run_id, in_corpus) VALUES (?, ?, ?)",
        [(p, run_id, n) for p, n in counts],
    )
