"""The rules layer: a lexicon per facet value, kept as data in ``rlmllm_graph/data/lexicon.json``.

Texts are read as lower-cased word tokens (a trailing plural ``s`` dropped, ``++``
read as ``pp``). The passes over every word run in C (splitting, a memoised
word -> normalised-word map, picking the words that start some phrase); Python
then visits only those words, checks longer phrases only when the next word
fits, and splits the text into sentences only when a negation cue or an
``ignore_after`` word is near a mention. Scanning an abstract takes a few tens
of microseconds; ``tests/test_classify.py`` checks it against the plain
word-by-word scan.

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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import accumulate, compress
from typing import Any

from ..errors import BadInput
from .vocabulary import FACETS

__all__ = ["Hit", "Lexicon", "Scan", "load_lexicon", "normalise_token", "sentence_around", "words_of"]

_TOKEN = re.compile(r"\w+")
#: where a sentence ends (for negation cues and "ignore_after"): . ! ? ; before white space, or a line break
_SENTENCE_SPLIT = re.compile(r"[.!?;](?=\s)|\n")
_SENTENCE_END = re.compile(r"[.!?;]\s|\n")
_LAST_SENTENCE_END = re.compile(r"(?s:.*)(?:[.!?;]\s|\n)")
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


#: how a word starts phrases: (one-word entries, longer entries by their second word, rank of each entry)
_Trigger = tuple[tuple[_Entry, ...], dict[str, tuple[_Entry, ...]], dict[_Entry, int]]


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
        #: memoised words, swapped as one pair so that threads sharing the lexicon see them consistently:
        #: raw token -> normalised token, and raw token -> the entries that start with it (one-word entries,
        #: longer entries by their second word, each entry's rank in the lexicon's order)
        self._words: tuple[dict[str, str], dict[str, _Trigger]] = ({}, {})
        #: for :meth:`all_hits`, per set of facets: the raw words seen, and those that start a deciding phrase
        self._facet_words: dict[frozenset[str], tuple[set[str], dict[str, Any]]] = {}
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

    def all_hits(self, text: str, facets: Collection[str]) -> list[Hit]:
        """Every deciding mention (an ``explicit`` phrase) of a value of ``facets`` in a long text, in order,
        with the same negation and ignore rules as :meth:`scan` (``field`` is ``"abstract"``; offsets are
        character offsets in ``text``). :meth:`scan` keeps the first mention of each value only; this is for
        full text, read sentence by sentence afterwards. Where phrases overlap, the longest wins ("REINFORCE
        leave-one-out" is RLOO, not also REINFORCE)."""
        if "++" in text:
            text = text.replace("++", "pp")
        raws = words_of(text)
        n = len(raws)
        if not n:
            return []
        toks, triggers = self._normalised(raws)
        key = frozenset(facets)
        seen, table = self._facet_words.setdefault(key, (set(), {}))
        if len(seen) > _MEMO_LIMIT:
            seen.clear()  # the table stays right (it depends on the lexicon only); only the memory is bounded
        new = set(raws).difference(seen)
        if new:
            for r in new:  # the deciding entries of these facets that each new word starts
                t = triggers.get(r)
                if t is None:
                    continue
                singles = tuple(e for e in t[0] if e.facet in key and e.kind == DECIDES)
                longer = {w: es for w, es in ((w, tuple(e for e in es if e.facet in key and e.kind == DECIDES))
                                              for w, es in t[1].items()) if es}
                if singles or longer:
                    table[r] = (singles, longer)
            seen |= new
        positions = list(compress(range(n), map(table.__contains__, raws)))
        found: list[tuple[int, int, _Entry]] = []
        ends: list[int] | None = None
        negation, window, ignore_after = self.negation, self.window, self.ignore_after
        covered = 0  # a word inside a phrase already found starts nothing ("REINFORCE leave-one-out" is RLOO only)
        for i in positions:
            if i < covered:
                continue
            singles, longer = table[raws[i]]
            cands = list(singles)
            if longer and i + 1 < n:
                cands += [e for e in longer.get(toks[i + 1], ()) if tuple(toks[i + 2:i + len(e.tokens)]) == e.tokens[2:]]
            if not cands:
                continue
            longest = max(len(e.tokens) for e in cands)
            if longest > 1:
                cands = [e for e in cands if len(e.tokens) == longest]
            if not negation.isdisjoint(toks[max(0, i - window):i]):
                if ends is None:
                    ends = _sentence_ends(text)
                si = bisect_right(ends, i)
                lo = ends[si - 1] if si else 0
                if not negation.isdisjoint(toks[max(lo, i - window):i]):
                    continue
            for e in cands:
                j = i + len(e.tokens)
                if i > 0 and toks[i - 1] in e.ignore_before:
                    continue
                if j < n and toks[j] in ignore_after:
                    if ends is None:
                        ends = _sentence_ends(text)
                    if j < ends[bisect_right(ends, i)]:
                        continue
                found.append((i, j, e))
                covered = max(covered, j)
        if not found:
            return []
        at = _word_offsets(text, raws, sorted({i for i, _, _ in found} | {j - 1 for _, j, _ in found}))
        return [Hit(e.facet, e.value, e.kind, "abstract", at[i][0], at[j - 1][1]) for i, j, e in found]

    def _normalised(self, raws: list[str]) -> tuple[list[str], dict[str, _Trigger]]:
        """The normalised words of ``raws``, and the memo of the words that start entries (filled for new words)."""
        norm, triggers = self._words
        toks = list(map(norm.get, raws))
        if None in toks:
            if len(norm) > _MEMO_LIMIT:
                self._words = norm, triggers = {}, {}
            for r in set(raws).difference(norm):
                self._lookup(r, norm, triggers)
            toks = list(map(norm.__getitem__, raws))
        return toks, triggers

    def _lookup(self, raw: str, norm: dict[str, str], triggers: dict[str, _Trigger]) -> None:
        """Memoise a raw token's normalised form, and the lexicon entries that start with it if any:
        the one-word entries, and the longer ones by their second word (the entries first: a word
        with a normalised form is a complete memo entry)."""
        tok = normalise_token(raw)
        cands = [e for e in self._candidates(tok) if e.case is None or e.case == raw]
        if cands:
            singles = tuple(e for e in cands if len(e.tokens) == 1)
            longer: dict[str, tuple[_Entry, ...]] = {}
            for e in cands:
                if len(e.tokens) > 1:
                    longer[e.tokens[1]] = longer.get(e.tokens[1], ()) + (e,)
            triggers[raw] = (singles, longer, {e: r for r, e in enumerate(cands)})
        norm[raw] = tok

    def _scan_text(self, text: str, where: str, out: Scan) -> None:
        # The hot path. Everything that touches every word runs in C (byte translation or regex, map,
        # compress); Python only visits the words that start a phrase of the lexicon, and splits the text
        # into sentences only when a negation cue or an "ignore_after" word is near a mention.
        plus = "++" in text
        if plus:
            text = text.replace("++", "pp")
        raws = words_of(text)
        if not plus:
            out.words[where] = raws
        n = len(raws)
        if not n:
            return
        toks, triggers = self._normalised(raws)
        positions = list(compress(range(n), map(triggers.__contains__, raws)))
        if not positions:
            return
        ends: list[int] | None = None  # ends[s]: index after the last word of sentence s (when needed)
        negation, window, ignore_after = self.negation, self.window, self.ignore_after
        features, decisive = out.features, out.decisive
        # an entry that matched once in this text has done all it can (its feature is set, and its label
        # decided by the first mention): later mentions only need the entries that have not matched yet
        pending: dict[str, tuple[_Entry, ...]] = {}  # raw word -> its one-word entries not matched yet
        matched: set[_Entry] = set()  # longer entries matched
        for i in positions:
            raw = raws[i]
            singles, longer, rank = triggers[raw]
            cands = pending.get(raw, singles)
            if longer and i + 1 < n:
                more = longer.get(toks[i + 1])
                if more:
                    more = tuple(e for e in more if e not in matched
                                 and (len(e.tokens) == 2 or tuple(toks[i + 2:i + len(e.tokens)]) == e.tokens[2:]))
                    if more:  # in the lexicon's order: the first deciding entry gives the hit
                        cands = tuple(sorted(cands + more, key=rank.__getitem__)) if cands else more
            if not cands:
                continue
            left: list[_Entry] = []
            negated: bool | None = None
            for e in cands:
                if e.facet == "signal":
                    features.add(e.names[where])
                    if len(e.tokens) > 1:
                        matched.add(e)
                    continue
                k = len(e.tokens)
                if negated is None:
                    negated = False
                    if not negation.isdisjoint(toks[max(0, i - window):i]):  # a cue nearby: in this sentence?
                        if ends is None:
                            ends = _sentence_ends(text)
                        si = bisect_right(ends, i)
                        lo = ends[si - 1] if si else 0
                        negated = not negation.isdisjoint(toks[max(lo, i - window):i])
                j = i + k
                if negated or (i > 0 and toks[i - 1] in e.ignore_before):
                    if k == 1:
                        left.append(e)
                    continue
                if j < n and toks[j] in ignore_after:  # "critic-free": unless the next word is in the next sentence
                    if ends is None:
                        ends = _sentence_ends(text)
                    if j < ends[bisect_right(ends, i)]:
                        if k == 1:
                            left.append(e)
                        continue
                if k > 1:
                    matched.add(e)
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
            if len(left) != len(singles) or raw in pending:
                pending[raw] = tuple(left)


#: ASCII bytes that are not word characters (``\\w``), translated to spaces
_ASCII_NON_WORD = bytes(c if (chr(c).isalnum() or c == ord("_")) else 32 for c in range(256))


def words_of(text: str) -> list[str]:
    """The words of a text: its ``\\w+`` runs, in order (ASCII text takes a faster path to the same list)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    return _TOKEN.findall(text)


def _sentence_ends(text: str) -> list[int]:
    """For each sentence of ``text`` in turn, the index (among its words) one past the sentence's last word."""
    return list(accumulate(len(_TOKEN.findall(piece)) for piece in _SENTENCE_SPLIT.split(text)))


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _word_offsets(text: str, raws: list[str], indices: list[int]) -> dict[int, tuple[int, int]]:
    """Character spans of the words at ``indices`` (ascending) of ``text``, whose words are ``raws``: one pass
    from word to word, skipping the whole-word occurrences of each in between (no pass over every word)."""
    out: dict[int, tuple[int, int]] = {}
    pos, w = 0, 0  # the character after word w-1
    for i in indices:
        raw = raws[i]
        skip = raws[w:i].count(raw)
        size = len(raw)
        while True:
            p = text.find(raw, pos)
            if p < 0:  # cannot happen: raws are the words of text
                raise ValueError(f"word {raw!r} not found")
            q = p + size
            pos = q if (p == 0 or not _is_word_char(text[p - 1])) and (q == len(text) or not _is_word_char(text[q])) \
                else p + 1
            if pos == q:
                if skip == 0:
                    out[i] = (p, q)
                    break
                skip -= 1
        w = i + 1
    return out


def _token_offset(text: str, raws: list[str], i: int) -> tuple[int, int]:
    """Character span of the ``i``-th word (``\\w+`` run) of ``text``, whose words are ``raws``."""
    return _word_offsets(text, raws, [i])[i]


def sentence_around(text: str, start: int, end: int, *, limit: int = 220) -> str:
    """The sentence of ``text`` that holds ``text[start:end]``, trimmed around it to ``limit`` characters."""
    m = _LAST_SENTENCE_END.match(text, 0, start)  # backtracks from ``start`` to the nearest sentence end
    lo = m.end() if m else 0
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
