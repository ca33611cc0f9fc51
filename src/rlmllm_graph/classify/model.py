"""The learned layer: hand-labelled papers in, one linear model per facet value out.

Features are TF-IDF word 1-2-grams of title and abstract, TF-IDF character
3-5-grams of the title (robust to names such as "DanceGRPO" or "Video-R1"), and
the lexicon's hits as binary columns. Each value of a several-valued facet gets a
logistic regression (``class_weight="balanced"``, fixed ``random_state``), whose
probability is the value's confidence; ``relevance`` gets one-vs-rest models, normalised;
``strategy`` gets "trains with RL at all" and "SFT cold start before RL".

Training is deterministic and takes about a second, so the model is fitted on
first use from the JSONL files in the package's ``data/labels/`` and kept in memory: nothing is
pickled. Prediction is a few sparse matrix products per batch: the fitted
vectorisers are applied by :class:`FastTfidf` (the same matrices as scikit-learn's
``transform``, built with C-level lookups and numpy instead of a Python loop per
n-gram, reusing the words the lexicon scan already split), and the evidence of
every label a model gave in a batch is found in one vectorised pass
(:meth:`LearnedModel.fill_evidence`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # scikit-learn is imported when a model is built, not with the CLI
    from sklearn.linear_model import LogisticRegression

from ..config import setting
from ..errors import MalformedRecord, ModelNotTrained
from .lexicon import Lexicon, Scan
from .vocabulary import FACETS, check_labels

__all__ = [
    "LabelledPaper",
    "LearnedModel",
    "labels_dir",
    "load_labelled",
    "read_labelled",
    "train_model",
]

MODEL_VERSION = "1"
#: several-valued facets with one binary model per value (paradigm is derived from algorithm)
BINARY_FACETS = ("modality", "algorithm", "reward", "application")
#: a value needs this many positive (and negative) examples to get a model; rarer ones are left to the rules
MIN_EXAMPLES = 3
#: values left to the rules alone: "some other RL algorithm" is too varied for a model to learn from a few examples
RULES_ONLY = frozenset({("algorithm", v) for v in FACETS["algorithm"]} | {("reward", "rule")})
#: thresholds are chosen on out-of-fold probabilities of this many folds, among these candidates
THRESHOLD_FOLDS = 3
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(14))  # 0.2 ... 0.85
LABELS_ENV = setting("labels").env


#: (a prediction's evidence dict of one facet, the value, the paper's row of X, the model's weight column)
EvidenceRequest = tuple[dict[str, str], str, int, int]


@dataclass(frozen=True)
class LabelledPaper:
    """A paper with its hand-given labels (every facet present)."""

    paper_id: str
    title: str | None
    abstract: str | None
    labels: dict[str, list[str]]
    arxiv_id: str | None = None


def labels_dir() -> Path:
    """Where the hand labels live: ``$RLMLLM_LABELS``, else the package's own ``data/labels``.

    Raises :class:`ModelNotTrained` when there is no such folder with ``*.jsonl`` files.
    """
    env = os.environ.get(LABELS_ENV)
    folder = Path(env) if env else Path(__file__).resolve().parents[1] / "data" / "labels"
    if folder.is_dir() and any(folder.glob("*.jsonl")):
        return folder
    raise ModelNotTrained(
        f"no labelled papers to train the classifier on: no *.jsonl files in {folder}"
        + (f" (named by ${LABELS_ENV})" if env else f" (set ${LABELS_ENV} to a folder of label files)")
    )


def iter_paper_lines(lines: Iterable[str], *, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank JSONL line that is a paper: an object with a ``paper_id``
    and a title/abstract that is a string or null.

    Raises :class:`MalformedRecord` naming ``source`` and the line.
    """
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise MalformedRecord(f"not JSON ({e.msg})", path=source, line=n) from None
        except RecursionError:  # nested deeper than the decoder goes (import says the same)
            raise MalformedRecord("not JSON (depth limit exceeded)", path=source, line=n) from None
        if not isinstance(rec, dict):
            raise MalformedRecord("expected a JSON object", path=source, line=n)
        pid = rec.get("paper_id")
        if not isinstance(pid, str) or not pid.strip():
            raise MalformedRecord("no paper_id", path=source, line=n)
        for key in ("title", "abstract"):
            if rec.get(key) is not None and not isinstance(rec[key], str):
                raise MalformedRecord(f"{key} must be a string or null", path=source, line=n)
        yield n, rec


