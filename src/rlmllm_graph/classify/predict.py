"""Combining the rules and the learned models into labels, confidences and evidence.

For every facet value: an explicit mention found by the lexicon decides (source
``rules``, evidence = the sentence that holds it); otherwise the value's model
decides when its probability reaches the threshold (source ``model``, evidence =
the words that weighed most). Then the facet logic of DESIGN.md:

- ``relevance`` takes exactly one value: a survey is ``related``; else the
  one-vs-rest models' most probable value.
- ``strategy`` takes at most one: "does the paper train with RL" (a named RL
  algorithm, or the model), then ``sft+rl`` when a cold start / SFT-then-RL
  phrase is found or the model says so, else ``rl``.
- ``paradigm`` is derived: ``value-free`` from GRPO, DPO, RLOO, REINFORCE, OPMD
  or a "critic-free" phrase; ``value-based`` from PPO or a critic / value model.
- A survey proposes no method: no algorithm, reward, strategy or paradigm.
- The model adds a modality only when the text has some multimodal cue.
- A paper with only a title gets the same labels with confidences scaled by
  :data:`TITLE_ONLY_FACTOR`.

:func:`keyword_labels` is the plain keyword baseline the evaluation compares against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BadInput, MalformedRecord
from .lexicon import Lexicon, Scan, sentence_around
from .model import EvidenceRequest, LearnedModel, iter_paper_lines
from .vocabulary import FACETS, VALUE_FREE_ALGORITHMS, empty_labels

__all__ = ["Prediction", "TITLE_ONLY_FACTOR", "combine", "keyword_labels", "keyword_predict", "paper_text",
           "read_records"]

#: confidences of a paper with no abstract are multiplied by this
TITLE_ONLY_FACTOR = 0.8
#: confidence of a label decided by an explicit mention
RULE_CONFIDENCE = 0.95
#: a binary model says yes from this probability on, unless training tuned its own threshold
THRESHOLD = 0.5
#: when no application value passes the threshold, the most probable one is still given from this probability on
APPLICATION_FALLBACK = 0.25
METHOD_FACETS = ("algorithm", "reward", "strategy", "paradigm")


@dataclass
class Prediction:
    """One paper's labels in the DESIGN ``classify --output`` shape, plus each label's source (``rules`` or
    ``model``) and where its evidence came from (``title``, ``abstract`` or a section title)."""

    paper_id: str
    labels: dict[str, list[str]]
    confidence: dict[str, dict[str, float]]
    evidence: dict[str, dict[str, str]]
    source: dict[str, dict[str, str]]
    where: dict[str, dict[str, str]] = field(default_factory=lambda: {f: {} for f in FACETS})

    def as_dict(self) -> dict[str, Any]:
        return {"paper_id": self.paper_id, "labels": self.labels, "confidence": self.confidence,
                "evidence": self.evidence, "evidence_source": self.where}

    def rows(self) -> list[dict[str, Any]]:
        """One ``labels``-table row per value."""
        return [
            {"paper_id": self.paper_id, "facet": f, "value": v, "confidence": self.confidence[f][v],
             "source": self.source[f][v], "evidence": self.evidence[f][v], "evidence_source": self.where[f].get(v)}
            for f in FACETS for v in self.labels[f]
        ]


def paper_text(record: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(paper_id, title, abstract) of an input record; raises :class:`BadInput` without a usable paper_id."""
    if not isinstance(record, Mapping):
        raise BadInput("each record must be a mapping with paper_id, title and abstract")
    pid = record.get("paper_id")
    if not isinstance(pid, str) or not pid.strip():
        raise BadInput(f"record without paper_id: {str(dict(record))[:80]}")
    title = record.get("title")
    abstract = record.get("abstract")
    title = title if isinstance(title, str) and title.strip() else None
    abstract = abstract if isinstance(abstract, str) and abstract.strip() else None
    return pid, title, abstract


def read_records(lines: Iterable[str], *, source: str) -> list[dict[str, Any]]:
    """Parse ``classify --input`` JSONL: one ``{"paper_id", "title", "abstract", "sections"}`` object a line
    (``sections``, optional: ``[{"title": ..., "text": ...}, ...]`` in reading order; other keys ignored).

    Raises :class:`MalformedRecord` naming ``source`` and the line: not JSON, not an object, no ``paper_id``,
    a title/abstract that is neither a string nor null, or ``sections`` that is not a list of such objects.
    """
    out = []
    for n, rec in iter_paper_lines(lines, source=source):
        r = {"paper_id": rec["paper_id"], "title": rec.get("title"), "abstract": rec.get("abstract")}
        sections = rec.get("sections")
        if sections is not None:
            if not isinstance(sections, list):
                raise MalformedRecord("sections must be a list of {\"title\", \"text\"} objects or null",
                                      path=source, line=n)
            for i, sec in enumerate(sections, start=1):
                if not isinstance(sec, dict):
                    raise MalformedRecord(f"section {i} is not an object with title and text", path=source, line=n)
                for key in ("title", "text"):
                    if sec.get(key) is not None and not isinstance(sec[key], str):
                        raise MalformedRecord(f"section {i}: {key} must be a string or null", path=source, line=n)
            r["sections"] = [{"title": sec.get("title"), "text": sec.get("text")} for sec in sections]
        out.append(r)
    return out


