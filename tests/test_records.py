"""Paper ids in every accepted spelling, and the exception tree's exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rlmllm_graph import errors
from rlmllm_graph.parse import ShapeError, paper_from_api, parse_record
from rlmllm_graph.records import INT64_MAX, normalise_arxiv_id, normalise_doi, normalise_paper_id


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


@pytest.mark.parametrize("bad", ["", "   ", "hello world", "ARXIV:notanid", "CorpusId:abc", "https://arxiv.org/abs/",
                                 "CorpusId:\u00b2", "CorpusId:\u0661\u0662"])
def test_bad_ids_are_bad_input(bad):
    with pytest.raises(errors.BadInput):
        normalise_paper_id(bad)


def test_small_normalisers():
    assert normalise_arxiv_id("2503.06749v2") == "2503.06749"
    assert normalise_arxiv_id(None) is None and normalise_arxiv_id("junk") is None
    assert normalise_doi("https://doi.org/10.1/ABC") == "10.1/abc"


@pytest.mark.parametrize("given, expected", [
    ("2025", "2025"), ("2025-03", "2025-03"), ("2025-03-09", "2025-03-09"),
    ("2025-03-09T10:00:00Z", "2025-03-09"), ("2025-03-09 10:00:00.5+02:00", "2025-03-09"), (None, None), ("", None),
])
def test_publication_dates_kept(given, expected):
    assert paper_from_api({"paperId": "x", "publicationDate": given}).publication_date == expected
    assert parse_record({"corpusid": 1, "title": "t", "publicationdate": given}).papers[0].publication_date == expected


@pytest.mark.parametrize("bad", ["yesterday", "2025-13", "2025-02-30", "0999-01-01", "3000", "2025-03-09x",
                                 "2025/03/09", "\u0662\u0660\u0662\u0665", "10000-01-01"])
def test_publication_dates_refused(bad):
    with pytest.raises(ShapeError, match="'publicationDate' must be a date YYYY, YYYY-MM or YYYY-MM-DD"):
        paper_from_api({"paperId": "x", "publicationDate": bad})
    with pytest.raises(ShapeError, match="'publicationdate' must be a date"):
        parse_record({"corpusid": 1, "title": "t", "publicationdate": bad})


@pytest.mark.parametrize("year", [1000, 2999, "2025", 2025.0])
def test_plausible_years_kept(year):
    assert paper_from_api({"paperId": "x", "year": year}).year == int(year)


@pytest.mark.parametrize("year, why", [
    (999, "between 1000 and 2999"), (3000, "between 1000 and 2999"), (10000, "between 1000 and 2999"),
    (1, "between 1000 and 2999"), (-5, "between 1000 and 2999"), (10**30, "larger than a 64-bit integer"),
    (1e20, "larger than a 64-bit integer"), (float("inf"), "must be a number"), (float("nan"), "must be a number"),
    ("9" * 5000, "must be a number"),
])
def test_implausible_years_refused(year, why):
    with pytest.raises(ShapeError, match=why):
        paper_from_api({"paperId": "x", "year": year})
    with pytest.raises(ShapeError, match=why):
        parse_record({"corpusid": 1, "title": "t", "year": year})


@pytest.mark.parametrize("record", [
    {"paperId": "x", "corpusId": INT64_MAX + 1},
    {"paperId": "x", "externalIds": {"CorpusId": 10**20}},
    {"paperId": "x", "citationCount": 10**20},
    {"paperId": "x", "referenceCount": -(2**63) - 1},
    {"paperId": "x", "references": [{"paperId": "y", "title": "nested", "corpusId": 10**20}]},
    {"corpusid": 10**20, "title": "t"},
    {"corpusid": 1, "title": "t", "citationcount": 10**20},
    {"corpusid": 10**20, "abstract": "a"},
    {"citingcorpusid": 1, "citedcorpusid": 10**20},
])
def test_integers_sqlite_cannot_hold_are_refused(record):
    with pytest.raises(ShapeError, match="out of range"):
        parse_record(record)


def test_largest_sqlite_integer_is_kept():
    p = paper_from_api({"paperId": "x", "corpusId": INT64_MAX, "citationCount": INT64_MAX})
    assert p.corpus_id == p.citation_count == INT64_MAX


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


def test_papers_count_is_singular_for_one_and_groups_thousands():
    from rlmllm_graph.records import papers_count

    assert [papers_count(n) for n in (0, 1, 2, 1024)] == ["0 papers", "1 paper", "2 papers", "1,024 papers"]
