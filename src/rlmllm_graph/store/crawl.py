"""The crawler's SQL: crawl runs, the resumable frontier, and per-paper crawl facts.

``crawl_runs`` holds one row per run (its parameters, request count, status and
``level``: how far it got). ``crawl_frontier`` holds every paper of the
current run with what is still to be done for it, so a run killed at any
moment resumes exactly where its last committed step left it.
``crawl_papers`` remembers across runs which papers' reference lists are
already complete (a paper's references do not change; an incremental refresh
fetches only their metadata). ``crawl_queries`` holds each field query of a
run with the continuation token of its next page.

A frontier row's states are named by :class:`Meta` and :class:`Refs`, its
``cites_next`` sentinels by :data:`CITES_NOT_STARTED` and :data:`CITES_DONE`;
how a paper was found by :data:`ROUTES` (``papers.found_by``).

:func:`crawl_lock` keeps two crawls off one database at once: an OS file lock
on ``DB-crawl.lock`` beside it (removed when the crawl ends), which the kernel
releases when the process ends, however it ends, so a killed crawl never
leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlite_utils

from ..errors import DatabaseLocked
from .core import _translate, db_path, now_iso

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no second-crawl guard
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CITES_DONE",
    "CITES_NOT_STARTED",
    "Meta",
    "ROUTES",
    "Refs",
    "add_run_requests",
    "add_run_skipped",
    "count_papers_and_edges",
    "crawl_lock",
    "find_unfinished_run",
    "finish_run",
    "frontier_add",
    "frontier_ids",
    "frontier_left_out",
    "frontier_pending_meta",
    "frontier_pending_ref_pages",
    "frontier_pending_rebatch",
    "frontier_routes",
    "frontier_size",
    "frontier_to_expand",
    "frontier_to_expand_by_batch",
    "frontier_undecided",
    "get_run",
    "frontier_kept",
    "manual_labels",
    "mark_citers_complete",
    "mark_found",
    "pending_queries",
    "query_states",
    "update_query",
    "mark_refs_complete",
    "paper_counts",
    "paper_texts",
    "reference_ids",
    "remaining_work",
    "set_run_level",
    "set_run_status",
    "start_run",
    "update_frontier",
]

_CHUNK = 900  # ids per IN (...) list
_FRONTIER_COLUMNS = (
    "paper_id", "run_id", "seq", "hop", "meta", "refs", "refs_next", "ref_hint", "rebatched", "expand",
    "cites_next", "expanded", "found_by", "found_via",
)
_UNFINISHED = ("running", "failed", "interrupted")


class Meta:
    """``crawl_frontier.meta``: where a paper's metadata stands."""

    TO_FETCH = 0  # still to be fetched (by batch)
    STORED = 1  # stored in ``papers``
    UNKNOWN = 2  # the API answered null for the id
    LEFT_OUT = 3  # left out by max_papers (recorded once, never fetched)


class Refs:
    """``crawl_frontier.refs``: where a paper's reference list stands."""

    BY_BATCH = 0  # to be read nested in a batch answer
    BY_PAGES = 1  # to be read page by page from /references (``refs_next`` is the next offset)
    COMPLETE = 2  # stored in full by this run
    KNOWN = 3  # stored in full by an earlier run (references do not change)


CITES_NOT_STARTED = None  # ``crawl_frontier.cites_next`` before the first /citations page
CITES_DONE = -1  # ``cites_next`` once every citer is listed (else: the next offset)

# How a paper first came into the database (``papers.found_by``); ``found_via`` says through what.
ROUTES = (
    "seed",  # a seed of a crawl (via: the id it was given as)
    "cites-seed",  # it cites a seed (via: the seed)
    "cited-by-seed",  # a seed cites it (via: the seed)
    "query",  # a field query found it (via: the query)
    "expansion",  # a citer or reference of an expanded paper that is not a seed (via: that paper)
    "import",  # loaded by ``import``
    "snapshot",  # loaded from the bundled snapshot
)


