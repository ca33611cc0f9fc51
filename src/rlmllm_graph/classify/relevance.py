"""The relevance gate: ``core`` needs evidence of RL applied to a (multimodal) language model.

The learned model picks a paper's relevance from how its words resemble the labelled papers. That alone calls
near misses ``core``: a vision-language model that says it uses *no* reinforcement learning, a robot trained
with RL from camera images, "reinforced concrete". The gate states what ``core`` means in the label vocabulary
(RL for reasoning in multimodal LLMs) as evidence the title and abstract must hold, and lets the model choose
only among the values that evidence allows. It looks for:

- **RL**: a reinforcement-learning or preference-optimisation term (reinforcement learning, RL, PPO, reward,
  policy optimisation, self-play…), not negated in its sentence ("without RL", "we do not use reinforcement
  learning", "instead of RL", "RL-free", "training-free"), not in a paper whose title says training-free, and
  not a non-ML
  "reinforced" (reinforced concrete, fibre-reinforced polymer).
- **A language model**: a term naming one (LLM, MLLM, VLM, LVLM, LMM, language model, multimodal model,
  vision-language model, VLA, a family such as Qwen-VL, LLaVA, InternVL, GPT, Gemini) or a size in billions of
  parameters ("7B"). The RL vocabulary of the LLM era (GRPO, DPO, RLHF, RLVR, reinforcement fine-tuning,
  "incentivizing", R1-style names) counts as RL *and* a language model; a generative model of images or video
  (diffusion model, text-to-image: RL for generation belongs to the field) as a model *and* a modality.
- **A reasoning cue** (reasoning, chain-of-thought, thinking): what language models are trained with RL for.
- **A modality**: a multimodal model term or a medium (image, video, audio, visual, GUI, 3D, chart…).

| the title and abstract have | relevance may be |
|---|---|
| RL, a language model and a modality | anything (the model decides; ``core`` included) |
| RL and a language model, no modality | ``related`` or ``other`` (text-only RL for LLMs) |
| RL and a reasoning cue, no language model | ``related`` or ``other`` |
| RL, neither a language model nor a reasoning cue | ``other`` (robot control, games, recommendation) |
| no (un-negated) RL | ``related`` or ``other`` (multimodal models without RL) |

A paper known by its title alone needs only RL and a modality for ``core`` (titles rarely name the model;
the missing abstract is no evidence), and is never forced to ``other``.

Within what is allowed the model's most probable value wins, its probability renormalised over the allowed
values as confidence. A value the gate changed has source ``rules`` and an evidence line saying why
(``not core: RL negated: "…we use no reinforcement learning…"``); a ``core`` it confirms keeps source
``model``, with the sentence where RL meets a language model as evidence. The gate never makes a paper core.

The terms are data: the ``relevance_gate`` section of ``rlmllm_graph/data/lexicon.json``.

>>> gate = load_gate()
>>> gate.allowed("Cats", "We fine-tune a vision-language model with GRPO for chart reasoning.").values
('core', 'related', 'other')
>>> gate.allowed("Dogs", "A vision-language model trained without reinforcement learning.").values
('related', 'other')
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import TYPE_CHECKING, Any

from ..errors import BadInput
from .lexicon import _sentence_ends, _token_offset, load_lexicon, normalise_token, sentence_around, words_of

if TYPE_CHECKING:
    import numpy as np

    from .predict import Prediction

__all__ = ["Allowed", "RelevanceGate", "gate_predictions", "load_gate"]

RELEVANCE = ("core", "related", "other")
#: term classes the gate looks for
CLASSES = ("rl", "llm_rl", "generative_model", "language_model", "reasoning", "modality")
#: classes a mention also counts for: an RL term of the LLM era (GRPO, DPO, RLVR, R1...) implies a language
#: model; a generative model of images or video (the field's RL for generation) is a model and a modality
_IMPLIES = {"llm_rl": ("rl", "language_model"), "generative_model": ("language_model", "modality")}


@dataclass(frozen=True)
class Allowed:
    """The relevance values a paper's text allows, and why."""

    values: tuple[str, ...]
    #: why core is not allowed ("" when it is)
    reason: str
    #: the sentence that shows it (RL meeting a language model for core; the negation, or the RL mention, else)
    sentence: str


