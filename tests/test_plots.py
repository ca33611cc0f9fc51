"""Charts: asserting on fig.data and fig.layout (titles, axes, hover, colours)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from rlmllm_graph.plots import (
    PALETTE,
    color_for,
    plot_emerging,
    plot_heatmap,
    plot_paper_counts,
    plot_timeline,
    plot_trends,
)
from rlmllm_graph.trends import compute_emerging, compute_paper_counts, compute_trends

PAPERS = pd.DataFrame(
    {
        "paper_id": ["a", "b", "c", "d"],
        "title": ["Alpha", "Beta", None, "Delta"],
        "publication_date": ["2025-01-10", "2025-02-20", "2025-03-01", None],
        "year": [2025, 2025, 2025, 2024],
        "venue": ["NeurIPS", None, "arXiv", "ICLR"],
        "citation_count": [10, None, 3, 100],
    }
)
LABELS = pd.DataFrame(
    [
        ("a", "algorithm", "grpo"), ("b", "algorithm", "grpo"), ("b", "algorithm", "ppo"), ("c", "algorithm", "dpo"),
        ("a", "modality", "image"), ("b", "modality", "video"), ("c", "modality", "image"),
        ("a", "relevance", "core"), ("b", "relevance", "core"), ("c", "relevance", "related"),
        ("d", "relevance", "core"),
    ],
    columns=["paper_id", "facet", "value"],
)


def test_plot_trends_is_a_stacked_area_with_hover():
    t = compute_trends(PAPERS, LABELS, facet="algorithm")
    fig = plot_trends(t, facet="algorithm")
    assert isinstance(fig, go.Figure)
    # b has two algorithms: the stack is of label assignments, with the papers as a dashed line
    assert [tr.name for tr in fig.data] == ["grpo", "dpo", "ppo", "not stated", "papers"]
    assert all(tr.stackgroup == "one" for tr in fig.data[:4]) and fig.data[4].stackgroup is None
    grpo = fig.data[0]
    assert list(grpo.x)[0] == "2024-01-16" and list(grpo.x)[-1] == "2025-03-16"  # 2024-01 (d, year only) on
    assert list(grpo.y)[-3:] == [1, 1, 0] and sum(grpo.y) == 2
    assert list(fig.data[4].y)[-3:] == [1, 1, 1] and list(fig.data[3].y)[0] == 1  # d: not stated
    assert grpo.line.color == color_for("grpo") == PALETTE[0]
    assert "papers" in grpo.hovertemplate and "so far" in grpo.hovertemplate
    assert "algorithm" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "Month" and fig.layout.yaxis.title.text == "Label assignments"
    share = plot_trends(t, facet="algorithm", measure="share")
    assert share.layout.yaxis.tickformat == ".0%"
    cum = plot_trends(t, facet="algorithm", measure="cumulative")
    assert list(cum.data[0].y)[-3:] == [1, 2, 2]


def test_plot_trends_share_hides_thin_periods_and_colours_differ():
    t = compute_trends(PAPERS, LABELS, facet="algorithm")
    fig = plot_trends(t, facet="algorithm", measure="share", min_total=1)
    assert list(fig.data[0].x) == ["2024-01-16", "2025-01-16", "2025-02-14", "2025-03-16"]  # months with papers
    assert len(plot_trends(t, facet="algorithm", measure="share", min_total=2).data[0].x) == 0
    many = pd.DataFrame({"period": "2025-01", "value": [f"v{i}" for i in range(12)], "count": 1, "total": 12,
                         "share": 1 / 12, "cumulative": 1})
    colours = [tr.line.color for tr in plot_trends(many, facet="x").data]
    assert len(set(colours)) == 12


def test_plot_trends_empty_says_so():
    fig = plot_trends(compute_trends(PAPERS, LABELS, facet="reward"), facet="reward")
    assert len(fig.data) == 0 and "No papers" in fig.layout.annotations[0].text


def test_plot_heatmap_counts():
    fig = plot_heatmap(PAPERS, LABELS, "modality", "algorithm")
    (hm,) = fig.data
    assert list(hm.y) == ["image", "video"] and list(hm.x) == ["grpo", "dpo", "ppo"]
    assert hm.z.tolist() == [[1, 1, 0], [1, 0, 1]]
    assert hm.texttemplate == "%{z}"
    assert fig.layout.xaxis.title.text == "algorithm" and fig.layout.yaxis.title.text == "modality"
    empty = plot_heatmap(PAPERS, LABELS, "reward", "algorithm")
    assert len(empty.data) == 0 and empty.layout.annotations


def test_plot_timeline_of_core_papers():
    fig = plot_timeline(PAPERS, LABELS, facet="algorithm")
    names = [tr.name for tr in fig.data]
    assert names == ["grpo", "ppo", "unlabelled"]  # c is not core; d has no algorithm
    pts = {tr.name: len(tr.x) for tr in fig.data}
    assert pts == {"grpo": 2, "ppo": 1, "unlabelled": 1}
    d = fig.data[2]
    assert str(d.x[0])[:10] == "2024-07-01"  # year only: mid-year
    assert d.customdata[0][0] == "Delta" and d.customdata[0][3] == "100"
    assert "citations" in d.hovertemplate
    assert d.marker.size[0] > fig.data[0].marker.size[0]  # 100 citations > 10
    assert "Timeline" in fig.layout.title.text and fig.layout.xaxis.title.text == "Publication date"
    # lanes are numbered top-down with a little deterministic jitter, labelled by value
    assert list(fig.layout.yaxis.ticktext) == ["grpo", "ppo", "unlabelled"]
    assert all(abs(y - 2) <= 0.3 for y in fig.data[0].y)
    assert d.marker.color == "#BBBBBB"


def test_plot_emerging_and_paper_counts():
    em = compute_emerging(PAPERS, LABELS, recent_months=1)
    fig = plot_emerging(em)
    assert len(fig.data[0].y) == len(em)
    assert "×1" in fig.layout.xaxis.ticktext  # log2 fold change, labelled as ratios
    assert "Emerging" in fig.layout.title.text
    counts = plot_paper_counts(compute_paper_counts(PAPERS))
    assert [tr.type for tr in counts.data] == ["bar", "scatter"] and counts.data[1].yaxis == "y2"
    assert plot_emerging(em.iloc[:0]).data[0].y in (None, ())


def test_timeline_hover_escapes_paper_text():
    papers = PAPERS.assign(title=['<a href="javascript:alert(1)">x</a>', "Beta", None, "Delta"],
                           venue=["<b>NeurIPS</b>", None, "arXiv", "ICLR"])
    fig = plot_timeline(papers, LABELS, facet="algorithm")
    grpo = next(tr for tr in fig.data if tr.name == "grpo")
    texts = [row[0] for row in grpo.customdata] + [row[2] for row in grpo.customdata]
    assert '&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;' in texts
    assert "&lt;b&gt;NeurIPS&lt;/b&gt;" in texts
    assert not any("<" in t for t in texts)
