"""Charts: ``plot_*(data) → plotly.graph_objects.Figure``.

Plot functions render what :mod:`rlmllm_graph.trends` and
:mod:`rlmllm_graph.analysis` computed; they never show, never write files
(``fig.write_html(path, include_plotlyjs="directory")`` is the caller's job)
and never print. Colours come from a colour-blind-safe palette and are stable
per value, so "grpo" has the same colour in every chart of a report.

Every chart over time has a date axis (a period is drawn at its middle), so
charts of one page line up when they are given the same ``x_range``
(:func:`period_range` of the page's paper counts).
"""

from __future__ import annotations

import html
import math
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .records import YEAR_MAX, YEAR_MIN
from .trends import NOT_STATED, compute_cooccurrence, select_papers

__all__ = [
    "PALETTE",
    "color_for",
    "period_range",
    "stacks_papers",
    "plot_emerging",
    "plot_heatmap",
    "plot_paper_counts",
    "plot_timeline",
    "plot_trends",
]

#: Okabe–Ito and Tol's colour-blind-safe qualitative colours (no yellow on white).
PALETTE = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#882255",
    "#117733", "#332288", "#AA4499", "#44AA99", "#999933", "#661100", "#6699CC", "#888888",
)

_KNOWN = {
    # fixed colours for the vocabulary, so the common values never clash
    "grpo": 0, "ppo": 1, "dpo": 2, "rloo": 3, "reinforce": 4, "opmd": 5,
    "image": 0, "video": 1, "audio": 2, "3d": 3,
    "rule": 0, "model": 1, "process": 2,
    "rl": 0, "sft+rl": 1, "value-free": 0, "value-based": 1,
    "core": 0, "related": 4, "general": 8, "math": 1, "medical": 2, "gui-agent": 3,
    "spatial": 5, "perception": 6, "generation": 7,
    "other": 14,
}

_LAYOUT = dict(
    template="plotly_white",
    font=dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13),
    hoverlabel=dict(namelength=-1),
    margin=dict(l=60, r=30, t=70, b=60),
)

_PERIOD_LABEL = {"M": "Month", "Q": "Quarter", "Y": "Year"}


def color_for(value: str) -> str:
    """The palette colour of a facet value (stable across charts and runs)."""
    if value in _KNOWN:
        return PALETTE[_KNOWN[value]]
    return PALETTE[zlib.crc32(str(value).encode()) % (len(PALETTE) - 1)]


def _colors(values: Sequence[str]) -> dict[str, str]:
    """Distinct colours for the values of one chart: the vocabulary keeps its fixed colours, other
    values take the palette colours nobody in this chart uses yet (so no two traces look alike)."""
    out = {v: PALETTE[_KNOWN[v]] for v in values if v in _KNOWN}
    for quiet in ("unlabelled", NOT_STATED):
        if quiet in values:
            out[quiet] = "#BBBBBB"  # lighter than "other"
    free = [c for c in PALETTE[:-1] if c not in out.values()]
    for v in values:
        if v not in out:
            out[v] = free.pop(0) if free else color_for(v)
    return out


def _periods(labels: Sequence[str] | pd.Series) -> pd.PeriodIndex:
    """``'2025-03'``, ``'2025Q1'`` or ``'2025'`` strings → a PeriodIndex of their frequency."""
    labels = [str(x) for x in labels]
    if not labels:
        return pd.PeriodIndex([], freq="M")
    freq = "Q" if "Q" in labels[0] else ("M" if len(labels[0]) == 7 else "Y")
    return pd.PeriodIndex(labels, freq=freq)


def _middles(labels: Sequence[str] | pd.Series) -> list[str]:
    """Where a period is drawn on a date axis: its middle day (``'2025-03'`` → ``'2025-03-16'``)."""
    per = _periods(labels)
    if not len(per):
        return []
    mid = per.start_time + (per.end_time - per.start_time) / 2
    return list(mid.strftime("%Y-%m-%d"))


def _focus_start(totals: pd.Series) -> str | None:
    """The first period by which 2% of the papers have appeared: where the initial view starts
    (a long, nearly empty history would squash the recent years; double-click shows it all)."""
    if totals.sum() == 0:
        return None
    cum = totals.cumsum()
    return str(cum.index[int(np.argmax(cum.to_numpy() >= 0.02 * totals.sum()))])


