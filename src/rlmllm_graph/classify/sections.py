"""Reading a paper's sections: what it *used* against what it only *mentions*.

A paper's introduction, related work and baselines name many algorithms; its
method section names the one it trains with. Two layers of evidence decide:

- **The section's role**, from its title (:func:`section_role`): a method,
  approach, training, implementation or set-up section (also in an appendix)
  says what the paper *used*; an introduction, related work, background,
  preliminaries, baselines, comparison or discussion only *mentions*; results,
  experiments, analysis and titles that name no role are *weaker*. A section
  with an unknown title (``3 Seg-Zero``) that comes before the experiments is
  read as the method: papers often title their method after themselves.
- **The sentence**, which can flip the role of its section: a first-person use
  ("we optimise the policy with RLOO", "we adopt GRPO", "our GRPO-trained
  model") is a use wherever it stands; a contrast ("unlike GRPO", "in contrast
  to PPO", "compared with a PPO baseline", "outperforms DPO"), an attribution
  to others ("DeepSeek-R1's GRPO inspired …", "prior work trains with PPO",
  "they use …") or a baseline trained "for a controlled comparison" is a
  mention wherever it stands. "We do not use a value model",
  "without a critic" and their kin say the paper is value-free; "a cold-start
  SFT stage before RL" says ``sft+rl``; "RL directly on the base model without
  any SFT" says ``rl``.

:func:`section_evidence` turns sections into :class:`Evidence` (one per
facet value and sentence); :func:`refine` folds it into a :class:`Prediction`
made from title and abstract, for the facets a method section decides:
``algorithm``, ``reward``, ``strategy`` and ``paradigm`` (derived from what is
used: GRPO, RLOO, REINFORCE, DPO, OPMD are value-free; PPO with its learned critic
is value-based). The order of evidence is: what the full text says was used (a
stated use anywhere, or a plain mention in a method section), then the title and abstract (minus what the abstract only mentions), then weaker
full-text evidence (results, experiments); the learned model's guesses from the
abstract are dropped for a paper with full text unless ``keep_model`` (where no
text states a facet, the label is absent). Relevance, modality and application
stay with the title and abstract classifier.

>>> section_role("3.2 Group Relative Policy Optimization")
'used'
>>> section_role("2 Related Work"), section_role("B Implementation Details"), section_role("5 Results")
('mentions', 'used', 'results')
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .lexicon import Hit, Lexicon
from .predict import Prediction
from .vocabulary import FACETS, VALUE_FREE_ALGORITHMS

__all__ = [
    "Evidence",
    "best_by_value",
    "SECTION_FACETS",
    "clean_sections",
    "derive_paradigm",
    "refine",
    "section_evidence",
    "section_role",
    "sentence_status",
    "sentence_spans",
    "split_sentences",
    "text_evidence",
]

#: the facets decided from full text
SECTION_FACETS = ("algorithm", "paradigm", "reward", "strategy")

# roles of a section
USED, MENTIONS, RESULTS, UNKNOWN = "used", "mentions", "results", "unknown"

#: evidence strengths (higher wins): a stated use; a method section; a results or unknown section; a mention
CUE, ROLE, WEAK, MENTION = 3, 2, 1, 0
CONFIDENCE = {CUE: 0.95, ROLE: 0.9, WEAK: 0.6}

_NUMBERING = re.compile(r"^\s*(?:(?:appendix|app\.?)\s*)?(?:(?:[A-Z]|[IVX]+|\d+)(?:\.\d+)*[.:)]?\s+|(?:[A-Z]|\d+)(?:\.\d+)+\s*)")
_APPENDIX = re.compile(r"^\s*(?:appendix|supplementary|app\.)\b|^\s*[A-Z](?:\.\d+)*[.:]?\s+[A-Z]", re.I)
_MENTION_TITLE = re.compile(
    r"\b(introduction|related\s+works?|related\s+literature|literature|background|preliminar\w*|prior\s+works?|"
    r"previous\s+works?|baselines?|comparisons?|compared\s+methods|discussions?|conclusions?|limitations?|"
    r"future\s+works?|broader\s+impacts?|acknowledg\w*|references|bibliography|motivation|survey|overview\s+of)\b",
    re.I,
)
_USED_TITLE = re.compile(
    r"\b(methods?|methodology|approach(es)?|proposed|training|train|implementation|set-?ups?|settings?|"
    r"rewards?|reward\s+design|optimi[sz]ation|policy|reinforcement|rl|grpo|ppo|dpo|rloo|algorithms?|recipe|"
    r"pipeline|framework|cold[- ]start|stages?|architecture|objectives?|fine-?tuning|our\s+model|model\s+design|"
    r"hyper-?parameters?)\b",
    re.I,
)
_RESULTS_TITLE = re.compile(
    r"\b(experiments?|experimental\s+results|results?|evaluations?|analys[ie]s|ablations?|case\s+stud(y|ies)|"
    r"benchmarks?|performance|findings|qualitative|quantitative|main\s+results|appendix|supplementary|"
    r"additional|more|examples?|visuali[sz]ations?|prompts?|datasets?|data)\b",
    re.I,
)


def section_role(title: str | None) -> str:
    """``used``, ``mentions``, ``results`` or ``unknown`` from a section's title (numbering and "Appendix" ignored).

    Mentioning titles win over using ones ("Comparison with RL baselines" mentions); a title with a
    using word ("B Training Details", "3.2 Reward Design") is ``used`` even in an appendix.
    """
    if not title or not title.strip():
        return UNKNOWN
    rest = _NUMBERING.sub("", title, count=1)
    if _MENTION_TITLE.search(rest):
        return MENTIONS
    if _USED_TITLE.search(rest):
        return USED
    if _RESULTS_TITLE.search(rest) or _APPENDIX.match(title):
        return RESULTS
    return UNKNOWN


# -- sentences -------------------------------------------------------------------------------------------------

_ABBREVIATIONS = ("e.g", "i.e", "al", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "secs", "tab", "etc", "approx",
                  "resp", "no", "ref", "refs", "appx", "app")
#: a sentence ends at . ! ? before white space and a capital, digit or opening mark (not after an abbreviation or
#: an initial), or at a blank line or a line that starts a list item
_SENTENCE_BREAK = re.compile(
    r"[.!?]" + "".join(rf"(?<!\b{re.escape(a)}\.)" for a in _ABBREVIATIONS) + r"(?<!\b[A-Za-z]\.)"
    + r"\s+(?=[\"'(\[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•\d])",
    re.I,
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a section's text (from its first character after the previous
    sentence's end; not split after "e.g.", "et al.", "vs." and the like)."""
    cuts = [0] + [m.end() for m in _SENTENCE_BREAK.finditer(text)] + [len(text)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if a < b]


