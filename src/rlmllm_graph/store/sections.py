"""Full text by section (``sections``, ``fulltext_papers`` tables).

A section row is ``(paper_id, position, title, text, source, version, licence,
fetched_at)``; ``text`` is stored zlib-compressed and handed out as ``str``.
Saving a paper's sections replaces every section it had, in one transaction.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .core import _translate, db_path, now_iso, transaction

if TYPE_CHECKING:
    import sqlite_utils  # annotations only: sqlite-utils imports pandas when it is imported

__all__ = ["load_sections", "pack_text", "save_sections", "unpack_text"]


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
    when = fetched_at or now_iso()
    rows = []
    stored = 0
    for position, sec in enumerate(sections):
        blob = pack_text(str(sec.get("text") or ""))
        stored += len(blob)
        rows.append((paper_id, position, sec.get("title"), blob, source, version, licence, when))
    try:
        with transaction(db):
            db.conn.execute("DELETE FROM sections WHERE paper_id = ?", (paper_id,))
            db.conn.executemany(
                "INSERT INTO sections (paper_id, position, title, text, source, version, licence, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    except sqlite3.Error as exc:
        raise _translate(exc, db_path(db)) from None
    return stored


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
