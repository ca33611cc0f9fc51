"""``classify`` (database, file mode, --evaluate, --cross-validate) and ``label`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlmllm_graph import store
from rlmllm_graph.classify import FACETS
from rlmllm_graph.ingest import import_files
from rlmllm_graph.records import Paper

from conftest import FIXTURES, write_jsonl

VISION_R1 = "aaaa000000000000000000000000000000000002"


@pytest.fixture
def corpus_db(db):
    import_files(db, [FIXTURES / "mini_corpus.jsonl"])
    return db


def labels_of(db, pid: str) -> dict[tuple[str, str], str]:
    return {(f, v): s for f, v, s in db.execute("SELECT facet, value, source FROM labels WHERE paper_id = ?", [pid])}


# -- file mode ----------------------------------------------------------------------------------------------

def test_file_mode(invoke, tmp_path: Path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"paper_id": "b", "title": "Video-R1: reinforcing video reasoning in MLLMs", "abstract": "We use T-GRPO."},
        {"paper_id": "a", "title": "Audio-Reasoner: reasoning in audio language models", "extra": 1},
        {"paper_id": "c", "title": None, "abstract": None},
    ])
    out = tmp_path / "out.jsonl"
    r = invoke("classify", "--input", str(src), "--output", str(out), db=False)
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [x["paper_id"] for x in rows] == ["b", "a", "c"]
    assert rows[0]["labels"]["modality"] == ["video"] and rows[0]["labels"]["algorithm"] == ["grpo"]
    assert rows[1]["labels"]["modality"] == ["audio"]
    assert all(set(x["labels"]) == set(FACETS) for x in rows)
    assert "Classified 3 papers" in r.stderr


def test_file_mode_to_stdout(invoke, tmp_path: Path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"paper_id": "x", "title": "GRPO for GUI agents"}])
    r = invoke("classify", "--input", str(src), db=False)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["labels"]["application"] == ["gui-agent"]


@pytest.mark.parametrize("line, message", [
    ('{"title": "no id"}', "no paper_id"),
    ('{"paper_id": ""}', "no paper_id"),
    ("not json", "not JSON (Expecting value)"),
    ('{"paper_id": "x", "title": 5}', "title must be a string or null"),
    ("[" * 200_000, "not JSON (depth limit exceeded)"),
])
def test_file_mode_bad_line(invoke, tmp_path: Path, line: str, message: str):
    src = tmp_path / "in.jsonl"
    src.write_text('{"paper_id": "ok", "title": "fine"}\n' + line + "\n")
    out = tmp_path / "out.jsonl"
    r = invoke("classify", "--input", str(src), "--output", str(out), db=False)
    assert r.exit_code == 2
    assert r.stderr.strip() == f"Error: {src}:2: {message}"
    assert not out.exists()


def test_usage_errors(invoke, tmp_path: Path):
    r = invoke("classify", "--output", str(tmp_path / "o.jsonl"), db=False)
    assert r.exit_code == 2 and "--output needs --input" in r.stderr
    r = invoke("classify", "--input", str(tmp_path / "missing.jsonl"), db=False)
    assert r.exit_code == 2 and "no such file" in r.stderr
    src = write_jsonl(tmp_path / "in.jsonl", [{"paper_id": "x"}])
    r = invoke("classify", "--input", str(src), "--evaluate", str(src), db=False)
    assert r.exit_code == 2 and "cannot be used together" in r.stderr


# -- evaluation ---------------------------------------------------------------------------------------------

def test_evaluate(invoke, tmp_path: Path):
    gold = write_jsonl(tmp_path / "gold.jsonl", [
        {"paper_id": "g1", "title": "Video-R1: reinforcing video reasoning in MLLMs with GRPO", "abstract": None,
         "gold": {"relevance": ["core"], "modality": ["video"], "algorithm": ["grpo"], "paradigm": ["value-free"],
                  "strategy": ["rl"], "application": ["general"]}},
        {"paper_id": "g2", "title": "Fixed point quantization of deep convolutional networks", "abstract": None,
         "gold": {"relevance": ["other"]}},
    ])
    r = invoke("classify", "--evaluate", str(gold), db=False)
    assert r.exit_code == 0, r.stderr
    assert "held-out: 2 papers" in r.stdout and "keyword" in r.stdout and "modality" in r.stdout
    r = invoke("classify", "--evaluate", str(gold), "--json", db=False)
    data = json.loads(r.stdout)
    assert data["papers"] == 2 and data["facets"]["algorithm"]["ours"]["micro"]["f1"] == 1.0
    assert set(data["facets"]["modality"]) == {"ours", "baseline"}
    assert data["facets"]["modality"]["ours"]["target_metric"] == "macro-F1"


def test_evaluate_bad_gold(invoke, tmp_path: Path):
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"paper_id": "g", "gold": {"modality": ["smell"]}}])
    r = invoke("classify", "--evaluate", str(gold), db=False)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {gold}:1: unknown value 'smell'")


def test_cross_validate_json(invoke):
    r = invoke("classify", "--cross-validate", "--folds", "2", "--json", db=False)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["kind"] == "2-fold cross-validation" and data["papers"] >= 300


# -- the database ---------------------------------------------------------------------------------------------

def test_classify_database_and_skip_unchanged(invoke, corpus_db):
    r = invoke("classify")
    assert r.exit_code == 0, r.stderr
    assert "Classified 4 of 4 papers" in r.stdout
    got = labels_of(corpus_db, VISION_R1)
    assert got[("algorithm", "grpo")] == "rules" and got[("strategy", "sft+rl")] == "rules"
    assert all(s in ("rules", "model") for s in got.values())
    hashes = store.load_classified(corpus_db)
    assert len(hashes) == 4
    r = invoke("classify", "--json")
    assert json.loads(r.stdout)["classified"] == 0 and json.loads(r.stdout)["unchanged"] == 4
    # a changed abstract is classified again; the others are skipped
    with store.transaction(corpus_db):
        store.upsert_papers(corpus_db, [Paper(paper_id=VISION_R1, abstract="We train with PPO and a critic.")])
    data = json.loads(invoke("classify", "--json").stdout)
    assert data["classified"] == 1 and data["unchanged"] == 3
    got = labels_of(corpus_db, VISION_R1)
    assert ("algorithm", "ppo") in got and ("algorithm", "grpo") not in got


def test_manual_labels_win(invoke, corpus_db):
    assert invoke("classify").exit_code == 0
    r = invoke("label", "ARXIV:2503.06749", "relevance=related", "modality=video,audio")
    assert r.exit_code == 0, r.stderr
    assert "relevance=related; modality=video,audio (manual)" in r.stdout
    r = invoke("classify", "--force", "--json")
    assert json.loads(r.stdout)["kept_manual"] >= 2
    got = labels_of(corpus_db, VISION_R1)
    assert got[("relevance", "related")] == "manual" and ("relevance", "core") not in got
    assert got[("modality", "video")] == got[("modality", "audio")] == "manual" and ("modality", "image") not in got
    assert got[("algorithm", "grpo")] == "rules"  # other facets still from the classifier
    r = invoke("label", VISION_R1, "modality=image", "--json")
    assert json.loads(r.stdout)["labels"] == {"modality": ["image"]}
    assert {v for (f, v) in labels_of(corpus_db, VISION_R1) if f == "modality"} == {"image"}


def test_label_sets_a_facet_to_none(invoke, corpus_db):
    assert invoke("classify").exit_code == 0
    assert any(f == "modality" for f, _ in labels_of(corpus_db, VISION_R1))
    r = invoke("label", VISION_R1, "modality=none", "reward=none")
    assert r.exit_code == 0, r.stderr
    assert "modality=none; reward=none (manual)" in r.stdout
    invoke("classify", "--force")
    got = labels_of(corpus_db, VISION_R1)
    assert not [f for f, _ in got if f in ("modality", "reward")]  # the classifier leaves them empty
    assert ("algorithm", "grpo") in got
    assert invoke("label", VISION_R1, "reward=none,none").exit_code == 0  # said twice is still none
    r = invoke("label", VISION_R1, "modality=video", "--json")  # a value replaces the none
    assert json.loads(r.stdout)["labels"] == {"modality": ["video"]}
    invoke("classify", "--force")
    got = labels_of(corpus_db, VISION_R1)
    assert {v for f, v in got if f == "modality"} == {"video"} and got[("modality", "video")] == "manual"
    assert not [f for f, _ in got if f == "reward"]


@pytest.mark.parametrize("args, message", [
    (["ARXIV:2503.06749", "relevance=none"], "relevance takes exactly one value"),
    (["ARXIV:2503.06749", "modality=none,image"], "modality=none cannot be combined"),
    (["ARXIV:2503.06749", "modality=none", "modality=video"], "modality=none cannot be combined"),
    (["ARXIV:2503.06749", "modality="], "use modality=none for none"),
    (["ARXIV:2503.06749", "colour=red"], "unknown facet 'colour'"),
    (["ARXIV:2503.06749", "strategy=rl,sft+rl"], "facet strategy takes one value"),
    (["ARXIV:2503.06749", "modality"], "expected FACET=VALUE"),
    (["ARXIV:1111.11111", "relevance=core"], "paper not found: ARXIV:1111.11111"),
    (["CorpusId:99999999999999999999999", "relevance=core"], "paper not found: CorpusId:99999999999999999999999"),
])
def test_label_errors(invoke, corpus_db, args, message):
    r = invoke("label", *args)
    assert r.exit_code == 2
    assert message in r.stderr and r.stderr.startswith("Error: ")


def test_classify_needs_a_database(invoke, tmp_path: Path):
    r = invoke("classify", "--db", str(tmp_path / "none.db"), db=False)
    assert r.exit_code == 1 and "no database at" in r.stderr


def test_help_has_examples(invoke):
    for cmd in ("classify", "label"):
        r = invoke(cmd, "--help", db=False)
        assert r.exit_code == 0 and "Examples:" in r.stdout


def test_review_lists_the_least_certain_papers_first(invoke, corpus_db):
    r = invoke("classify", "--review", "3")
    assert r.exit_code == 0 and "Nothing to review" in r.stdout  # not classified yet
    assert invoke("classify").exit_code == 0
    items = json.loads(invoke("classify", "--review", "50", "--json").stdout)
    n = store.paper_count(corpus_db)
    assert len(items) == n
    confs = [it["confidence"] for it in items]
    assert confs == sorted(confs)
    stored = {pid: c for pid, c in corpus_db.execute(
        "SELECT paper_id, confidence FROM labels WHERE facet = 'relevance'")}
    assert all(abs(it["confidence"] - stored[it["paper_id"]]) < 1e-3 for it in items)
    assert all({"paper_id", "arxiv_id", "title", "title_only", "labels"} <= set(it) for it in items)
    first = items[0]
    # a paper a person has labelled is done: it leaves the queue
    assert invoke("label", first["paper_id"], "relevance=core").exit_code == 0
    after = json.loads(invoke("classify", "--review", "50", "--json").stdout)
    assert first["paper_id"] not in {it["paper_id"] for it in after} and len(after) == n - 1
    corpus_db.execute("UPDATE labels SET confidence = NULL WHERE facet = 'relevance' AND paper_id = ?",
                      [after[-1]["paper_id"]])
    unknown = json.loads(invoke("classify", "--review", "1", "--json").stdout)[0]
    assert unknown["paper_id"] == after[-1]["paper_id"] and unknown["confidence"] is None  # unknown comes first
    corpus_db.execute("UPDATE labels SET confidence = ? WHERE facet = 'relevance' AND paper_id = ?",
                      [after[-1]["confidence"], after[-1]["paper_id"]])
    text = invoke("classify", "--review", "1").stdout
    assert text.splitlines()[0].startswith("1 paper, least certain first")
    assert after[0]["title"] in text


@pytest.mark.parametrize("args, message", [
    (["--review", "0"], "--review takes a count of at least 1"),
    (["--review", "x"], "'x' is not a valid integer"),
    (["--review", "3", "--cross-validate"], "--cross-validate and --review cannot be used together"),
    (["--review", "3", "--force"], "--review and --force cannot be used together"),
])
def test_review_errors(invoke, corpus_db, args, message):
    r = invoke("classify", *args)
    assert r.exit_code == 2 and message in r.stderr, r.stderr


def test_evaluate_given_labels(invoke, tmp_path: Path):
    """--predictions scores a file of labels (another labeller's, a `classify --output`) instead of the classifier."""
    gold = write_jsonl(tmp_path / "gold.jsonl", [
        {"paper_id": "g1", "title": "Video-R1: reinforcing video reasoning in MLLMs with GRPO", "abstract": None,
         "gold": {"relevance": ["core"], "modality": ["video"], "algorithm": ["grpo"]}},
        {"paper_id": "g2", "title": "Fixed point quantization of deep convolutional networks", "abstract": None,
         "gold": {"relevance": ["other"]}},
    ])
    given = write_jsonl(tmp_path / "given.jsonl", [
        {"paper_id": "g2", "labels": {"relevance": ["related"]}},
        {"paper_id": "g1", "labels": {"relevance": ["core"], "modality": ["video", "image"], "algorithm": ["grpo"]},
         "confidence": {}},  # a `classify --output` line carries more keys
        {"paper_id": "not-gold", "labels": {"relevance": ["core"]}},  # ignored
    ])
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), "--json", db=False)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["kind"] == f"labels of {given}" and data["trained_on"] is None and data["papers"] == 2
    assert data["facets"]["relevance"]["ours"]["micro"]["f1"] == 0.5
    assert data["facets"]["modality"]["ours"]["values"]["image"]["predicted"] == 1
    assert data["facets"]["algorithm"]["ours"]["micro"]["f1"] == 1.0
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(given), db=False)
    assert "the labels given" in r.stdout and "given" in r.stdout.splitlines()[1]

    short = write_jsonl(tmp_path / "short.jsonl", [{"paper_id": "g1", "labels": {"relevance": ["core"]}}])
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(short), db=False)
    assert r.exit_code != 0 and r.stderr.strip() == f"Error: {short}: no labels for 1 of the 2 gold papers (first: g2)"
    twice = write_jsonl(tmp_path / "twice.jsonl", [{"paper_id": "g1", "labels": {}}, {"paper_id": "g1", "labels": {}}])
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(twice), db=False)
    assert r.exit_code != 0 and r.stderr == f"Error: {twice}: paper g1 is there twice\n"
    doubled = write_jsonl(tmp_path / "doubled.jsonl", [json.loads(line) for line in gold.read_text().splitlines()] * 2)
    r = invoke("classify", "--evaluate", str(doubled), "--predictions", str(given), db=False)
    assert r.exit_code != 0 and "is there twice" in r.stderr
    r = invoke("classify", "--evaluate", str(doubled), db=False)
    assert r.exit_code != 0 and "is there twice" in r.stderr
    r = invoke("classify", "--predictions", str(given), db=False)
    assert r.exit_code == 2 and "--predictions needs --evaluate" in r.stderr
    r = invoke("classify", "--evaluate", "-", "--predictions", "-", db=False)
    assert r.exit_code == 2 and "cannot both read standard input" in r.stderr
    for empty in (("--evaluate", str(gold), "--predictions", ""), ("--evaluate", ""), ("--input", ""),
                  ("--input", str(gold), "--output", "")):
        r = invoke("classify", *empty, db=False)
        assert r.exit_code == 2 and "empty file name" in r.stderr, empty
    for bad in ({"modality": None}, {"modality": 5}, {"modality": [["image"]]}, {"modality": {"image": 0.9}}):
        odd = write_jsonl(tmp_path / "odd.jsonl", [{"paper_id": "g1", "labels": bad}])
        r = invoke("classify", "--evaluate", str(gold), "--predictions", str(odd), db=False)
        assert r.exit_code == 2 and "facet modality needs a list of values" in r.stderr, bad
    broken = tmp_path / "given.jsonl.gz"
    import gzip
    data = bytearray(gzip.compress(given.read_bytes() * 50))
    data[len(data) // 2: len(data) // 2 + 8] = b"\xff" * 8
    broken.write_bytes(bytes(data))
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(broken), db=False)
    assert r.exit_code != 0 and r.stderr.startswith(f"Error: {broken}: cannot read") and "unexpected" not in r.stderr


