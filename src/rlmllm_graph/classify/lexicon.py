"""The rules layer: a lexicon per facet value, kept as data in ``rlmllm_graph/data/lexicon.json``.

Texts are read as lower-cased word tokens (a trailing plural ``s`` dropped, ``++``
read as ``pp``), and every phrase of the lexicon is looked up at every token with
one dictionary probe, so scanning an abstract costs a few tens of microseconds.

A phrase found in a text is a :class:`Hit`. Hits of ``explicit`` phrases (and of
``title`` phrases found in the title) *decide* a label; the other hits are
features for the learned model. A mention preceded by a negation cue in the same
sentence ("without cold-start SFT"), followed by an ``ignore_after`` word
("critic-free", "PPO-style") or preceded by one of the value's ``ignore_before``
words ("a variant of PPO") is dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import accumulate, chain, compress
from typing import Any

from ..errors import BadInput
from .vocabulary import FACETS

__all__ = ["Hit", "Lexicon", "Scan", "load_lexicon", "normalise_token", "sentence_around"]

_TOKEN = re.compile(r"\w+")
#: where a sentence ends (for negation cues and "ignore_after"): . ! ? ; before white space, or a line break
_SENTENCE_SPLIT = re.compile(r"[.!?;](?=\s)|\n")
_SENTENCE_END = re.compile(r"[.!?;]\s|\n")
#: memoised words (raw token -> normalised token and lexicon entries) kept at most
_MEMO_LIMIT = 500_000

#: how a hit counts: decides a label, or is only a feature
DECIDES = "explicit"
HINT = "hint"


def normalise_token(token: str) -> str:
    """Lower-case and drop a plural ``s`` (``Models`` -> ``model``; ``process`` stays)."""
    t = token.lower()
    if len(t) > 3 and t.endswith("s") and not t.endswith("ss"):
        return t[:-1]
    return t


class _Entry:
    """One phrase of the lexicon, with its feature names precomputed (this is the scanner's hot path)."""

    __slots__ = ("tokens", "facet", "value", "kind", "case", "ignore_before", "names", "decides_in")

    def __init__(self, tokens: tuple[str, ...], facet: str, value: str, kind: str, case: str | None,
                 ignore_before: frozenset[str]) -> None:
        self.tokens = tokens
        self.facet = facet  # a facet, or "signal"
        self.value = value  # a facet value, or a signal name
        self.kind = kind  # explicit | title | hint | signal
        self.case = case  # exact spelling required (``=REINFORCE``)
        self.ignore_before = ignore_before
        if facet == "signal":
            self.names = {w: f"signal:{value}:{w}" for w in ("title", "abstract")}
        else:
            self.names = {w: f"{facet}:{value}:{kind}:{w}" for w in ("title", "abstract")}
        #: does a hit in this field decide the label?
        self.decides_in = {"title": kind in ("explicit", "title"), "abstract": kind == "explicit"}


@dataclass(frozen=True)
class Hit:
    """One phrase of the lexicon found in a text."""

    facet: str
    value: str
    kind: str
    field: str  # "title" or "abstract"
    start: int  # character offsets in that field
    end: int

    @property
    def decides(self) -> bool:
        return self.kind == "explicit" or (self.kind == "title" and self.field == "title")


@dataclass
class Scan:
    """What the lexicon found in one paper."""

    decisive: dict[tuple[str, str], Hit] = field(default_factory=dict)  # first deciding hit per (facet, value)
    features: set[str] = field(default_factory=set)  # "facet:value:kind:field" and "signal:name:field"
    #: the words (``\\w+`` runs) of the title and of the abstract, as written, for reuse by the learned
    #: model; absent for a field whose text had "++" (the scanner reads it as "pp")
    words: dict[str, list[str]] = field(default_factory=dict)

    def signal(self, name: str, where: str | None = None) -> bool:
        if where:
            return f"signal:{name}:{where}" in self.features
        return f"signal:{name}:title" in self.features or f"signal:{name}:abstract" in self.features


class Lexicon:
    """A compiled lexicon. Build it with :func:`load_lexicon` (package data) or from a dict."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.version = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        self.negation = frozenset(normalise_token(t) for t in spec.get("negation", ()))
        self.window = int(spec.get("negation_window", 6))
        self.ignore_after = frozenset(normalise_token(t) for t in spec.get("ignore_after", ()))
        self._exact: dict[str, list[_Entry]] = {}
        self._prefix: list[tuple[str, _Entry]] = []
        self._suffix: list[tuple[str, _Entry]] = []
        self._memo: dict[str, tuple[_Entry, ...]] = {}
        self._norm: dict[str, str] = {}  # raw token -> normalised token
        self._triggers: dict[str, tuple[_Entry, ...]] = {}  # raw token -> the entries that start with it
        entries: list[_Entry] = []
        for facet, values in spec.get("facets", {}).items():
            if facet not in FACETS:
                raise BadInput(f"lexicon: unknown facet {facet!r}")
            for value, kinds in values.items():
                if value not in FACETS[facet]:
                    raise BadInput(f"lexicon: unknown value {value!r} of facet {facet}")
                ignore_before = frozenset(normalise_token(t) for t in kinds.get("ignore_before", ()))
                for kind in ("explicit", "title", "hint"):
                    for phrase in kinds.get(kind, ()):
                        entries.append(self._entry(phrase, facet, value, kind, ignore_before))
        for name, phrases in spec.get("signals", {}).items():
            for phrase in phrases:
                entries.append(self._entry(phrase, "signal", name, "signal", frozenset()))
        for e in entries:
            first = e.tokens[0]
            if first.endswith("*") and len(first) > 1:
                self._prefix.append((first[:-1], e))
            elif first.startswith("*") and len(first) > 1:
                self._suffix.append((first[1:], e))
            else:
                self._exact.setdefault(first, []).append(e)
        #: every feature name a scan can produce, in a fixed order (the learned model's extra columns)
        self.feature_names = sorted({name for e in entries for name in e.names.values()})

    @staticmethod
    def _entry(phrase: str, facet: str, value: str, kind: str, ignore_before: frozenset[str]) -> _Entry:
        case = None
        if phrase.startswith("="):
            case = phrase[1:]
            phrase = case
        toks = tuple(normalise_token(t) if "*" not in t else t.lower() for t in re.findall(r"[\w*]+", phrase.replace("++", "pp")))
        if not toks:
            raise BadInput(f"lexicon: empty phrase for {facet}={value}")
        if any("*" in t for t in toks[1:]) or (len(toks) > 1 and "*" in toks[0]):
            raise BadInput(f"lexicon: wildcards only in one-word phrases ({phrase!r})")
        return _Entry(toks, facet, value, kind, case, ignore_before)

    def _candidates(self, tok: str) -> tuple[_Entry, ...]:
        found = self._memo.get(tok)
        if found is None:
            c = list(self._exact.get(tok, ()))
            c += [e for stem, e in self._prefix if tok.startswith(stem) and len(tok) > len(stem)]
            c += [e for stem, e in self._suffix if tok.endswith(stem) and len(tok) > len(stem)]
            found = tuple(c)
            if len(self._memo) < 500_000:
                self._memo[tok] = found
        return found

    def scan(self, title: str | None, abstract: str | None, *, into: Scan | None = None) -> Scan:
        """Find every phrase of the lexicon in a title and an abstract."""
        out = into if into is not None else Scan()
        for where, text in (("title", title), ("abstract", abstract)):
            if text:
                self._scan_text(text, where, out)
        return out

    def _lookup(self, raw: str) -> None:
        """Memoise a raw token's normalised form, and the lexicon entries that start with it if any."""
        tok = normalise_token(raw)
        self._norm[raw] = tok
        cands = self._candidates(tok)
        if cands:
            self._triggers[raw] = cands

    def _scan_text(self, text: str, where: str, out: Scan) -> None:
        # The hot path. Everything that touches every word runs in C (regex, set and map operations);
        # Python only visits the words that start a phrase of the lexicon. Sentences are split first
        # so that a mention's sentence (for negation cues and "ignore_after") is a bisection away.
        plus = "++" in text
        if plus:
            text = text.replace("++", "pp")
        per_sentence = [_TOKEN.findall(piece) for piece in _SENTENCE_SPLIT.split(text)]
        raws = list(chain.from_iterable(per_sentence))
        if not plus:
            out.words[where] = raws
        n = len(raws)
        if not n:
            return
        norm = self._norm
        words = set(raws)
        new = words.difference(norm)
        if new:
            if len(norm) + len(new) > _MEMO_LIMIT:
                norm.clear()
                self._triggers.clear()
                new = words
            for r in new:
                self._lookup(r)
        triggers = self._triggers
        positions = list(compress(range(n), map(triggers.__contains__, raws)))
        if not positions:
            return
        ends = list(accumulate(map(len, per_sentence)))  # ends[s]: index after the last token of sentence s
        toks = list(map(norm.__getitem__, raws))
        negation, window, ignore_after = self.negation, self.window, self.ignore_after
        features, decisive = out.features, out.decisive
        # an entry that matched once in this text has done all it can (its feature is set, and its label
        # decided by the first mention): later mentions only need the entries that have not matched yet
        pending: dict[str, tuple[_Entry, ...]] = {}
        for i in positions:
            raw = raws[i]
            cands = pending.get(raw)
            if cands is None:
                cands = triggers[raw]
            elif not cands:
                continue
            left: list[_Entry] = []
            si = -1
            negated = False
            for e in cands:
                k = len(e.tokens)
                if k > 1 and tuple(toks[i + 1:i + k]) != e.tokens[1:]:
                    left.append(e)
                    continue
                if e.case is not None and raw != e.case:
                    continue  # never matches this spelling
                if e.facet == "signal":
                    features.add(e.names[where])
                    continue
                if si < 0:
                    si = bisect_right(ends, i)
                    lo = ends[si - 1] if si else 0  # first token of the sentence
                    negated = not negation.isdisjoint(toks[max(lo, i - window):i])
                j = i + k
                if negated or (j < ends[si] and toks[j] in ignore_after) or (i > 0 and toks[i - 1] in e.ignore_before):
                    left.append(e)
                    continue
                features.add(e.names[where])
                if e.decides_in[where]:
                    key = (e.facet, e.value)
                    if key not in decisive:
                        if where == "title":
                            start, end = 0, len(text)
                        else:
                            start = _token_offset(text, raws, i)[0]
                            end = _token_offset(text, raws, j - 1)[1]
                        decisive[key] = Hit(e.facet, e.value, e.kind, where, start, end)
            pending[raw] = tuple(left)


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _token_offset(text: str, raws: list[str], i: int) -> tuple[int, int]:
    """Character span of the ``i``-th word (``\\w+`` run) of ``text``, whose words are ``raws``.

    The word is the (m+1)-th whole-word occurrence of ``raws[i]``, m being how often it occurs before ``i``.
    """
    raw = raws[i]
    m = raws[:i].count(raw)
    pos = 0
    size = len(raw)
    while True:
        p = text.find(raw, pos)
        if p < 0:  # cannot happen: raws are the words of text
            raise ValueError(f"word {raw!r} not found")
        q = p + size
        if (p == 0 or not _is_word_char(text[p - 1])) and (q == len(text) or not _is_word_char(text[q])):
            if m == 0:
                return p, q
            m -= 1
            pos = q
        else:
            pos = p + 1


def sentence_around(text: str, start: int, end: int, *, limit: int = 220) -> str:
    """The sentence of ``text`` that holds ``text[start:end]``, trimmed around it to ``limit`` characters."""
    lo = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        lo = m.end()
    m = _SENTENCE_END.search(text, end)
    hi = m.start() + 1 if m else len(text)
    sentence = text[lo:hi].strip()
    if len(sentence) <= limit:
        return sentence
    offset = start - lo - (len(text[lo:hi]) - len(text[lo:hi].lstrip()))
    a = max(0, offset - limit // 3)
    b = min(len(sentence), a + limit)
    return ("…" if a > 0 else "") + sentence[a:b].strip() + ("…" if b < len(sentence) else "")


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The lexicon shipped with the package (``rlmllm_graph/data/lexicon.json``)."""
    text = resources.files("rlmllm_graph").joinpath("data", "lexicon.json").read_text(encoding="utf-8")
    return Lexicon(json.loads(text))
