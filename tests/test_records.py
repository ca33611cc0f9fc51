"""Paper ids in every accepted spelling, and the exception tree's exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rlmllm_graph import errors
from rlmllm_graph.records import normalise_arxiv_id, normalise_doi, normalise_paper_id


@pytest.mark.parametrize(
    "given, expected",
    [
        ("ARXIV:2503.06749", "ARXIV:2503.06749"),
        ("arXiv:2503.06749v3", "ARXIV:2503.06749"),
        ("2503.06749", "ARXIV:2503.06749"),
        ("https://arxiv.org/abs/2504.21277", "ARXIV:2504.21277"),
        ("https://arxiv.org/pdf/2504.21277v1.pdf", "ARXIV:2504.21277"),
        ("http://www.arxiv.org/abs/hep-th/9901001v2", "ARXIV:hep-th/9901001"),
        ("CorpusId:215416146", "CorpusId:215416146"),
        ("corpusid:215416146", "CorpusId:215416146"),
        ("DOI:10.18653/V1/N18-3011", "DOI:10.18653/v1/n18-3011"),
        ("10.18653/v1/N18-3011", "DOI:10.18653/v1/n18-3011"),
        ("https://doi.org/10.1145/ABC", "DOI:10.1145/abc"),
        ("649def34f8be52c8b66281af98ae884c09aef38b", "649def34f8be52c8b66281af98ae884c09aef38b"),
        ("https://www.semanticscholar.org/paper/Some-Title/649def34f8be52c8b66281af98ae884c09aef38b",
         "649def34f8be52c8b66281af98ae884c09aef38b"),
    ],
)
def test_normalise_paper_id(given, expected):
    assert normalise_paper_id(given) == expected


@pytest.mark.parametrize("bad", ["", "   ", "hello world", "ARXIV:notanid", "CorpusId:abc", "https://arxiv.org/abs/"])
def test_bad_ids_are_bad_input(bad):
    with pytest.raises(errors.BadInput):
        normalise_paper_id(bad)


def test_small_normalisers():
    assert normalise_arxiv_id("2503.06749v2") == "2503.06749"
    assert normalise_arxiv_id(None) is None and normalise_arxiv_id("junk") is None
    assert normalise_doi("https://doi.org/10.1/ABC") == "10.1/abc"


def test_exit_codes_follow_the_tree():
    assert errors.BadInput("x").exit_code == 2
    assert errors.PaperNotFound("X").exit_code == 2
    assert str(errors.PaperNotFound("ARXIV:1")) == "paper not found: ARXIV:1"
    assert errors.SourceError("x").exit_code == 1
    assert errors.StoreError("x").exit_code == 1
    assert errors.BadDatabasePath("x").exit_code == 2
    assert str(errors.MalformedRecord("bad", path="f.jsonl", line=3)) == "f.jsonl:3: bad"


def test_python_dash_m_runs_the_cli():
    r = subprocess.run([sys.executable, "-m", "rlmllm_graph", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "import" in r.stdout


def test_unexpected_errors_are_one_line(runner, monkeypatch, tmp_path):
    from rlmllm_graph import store
    from rlmllm_graph.cli import cli

    def boom(*a, **k):
        raise ValueError("something odd\nwith two lines")

    monkeypatch.setattr(store, "compute_stats", boom)
    store.open_db(tmp_path / "x.db").conn.close()
    r = runner.invoke(cli, ["stats", "--db", str(tmp_path / "x.db")])
    assert r.exit_code == 1
    assert r.stderr.strip().count("\n") == 0 and "unexpected ValueError: something odd with two lines" in r.stderr
