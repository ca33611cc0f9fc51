"""The bundled snapshot: the field's papers, shipped with the package, for working without the network.

``rlmllm_graph/data/snapshot.jsonl.gz`` holds real papers of the field (RL and
reasoning in multimodal LLMs, gathered from the curated awesome lists, with
arXiv metadata), one Semantic Scholar API-shaped record a line — the format
``rlmllm-graph import`` reads — with their authors, the citation edges among
them (``references``), and, where the project holds hand labels for a paper,
a ``labels`` object (facet → values; every facet of the vocabulary). Its date
and counts are in ``snapshot.json`` beside it (:func:`snapshot_info`).

:func:`load_snapshot` merges it into a database as one run (a ``crawl_runs``
row of kind ``snapshot``), all or nothing:

- papers and edges go through the importer (a known value is never replaced
  by an unknown one); papers it adds get ``found_by = 'snapshot'``;
- hand labels are stored as manual labels, except in facets where the paper
  already has a manual label (yours win);
- papers are keyed by a stand-in id, ``sha1("ARXIV:<arxiv id>")``, as the real
  Semantic Scholar ids were not known offline. Whenever a paper is stored under
  both ids — a refresh after the snapshot, or the snapshot after a refresh —
  the stand-in row is merged into the real one by arXiv id or DOI at the end
  of the run (:mod:`rlmllm_graph.store.merge`), so nothing is stored twice and
  nothing (edges, labels, authors) is lost.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from . import changes, store
from .errors import RlmGraphError
from .ingest import import_files
from .store import changes as cs
from .store import crawl as cstore

__all__ = [
    "SNAPSHOT_FILE",
    "SNAPSHOT_META",
    "SnapshotReport",
    "iter_snapshot_labels",
    "load_snapshot",
    "snapshot_info",
    "snapshot_path",
]

SNAPSHOT_FILE = "snapshot.jsonl.gz"
SNAPSHOT_META = "snapshot.json"
_LABEL_NOTE = "hand label (bundled snapshot)"


def snapshot_path() -> Path:
    """Where the bundled snapshot is installed."""
    return Path(str(resources.files("rlmllm_graph") / "data" / SNAPSHOT_FILE))


def snapshot_info(path: Path | None = None) -> dict[str, Any]:
    """The snapshot's metadata (``date``, ``papers``, ``citations``, ``authors``, ``with_abstract``,
    ``labelled``, ``core``, …) read from the ``snapshot.json`` beside it.

    Raises :class:`RlmGraphError` when the snapshot or its metadata is missing or unreadable.
    """
    path = Path(path) if path is not None else snapshot_path()
    meta = path.with_name(SNAPSHOT_META) if path.name == SNAPSHOT_FILE else path.with_suffix("").with_suffix(".json")
    if not path.is_file():
        raise RlmGraphError(f"the bundled snapshot is missing ({path}); reinstall rlmllm-graph")
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RlmGraphError(f"cannot read the snapshot's metadata {meta}: {exc}") from None
    if not isinstance(info, dict):
        raise RlmGraphError(f"the snapshot's metadata {meta} is not a JSON object")
    info["path"] = str(path)
    return info


def iter_snapshot_labels(path: Path) -> Iterator[tuple[str, dict[str, list[str]] | None]]:
    """(paper_id, hand labels or None) of every record of the snapshot file ``path``."""
    with gzip.open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = orjson.loads(line)
            labels = rec.get("labels")
            if isinstance(labels, dict) and labels:
                yield rec["paperId"], {str(f): [str(v) for v in vs] for f, vs in labels.items() if isinstance(vs, list)}
            else:
                yield rec["paperId"], None


@dataclass
class SnapshotReport:
    """What :func:`load_snapshot` did."""

    run_id: int
    date: str
    papers_in_snapshot: int
    papers_added: int  # papers the database did not hold
    papers_merged: int  # snapshot rows folded into the same paper's Semantic Scholar row
    papers_updated: int  # papers already stored (their unknown values filled in)
    citations_added: int
    labelled_papers: int  # papers given hand labels now
    labels_kept: int  # facets left alone because they already had a manual label
    papers_total: int
    edges_total: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        merged = f", {self.papers_merged} merged into stored Semantic Scholar rows" if self.papers_merged else ""
        return (
            f"Loaded the bundled snapshot of {self.date} (run {self.run_id}): {self.papers_in_snapshot:,} papers "
            f"(+{self.papers_added:,} new{merged}), +{self.citations_added:,} citation edges, hand labels for "
            f"{self.labelled_papers:,} papers; {self.papers_total:,} papers and {self.edges_total:,} edges stored, "
            f"in {self.seconds:.1f}s"
        )


def load_snapshot(db: sqlite_utils.Database, path: Path | None = None) -> SnapshotReport:
    """Merge the bundled snapshot (or the snapshot file ``path``) into ``db`` as one run; all or nothing.

    Raises :class:`RlmGraphError` when the snapshot is missing, :class:`~rlmllm_graph.errors.DatabaseLocked`
    when a crawl is running on the database.
    """
    t0 = time.monotonic()
    info = snapshot_info(path)
    file = Path(info["path"])
    date = str(info.get("date") or "unknown date")
    with cstore.crawl_lock(db), store.transaction(db):
        run_id = cs.start_snapshot_run(db, source=f"snapshot {date}")
        changes.begin_run(db, run_id)
        import_files(db, [file])
        records = list(iter_snapshot_labels(file))
        cs.claim_route(db, [pid for pid, _ in records], found_by="snapshot", found_via=f"snapshot {date}")
        manual = store.load_manual_facets(db)
        labelled = kept = 0
        for pid, labels in records:
            given = {f: v for f, v in (labels or {}).items() if f not in manual.get(pid, ())}
            kept += len(labels or {}) - len(given)
            if given:
                store.save_manual_labels(db, pid, given, note=_LABEL_NOTE)
                labelled += 1
        done = changes.finish_run(db, run_id)
        run = cstore.finish_run(db, run_id, status="done")
    papers_total, edges_total = cstore.count_papers_and_edges(db)
    added = int(run["papers_added"] or 0)
    return SnapshotReport(
        run_id=run_id,
        date=date,
        papers_in_snapshot=len(records),
        papers_added=added,
        papers_merged=done["papers_merged"],
        papers_updated=max(0, len(records) - added - done["papers_merged"]),
        citations_added=int(run["edges_added"] or 0),
        labelled_papers=labelled,
        labels_kept=kept,
        papers_total=papers_total,
        edges_total=edges_total,
        seconds=round(time.monotonic() - t0, 3),
    )
