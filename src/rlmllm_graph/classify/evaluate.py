"""Evaluation: per-facet precision, recall and F1 against gold labels, beside the keyword baseline.

Only what the gold file annotates is scored: a facet present in a gold line
(even as an empty list, meaning "none applies") is scored for that paper; a
facet absent from the line is not scored for it (:func:`read_gold`). Each
facet's score says how many papers it rests on; under :data:`MIN_PAPERS` the
evaluation warns. :attr:`Evaluation.errors` lists every paper and facet the
labels got wrong.

The figure that the issue's targets name for each facet is :data:`TARGETS`:
modality macro-F1 >= 0.95, algorithm micro-F1 >= 0.92, paradigm, strategy,
reward and relevance micro-F1 >= 0.95, 0.85, 0.85, 0.90. (For ``relevance``,
one value per paper, micro-F1 is the accuracy.)

:func:`evaluate_gold` never scores a paper the model was trained on: it trains a
fresh classifier on every labelled paper *except* those in the gold set.
:func:`cross_validate` does k-fold cross-validation on the labelled papers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BadInput, ModelNotTrained
from ..records import papers_count
from .classifier import Classifier, build_classifier
from .lexicon import Lexicon, load_lexicon
from .model import LabelledPaper, iter_paper_lines, load_labelled, read_labelled
from .predict import keyword_labels
from .vocabulary import FACETS

__all__ = [
    "MIN_PAPERS",
    "TARGETS",
    "Evaluation",
    "FacetScore",
    "GoldPaper",
    "cross_validate",
    "evaluate_gold",
    "evaluate_labels",
    "read_gold",
    "score",
]

#: A facet scored on fewer gold papers than this gets a warning: its F1 says little.
MIN_PAPERS = 10

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


@dataclass(frozen=True)
class GoldPaper(LabelledPaper):
    """A gold paper and the facets its line annotates (only those are scored)."""

    annotated: tuple[str, ...] = tuple(FACETS)


def read_gold(lines: Iterable[str], *, source: str) -> list[GoldPaper]:
    """Parse gold JSONL like :func:`~rlmllm_graph.classify.model.read_labelled`, remembering which facets each
    line annotates: ``"algorithm": []`` means "none applies" and is scored; a facet left out is not scored for
    that paper. Raises :class:`~rlmllm_graph.errors.MalformedRecord` naming ``source`` and the line."""
    lines = list(lines)
    papers = read_labelled(lines, source=source)
    annotated = [tuple(f for f in FACETS if f in rec.get("gold", rec.get("labels")))
                 for _, rec in iter_paper_lines(lines, source=source)]
    return [GoldPaper(p.paper_id, p.title, p.abstract, p.labels, p.arxiv_id, annotated=a)
            for p, a in zip(papers, annotated)]


def _annotated(papers: Sequence[LabelledPaper]) -> list[Collection[str]]:
    return [getattr(p, "annotated", FACETS) for p in papers]


@dataclass
class FacetScore:
    facet: str
    values: dict[str, dict[str, float]]  # value -> precision, recall, f1, support, predicted
    micro: dict[str, float]
    macro_f1: float
    papers: int = 0  # gold papers that annotate this facet: what the figures rest on

    @property
    def target_metric(self) -> str:
        return TARGETS[self.facet][0]

    @property
    def scored(self) -> bool:
        return self.papers > 0

    @property
    def headline(self) -> float:
        return self.macro_f1 if self.target_metric == "macro" else self.micro["f1"]

    def as_dict(self) -> dict[str, Any]:
        return {"papers": self.papers, "values": self.values, "micro": self.micro, "macro_f1": self.macro_f1,
                "target_metric": f"{self.target_metric}-F1", "target": TARGETS[self.facet][1],
                "headline": self.headline if self.scored else None}


def score(gold: Sequence[Mapping[str, Sequence[str]]], pred: Sequence[Mapping[str, Sequence[str]]],
          *, annotated: Sequence[Collection[str]] | None = None) -> dict[str, FacetScore]:
    """Per-facet scores of predicted label sets against gold label sets (same order).

    ``annotated[i]`` names the facets gold paper ``i`` annotates (default: every facet); a paper counts in a
    facet's figures only where it annotates that facet. A facet no paper annotates scores on 0 papers
    (``FacetScore.scored`` is false).
    """
    out = {}
    for facet, values in FACETS.items():
        keep = [i for i in range(len(gold)) if annotated is None or facet in annotated[i]]
        fgold, fpred = [gold[i] for i in keep], [pred[i] for i in keep]
        per: dict[str, dict[str, float]] = {}
        TP = FP = FN = 0
        f1s = []
        for v in values:
            tp = sum(1 for g, p in zip(fgold, fpred) if v in g.get(facet, ()) and v in p.get(facet, ()))
            fp = sum(1 for g, p in zip(fgold, fpred) if v not in g.get(facet, ()) and v in p.get(facet, ()))
            fn = sum(1 for g, p in zip(fgold, fpred) if v in g.get(facet, ()) and v not in p.get(facet, ()))
            TP, FP, FN = TP + tp, FP + fp, FN + fn
            pr, rc, f1 = _prf(tp, fp, fn)
            per[v] = {"precision": round(pr, 4), "recall": round(rc, 4), "f1": round(f1, 4),
                      "support": tp + fn, "predicted": tp + fp}
            if tp + fp + fn:
                f1s.append(f1)
        pr, rc, f1 = _prf(TP, FP, FN)
        out[facet] = FacetScore(facet, per, {"precision": round(pr, 4), "recall": round(rc, 4), "f1": round(f1, 4)},
                                round(float(np.mean(f1s)) if f1s else 1.0, 4), papers=len(keep))
    return out


def _errors(gold: Sequence[LabelledPaper], pred: Sequence[Mapping[str, Sequence[str]]]) -> list[dict[str, Any]]:
    """Every (paper, annotated facet) whose predicted values differ from the gold ones, in gold order."""
    out = []
    for g, p, facets in zip(gold, pred, _annotated(gold)):
        for facet in FACETS:
            if facet not in facets:
                continue
            want, got = list(g.labels.get(facet, [])), list(p.get(facet, []))
            if set(want) != set(got):
                out.append({"paper_id": g.paper_id, "title": g.title, "facet": facet,
                            "gold": sorted(want, key=FACETS[facet].index),
                            "predicted": sorted((v for v in got if v in FACETS[facet]), key=FACETS[facet].index)})
    return out



def _score_all(gold: Sequence[LabelledPaper], ours: Sequence[Mapping[str, Sequence[str]]],
               base: Sequence[Mapping[str, Sequence[str]]]) -> tuple[dict[str, FacetScore], dict[str, FacetScore],
                                                                   list[dict[str, Any]], list[str]]:
    """Scores of ours and of the baseline on the annotated facets, our errors, and the warnings."""
    labels, annotated = [g.labels for g in gold], _annotated(gold)
    o = score(labels, ours, annotated=annotated)
    b = score(labels, base, annotated=annotated)
    warnings = []
    for facet, fs in o.items():
        if not fs.scored:
            warnings.append(f"{facet}: no gold paper annotates it; not scored")
        elif fs.papers < MIN_PAPERS:
            warnings.append(f"{facet}: scored on only {papers_count(fs.papers)} (fewer than {MIN_PAPERS}); "
                            "its figures say little")
    return o, b, _errors(gold, ours), warnings


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
    #: every (paper, facet) ours got wrong: ``paper_id, title, facet, gold, predicted``
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: facets scored on fewer than :data:`MIN_PAPERS` papers, or on none
    warnings: list[str] = field(default_factory=list)

    def meets_targets(self) -> dict[str, bool]:
        """Facet → whether ours meets its target, for the facets that have a target and were scored."""
        return {f: self.ours[f].headline >= TARGETS[f][1] for f in FACETS
                if TARGETS[f][1] > 0 and self.ours[f].scored}

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "papers": self.papers, "with_abstract": self.with_abstract,
            "trained_on": self.trained_on, "notes": self.notes, "warnings": self.warnings,
            "facets": {f: {"ours": self.ours[f].as_dict(), "baseline": self.baseline[f].as_dict()} for f in FACETS},
            "meets_targets": self.meets_targets(),
            "wrong_papers": len({e["paper_id"] for e in self.errors}),
            "errors": self.errors,
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
    ours, base, errors, warnings = _score_all(gold, _predict_sets(clf, gold), _baseline_sets(lexicon, gold))
    return Evaluation(len(gold), sum(1 for g in gold if g.abstract), ours, base, clf.trained_on,
                      errors=errors, warnings=warnings)


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
    ours, base, errors, warnings = _score_all(gold, [given[g.paper_id] for g in gold],
                                              _baseline_sets(load_lexicon(), gold))
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
                      notes=notes, errors=errors, warnings=warnings)


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
    ours, base, errors, warnings = _score_all(papers, [p or {} for p in preds], _baseline_sets(lexicon, papers))
    return Evaluation(len(papers), sum(1 for p in papers if p.abstract), ours, base,
                      f"{folds - 1}/{folds} of {len(papers)}", kind=f"{folds}-fold cross-validation",
                      errors=errors, warnings=warnings)