def period_range(counts: pd.DataFrame) -> tuple[str, str] | None:
    """The date range every chart over time of a page shows: from the start of the period by which 2% of
    the papers have appeared to the end of the last period (``counts``: ``period`` and ``count`` columns,
    e.g. :func:`~rlmllm_graph.trends.compute_paper_counts`). None when there are no papers."""
    if not len(counts) or counts["count"].sum() == 0:
        return None
    totals = counts.groupby("period", sort=True)["count"].sum()
    start = _focus_start(totals)
    per = _periods([start, str(totals.index[-1])])
    return per[0].start_time.strftime("%Y-%m-%d"), per[1].end_time.strftime("%Y-%m-%d")


def _ticks_to(total: int) -> list[int]:
    """Round ticks from 0 up to ``total``, ending on ``total`` itself (an axis that ends at the true count)."""
    if total <= 0:
        return [0]
    raw = total / 5
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw and float(m * mag).is_integer())
    ticks = list(range(0, total, int(step)))
    if ticks and total - ticks[-1] < 0.4 * step and len(ticks) > 1:
        ticks.pop()
    return ticks + [total]


def _count_axis_to(total: int) -> dict[str, Any]:
    """A y axis from 0 to exactly ``total``, with a tick there."""
    top = max(int(total), 1)
    return dict(range=[0, top], tickmode="array", tickvals=_ticks_to(top))


def _date_axis(fig: go.Figure, x_range: tuple[str, str] | None) -> None:
    fig.update_xaxes(type="date")
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))


def _period_axis(periods: pd.Series) -> str:
    s = str(periods.iloc[0]) if len(periods) else ""
    if "Q" in s:
        return "Quarter"
    return "Month" if len(s) == 7 else "Year"


def stacks_papers(df: pd.DataFrame) -> bool:
    """Whether the counts of every period of a :func:`~rlmllm_graph.trends.compute_trends` frame add up to
    its papers (one value a paper, "not stated" included): then a stack of them is a stack of papers."""
    if not len(df) or "total" not in df:
        return True
    per = df.groupby("period", sort=False).agg(count=("count", "sum"), total=("total", "first"))
    return bool((per["count"] == per["total"]).all())


