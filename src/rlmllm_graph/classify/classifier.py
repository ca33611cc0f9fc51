"""The classifier: the lexicon and the learned model together, trained once per process."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .lexicon import Lexicon, load_lexicon
from .model import MODEL_VERSION, EvidenceRequest, LabelledPaper, LearnedModel, labels_fingerprint, load_labelled, train_model
from .predict import TITLE_ONLY_FACTOR, Prediction, combine, paper_text
from .relevance import gate_predictions
from .sections import clean_sections, refine

__all__ = ["Classifier", "build_classifier", "get_classifier", "predict_labels", "reset_classifier"]

BATCH = 4096
#: from this many papers on, ``predict(..., workers=None)`` uses one process per core (fork)
PARALLEL_FROM = 20_000
#: ... or from this many papers with full text (reading sections costs about a hundred times an abstract)
FULLTEXT_PARALLEL_FROM = 200
#: papers a batch (and a forked worker's chunk) holds when they have full text
FULLTEXT_BATCH = 100

_worker_classifier: Classifier | None = None

#: what is classified of one paper: paper_id, title, abstract and its usable sections (None without full text)
PaperInput = tuple[str, str | None, str | None, list[dict[str, str]] | None]


def paper_input(record: Mapping[str, Any]) -> PaperInput:
    pid, title, abstract = paper_text(record)
    return pid, title, abstract, clean_sections(record.get("sections")) or None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while classifying.

    Classifying makes many small, acyclic containers (labels, confidences, evidence) that all stay
    alive, so the collector's passes over them find nothing and cost about a sixth of the time.
    Reference counting still frees everything; the collector is switched back on (if it was on) after.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _predict_chunk(chunk: list[PaperInput]) -> list[Prediction]:
    assert _worker_classifier is not None
    return _worker_classifier._predict_all(chunk)


class Classifier:
    """Rules + learned models. ``predict`` takes records (``paper_id``, ``title``, ``abstract``, optionally
    ``sections``: a paper's full text, see :mod:`.sections`).

    ``keep_model``: for a paper with full text, keep the learned model's abstract-only guesses for the method
    facets where no text states them (off: such a facet is left empty, "not stated").
    """

    def __init__(self, lexicon: Lexicon, model: LearnedModel, *, trained_on: int, labels_version: str,
                 keep_model: bool = False) -> None:
        self.lexicon = lexicon
        self.keep_model = keep_model
        self.model = model
        self.trained_on = trained_on
        #: changes whenever the lexicon, the labels or the model code change (stored with each classified paper)
        self.version = f"{MODEL_VERSION}-{lexicon.version}-{labels_version}"
        self._keys = {k: i for i, k in enumerate(model.binary_keys)}

    def predict(self, records: Iterable[Mapping[str, Any]], *, batch_size: int = BATCH,
                progress: Callable[[int], Any] | None = None, workers: int | None = 1) -> list[Prediction]:
        """Labels for each record, in order. ``workers=None`` uses every core for large inputs
        (at least :data:`PARALLEL_FROM` papers, or :data:`FULLTEXT_PARALLEL_FROM` with full text, on systems
        that fork); the result is the same either way."""
        papers = [paper_input(r) for r in records]
        full = sum(1 for p in papers if p[3])
        if full and batch_size == BATCH:
            batch_size = FULLTEXT_BATCH
        if workers is None:
            large = len(papers) >= PARALLEL_FROM or full >= FULLTEXT_PARALLEL_FROM
            workers = (os.cpu_count() or 1) if large else 1
        if workers > 1 and len(papers) >= 2 * batch_size and "fork" in multiprocessing.get_all_start_methods():
            return self._predict_parallel(papers, workers, batch_size, progress)
        return self._predict_all(papers, batch_size=batch_size, progress=progress)

    def _predict_all(self, papers: Sequence[PaperInput], *, batch_size: int = BATCH,
                     progress: Callable[[int], Any] | None = None) -> list[Prediction]:
        out: list[Prediction] = []
        with _gc_paused():
            for i in range(0, len(papers), batch_size):
                batch = papers[i:i + batch_size]
                out += self._predict_batch(batch)
                if progress:
                    progress(len(batch))
        return out

    def _predict_parallel(self, papers: list[PaperInput], workers: int, batch_size: int,
                          progress: Callable[[int], Any] | None) -> list[Prediction]:
        global _worker_classifier
        chunks = [papers[i:i + batch_size] for i in range(0, len(papers), batch_size)]
        _worker_classifier = self  # inherited by the forked workers: nothing is pickled but papers and results
        try:
            ctx = multiprocessing.get_context("fork")
            out: list[Prediction] = []
            with ctx.Pool(min(workers, len(chunks))) as pool, _gc_paused():  # unpickling results makes containers too
                for part in pool.imap(_predict_chunk, chunks):
                    out += part
                    if progress:
                        progress(len(part))
            return out
        finally:
            _worker_classifier = None

    def _predict_batch(self, batch: Sequence[PaperInput]) -> list[Prediction]:
        titles = [p[1] for p in batch]
        abstracts = [p[2] for p in batch]
        scans = [self.lexicon.scan(t, a) for t, a in zip(titles, abstracts)]
        X = self.model.features(titles, abstracts, scans)
        P, R = self.model.predict_proba(X)
        wanted: list[EvidenceRequest] = []
        out = [
            combine(pid, t, a, s, self.model, i, P, R, self._keys, wanted)
            for i, ((pid, t, a, _), s) in enumerate(zip(batch, scans))
        ]
        self.model.fill_evidence(X, wanted)
        # core needs RL applied to a (multimodal) language model in the title and abstract: see relevance.py
        gate_predictions(out, [(pid, t, a) for pid, t, a, _ in batch], R, self.model.rel_classes,
                         title_only_factor=TITLE_ONLY_FACTOR)
        for pred, (_, _, a, sections) in zip(out, batch):
            if sections:
                refine(pred, self.lexicon, a, sections, keep_model=self.keep_model)
        return out


def build_classifier(papers: Sequence[LabelledPaper] | None = None, *, exclude: Collection[str] = (),
                     lexicon: Lexicon | None = None, **model_options: Any) -> Classifier:
    """Train a classifier on ``papers`` (default: every file in ``data/labels``), leaving out the ids in ``exclude``."""
    lexicon = lexicon or load_lexicon()
    papers = list(papers) if papers is not None else load_labelled()
    if exclude:
        drop = set(exclude)
        papers = [p for p in papers if p.paper_id not in drop]
    model = train_model(lexicon, papers, **model_options)
    return Classifier(lexicon, model, trained_on=len(papers), labels_version=labels_fingerprint(papers))


_lock = threading.Lock()
_cached: Classifier | None = None


def get_classifier() -> Classifier:
    """The process-wide classifier, trained on first use from ``data/labels`` (about a second)."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = build_classifier()
        return _cached


def reset_classifier() -> None:
    """Forget the trained classifier (the next call trains again, e.g. after the labels changed)."""
    global _cached
    with _lock:
        _cached = None


def predict_labels(records: Iterable[Mapping[str, Any]], *, workers: int | None = 1) -> list[dict[str, Any]]:
    """Label papers: each record has ``paper_id``, ``title`` and ``abstract`` (may be missing or None).

    Returns one dict per record, in order, in the DESIGN ``classify --output`` shape:
    ``{"paper_id", "labels": {facet: [values]}, "confidence": {facet: {value: p}}, "evidence": {facet: {value: text}}}``
    with every facet present in ``labels``. Raises :class:`~rlmllm_graph.errors.BadInput` for a record without
    ``paper_id`` and :class:`~rlmllm_graph.errors.ModelNotTrained` when no labelled papers can be found.
    ``workers=None`` classifies large inputs on every core (forked processes; same result).

    >>> predict_labels([{"paper_id": "x", "title": "Video-R1: reinforcing video reasoning with GRPO"}])[0]["labels"]["algorithm"]
    ['grpo']
    """
    return [p.as_dict() for p in get_classifier().predict(records, workers=workers)]
