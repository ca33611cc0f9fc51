"""The blind full-text evaluation set parses and uses only the DESIGN label vocabulary."""
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "fulltext_blind.jsonl"

VOCAB = {
    "relevance": {"core", "related", "other"},
    "modality": {"image", "video", "audio", "3d"},
    "algorithm": {"grpo", "ppo", "dpo", "rloo", "reinforce", "opmd", "other"},
    "paradigm": {"value-free", "value-based"},
    "reward": {"rule", "model", "process"},
    "strategy": {"rl", "sft+rl"},
    "application": {"general", "math", "medical", "gui-agent", "spatial", "perception", "generation", "other"},
}


def test_blind_set_is_valid():
    lines = DATA.read_text(encoding="utf-8").splitlines()
    papers = [json.loads(line) for line in lines if line.strip()]
    assert len(papers) >= 36
    assert len({p["paper_id"] for p in papers}) == len(papers)
    for p in papers:
        assert p["title"] and isinstance(p["title"], str)
        assert set(p["labels"]) == set(VOCAB), p["paper_id"]
        for facet, values in p["labels"].items():
            assert isinstance(values, list) and len(values) == len(set(values)), (p["paper_id"], facet)
            assert set(values) <= VOCAB[facet], (p["paper_id"], facet, values)
        assert len(p["labels"]["relevance"]) == 1
        assert len(p["labels"]["strategy"]) <= 1
        sections = p.get("sections")
        assert sections is None or isinstance(sections, list)
        for s in sections or []:
            assert isinstance(s["title"], str) and isinstance(s["text"], str) and s["text"]
    # the set keeps its abstention cases: one paper with an empty list, one with null
    assert any(p.get("sections") == [] for p in papers)
    assert any("sections" in p and p["sections"] is None for p in papers)