def split_sentences(text: str) -> list[str]:
    """Sentences of a section's text (not split after "e.g.", "et al.", "vs." and the like)."""
    return [piece for piece in (text[a:b].strip() for a, b in sentence_spans(text)) if piece]


#: a contrast that makes what follows it (to the end of its clause) a mention
_CONTRAST = re.compile(
    r"\b(?:unlike|in\s+contrast\s+(?:to|with)|contrary\s+to|compared\s+(?:with|to|against)|comparing\s+(?:with|to|against)|"
    r"in\s+comparison\s+(?:with|to)|comparisons?\s+(?:with|to|against)|compare\w*\s+(?:\w+\s+){0,4}?(?:with|to|against)|"
    r"as\s+opposed\s+to|instead\s+of|rather\s+than|versus|vs\.?|than|against|"
    r"(?:improvements?|gains?|advantages?)\s+over|outperform\w*|surpass\w*|beats?|beating|"
    r"differs?\s+from|different\s+from|departs?\s+from|departing\s+from|alternatives?\s+to|"
    r"baselines?\s+(?:such\s+as|like|including)|such\s+baselines)\b",
    re.I,
)
#: words one of which every contrast holds (checked before the regular expression, which is slower)
_CONTRAST_WORDS = ("unlike", "contrast", "contrary", "compar", "opposed", "instead", "rather", "versus", "vs",
                   "than", "against", "over", "outperform", "surpass", "beat", "differ", "depart", "alternative",
                   "baseline")