def test_scoring_classifier_output_on_training_papers_says_it_is_not_held_out(invoke, tmp_path: Path):
    from rlmllm_graph.classify import labels_dir

    first = next(iter((labels_dir() / "heldout.jsonl").read_text().splitlines()))
    gold = write_jsonl(tmp_path / "gold.jsonl", [json.loads(first)])
    out = tmp_path / "out.jsonl"
    assert invoke("classify", "--input", str(gold), "--output", str(out), db=False).exit_code == 0
    r = invoke("classify", "--evaluate", str(gold), "--predictions", str(out), "--json", db=False)
    assert r.exit_code == 0, r.stderr
    assert "1 of the 1 gold papers are in the labels the classifier trains on" in json.loads(r.stdout)["notes"][0]


# -- where --output goes --------------------------------------------------------------------------------------

def test_output_onto_the_database_is_refused(invoke, runner, corpus_db, db_path: Path, tmp_path: Path, monkeypatch):
    from rlmllm_graph.cli import cli

    before = store.paper_count(corpus_db)
    src = write_jsonl(tmp_path / "ci.jsonl", [{"paper_id": "x", "title": "GRPO for video"}])
    for out in (str(db_path), str(db_path) + "-wal", str(db_path) + "-journal"):
        r = invoke("classify", "--input", str(src), "--output", out)
        assert r.exit_code == 2
        assert len(r.stderr.splitlines()) == 1 and "writing there would destroy it" in r.stderr
    monkeypatch.setenv("RLMLLM_DB", str(db_path))
    r = runner.invoke(cli, ["classify", "--input", str(src), "--output", str(db_path)])
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"Error: --output {db_path} is the database; writing there would destroy it; choose another file"
    ]
    assert store.paper_count(corpus_db) == before


def test_output_through_a_symlink_and_under_a_file(invoke, tmp_path: Path):
    src = write_jsonl(tmp_path / "ci.jsonl", [{"paper_id": "x", "title": "GRPO for video"}])
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = invoke("classify", "--input", str(src), "--output", str(afile / "x.jsonl"), db=False)
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [f"Error: cannot write {afile / 'x.jsonl'}: {afile} is a file, not a folder"]
    target = tmp_path / "target.jsonl"
    (tmp_path / "link.jsonl").symlink_to(target.name)
    r = invoke("classify", "--input", str(src), "--output", str(tmp_path / "link.jsonl"), db=False)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "link.jsonl").is_symlink() and json.loads(target.read_text())["paper_id"] == "x"


def test_output_on_a_full_disk_is_one_plain_line(invoke, tmp_path: Path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    src = write_jsonl(tmp_path / "ci.jsonl", [{"paper_id": "x", "title": "GRPO for video"}])
    r = invoke("classify", "--input", str(src), "--output", "/dev/full", db=False)
    assert r.exit_code == 1
    assert r.stderr.splitlines() == ["Error: cannot write: No space left on device (/dev/full)"]
