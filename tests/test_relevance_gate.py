"""The relevance gate: core needs RL applied to a (multimodal) language model in the title and abstract."""

from __future__ import annotations

import numpy as np
import pytest

from rlmllm_graph.classify import predict_labels
from rlmllm_graph.classify.predict import Prediction
from rlmllm_graph.classify.relevance import RelevanceGate, gate_predictions, load_gate
from rlmllm_graph.classify.vocabulary import FACETS
from rlmllm_graph.errors import BadInput

ALL = ("core", "related", "other")
NOT_CORE = ("related", "other")

RL_MLLM = (
    "Diagram-Coach: rewarding multimodal models for careful geometry",
    "We post-train an open multimodal LLM on geometry diagrams with group relative policy optimisation (GRPO). "
    "The reward checks the final numeric answer, and the model learns to verify its own steps.",
)
NO_RL_MLLM = (
    "Chart-Sketch: drawing intermediate steps helps vision-language models read plots",
    "We ask a vision-language model to sketch auxiliary lines on a chart before it answers. "
    "The recipe updates no weights and involves no reinforcement learning at all.",
)
TEXT_RL = (
    "Olympiad algebra with verifiable rewards",
    "We train a 7B language model with PPO against a symbolic checker of final answers on competition algebra. "
    "Longer derivations emerge during training.",
)
ROBOT_RL = (
    "Stair-climbing for legged platforms",
    "A quadruped learns to climb stairs from depth-camera frames. The controller is trained with soft actor-critic "
    "and a shaped reward for forward progress, then deployed on hardware.",
)


def allowed(title: str, abstract: str | None) -> tuple[str, ...]:
    return load_gate().allowed(title, abstract).values


def relevance(title: str, abstract: str | None) -> dict:
    out = predict_labels([{"paper_id": "p", "title": title, "abstract": abstract}])[0]
    return {"value": out["labels"]["relevance"], "evidence": out["evidence"]["relevance"],
            "confidence": out["confidence"]["relevance"]}


# -- the rule ----------------------------------------------------------------------------------------------------

def test_rl_applied_to_a_multimodal_llm_may_be_core() -> None:
    a = load_gate().allowed(*RL_MLLM)
    assert a.values == ALL
    assert "group relative policy optimisation" in a.sentence  # where RL meets the language model


@pytest.mark.parametrize("abstract", [
    "We adapt a vision-language model to triage radiographs; unlike recent systems, it involves no reinforcement "
    "learning.",
    "Our multimodal LLM is tuned on captions only. We do not use RL or any reward model.",
    "A video LLM aligned by supervised tuning rather than reinforcement learning.",
    "We present an RL-free recipe to align a vision-language model with human ratings of images.",
    "A training-free decoding rule for LVLMs that beats GRPO-trained models on image benchmarks.",
])
def test_negated_rl_is_no_evidence(abstract: str) -> None:
    assert allowed("A model", abstract) == NOT_CORE


def test_negation_stays_in_its_clause() -> None:
    # the cue negates the warm-up, not the RL after "we"; nor does a negation in another sentence carry over
    assert allowed("T", "Without a supervised warm-up, we optimise Qwen2-VL with GRPO on map images.") == ALL
    assert allowed("T", "No labels are used. We fine-tune a vision-language model with RL on photos.") == ALL
    assert allowed("T", "Not SFT but RL: we train a vision-language model on photos with rewards.") == ALL


def test_training_free_negates_its_sentence_and_a_title_the_whole_paper() -> None:
    rl_then_free = ("We train an omni-modal LLM with reinforcement learning on video dialogues. A prompt distilled "
                    "from its answers also helps other models in a training-free way.")
    assert allowed("Empathy in video chats", rl_then_free) == ALL
    assert allowed("A training-free recipe for video chats", rl_then_free) == NOT_CORE


@pytest.mark.parametrize("abstract", [
    "Cracks in reinforced concrete slabs are found in drone images by a vision-language model.",
    "We assess fibre-reinforced polymer panels from photographs with a multimodal LLM.",
    "A VLM rates reinforcing bar corrosion in inspection images.",
])
def test_reinforced_materials_are_not_rl(abstract: str) -> None:
    assert allowed("Inspection", abstract) == NOT_CORE


