"""Full-text classification: what a paper used (method, training, appendix) against what it only mentions
(introduction, related work, baselines), evidence sources in file and database mode, and "not stated"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlmllm_graph import store
from rlmllm_graph.classify import get_classifier, load_labelled, predict_labels
from rlmllm_graph.classify.fulltext_eval import compare_readings, pasted, read_fulltext_gold
from rlmllm_graph.classify.lexicon import load_lexicon
from rlmllm_graph.classify.sections import (
    CUE,
    MENTION,
    ROLE,
    section_role,
    sentence_status,
    split_sentences,
    text_evidence,
)
from rlmllm_graph.ingest import import_files
from rlmllm_graph.table import NOT_STATED, build_taxonomy_table, render_table_markdown

from conftest import FIXTURES, write_jsonl

GOLD = FIXTURES / "fulltext" / "gold.jsonl"
VISION_R1 = "aaaa000000000000000000000000000000000002"

INTRO = ("1 Introduction", "DeepSeek-R1's GRPO inspired a wave of multimodal reasoning models. Earlier alignment "
         "pipelines optimise a policy with PPO against a learned reward model.")
RELATED = ("2 Related Work", "RLHF trains a reward model and then optimises the policy with PPO. DPO removes the "
           "reward model. Unlike GRPO, REINFORCE++ normalises advantages over the whole batch.")
BASELINES = ("5 Experiments", "We report results compared with a PPO baseline and a DPO baseline trained on the "
             "same data.")


def paper(*sections: tuple[str, str], abstract: str | None = None, pid: str = "p1") -> dict:
    return {"paper_id": pid, "title": "Seeing Is Reasoning: reinforcement learning for visual math in MLLMs",
            "abstract": abstract or ("We improve the visual reasoning of a multimodal large language model with "
                                     "reinforcement learning on 12K geometry problems."),
            "sections": [{"title": t, "text": x} for t, x in sections]}


def facets_of(record: dict) -> dict:
    return predict_labels([record])[0]


# -- the sentence and the section ----------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, mention, expected", [
    ("We optimise with RLOO.", "RLOO", CUE),
    ("We optimise the policy with RLOO, sampling eight responses per prompt.", "RLOO", CUE),
    ("Unlike GRPO, our objective keeps a per-token baseline.", "GRPO", MENTION),
    ("In contrast to PPO, which needs a learned critic, we use group baselines.", "PPO", MENTION),
    ("We report accuracy compared with a PPO baseline.", "PPO", MENTION),
    ("DeepSeek-R1's GRPO inspired our reward design.", "GRPO", MENTION),
    ("We adopt GRPO.", "GRPO", CUE),
    ("Prior work trains such models with PPO.", "PPO", MENTION),
    ("For a controlled comparison we also train the same model with DPO.", "DPO", MENTION),
    ("We use the mean reward of the other samples as the baseline and optimise with RLOO.", "RLOO", CUE),
])
def test_the_issue_phrases(sentence: str, mention: str, expected: int) -> None:
    start = sentence.index(mention)
    # a stated use counts wherever it stands; a contrast or credit to others never counts, even in a method section
    for role in ("used", "mentions"):
        assert sentence_status(sentence, start, start + len(mention), role) == expected


def test_a_plain_mention_takes_the_role_of_its_section() -> None:
    s = "GRPO samples eight responses per question and normalises their rewards."
    assert sentence_status(s, 0, 4, "used") == ROLE
    assert sentence_status(s, 0, 4, "mentions") == MENTION


@pytest.mark.parametrize("sentence", ["We do not use a value model.",
                                      "The method keeps the objective but replaces the learned critic with rollouts."])
def test_no_learned_critic_is_value_free(sentence: str) -> None:
    ev = text_evidence(load_lexicon(), sentence, "3 Method", "used")
    assert [(e.facet, e.value) for e in ev] == [("paradigm", "value-free")]


@pytest.mark.parametrize("title, role", [
    ("1 Introduction", "mentions"), ("2 Related Work", "mentions"), ("2.1 Background", "mentions"),
    ("3 Preliminaries", "mentions"), ("5.2 Comparison with Baselines", "mentions"), ("6 Discussion", "mentions"),
    ("3 Method", "used"), ("3.2 Reward Design", "used"), ("4.1 Experimental Setup", "used"),
    ("A Training Details", "used"), ("Appendix B: Implementation Details", "used"),
    ("4 Experiments", "results"), ("5 Results", "results"), ("3 Seg-Zero", "unknown"), (None, "unknown"),
])
def test_section_roles(title: str | None, role: str) -> None:
    assert section_role(title) == role


def test_sentences_are_not_split_after_abbreviations() -> None:
    text = "We use GRPO, e.g. as in DeepSeek-R1 (Guo et al. 2025). Fig. 2 shows the reward. Then we train."
    assert split_sentences(text) == ["We use GRPO, e.g. as in DeepSeek-R1 (Guo et al. 2025).",
                                     "Fig. 2 shows the reward.", "Then we train."]


# -- papers -------------------------------------------------------------------------------------------------

def test_algorithm_named_only_in_the_method_section() -> None:
    rec = paper(INTRO, RELATED, ("3 Method", "We optimise the policy with RLOO: for each prompt we sample eight "
                                 "responses and use the mean reward of the others as the baseline. The reward is 1 "
                                 "when the final answer matches the ground truth."), BASELINES)
    assert "RLOO" not in rec["abstract"]
    out = facets_of(rec)
    assert out["labels"]["algorithm"] == ["rloo"]
    assert out["labels"]["paradigm"] == ["value-free"]
    assert out["labels"]["reward"] == ["rule"]
    assert out["labels"]["strategy"] == ["rl"]
    assert out["evidence_source"]["algorithm"] == {"rloo": "3 Method"}
    assert out["evidence"]["algorithm"]["rloo"].startswith("We optimise the policy with RLOO")
    # the abstract alone says nothing of it
    alone = facets_of({k: rec[k] for k in ("paper_id", "title", "abstract")})
    assert alone["labels"]["algorithm"] == []


def test_mentions_in_introduction_related_work_and_baselines_are_ignored() -> None:
    rec = paper(INTRO, RELATED, ("3 Approach", "We adopt GRPO with an accuracy reward and a format reward."),
                BASELINES)
    out = facets_of(rec)
    assert out["labels"]["algorithm"] == ["grpo"]
    assert out["labels"]["paradigm"] == ["value-free"]
    assert out["labels"]["reward"] == ["rule"]
    # the pasted reading takes every algorithm it sees
    naive = facets_of(pasted(rec))
    assert {"ppo", "dpo", "grpo"} <= set(naive["labels"]["algorithm"])


def test_a_method_described_in_an_appendix_counts() -> None:
    rec = paper(INTRO, RELATED, ("3 Approach", "The model reasons inside think tags and answers in answer tags."),
                ("4 Results", "Our model improves geometry accuracy by 4 points."),
                ("A Training Details", "The policy is trained with PPO; the critic is initialised from the SFT model "
                 "and advantages are estimated with GAE. We first fine-tune the model on 5K reasoning traces "
                 "before RL."))
    out = facets_of(rec)
    assert out["labels"]["algorithm"] == ["ppo"]
    assert out["labels"]["paradigm"] == ["value-based"]
    assert out["labels"]["strategy"] == ["sft+rl"]
    assert out["evidence_source"]["algorithm"]["ppo"] == "A Training Details"


def test_full_text_outranks_the_abstract() -> None:
    rec = paper(("3 Method", "We adopt GRPO and sample 16 responses per question."),
                abstract="We align a multimodal model with DPO on geometry problems.")
    assert facets_of({k: rec[k] for k in ("paper_id", "title", "abstract")})["labels"]["algorithm"] == ["dpo"]
    out = facets_of(rec)
    assert out["labels"]["algorithm"] == ["grpo"]
    assert out["evidence_source"]["algorithm"]["grpo"] == "3 Method"


def test_abstract_evidence_stands_where_the_text_is_silent() -> None:
    rec = paper(("3 Method", "The model reasons inside think tags."),
                abstract="We train a multimodal model with GRPO on geometry problems.")
    out = facets_of(rec)
    assert out["labels"]["algorithm"] == ["grpo"]
    assert out["evidence_source"]["algorithm"]["grpo"] == "abstract"


def test_no_text_no_method_label() -> None:
    rec = {"paper_id": "bench", "title": "GeoBench: a benchmark of geometry problems for multimodal models",
           "abstract": "We collect 3K geometry problems with diagrams and evaluate twenty multimodal models.",
           "sections": [{"title": "1 Introduction", "text": "Models aligned with PPO or trained with GRPO still fail."},
                        {"title": "3 Dataset", "text": "Problems come from exams and are checked by two annotators."}]}
    out = facets_of(rec)
    for facet in ("algorithm", "paradigm", "reward", "strategy"):
        assert out["labels"][facet] == [], facet
        assert out["evidence_source"][facet] == {}


# -- file mode ------------------------------------------------------------------------------------------------

def test_file_mode_reads_sections_and_says_where(invoke, tmp_path: Path) -> None:
    rec = paper(INTRO, RELATED, ("3 Method", "We optimise with RLOO."), BASELINES)
    src = write_jsonl(tmp_path / "in.jsonl", [rec, {"paper_id": "p2", "title": "Video-R1: video reasoning with GRPO",
                                                    "sections": None}])
    out = tmp_path / "out.jsonl"
    r = invoke("classify", "--input", str(src), "--output", str(out), db=False)
    assert r.exit_code == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["labels"]["algorithm"] == ["rloo"]
    assert rows[0]["evidence_source"]["algorithm"] == {"rloo": "3 Method"}
    assert rows[1]["evidence_source"]["algorithm"] == {"grpo": "title"}
    for row in rows:  # every label has a source, and nothing else does
        for facet, values in row["labels"].items():
            assert set(row["evidence_source"][facet]) == set(values)


@pytest.mark.parametrize("sections, message", [
    ('"3 Method"', "sections must be a list"),
    ('["text"]', "section 1 is not an object"),
    ('[{"title": "3 Method", "text": 5}]', "section 1: text must be a string or null"),
])
def test_file_mode_malformed_sections(invoke, tmp_path: Path, sections: str, message: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", ['{"paper_id": "ok", "title": "A"}',
                                              '{"paper_id": "x", "title": "B", "sections": %s}' % sections])
    r = invoke("classify", "--input", str(src), "--output", str(tmp_path / "out.jsonl"), db=False)
    assert r.exit_code == 2
    assert message in r.stderr and "in.jsonl:2:" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists()


# -- database mode ----------------------------------------------------------------------------------------------

@pytest.fixture
def corpus_db(db):
    import_files(db, [FIXTURES / "mini_corpus.jsonl"])
    return db


def label_rows(db, pid: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(f, v): (s, w) for f, v, s, w in db.execute(
        "SELECT facet, value, source, evidence_source FROM labels WHERE paper_id = ?", [pid])}


def test_database_mode_reads_stored_sections_and_records_the_source(invoke, corpus_db) -> None:
    assert invoke("classify").exit_code == 0
    before = label_rows(corpus_db, VISION_R1)
    assert before[("algorithm", "grpo")] == ("rules", "abstract")
    assert all(w in ("title", "abstract") for _, w in before.values())
    # text arrives: the paper is classified again (the sections are part of what it was classified from)
    store.save_sections(corpus_db, VISION_R1, [
        {"title": "1 Introduction", "text": "Earlier pipelines used PPO with a reward model."},
        {"title": "3 Method", "text": "We optimise the cold-start model with RLOO and a rule-based accuracy reward."},
    ], source="arxiv-html", version="v2")
    data = json.loads(invoke("classify", "--json").stdout)
    assert data["classified"] == 1 and data["with_full_text"] == 1
    after = label_rows(corpus_db, VISION_R1)
    assert after[("algorithm", "rloo")] == ("rules", "3 Method")
    assert ("algorithm", "ppo") not in after and ("algorithm", "grpo") not in after
    assert after[("paradigm", "value-free")] == ("rules", "3 Method")
    # unchanged text: skipped; changed text: classified again
    assert json.loads(invoke("classify", "--json").stdout)["classified"] == 0
    store.save_sections(corpus_db, VISION_R1, [{"title": "3 Method", "text": "We adopt PPO with a learned critic."}],
                        source="arxiv-html", version="v3")
    assert json.loads(invoke("classify", "--json").stdout)["classified"] == 1
    assert label_rows(corpus_db, VISION_R1)[("algorithm", "ppo")] == ("rules", "3 Method")


def test_manual_labels_outrank_full_text(invoke, corpus_db) -> None:
    store.save_sections(corpus_db, VISION_R1, [{"title": "3 Method", "text": "We optimise with RLOO."}],
                        source="arxiv-html")
    assert invoke("label", VISION_R1, "algorithm=ppo").exit_code == 0
    assert invoke("classify", "--force").exit_code == 0
    rows = label_rows(corpus_db, VISION_R1)
    assert rows[("algorithm", "ppo")] == ("manual", "manual")
    assert ("algorithm", "rloo") not in rows
    assert rows[("paradigm", "value-free")] == ("rules", "3 Method")  # other facets still read the text


# -- the table --------------------------------------------------------------------------------------------------

def test_table_shows_not_stated(invoke, corpus_db) -> None:
    assert invoke("classify").exit_code == 0
    assert invoke("label", VISION_R1, "relevance=core", "reward=none").exit_code == 0
    with store.transaction(corpus_db):
        corpus_db.execute("DELETE FROM labels WHERE paper_id = ? AND facet = 'algorithm'", [VISION_R1])
    row = next(r for r in build_taxonomy_table(corpus_db) if r["paper_id"] == VISION_R1)
    assert row["algorithm"] == NOT_STATED
    assert row["reward"] == "none"  # set to none by a person: stated, not missing
    assert "| not stated |" in render_table_markdown([row])
    r = invoke("table")
    assert r.exit_code == 0 and "not stated" in r.stdout


# -- the labelled full-text set ---------------------------------------------------------------------------------

def test_gold_set_section_aware_beats_pasted_on_algorithm() -> None:
    records, gold = read_fulltext_gold(GOLD.read_text().splitlines(), source=str(GOLD))
    assert len(records) >= 40 and all(r.get("sections") for r in records)
    assert not {r["paper_id"] for r in records} & {p.paper_id for p in load_labelled()}  # never trained on
    scores = compare_readings(records, gold, classifier=get_classifier())
    ours, naive, alone = (scores[k]["algorithm"].micro["f1"] for k in ("sections", "pasted", "abstract"))
    assert ours > naive and ours > alone
    for facet in ("paradigm", "strategy"):
        assert scores["sections"][facet].micro["f1"] > scores["pasted"][facet].micro["f1"], facet


def test_all_hits_agrees_with_the_scanner() -> None:
    """The whole-text reader finds, for each value, the first deciding mention the abstract scanner finds, except
    that where phrases overlap the longest wins ("process reward model" is one phrase, "REINFORCE leave-one-out"
    is RLOO and not also REINFORCE)."""
    lexicon = load_lexicon()
    facets = ("algorithm", "paradigm", "reward", "strategy")
    records, _ = read_fulltext_gold(GOLD.read_text().splitlines(), source=str(GOLD))
    checked = 0
    for rec in records:
        for sec in rec["sections"]:
            text = sec["text"]
            hits = lexicon.all_hits(text, facets)
            first: dict = {}
            for h in hits:
                assert text[h.start:h.end].strip()
                first.setdefault((h.facet, h.value), (h.start, h.end))
            scan = lexicon.scan(None, text)
            for key, h in scan.decisive.items():
                if key[0] not in facets:
                    continue
                if key in first:
                    start, end = first[key]
                    assert start == h.start and end >= h.end, (rec["paper_id"], sec["title"], key)
                else:  # inside a longer phrase of another value
                    assert any(o.start <= h.start and h.end <= o.end and o.end - o.start > h.end - h.start
                               for o in hits), (rec["paper_id"], sec["title"], key)
                checked += 1
    assert checked > 100
    rloo = lexicon.all_hits("We optimise with RLOO (REINFORCE leave-one-out).", facets)
    assert [(h.facet, h.value) for h in rloo] == [("algorithm", "rloo"), ("algorithm", "rloo")]


def test_every_core_gives_the_same_labels() -> None:
    records, _ = read_fulltext_gold(GOLD.read_text().splitlines(), source=str(GOLD))
    papers = [dict(r, paper_id=f"{r['paper_id']}-{i}") for i in range(4) for r in records][:220]
    clf = get_classifier()
    one = [p.as_dict() for p in clf.predict(papers)]
    assert [p.as_dict() for p in clf.predict(papers, workers=2)] == one


def test_text_fetched_from_arxiv_is_classified_from_its_method(db, monkeypatch) -> None:
    """End to end: `fulltext` stores the sections of the fake arXiv's papers (HTML and LaTeX), `classify`
    reads them; each algorithm comes from the method, not from the other algorithms the papers mention."""
    from fake_arxiv import FakeArxiv, fixture_papers, seed_database

    from rlmllm_graph.classify import classify_database
    from rlmllm_graph.fulltext import fetch_fulltext
    from rlmllm_graph.sources.arxiv import ArxivClient

    monkeypatch.delenv("RLMLLM_ARXIV_URL", raising=False)
    papers = fixture_papers()
    seed_database(db, papers)
    with FakeArxiv(papers) as fake:
        fetch_fulltext(db, ArxivClient(fake.url, pace=0, timeout=2, backoff=0.001))
    texts = store.load_sections(db)
    classify_database(db)
    names = {"GRPO": "grpo", "T-GRPO": "grpo", "RLOO": "rloo"}
    checked = 0
    for p in papers:
        if p.paper_id not in texts or "method" not in p.expect:
            continue
        rows = label_rows(db, p.paper_id)
        algorithms = {v: w for (f, v), (_, w) in rows.items() if f == "algorithm"}
        assert set(algorithms) == {names[p.expect["method"]]}, (p.paper_id, rows)
        assert all(w in {s["title"] for s in texts[p.paper_id]} for w in algorithms.values()), algorithms
        checked += 1
    assert checked >= 4
