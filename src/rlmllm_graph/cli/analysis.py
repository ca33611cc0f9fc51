"""``graph`` and ``trends``: network metrics of the citation graph and tag trends over time."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import click

from .. import analysis, graph as graph_mod, plots, trends as trends_mod
from ..classify.vocabulary import FACETS
from ..errors import BadInput
from .common import cli, db_option, echo_json, json_option, open_database, refuse_database_path


def _short(text: Any, width: int = 72) -> str:
    s = " ".join(str(text or "(untitled)").split())
    return s if len(s) <= width else s[: width - 1] + "…"


@cli.command("graph")
@db_option
@json_option
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many papers (and communities, pairs, discoveries) to list.")
@click.option("--seed", type=click.IntRange(min=0), default=42, show_default=True,
              help="Seed of the community detection (0 or more).")
def graph_cmd(db_path: str, as_json: bool, top: int, seed: int) -> None:
    """Network metrics of the citation graph: PageRank, in-corpus citations,
    communities, co-citation, the main path (lineage) and discovery.

    Edges are citations between stored papers. Communities come from the
    Leiden algorithm (modularity, fixed seed) and are named from their tags
    and titles. Discovery lists papers not labelled core that are strongly
    co-cited with or coupled to core papers: what a survey may have missed.

    \b
    Examples:
      rlmllm-graph graph
      rlmllm-graph graph --top 50
      rlmllm-graph graph --json | jq '.top[0]'
      rlmllm-graph graph --json | jq '.communities[] | {name, size}'
    """
    db = open_database(db_path, create=False)
    G = graph_mod.build_citation_graph(db)
    report = analysis.compute_graph_report(G, top=top, seed=seed)
    if as_json:
        echo_json(report)
        return
    _render_graph(report, top)


def _render_graph(r: dict[str, Any], top: int) -> None:
    echo = click.echo
    echo(
        f"Citation graph: {r['nodes']} papers, {r['edges']} citations between them; "
        f"{r['n_communities']} communities, {r['unconnected']} papers unconnected; {r['core']} core papers"
    )
    echo("")
    echo(f"Top {len(r['top'])} papers by PageRank")
    echo(f"  {'#':>3}  {'pagerank':>8}  {'cited':>5}  {'comm':>4}  title")
    for i, p in enumerate(r["top"], 1):
        echo(f"  {i:>3}  {p['pagerank']:>8.5f}  {p['in_corpus_citations']:>5}  {p['community']:>4}  "
             f"{_short(p['title'])}")
    if r["communities"]:
        echo("")
        echo(f"Communities (largest {len(r['communities'])} of {r['n_communities']})")
        for c in r["communities"]:
            echo(f"  {c['id']:>3}  {c['name']}  ({c['size']} papers)")
            for p in c["top_papers"][:3]:
                echo(f"         · {_short(p['title'], 66)}")
    if r["lineage"]:
        echo("")
        echo(f"Lineage: the main path of the citation graph ({len(r['lineage'])} papers, earliest first)")
        for p in r["lineage"]:
            when = p.get("publication_date") or p.get("year") or "?"
            echo(f"  {str(when)[:7]:<7}  {_short(p['title'])}")
    if r["cocitation"]:
        echo("")
        echo("Most co-cited pairs (papers citing both)")
        for p in r["cocitation"][:top]:
            echo(f"  {p['weight']:>4}  {_short(p['title_a'], 40)}  +  {_short(p['title_b'], 40)}")
    if r["coupling"]:
        echo("")
        echo("Most coupled pairs with a core paper (references in common)")
        for p in r["coupling"][:top]:
            echo(f"  {p['weight']:>4}  {_short(p['title_a'], 40)}  +  {_short(p['title_b'], 40)}")
    echo("")
    if r["discovery"]:
        echo("Discovery: not core, but strongly co-cited with or coupled to core papers")
        echo(f"  {'score':>6}  {'rel':<8}  title")
        for p in r["discovery"]:
            echo(f"  {p['score']:>6.2f}  {(p['relevance'] or '-'):<8}  {_short(p['title'])}")
    else:
        echo("Discovery: nothing yet (needs core papers, i.e. `rlmllm-graph classify`, and citations around them)")


def _relevance_values(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...] | None:
    """``--relevance core,related`` → ``("core", "related")``; ``all`` → None (every paper)."""
    if value.strip().lower() == "all":
        return None
    values = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    if not values:
        raise click.BadParameter("needs at least one value, or 'all'")
    for v in values:
        if v not in FACETS["relevance"]:
            raise click.BadParameter(
                f"{v!r} is not a relevance label: use {', '.join(FACETS['relevance'])} (comma-separated), or 'all'"
            )
    return values


@cli.command("trends")
@db_option
@click.option("--facet", "facets", multiple=True, metavar="FACET",
              help="Facet to chart (repeatable; default every labelled facet): "
                   + ", ".join(analysis.FACET_ORDER) + ".")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write CSV tables and interactive HTML charts into this folder.")
@click.option("--freq", type=click.Choice(["M", "Q", "Y"], case_sensitive=False), default="M", show_default=True,
              help="Period: month, quarter or year.")
@click.option("--recent-months", type=click.IntRange(1, trends_mod.MAX_RECENT_MONTHS), default=6, show_default=True,
              help="Window of the emerging-values test, in months.")
@click.option("--relevance", default="core,related", show_default=True, callback=_relevance_values,
              help="Papers to count, by relevance label (comma-separated: "
                   + ", ".join(FACETS["relevance"]) + "), or 'all'.")
@json_option
def trends_cmd(db_path: str, facets: tuple[str, ...], out_dir: Path | None, freq: str, recent_months: int,
               relevance: tuple[str, ...] | None, as_json: bool) -> None:
    """Tag counts and shares over time, cumulative totals, and emerging values.

    A paper counts in the month of its publication date (January of its year
    when only the year is known). Shares are of all the period's papers, and
    the papers with no label in a facet are a "not stated" row of their own,
    so fewer papers stating an algorithm never reads as a trend. In facets
    where a paper can have several values (modality, algorithm, ...) shares
    add up to more than 100%.

    Emerging values are those whose share of the papers stating the facet
    rose in the last --recent-months months against all earlier months
    (one-sided Fisher exact test, Benjamini-Hochberg corrected); growth is the
    plain ratio of the two shares (x0 when no recent paper has the value,
    "new" when none before had it). With no paper before the window there is
    no growth and no test, and the output says so.

    \b
    Examples:
      rlmllm-graph trends
      rlmllm-graph trends --facet algorithm --facet reward
      rlmllm-graph trends --out trends/          # CSV + HTML charts (open trends/index.html)
      rlmllm-graph trends --freq Q --relevance all --json | jq '.emerging[0]'
    """
    db = open_database(db_path, create=False)
    report = trends_mod.compute_trends_report(db, facets=facets or None, freq=freq.upper(),
                                              recent_months=recent_months, relevance=relevance)
    written = _write_trends(report, out_dir, db_path) if out_dir is not None else []
    if as_json:
        out = report.as_dict()
        if written:
            out["files"] = [str(p) for p in written]
        echo_json(out)
        return
    _render_trends(report)
    if written:
        click.echo("")
        click.echo(f"Wrote {len(written)} files to {out_dir} (open {out_dir / 'index.html'})")


def _render_trends(rep: trends_mod.TrendsReport) -> None:
    echo = click.echo
    counts = rep.paper_counts
    span = f"{counts['period'].iloc[0]} to {counts['period'].iloc[-1]}" if len(counts) else "no dated papers"
    undated = f" ({rep.undated} without a date or year, left out of the periods)" if rep.undated else ""
    echo(f"{_papers(len(rep.papers))}, {span}{undated}")
    if not rep.facets or all(df.empty for df in rep.trends.values()):
        echo("No labels to chart yet: run `rlmllm-graph classify` first.")
        return
    recent_list = list(counts["period"].iloc[-_periods(rep.freq, rep.recent_months):])
    recent_periods = set(recent_list)
    window = recent_list[0] if len(recent_list) == 1 else f"{recent_list[0]} to {recent_list[-1]}"
    for facet in rep.facets:
        df = rep.trends[facet]
        echo("")
        if df.empty:
            echo(f"{facet}: no labelled papers")
            continue
        recent = df[df["period"].isin(recent_periods)]
        per_value = recent.groupby("value", sort=False)["count"].sum()
        rtotal = int(recent.drop_duplicates("period")["total"].sum())
        ptotal = int(df.drop_duplicates("period")["total"].sum())
        echo(f"{facet}: papers and share of all {ptotal}; recent ({window}): papers and share of the {rtotal}")
        if not plots.stacks_papers(df):
            echo("  (a paper can have several values: the shares add up to more than 100%)")
        for value, total in df.groupby("value", sort=False)["count"].sum().items():
            k = int(per_value.get(value, 0))
            share = f"{k / rtotal:>5.0%}" if rtotal else "    -"
            echo(f"  {str(value):<14} {int(total):>6} {total / ptotal if ptotal else 0:>5.0%}   {k:>5}  {share}")
    _render_emerging(rep)


def _papers(n: int) -> str:
    return f"{n} paper" if n == 1 else f"{n} papers"


def _render_emerging(rep: trends_mod.TrendsReport) -> None:
    echo = click.echo
    em = rep.emerging
    echo("")
    echo(f"Emerging in the last {rep.recent_months} months (share of the papers stating the facet, against before; "
         "growth = plain ratio of shares; one-sided Fisher test, BH-corrected):")
    if not len(em):
        echo("  nothing to compare: no labelled paper with a publication month")
        return
    if not rep.has_before:
        echo(f"  no papers before the last {rep.recent_months} months to compare with: no growth and no test")
        return
    rising = em[em["rising"]]
    if len(rising) == 0:
        echo("  nothing rises significantly")
    for r in rising.itertuples(index=False):
        echo(f"  {r.facet}={r.value}: {r.before_share:.0%} → {r.recent_share:.0%} "
             f"({plots._ratio_text(r.growth, r.note)}, {_papers(r.recent)} recent, q={r.q_value:.2g})")
    risers = em[(~em["rising"]) & (em["recent_share"] > em["before_share"])].head(3)
    for r in risers.itertuples(index=False):
        echo(f"  (not significant) {r.facet}={r.value}: {r.before_share:.0%} → {r.recent_share:.0%} "
             f"({plots._ratio_text(r.growth, r.note)}), p={_fmt_p(r.p_value)}")


def _fmt_p(p: float) -> str:
    return "n/a" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{p:.2g}"


def _periods(freq: str, months: int) -> int:
    return {"M": months, "Q": max(1, math.ceil(months / 3)), "Y": max(1, math.ceil(months / 12))}[freq]


def _write_trends(rep: trends_mod.TrendsReport, out: Path, db_path: str | None = None) -> list[Path]:
    """CSV tables + one HTML file per chart + index.html with them all; plotly.js inlined once as a file.

    Every file name is checked against the database (and its -wal/-shm/-journal) before anything is written.
    """
    from plotly.offline import get_plotlyjs

    tables: list[tuple[str, Any, bool]] = [("papers_per_period.csv", rep.paper_counts, False)]
    for facet, df in rep.trends.items():
        tables.append((f"trends_{_slug(facet)}.csv", df, False))
    tables.append(("emerging.csv", rep.emerging, False))
    x_range = plots.period_range(rep.paper_counts)  # one date axis for every chart over time
    figures: list[tuple[str, str, Any]] = [
        ("papers_per_period", "Papers over time",
         plots.plot_paper_counts(rep.paper_counts, x_range=x_range, undated=rep.undated)),
    ]
    for facet, df in rep.trends.items():
        figures.append((f"trends_{_slug(facet)}", f"{facet} over time",
                        plots.plot_trends(df, facet=facet, x_range=x_range)))
        figures.append((f"share_{_slug(facet)}", f"{facet}: share over time",
                        plots.plot_trends(df, facet=facet, measure="share", x_range=x_range)))
    figures.append(("emerging", "Emerging values", plots.plot_emerging(rep.emerging)))
    present = set(rep.labels["facet"])
    if {"modality", "algorithm"} <= present:
        table = trends_mod.compute_cooccurrence(rep.papers, rep.labels, row_facet="modality", col_facet="algorithm")
        tables.append(("cooccurrence_modality_algorithm.csv", table, True))
        figures.append(("heatmap", "Modality × algorithm",
                        plots.plot_heatmap(rep.papers, rep.labels, "modality", "algorithm")))
    timeline_facet = next((f for f in ("algorithm", "modality") if f in present), None)
    if timeline_facet:
        figures.append(("timeline", "Timeline of core papers",
                        plots.plot_timeline(rep.papers, rep.labels, facet=timeline_facet, x_range=x_range)))
    names = [t[0] for t in tables] + ["plotly.min.js"] + [f"{name}.html" for name, _, _ in figures] + ["index.html"]
    for name in names:
        refuse_database_path(out / name, db_path, option="--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BadInput(f"cannot create folder {out}: a file is in the way") from None
    written: list[Path] = []
    for name, df, index in tables:
        p = out / name
        df.to_csv(p, index=index)
        written.append(p)
    js = out / "plotly.min.js"
    js.write_text(get_plotlyjs(), encoding="utf-8")
    written.append(js)
    parts = []
    for name, title, fig in figures:
        p = out / f"{name}.html"
        fig.write_html(p, include_plotlyjs="directory", full_html=True)
        written.append(p)
        parts.append(f'<section><h2>{html.escape(title)}</h2>'
                     f'{fig.to_html(include_plotlyjs=False, full_html=False)}</section>')
    index = out / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>rlmllm-graph trends</title>"
        "<script src='plotly.min.js'></script><style>body{font-family:system-ui,sans-serif;max-width:1100px;"
        "margin:2em auto;padding:0 1em;color:#222}h2{font-size:1.1em;margin-top:2em}</style></head><body>"
        f"<h1>Trends</h1><p>{len(rep.papers)} papers; period: {html.escape(rep.freq)}. "
        "Tables: " + ", ".join(f"<a href='{p.name}'>{p.name}</a>" for p in written if p.suffix == ".csv")
        + "</p>" + "".join(parts) + "</body></html>",
        encoding="utf-8",
    )
    written.append(index)
    return written


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