def test_rl_without_a_language_model_is_other() -> None:
    a = load_gate().allowed(*ROBOT_RL)
    assert a.values == ("other",)
    assert a.reason == "RL without a language model" and "soft actor-critic" in a.sentence
    assert relevance(*ROBOT_RL)["value"] == ["other"]


def test_rl_for_a_text_only_llm_is_not_core() -> None:
    assert allowed(*TEXT_RL) == NOT_CORE
    assert relevance(*TEXT_RL)["value"] != ["core"]


def test_a_multimodal_llm_without_rl_is_not_core() -> None:
    a = load_gate().allowed(*NO_RL_MLLM)
    assert a.values == NOT_CORE and a.reason == "RL negated" and "no reinforcement learning" in a.sentence
    assert relevance(*NO_RL_MLLM)["value"] != ["core"]


def test_llm_era_rl_and_generative_models_name_the_model() -> None:
    # GRPO implies a language model; a text-to-image diffusion model is a model and a modality
    assert allowed("T", "We apply GRPO to a GUI agent that acts on phone screenshots.") == ALL
    assert allowed("T", "A text-to-image diffusion model is fine-tuned with a learned reward.") == ALL
    # a size in billions of parameters names a (language) model too
    assert allowed("T", "Our 3B agent is trained with online RL and reasons over screenshots.") == ALL


def test_a_title_alone_needs_rl_and_a_modality() -> None:
    assert allowed("Reinforcing chart reasoning through curriculum rewards", None) == ALL
    assert allowed("Curriculum rewards for long-horizon planning", None) == NOT_CORE  # never forced to other


# -- applied to the classifier's predictions -------------------------------------------------------------------------

def _prediction(value: str) -> Prediction:
    labels = {f: [] for f in FACETS}
    labels["relevance"] = [value]
    conf = {f: {} for f in FACETS}
    conf["relevance"] = {value: 0.9}
    src = {f: {} for f in FACETS}
    src["relevance"] = {value: "model"}
    ev = {f: {} for f in FACETS}
    ev["relevance"] = {value: "model: 'x'"}
    return Prediction("p", labels, conf, ev, src)


def test_a_demoted_core_says_why_and_takes_the_models_next_choice() -> None:
    preds = [_prediction("core"), _prediction("core"), _prediction("core")]
    papers = [("a", *NO_RL_MLLM), ("b", *ROBOT_RL), ("c", *RL_MLLM)]
    R = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.8, 0.1, 0.1]])
    gate_predictions(preds, papers, R, ["core", "related", "other"], title_only_factor=0.8)
    a, b, c = preds
    assert a.labels["relevance"] == ["related"] and a.source["relevance"] == {"related": "rules"}
    assert a.confidence["relevance"]["related"] == pytest.approx(0.2 / 0.3, abs=1e-3)  # renormalised over allowed
    assert a.evidence["relevance"]["related"].startswith('not core: RL negated: "')
    assert "no reinforcement learning" in a.evidence["relevance"]["related"]
    assert b.labels["relevance"] == ["other"] and b.confidence["relevance"]["other"] == 1.0
    assert b.evidence["relevance"]["other"].startswith("not core: RL without a language model")
    # a confirmed core keeps the model's value, confidence and source, with the sentence as evidence
    assert c.labels["relevance"] == ["core"] and c.source["relevance"] == {"core": "model"}
    assert c.confidence["relevance"] == {"core": 0.9}
    assert c.evidence["relevance"]["core"].startswith("We post-train an open multimodal LLM")


def test_a_relevance_decided_by_a_rule_is_left_alone() -> None:
    p = _prediction("related")
    p.source["relevance"] = {"related": "rules"}  # a survey
    gate_predictions([p], [("s", *ROBOT_RL)], np.array([[0.1, 0.8, 0.1]]), ["core", "related", "other"],
                     title_only_factor=0.8)
    assert p.labels["relevance"] == ["related"] and p.evidence["relevance"] == {"related": "model: 'x'"}


def test_end_to_end_core_evidence_is_a_sentence() -> None:
    out = relevance(*RL_MLLM)
    assert out["value"] == ["core"]
    assert "GRPO" in out["evidence"]["core"]


def test_a_spec_without_a_term_class_is_refused() -> None:
    with pytest.raises(BadInput, match="modality"):
        RelevanceGate({"rl": [], "llm_rl": [], "generative_model": [], "language_model": [], "reasoning": []})