def read_labelled(lines: Iterable[str], *, source: str) -> list[LabelledPaper]:
    """Parse labelled JSONL: ``{"paper_id", "title", "abstract", "labels"|"gold": {facet: [values]}}`` per line.

    Raises :class:`MalformedRecord` naming ``source`` and the line.
    """
    out: list[LabelledPaper] = []
    for n, rec in iter_paper_lines(lines, source=source):
        labels = rec.get("gold", rec.get("labels"))
        if not isinstance(labels, dict):
            raise MalformedRecord("no \"gold\" (or \"labels\") object of facet: [values]", path=source, line=n)
        try:
            checked = check_labels(labels)
        except Exception as e:  # BadInput from the vocabulary check, with the line added
            raise MalformedRecord(str(e), path=source, line=n) from None
        out.append(LabelledPaper(rec["paper_id"], rec.get("title"), rec.get("abstract"), checked, rec.get("arxiv_id")))
    return out


def load_labelled(folder: Path | None = None) -> list[LabelledPaper]:
    """Every labelled paper in ``folder`` (default :func:`labels_dir`), files in name order, first label of an id wins."""
    folder = folder or labels_dir()
    seen: dict[str, LabelledPaper] = {}
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for p in read_labelled(fh, source=str(path)):
                seen.setdefault(p.paper_id, p)
    if not seen:
        raise ModelNotTrained(f"no labelled papers in {folder}")
    return list(seen.values())


def labels_fingerprint(papers: Sequence[LabelledPaper]) -> str:
    h = hashlib.sha1()
    for p in sorted(papers, key=lambda p: p.paper_id):
        h.update(json.dumps([p.paper_id, p.title, p.abstract, p.labels], sort_keys=True).encode())
    return h.hexdigest()[:12]


#: features a linear model cannot make itself: "RL words and multimodal words together", ...
CONJUNCTIONS = (
    "title only",
    "RL and multimodal words in the title",
    "RL and multimodal words",
    "RL words without multimodal words",
    "multimodal words without RL words",
    "RL and LLM words",
    "multimodal and reasoning words",
    "benchmark and multimodal words",
    "benchmark words without RL words",
    "no RL, multimodal or reasoning words",
    "a named RL algorithm",
    "a named RL algorithm and multimodal words",
    "RL words and SFT words",
)


def _conjunctions(s: Scan, has_abstract: bool) -> tuple[bool, ...]:
    rl, mm = s.signal("rl"), s.signal("multimodal")
    rl_t, mm_t = s.signal("rl", "title"), s.signal("multimodal", "title")
    bench, reasoning, llm = s.signal("benchmark"), s.signal("reasoning"), s.signal("llm")
    named = any(k[0] == "algorithm" for k in s.decisive)
    return (
        not has_abstract,
        rl_t and mm_t,
        rl and mm,
        rl and not mm,
        mm and not rl,
        rl and llm,
        mm and reasoning,
        bench and mm,
        bench and not rl,
        not (rl or mm or reasoning),
        named,
        named and mm,
        rl and any(f.startswith("strategy:sft+rl:") for f in s.features),
    )


def _word_text(title: str | None, abstract: str | None) -> str:
    return f"{title or ''} . {abstract or ''}"


#: words whose character n-grams are memoised at most
_NGRAM_MEMO_LIMIT = 200_000
_WORDS = re.compile(r"(?u)\b\w\w*\b")  # the TF-IDF word vectoriser's token_pattern


def _lower_words(title: str | None, abstract: str | None, scan: Scan) -> list[str]:
    """The word vectoriser's tokens of a paper: the lexicon scan's words, lower-cased, where that is the same
    thing (ASCII text: lower-casing changes no word boundary); else its own tokenisation of the lower-cased text."""
    words = scan.words
    if (not title or ("title" in words and title.isascii())) and (
            not abstract or ("abstract" in words and abstract.isascii())):
        return list(map(str.lower, chain(words.get("title", ()), words.get("abstract", ()))))
    return _WORDS.findall(_word_text(title, abstract).lower())


