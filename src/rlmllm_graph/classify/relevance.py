"""The relevance gate: ``core`` needs evidence of RL applied to a (multimodal) language model.

The learned model picks a paper's relevance from how its words resemble the labelled papers. That alone calls
near misses ``core``: a vision-language model that says it uses *no* reinforcement learning, a robot trained
with RL from camera images, "reinforced concrete". The gate states what ``core`` means (DESIGN.md: RL for
reasoning in multimodal LLMs) as evidence the text must hold, and lets the model choose only among the values
that evidence allows:

- **RL**: a reinforcement-learning or preference-optimisation term (reinforcement learning, RL, GRPO, PPO,
  DPO, RLHF, RLVR, policy/preference optimisation, reward, an R1-style name…), not negated in its sentence
  ("without RL", "we do not use reinforcement learning", "RL-free"), not in a paper that calls itself
  training-free, and not a non-ML "reinforced" (reinforced concrete, fibre-reinforced polymer).
- **Language model**: a term naming one (LLM, MLLM, VLM, LVLM, LMM, language model, vision-language model,
  VLA, a model family such as Qwen-VL, LLaVA, InternVL, GPT, Gemini, an R1-style name), or a reasoning cue
  (reasoning, chain-of-thought, thinking: what language models are trained with RL for).
- **Modality**: a multimodal model term or a medium (image, video, audio, visual, GUI, 3D, chart…).

| the text has | relevance may be |
|---|---|
| RL, a language model and a modality | anything the model says (``core`` included) |
| RL and a language model, no modality | ``related`` or ``other`` (text-only RL for LLMs) |
| RL, no language model, no reasoning cue | ``other`` (robot control, games, recommendation) |
| no (un-negated) RL | ``related`` or ``other`` (multimodal models without RL) |

Within what is allowed the model's most probable value wins, with its probability renormalised over the
allowed values as confidence. A value the gate changed has source ``rules`` and an evidence line saying why
(``not core: RL negated: "…we use no reinforcement learning…"``); a ``core`` it confirms keeps source
``model`` with the sentence where RL meets a language model as evidence.

The terms are data: the ``relevance_gate`` section of ``rlmllm_graph/data/lexicon.json``.

>>> gate = load_gate()
>>> gate.allowed("Cats", "We fine-tune a vision-language model with GRPO for chart reasoning.").values
('core', 'related', 'other')
>>> gate.allowed("Dogs", "A vision-language model trained without reinforcement learning.").values
('related', 'other')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import BadInput
from .lexicon import load_lexicon, normalise_token, sentence_around

__all__ = ["Allowed", "RelevanceGate", "gate_predictions", "load_gate"]

RELEVANCE = ("core", "related", "other")
_TOKEN = re.compile(r"\w+")
#: a sentence: up to a . ! ? or ; before white space (or the end), or a line break
_SENTENCE = re.compile(r"(?:[^.!?;\n]|[.!?;](?!\s|$))+[.!?;]?")
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


class _Phrases:
    """Phrases of one term class: exact token sequences, one-token prefixes (``qwen*``), suffixes (``*vl``)."""

    def __init__(self, phrases: Sequence[str]) -> None:
        self.exact: dict[str, list[tuple[str, ...]]] = {}
        self.prefix: list[str] = []
        self.suffix: list[str] = []
        for phrase in phrases:
            toks = tuple(t if "*" in t else normalise_token(t) for t in re.findall(r"[\w*]+", phrase.lower()))
            if not toks:
                raise BadInput("relevance gate: empty phrase")
            if len(toks) == 1 and toks[0].endswith("*"):
                self.prefix.append(toks[0][:-1])
            elif len(toks) == 1 and toks[0].startswith("*"):
                self.suffix.append(toks[0][1:])
            elif any("*" in t for t in toks):
                raise BadInput(f"relevance gate: wildcards only in one-word phrases ({phrase!r})")
            else:
                self.exact.setdefault(toks[0], []).append(toks)

    def match(self, toks: Sequence[str], i: int) -> int:
        """Length of the phrase starting at ``toks[i]`` (0: none)."""
        t = toks[i]
        best = 0
        for p in self.exact.get(t, ()):
            if tuple(toks[i:i + len(p)]) == p:
                best = max(best, len(p))
        if not best and (any(t.startswith(s) and len(t) > len(s) for s in self.prefix)
                         or any(t.endswith(s) and len(t) > len(s) for s in self.suffix)):
            best = 1
        return best


@dataclass
class _Found:
    """What the gate found in one paper: per class, the first un-negated mention's sentence."""

    first: dict[str, str]
    negated_rl: str  # the first sentence with a negated RL mention ("" when none)
    both: str  # the first sentence holding both RL and a language model ("" when none)
    no_training: bool


