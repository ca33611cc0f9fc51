"""``import``: load Semantic Scholar-shaped JSONL (plain or gzipped) into the store, all or nothing."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson
import sqlite_utils

from . import store
from .errors import BadInput, MalformedRecord
from .parse import EdgeRow, ParsedRecord, ShapeError, parse_record
from .records import Paper

__all__ = ["MERGE_RULE", "ImportReport", "import_files", "iter_records"]

ProgressFn = Callable[[int], None]
_CHUNK = 20_000  # lines parsed before a write


@dataclass
class ImportReport:
    files: int = 0
    lines: int = 0
    papers_added: int = 0
    papers_updated: int = 0
    citations_added: int = 0
    citations_updated: int = 0
    authors_added: int = 0
    elided: int = 0
    unresolved_citations: int = 0
    skipped: list[str] = field(default_factory=list)
    #: what a user should know but that did not stop the import: a file with no record, a paper id
    #: repeated within a file (merged by :data:`MERGE_RULE`), one line each naming the file and lines
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        d = dict(self.__dict__)
        d["skipped"] = list(self.skipped)
        d["warnings"] = list(self.warnings)
        return d


#: How records of the same paper are combined, within one file as across imports and refreshes.
MERGE_RULE = "merged: each field takes the later line's value unless that is empty"


def _open(path: Path) -> BinaryIO:
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a folder, not a JSONL file")
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b" or path.suffix == ".gz":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def iter_records(
    path: Path, *, skip_invalid: bool = False, skipped: list[str] | None = None,
    progress: ProgressFn | None = None,
) -> Iterator[tuple[int, ParsedRecord]]:
    """(line number, parsed record) for each non-blank line of ``path``.

    Raises :class:`MalformedRecord` naming the file and line, unless
    ``skip_invalid`` is set, in which case the line is noted in ``skipped``.
    """
    fh = _open(path)
    raw = getattr(fh, "fileobj", fh)
    lineno = 0
    last_pos = 0
    try:
        with fh:
            try:
                for lineno, line in enumerate(fh, start=1):  # noqa: B007
                    if progress is not None and lineno % 2000 == 0:
                        pos = raw.tell()
                        progress(pos - last_pos)
                        last_pos = pos
                    if not line.strip():
                        continue
                    try:
                        rec = parse_record(orjson.loads(line))
                    except orjson.JSONDecodeError as exc:
                        why = f"malformed JSON ({exc.args[0].split(':')[0]})"
                    except ShapeError as exc:
                        why = f"not a Semantic Scholar record: {exc}"
                    else:
                        yield lineno, rec
                        continue
                    if not skip_invalid:
                        raise MalformedRecord(why, path=str(path), line=lineno)
                    if skipped is not None:
                        skipped.append(f"{path}:{lineno}: {why}")
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise MalformedRecord(
                    f"unreadable after line {lineno} ({exc})", path=str(path)
                ) from None
    finally:
        if progress is not None:
            try:
                progress(max(0, raw.tell() - last_pos) if not raw.closed else 0)
            except (OSError, ValueError):
                pass


def import_files(
    db: sqlite_utils.Database,
    paths: list[Path],
    *,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import every file in one transaction: a malformed line (unless skipped) leaves the database as it was.

    A paper id that several lines of one file describe is merged by :data:`MERGE_RULE` and named in
    ``report.warnings`` with its lines; so is a file without a single record.
    ``progress`` is called with the number of bytes read since the last call.
    """
    for p in paths:  # fail on a missing file before writing anything
        if not Path(p).is_file():
            raise BadInput(f"{p}: no such file")
    report = ImportReport()
    before = store.table_counts(db)
    seen_papers: set[str] = set()
    seen_edges = 0
    corpus_edges: list[tuple[int, int, bool | None, list[str] | None]] = []
    abstracts: dict[int, str] = {}
    when = store.now_iso()
    # a load far larger than what is stored rebuilds indexes once instead of row by row
    incoming = sum(Path(p).stat().st_size for p in paths) // 1000  # about 1 kB a record
    bulk = incoming > 10_000 and incoming > 2 * before["papers"]
    with store.bulk_write(db) if bulk else store.transaction(db):
        for path in paths:
            report.files += 1
            papers: list[Paper] = []
            edges: list[EdgeRow] = []
            lines_of: dict[str, list[int]] = {}
            records = 0
            for lineno, rec in iter_records(
                Path(path), skip_invalid=skip_invalid, skipped=report.skipped, progress=progress
            ):
                report.lines = max(report.lines, lineno)
                records += 1
                for p in rec.papers:
                    lines_of.setdefault(p.paper_id, []).append(lineno)
                papers.extend(rec.papers)
                edges.extend(rec.citations)
                corpus_edges.extend(rec.corpus_citations)
                abstracts.update(rec.abstracts_by_corpus_id)
                report.elided += rec.elided
                if len(papers) + len(edges) // 10 >= _CHUNK:
                    seen_edges += _flush(db, papers, edges, seen_papers, when)
            seen_edges += _flush(db, papers, edges, seen_papers, when)
            report.warnings += _file_warnings(path, records, lines_of)
        written, unresolved = store.resolve_corpus_citations(db, corpus_edges)
        seen_edges += written
        report.unresolved_citations = unresolved
        if abstracts:
            store.set_abstracts_by_corpus_id(db, abstracts)
    after = store.table_counts(db)
    report.papers_added = after["papers"] - before["papers"]
    report.papers_updated = len(seen_papers) - report.papers_added
    report.citations_added = after["citations"] - before["citations"]
    report.citations_updated = max(0, seen_edges - report.citations_added)
    report.authors_added = after["authors"] - before["authors"]
    return report


def _file_warnings(path: Path, records: int, lines_of: dict[str, list[int]]) -> list[str]:
    if not records:
        return [f"{path}: holds no records; nothing imported from it"]
    out = []
    for pid, lines in lines_of.items():
        if len(lines) > 1:
            shown = ", ".join(map(str, lines[:10])) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
            out.append(f"{path}: paper {pid} is on lines {shown}; {MERGE_RULE}")
    return out


def _flush(
    db: sqlite_utils.Database, papers: list[Paper], edges: list[EdgeRow], seen: set[str], when: str
) -> int:
    store.upsert_papers(db, papers, when=when, found_by="import")
    seen.update(p.paper_id for p in papers)
    n = store.upsert_citations(db, edges)
    papers.clear()
    edges.clear()
    return n