_CONTRAST_HINT = re.compile("|".join(_CONTRAST_WORDS), re.I)
#: where a contrast's clause ends
_CLAUSE_END = re.compile(r"[,;:]|\b(?:while|whereas|but|however|we)\b", re.I)
_RELATIVE = re.compile(r"\s*(?:which|that|who|where)\b", re.I)
#: a mention followed by "baseline(s)", or "as a baseline"
_BASELINE_AFTER = re.compile(
    r"(?:[\s,/-]+(?!with\b|using\b|via\b|group\b|the\b|a\b|an\b|of\b|for\b|as\b)\w+){0,3}?[\s-]+baselines?\b|"
    r"\s*(?:\(\w+\)\s*)?(?:as|is|are|serves?\s+as|acts?\s+as|used\s+as)\s+(?:a|the|our|an|two|strong)?\s*\w*\s*baselines?\b",
    re.I,
)
#: credit to others: the sentence is about other work unless a first-person use governs the mention
_OTHERS = re.compile(
    r"\b(?:inspired|motivated|success(?:es)?\s+of|popularized|popularised|pioneered|introduced\s+(?:by|in)|"
    r"proposed\s+(?:by|in)|recent\s+(?:works?|advances|methods|studies|approaches|efforts)|"
    r"(?:prior|previous|existing|earlier|concurrent|related)\s+(?:works?|methods|studies|approaches|efforts|models)|"
    r"has\s+(?:shown|demonstrated|been\s+shown)|have\s+(?:shown|demonstrated|been\s+shown)|"
    r"they|their\s+(?:methods?|works?|approach(?:es)?|models?|frameworks?|papers?|pipelines?)|"
    r"these\s+(?:methods|works|approaches|models)|et\s+al)\b",
    re.I,
)
_POSSESSIVE = re.compile(r"['’]s\s+(?:\w+[\s-]+){0,2}$")
#: a first-person use before the mention: "we adopt", "we then optimise the policy with", "our ... is trained with"
_USE_VERBS = (
    r"(?:adopt|use|using|employ|apply|appl(?:y|ies|ied)|utili[sz]e|leverage|optimi[sz]e|train|fine-?tune|finetune|"
    r"follow|implement|choose|chose|select|rel(?:y|ies)\s+on|build\s+(?:up)?on|perform|conduct|run|update|"
    r"instantiate|design|propose|introduce|present|extend|modify|develop|incorporate|combine|integrate|opt\s+for|"
    r"compute|define|assign|calculate|estimate|reward|learn|initiali[sz]e|start|begin|proceed|continue|switch|"
    r"obtain|enhance|improve|refine|align|replace\s+\w+\s+with)"
)
_FIRST_PERSON_USE = re.compile(
    r"\b(?:we|our\s+(?:method|approach|model|framework|policy|training|pipeline|agent|system|recipe|setting|setup|"
    r"experiments?|implementation|design))\b(?:\s+\w+){0,2}?\s+" + _USE_VERBS + r"\w*\b",
    re.I,
)
_PASSIVE_BEFORE = re.compile(
    r"\b(?:is|are|was|were|be|been)\s+(?:then\s+|further\s+|first\s+|subsequently\s+|jointly\s+)?"
    r"(?:trained|optimi[sz]ed|fine-?tuned|finetuned|updated|learned|aligned|reinforced|rewarded)\s+"
    r"(?:\w+\s+){0,3}?(?:with|using|via|by|through|under)\b",
    re.I,
)
_PASSIVE_AFTER = re.compile(
    r"[\w\s\-+()]{0,30}?\b(?:is|are|was|were)\s+(?:then\s+)?(?:used|adopted|employed|applied|chosen|utili[sz]ed|"
    r"implemented|selected|leveraged)\b",
    re.I,
)
#: a sentence about a comparison: what "we" train in it is a baseline ("for a controlled comparison we also
#: train the same model with DPO", "to compare, we run PPO"); not "as the baseline", which in RLOO and GRPO is
#: the advantage baseline
_COMPARISON = re.compile(r"\bfor\s+(?:a|an|the)?\s*(?:\w+\s+)?comparison\b|\bto\s+compare\b|\bcomparison\s+purposes?\b",
                         re.I)
#: a part borrowed from an algorithm is not that algorithm ("we add the PPO clipped surrogate", "PPO-clip")
_BORROWED = re.compile(r"[\s-]*(?:clip\w*|surrogate|ratio|trick|loss\s+term|style|like)\b", re.I)
#: a mention that opens a definition: "PPO is an actor-critic algorithm", "GRPO (Shao et al.) requires ..."
_DEFINITION = re.compile(r"\s*(?:\([^)]*\)\s*)?(?:(?:is|was|are)\s+(?:a|an|the)\b|requires|needs|relies|suffers)", re.I)
_OUR_BEFORE = re.compile(r"\bour\s+(?:\w+[\s-]+){0,1}$", re.I)


