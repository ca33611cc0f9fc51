"""Trends numbers that must be right: plain growth, no test without a before period, "not stated" shares,
stacks that say what they stack, cumulative axes that end at the number of papers, one date axis a page."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from rlmllm_graph import store
from rlmllm_graph.plots import period_range, plot_paper_counts, plot_timeline, plot_trends, stacks_papers
from rlmllm_graph.trends import NOT_STATED, compute_emerging, compute_paper_counts, compute_trends


def _frames(spec: list[tuple[str, list[tuple[str, str]]]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``[(month, [(facet, value), ...]), ...]`` → papers and labels frames (one paper per entry)."""
    papers, labels = [], []
    for i, (month, labs) in enumerate(spec):
        pid = f"p{i:03d}"
        papers.append({"paper_id": pid, "publication_date": f"{month}-15", "year": int(month[:4]), "title": pid,
                       "citation_count": 1, "venue": None})
        labels += [(pid, f, v) for f, v in labs]
        labels.append((pid, "relevance", "core"))
    return pd.DataFrame(papers), pd.DataFrame(labels, columns=["paper_id", "facet", "value"])


# 10 papers in 2024 (grpo 5, ppo 5), 4 recent ones in 2025 (ppo 2, dpo 2): grpo falls to 0, ppo ×1, dpo is new
BEFORE = [(f"2024-{m:02d}", [("algorithm", "grpo" if m % 2 else "ppo")]) for m in range(1, 11)]
RECENT = [("2025-03", [("algorithm", "ppo")]), ("2025-04", [("algorithm", "ppo")]),
          ("2025-05", [("algorithm", "dpo")]), ("2025-06", [("algorithm", "dpo")])]


def test_growth_is_the_plain_ratio_of_shares():
    papers, labels = _frames(BEFORE + RECENT)
    em = compute_emerging(papers, labels, recent_months=6).set_index("value")
    grpo, ppo, dpo = em.loc["grpo"], em.loc["ppo"], em.loc["dpo"]
    assert (grpo.recent, grpo.recent_total, grpo.before, grpo.before_total) == (0, 4, 5, 10)
    assert grpo.growth == 0.0 and grpo.note == "" and not grpo.rising  # ×0, not ×0.1 or ×3.1 from smoothing
    assert ppo.growth == pytest.approx((2 / 4) / (5 / 10)) == 1.0
    assert math.isnan(dpo.growth) and dpo.note == "new: none before" and dpo.recent_share == 0.5
    # the test statistic uses the counts as they are
    from scipy.stats import fisher_exact

    assert dpo.p_value == pytest.approx(fisher_exact([[2, 2], [0, 10]], alternative="greater").pvalue)


def test_no_before_period_means_no_growth_and_no_test(invoke, db_path):
    papers, labels = _frames(RECENT)
    em = compute_emerging(papers, labels, recent_months=6)
    assert (em["before_total"] == 0).all() and em["growth"].isna().all() and em["p_value"].isna().all()
    assert set(em["note"]) == {"no papers before the window"} and not em["rising"].any()
    _store(db_path, papers, labels)
    out = invoke("trends").stdout
    assert "no papers before the last 6 months to compare with: no growth and no test" in out
    assert "×" not in out
    data = json.loads(invoke("trends", "--json").stdout)
    assert all(r["growth"] is None and r["p_value"] is None for r in data["emerging"])


def _store(db_path, papers: pd.DataFrame, labels: pd.DataFrame) -> None:
    db = store.open_db(db_path)
    db.conn.executemany("INSERT INTO papers (paper_id, title, year, publication_date) VALUES (?, ?, ?, ?)",
                        papers[["paper_id", "title", "year", "publication_date"]].itertuples(index=False))
    db.conn.executemany("INSERT INTO labels (paper_id, facet, value, confidence, source) "
                        "VALUES (?, ?, ?, 1.0, 'manual')", labels.itertuples(index=False))
    db.conn.close()