def _evidence(hit_field: str, start: int, end: int, title: str | None, abstract: str | None) -> str:
    text = title if hit_field == "title" else abstract
    if not text:
        return ""
    if hit_field == "title":
        return f"title: {text.strip()}"
    return sentence_around(text, start, end)


def is_survey(scan: Scan) -> bool:
    return ("relevance", "related") in scan.decisive


def combine(
    pid: str,
    title: str | None,
    abstract: str | None,
    scan: Scan,
    model: LearnedModel,
    row: int,
    P: np.ndarray,
    R: np.ndarray,
    keys: Mapping[tuple[str, str], int],
    wanted: list[EvidenceRequest],
) -> Prediction:
    """Labels for one paper from its lexicon scan and its row of model probabilities.

    The evidence of a label the model gave is filled in later, for the whole batch at once
    (:meth:`LearnedModel.fill_evidence`): ``wanted`` gets one request per such label.
    """
    labels = empty_labels()
    conf: dict[str, dict[str, float]] = {f: {} for f in FACETS}
    evid: dict[str, dict[str, str]] = {f: {} for f in FACETS}
    src: dict[str, dict[str, str]] = {f: {} for f in FACETS}
    at: dict[str, dict[str, str]] = {f: {} for f in FACETS}
    read = "abstract" if abstract else "title"  # what the learned model read (the abstract, when there is one)
    factor = 1.0 if abstract else TITLE_ONLY_FACTOR
    prow = P[row].tolist()  # plain floats: indexing numpy scalars one by one is the slow part
    thresholds = model.threshold_list

    def add(facet: str, value: str, c: float, source: str, ev: str, weights: int | None = None,
            where: str | None = None) -> None:
        if value in labels[facet]:
            return
        labels[facet].append(value)
        conf[facet][value] = round(float(min(1.0, c) * factor), 3)
        src[facet][value] = source
        evid[facet][value] = ev
        at[facet][value] = where or read
        if weights is not None:
            wanted.append((evid[facet], value, row, weights))

    def rule(facet: str, value: str) -> bool:
        hit = scan.decisive.get((facet, value))
        if hit is None:
            return False
        k = keys.get((facet, value))
        p = prow[k] if k is not None else 0.0
        add(facet, value, max(RULE_CONFIDENCE, float(p)), "rules",
            _evidence(hit.field, hit.start, hit.end, title, abstract), where=hit.field)
        return True

    def learned(facet: str, value: str, threshold: float | None = None) -> bool:
        k = keys.get((facet, value))
        if k is None or prow[k] < (thresholds[k] if threshold is None else threshold):
            return False
        add(facet, value, prow[k], "model", "model", k)
        return True

    survey = is_survey(scan)
    visual = scan.signal("multimodal") or any(f.startswith("modality:") for f in scan.features)
    # a paper named video, audio or 3D is about that, not about images, unless it names them (or is omni-modal)
    other_modality = ("modality:image:title:abstract" not in scan.features
                      and any(("modality", v) in scan.decisive for v in ("video", "audio", "3d")))
    # relevance: exactly one
    if survey:
        rule("relevance", "related")
    else:
        i = int(np.argmax(R[row]))
        value = model.rel_classes[i]
        add("relevance", value, float(R[row, i]), "model", "model", len(model.binary_keys) + i)
    for facet in ("modality", "algorithm", "reward", "application"):
        if survey and facet in METHOD_FACETS:
            continue
        for value in FACETS[facet]:
            if facet == "algorithm" and value == "other" and labels["algorithm"]:
                # "X Policy Optimization" in a title names a new algorithm only when no known one is named
                hit = scan.decisive.get(("algorithm", "other"))
                if hit is not None and hit.kind == "title":
                    continue
            if rule(facet, value):
                continue
            if facet == "modality" and not visual:
                continue  # the model may add a modality only to a paper with some multimodal cue
            if facet == "modality" and value == "image" and other_modality:
                continue
            learned(facet, value)
    if not labels["application"]:
        best = [(prow[keys[("application", v)]], v) for v in FACETS["application"] if ("application", v) in keys]
        if best:
            p, v = max(best)
            if p >= APPLICATION_FALLBACK:
                learned("application", v, threshold=0.0)
    if not survey:
        _strategy(add, rule, scan, labels, P, row, keys, model, at)
        _paradigm(add, scan, labels, conf, at, title, abstract)
    for f in FACETS:
        labels[f].sort(key=FACETS[f].index)
    return Prediction(pid, labels, conf, evid, src, at)