def plot_trends(df: pd.DataFrame, *, facet: str, measure: str = "count", min_total: int = 5,
                x_range: tuple[str, str] | None = None) -> go.Figure:
    """A facet's values over time (``df`` from :func:`~rlmllm_graph.trends.compute_trends`).

    ``measure`` is ``"count"`` (papers per period), ``"share"`` (of the
    period's papers) or ``"cumulative"`` (running totals). "not stated" (the
    papers with no label in the facet) is drawn like any value, in grey.

    When each paper has one value (relevance, strategy, or any facet whose
    papers happen to), the values are stacked: the stack is the period's
    papers, shares stack to 100% and the cumulative stack ends at the number
    of papers. When a paper can have several values, the chart says so: counts
    stack *label assignments* (a paper with two values counts twice) beside a
    dashed line of the papers; shares and cumulative counts are drawn as lines,
    not stacked, so no axis runs past the number of papers.

    Hover shows count, share and cumulative total. Shares are drawn only for
    periods with at least ``min_total`` papers (a month with one paper would
    read as 100%). ``x_range`` (dates) is the axis every chart of the page
    shares (:func:`period_range`); by default the view starts where the
    literature does (2% of the papers); double-click to see everything.
    """
    if measure not in ("count", "share", "cumulative"):
        raise ValueError(f"measure must be count, share or cumulative, not {measure!r}")
    fig = go.Figure()
    values = list(dict.fromkeys(df["value"])) if len(df) else []
    colors = _colors([str(v) for v in values])
    papers_only = stacks_papers(df)
    stacked = papers_only or measure == "count"
    per_period = (df.drop_duplicates("period").set_index("period")["total"] if len(df) and "total" in df
                  else pd.Series(dtype="int64"))
    if x_range is None and len(per_period):
        x_range = period_range(per_period.rename("count").reset_index())
    if measure == "share" and len(df):
        df = df[df["total"] >= min_total]
    for value in values:
        d = df[df["value"] == value]
        fig.add_trace(
            go.Scatter(
                x=_middles(d["period"]),
                y=d[measure],
                name=str(value),
                mode="lines",
                stackgroup="one" if stacked else None,
                line=dict(width=0.8 if stacked else 2, color=colors[str(value)]),
                customdata=np.column_stack([d["count"], d["share"] * 100, d["cumulative"], d["total"],
                                            d["period"].astype(str)]),
                hovertemplate=(
                    f"<b>{value}</b><br>%{{customdata[4]}}<br>%{{customdata[0]}} papers "
                    "(%{customdata[1]:.0f}% of %{customdata[3]})<br>%{customdata[2]} so far<extra></extra>"
                ),
            )
        )
    if values and not papers_only and measure != "share":
        y = per_period.cumsum() if measure == "cumulative" else per_period
        fig.add_trace(go.Scatter(
            x=_middles(pd.Series(per_period.index)), y=y.to_numpy(), name="papers", mode="lines",
            line=dict(color="#222222", width=1.5, dash="dash"),
            hovertemplate="%{y} papers" + (" so far" if measure == "cumulative" else "") + "<extra></extra>",
        ))
    if measure == "share":
        what = "Share of the period's papers"
    elif stacked and not papers_only:
        what = "Label assignments"
    else:
        what = "Papers" + (" (cumulative)" if measure == "cumulative" else "")
    title = f"<b>{facet}</b> over time — {what.lower()}"
    if measure == "cumulative" and not papers_only:
        title = f"<b>{facet}</b> over time — papers (cumulative)"
        what = "Papers (cumulative)"
    fig.update_layout(
        **_LAYOUT,
        title=dict(text=title, x=0.01),
        xaxis_title=_period_axis(df["period"]) if len(df) else "Period",
        yaxis_title=what,
        hovermode="x unified",
        legend=dict(title=facet, traceorder="normal"),
    )
    notes = []
    if not papers_only and values:
        notes.append({"count": "stacked: label assignments (a paper with several values counts once for each); "
                               "dashed: papers",
                      "share": "a paper can have several values, so shares can add up to more than 100%",
                      "cumulative": "a paper can have several values: lines, not stacked; dashed: all papers",
                      }[measure])
    if measure == "share":
        fig.update_yaxes(tickformat=".0%", range=[0, 1])
        notes.append(f"periods with fewer than {min_total} papers are left out")
    if measure == "cumulative" and len(per_period):
        fig.update_yaxes(**_count_axis_to(int(per_period.sum())))  # the axis ends at the number of papers
    if notes:
        fig.add_annotation(text="; ".join(notes), showarrow=False, x=1, y=1.06, xref="paper", yref="paper",
                           xanchor="right", font=dict(size=11, color="#666"))
    _date_axis(fig, x_range)
    if not values:
        fig.add_annotation(text=f"No papers labelled with {facet} yet", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    return fig


def plot_paper_counts(df: pd.DataFrame, *, title: str = "Papers over time", x_range: tuple[str, str] | None = None,
                      undated: int = 0) -> go.Figure:
    """Bars of papers per period and a line of the cumulative total (``trends.compute_paper_counts``).

    The cumulative axis ends at the number of papers charted; ``undated`` papers (no date, no year) are
    in no period, and a note says how many. ``x_range``: see :func:`plot_trends`.
    """
    fig = go.Figure()
    x = _middles(df["period"])
    fig.add_trace(go.Bar(x=x, y=df["count"], name="papers", marker_color=PALETTE[0],
                         customdata=df["period"].astype(str),
                         hovertemplate="%{customdata}: %{y} papers<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=df["cumulative"], name="cumulative", yaxis="y2",
                             mode="lines", line=dict(color=PALETTE[1], width=2), customdata=df["period"].astype(str),
                             hovertemplate="%{customdata}: %{y} papers so far<extra></extra>"))
    total = int(df["count"].sum()) if len(df) else 0
    fig.update_layout(
        **_LAYOUT,
        title=dict(text=f"<b>{title}</b> ({total:,} papers)", x=0.01),
        xaxis_title=_period_axis(df["period"]) if len(df) else "Period",
        yaxis=dict(title="Papers per period", rangemode="tozero"),
        yaxis2=dict(title="Cumulative papers", overlaying="y", side="right", showgrid=False,
                    **_count_axis_to(total)),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    if undated:
        fig.add_annotation(text=f"{undated:,} paper{'' if undated == 1 else 's'} without a date or year not shown",
                           showarrow=False, x=0, y=-0.18, xref="paper", yref="paper", xanchor="left",
                           font=dict(size=11, color="#666"))
    _date_axis(fig, x_range if x_range is not None else period_range(df) if len(df) else None)
    return fig


def plot_heatmap(
    papers: pd.DataFrame,
    labels: pd.DataFrame,
    row_facet: str = "modality",
    col_facet: str = "algorithm",
) -> go.Figure:
    """Heatmap of how many papers combine each value of ``row_facet`` with each of ``col_facet``.

    The table is :func:`~rlmllm_graph.trends.compute_cooccurrence`; every cell
    shows its count.
    """
    table = compute_cooccurrence(papers, labels, row_facet=row_facet, col_facet=col_facet)
    fig = go.Figure()
    if table.empty:
        fig.add_annotation(text=f"No paper has both a {row_facet} and an {col_facet} label yet",
                           showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    else:
        fig.add_trace(
            go.Heatmap(
                z=table.to_numpy(),
                x=[str(c) for c in table.columns],
                y=[str(r) for r in table.index],
                colorscale="Blues",
                texttemplate="%{z}",
                hovertemplate=f"{row_facet}=%{{y}}<br>{col_facet}=%{{x}}<br>%{{z}} papers<extra></extra>",
                colorbar=dict(title="Papers"),
            )
        )
        fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        **_LAYOUT,
        title=dict(text=f"<b>{row_facet}</b> × <b>{col_facet}</b>: papers combining them", x=0.01),
        xaxis_title=col_facet,
        yaxis_title=row_facet,
    )
    return fig


def _dates(papers: pd.DataFrame) -> pd.Series:
    raw = papers["publication_date"].astype("string")
    full = pd.to_datetime(raw.str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
    month = pd.to_datetime(raw.str.slice(0, 7), errors="coerce", format="%Y-%m")
    year = pd.to_numeric(papers["year"], errors="coerce").astype("float64")
    year = year.where(year.between(YEAR_MIN, YEAR_MAX))  # an older database may hold implausible years
    mid = pd.to_datetime(year.astype("Int64").astype("string") + "-07-01", errors="coerce", format="%Y-%m-%d")
    return full.fillna(month).fillna(mid)


def plot_timeline(
    papers: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    facet: str = "algorithm",
    relevance: Sequence[str] | None = ("core",),
    metrics: pd.DataFrame | None = None,
    x_range: tuple[str, str] | None = None,
) -> go.Figure:
    """Timeline of the core papers: one marker per paper in a lane per value of ``facet``.

    Markers are placed at the publication date (mid-year when only the year
    is known), sized by citation count (by ``metrics.pagerank`` when a
    :func:`~rlmllm_graph.analysis.compute_node_metrics` frame is given) and
    show title, date, venue and citations on hover. A paper with two values
    appears in both lanes; papers without a value sit in an "unlabelled" lane.
    ``x_range``: see :func:`plot_trends`.
    """
    chosen = select_papers(papers, labels, relevance=relevance).copy()
    chosen["date"] = _dates(chosen)
    chosen = chosen[chosen["date"].notna()]
    lab = labels.loc[labels["facet"] == facet, ["paper_id", "value"]].drop_duplicates()
    lanes = chosen.merge(lab, on="paper_id", how="left")
    lanes["value"] = lanes["value"].fillna("unlabelled")
    if metrics is not None and len(lanes):
        size_raw = lanes["paper_id"].map(metrics["pagerank"]).fillna(0).to_numpy(dtype=float)
        size_raw = size_raw / (size_raw.max() or 1) * 400
    else:
        size_raw = pd.to_numeric(lanes.get("citation_count"), errors="coerce").fillna(0).to_numpy(dtype=float)
    size = 8 + 3 * np.log1p(size_raw)
    order = lanes["value"].value_counts()
    values = sorted(order.index, key=lambda v: (v == "unlabelled", -order[v], v))
    colors = _colors([str(v) for v in values])
    lane = {v: len(values) - 1 - i for i, v in enumerate(values)}  # first value on top
    # papers of the same month would hide each other: spread them a little, deterministically
    jitter = np.array([(zlib.crc32(str(p).encode()) % 1000) / 1000 - 0.5 for p in lanes["paper_id"]]) * 0.6
    fig = go.Figure()
    for value in values:
        mask = (lanes["value"] == value).to_numpy()
        d = lanes[mask]
        cites = pd.to_numeric(d.get("citation_count"), errors="coerce")
        # paper text is untrusted: plotly reads a few HTML tags in hover text, so escape it
        custom = np.column_stack([
            d["title"].fillna("(untitled)").astype(str).map(html.escape),
            d["date"].dt.strftime("%Y-%m-%d"),
            d.get("venue", pd.Series("", index=d.index)).fillna("").astype(str).map(html.escape),
            cites.fillna(-1).astype(int).astype(str).replace("-1", "?"),
            d["paper_id"].astype(str),
        ]) if len(d) else None
        fig.add_trace(
            go.Scatter(
                x=d["date"],
                y=lane[value] + jitter[mask],
                mode="markers",
                name=str(value),
                marker=dict(size=size[mask], color=colors[str(value)], opacity=0.75,
                            line=dict(width=0.5, color="white")),
                customdata=custom,
                hovertemplate=("<b>%{customdata[0]}</b><br>%{customdata[1]} · %{customdata[2]}<br>"
                               "%{customdata[3]} citations<br>%{customdata[4]}<extra></extra>"),
            )
        )
    who = "core papers" if relevance is not None and tuple(relevance) == ("core",) else "papers"
    fig.update_layout(
        **_LAYOUT,
        title=dict(text=f"<b>Timeline</b> of {who} by {facet} ({len(chosen)} papers)", x=0.01),
        xaxis_title="Publication date",
        yaxis_title=facet,
        showlegend=False,
        height=max(360, 90 + 60 * len(values)),
    )
    fig.update_yaxes(tickvals=[lane[v] for v in values], ticktext=[str(v) for v in values], zeroline=False,
                     range=[-0.6, len(values) - 0.4])
    _date_axis(fig, x_range)
    return fig


_FOLD_CAP = 6  # log2 fold change drawn at most: ×64 or ×1/64; beyond (×0, "new") the bar ends at the edge


def _ratio_text(growth: Any, note: Any = "") -> str:
    """How a growth reads: ``×1.8``, ``×0`` (no recent paper), ``new`` (none before), else the note."""
    if growth is None or (isinstance(growth, float) and math.isnan(growth)):
        return "new" if str(note).startswith("new") else (str(note) or "n/a")
    return "×0" if growth == 0 else f"×{growth:.3g}"


def plot_emerging(df: pd.DataFrame, *, top: int = 15) -> go.Figure:
    """Horizontal bars of the strongest risers (``trends.compute_emerging``): growth of share, log scale.

    Growth is the plain ratio of the recent share to the share before (nothing is smoothed); a value new in
    the window ("new") or absent from it (×0) is drawn to the edge of the axis and labelled in words.
    Values with no ratio at all (no papers before the window, or none recent in the facet) are left out, and
    the chart says so when that leaves nothing. Bars of significantly rising values are coloured; hover shows
    counts and p/q-values.
    """
    if len(df):
        new = df["note"].astype(str).str.startswith("new") if "note" in df else pd.Series(False, index=df.index)
        d = df[df["growth"].notna() | new].head(top).iloc[::-1]
    else:
        d = df
    labels = [f"{f}: {v}" for f, v in zip(d["facet"], d["value"])] if len(d) else []
    colors = [PALETTE[1] if r else PALETTE[14] for r in d["rising"]] if len(d) else []
    notes = list(d["note"]) if len(d) and "note" in d else [""] * len(d)

    def fmt(x: Any) -> str:
        return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"

    text = [
        f"recent {r}/{rt}, before {b}/{bt}<br>p={fmt(p)}, q={fmt(q)}"
        for r, rt, b, bt, p, q in zip(d.get("recent", []), d.get("recent_total", []), d.get("before", []),
                                      d.get("before_total", []), d.get("p_value", []), d.get("q_value", []))
    ]
    ratio = [_ratio_text(g, n) for g, n in zip(d["growth"], notes)] if len(d) else []
    fold = [(_FOLD_CAP if math.isnan(g) else -_FOLD_CAP if g == 0 else
             max(-_FOLD_CAP, min(_FOLD_CAP, math.log2(g)))) for g in d["growth"]] if len(d) else []
    fig = go.Figure(
        go.Bar(
            x=fold,
            y=labels,
            orientation="h",
            marker_color=colors,
            text=ratio,
            textposition="auto",
            customdata=[[t, r] for t, r in zip(text, ratio)] if len(d) else None,
            hovertemplate="<b>%{y}</b><br>share %{customdata[1]}<br>%{customdata[0]}<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=dict(text="<b>Emerging</b>: change in share, recent months vs before (orange = significant rise)",
                   x=0.01),
        xaxis_title="Share in the recent months ÷ share before (plain ratio, not smoothed)",
        height=max(360, 80 + 28 * len(labels)),
    )
    ticks = list(range(-_FOLD_CAP, _FOLD_CAP + 1))
    fig.update_xaxes(tickvals=ticks, ticktext=[f"×{2.0 ** t:g}" if t >= 0 else f"×1/{2 ** -t}" for t in ticks],
                     zeroline=True, zerolinecolor="#888")
    if fold:
        reach = max(1.0, max(abs(f) for f in fold)) + 0.5  # as wide as the bars need, symmetric around ×1
        fig.update_xaxes(range=[-reach, reach])
    if not len(d):
        why = ("no papers before the recent window to compare with: no growth and no test"
               if len(df) and not (df["before_total"] > 0).any() else "nothing to compare yet")
        fig.add_annotation(text=why, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return fig