@contextmanager
def crawl_lock(db: sqlite_utils.Database) -> Iterator[None]:
    """Hold the database's crawl lock for the block; raises DatabaseLocked when another crawl holds it.

    Without it two ``refresh`` processes would both resume the same run and fetch every page twice. A
    database with no file (``:memory:``) or a system without ``fcntl`` is not locked.
    """
    path = db_path(db)
    if fcntl is None or not os.path.isfile(path):
        yield
        return
    lock = Path(os.path.realpath(path) + "-crawl.lock")  # one lock per file, whatever link it is reached by
    fd = _take_crawl_lock(lock, path)
    if fd is None:  # a file system without flock (some NFS and FUSE mounts): crawl unguarded, as on Windows
        yield
        return
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with suppress(OSError):
            os.unlink(lock)  # still holding the lock, so no one else is using this file
        os.close(fd)


def _take_crawl_lock(lock: Path, path: str) -> int | None:
    """The locked file descriptor of ``lock``; None where the file system has no flock."""
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DatabaseLocked(f"cannot create the crawl lock {lock}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            held = exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() if held else ""
            os.close(fd)
            if not held:
                with suppress(OSError):
                    os.unlink(lock)
                return None
            raise DatabaseLocked(
                f"another crawl is running on {path}" + (f" (process {holder})" if holder.isdigit() else "")
                + ": wait for it to finish, or stop it; a stopped crawl resumes where it left off"
            ) from None
        try:
            current = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)  # the last holder removed this file as we locked it: lock the one there now


