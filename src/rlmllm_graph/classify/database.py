"""Classifying the papers of the database, and manual labels."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from .. import store
from ..errors import BadInput
from .classifier import Classifier, get_classifier
from .vocabulary import FACETS, SINGLE_VALUED, check_labels

__all__ = ["ClassifyReport", "classify_database", "label_paper", "review_queue", "text_hash"]

BATCH = 5000  # papers written per transaction
PREDICT_CHUNK = 50_000  # papers classified at once (on every core when it is large)
SECTIONS_PAGE = 2_000  # papers whose stored sections are read at once


def text_hash(title: str | None, abstract: str | None, sections: Sequence[Mapping[str, Any]] | None = None) -> str:
    """What a paper was classified from: a hash of its title, abstract and stored sections (title and text of
    each). A paper without sections hashes as before full text existed, so it is not classified again for nothing."""
    h = hashlib.sha1(f"{title or ''}\x1f{abstract or ''}".encode())
    for sec in sections or ():
        h.update(f"\x1e{sec.get('title') or ''}\x1f{sec.get('text') or ''}".encode())
    return h.hexdigest()


@dataclass
class ClassifyReport:
    """What :func:`classify_database` did."""

    papers: int = 0
    classified: int = 0
    unchanged: int = 0
    labels_written: int = 0
    kept_manual: int = 0
    title_only: int = 0
    with_full_text: int = 0
    no_text: int = 0  # papers with neither title, abstract nor full text: given no labels (nothing to read)
    classifier_version: str = ""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify_database(
    db: sqlite_utils.Database,
    *,
    progress: Callable[[int], Any] | None = None,
    force: bool = False,
    classifier: Classifier | None = None,
) -> ClassifyReport:
    """Label every paper of the database whose title, abstract or stored full text changed since it was last
    classified (or every paper with ``force``, or when the classifier itself changed).

    A paper with stored sections (``store.load_sections``) is classified from them too: its method facets come
    from what its text says it used, and each label records the section its evidence came from.

    Manual labels always win: facets with a manual label are never written. A paper with neither title nor
    abstract gets no labels (there is nothing to read them from). Each batch is one transaction.
    ``progress`` is called with the number of papers done since the last call.
    """
    clf = classifier or get_classifier()
    report = ClassifyReport(classifier_version=clf.version)
    done = store.load_classified(db)
    todo: list[dict[str, Any]] = []
    page: list[dict[str, Any]] = []

    def check(papers: list[dict[str, Any]]) -> None:
        texts = store.load_sections(db, [p["paper_id"] for p in papers])
        for p in papers:
            report.papers += 1
            sections = texts.get(p["paper_id"])
            h = text_hash(p["title"], p["abstract"], sections)
            if not force and done.get(p["paper_id"]) == (h, clf.version):
                report.unchanged += 1
                if progress:
                    progress(1)
                continue
            p["_hash"] = h
            if sections:
                p["sections"] = [{"title": s["title"], "text": s["text"]} for s in sections]
            todo.append(p)

    for p in store.iter_papers(db, columns=("paper_id", "title", "abstract")):
        page.append(p)
        if len(page) >= SECTIONS_PAGE:
            check(page)
            page = []
    if page:
        check(page)
    counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
    predicted: list[Any] = []
    for i in range(0, len(todo), PREDICT_CHUNK):
        predicted += clf.predict(todo[i:i + PREDICT_CHUNK], workers=None, progress=progress)
    for i in range(0, len(todo), BATCH):
        batch = todo[i:i + BATCH]
        preds = predicted[i:i + BATCH]
        empty = {p["paper_id"] for p in batch if not _has_text(p)}
        preds = [pr for pr, p in zip(preds, batch) if p["paper_id"] not in empty]
        rows = [r for pr in preds for r in pr.rows()]  # a paper with no text: its old labels go, none come
        with store.transaction(db):
            written, held = store.save_classifier_labels(
                db, rows, [(p["paper_id"], p["_hash"]) for p in batch], version=clf.version
            )
        report.classified += len(batch)
        report.labels_written += written
        report.kept_manual += held
        report.no_text += len(empty)
        report.title_only += sum(1 for p in batch if not p["abstract"] and p["paper_id"] not in empty)
        report.with_full_text += sum(1 for p in batch if p.get("sections"))
        for pr in preds:
            for f, values in pr.labels.items():
                for v in values:
                    counts[f][v] = counts[f].get(v, 0) + 1
    report.counts = {f: c for f, c in counts.items() if c}
    return report


def _has_text(paper: Mapping[str, Any]) -> bool:
    return bool((paper.get("title") or "").strip() or (paper.get("abstract") or "").strip() or paper.get("sections"))


def label_paper(db: sqlite_utils.Database, paper_ref: str, labels: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Set manual labels on a paper (any accepted id spelling); they replace the facet's labels and win over the
    classifier from then on. An empty list sets the facet to none (e.g. modality: text only). Returns
    ``{"paper_id", "title", "labels": {facet: [values]}}`` of what was set.

    Raises :class:`~rlmllm_graph.errors.PaperNotFound` or :class:`~rlmllm_graph.errors.BadInput`.
    """
    if not labels:
        raise BadInput("give at least one FACET=VALUE")
    checked = check_labels(labels)
    given = {f: checked[f] for f in labels}
    for f, values in given.items():
        if f == "relevance" and len(values) != 1:
            raise BadInput("relevance takes exactly one value")
        if f in SINGLE_VALUED and len(values) > 1:
            raise BadInput(f"facet {f} takes one value")
    pid = store.resolve_paper_id(db, paper_ref)
    with store.transaction(db):
        store.save_manual_labels(db, pid, given)
    paper = store.get_paper(db, pid)
    return {"paper_id": pid, "title": paper.get("title"), "labels": given}


def review_queue(db: sqlite_utils.Database, *, limit: int = 20) -> list[dict[str, Any]]:
    """The classified papers whose relevance the classifier is least sure of, least sure first: the ones worth a
    person's look (and a ``label`` where it is wrong).

    Papers with a manual relevance label are done and left out; so are papers not classified yet. Title-only
    papers carry lower confidences and so come up sooner. Each item: ``paper_id``, ``arxiv_id``, ``title``,
    ``title_only``, ``confidence`` (of the relevance value given; None when unknown, and those come first) and
    ``labels``: facet → ``[{"value", "confidence", "source"}]`` for every facet that has labels.
    """
    if limit < 1:
        raise BadInput(f"--review takes a count of at least 1, not {limit}")
    rel = store.load_labels(db, facet="relevance")
    rel = rel[~rel["paper_id"].isin(set(rel.loc[rel["source"] == "manual", "paper_id"]))]
    chosen = rel.assign(order=rel["confidence"].fillna(-1.0)).sort_values(["order", "paper_id"]).head(limit)
    out = []
    for pid in chosen["paper_id"]:
        paper = store.get_paper(db, pid)
        facets: dict[str, list[dict[str, Any]]] = {}
        for lab in paper["labels"]:
            conf = lab["confidence"]
            facets.setdefault(lab["facet"], []).append(
                {"value": lab["value"], "confidence": None if conf is None else round(float(conf), 3),
                 "source": lab["source"]})
        out.append({
            "paper_id": pid,
            "arxiv_id": paper["arxiv_id"],
            "title": paper["title"],
            "title_only": not (paper["abstract"] or "").strip(),
            "confidence": facets["relevance"][0]["confidence"],
            "labels": {f: facets[f] for f in FACETS if f in facets},
        })
    return out
