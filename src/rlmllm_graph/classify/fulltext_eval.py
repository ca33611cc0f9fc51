"""Scoring full-text reading: the section-aware classifier beside the same classifier reading the sections pasted
into the abstract, and beside the abstract alone, on papers with full text and gold labels.

A gold file has one paper a line: ``{"paper_id", "title", "abstract", "sections": [{"title", "text"}], "gold":
{facet: [values]}}`` (the ``classify --input`` shape plus ``gold``). Scores are :func:`.evaluate.score`'s.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .classifier import Classifier, build_classifier
from .evaluate import FacetScore, score
from .model import read_labelled
from .predict import read_records

__all__ = ["READINGS", "compare_readings", "pasted", "read_fulltext_gold"]

#: reading -> what it is (in the order a report shows them)
READINGS: dict[str, str] = {
    "sections": "section-aware (full text; abstract-only model guesses dropped where no text states a facet)",
    "sections+model": "section-aware, keeping the model's abstract-only guesses where no text states a facet",
    "pasted": "the same classifier with the sections pasted into the abstract",
    "abstract": "title and abstract only",
}


def read_fulltext_gold(lines: Iterable[str], *, source: str) -> tuple[list[dict[str, Any]], list[dict[str, list[str]]]]:
    """(records with sections, gold labels) of a full-text gold file, in order. Raises ``MalformedRecord``."""
    lines = list(lines)
    records = read_records(lines, source=source)
    gold = [p.labels for p in read_labelled(lines, source=source)]
    return records, gold


def pasted(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its sections' text appended to the abstract (and no sections): the naive full-text reading."""
    parts = [record.get("abstract") or ""] + [s.get("text") or "" for s in record.get("sections") or ()]
    return {"paper_id": record["paper_id"], "title": record.get("title"),
            "abstract": "\n\n".join(p for p in parts if p) or None}


def compare_readings(records: Sequence[Mapping[str, Any]], gold: Sequence[Mapping[str, Sequence[str]]], *,
                     classifier: Classifier | None = None) -> dict[str, dict[str, FacetScore]]:
    """Per-facet scores of each reading in :data:`READINGS` against ``gold``.

    The classifier is trained without the gold papers (their ids are excluded from the labelled papers).
    """
    clf = classifier or build_classifier(exclude={r["paper_id"] for r in records})
    with_model = copy.copy(clf)
    with_model.keep_model = True
    without = copy.copy(clf)
    without.keep_model = False
    runs = {
        "sections": lambda: without.predict(records),
        "sections+model": lambda: with_model.predict(records),
        "pasted": lambda: clf.predict([pasted(r) for r in records]),
        "abstract": lambda: clf.predict([{k: r.get(k) for k in ("paper_id", "title", "abstract")} for r in records]),
    }
    return {name: score(gold, [p.labels for p in run()]) for name, run in runs.items()}
