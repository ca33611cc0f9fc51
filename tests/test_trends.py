"""Trends on fixtures with known counts; emerging detection on a planted rise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis_fixture import fill_small
from rlmllm_graph.errors import BadInput, EmptyGraph
from rlmllm_graph.trends import (
    compute_cooccurrence,
    compute_emerging,
    compute_paper_counts,
    compute_trends,
    compute_trends_report,
    paper_periods,
    select_papers,
)

PAPERS = pd.DataFrame(
    {
        "paper_id": ["a", "b", "c", "d", "e", "f", "g"],
        "publication_date": ["2025-01-10", "2025-01-20", "2025-03-01", None, "2025-04", None, "garbage"],
        "year": [2025, 2025, 2025, 2025, 2025, None, 2024],
    }
)
LABELS = pd.DataFrame(
    [
        ("a", "algorithm", "grpo"), ("a", "algorithm", "ppo"), ("b", "algorithm", "grpo"),
        ("c", "algorithm", "grpo"), ("d", "algorithm", "dpo"), ("e", "algorithm", "ppo"),
        ("f", "algorithm", "grpo"),  # no date, no year: not counted
        ("a", "modality", "image"), ("b", "modality", "video"), ("c", "modality", "image"),
        ("a", "relevance", "core"), ("b", "relevance", "related"), ("c", "relevance", "other"),
        ("zz", "algorithm", "grpo"),  # a label of a paper not in the frame
    ],
    columns=["paper_id", "facet", "value"],
)


def test_paper_periods_month_else_year():
    per = paper_periods(PAPERS)
    assert per.to_dict() == {"a": "2025-01", "b": "2025-01", "c": "2025-03", "d": "2025-01", "e": "2025-04",
                             "g": "2024-01"}
    assert paper_periods(PAPERS, freq="Q").to_dict()["e"] == "2025Q2"
    assert paper_periods(PAPERS, freq="Y").to_dict()["c"] == "2025"
    with pytest.raises(BadInput):
        paper_periods(PAPERS, freq="W")


def test_trends_known_counts():
    t = compute_trends(PAPERS, LABELS, facet="algorithm")
    assert list(t.columns) == ["period", "value", "count", "total", "labelled", "share", "cumulative", "growth"]
    # every month from 2024-01 (paper g) to 2025-04, for each value, most frequent value first, "not stated" last
    assert t["period"].nunique() == 16 and t["period"].iloc[0] == "2024-01" and t["period"].iloc[-1] == "2025-04"
    assert list(dict.fromkeys(t["value"])) == ["grpo", "ppo", "dpo", "not stated"]
    jan = t[t.period == "2025-01"].set_index("value")
    assert jan["count"].to_dict() == {"grpo": 2, "ppo": 1, "dpo": 1, "not stated": 0}
    assert jan["total"].tolist() == [3, 3, 3, 3]  # a, b, d
    # g (2024) has no algorithm label: "not stated", 100% of its month
    g = t[t.period == "2024-01"].set_index("value")
    assert g.loc["not stated", "count"] == 1 and g.loc["not stated", "share"] == 1.0 and g.loc["grpo", "share"] == 0
    assert jan.loc["grpo", "share"] == pytest.approx(2 / 3)
    last = t[t.period == "2025-04"].set_index("value")
    assert last["cumulative"].to_dict() == {"grpo": 3, "ppo": 2, "dpo": 1, "not stated": 1}
    assert last.loc["ppo", "growth"] == pytest.approx(1.0)  # 1 new on 1 before
    assert np.isnan(t[(t.period == "2025-01") & (t.value == "grpo")]["growth"].iloc[0])
    feb = t[t.period == "2025-02"]
    assert feb["count"].sum() == 0 and (feb["share"] == 0).all()
    assert t[t.value != "not stated"]["count"].sum() == 6  # f has no period, zz is not a paper of the frame
    assert t[t.value == "not stated"]["count"].sum() == 1  # g


def test_trends_by_year_and_unknown_facet():
    t = compute_trends(PAPERS, LABELS, facet="algorithm", freq="Y")
    assert t[t.period == "2025"].set_index("value")["count"].to_dict() == {"grpo": 3, "ppo": 2, "dpo": 1,
                                                                          "not stated": 0}
    assert compute_trends(PAPERS, LABELS, facet="reward").empty


def test_paper_counts():
    c = compute_paper_counts(PAPERS, freq="Y")
    assert c.to_dict("list")["count"] == [1, 5] and c["cumulative"].tolist() == [1, 6]
    assert c["growth"].iloc[1] == pytest.approx(5.0)


def test_select_papers_and_cooccurrence():
    assert list(select_papers(PAPERS, LABELS)["paper_id"]) == ["a", "b"]
    assert len(select_papers(PAPERS, LABELS, relevance=None)) == 7
    assert len(select_papers(PAPERS, LABELS[LABELS.facet != "relevance"])) == 7  # no relevance labels yet
    table = compute_cooccurrence(PAPERS, LABELS, row_facet="modality", col_facet="algorithm")
    assert table.loc["image", "grpo"] == 2 and table.loc["image", "ppo"] == 1 and table.loc["video", "grpo"] == 1
    assert list(table.index) == ["image", "video"] and table.columns[0] == "grpo"


def _planted(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """24 months, 20 papers a month; grpo jumps from ~10% to ~60% in the last 6; ppo stays ~40%."""
    rng = np.random.default_rng(seed)
    papers, labels = [], []
    months = pd.period_range("2024-01", "2025-12", freq="M")
    for mi, month in enumerate(months):
        for k in range(20):
            pid = f"{month}-{k}"
            papers.append({"paper_id": pid, "publication_date": f"{month}-15", "year": month.year})
            recent = mi >= 18
            if rng.random() < (0.6 if recent else 0.1):
                labels.append((pid, "algorithm", "grpo"))
            if rng.random() < 0.4:
                labels.append((pid, "algorithm", "ppo"))
            labels.append((pid, "modality", "image" if rng.random() < 0.7 else "video"))
    return pd.DataFrame(papers), pd.DataFrame(labels, columns=["paper_id", "facet", "value"])


def test_emerging_finds_the_planted_rise():
    papers, labels = _planted()
    em = compute_emerging(papers, labels, recent_months=6)
    assert list(em.columns) == ["facet", "value", "recent", "before", "recent_total", "before_total",
                                "recent_share", "before_share", "growth", "p_value", "q_value", "rising", "note"]
    top = em.iloc[0]
    assert (top.facet, top.value) == ("algorithm", "grpo") and bool(top.rising)
    assert top.q_value < 1e-6 and top.growth > 2  # share among papers with an algorithm label
    assert top.recent + top.before == (labels.value == "grpo").sum()
    rising = set(zip(em[em.rising].facet, em[em.rising].value))
    assert rising == {("algorithm", "grpo")}


def test_emerging_windows_and_edge_cases():
    papers, labels = _planted()
    em = compute_emerging(papers, labels, recent_months=6, baseline_months=6, facets=["algorithm"])
    assert set(em.facet) == {"algorithm"}
    assert (em.recent_total + em.before_total).max() <= 12 * 20
    # ending before the rise: nothing rises
    quiet = compute_emerging(papers, labels, recent_months=6, end="2025-06")
    assert not quiet.rising.any()
    # a facet nobody used recently has no growth (not an inflated one) and does not rise
    old = pd.concat([labels, pd.DataFrame({"paper_id": papers.paper_id[:40], "facet": "reward", "value": "rule"})])
    row = compute_emerging(papers, old).set_index(["facet", "value"]).loc[("reward", "rule")]
    assert row.recent_total == 0 and np.isnan(row.growth) and not row.rising
    # year-only papers take no part
    assert compute_emerging(papers.assign(publication_date=None), labels).empty
    with pytest.raises(BadInput):
        compute_emerging(papers, labels, recent_months=0)


def test_trends_report_from_the_database(db):
    fill_small(db)
    rep = compute_trends_report(db, freq="Y")
    # core + related papers only: p1, p2, p3, p5
    assert sorted(rep.papers["paper_id"]) == ["p1", "p2", "p3", "p5"]
    assert rep.facets == ["modality", "algorithm", "application"]
    assert rep.trends["modality"].groupby("value")["count"].sum().to_dict() == {"video": 3, "not stated": 1}
    d = rep.as_dict()
    assert set(d) >= {"freq", "papers", "facets", "paper_counts", "trends", "emerging"}
    every = compute_trends_report(db, relevance=None, facets=["relevance"])
    assert every.facets == ["relevance"] and len(every.papers) == 6
    with pytest.raises(BadInput, match="unknown facet"):
        compute_trends_report(db, facets=["colour"])


def test_trends_report_on_empty_database(db):
    with pytest.raises(EmptyGraph):
        compute_trends_report(db)


def test_docstring_examples_run():
    import doctest

    from rlmllm_graph import trends

    result = doctest.testmod(trends)
    assert result.failed == 0 and result.attempted > 0


def test_trends_of_no_papers_is_an_empty_table():
    empty = compute_trends(PAPERS.iloc[:0], LABELS, facet="algorithm")
    assert empty.empty and list(empty.columns)[:3] == ["period", "value", "count"]


def _add_implausible_rows(db) -> None:
    """Rows the importer now refuses, written with SQL as an older version could have stored them."""
    rows = [("old1", 10000, None), ("old2", 1, None), ("old3", 2025, "yesterday"),
            ("old4", -3, "0001-02-03"), ("old5", 2**63 - 1, "99999-01-01")]
    db.conn.executemany("INSERT INTO papers (paper_id, title, year, publication_date) VALUES (?, ?, ?, ?)",
                        [(pid, f"Old {pid}", y, d) for pid, y, d in rows])
    db.conn.execute("UPDATE papers SET corpus_id = ?1, citation_count = ?1, reference_count = ?1 "
                    "WHERE paper_id = 'old5'", [2**63 - 1])
    db.conn.executemany(
        "INSERT INTO labels (paper_id, facet, value, confidence, source) VALUES (?, ?, ?, 1.0, 'manual')",
        [(pid, f, v) for pid, *_ in rows for f, v in (("relevance", "core"), ("modality", "video"))],
    )


def test_implausible_stored_years_are_left_out():
    papers = pd.DataFrame({"paper_id": ["ok", "far", "one", "neg", "day", "huge"],
                           "year": [2025, 10000, 1, -3, 2024, 2**62],
                           "publication_date": ["2025-02-03", None, None, "0001-02-03", "yesterday", "99999-01"]})
    for freq in ("M", "Q", "Y"):
        got = paper_periods(papers, freq=freq)
        assert sorted(got.index) == ["day", "ok"]
    assert paper_periods(papers, freq="Q").to_dict() == {"ok": "2025Q1", "day": "2024Q1"}


@pytest.mark.parametrize("freq", ["M", "Q", "Y"])
def test_trends_report_and_command_ignore_implausible_stored_years(db, invoke, freq):
    fill_small(db)
    _add_implausible_rows(db)
    rep = compute_trends_report(db, freq=freq, relevance=None)
    assert "old3" in set(rep.papers["paper_id"])  # its year still places it
    r = invoke("trends", "--freq", freq)
    assert r.exit_code == 0, r.stderr
    assert "unexpected" not in r.stderr


def test_report_and_site_ignore_implausible_stored_years(db, invoke, tmp_path):
    from rlmllm_graph.site import render_site

    fill_small(db)
    _add_implausible_rows(db)
    from rlmllm_graph.explore.pack import unpack_js

    pages = render_site(db)  # what `serve` renders for every request
    titles = unpack_js(pages["data/papers.js"])[0]["columns"]["title"]  # the papers table the pages load
    assert "Old old1" in titles and "Old old5" in titles
    r = invoke("report", "--out", str(tmp_path / "site"))
    assert r.exit_code == 0, r.stderr
    r = invoke("table")
    assert r.exit_code == 0 and "yesterd" not in r.stdout and "99999" not in r.stdout
    assert "| Old old3 | 2025 |" in r.stdout  # the year still dates it
    r = invoke("graph")
    assert r.exit_code == 0, r.stderr
