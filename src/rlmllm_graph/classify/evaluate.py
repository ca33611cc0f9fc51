"""Evaluation: per-facet precision, recall and F1 against gold labels, beside the keyword baseline.

The figure that the issue's targets name for each facet is :data:`TARGETS`:
modality macro-F1 >= 0.95, algorithm micro-F1 >= 0.92, paradigm, strategy,
reward and relevance micro-F1 >= 0.95, 0.85, 0.85, 0.90. (For ``relevance``,
one value per paper, micro-F1 is the accuracy.)

:func:`evaluate_gold` never scores a paper the model was trained on: it trains a
fresh classifier on every labelled paper *except* those in the gold set.
:func:`cross_validate` does k-fold cross-validation on the labelled papers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BadInput, ModelNotTrained
from .classifier import Classifier, build_classifier
from .lexicon import Lexicon, load_lexicon
from .model import LabelledPaper, load_labelled
from .predict import keyword_labels
from .vocabulary import FACETS

__all__ = ["TARGETS", "Evaluation", "FacetScore", "cross_validate", "evaluate_gold", "evaluate_labels", "score"]

#: facet -> (averaging, target F1) from the issue
TARGETS: dict[str, tuple[str, float]] = {
    "relevance": ("micro", 0.90),
    "modality": ("macro", 0.95),
    "algorithm": ("micro", 0.92),
    "paradigm": ("micro", 0.95),
    "reward": ("micro", 0.85),
    "strategy": ("micro", 0.85),
    "application": ("micro", 0.0),
}


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    if tp + fp + fn == 0:
        return 1.0, 1.0, 1.0
    return p, r, f


@dataclass
class FacetScore:
    facet: str
    values: dict[str, dict[str, float]]  # value -> precision, recall, f1, support, predicted
    micro: dict[str, float]
    macro_f1: float

    @property
    def target_metric(self) -> str:
        return TARGETS[self.facet][0]

    @property
    def headline(self) -> float:
        return self.macro_f1 if self.target_metric == "macro" else self.micro["f1"]

    def as_dict(self) -> dict[str, Any]:
        return {"values": self.values, "micro": self.micro, "macro_f1": self.macro_f1,
                "target_metric": f"{self.target_metric}-F1", "target": TARGETS[self.facet][1],
                "headline": self.headline}


def score(gold: Sequence[Mapping[str, Sequence[str]]], pred: Sequence[Mapping[str, Sequence[str]]]) -> dict[str, FacetScore]:
    """Per-facet scores of predicted label sets against gold label sets (same order)."""
    out = {}
    for facet, values in FACETS.items():
        per: dict[str, dict[str, float]] = {}
        TP = FP = FN = 0
        f1s = []
        for v in values:
            tp = sum(1 for g, p in zip(gold, pred) if v in g.get(facet, ()) and v in p.get(facet, ()))
            fp = sum(1 for g, p in zip(gold, pred) if v not in g.get(facet, ()) and v in p.get(facet, ()))
            fn = sum(1 for g, p in zip(gold, pred) if v in g.get(facet, ()) and v not in p.get(facet, ()))
            TP, FP, FN = TP + tp, FP + fp, FN + fn
            pr, rc, f1 = _prf(tp, fp, fn)
            per[v] = {"precision": round(pr, 4), "recall": round(rc, 4), "f1": round(f1, 4),
                      "support": tp + fn, "predicted": tp + fp}
            if tp + fp + fn:
                f1s.append(f1)
        pr, rc, f1 = _prf(TP, FP, FN)
        out[facet] = FacetScore(facet, per, {"precision": round(pr, 4), "recall": round(rc, 4), "f1": round(f1, 4)},
                                round(float(np.mean(f1s)) if f1s else 1.0, 4))
    return out


@dataclass
class Evaluation:
    """Scores of the classifier and of the keyword baseline on the same papers."""

    papers: int
    with_abstract: int
    ours: dict[str, FacetScore]
    baseline: dict[str, FacetScore]
    trained_on: int | str | None  # None: no classifier, the labels of a file were scored
    kind: str = "held-out"
    notes: list[str] = field(default_factory=list)

    def meets_targets(self) -> dict[str, bool]:
        return {f: self.ours[f].headline >= TARGETS[f][1] for f in FACETS if TARGETS[f][1] > 0}

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "papers": self.papers, "with_abstract": self.with_abstract,
            "trained_on": self.trained_on, "notes": self.notes,
            "facets": {f: {"ours": self.ours[f].as_dict(), "baseline": self.baseline[f].as_dict()} for f in FACETS},
            "meets_targets": self.meets_targets(),
        }


def _predict_sets(clf: Classifier, papers: Sequence[LabelledPaper]) -> list[dict[str, list[str]]]:
    preds = clf.predict({"paper_id": p.paper_id, "title": p.title, "abstract": p.abstract} for p in papers)
    return [p.labels for p in preds]


def _baseline_sets(lexicon: Lexicon, papers: Sequence[LabelledPaper]) -> list[dict[str, list[str]]]:
    return [keyword_labels(lexicon.scan(p.title, p.abstract)) for p in papers]


def _check_unique(papers: Sequence[LabelledPaper], source: str) -> None:
    seen: set[str] = set()
    for p in papers:
        if p.paper_id in seen:
            raise BadInput(f"{source}: paper {p.paper_id} is there twice")
        seen.add(p.paper_id)


def evaluate_gold(gold: Sequence[LabelledPaper], *, training: Sequence[LabelledPaper] | None = None,
                  gold_source: str = "gold") -> Evaluation:
    """Score the classifier on gold papers, trained on every labelled paper not in ``gold``.

    Raises :class:`BadInput` naming ``gold_source`` when a gold paper is there twice.
    """
    _check_unique(gold, gold_source)
    lexicon = load_lexicon()
    training = list(training) if training is not None else load_labelled()
    clf = build_classifier(training, exclude={g.paper_id for g in gold}, lexicon=lexicon)
    ours = score([g.labels for g in gold], _predict_sets(clf, gold))
    base = score([g.labels for g in gold], _baseline_sets(lexicon, gold))
    return Evaluation(len(gold), sum(1 for g in gold if g.abstract), ours, base, clf.trained_on)


def evaluate_labels(gold: Sequence[LabelledPaper], labelled: Sequence[LabelledPaper], *, source: str,
                    gold_source: str = "gold") -> Evaluation:
    """Score the labels of ``labelled`` (another labeller's, or a ``classify --output`` file) on the gold papers,
    beside the keyword baseline: the same figures as :func:`evaluate_gold`, for labels made elsewhere.

    Every gold paper needs labels; papers of ``labelled`` that are not gold are ignored. Raises
    :class:`BadInput` when a gold paper has no labels, or a paper is in either file twice.
    """
    _check_unique(gold, gold_source)
    _check_unique(labelled, source)
    given = {p.paper_id: p.labels for p in labelled}
    missing = [g.paper_id for g in gold if g.paper_id not in given]
    if missing:
        raise BadInput(f"{source}: no labels for {len(missing)} of the {len(gold)} gold papers (first: {missing[0]})")
    ours = score([g.labels for g in gold], [given[g.paper_id] for g in gold])
    base = score([g.labels for g in gold], _baseline_sets(load_lexicon(), gold))
    notes = []
    try:
        trained = {p.paper_id for p in load_labelled()} & {g.paper_id for g in gold}
    except ModelNotTrained:
        trained = set()
    if trained:
        notes.append(f"{len(trained)} of the {len(gold)} gold papers are in the labels the classifier trains on; "
                     "if these labels came from `classify`, their scores on those papers are not held out "
                     "(use --evaluate without --predictions for that)")
    return Evaluation(len(gold), sum(1 for g in gold if g.abstract), ours, base, None, kind=f"labels of {source}",
                      notes=notes)


def cross_validate(papers: Sequence[LabelledPaper] | None = None, *, folds: int = 5, seed: int = 0) -> Evaluation:
    """k-fold cross-validation (shuffled with ``seed``) of the classifier on labelled papers."""
    lexicon = load_lexicon()
    papers = list(papers) if papers is not None else load_labelled()
    order = np.random.default_rng(seed).permutation(len(papers))
    preds: list[dict[str, list[str]] | None] = [None] * len(papers)
    for k in range(folds):
        test_idx = order[k::folds]
        test = [papers[i] for i in test_idx]
        clf = build_classifier(papers, exclude={p.paper_id for p in test}, lexicon=lexicon)
        for i, labels in zip(test_idx, _predict_sets(clf, test)):
            preds[i] = labels
    gold = [p.labels for p in papers]
    ours = score(gold, [p or {} for p in preds])
    base = score(gold, _baseline_sets(lexicon, papers))
    return Evaluation(len(papers), sum(1 for p in papers if p.abstract), ours, base,
                      f"{folds - 1}/{folds} of {len(papers)}", kind=f"{folds}-fold cross-validation")