def _contrast_scopes(sentence: str) -> list[tuple[int, int]]:
    """Character spans of the sentence that a contrast governs: from the cue to the end of its clause
    (a relative clause after a comma, "unlike PPO, which needs a critic, ...", belongs to it)."""
    scopes: list[tuple[int, int]] = []
    if not _CONTRAST_HINT.search(sentence):
        return scopes
    for m in _CONTRAST.finditer(sentence):
        end = len(sentence)
        c = _CLAUSE_END.search(sentence, m.end())
        if c is not None:
            end = c.start()
            if c.group(0) == "," and _RELATIVE.match(sentence, c.end()):
                nxt = _CLAUSE_END.search(sentence, c.end())
                end = nxt.start() if nxt is not None else len(sentence)
        scopes.append((m.start(), end))
    return scopes


def _first_person_use(sentence: str, start: int, passive: bool = True) -> bool:
    """Is the mention at ``start`` the object of a first-person use (or, with ``passive``, of "is trained
    with"), with no contrast in between?"""
    if _OUR_BEFORE.search(sentence, max(0, start - 40), start):
        return True
    last = None
    for m in _FIRST_PERSON_USE.finditer(sentence, max(0, start - 200), start):
        last = m
    if last is None:
        if not passive:
            return False
        p = None
        for m in _PASSIVE_BEFORE.finditer(sentence, max(0, start - 120), start):
            p = m
        if p is None or start - p.end() > 60:
            return False
        between = sentence[p.end():start]
    else:
        between = sentence[last.end():start]
        if len(between) > 120:
            return False
    return not (_CONTRAST.search(between) or re.search(r"[;:]|\bwhile\b|\bwhereas\b", between))


@lru_cache(maxsize=4096)
def _is_comparison(sentence: str) -> bool:
    return _COMPARISON.search(sentence) is not None


@lru_cache(maxsize=4096)
def _about_others(sentence: str) -> bool:
    return _OTHERS.search(sentence) is not None


def sentence_status(sentence: str, start: int, end: int, role: str,
                    scopes: Sequence[tuple[int, int]] | None = None) -> int:
    """How strongly the mention at ``sentence[start:end]`` says the paper used it, given its section's role:
    :data:`CUE` (a stated use), :data:`ROLE` (a method section), :data:`WEAK` or :data:`MENTION`.

    >>> sentence_status("Unlike GRPO, we optimise the policy with RLOO.", 7, 11, "used")
    0
    >>> sentence_status("Unlike GRPO, we optimise the policy with RLOO.", 41, 45, "mentions")
    3
    """
    if scopes is None:
        scopes = _contrast_scopes(sentence)
    if any(a <= start < b for a, b in scopes):
        return MENTION
    if "aseline" in sentence and _BASELINE_AFTER.match(sentence, end):
        return MENTION
    if _POSSESSIVE.search(sentence, max(0, start - 40), start):
        return MENTION
    if _BORROWED.match(sentence, end):
        return MENTION
    others = role == MENTIONS  # in related work, "X has been trained with PPO" is about others
    if _first_person_use(sentence, start, passive=not others) or (not others and _PASSIVE_AFTER.match(sentence, end)):
        return MENTION if _is_comparison(sentence) else CUE
    if _about_others(sentence):
        return MENTION
    status = {USED: ROLE, RESULTS: WEAK, UNKNOWN: WEAK, "abstract": ROLE}.get(role, MENTION)
    if status == ROLE and start < 30 and _DEFINITION.match(sentence, end):
        return WEAK  # "PPO is an actor-critic algorithm that ...": a description, perhaps of what is not used
    return status


def _cue_status(sentence: str, start: int, end: int, role: str,
                scopes: Sequence[tuple[int, int]] | None = None) -> int:
    """:func:`sentence_status` of a phrase cue ("we first fine-tune ... with SFT"), which may hold its own verb."""
    s = sentence_status(sentence, start, end, role, scopes)
    if MENTION < s < CUE and _FIRST_PERSON_USE.search(sentence[:end]) and not _CONTRAST.search(sentence[:start]):
        return CUE
    return s


# -- sentence cues beyond the lexicon --------------------------------------------------------------------------