def test_the_cli_prints_x0_and_new_in_words(invoke, db_path):
    # many papers so that dpo's rise is significant and shows
    before = [(f"2024-{1 + i % 12:02d}", [("algorithm", "grpo" if i % 2 else "ppo")]) for i in range(40)]
    recent = [(f"2025-0{1 + i % 6}", [("algorithm", "dpo")]) for i in range(12)]
    papers, labels = _frames(before + recent)
    _store(db_path, papers, labels)
    out = invoke("trends", "--recent-months", "6").stdout
    assert re.search(r"algorithm=dpo: 0% → 100% \(new, 12 papers recent, q=", out), out
    assert "algorithm: papers and share of all 52; recent (2025-01 to 2025-06): papers and share of the 12" in out
    assert "  dpo                12   23%      12   100%" in out  # 12 of 52 papers; all 12 recent ones
    yearly = invoke("trends", "--freq", "Y").stdout
    assert "recent (2025): papers and share of the 12" in yearly


def test_not_stated_is_a_share_of_its_own():
    spec = [("2025-01", [("strategy", "rl")]), ("2025-01", []), ("2025-01", []),
            ("2025-02", [("strategy", "sft+rl")]), ("2025-02", [("strategy", "rl")])]
    papers, labels = _frames(spec)
    t = compute_trends(papers, labels, facet="strategy")
    jan = t[t.period == "2025-01"].set_index("value")
    assert jan["count"].to_dict() == {"rl": 1, "sft+rl": 0, NOT_STATED: 2}
    assert jan["share"].to_dict() == pytest.approx({"rl": 1 / 3, "sft+rl": 0.0, NOT_STATED: 2 / 3})
    assert (jan["total"] == 3).all() and (jan["labelled"] == 1).all()
    feb = t[t.period == "2025-02"].set_index("value")
    assert feb["share"].to_dict() == pytest.approx({"rl": 0.5, "sft+rl": 0.5, NOT_STATED: 0.0})
    assert stacks_papers(t)
    # the share chart stacks to exactly 100% of the papers
    fig = plot_trends(t, facet="strategy", measure="share", min_total=1)
    assert [tr.name for tr in fig.data] == ["rl", "sft+rl", NOT_STATED]
    assert np.allclose(np.sum([tr.y for tr in fig.data], axis=0), 1.0)


def test_multi_valued_facets_say_what_they_stack_and_their_denominator():
    spec = [("2025-01", [("modality", "image"), ("modality", "video")]), ("2025-01", [("modality", "image")]),
            ("2025-01", []), ("2025-02", [("modality", "video")])]
    papers, labels = _frames(spec)
    t = compute_trends(papers, labels, facet="modality")
    assert not stacks_papers(t)
    jan = t[t.period == "2025-01"].set_index("value")
    assert jan["share"].to_dict() == pytest.approx({"image": 2 / 3, "video": 1 / 3, NOT_STATED: 1 / 3})
    fig = plot_trends(t, facet="modality")
    assert fig.layout.yaxis.title.text == "Label assignments"
    assert "label assignments" in fig.layout.annotations[0].text and "dashed: papers" in fig.layout.annotations[0].text
    papers_line = fig.data[-1]
    assert papers_line.name == "papers" and papers_line.stackgroup is None and list(papers_line.y) == [3, 1]
    stacked = [tr for tr in fig.data if tr.stackgroup == "one"]
    assert list(np.sum([tr.y for tr in stacked], axis=0)) == [4, 1]  # 4 assignments for 3 papers in January
    share = plot_trends(t, facet="modality", measure="share", min_total=1)
    assert all(tr.stackgroup is None for tr in share.data)  # lines: they add up to more than 100%
    assert "more than 100%" in share.layout.annotations[0].text
    assert share.layout.yaxis.title.text == "Share of the period's papers"


