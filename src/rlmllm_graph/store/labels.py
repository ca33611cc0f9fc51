"""Labels: classifier output and manual labels (``labels`` and ``classified`` tables).

A label row is ``(paper_id, facet, value, confidence, source, evidence, evidence_source)`` with
``source`` one of ``rules``, ``model`` (the classifier) or ``manual``, and ``evidence_source`` where the
evidence came from: ``title``, ``abstract``, a section title such as ``3 Method``, or ``manual``. Manual
labels always win: the classifier never writes a facet of a paper that has a
manual label in that facet, and a manual label replaces every label of its facet.
A facet set to "none" by hand (no value at all) is kept in ``manual_none``.
The ``classified`` table keeps which text (a hash of title, abstract and full text) and
which classifier version each paper was last labelled from, so unchanged papers
are skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils

from .core import _translate, db_path, now_iso

__all__ = [
    "insert_labels",
    "load_classified",
    "load_manual_facets",
    "load_manual_none",
    "save_classifier_labels",
    "save_manual_labels",
]

_LABEL_COLUMNS = ("paper_id", "facet", "value", "confidence", "source", "evidence", "evidence_source")
_MARKS = ", ".join("?" * len(_LABEL_COLUMNS))
CLASSIFIER_SOURCES = ("rules", "model")


def insert_labels(db: sqlite_utils.Database, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace label rows (dicts with the ``labels`` columns). Returns the count."""
    data = [tuple(r.get(c) for c in _LABEL_COLUMNS) for r in rows]
    if not data:
        return 0
    try:
        db.conn.executemany(
            f"INSERT OR REPLACE INTO labels ({', '.join(_LABEL_COLUMNS)}) VALUES ({_MARKS})", data
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(data)


def load_classified(db: sqlite_utils.Database) -> dict[str, tuple[str, str]]:
    """``paper_id`` -> (text hash, classifier version) of its last classification."""
    try:
        return {
            pid: (h or "", v or "")
            for pid, h, v in db.execute("SELECT paper_id, text_hash, classifier_version FROM classified")
        }
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None


def load_manual_facets(db: sqlite_utils.Database) -> dict[str, set[str]]:
    """``paper_id`` -> the facets that have a manual label."""
    out: dict[str, set[str]] = {}
    try:
        for pid, facet in db.execute(
            "SELECT paper_id, facet FROM labels WHERE source = 'manual' "
            "UNION SELECT paper_id, facet FROM manual_none"
        ):
            out.setdefault(pid, set()).add(facet)
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return out


def load_manual_none(db: sqlite_utils.Database) -> dict[str, set[str]]:
    """``paper_id`` -> the facets a person set to "none" (no value, stated by hand)."""
    out: dict[str, set[str]] = {}
    try:
        for pid, facet in db.execute("SELECT paper_id, facet FROM manual_none"):
            out.setdefault(pid, set()).add(facet)
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return out


def save_classifier_labels(
    db: sqlite_utils.Database,
    rows: Sequence[Mapping[str, Any]],
    classified: Sequence[tuple[str, str]],
    *,
    version: str,
    when: str | None = None,
) -> tuple[int, int]:
    """Replace the classifier's labels of the papers in ``classified`` (``(paper_id, text_hash)`` pairs).

    The papers' old ``rules``/``model`` rows go; the new ``rows`` are written except in facets where the
    paper has a manual label (those are never touched). Returns (rows written, rows held back by manual
    labels). Call inside :func:`~rlmllm_graph.store.transaction`.
    """
    when = when or now_iso()
    ids = [(pid,) for pid, _ in classified]
    manual: dict[str, set[str]] = {}
    try:
        conn = db.conn
        if ids:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _classify_ids (paper_id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM _classify_ids")
            conn.executemany("INSERT OR IGNORE INTO _classify_ids VALUES (?)", ids)
            for pid, facet in conn.execute(
                "SELECT l.paper_id, l.facet FROM labels l JOIN _classify_ids i USING (paper_id) "
                "WHERE l.source = 'manual' "
                "UNION SELECT n.paper_id, n.facet FROM manual_none n JOIN _classify_ids i USING (paper_id)"
            ):
                manual.setdefault(pid, set()).add(facet)
            conn.execute(
                "DELETE FROM labels WHERE source IN ('rules', 'model') "
                "AND paper_id IN (SELECT paper_id FROM _classify_ids)"
            )
            conn.execute("DELETE FROM _classify_ids")
        keep = [r for r in rows if r["facet"] not in manual.get(r["paper_id"], ())]
        conn.executemany(
            f"INSERT OR IGNORE INTO labels ({', '.join(_LABEL_COLUMNS)}) VALUES ({_MARKS})",
            [tuple(r.get(c) for c in _LABEL_COLUMNS) for r in keep],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO classified (paper_id, text_hash, classifier_version, classified_at) "
            "VALUES (?, ?, ?, ?)",
            [(pid, h, version, when) for pid, h in classified],
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(keep), len(rows) - len(keep)


def save_manual_labels(db: sqlite_utils.Database, paper_id: str, labels: Mapping[str, Sequence[str]],
                       *, note: str = "manual") -> int:
    """Set a paper's manual labels: every existing label of each given facet is replaced. Returns rows written.

    A facet given an empty list is set to "none" by hand: its labels go and the classifier leaves it empty.
    Call inside :func:`~rlmllm_graph.store.transaction`.
    """
    rows = [(paper_id, facet, v, 1.0, "manual", note, "manual") for facet, values in labels.items() for v in values]
    keys = [(paper_id, facet) for facet in labels]
    try:
        db.conn.executemany("DELETE FROM labels WHERE paper_id = ? AND facet = ?", keys)
        db.conn.executemany("DELETE FROM manual_none WHERE paper_id = ? AND facet = ?", keys)
        db.conn.executemany(
            "INSERT INTO manual_none (paper_id, facet, set_at) VALUES (?, ?, ?)",
            [(paper_id, facet, now_iso()) for facet, values in labels.items() if not values],
        )
        db.conn.executemany(
            f"INSERT OR REPLACE INTO labels ({', '.join(_LABEL_COLUMNS)}) VALUES ({_MARKS})", rows
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(rows)