_NO_CRITIC = re.compile(
    r"\b(?:without|no|not\s+(?:\w+\s+){0,2}?(?:require|need|use|rely\s+on|train|maintain|learn|involve)\w*|no\s+longer|"
    r"eliminat\w+|remov\w+|replac\w+|forgo\w*|forego\w*|dispens\w+\s+with|obviat\w+|avoid\w*|drop\w*|discard\w*|free\s+of|"
    r"get\s+rid\s+of|bypass\w*|need\s+for)\b(?:\s+[\w-]+){0,5}?\s+(?:critic|value\s+(?:model|function|network|head|"
    r"estimator)s?)\b|\b(?:critic|value[- ]model|value[- ]function)[- ]free\b",
    re.I,
)
_NEGATED = re.compile(r"\b(?:without|no|not|never|skip\w*|bypass\w*|eliminat\w+|avoid\w*|instead\s+of|rather\s+than)\b", re.I)
_SFT_FIRST = re.compile(
    r"\b(?:cold[- ]start\w*|warm[- ]?up\s+(?:stage|phase)|"
    r"(?:sft|supervised\s+fine-?tuning|supervised\s+finetuning|supervised\s+(?:stage|phase|training)|"
    r"instruction\s+tuning)\b(?:[^.;]|\.(?=\S)){0,80}?"
    r"\b(?:before|prior\s+to|followed\s+by|then|precedes|preceding|initiali[sz]\w*|comes\s+first)\b|"
    r"(?:first|initial|stage[- ]?(?:1|i|one)|phase[- ]?(?:1|i|one))\b(?:[^.;]|\.(?=\S)){0,60}?\b(?:sft|supervised)\b|"
    r"(?:initiali[sz]\w*|start\w*)\s+(?:\w+\s+){0,4}?from\s+(?:the|an|our)?\s*(?:sft|supervised)|"
    r"(?:sft|supervised)[- ](?:initiali[sz]ed|model|checkpoint|warm)\b(?:[^.;]|\.(?=\S)){0,60}?\b(?:rl|reinforcement|grpo|ppo|rloo|dpo)\b)",
    re.I,
)
_RL_ONLY = re.compile(
    r"\b(?:without\s+(?:any\s+)?(?:\w+\s+)?(?:sft|supervised\s+fine-?tuning|cold[- ]start)|no\s+(?:sft|cold[- ]start|"
    r"supervised\s+fine-?tuning)|directly\s+(?:appl\w+|train\w*|start\w*|optimi[sz]\w*)(?:[^.;]|\.(?=\S)){0,60}?\b(?:base|pretrained|"
    r"pre-trained|instruct\w*|original)\s+model|r1-zero|zero[- ]rl|pure(?:ly)?\s+(?:rl|reinforcement)|rl\s+alone|"
    r"only\s+(?:rl|reinforcement\s+learning)|solely\s+(?:through|with|via|by)\s+(?:rl|reinforcement))",
    re.I,
)
_REWARD_WORDS = re.compile(r"\b(?:reward\w*|verif\w+|judge\w*|rlvr|feedback|scor\w+|preference\w*|supervis\w+)\b", re.I)
#: a reward described as checking the answer against the ground truth (a rule, whatever its name)
_RULE_REWARD = re.compile(
    r"\breward\w*\b(?:[^.;]|\.(?=\S)){0,160}?\b(?:ground[- ]truth|exact(?:ly)?\s+match\w*|match(?:es)?\s+the\s+(?:reference|"
    r"ground|correct|gold)|is\s+correct|correct\s+(?:final\s+)?answers?|verif(?:ied|ier|y)|iou|edit\s+distance|"
    r"unit\s+tests?|test\s+cases?)\b",
    re.I,
)
_NEW_ALGORITHM = re.compile(
    r"\b(?:we|this\s+paper|this\s+work)\s+(?:\w+\s+){0,2}?(?:propose|introduce|present|develop|design)\w*\b"
    r"(?:[^.;]|\.(?=\S)){0,80}?\b(?:policy\s+optimi[sz]ation|policy\s+gradient|rl\s+algorithm|reinforcement\s+learning\s+algorithm)",
    re.I,
)


@dataclass(frozen=True)
class Evidence:
    """One facet value that a sentence of the paper supports, and how strongly (see :func:`sentence_status`)."""

    facet: str
    value: str
    strength: int
    where: str  # the section title, "abstract" or "title"
    sentence: str
    order: int  # position in the paper (sentence count), first evidence first


def clean_sections(sections: Any) -> list[dict[str, str]]:
    """The usable ``{"title", "text"}`` sections of a record (non-mappings and empty texts left out)."""
    if not sections:
        return []
    out = []
    for i, s in enumerate(sections):
        if not isinstance(s, Mapping):
            continue
        text = s.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        title = s.get("title")
        out.append({"title": title.strip() if isinstance(title, str) and title.strip() else f"section {i + 1}",
                    "text": text})
    return out


