"""Tag papers by the Reinforced-MLLM survey's taxonomy, with a confidence and evidence per label.

Two layers (the label vocabulary is in :mod:`.vocabulary`):

- :mod:`.lexicon` — transparent rules: a lexicon per facet value, kept as data
  in ``rlmllm_graph/data/lexicon.json``; an explicit mention decides, and the
  sentence that holds it is the evidence.
- :mod:`.model` — scikit-learn: TF-IDF word and character n-grams plus the
  lexicon's hits into one logistic regression per facet value, trained on first
  use from the hand-labelled papers in ``data/labels/*.jsonl``.

:mod:`.predict` combines them; :mod:`.relevance` then lets ``core`` stand only where the text shows RL applied to a
(multimodal) language model. :mod:`.evaluate` scores them against gold labels
beside a plain keyword baseline, :mod:`.database` runs them over the database
(skipping unchanged papers; manual labels always win).

>>> from rlmllm_graph.classify import predict_labels
>>> predict_labels([{"paper_id": "p1", "title": "Audio-Reasoner: RL for audio LLMs", "abstract": None}])[0]["labels"]["modality"]
['audio']
"""

from __future__ import annotations

from .._lazy import export_lazily
from .vocabulary import FACETS, SINGLE_VALUED, check_labels, parse_assignments

# the rest (numpy, scipy, scikit-learn behind them) on first use
export_lazily(__name__, {
    "classifier": ("Classifier", "build_classifier", "get_classifier", "predict_labels", "reset_classifier"),
    "database": ("ClassifyReport", "classify_database", "label_paper", "review_queue"),
    "evaluate": (
        "MIN_PAPERS",
        "TARGETS",
        "Evaluation",
        "FacetScore",
        "cross_validate",
        "evaluate_gold",
        "evaluate_labels",
        "read_gold",
        "score",
    ),
    "lexicon": ("Lexicon", "load_lexicon"),
    "model": ("LabelledPaper", "labels_dir", "load_labelled", "read_labelled"),
    "predict": ("TITLE_ONLY_FACTOR", "keyword_labels", "keyword_predict", "read_records"),
})

__all__ = [
    "FACETS",
    "MIN_PAPERS",
    "SINGLE_VALUED",
    "TARGETS",
    "TITLE_ONLY_FACTOR",
    "Classifier",
    "ClassifyReport",
    "Evaluation",
    "FacetScore",
    "LabelledPaper",
    "Lexicon",
    "build_classifier",
    "check_labels",
    "classify_database",
    "cross_validate",
    "evaluate_gold",
    "evaluate_labels",
    "get_classifier",
    "keyword_labels",
    "keyword_predict",
    "label_paper",
    "review_queue",
    "labels_dir",
    "load_labelled",
    "load_lexicon",
    "parse_assignments",
    "predict_labels",
    "read_gold",
    "read_labelled",
    "read_records",
    "reset_classifier",
    "score",
]