def test_cumulative_axes_end_at_the_number_of_papers():
    spec = [("2025-01", [("modality", "image"), ("modality", "video")]), ("2025-01", [("modality", "image")]),
            ("2025-02", []), ("2025-03", [("modality", "video")]), ("2025-03", [("strategy", "rl")])]
    papers, labels = _frames(spec)
    multi = plot_trends(compute_trends(papers, labels, facet="modality"), facet="modality", measure="cumulative")
    assert tuple(multi.layout.yaxis.range) == (0, 5)
    assert all(tr.stackgroup is None for tr in multi.data) and list(multi.data[-1].y)[-1] == 5
    assert max(max(tr.y) for tr in multi.data) == 5
    single = plot_trends(compute_trends(papers, labels, facet="strategy"), facet="strategy", measure="cumulative")
    assert tuple(single.layout.yaxis.range) == (0, 5)
    assert sum(tr.y[-1] for tr in single.data) == 5  # the stack's top is the number of papers
    counts = compute_paper_counts(papers.assign(publication_date=list(papers.publication_date[:4]) + [None],
                                                year=[2025, 2025, 2025, 2025, None]))
    fig = plot_paper_counts(counts, undated=1)
    assert tuple(fig.layout.yaxis2.range) == (0, 4) and list(fig.data[1].y)[-1] == 4
    assert fig.layout.yaxis2.tickvals[-1] == 4
    assert "1 paper without a date or year not shown" in fig.layout.annotations[0].text


def test_count_axis_ticks_end_on_the_total():
    from rlmllm_graph.plots import _ticks_to

    assert _ticks_to(1077) == [0, 250, 500, 750, 1077]
    assert _ticks_to(4) == [0, 1, 2, 3, 4] and _ticks_to(1) == [0, 1] and _ticks_to(100)[-1] == 100


def test_every_chart_of_a_page_shares_one_date_axis(invoke, db_path, tmp_path):
    spec = ([(f"2023-{m:02d}", [("algorithm", "ppo")]) for m in (1, 6)]
            + [(f"2024-{m:02d}", [("algorithm", "grpo"), ("modality", "image")]) for m in range(1, 13)]
            + [("2025-02", [("modality", "video")])])
    papers, labels = _frames(spec)
    counts = compute_paper_counts(papers)
    shared = period_range(counts)
    assert shared == ("2023-01-01", "2025-02-28")
    # unasked, the trend charts take the same axis as the paper counts
    t = compute_trends(papers, labels, facet="algorithm")
    assert tuple(plot_trends(t, facet="algorithm").layout.xaxis.range) == shared
    assert tuple(plot_paper_counts(counts).layout.xaxis.range) == shared
    assert tuple(plot_timeline(papers, labels, x_range=shared).layout.xaxis.range) == shared
    _store(db_path, papers, labels)
    out = tmp_path / "charts"
    assert invoke("trends", "--out", str(out)).exit_code == 0
    ranges = {}
    for page in out.glob("*.html"):
        if page.name in ("index.html", "emerging.html", "heatmap.html"):
            continue
        found = set(re.findall(r'"range":\["(\d{4}-\d{2}-\d{2})","(\d{4}-\d{2}-\d{2})"\]', page.read_text()))
        ranges[page.name] = found
    assert {"papers_per_period.html", "trends_algorithm.html", "share_modality.html", "timeline.html"} <= set(ranges)
    assert all(r == {shared} for r in ranges.values()), ranges


def test_the_emerging_chart_draws_plain_ratios_and_says_new_and_x0():
    from rlmllm_graph.plots import plot_emerging

    papers, labels = _frames(BEFORE + RECENT)
    em = compute_emerging(papers, labels, recent_months=6)
    bars = plot_emerging(em).data[0]
    shown = dict(zip(bars.y, bars.text))
    assert shown == {"algorithm: dpo": "new", "algorithm: ppo": "×1", "algorithm: grpo": "×0"}
    fold = dict(zip(bars.y, bars.x))
    assert fold["algorithm: ppo"] == 0 and fold["algorithm: dpo"] == 6 and fold["algorithm: grpo"] == -6
    only_recent = plot_emerging(compute_emerging(*_frames(RECENT), recent_months=6))
    assert len(only_recent.data[0].y) == 0
    assert "no papers before the recent window" in only_recent.layout.annotations[0].text