def _roles(sections: Sequence[Mapping[str, str]]) -> list[str]:
    """Each section's role; an untitled-role section before the first results section (and after the
    introduction) is read as the method."""
    roles = [section_role(s["title"]) for s in sections]
    first_results = next((i for i, r in enumerate(roles) if r == RESULTS), len(roles))
    first_mention = next((i for i, r in enumerate(roles) if r == MENTIONS), -1)
    return [USED if r == UNKNOWN and first_mention < i < first_results else r for i, r in enumerate(roles)]


def _trim(sentence: str, limit: int = 240) -> str:
    s = " ".join(sentence.split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


#: each phrase cue beyond the lexicon, and the words (lower case) one of which it needs: a regular expression
#: runs on a sentence only when one of its words is there
_CUES = (
    (_NO_CRITIC, ("critic", "value")),
    (_SFT_FIRST, ("cold", "warm", "sft", "supervis", "instruction")),
    (_RL_ONLY, ("sft", "cold", "supervis", "directly", "zero", "pure", "alone", "only", "solely")),
    (_RULE_REWARD, ("reward",)),
    (_NEW_ALGORITHM, ("policy optimi", "policy gradient", "algorithm")),
)
_ANY_CUE = re.compile("|".join(sorted({re.escape(w) for _, words in _CUES for w in words})))




def _wanted_cues(low: str) -> list[bool]:
    """For each phrase cue of :data:`_CUES`, whether the (lower-cased) sentence holds one of its words."""
    present = set(_ANY_CUE.findall(low))
    return [not present.isdisjoint(words) for _, words in _CUES]


def text_evidence(lexicon: Lexicon, text: str, where: str, role: str, order: int = 0,
                  settled: set[tuple[str, str]] | None = None) -> list[Evidence]:
    """Evidence from one text (a section's, or the abstract with ``role="abstract"``).

    The lexicon and the phrase cues each read the whole text once; only the sentences where they found
    something are then read one by one. ``settled``: the values that already have a stated use (:data:`CUE`),
    whose further mentions cannot change anything and are not read (updated as uses are found).
    """
    hits = lexicon.all_hits(text, SECTION_FACETS)
    if settled:
        hits = [h for h in hits if (h.facet, h.value) not in settled]
    low = text.lower()
    cues = _ANY_CUE.search(low) is not None
    if not hits and not cues:
        return []
    spans = sentence_spans(text)
    starts = [a for a, _ in spans]
    by_sentence: dict[int, dict[tuple[str, str], Hit]] = {}
    for h in hits:
        k = max(0, bisect_right(starts, h.start) - 1)
        by_sentence.setdefault(k, {}).setdefault((h.facet, h.value), h)
    if cues:  # sentences that may hold a phrase cue (a word each cue needs), though no lexicon phrase
        for k, (a, b) in enumerate(spans):
            if k not in by_sentence and _ANY_CUE.search(low, a, b):
                by_sentence[k] = {}
    out: list[Evidence] = []
    for k in sorted(by_sentence):
        a, b = spans[k]
        found = {key: Hit(h.facet, h.value, h.kind, h.field, h.start - a, h.end - a)
                 for key, h in by_sentence[k].items() if h.end <= b}
        ev = _sentence_evidence(text[a:b].strip(), found, where, role, order + k)
        if settled is not None:
            settled.update((e.facet, e.value) for e in ev if e.strength == CUE)
        out += ev
    return out


def _sentence_evidence(sentence: str, found: Mapping[tuple[str, str], Hit], where: str, role: str,
                       n: int) -> list[Evidence]:
    out: list[Evidence] = []
    scopes = None
    low = sentence.lower()
    wants = _wanted_cues(low)
    no_critic = _NO_CRITIC.search(sentence) if wants[0] else None
    for (facet, value), hit in found.items():
        if no_critic and (facet, value) == ("paradigm", "value-based"):
            continue
        if facet == "reward" and not _REWARD_WORDS.search(sentence):
            continue
        if scopes is None:
            scopes = _contrast_scopes(sentence)
        out.append(Evidence(facet, value, sentence_status(sentence, hit.start, hit.end, role, scopes), where,
                            sentence, n))

    def cue(facet: str, value: str, m: re.Match[str]) -> None:
        nonlocal scopes
        if scopes is None:
            scopes = _contrast_scopes(sentence)
        out.append(Evidence(facet, value, _cue_status(sentence, m.start(), m.end(), role, scopes), where, sentence, n))

    if ("reward", "rule") not in found and ("reward", "model") not in found and wants[3]:
        m = _RULE_REWARD.search(sentence)
        if m is not None:
            cue("reward", "rule", m)
    if no_critic is not None:
        cue("paradigm", "value-free", no_critic)
    m = _RL_ONLY.search(sentence) if wants[2] else None
    if m is not None:
        cue("strategy", "rl", m)
    elif wants[1]:
        m = _SFT_FIRST.search(sentence)
        if m is not None and not _NEGATED.search(sentence[max(0, m.start() - 60):m.start()]):
            cue("strategy", "sft+rl", m)
    if wants[4] and not any(f == "algorithm" for f, _ in found):
        m = _NEW_ALGORITHM.search(sentence)
        if m is not None:
            if scopes is None:
                scopes = _contrast_scopes(sentence)
            out.append(Evidence("algorithm", "other", sentence_status(sentence, m.start(), m.start(), role, scopes),
                                where, sentence, n))
    return out


def section_evidence(lexicon: Lexicon, sections: Sequence[Mapping[str, str]]) -> list[Evidence]:
    """Evidence from every section of a paper (cleaned with :func:`clean_sections`), in reading order."""
    out: list[Evidence] = []
    order = 0
    settled: set[tuple[str, str]] = set()
    for sec, role in zip(sections, _roles(sections)):
        ev = text_evidence(lexicon, sec["text"], sec["title"], role, order, settled)
        out += ev
        order += 10_000
    return out


def best_by_value(evidence: Iterable[Evidence], facet: str, minimum: int) -> dict[str, Evidence]:
    """value -> its strongest evidence (the first of equals) of at least ``minimum`` strength."""
    best: dict[str, Evidence] = {}
    for e in evidence:
        if e.facet != facet or e.strength < minimum:
            continue
        cur = best.get(e.value)
        if cur is None or e.strength > cur.strength:
            best[e.value] = e
    return best


def derive_paradigm(algorithms: Iterable[str]) -> list[str]:
    """Paradigms that the algorithms used imply: value-free for GRPO, RLOO, REINFORCE, DPO, OPMD; value-based
    for PPO (with its learned critic)."""
    algs = set(algorithms)
    out = []
    if algs & VALUE_FREE_ALGORITHMS:
        out.append("value-free")
    if "ppo" in algs:
        out.append("value-based")
    return [v for v in FACETS["paradigm"] if v in out]


# -- folding full-text evidence into a prediction --------------------------------------------------------------

def _is_survey(pred: Prediction) -> bool:
    return pred.labels["relevance"] == ["related"] and pred.source["relevance"].get("related") == "rules"


def refine(pred: Prediction, lexicon: Lexicon, abstract: str | None, sections: Sequence[Mapping[str, str]], *,
           keep_model: bool = False) -> Prediction:
    """Decide ``algorithm``, ``reward``, ``strategy`` and ``paradigm`` of a paper with full text (``sections``
    cleaned by :func:`clean_sections`), in place; ``pred`` is the title-and-abstract prediction.

    For each facet: the values the full text says the paper used; else the title's and the abstract's (those the
    abstract only mentions are dropped); else the values of results or unknown sections (weaker); else, with
    ``keep_model``, the learned model's guesses; else nothing ("not stated").
    """
    if not sections or _is_survey(pred):
        return pred
    ev = section_evidence(lexicon, sections)
    abstract_ev = text_evidence(lexicon, abstract, "abstract", "abstract") if abstract else []
    abstract_said = {(e.facet, e.value) for e in abstract_ev if e.strength >= ROLE}
    labels, conf, evid, src, where = pred.labels, pred.confidence, pred.evidence, pred.source, pred.where
    old = {f: (list(labels[f]), dict(conf[f]), dict(evid[f]), dict(src[f]), dict(where[f])) for f in SECTION_FACETS}
    for f in SECTION_FACETS:
        labels[f], conf[f], evid[f], src[f], where[f] = [], {}, {}, {}, {}

    def put(facet: str, value: str, c: float, source: str, evidence: str, at: str) -> None:
        if value in labels[facet]:
            return
        labels[facet].append(value)
        conf[facet][value] = round(float(c), 3)
        src[facet][value] = source
        evid[facet][value] = evidence
        where[facet][value] = at

    def from_text(facet: str, found: Mapping[str, Evidence]) -> None:
        for value, e in sorted(found.items(), key=lambda kv: kv[1].order):
            put(facet, value, CONFIDENCE[e.strength], "rules", _trim(e.sentence), e.where)

    def kept_from_abstract(facet: str) -> list[str]:
        """The old rule values of a facet that the title states, or the abstract states as used."""
        vals, _, _, sources, at = old[facet]
        return [v for v in vals if sources[v] == "rules"
                and (at[v] == "title" or (at[v] == "abstract" and (facet, v) in abstract_said))]

    def restore(facet: str, values: Iterable[str]) -> None:
        _, c, e, s, at = old[facet]
        for v in values:
            put(facet, v, c[v], s[v], e[v], at[v])

    def model_values(facet: str) -> list[str]:
        vals, _, _, sources, _ = old[facet]
        return [v for v in vals if sources[v] == "model"]

    for facet in ("algorithm", "reward"):
        strong = best_by_value(ev, facet, ROLE)
        if strong:
            from_text(facet, strong)
            restore(facet, [v for v in kept_from_abstract(facet) if old[facet][4][v] == "title"])
        elif kept_from_abstract(facet):
            restore(facet, kept_from_abstract(facet))
        elif (weak := best_by_value(ev, facet, WEAK)):
            from_text(facet, weak)
        elif keep_model:
            restore(facet, model_values(facet))
        if facet == "algorithm" and "other" in labels[facet] and len(labels[facet]) > 1:
            labels[facet].remove("other")
    _paradigm(ev, old, put, restore, labels, where, keep_model, abstract_said)
    _strategy(ev, old, put, restore, labels, conf, where, keep_model, abstract_said)
    for f in SECTION_FACETS:
        labels[f].sort(key=FACETS[f].index)
        for d in (conf[f], evid[f], src[f], where[f]):
            for v in [v for v in d if v not in labels[f]]:
                del d[v]
    return pred


def _paradigm(ev: Sequence[Evidence], old: Mapping[str, Any], put: Any, restore: Any, labels: Mapping[str, list[str]],
              where: Mapping[str, dict[str, str]], keep_model: bool, abstract_said: set[tuple[str, str]]) -> None:
    strong = best_by_value(ev, "paradigm", ROLE)
    algs = labels["algorithm"]
    derived = derive_paradigm(algs)
    if "value-free" in strong and "value-based" not in strong and "value-based" in derived:
        derived.remove("value-based")  # PPO whose critic the text says is not learned (e.g. Monte Carlo values)
    for value in derived:
        used = [a for a in algs if (a in VALUE_FREE_ALGORITHMS) == (value == "value-free")]
        put("paradigm", value, 0.9, "rules", f"derived from algorithm={', '.join(used)}", where["algorithm"][used[0]])
    if strong:
        for value, e in sorted(strong.items(), key=lambda kv: kv[1].order):
            put("paradigm", value, CONFIDENCE[e.strength], "rules", _trim(e.sentence), e.where)
    elif not algs:
        vals, _, evid, sources, at = old["paradigm"]
        restore("paradigm", [v for v in vals if sources[v] == "rules" and not evid[v].startswith("derived from")
                             and (at[v] == "title" or ("paradigm", v) in abstract_said)])
        if not labels["paradigm"]:
            weak = best_by_value(ev, "paradigm", WEAK)
            for value, e in weak.items():
                put("paradigm", value, CONFIDENCE[e.strength], "rules", _trim(e.sentence), e.where)


def _strategy(ev: Sequence[Evidence], old: Mapping[str, Any], put: Any, restore: Any,
              labels: Mapping[str, list[str]], conf: Mapping[str, dict[str, float]],
              where: Mapping[str, dict[str, str]], keep_model: bool, abstract_said: set[tuple[str, str]]) -> None:
    strong = best_by_value(ev, "strategy", ROLE)
    if strong:
        e = max(strong.values(), key=lambda e: (e.strength, e.value == "sft+rl"))
        put("strategy", e.value, CONFIDENCE[e.strength], "rules", _trim(e.sentence), e.where)
        return
    vals, _, evid, sources, at = old["strategy"]
    stated = [v for v in vals if sources[v] == "rules" and v == "sft+rl"
              and (at[v] == "title" or ("strategy", v) in abstract_said)]
    if stated:
        restore("strategy", stated)
        return
    algs = labels["algorithm"]
    if algs:
        put("strategy", "rl", min(0.9, max(conf["algorithm"].values())), "rules",
            f"trains with {', '.join(algs)}", where["algorithm"][algs[0]])
        return
    weak = best_by_value(ev, "strategy", WEAK)
    if weak:
        e = max(weak.values(), key=lambda e: (e.strength, e.value == "sft+rl"))
        put("strategy", e.value, CONFIDENCE[e.strength], "rules", _trim(e.sentence), e.where)
    elif keep_model:
        restore("strategy", [v for v in vals if sources[v] == "model"])
