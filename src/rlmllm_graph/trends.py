"""Tag trends over time with pandas: counts, shares, cumulative totals, growth and emerging values.

The inputs are the two frames the store gives (``store.load_papers`` and
``store.load_labels``); every function returns a DataFrame and prints nothing.

A paper's period is the month of its ``publication_date``; a paper with only a
``year`` is counted in January of that year (``freq="M"``) or its first quarter
(``freq="Q"``); a paper with neither, or with a year outside 1000–2999 (which
the importer refuses, but an older database may hold), is left out.

>>> import pandas as pd
>>> papers = pd.DataFrame({"paper_id": ["a", "b", "c"], "year": [2025, 2025, 2025],
...                        "publication_date": ["2025-01-10", "2025-03-02", "2025-03-20"]})
>>> labels = pd.DataFrame({"paper_id": ["a", "b", "c"], "facet": "algorithm",
...                        "value": ["ppo", "grpo", "grpo"]})
>>> t = compute_trends(papers, labels, facet="algorithm")
>>> t[t.value == "grpo"][["period", "count", "cumulative"]].to_string(index=False)
' period  count  cumulative\\n2025-01      0           0\\n2025-02      0           0\\n2025-03      2           2'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from . import store
from .analysis import FACET_ORDER
from .errors import BadInput, EmptyGraph
from .records import YEAR_MAX, YEAR_MIN

__all__ = [
    "MAX_RECENT_MONTHS",
    "NOT_STATED",
    "TrendsReport",
    "compute_cooccurrence",
    "compute_emerging",
    "compute_paper_counts",
    "compute_trends",
    "compute_trends_report",
    "paper_periods",
    "select_papers",
]

_FREQ = {
    "M": "M", "ME": "M", "MS": "M", "MONTH": "M", "MONTHLY": "M",
    "Q": "Q", "QE": "Q", "QS": "Q", "QUARTER": "Q", "QUARTERLY": "Q",
    "Y": "Y", "YE": "Y", "YS": "Y", "A": "Y", "YEAR": "Y", "YEARLY": "Y",
}

#: The longest window ``compute_emerging`` takes (a century: longer windows say nothing new).
MAX_RECENT_MONTHS = 1200

#: The value row of :func:`compute_trends` counting the papers that state nothing in the facet (no label).
NOT_STATED = "not stated"

#: Facets that ``compute_emerging`` tests by default (relevance is not a topic).
TOPIC_FACETS = tuple(f for f in FACET_ORDER if f != "relevance")


def _norm_freq(freq: str) -> str:
    f = _FREQ.get(str(freq).upper())
    if f is None:
        raise BadInput(f"unknown period {freq!r}: use M (month), Q (quarter) or Y (year)")
    return f


def _months(papers: pd.DataFrame) -> pd.DataFrame:
    """``paper_id, month (Period[M] or NaT), exact`` (exact: the month is known, not just the year)."""
    date = papers["publication_date"] if "publication_date" in papers else pd.Series(None, index=papers.index)
    ym = date.astype("string").str.extract(r"^(\d{4})-(\d{2})")
    year = (pd.to_numeric(papers["year"], errors="coerce").astype("float64") if "year" in papers
            else pd.Series(np.nan, index=papers.index))
    exact = ym[0].notna() & ym[1].astype("float").between(1, 12)
    y = pd.to_numeric(ym[0], errors="coerce").astype("float64").where(exact, year)
    m = pd.to_numeric(ym[1], errors="coerce").astype("float64").where(exact, 1)
    ok = y.notna() & y.between(YEAR_MIN, YEAR_MAX)  # an older database may hold implausible years: left out
    idx = (y[ok].astype(int) - 1970) * 12 + (m[ok].astype(int) - 1)
    month = pd.Series(pd.NaT, index=papers.index, dtype="period[M]")
    month[ok] = pd.PeriodIndex.from_ordinals(idx.to_numpy(), freq="M")
    return pd.DataFrame({"paper_id": papers["paper_id"].to_numpy(), "month": month.to_numpy(), "exact": exact.to_numpy()})


def paper_periods(papers: pd.DataFrame, *, freq: str = "M") -> pd.Series:
    """Each paper's period as a string (``'2025-03'``, ``'2025Q1'`` or ``'2025'``), indexed by ``paper_id``.

    Papers without a date or year are left out.
    """
    f = _norm_freq(freq)
    m = _months(papers).dropna(subset=["month"])
    if m.empty:  # a PeriodIndex cannot infer its frequency from nothing
        return pd.Series([], index=pd.Index([], name="paper_id"), name="period", dtype=object)
    per = pd.PeriodIndex(m["month"]).asfreq(f)
    return pd.Series(per.strftime(_FMT[f]), index=pd.Index(m["paper_id"], name="paper_id"), name="period")


_FMT = {"M": "%Y-%m", "Q": "%YQ%q", "Y": "%Y"}


def select_papers(
    papers: pd.DataFrame, labels: pd.DataFrame, *, relevance: Sequence[str] | None = ("core", "related")
) -> pd.DataFrame:
    """The papers whose ``relevance`` label is one of ``relevance``.

    ``relevance=None`` keeps every paper; so does a database that has no
    relevance labels at all yet (nothing to select on).
    """
    if relevance is None:
        return papers
    rel = labels[labels["facet"] == "relevance"]
    if rel.empty:
        return papers
    keep = set(rel.loc[rel["value"].isin(list(relevance)), "paper_id"])
    return papers[papers["paper_id"].isin(keep)]


def _period_grid(periods: pd.Series, f: str) -> list[str]:
    if periods.empty:
        return []
    per = pd.PeriodIndex(sorted(set(periods)), freq=f)
    full = pd.period_range(per.min(), per.max(), freq=f)
    return list(full.strftime(_FMT[f]))


def compute_paper_counts(papers: pd.DataFrame, *, freq: str = "M") -> pd.DataFrame:
    """Papers per period: ``period, count, cumulative, growth`` (every period between the first and last)."""
    f = _norm_freq(freq)
    periods = paper_periods(papers, freq=f)
    grid = _period_grid(periods, f)
    counts = periods.value_counts().reindex(grid, fill_value=0)
    out = pd.DataFrame({"period": grid, "count": counts.to_numpy(dtype=np.int64)})
    out["cumulative"] = out["count"].cumsum()
    prev = out["cumulative"] - out["count"]
    out["growth"] = np.where(prev > 0, out["count"] / prev.where(prev > 0, 1), np.nan)
    return out


def compute_trends(
    papers: pd.DataFrame, labels: pd.DataFrame, *, facet: str, freq: str = "M", not_stated: bool = True
) -> pd.DataFrame:
    """Counts and shares of every value of ``facet`` by period, long form, with the papers that state none.

    Parameters
    ----------
    papers : DataFrame
        With ``paper_id``, ``publication_date`` and ``year`` (``store.load_papers``).
    labels : DataFrame
        With ``paper_id``, ``facet``, ``value`` (``store.load_labels``); only
        papers present in ``papers`` are counted.
    facet : str
    freq : {"M", "Q", "Y"}, default "M"
    not_stated : bool, default True
        Add the value :data:`NOT_STATED`: the papers of the period with no
        label in the facet. An abstention is not a trend: shares are of all
        the period's papers, so a month where fewer papers state an algorithm
        shows a larger "not stated", not a larger share of every algorithm.

    Returns
    -------
    DataFrame
        One row per (period, value) for every period from the first to the
        last paper of ``papers`` (missing periods are zeros), columns:
        ``period`` (str: ``'YYYY-MM'``, ``'YYYYQn'`` or ``'YYYY'``), ``value``,
        ``count`` (papers with that value), ``total`` (every paper of the
        period: the denominator of ``share``), ``labelled`` (papers of the
        period with at least one value of the facet; ``total - labelled`` is
        the "not stated" count), ``share`` (count / total, 0 when total is
        0), ``cumulative`` (running count) and ``growth`` (count over the
        cumulative count before the period: how fast the body of work grows;
        NaN while it is still 0). Values are ordered by overall count,
        "not stated" last. Where a paper can have several values (modality,
        algorithm, ...), the counts of one period add up to more than its
        papers, and the shares to more than 1. Empty when no paper of
        ``papers`` has a label in the facet.
    """
    f = _norm_freq(freq)
    columns = ["period", "value", "count", "total", "labelled", "share", "cumulative", "growth"]
    periods = paper_periods(papers, freq=f)
    grid = _period_grid(periods, f)
    lab = labels.loc[labels["facet"] == facet, ["paper_id", "value"]].drop_duplicates()
    lab = lab[lab["paper_id"].isin(periods.index)]
    if lab.empty or not grid:
        return pd.DataFrame(columns=columns)
    lab = lab.assign(period=lab["paper_id"].map(periods))
    order = lab["value"].value_counts()
    values = sorted(order.index, key=lambda v: (-order[v], v))
    counts = lab.groupby(["period", "value"]).size()
    totals = periods.value_counts().reindex(grid, fill_value=0)
    labelled = lab.drop_duplicates("paper_id").groupby("period").size().reindex(grid, fill_value=0)
    if not_stated:
        values.append(NOT_STATED)
        silent = (totals - labelled).rename(None)
        silent.index = pd.MultiIndex.from_arrays([silent.index, [NOT_STATED] * len(silent)])
        counts = pd.concat([counts, silent])
    idx = pd.MultiIndex.from_product([grid, values], names=["period", "value"])
    out = counts.reindex(idx, fill_value=0).rename("count").reset_index()
    out["total"] = out["period"].map(totals).astype(np.int64)
    out["labelled"] = out["period"].map(labelled).astype(np.int64)
    out["count"] = out["count"].astype(np.int64)
    out["share"] = np.where(out["total"] > 0, out["count"] / out["total"].where(out["total"] > 0, 1), 0.0)
    out["cumulative"] = out.groupby("value", sort=False)["count"].cumsum().astype(np.int64)
    prev = out["cumulative"] - out["count"]
    out["growth"] = np.where(prev > 0, out["count"] / prev.where(prev > 0, 1), np.nan)
    return out[columns]


def compute_cooccurrence(
    papers: pd.DataFrame, labels: pd.DataFrame, *, row_facet: str = "modality", col_facet: str = "algorithm"
) -> pd.DataFrame:
    """Papers per (row value, column value): a crosstab of two facets over the papers given.

    Rows and columns are ordered by their totals (largest first).
    """
    ids = set(papers["paper_id"])
    lab = labels[labels["paper_id"].isin(ids)]
    a = lab.loc[lab["facet"] == row_facet, ["paper_id", "value"]].drop_duplicates()
    b = lab.loc[lab["facet"] == col_facet, ["paper_id", "value"]].drop_duplicates()
    both = a.merge(b, on="paper_id", suffixes=("_row", "_col"))
    if both.empty:
        return pd.DataFrame(dtype=np.int64)
    table = pd.crosstab(both["value_row"], both["value_col"])
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    table = table[table.sum(axis=0).sort_values(ascending=False, kind="stable").index]
    table.index.name, table.columns.name = row_facet, col_facet
    return table


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (NaN stays NaN)."""
    q = np.full_like(p, np.nan, dtype=float)
    ok = ~np.isnan(p)
    if not ok.any():
        return q
    pv = p[ok]
    order = np.argsort(pv)
    ranked = pv[order] * len(pv) / np.arange(1, len(pv) + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty_like(pv)
    adj[order] = np.minimum(ranked, 1.0)
    q[ok] = adj
    return q


def compute_emerging(
    papers: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    recent_months: int = 6,
    baseline_months: int | None = None,
    facets: Iterable[str] | None = None,
    end: str | None = None,
    min_recent: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The facet values whose share of papers rose in the last ``recent_months``: named and tested.

    For every value, the papers that state its facet (have a label in it) are
    split into *recent* (the ``recent_months`` months up to ``end``, default
    the latest month in ``papers``) and *before* (the ``baseline_months``
    before that, default all earlier months). Shares are of the papers that
    state the facet, so a change in how many papers state it at all (more
    full text for recent papers, say) is not read as a rise of its values. A
    one-sided Fisher exact test on the counts asks whether the value's share
    is higher in the recent window; p-values are adjusted for testing many
    values at once (Benjamini–Hochberg ``q_value``). Only papers with a known
    month take part (a year alone cannot be placed in a window). Nothing is
    smoothed: the test needs no smoothing and ``growth`` is the plain ratio.

    Returns
    -------
    DataFrame
        ``facet, value, recent, before, recent_total, before_total,
        recent_share, before_share``, ``growth`` (recent share ÷ share
        before, unsmoothed: 0 when no recent paper has the value; NaN where
        the ratio is undefined, and ``note`` says why), ``p_value`` (NaN
        without papers on both sides), ``q_value``, ``rising`` (q < ``alpha``,
        a higher recent share and at least ``min_recent`` recent papers) and
        ``note`` (in words: ``"new: none before"``, ``"no papers before the
        window"``, ``"no recent papers"``, ``"none in either window"``, else
        ``""``). Rising values first,
        then by p-value. Empty when there is no labelled paper with a month.
    """
    columns = ["facet", "value", "recent", "before", "recent_total", "before_total", "recent_share",
               "before_share", "growth", "p_value", "q_value", "rising", "note"]
    from scipy import stats  # imported here: scipy.stats alone costs 0.4 s at start-up

    if not 1 <= recent_months <= MAX_RECENT_MONTHS:
        raise BadInput(f"recent_months must be between 1 and {MAX_RECENT_MONTHS}")
    months = _months(papers)
    months = months[months["exact"] & months["month"].notna()]
    if months.empty:
        return pd.DataFrame(columns=columns)
    last = pd.Period(end, freq="M") if end else pd.PeriodIndex(months["month"]).max()
    first_recent = last - (recent_months - 1)
    start = None if baseline_months is None else first_recent - baseline_months
    per = pd.PeriodIndex(months["month"])
    window = np.where((per >= first_recent) & (per <= last), "recent",
                      np.where(per < first_recent, "before", ""))
    if start is not None:
        window = np.where((window == "before") & (per < start), "", window)
    win = pd.Series(window, index=months["paper_id"].to_numpy())
    win = win[win != ""]
    wanted = list(TOPIC_FACETS if facets is None else facets)
    lab = labels.loc[labels["facet"].isin(wanted) & labels["paper_id"].isin(win.index),
                     ["paper_id", "facet", "value"]].drop_duplicates()
    if lab.empty:
        return pd.DataFrame(columns=columns)
    lab = lab.assign(window=lab["paper_id"].map(win))
    totals = lab.drop_duplicates(["paper_id", "facet"]).groupby(["facet", "window"]).size()
    counts = lab.groupby(["facet", "value", "window"]).size().unstack("window", fill_value=0)
    rows: list[dict[str, Any]] = []
    for (facet, value), row in counts.iterrows():
        r, b = int(row.get("recent", 0)), int(row.get("before", 0))
        rt, bt = int(totals.get((facet, "recent"), 0)), int(totals.get((facet, "before"), 0))
        rs = r / rt if rt else np.nan
        bs = b / bt if bt else np.nan
        growth, note, p = np.nan, "", np.nan
        if not bt:
            note = "no papers before the window"
        elif not rt:
            note = "no recent papers"
        elif not b:
            note = "new: none before" if r else "none in either window"
        else:
            growth = rs / bs
        if rt and bt:
            p = float(stats.fisher_exact([[r, rt - r], [b, bt - b]], alternative="greater").pvalue)
        rows.append({"facet": facet, "value": value, "recent": r, "before": b, "recent_total": rt,
                     "before_total": bt, "recent_share": rs, "before_share": bs, "growth": growth, "p_value": p,
                     "note": note})
    out = pd.DataFrame(rows, columns=columns[:-3] + ["note"])
    out["q_value"] = _bh(out["p_value"].to_numpy(dtype=float))
    out["rising"] = (out["q_value"] < alpha) & (out["recent_share"] > out["before_share"]) & (
        out["recent"] >= min_recent)
    out = out.sort_values(["rising", "p_value", "growth", "facet", "value"],
                          ascending=[False, True, False, True, True], na_position="last", kind="stable")
    return out.reset_index(drop=True)[columns]


@dataclass
class TrendsReport:
    """What ``rlmllm-graph trends`` shows: the papers considered, trends per facet, emerging values."""

    papers: pd.DataFrame
    labels: pd.DataFrame
    freq: str
    facets: list[str]
    paper_counts: pd.DataFrame
    trends: dict[str, pd.DataFrame] = field(default_factory=dict)
    emerging: pd.DataFrame = field(default_factory=pd.DataFrame)
    recent_months: int = 6
    undated: int = 0  # papers with neither a publication date nor a year: in no period, in no chart

    @property
    def has_before(self) -> bool:
        """Whether any labelled paper precedes the recent window (else there is no growth and no test)."""
        return bool(len(self.emerging)) and bool((self.emerging["before_total"] > 0).any())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``freq``, ``papers``, ``undated``, ``facets``, ``paper_counts``, ``trends`` {facet: rows},
        ``emerging``."""

        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            clean = df.astype(object).where(pd.notna(df), None)
            return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
                    for r in clean.to_dict(orient="records")]

        return {
            "freq": self.freq,
            "papers": int(len(self.papers)),
            "undated": int(self.undated),
            "facets": self.facets,
            "recent_months": self.recent_months,
            "paper_counts": rows(self.paper_counts),
            "trends": {f: rows(df) for f, df in self.trends.items()},
            "emerging": rows(self.emerging),
        }


def compute_trends_report(
    db: sqlite_utils.Database,
    *,
    facets: Sequence[str] | None = None,
    freq: str = "M",
    recent_months: int = 6,
    relevance: Sequence[str] | None = ("core", "related"),
    papers: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
) -> TrendsReport:
    """Load the database and compute every table ``trends`` shows.

    ``relevance`` selects the papers (default: core and related, when the
    database has relevance labels at all; ``None``: every paper). ``facets``
    defaults to every labelled facet except relevance, in vocabulary order.
    ``papers`` and ``labels`` are the store's frames of ``db`` when the caller
    has loaded them already.

    Raises
    ------
    EmptyGraph
        The database holds no papers.
    BadInput
        A facet that is neither in the vocabulary nor in the labels.
    """
    f = _norm_freq(freq)
    papers = store.load_papers(db) if papers is None else papers
    papers = papers[["paper_id", "title", "year", "publication_date", "venue", "citation_count", "arxiv_id", "url"]]
    if papers.empty:
        raise EmptyGraph(
            "nothing to chart: the database holds no papers yet "
            "(fill it with `rlmllm-graph refresh` or `rlmllm-graph import`)"
        )
    labels = store.load_labels(db) if labels is None else labels
    present = set(labels["facet"])
    if facets:
        unknown = [x for x in facets if x not in FACET_ORDER and x not in present]
        if unknown:
            raise BadInput(f"unknown facet {unknown[0]!r}: use one of {', '.join(FACET_ORDER)}")
        chosen = list(dict.fromkeys(facets))
    else:
        chosen = [x for x in FACET_ORDER if x in present and x != "relevance"]
        chosen += sorted(present - set(FACET_ORDER))
    selected = select_papers(papers, labels, relevance=relevance)
    paper_counts = compute_paper_counts(selected, freq=f)
    return TrendsReport(
        papers=selected,
        labels=labels[labels["paper_id"].isin(set(selected["paper_id"]))],
        freq=f,
        facets=chosen,
        paper_counts=paper_counts,
        trends={x: compute_trends(selected, labels, facet=x, freq=f) for x in chosen},
        emerging=compute_emerging(selected, labels, recent_months=recent_months,
                                  facets=chosen or None),
        recent_months=recent_months,
        undated=int(len(selected) - paper_counts["count"].sum()),
    )