class FastTfidf:
    """The transform of a fitted TF-IDF vectoriser, in a few C-level passes per text.

    Gives exactly what ``TfidfVectorizer.transform`` gives (the same counts in the same
    sorted CSR layout, then sklearn's own sublinear tf, idf and l2 steps) for the two
    analysers used here: word 1-2-grams, and ``char_wb`` n-grams. Word n-grams are looked
    up with ``map`` over the tokens; a word's character n-grams are memoised per word.
    """

    def __init__(self, vectoriser: Any) -> None:
        self.kind = vectoriser.analyzer
        self.ngram_range = vectoriser.ngram_range
        if self.kind not in ("word", "char_wb") or not vectoriser.lowercase or vectoriser.strip_accents \
                or vectoriser.preprocessor or vectoriser.tokenizer or vectoriser.stop_words \
                or (self.kind == "word" and (vectoriser.token_pattern != _WORDS.pattern or self.ngram_range != (1, 2))):
            raise ValueError("FastTfidf covers the vectorisers of this module only")
        self.norm = vectoriser.norm
        self.sublinear_tf = vectoriser.sublinear_tf
        self.idf = vectoriser.idf_ if vectoriser.use_idf else None
        self.dtype = vectoriser.dtype
        #: term -> column + 1 (so that a lookup's unknown terms come out falsy)
        self.ids = {term: i + 1 for term, i in vectoriser.vocabulary_.items()}
        self.size = len(self.ids)
        self._word_ngrams: dict[str, list[int]] = {}
        if self.kind == "word":
            # words numbered once; a unigram's column by word number, a bigram's by the pair of numbers
            parts = {term: term.split(" ") for term in vectoriser.vocabulary_}
            self.word_no = {w: i for i, w in enumerate(sorted({w for ws in parts.values() for w in ws}))}
            nw = len(self.word_no)
            self.unigram_col = np.full(nw, -1, dtype=np.int64)
            pairs, pair_cols = [], []
            for term, col in vectoriser.vocabulary_.items():
                ws = parts[term]
                if len(ws) == 1:
                    self.unigram_col[self.word_no[ws[0]]] = col
                else:
                    pairs.append(self.word_no[ws[0]] * nw + self.word_no[ws[1]])
                    pair_cols.append(col)
            order = np.argsort(pairs)
            self.pair_keys = np.asarray(pairs, dtype=np.int64)[order]
            self.pair_cols = np.asarray(pair_cols, dtype=np.int64)[order]

    def word_matrix(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        """TF-IDF matrix of texts given as their lower-cased words: unigram and bigram counts, vectorised."""
        n = len(docs)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=n)
        total = int(lengths.sum())
        words = chain.from_iterable(docs)
        no = np.fromiter(map(self.word_no.get, words, repeat(-1, total)), dtype=np.int64, count=total)
        row = np.repeat(np.arange(n, dtype=np.int64), lengths)
        known = no >= 0
        uni = known.copy()
        uni[known] = self.unigram_col[no[known]] >= 0
        rows, cols = [row[uni]], [self.unigram_col[no[uni]]]
        if total > 1 and len(self.pair_keys):
            both = known[:-1] & known[1:] & (row[:-1] == row[1:])
            keys = no[:-1][both] * len(self.word_no) + no[1:][both]
            at = np.minimum(np.searchsorted(self.pair_keys, keys), len(self.pair_keys) - 1)
            hit = self.pair_keys[at] == keys
            rows.append(row[:-1][both][hit])
            cols.append(self.pair_cols[at[hit]])
        return self._tfidf(n, np.concatenate(rows), np.concatenate(cols))

    def char_wb_ids(self, text: str) -> list[int]:
        """Columns + 1 of a text's ``char_wb`` n-grams."""
        words = text.lower().split()
        memo = self._word_ngrams
        new = set(words).difference(memo)
        if new:
            if len(memo) + len(new) > _NGRAM_MEMO_LIMIT:  # start afresh (a new dict: other threads keep theirs)
                self._word_ngrams = memo = {}
                new = set(words)
            for w in new:
                memo[w] = self._padded_word_ids(w)
        return list(chain.from_iterable(map(memo.__getitem__, words)))

    def _padded_word_ids(self, word: str) -> list[int]:
        # sklearn's _char_wb_ngrams for one word
        w = " " + word + " "
        w_len = len(w)
        grams = []
        lo, hi = self.ngram_range
        for n in range(lo, hi + 1):
            offset = 0
            grams.append(w[offset:offset + n])
            while offset + n < w_len:
                offset += 1
                grams.append(w[offset:offset + n])
            if offset == 0:
                break
        get = self.ids.get
        return [i for i in map(get, grams) if i]

    def matrix(self, rows: Sequence[list[int]]) -> sp.csr_matrix:
        """TF-IDF matrix from each text's columns + 1 (as :meth:`char_wb_ids` gives them)."""
        n = len(rows)
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n)
        cols = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=int(lengths.sum())) - 1
        return self._tfidf(n, np.repeat(np.arange(n, dtype=np.int64), lengths), cols)

    def _tfidf(self, n: int, rows: np.ndarray, cols: np.ndarray) -> sp.csr_matrix:
        """Counts of (row, column) pairs in sklearn's layout (rows, then sorted columns), then its tf-idf steps."""
        from sklearn.preprocessing import normalize

        keys, counts = np.unique(rows * self.size + cols, return_counts=True)
        indptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(keys // self.size, minlength=n), out=indptr[1:])
        X = sp.csr_matrix((counts.astype(self.dtype), (keys % self.size).astype(np.int32), indptr),
                          shape=(n, self.size))
        if self.sublinear_tf:
            np.log(X.data, X.data)
            X.data += 1.0
        if self.idf is not None:
            X.data *= self.idf[X.indices]
        if self.norm is not None:
            X = normalize(X, norm=self.norm, copy=False)
        return X


class LearnedModel:
    """Fitted vectorisers and the stacked linear models; see the module docstring."""

    def __init__(self, lexicon: Lexicon, *, C: float = 4.0, lex_weight: float = 1.0, seed: int = 0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.lexicon = lexicon
        self.C = C
        self.seed = seed
        self.word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=40000,
                                    token_pattern=r"(?u)\b\w\w*\b", dtype=np.float32)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True,
                                    max_features=30000, dtype=np.float32)
        self.lex_index = {name: i for i, name in enumerate(lexicon.feature_names)}
        self.lex_weight = lex_weight
        self.binary_keys: list[tuple[str, str]] = []  # (facet, value) per column of W
        self.thresholds = np.zeros(0, dtype=np.float32)  # per column of W: the model says yes from here
        self.threshold_list: list[float] = []
        self.W = np.zeros((0, 0), dtype=np.float32)
        self.b = np.zeros(0, dtype=np.float32)
        self.rel_classes: list[str] = []
        self.Wr = np.zeros((0, 0), dtype=np.float32)
        self.br = np.zeros(0, dtype=np.float32)
        self.feature_names: list[str] = []
        self._fast_word: FastTfidf | None = None
        self._fast_char: FastTfidf | None = None
        self._shown = np.zeros(0, dtype=bool)
        self._readable_names: list[str] = []
        self._weights_t = np.zeros((0, 0), dtype=np.float32)  # W then Wr, one row per model

    # -- features ---------------------------------------------------------------------------------
    def _lex_matrix(self, scans: Sequence[Scan], has_abstract: Sequence[bool]) -> sp.csr_matrix:
        rows, cols = [], []
        idx = self.lex_index
        extra = len(idx)
        for r, (s, has) in enumerate(zip(scans, has_abstract)):
            for f in s.features:
                c = idx.get(f)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
            for j, on in enumerate(_conjunctions(s, has)):
                if on:
                    rows.append(r)
                    cols.append(extra + j)
        data = np.full(len(rows), self.lex_weight, dtype=np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(scans), extra + len(CONJUNCTIONS)),
                             dtype=np.float32)

    def features(self, titles: Sequence[str | None], abstracts: Sequence[str | None], scans: Sequence[Scan],
                 *, fit: bool = False) -> sp.csr_matrix:
        tt = [t or "" for t in titles]
        if fit:
            words = [_word_text(t, a) for t, a in zip(titles, abstracts)]
            Xw = self.word.fit_transform(words)
            Xc = self.char.fit_transform(tt)
            self.feature_names = (
                [f"word:{w}" for w in self.word.get_feature_names_out()]
                + [f"char:{c}" for c in self.char.get_feature_names_out()]
                + [f"lexicon:{n}" for n in self.lexicon.feature_names] + [f"lexicon:{c}" for c in CONJUNCTIONS]
            )
            self._fast_word, self._fast_char = FastTfidf(self.word), FastTfidf(self.char)
            # evidence of a model's label: its weightiest words and lexicon phrases (character n-grams are unreadable)
            self._shown = np.array([not n.startswith("char:") for n in self.feature_names])
            self._readable_names = [_readable(n) for n in self.feature_names]
        else:
            fw, fc = self._fast_word, self._fast_char
            Xw = fw.word_matrix([_lower_words(t, a, s) for t, a, s in zip(titles, abstracts, scans)])
            Xc = fc.matrix([fc.char_wb_ids(t) for t in tt])
        Xl = self._lex_matrix(scans, [bool(a) for a in abstracts])
        return sp.hstack([Xw, Xc, Xl], format="csr", dtype=np.float32)

    # -- training ---------------------------------------------------------------------------------
    def fit(self, papers: Sequence[LabelledPaper]) -> LearnedModel:
        if len(papers) < 10:
            raise ModelNotTrained(f"only {len(papers)} labelled papers; need at least 10 to train")
        titles = [p.title for p in papers]
        abstracts = [p.abstract for p in papers]
        scans = [self.lexicon.scan(t, a) for t, a in zip(titles, abstracts)]
        X = self.features(titles, abstracts, scans, fit=True)
        cols_w, cols_b, keys = [], [], []
        targets: list[tuple[tuple[str, str], np.ndarray]] = []
        for facet in BINARY_FACETS:
            for value in FACETS[facet]:
                targets.append(((facet, value), np.array([value in p.labels[facet] for p in papers])))
        targets.append((("strategy", "*"), np.array([bool(p.labels["strategy"]) for p in papers])))
        targets.append((("strategy", "sft+rl"), np.array(["sft+rl" in p.labels["strategy"] for p in papers])))
        folds = np.arange(len(papers)) % THRESHOLD_FOLDS
        np.random.default_rng(self.seed).shuffle(folds)
        thresholds = []
        for key, y in targets:
            pos = int(y.sum())
            if key in RULES_ONLY or pos < MIN_EXAMPLES or len(y) - pos < MIN_EXAMPLES:
                continue
            m = self._binary().fit(X, y)
            cols_w.append(m.coef_[0].astype(np.float32))
            cols_b.append(np.float32(m.intercept_[0]))
            keys.append(key)
            ruled = np.array([key in sc.decisive for sc in scans])
            thresholds.append(self._threshold(X, y, ruled, folds))
        self.binary_keys = keys
        self.thresholds = np.array(thresholds, dtype=np.float32)
        self.threshold_list = [float(t) for t in thresholds]
        self.W = np.vstack(cols_w).T.copy() if cols_w else np.zeros((X.shape[1], 0), dtype=np.float32)
        self.b = np.array(cols_b, dtype=np.float32)
        # relevance: one-vs-rest models, probabilities normalised to sum to one
        yr = np.array([p.labels["relevance"][0] if p.labels["relevance"] else "other" for p in papers])
        self.rel_classes = [c for c in FACETS["relevance"] if (yr == c).any()]
        rel_w, rel_b = [], []
        for c in self.rel_classes:
            m = self._binary().fit(X, yr == c)
            rel_w.append(m.coef_[0].astype(np.float32))
            rel_b.append(np.float32(m.intercept_[0]))
        self.Wr = np.vstack(rel_w).T.copy()
        self.br = np.array(rel_b, dtype=np.float32)
        self._weights_t = np.ascontiguousarray(np.hstack([self.W, self.Wr]).T)
        return self

    def _binary(self) -> LogisticRegression:
        from sklearn.linear_model import LogisticRegression

        # the dual liblinear solver: 20x faster than the primal when features far outnumber papers
        return LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", dual=True, tol=1e-4,
                                  random_state=self.seed, max_iter=5000)

    def _threshold(self, X: sp.csr_matrix, y: np.ndarray, ruled: np.ndarray, folds: np.ndarray) -> float:
        """The probability from which the model says yes: best F1 of "rule or model" on out-of-fold predictions."""
        oof = np.zeros(len(y))
        for k in range(THRESHOLD_FOLDS):
            test = folds == k
            train = ~test
            if y[train].sum() < 2 or (~y[train]).sum() < 2:
                return 0.5
            oof[test] = self._binary().fit(X[train], y[train]).predict_proba(X[test])[:, 1]
        best, best_t = -1.0, 0.5
        for t in THRESHOLD_GRID:
            pred = ruled | (oof >= t)
            tp = int((pred & y).sum())
            fp = int((pred & ~y).sum())
            fn = int((~pred & y).sum())
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 > best + 1e-9 or (abs(f1 - best) <= 1e-9 and abs(t - 0.5) < abs(best_t - 0.5)):
                best, best_t = f1, t
        return float(best_t)

    # -- prediction -------------------------------------------------------------------------------
    def predict_proba(self, X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(binary probabilities, one column per ``binary_keys``; relevance probabilities per ``rel_classes``)."""
        z = X @ self.W + self.b
        P = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
        sr = 1.0 / (1.0 + np.exp(-np.asarray(X @ self.Wr + self.br, dtype=np.float64)))
        R = sr / sr.sum(axis=1, keepdims=True)
        return P, R

    def fill_evidence(self, X: sp.csr_matrix, wanted: Sequence[EvidenceRequest], *, k: int = 3) -> None:
        """Write the evidence of labels given by a linear model: the ``k`` words and lexicon phrases of the
        paper that pushed it most towards yes (``"model: 'video', 'temporal'"``), for a whole batch at once.

        ``wanted`` holds ``(evidence dict, value, row of X, weight column)`` per label, the weight column
        indexing ``binary_keys`` and then ``rel_classes``. Equal pushes are listed in feature order.
        """
        if not wanted:
            return
        rows = np.fromiter((w[2] for w in wanted), dtype=np.int64, count=len(wanted))
        cols = np.fromiter((w[3] for w in wanted), dtype=np.int64, count=len(wanted))
        sub = X[rows]
        req = np.repeat(np.arange(len(wanted)), np.diff(sub.indptr))
        feat = sub.indices
        contrib = sub.data * self._weights_t[cols[req], feat]
        keep = (contrib > 0) & self._shown[feat]
        req, feat, contrib = req[keep], feat[keep], contrib[keep]
        terms: list[list[str]] = [[] for _ in wanted]
        n = len(req)
        if n:
            # k rounds of "the largest push of each request" (the first in feature order on a tie), each
            # round vectorised over the batch: entries are grouped by request, in feature order
            starts = np.flatnonzero(np.r_[True, req[1:] != req[:-1]])
            group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
            everywhere = np.arange(n)
            names = self._readable_names
            for _ in range(k):
                best = np.maximum.reduceat(contrib, starts)
                first = np.minimum.reduceat(np.where(contrib == best[group], everywhere, n), starts)
                first = first[(best > -np.inf) & (first < n)]
                for r, f in zip(req[first].tolist(), feat[first].tolist()):
                    terms[r].append(names[f])
                contrib[first] = -np.inf
        for (evid, value, _, _), t in zip(wanted, terms):
            evid[value] = "model: " + ", ".join(t) if t else "model"


def _readable(name: str) -> str:
    kind, _, rest = name.partition(":")
    if kind == "word":
        return repr(rest)
    parts = rest.split(":")
    if parts[0] == "signal" and len(parts) == 3:
        return f"{parts[1]} words in the {parts[2]}"
    if len(parts) == 4:
        return f"{parts[0]}={parts[1]} cue in the {parts[3]}"
    return rest


def train_model(lexicon: Lexicon, papers: Sequence[LabelledPaper], **kw: Any) -> LearnedModel:
    """Fit a :class:`LearnedModel` on labelled papers (deterministic)."""
    return LearnedModel(lexicon, **kw).fit(papers)