def _strategy(add: Any, rule: Any, scan: Scan, labels: dict[str, list[str]], P: np.ndarray, row: int,
              keys: Mapping[tuple[str, str], int], model: LearnedModel, at: dict[str, dict[str, str]]) -> None:
    def at_of(algorithm: str) -> str:
        return at["algorithm"][algorithm]

    k_any, k_sft = keys.get(("strategy", "*")), keys.get(("strategy", "sft+rl"))
    p_any = float(P[row, k_any]) if k_any is not None else 0.0
    p_sft = float(P[row, k_sft]) if k_sft is not None else 0.0
    t_any = float(model.thresholds[k_any]) if k_any is not None else THRESHOLD
    t_sft = float(model.thresholds[k_sft]) if k_sft is not None else THRESHOLD
    named = [a for a in labels["algorithm"] if a != "other"]
    if not (p_any >= t_any or named or ("strategy", "sft+rl") in scan.decisive):
        return
    if rule("strategy", "sft+rl"):
        return
    if p_sft >= t_sft and k_sft is not None:
        add("strategy", "sft+rl", p_sft, "model", "model", k_sft)
        return
    if p_any >= t_any and k_any is not None:
        add("strategy", "rl", p_any * (1 - p_sft), "model", "model", k_any)
    else:
        add("strategy", "rl", 0.6, "rules", f"trains with {', '.join(named)}", where=at_of(named[0]))


def _paradigm(add: Any, scan: Scan, labels: dict[str, list[str]], conf: dict[str, dict[str, float]],
              at: dict[str, dict[str, str]], title: str | None, abstract: str | None) -> None:
    for value in ("value-free", "value-based"):
        hit = scan.decisive.get(("paradigm", value))
        if hit is not None:
            add("paradigm", value, RULE_CONFIDENCE, "rules", _evidence(hit.field, hit.start, hit.end, title, abstract),
                where=hit.field)
    free = [a for a in labels["algorithm"] if a in VALUE_FREE_ALGORITHMS]
    if free:
        c = max(conf["algorithm"][a] for a in free)
        add("paradigm", "value-free", c, "rules", f"derived from algorithm={', '.join(free)}",
            where=at["algorithm"][free[0]])
    if "ppo" in labels["algorithm"]:
        add("paradigm", "value-based", conf["algorithm"]["ppo"], "rules", "derived from algorithm=ppo",
            where=at["algorithm"]["ppo"])


# -- the plain keyword baseline -------------------------------------------------------------------------------

def keyword_labels(scan: Scan) -> dict[str, list[str]]:
    """The plain keyword baseline: a value is given when any of its phrases (explicit or title-scoped)
    appears anywhere; relevance from "RL words" and "multimodal words"; no learned model, no facet logic
    beyond what a keyword list can say."""
    labels = empty_labels()
    for f in scan.features:
        parts = f.split(":")
        if parts[0] == "signal" or parts[2] not in ("explicit", "title"):
            continue
        facet, value = parts[0], parts[1]
        if facet in ("relevance", "strategy", "paradigm"):
            continue
        if facet == "algorithm" and parts[2] == "title":  # the generic "policy optimization" cue is no keyword
            continue
        if value not in labels[facet]:
            labels[facet].append(value)
    rl, mm = scan.signal("rl"), scan.signal("multimodal")
    survey, bench = scan.signal("survey"), scan.signal("benchmark")
    reasoning, llm = scan.signal("reasoning"), scan.signal("llm")
    if rl and mm and not survey:
        rel = "core"
    elif rl or survey or (mm and (reasoning or bench)) or (llm and reasoning):
        rel = "related"
    else:
        rel = "other"
    labels["relevance"] = [rel]
    sft = any(f.startswith("strategy:sft+rl:explicit") for f in scan.features)
    if sft and rl:
        labels["strategy"] = ["sft+rl"]
    elif rl:
        labels["strategy"] = ["rl"]
    par = []
    if VALUE_FREE_ALGORITHMS & set(labels["algorithm"]) or any(f.startswith("paradigm:value-free:") for f in scan.features):
        par.append("value-free")
    if "ppo" in labels["algorithm"] or any(f.startswith("paradigm:value-based:") for f in scan.features):
        par.append("value-based")
    labels["paradigm"] = par
    if not labels["application"]:
        labels["application"] = ["general"]
    for f in FACETS:
        labels[f].sort(key=FACETS[f].index)
    return labels


def keyword_predict(records: Iterable[Mapping[str, Any]], lexicon: Lexicon) -> list[dict[str, Any]]:
    """The keyword baseline over records, in the ``classify --output`` shape (confidence 1, evidence "keyword")."""
    out = []
    for r in records:
        pid, title, abstract = paper_text(r)
        labels = keyword_labels(lexicon.scan(title, abstract))
        out.append({"paper_id": pid, "labels": labels,
                    "confidence": {f: {v: 1.0 for v in vs} for f, vs in labels.items()},
                    "evidence": {f: {v: "keyword" for v in vs} for f, vs in labels.items()}})
    return out


