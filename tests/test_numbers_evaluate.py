"""`classify --evaluate`: only annotated facets are scored, wrong papers are listed, thin facets warned about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlmllm_graph.classify.evaluate import MIN_PAPERS, read_gold, score

from conftest import write_jsonl

GOLD = [
    {"paper_id": "g1", "title": "Video-R1: reinforcing video reasoning with GRPO", "abstract": None,
     "gold": {"relevance": ["core"], "algorithm": ["grpo"], "reward": []}},  # reward: none applies
    {"paper_id": "g2", "title": "Fixed point quantization", "abstract": "We quantize networks.",
     "gold": {"relevance": ["other"]}},  # nothing else annotated
    {"paper_id": "g3", "title": "PPO for charts", "abstract": None,
     "gold": {"relevance": ["core"], "algorithm": ["ppo"]}},
]
GIVEN = [
    {"paper_id": "g1", "labels": {"relevance": ["core"], "algorithm": ["grpo"], "reward": ["rule"],
                                  "modality": ["image"]}},
    {"paper_id": "g2", "labels": {"relevance": ["related"], "algorithm": ["dpo"], "modality": ["video"]}},
    {"paper_id": "g3", "labels": {"relevance": ["core"], "algorithm": ["grpo", "ppo"]}},
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write_jsonl(tmp_path / "gold.jsonl", GOLD), write_jsonl(tmp_path / "given.jsonl", GIVEN)


def test_only_annotated_facets_are_scored(invoke, files):
    gold, given = files
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), "--json", db=False)
    assert r.exit_code == 0, r.stderr
    f = json.loads(r.stdout)["facets"]
    # relevance on all 3: core right twice, other → related wrong: TP 2, FP 1, FN 1
    assert f["relevance"]["ours"]["papers"] == 3
    assert f["relevance"]["ours"]["micro"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667}
    # algorithm on g1 and g3 only (g2's "dpo" is not judged): TP grpo, TP ppo, FP grpo on g3
    assert f["algorithm"]["ours"]["papers"] == 2
    assert f["algorithm"]["ours"]["micro"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8}
    assert f["algorithm"]["ours"]["values"]["dpo"]["predicted"] == 0
    # reward: [] on g1 means none, so "rule" is a false positive; g2 and g3 do not annotate it
    assert f["reward"]["ours"]["papers"] == 1
    assert f["reward"]["ours"]["values"]["rule"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0,
                                                     "predicted": 1}
    # modality: nobody annotates it, so no score at all (not a perfect 1.0 from nothing)
    assert f["modality"]["ours"]["papers"] == 0 and f["modality"]["ours"]["headline"] is None
    assert "modality" not in json.loads(r.stdout)["meets_targets"]


def test_wrong_papers_are_listed(invoke, files):
    gold, given = files
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), "--json", db=False)
    data = json.loads(r.stdout)
    assert data["wrong_papers"] == 3
    assert [(e["paper_id"], e["facet"], e["gold"], e["predicted"]) for e in data["errors"]] == [
        ("g1", "reward", [], ["rule"]),
        ("g2", "relevance", ["other"], ["related"]),
        ("g3", "algorithm", ["ppo"], ["grpo", "ppo"]),
    ]
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), db=False)
    out = r.stdout
    assert "Wrong: 3 papers of 3 (3 facets; gold → given):" in out
    assert "  g1  Video-R1: reinforcing video reasoning with GRPO\n      reward: none → rule\n" in out
    assert "      relevance: other → related\n" in out and "      algorithm: ppo → grpo,ppo\n" in out
    assert "modality" in out and "not annotated in the gold file: not scored" in out
    assert "algorithm: dpo" not in out


def test_thin_facets_are_warned_about_in_words(invoke, files):
    gold, given = files
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), db=False)
    out = r.stdout
    assert f"warning: reward: scored on only 1 paper (fewer than {MIN_PAPERS}); its figures say little" in out
    assert f"warning: algorithm: scored on only 2 papers (fewer than {MIN_PAPERS})" in out
    assert "warning: modality: no gold paper annotates it; not scored" in out
    assert "1 papers" not in out
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), "--json", db=False)
    assert len(json.loads(r.stdout)["warnings"]) == 7  # 3 thin facets, 4 never annotated


def test_one_paper_is_one_paper(invoke, tmp_path):
    gold = write_jsonl(tmp_path / "one.jsonl", GOLD[:1])
    given = write_jsonl(tmp_path / "given.jsonl", GIVEN[:1])
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), db=False)
    assert r.stdout.startswith(f"labels of {given}: 1 paper (0 with abstract, 1 title only)")
    assert "Wrong: 1 paper of 1 (1 facet; gold → given):" in r.stdout
    assert "1 papers" not in r.stdout


def test_a_facet_with_enough_papers_is_not_warned_about():
    lines = [json.dumps({"paper_id": f"p{i}", "gold": {"strategy": ["rl"]}}) for i in range(MIN_PAPERS)]
    gold = read_gold(lines, source="g")
    assert all(g.annotated == ("strategy",) for g in gold)
    scores = score([g.labels for g in gold], [{"strategy": ["rl"]}] * MIN_PAPERS,
                   annotated=[g.annotated for g in gold])
    assert scores["strategy"].papers == MIN_PAPERS and scores["strategy"].micro["f1"] == 1.0
    assert scores["reward"].papers == 0 and not scores["reward"].scored


def test_the_classifier_is_scored_the_same_way():
    from rlmllm_graph.classify import evaluate_gold, load_labelled

    gold = read_gold([json.dumps(g) for g in GOLD], source="gold")
    ev = evaluate_gold(gold, training=load_labelled()[:120])  # a small classifier: the scoring is what is tested
    data = ev.as_dict()
    assert data["facets"]["algorithm"]["ours"]["papers"] == 2 and data["facets"]["modality"]["ours"]["papers"] == 0
    assert data["facets"]["modality"]["baseline"]["papers"] == 0 and data["facets"]["relevance"]["ours"]["papers"] == 3
    assert all(e["facet"] in ("relevance", "algorithm", "reward") for e in data["errors"])
    assert not any(e["paper_id"] == "g2" and e["facet"] != "relevance" for e in data["errors"])