def _chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _rows(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    try:
        cur = db.execute(sql, list(params))
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _exec(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
    try:
        return db.conn.execute(sql, list(params))
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


# -- runs -------------------------------------------------------------------------------------


def count_papers_and_edges(db: sqlite_utils.Database) -> tuple[int, int]:
    papers = _exec(db, "SELECT count(*) FROM papers").fetchone()[0]
    edges = _exec(db, "SELECT count(*) FROM citations").fetchone()[0]
    return int(papers), int(edges)


def find_unfinished_run(
    db: sqlite_utils.Database,
    *,
    seeds: Sequence[str],
    depth: int,
    max_papers: int | None,
    expand: str,
    queries: Sequence[dict[str, Any]] = (),
) -> int | None:
    """The id of the newest run that did not finish, if it had these very parameters (to resume it)."""
    # a load of the bundled snapshot is a run too, but not a crawl: it does not stand in the way of resuming one
    rows = _rows(db, "SELECT * FROM crawl_runs WHERE coalesce(kind, '') != 'snapshot' ORDER BY run_id DESC LIMIT 1")
    if not rows:
        return None
    run = rows[0]
    if run["status"] not in _UNFINISHED:
        return None
    try:
        same_seeds = json.loads(run["seeds"] or "[]") == list(seeds)
    except ValueError:
        same_seeds = False
    try:
        same_queries = json.loads(run["queries"] or "[]") == list(queries)
    except ValueError:
        same_queries = False
    if (
        same_seeds and same_queries and run["depth"] == depth and run["max_papers"] == max_papers
        and (run["expand"] or "all") == expand
    ):
        return int(run["run_id"])
    return None


def start_run(
    db: sqlite_utils.Database,
    *,
    seeds: Sequence[str],
    depth: int,
    max_papers: int | None,
    expand: str,
    api_url: str | None,
    queries: Sequence[dict[str, Any]] = (),
    when: str | None = None,
) -> int:
    """A new run: earlier unfinished runs are marked ``abandoned`` and the frontier is emptied.

    ``queries`` (``{"query": ..., "filters": {...}}`` each) become the run's
    ``crawl_queries`` rows, to be read page by page.
    """
    when = when or now_iso()
    papers, edges = count_papers_and_edges(db)
    _exec(db, f"UPDATE crawl_runs SET status = 'abandoned' WHERE status IN {_UNFINISHED!r}")
    _exec(db, "DELETE FROM crawl_frontier")
    cur = _exec(
        db,
        "INSERT INTO crawl_runs (started_at, seeds, depth, max_papers, api_url, requests, papers_added, "
        "edges_added, status, expand, level, papers_before, edges_before, papers_skipped, queries) "
        "VALUES (?, ?, ?, ?, ?, 0, 0, 0, 'running', ?, NULL, ?, ?, 0, ?)",
        [when, json.dumps(list(seeds)), depth, max_papers, api_url, expand, papers, edges,
         json.dumps(list(queries)) if queries else None],
    )
    run_id = int(cur.lastrowid or 0)
    for i, q in enumerate(queries):
        _exec(
            db, "INSERT INTO crawl_queries (run_id, position, query, filters) VALUES (?, ?, ?, ?)",
            [run_id, i, q["query"], json.dumps(q.get("filters") or {}, sort_keys=True)],
        )
    return run_id


def get_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any]:
    rows = _rows(db, "SELECT * FROM crawl_runs WHERE run_id = ?", [run_id])
    if not rows:
        raise KeyError(run_id)
    run = rows[0]
    try:
        run["seeds"] = json.loads(run["seeds"] or "[]")
    except ValueError:
        pass
    return run


def set_run_level(db: sqlite_utils.Database, run_id: int, level: int) -> None:
    _exec(db, "UPDATE crawl_runs SET level = ? WHERE run_id = ?", [level, run_id])


def set_run_status(db: sqlite_utils.Database, run_id: int, status: str) -> None:
    _exec(db, "UPDATE crawl_runs SET status = ? WHERE run_id = ?", [status, run_id])


def add_run_requests(db: sqlite_utils.Database, run_id: int, n: int) -> None:
    if n:
        _exec(db, "UPDATE crawl_runs SET requests = coalesce(requests, 0) + ? WHERE run_id = ?", [n, run_id])


def add_run_skipped(db: sqlite_utils.Database, run_id: int, n: int) -> None:
    if n:
        _exec(
            db, "UPDATE crawl_runs SET papers_skipped = coalesce(papers_skipped, 0) + ? WHERE run_id = ?", [n, run_id]
        )


def finish_run(
    db: sqlite_utils.Database, run_id: int, *, status: str, error: str | None = None, when: str | None = None
) -> dict[str, Any]:
    """Close a run: its status, and papers and edges added since it started. Returns the row."""
    papers, edges = count_papers_and_edges(db)
    _exec(
        db,
        "UPDATE crawl_runs SET finished_at = ?, status = ?, error = ?, "
        "papers_added = ? - coalesce(papers_before, 0), edges_added = ? - coalesce(edges_before, 0) "
        "WHERE run_id = ?",
        [when or now_iso(), status, error, papers, edges, run_id],
    )
    return get_run(db, run_id)


# -- field queries ----------------------------------------------------------------------------


def _query_rows(db: sqlite_utils.Database, run_id: int, where: str = "1") -> list[dict[str, Any]]:
    rows = _rows(db, f"SELECT * FROM crawl_queries WHERE run_id = ? AND {where} ORDER BY position", [run_id])
    for r in rows:
        r["filters"] = json.loads(r["filters"] or "{}")
    return rows


def pending_queries(db: sqlite_utils.Database, run_id: int) -> list[dict[str, Any]]:
    """The run's queries not read to the end yet, in order, with their token and counters."""
    return _query_rows(db, run_id, "done = 0")


def query_states(db: sqlite_utils.Database, run_id: int) -> list[dict[str, Any]]:
    """Every query of the run with its counters (``pages``, ``total``, ``hits``, ``kept``, ``core``, ``done``)."""
    return _query_rows(db, run_id)


def update_query(
    db: sqlite_utils.Database, run_id: int, position: int, *, token: str | None, total: int, hits: int, kept: int,
    core: int, done: int,
) -> None:
    """Record one more page of a query: its next token and what the page added to the counters."""
    _exec(
        db,
        "UPDATE crawl_queries SET token = ?, pages = pages + 1, total = ?, hits = hits + ?, kept = kept + ?, "
        "core = core + ?, done = ? WHERE run_id = ? AND position = ?",
        [token, total, hits, kept, core, done, run_id, position],
    )


def mark_found(db: sqlite_utils.Database, routes: Iterable[tuple[str, str, str | None]]) -> None:
    """``(paper_id, found_by, found_via)``: how stored papers were found; a route already recorded stays."""
    rows = [(by, via, pid) for pid, by, via in routes if by]
    if rows:
        try:
            db.conn.executemany(
                "UPDATE papers SET found_by = ?, found_via = ? WHERE paper_id = ? AND found_by IS NULL", rows
            )
        except sqlite3.Error as exc:
            raise _translate(exc, db_path(db)) from None


# -- the frontier -----------------------------------------------------------------------------


def frontier_size(db: sqlite_utils.Database) -> int:
    """Papers in the current run's neighbourhood (not counting those left out by max_papers)."""
    return int(_exec(db, f"SELECT count(*) FROM crawl_frontier WHERE meta != {Meta.LEFT_OUT}").fetchone()[0])


def frontier_left_out(db: sqlite_utils.Database) -> int:
    """Distinct ids the current run left out because of max_papers."""
    return int(_exec(db, f"SELECT count(*) FROM crawl_frontier WHERE meta = {Meta.LEFT_OUT}").fetchone()[0])


def frontier_add(
    db: sqlite_utils.Database,
    run_id: int,
    hop: int,
    items: Iterable[tuple[str, int | None]],
    *,
    max_papers: int | None = None,
    meta: int = Meta.TO_FETCH,
    expand: int | None = None,
    refetch_refs: bool = False,
    found_by: str | None = None,
    found_via: str | None = None,
) -> tuple[int, int]:
    """Add ``(paper_id, reference count or None)`` items not yet in the frontier, in order.

    At most ``max_papers`` papers in the frontier: the rest are recorded as
    left out (:attr:`Meta.LEFT_OUT`), once each. A paper whose reference list an
    earlier run completed is marked so (:attr:`Refs.KNOWN`: only its metadata
    will be fetched) unless ``refetch_refs``. ``found_by``/``found_via``: the
    route (:data:`ROUTES`) that reached them. Returns (added, newly left out).
    """
    seen: dict[str, int | None] = {}
    for pid, hint in items:
        if pid and pid not in seen:
            seen[pid] = hint
    if not seen:
        return 0, 0
    ids = list(seen)
    present: set[str] = set()
    known: set[str] = set()
    for part in _chunks(ids):
        marks = ",".join("?" * len(part))
        present.update(r[0] for r in _exec(db, f"SELECT paper_id FROM crawl_frontier WHERE paper_id IN ({marks})", part))
        if not refetch_refs:
            known.update(
                r[0]
                for r in _exec(
                    db, f"SELECT paper_id FROM crawl_papers WHERE refs_at IS NOT NULL AND paper_id IN ({marks})", part
                )
            )
    new = [p for p in ids if p not in present]
    out: list[str] = []
    if max_papers is not None:
        room = max(0, max_papers - frontier_size(db))
        new, out = new[:room], new[room:]
    if not new and not out:
        return 0, 0
    seq = int(_exec(db, "SELECT coalesce(max(seq), 0) FROM crawl_frontier").fetchone()[0])
    rows = [
        (p, run_id, seq + i, hop, meta, Refs.KNOWN if p in known else Refs.BY_BATCH, seen[p], expand, found_by,
         found_via)
        for i, p in enumerate(new, start=1)
    ]
    seq += len(rows)
    rows += [
        (p, run_id, seq + i, hop, Meta.LEFT_OUT, Refs.COMPLETE, seen[p], 0, found_by, found_via)
        for i, p in enumerate(out, start=1)
    ]
    try:
        db.conn.executemany(
            "INSERT INTO crawl_frontier (paper_id, run_id, seq, hop, meta, refs, ref_hint, expand, found_by, "
            "found_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(new), len(out)


def _frontier(db: sqlite_utils.Database, where: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    return _rows(db, f"SELECT * FROM crawl_frontier WHERE {where} ORDER BY seq", params)


def frontier_ids(db: sqlite_utils.Database, hop: int) -> list[str]:
    """Ids of the frontier at ``hop``, in discovery order."""
    return [
        r[0]
        for r in _exec(
            db, f"SELECT paper_id FROM crawl_frontier WHERE hop = ? AND meta != {Meta.LEFT_OUT} ORDER BY seq", [hop]
        )
    ]


def frontier_kept(db: sqlite_utils.Database, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """Those of ``ids`` that are in the frontier and not left out by max_papers, with their route
    (``found_by``, ``found_via``)."""
    kept: dict[str, tuple[str | None, str | None]] = {}
    for part in _chunks(list(ids)):
        marks = ",".join("?" * len(part))
        for pid, by, via in _exec(
            db,
            f"SELECT paper_id, found_by, found_via FROM crawl_frontier WHERE meta != {Meta.LEFT_OUT} "
            f"AND paper_id IN ({marks})",
            part,
        ):
            kept[pid] = (by, via)
    return kept


def frontier_to_expand(db: sqlite_utils.Database, hop: int) -> list[dict[str, Any]]:
    """Papers of ``hop`` to expand and not expanded yet, in discovery order."""
    return _frontier(db, "hop = ? AND expand = 1 AND expanded = 0", [hop])


def frontier_to_expand_by_batch(db: sqlite_utils.Database, hop: int, most: int) -> list[dict[str, Any]]:
    """Papers of ``hop`` to expand that are not seeds (core query hits), not started, with at most ``most``
    references and citers each.

    Each row carries ``ref_hint`` and ``cite_hint`` (the counts last seen), to
    pack batch requests whose nested lists fit the API's budget.
    """
    return _rows(
        db,
        "SELECT f.*, coalesce(f.ref_hint, p.reference_count, 0) AS ref_hint, "
        "coalesce(p.citation_count, 0) AS cite_hint FROM crawl_frontier f LEFT JOIN papers p USING (paper_id) "
        f"WHERE f.hop = ? AND f.expand = 1 AND f.expanded = 0 AND coalesce(f.found_by, '') != 'seed' "
        f"AND f.meta = {Meta.STORED} "
        f"AND f.cites_next IS NULL AND f.refs IN ({Refs.BY_BATCH}, {Refs.KNOWN}) "
        "AND coalesce(f.ref_hint, p.reference_count, 0) <= ? AND coalesce(p.citation_count, 0) <= ? ORDER BY f.seq",
        [hop, most, most],
    )


def frontier_routes(db: sqlite_utils.Database) -> dict[str, int]:
    """Papers of the current run stored, by the route that reached them in this run."""
    counts = dict(
        _exec(
            db,
            f"SELECT coalesce(found_by, 'unrecorded'), count(*) FROM crawl_frontier WHERE meta = {Meta.STORED} "
            "GROUP BY 1",
        ).fetchall()
    )
    return {r: int(counts.pop(r)) for r in (*ROUTES, "unrecorded") if r in counts} | counts


def frontier_undecided(db: sqlite_utils.Database, hop: int) -> list[dict[str, Any]]:
    """Papers of ``hop`` whose expansion is not decided yet (the API knows them)."""
    return _frontier(db, f"hop = ? AND expand IS NULL AND meta = {Meta.STORED}", [hop])


def frontier_pending_meta(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Papers whose metadata is still to be fetched (``ref_hint`` falls back on the stored reference count)."""
    return _rows(
        db,
        "SELECT f.*, coalesce(f.ref_hint, p.reference_count) AS ref_hint FROM crawl_frontier f "
        f"LEFT JOIN papers p USING (paper_id) WHERE f.meta = {Meta.TO_FETCH} ORDER BY f.seq",
    )


def frontier_pending_rebatch(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Papers stored whose reference list a batch left empty (the nested budget ran out)."""
    return _frontier(db, f"meta = {Meta.STORED} AND refs = {Refs.BY_BATCH}")


def frontier_pending_ref_pages(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Papers whose reference list is to be read through /references pages."""
    return _frontier(db, f"refs = {Refs.BY_PAGES}")


def update_frontier(db: sqlite_utils.Database, updates: Iterable[dict[str, Any]]) -> None:
    """Set columns of frontier rows: each update is ``{"paper_id": ..., column: value, ...}``."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for u in updates:
        cols = tuple(sorted(k for k in u if k != "paper_id"))
        for c in cols:
            if c not in _FRONTIER_COLUMNS:
                raise ValueError(f"no frontier column {c!r}")
        if cols:
            groups.setdefault(cols, []).append(tuple(u[c] for c in cols) + (u["paper_id"],))
    try:
        for cols, rows in groups.items():
            sets = ", ".join(f"{c} = ?" for c in cols)
            db.conn.executemany(f"UPDATE crawl_frontier SET {sets} WHERE paper_id = ?", rows)
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def remaining_work(db: sqlite_utils.Database, depth: int) -> dict[str, int]:
    """What is left of the current run, roughly: papers to fetch, citers to page, papers to expand."""
    meta = _exec(
        db,
        f"SELECT count(*) FROM crawl_frontier WHERE meta = {Meta.TO_FETCH} "
        f"OR refs IN ({Refs.BY_BATCH}, {Refs.BY_PAGES})",
    ).fetchone()[0]
    row = _exec(
        db,
        "SELECT count(*), coalesce(sum(max(0, coalesce(p.citation_count, 0) - max(0, coalesce(f.cites_next, 0)))), 0) "
        "FROM crawl_frontier f LEFT JOIN papers p USING (paper_id) "
        "WHERE f.hop < ? AND coalesce(f.expand, 1) = 1 AND f.expanded = 0",
        [depth],
    ).fetchone()
    refs = _exec(
        db,
        "SELECT coalesce(sum(coalesce(f.ref_hint, p.reference_count, 0)), 0) "
        "FROM crawl_frontier f LEFT JOIN papers p USING (paper_id) "
        "WHERE f.hop < ? AND coalesce(f.expand, 1) = 1 AND f.expanded = 0 "
        f"AND f.refs NOT IN ({Refs.COMPLETE}, {Refs.KNOWN})",
        [depth],
    ).fetchone()[0]
    return {
        "to_fetch": int(meta),
        "to_expand": int(row[0]),
        "citers_to_page": int(row[1]),
        "refs_to_page": int(refs),
    }


# -- per-paper crawl facts, reads for the crawl ---------------------------------------------------------


def mark_refs_complete(db: sqlite_utils.Database, ids: Iterable[str], when: str | None = None) -> None:
    when = when or now_iso()
    rows = [(p, when) for p in ids]
    if rows:
        db.conn.executemany(
            "INSERT INTO crawl_papers (paper_id, refs_at) VALUES (?, ?) "
            "ON CONFLICT(paper_id) DO UPDATE SET refs_at = excluded.refs_at",
            rows,
        )


def mark_citers_complete(db: sqlite_utils.Database, paper_id: str, when: str | None = None) -> None:
    _exec(
        db,
        "INSERT INTO crawl_papers (paper_id, citers_at) VALUES (?, ?) "
        "ON CONFLICT(paper_id) DO UPDATE SET citers_at = excluded.citers_at",
        [paper_id, when or now_iso()],
    )


def reference_ids(db: sqlite_utils.Database, paper_id: str) -> list[str]:
    """The ids a stored paper cites, as the citations table knows them (sorted)."""
    return [r[0] for r in _exec(db, "SELECT cited_id FROM citations WHERE citing_id = ? ORDER BY cited_id", [paper_id])]


def paper_counts(db: sqlite_utils.Database, paper_id: str) -> tuple[int | None, int | None]:
    """(reference_count, citation_count) of a stored paper; (None, None) if it is not stored."""
    row = _exec(db, "SELECT reference_count, citation_count FROM papers WHERE paper_id = ?", [paper_id]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def paper_texts(db: sqlite_utils.Database, ids: Sequence[str]) -> list[dict[str, Any]]:
    """``{"paper_id", "title", "abstract"}`` of stored papers, in the order of ``ids``."""
    found: dict[str, dict[str, Any]] = {}
    for part in _chunks(list(ids)):
        marks = ",".join("?" * len(part))
        for r in _rows(db, f"SELECT paper_id, title, abstract FROM papers WHERE paper_id IN ({marks})", part):
            found[r["paper_id"]] = r
    return [found[p] for p in ids if p in found]


def manual_labels(db: sqlite_utils.Database, ids: Sequence[str], facet: str) -> dict[str, list[str]]:
    """Manual labels of one facet for these papers (a manual label wins over the classifier)."""
    out: dict[str, list[str]] = {}
    for part in _chunks(list(ids)):
        marks = ",".join("?" * len(part))
        for pid, value in _exec(
            db,
            f"SELECT paper_id, value FROM labels WHERE source = 'manual' AND facet = ? AND paper_id IN ({marks}) "
            "ORDER BY paper_id, value",
            [facet, *part],
        ):
            out.setdefault(pid, []).append(value)
    return out
