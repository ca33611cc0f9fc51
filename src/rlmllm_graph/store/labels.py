"""Labels: classifier output and manual labels (``labels`` and ``classified`` tables)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from .core import _translate, db_path

__all__ = ["insert_labels"]

_LABEL_COLUMNS = ("paper_id", "facet", "value", "confidence", "source", "evidence")


def insert_labels(db: sqlite_utils.Database, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace label rows (dicts with the ``labels`` columns). Returns the count."""
    data = [tuple(r.get(c) for c in _LABEL_COLUMNS) for r in rows]
    if not data:
        return 0
    try:
        db.conn.executemany(
            f"INSERT OR REPLACE INTO labels ({', '.join(_LABEL_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)", data
        )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return len(data)
