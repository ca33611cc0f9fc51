"""The SQL of change tracking: which run first stored each paper, label checkpoints, citation counts.

The policy (when to checkpoint, how to read a window of runs) is in
:mod:`rlmllm_graph.changes`; the tables are described in
:func:`~rlmllm_graph.store.migrations.m008_offline_changes`.
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
    "citation_jumps",
    "claim_route",
    "finish_change_run",
    "label_changes",
    "label_diff",
    "mark_new_papers",
    "paper_info",
    "papers_first_stored",
    "record_citation_counts",
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

#: (paper_id, facet) whose values differ between the labels and the checkpoint
_DIFF_KEYS = (
    "SELECT paper_id, facet FROM (SELECT paper_id, facet, value FROM labels "
    "EXCEPT SELECT paper_id, facet, value FROM label_checkpoint) "
    "UNION SELECT paper_id, facet FROM (SELECT paper_id, facet, value FROM label_checkpoint "
    "EXCEPT SELECT paper_id, facet, value FROM labels)"
)


def _values(db: sqlite_utils.Database, table: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    wanted = set(keys)
    ids = sorted({p for p, _ in keys})
    got: dict[tuple[str, str], list[str]] = {}
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        for pid, facet, value in _exec(
            db, f"SELECT paper_id, facet, value FROM {table} WHERE paper_id IN ({','.join('?' * len(part))}) "
            "ORDER BY paper_id, facet, value", part,
        ):
            if (pid, facet) in wanted:
                got.setdefault((pid, facet), []).append(value)
    return {k: ",".join(v) for k, v in got.items()}


def label_diff(db: sqlite_utils.Database) -> list[tuple[str, str, str, str]]:
    """``(paper_id, facet, before, after)`` where a facet's values differ from the checkpoint, for papers that
    had labels at the checkpoint (a paper labelled for the first time is not a change). Values comma-joined."""
    keys = [
        (p, f) for p, f in _exec(
            db,
            f"SELECT paper_id, facet FROM ({_DIFF_KEYS}) WHERE paper_id IN (SELECT paper_id FROM label_checkpoint) "
            "ORDER BY paper_id, facet",
        )
    ]
    if not keys:
        return []
    before, after = _values(db, "label_checkpoint", keys), _values(db, "labels", keys)
    return [(p, f, before.get((p, f), ""), after.get((p, f), "")) for p, f in keys]


def update_checkpoint(db: sqlite_utils.Database) -> None:
    """Make the checkpoint the labels as they are now (only the facets that differ are rewritten)."""
    conn = db.conn
    try:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _label_diff (paper_id TEXT, facet TEXT, PRIMARY KEY (paper_id, facet))")
        conn.execute("DELETE FROM _label_diff")
        conn.execute(f"INSERT INTO _label_diff (paper_id, facet) {_DIFF_KEYS}")
        conn.execute("DELETE FROM label_checkpoint WHERE (paper_id, facet) IN (SELECT paper_id, facet FROM _label_diff)")
        conn.execute(
            "INSERT INTO label_checkpoint (paper_id, facet, value) SELECT l.paper_id, l.facet, l.value "
            "FROM labels l JOIN _label_diff d ON d.paper_id = l.paper_id AND d.facet = l.facet"
        )
        conn.execute("DELETE FROM _label_diff")
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def save_label_changes(db: sqlite_utils.Database, run_id: int, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """``(paper_id, facet, before, after)`` rows for ``run_id``; the run's ``labels_changed`` is their count."""
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
    """Recorded label changes of ``run_ids``: ``run_id, paper_id, facet, before, after``."""
    if not run_ids:
        return []
    marks = ",".join("?" * len(run_ids))
    return _dicts(
        _exec(
            db,
            "SELECT run_id, paper_id, facet, before, after FROM label_changes "
            f"WHERE run_id IN ({marks}) ORDER BY run_id, paper_id, facet",
            list(run_ids),
        )
    )


def paper_info(db: sqlite_utils.Database, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """paper_id → ``title``, ``arxiv_id``, ``relevance`` (its first value, or None) for the stored ones of ``ids``."""
    out: dict[str, dict[str, Any]] = {}
    ids = sorted(set(ids))
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        for pid, title, arxiv, rel in _exec(
            db,
            "SELECT p.paper_id, p.title, p.arxiv_id, (SELECT min(value) FROM labels l WHERE l.paper_id = p.paper_id "
            f"AND l.facet = 'relevance') FROM papers p WHERE p.paper_id IN ({','.join('?' * len(part))})",
            part,
        ):
            out[pid] = {"title": title, "arxiv_id": arxiv, "relevance": rel}
    return out


# -- in-corpus citations ------------------------------------------------------------------------

_LAST_COUNT = (
    "SELECT x.in_corpus FROM citation_counts x WHERE x.paper_id = {pid} {cond} ORDER BY x.run_id DESC LIMIT 1"
)


def record_citation_counts(db: sqlite_utils.Database, run_id: int) -> int:
    """Record, for run ``run_id``, the in-corpus citations (stored papers citing it, itself excluded) of every
    stored paper whose count differs from its last recorded one. Returns how many rows were written.

    Counted in Python over one scan of ``citations``: a join with ``papers`` on both ends and a GROUP BY
    took several times longer on a million edges.
    """
    stored = {r[0] for r in _exec(db, "SELECT paper_id FROM papers")}
    now = dict.fromkeys(stored, 0)
    for citing, cited in _exec(db, "SELECT citing_id, cited_id FROM citations"):
        if citing != cited and citing in stored and cited in stored:
            now[cited] += 1
    last: dict[str, int] = {}
    for pid, n in _exec(db, "SELECT paper_id, in_corpus FROM citation_counts WHERE run_id != ? ORDER BY paper_id, run_id",
                        [run_id]):
        last[pid] = n  # rows come oldest first for each paper: the last one wins
    rows = [(p, run_id, n) for p, n in now.items() if last.get(p) != n]
    _many(db, "INSERT OR REPLACE INTO citation_counts (paper_id, run_id, in_corpus) VALUES (?, ?, ?)", rows)
    return len(rows)


def citation_jumps(db: sqlite_utils.Database, first_run: int, min_jump: int) -> list[tuple[str, int, int]]:
    """(paper_id, before, after): stored papers whose last recorded count before run ``first_run`` was at least
    ``min_jump`` below their last recorded count."""
    rows = _exec(
        db,
        "SELECT paper_id, before, after FROM (SELECT p.paper_id, "
        f"({_LAST_COUNT.format(pid='p.paper_id', cond='AND x.run_id < ?')}) AS before, "
        f"({_LAST_COUNT.format(pid='p.paper_id', cond='')}) AS after FROM papers p) "
        "WHERE before IS NOT NULL AND after - before >= ?",
        [first_run, min_jump],
    ).fetchall()
    return [(p, int(b), int(a)) for p, b, a in rows]
