"""Tag papers by the Reinforced-MLLM survey's taxonomy, with a confidence and evidence per label.

Two layers (see DESIGN.md, "Label vocabulary"):

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

from .classifier import Classifier, build_classifier, get_classifier, predict_labels, reset_classifier
from .database import ClassifyReport, classify_database, label_paper, review_queue
from .evaluate import TARGETS, Evaluation, FacetScore, cross_validate, evaluate_gold, evaluate_labels, score
from .lexicon import Lexicon, load_lexicon
from .model import LabelledPaper, labels_dir, load_labelled, read_labelled
from .predict import TITLE_ONLY_FACTOR, keyword_labels, keyword_predict, read_records
from .vocabulary import FACETS, SINGLE_VALUED, check_labels, parse_assignments

__all__ = [
    "FACETS",
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
    "read_labelled",
    "read_records",
    "reset_classifier",
    "score",
]