class RelevanceGate:
    """The gate compiled from its spec (the ``relevance_gate`` section of the lexicon)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        try:
            self.classes = {c: _Phrases(spec[c]) for c in CLASSES}
        except KeyError as e:
            raise BadInput(f"relevance gate: no {e.args[0]!r} terms") from None
        self.model_size = re.compile(str(spec.get("model_size") or r"(?!)"))
        norm = lambda words: frozenset(normalise_token(w) for w in words)  # noqa: E731
        self.negation = norm(spec.get("negation", ()))
        self.negation_phrases = [tuple(normalise_token(t) for t in p.split()) for p in spec.get("negation_phrases", ())]
        self.window = int(spec.get("negation_window", 8))
        self.breakers = norm(spec.get("scope_breakers", ()))
        self.negated_after = norm(spec.get("negated_after", ()))
        self.no_training = _Phrases(spec.get("no_training", ()) or ["\x00"])
        non_ml = spec.get("non_ml_reinforce", {})
        self.reinforce = norm(non_ml.get("words", ()))
        self.material = norm(non_ml.get("materials", ()))

    # -- scanning --------------------------------------------------------------------------------------

    def _negated(self, toks: Sequence[str], i: int, end: int) -> bool:
        """Is the mention ``toks[i:end]`` negated in its sentence? A cue up to ``window`` words before it (with
        no scope breaker such as "but" or "instead" between), a cue phrase ("rather than"), or "-free"/"-less"
        right after it."""
        if end < len(toks) and toks[end] in self.negated_after:
            return True
        for j in range(i - 1, max(0, i - self.window) - 1, -1):
            if any(tuple(toks[j:j + len(p)]) == p for p in self.negation_phrases):
                return True
            if toks[j] in self.breakers:
                return False
            if toks[j] in self.negation:
                return True
        return False

    def _non_ml(self, toks: Sequence[str], i: int) -> bool:
        """A "reinforce(d/ing)" about materials: a material word right before or up to two words after it."""
        if toks[i] not in self.reinforce:
            return False
        near = toks[max(0, i - 1):i] + toks[i + 1:i + 3]
        return not self.material.isdisjoint(near)

    def find(self, title: str | None, abstract: str | None) -> _Found:
        first: dict[str, str] = {}
        negated_rl = both = ""
        no_training = False
        for field, text in (("title", title), ("abstract", abstract)):
            if not text:
                continue
            for m in _SENTENCE.finditer(text):
                sentence = m.group()
                toks = [normalise_token(w) for w in _TOKEN.findall(sentence)]
                if not toks:
                    continue
                here: set[str] = set()
                for i in range(len(toks)):
                    if self.no_training.match(toks, i) and not self._negated(toks, i, i + 1):
                        no_training = True
                    for c, phrases in self.classes.items():
                        k = phrases.match(toks, i)
                        if not k and c == "language_model" and self.model_size.fullmatch(toks[i]):
                            k = 1
                        if not k or (c == "rl" and self._non_ml(toks, i)):
                            continue
                        if self._negated(toks, i, i + k):
                            if c in ("rl", "llm_rl") and not negated_rl:
                                negated_rl = _shown(field, text, m.start(), m.end())
                            continue
                        for name in _IMPLIES.get(c, (c,)):
                            here.add(name)
                            first.setdefault(name, _shown(field, text, m.start(), m.end()))
                if not both and {"rl", "language_model"} <= here:
                    both = _shown(field, text, m.start(), m.end())
        return _Found(first, negated_rl, both, no_training)

    # -- deciding --------------------------------------------------------------------------------------

    def allowed(self, title: str | None, abstract: str | None) -> Allowed:
        """The relevance values the text of a paper allows (see the module docstring)."""
        f = self.find(title, abstract)
        rl = "rl" in f.first and not f.no_training
        lm = "language_model" in f.first
        if not rl:
            if f.no_training and "rl" in f.first:
                return Allowed(("related", "other"), "training-free", f.first["rl"])
            if f.negated_rl:
                return Allowed(("related", "other"), "RL negated", f.negated_rl)
            return Allowed(("related", "other"), "no RL or preference-optimisation term", "")
        if not abstract:  # a title rarely names the model: RL and a modality suffice
            if "modality" not in f.first:
                return Allowed(("related", "other"), "RL without a modality in the title", f.first["rl"])
            return Allowed(RELEVANCE, "", f.first["rl"])
        if not lm and "reasoning" not in f.first:
            return Allowed(("other",), "RL without a language model", f.first["rl"])
        if not lm:
            return Allowed(("related", "other"), "RL without a named language model", f.first["rl"])
        if "modality" not in f.first:
            return Allowed(("related", "other"), "RL for a text-only language model", f.both or f.first["rl"])
        return Allowed(RELEVANCE, "", f.both or f.first["rl"])

def _shown(field: str, text: str, start: int, end: int) -> str:
    if field == "title":
        return f"title: {text.strip()}"
    return sentence_around(text, start, max(start, end - 1))


@lru_cache(maxsize=1)
def load_gate() -> RelevanceGate:
    """The gate of the package's lexicon (its ``relevance_gate`` section)."""
    spec = load_lexicon().spec.get("relevance_gate")
    if not isinstance(spec, Mapping):
        raise BadInput("lexicon: no relevance_gate section")
    return RelevanceGate(spec)


def gate_predictions(predictions: Sequence[Any], papers: Sequence[tuple[str, str | None, str | None]],
                     R: Any, classes: Sequence[str], *, title_only_factor: float) -> None:
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