#: a mention's place: (field, index of its first word, index after its last word) in that field's text
_Place = tuple[str, int, int]
#: memoised words kept at most
_MEMO_LIMIT = 200_000


class _Terms:
    """Every class's phrases: exact token sequences, one-token prefixes (``qwen*``) and suffixes (``*vl``, for
    longer words), and a pattern for whole words (model sizes). Which phrases a word can start is memoised, so
    a text costs one dictionary look-up per word."""

    def __init__(self, classes: Mapping[str, Sequence[str]], patterns: Mapping[str, re.Pattern[str]]) -> None:
        self.exact: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self.prefix: list[tuple[str, str]] = []
        self.suffix: list[tuple[str, str]] = []
        self.patterns = patterns
        self._memo: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._norm: dict[str, str] = {}  # raw word -> normalised word
        self._triggers: set[str] = set()  # normalised words that may start a phrase
        for c, phrases in classes.items():
            for phrase in phrases:
                toks = tuple(t if "*" in t else normalise_token(t) for t in re.findall(r"[\w*]+", phrase.lower()))
                if not toks:
                    raise BadInput(f"relevance gate: empty phrase in {c!r}")
                if len(toks) == 1 and toks[0].endswith("*"):
                    self.prefix.append((toks[0][:-1], c))
                elif len(toks) == 1 and toks[0].startswith("*"):
                    self.suffix.append((toks[0][1:], c))
                elif any("*" in t for t in toks):
                    raise BadInput(f"relevance gate: wildcards only in one-word phrases ({phrase!r})")
                else:
                    self.exact.setdefault(toks[0], []).append((c, toks))

    def words(self, raws: Sequence[str]) -> tuple[list[str], list[int]]:
        """The normalised words of a text's words ``raws``, and the indices of those that may start a phrase."""
        if len(self._norm) > _MEMO_LIMIT:
            self._norm, self._triggers = {}, set()
        norm, triggers = self._norm, self._triggers
        for r in set(raws).difference(norm):
            tok = norm[r] = normalise_token(r)
            if self.starting(tok):
                triggers.add(tok)
        toks = list(map(norm.__getitem__, raws))
        return toks, list(compress(range(len(toks)), map(triggers.__contains__, toks)))

    def starting(self, tok: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(class, phrase) pairs that may start with the word ``tok``."""
        found = self._memo.get(tok)
        if found is None:
            c = list(self.exact.get(tok, ()))
            c += [(cls, (tok,)) for stem, cls in self.prefix if tok.startswith(stem) and len(tok) > len(stem)]
            c += [(cls, (tok,)) for stem, cls in self.suffix if tok.endswith(stem) and len(tok) > len(stem)]
            c += [(cls, (tok,)) for cls, pat in self.patterns.items() if pat.fullmatch(tok)]
            found = tuple(c)
            if len(self._memo) > _MEMO_LIMIT:
                self._memo = {}
            self._memo[tok] = found
        return found


@dataclass
class _Found:
    """What the gate found in one paper: per class, where its first un-negated mention is."""

    first: dict[str, _Place]
    negated_rl: _Place | None  # the first negated RL mention
    both: _Place | None  # the first sentence holding both RL and a language model (the abstract's first)
    no_training: bool  # the title calls the paper training-free


class RelevanceGate:
    """The gate compiled from its spec (the ``relevance_gate`` section of the lexicon)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        missing = [c for c in CLASSES if not isinstance(spec.get(c), list)]
        if missing:
            raise BadInput(f"relevance gate: no {missing[0]!r} terms")
        size = re.compile(str(spec["model_size"])) if spec.get("model_size") else None
        self.terms = _Terms({**{c: spec[c] for c in CLASSES}, "no_training": spec.get("no_training", [])},
                            {"language_model": size} if size else {})
        norm = lambda words: frozenset(normalise_token(w) for w in words)  # noqa: E731
        self.negation = norm(spec.get("negation", ()))
        self.negation_phrases = [tuple(normalise_token(t) for t in p.split()) for p in spec.get("negation_phrases", ())]
        self.window = int(spec.get("negation_window", 8))
        self.breakers = norm(spec.get("scope_breakers", ()))
        self.phrase_starts = frozenset(p[0] for p in self.negation_phrases)
        self.cues = self.negation | self.phrase_starts
        self.negated_after = norm(spec.get("negated_after", ()))
        non_ml = spec.get("non_ml_reinforce", {})
        self.reinforce = norm(non_ml.get("words", ()))
        self.material = norm(non_ml.get("materials", ()))

    # -- scanning --------------------------------------------------------------------------------------

    def _negated(self, toks: Sequence[str], i: int, end: int, lo: int) -> bool:
        """Is the mention ``toks[i:end]``, in a sentence starting at word ``lo``, negated? By a cue up to
        ``window`` words before it (with no scope breaker such as "but" or "we" between), a cue phrase
        ("rather than"), or "-free"/"-less" right after it."""
        if end < len(toks) and toks[end] in self.negated_after:
            return True
        start = max(lo, i - self.window)
        if self.cues.isdisjoint(toks[start:i]):
            return False
        for j in range(i - 1, start - 1, -1):
            t = toks[j]
            if t in self.phrase_starts and any(tuple(toks[j:j + len(p)]) == p for p in self.negation_phrases):
                return True
            if t in self.breakers:
                return False
            if t in self.negation:
                return True
        return False

    def _non_ml(self, toks: Sequence[str], i: int) -> bool:
        """A "reinforce(d/ing)" about materials: a material word right before or up to two words after it."""
        if toks[i] not in self.reinforce:
            return False
        near = toks[max(0, i - 1):i] + toks[i + 1:i + 3]
        return not self.material.isdisjoint(near)

    def find(self, title: str | None, abstract: str | None) -> _Found:
        first: dict[str, _Place] = {}
        negated_rl: _Place | None = None
        both: _Place | None = None
        no_training = False
        for field, text in (("title", title), ("abstract", abstract)):
            if not text:
                continue
            raws = words_of(text)
            toks, positions = self.terms.words(raws)
            if not positions:
                continue
            ends: list[int] | None = None  # where each sentence ends (its last word + 1), when needed
            rl_at: list[int] = []  # un-negated RL mentions, and language-model mentions, by first word
            lm_at: list[int] = []
            # "training-free": in the title, the paper applies no RL; in the abstract, the sentence says so
            free = {i for i in positions if any(c == "no_training" and tuple(toks[i:i + len(p)]) == p
                                               for c, p in self.terms.starting(toks[i]))}
            if free and field == "title":
                no_training = True
            elif free:
                ends = _sentence_ends(text)
                free = {bisect_right(ends, i) for i in free}
            for i in positions:
                for c, phrase in self.terms.starting(toks[i]):
                    k = len(phrase)
                    if (c == "no_training" or (k > 1 and tuple(toks[i:i + k]) != phrase)
                            or (c == "rl" and self._non_ml(toks, i))):
                        continue
                    place = (field, i, i + k)
                    negated = self._negated(toks, i, i + k, 0)
                    if negated or (free and c in ("rl", "llm_rl")):  # is the cue in this sentence?
                        if ends is None:
                            ends = _sentence_ends(text)
                        si = bisect_right(ends, i)
                        negated = (negated and self._negated(toks, i, i + k, ends[si - 1] if si else 0)) or si in free
                    if negated:
                        if c in ("rl", "llm_rl") and negated_rl is None:
                            negated_rl = place
                        continue
                    for name in _IMPLIES.get(c, (c,)):
                        first.setdefault(name, place)
                        if name == "rl":
                            rl_at.append(i)
                        elif name == "language_model":
                            lm_at.append(i)
            if (both is None or field == "abstract") and rl_at and lm_at:  # the first sentence naming both
                # (the abstract's, when it has one: the title is shown beside the evidence anyway)
                if ends is None:
                    ends = _sentence_ends(text)
                rl_in = {bisect_right(ends, i) for i in rl_at}
                lm_first = [i for i in lm_at if bisect_right(ends, i) in rl_in]
                if lm_first:
                    i = min(lm_first)
                    both = (field, i, i + 1)
        return _Found(first, negated_rl, both, no_training)

    # -- deciding --------------------------------------------------------------------------------------

    def allowed(self, title: str | None, abstract: str | None) -> Allowed:
        """The relevance values the text of a paper allows (see the module docstring)."""
        f = self.find(title, abstract)

        def shown(place: _Place | None) -> str:
            if place is None:
                return ""
            field, i, j = place
            if field == "title":
                return f"title: {(title or '').strip()}"
            text = abstract or ""
            raws = words_of(text)
            return sentence_around(text, _token_offset(text, raws, i)[0], _token_offset(text, raws, j - 1)[1])

        rl = "rl" in f.first and not f.no_training
        lm = "language_model" in f.first
        if not rl:
            if f.no_training:
                return Allowed(("related", "other"), "training-free", f"title: {(title or '').strip()}")
            if f.negated_rl:
                return Allowed(("related", "other"), "RL negated", shown(f.negated_rl))
            return Allowed(("related", "other"), "no RL or preference-optimisation term", "")
        if not abstract:  # a title rarely names the model: RL and a modality suffice
            if "modality" not in f.first:
                return Allowed(("related", "other"), "RL without a modality in the title", shown(f.first["rl"]))
            return Allowed(RELEVANCE, "", shown(f.first["rl"]))
        if not lm and "reasoning" not in f.first:
            return Allowed(("other",), "RL without a language model", shown(f.first["rl"]))
        if not lm:
            return Allowed(("related", "other"), "RL without a named language model", shown(f.first["rl"]))
        if "modality" not in f.first:
            return Allowed(("related", "other"), "RL for a text-only language model", shown(f.both or f.first["rl"]))
        return Allowed(RELEVANCE, "", shown(f.both or f.first["rl"]))


@lru_cache(maxsize=1)
def load_gate() -> RelevanceGate:
    """The gate of the package's lexicon (its ``relevance_gate`` section)."""
    spec = load_lexicon().spec.get("relevance_gate")
    if not isinstance(spec, Mapping):
        raise BadInput("lexicon: no relevance_gate section")
    return RelevanceGate(spec)


def gate_predictions(predictions: Sequence[Prediction], papers: Sequence[tuple[str, str | None, str | None]],
                     R: np.ndarray, classes: Sequence[str], *, title_only_factor: float) -> None:
    """Apply the gate in place to the ``relevance`` of each prediction, whose learned probabilities over
    ``classes`` are the rows of ``R``. A relevance given by a rule (a survey) is left alone."""
    gate = load_gate()
    index = {c: i for i, c in enumerate(classes)}
    for row, (pred, (_, title, abstract)) in enumerate(zip(predictions, papers)):
        values = pred.labels["relevance"]
        if len(values) != 1 or pred.source["relevance"].get(values[0]) != "model":
            continue
        value = values[0]
        if value == "other":
            continue  # the gate only ever narrows towards "other": nothing to check
        allowed = gate.allowed(title, abstract)
        if value == "core" and "core" in allowed.values:
            if allowed.sentence:
                pred.evidence["relevance"]["core"] = allowed.sentence
            continue
        if value in allowed.values:
            continue
        probs = {v: float(R[row, index[v]]) for v in allowed.values if v in index}
        total = sum(probs.values())
        new = max(probs, key=probs.__getitem__) if probs else allowed.values[0]
        conf = probs.get(new, 0.0) / total if total > 0 else 1.0
        factor = 1.0 if abstract else title_only_factor
        why = f"not {value}: {allowed.reason}"
        pred.labels["relevance"] = [new]
        pred.confidence["relevance"] = {new: round(min(1.0, conf) * factor, 3)}
        pred.source["relevance"] = {new: "rules"}
        pred.evidence["relevance"] = {new: f'{why}: "{allowed.sentence}"' if allowed.sentence else why}
