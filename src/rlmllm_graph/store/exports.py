"""Reads the exports need beyond :mod:`.read`: authors with their ids, in order."""

from __future__ import annotations

import sqlite_utils

__all__ = ["load_paper_authors"]


def load_paper_authors(db: sqlite_utils.Database) -> dict[str, list[tuple[str, str | None]]]:
    """``paper_id`` → ``[(author_id, name), ...]`` in author order (name None when unknown)."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for pid, aid, name in db.execute(
        "SELECT pa.paper_id, pa.author_id, a.name FROM paper_authors pa "
        "LEFT JOIN authors a ON a.author_id = pa.author_id ORDER BY pa.paper_id, pa.position"
    ):
        out.setdefault(pid, []).append((aid, name))
    return out
