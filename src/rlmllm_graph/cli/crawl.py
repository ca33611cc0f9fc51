"""``refresh``: crawl the Semantic Scholar citation neighbourhood of the seeds into the database."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import click

from ..config import DEFAULT_API_URL, DEFAULT_SEED, resolve_settings
from ..crawl import DEFAULT_MAX_PAPERS, EXPAND_CHOICES, CrawlProgress, crawl
from ..errors import ApiUnreachable, BadInput
from ..queries import (
    DEFAULT_QUERY_PAGES,
    DEFAULT_QUERY_YEAR,
    default_queries,
    default_queries_text,
    format_queries,
    query_set,
)
from ..records import normalise_paper_id
from ..sources import S2Client
from .common import cli, db_option, echo_json, json_option, open_database, progress_bar


class _Seconds(click.ParamType):
    """A finite number of seconds, at least ``low`` (above it with ``open``): no inf, no nan."""

    name = "seconds"

    def __init__(self, low: float = 0.0, *, open: bool = False) -> None:  # noqa: A002
        self.low, self.open = low, open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value):
            x = value
        else:
            try:
                x = float(str(value).strip())
            except ValueError:
                x = math.nan
        ok = math.isfinite(x) and (x > self.low if self.open else x >= self.low)
        if not ok:
            bound = f"above {self.low:g}" if self.open else f"at least {self.low:g}"
            where = ""
            if ctx is not None and param is not None and param.name is not None and param.envvar:
                if ctx.get_parameter_source(param.name) == click.core.ParameterSource.ENVIRONMENT:
                    where = f" (from {param.envvar})"
            self.fail(f"{value!r}{where} is not a finite number of seconds {bound}", param, ctx)
        return x


@cli.command()
@click.option(
    "--seed", "seeds", multiple=True, default=(DEFAULT_SEED,), show_default=True, metavar="ID",
    help="Paper to start from (repeat for several): a Semantic Scholar id, ARXIV:…, DOI:…, CorpusId:… or an arXiv URL.",
)
@click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
              help="Citation hops from the seeds (1: their references and citers).")
@db_option
@click.option("--api-url", default=None, metavar="URL",
              help=f"Semantic Scholar API root (env S2_API_URL; default {DEFAULT_API_URL}); /graph/v1 is added.")
@click.option("--max-papers", type=click.IntRange(min=1), default=DEFAULT_MAX_PAPERS, show_default=True,
              help="The most papers one crawl takes in.")
@click.option("--expand", type=click.Choice(EXPAND_CHOICES), default="all", show_default=True,
              help="From depth 2 on, expand every paper, or only those the classifier marks relevance=core.")
@json_option
@click.option("--pace", type=_Seconds(0), envvar="RLMLLM_S2_PACE", default=None,
              help="Seconds between requests (env RLMLLM_S2_PACE; default 1 with S2_API_KEY, 3 without).")
@click.option("--backoff", type=_Seconds(0), envvar="RLMLLM_S2_BACKOFF", default=2.0, hidden=True)
@click.option("--timeout", type=_Seconds(0, open=True), envvar="RLMLLM_S2_TIMEOUT", default=30.0, hidden=True)
@click.option("--query", "queries", multiple=True, metavar="Q",
              help="A field query in Semantic Scholar's bulk-search syntax, run beside the default ones "
                   f"(repeatable; year filter {DEFAULT_QUERY_YEAR}).")
@click.option("--no-default-queries", is_flag=True, help="Leave the default field queries out.")
@click.option("--queries-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Field queries to run instead of the default ones (the format of --show-queries).")
@click.option("--query-year", default=None, metavar="RANGE",
              help="Year filter of every field query (2025, 2020-2024, 2023-; 'any' for none).")
@click.option("--query-pages", type=click.IntRange(min=1), default=DEFAULT_QUERY_PAGES, show_default=True,
              help="Pages of 1,000 hits read per field query at most.")
@click.option("--show-queries", is_flag=True, help="Print the field queries this refresh would run, and stop.")
@click.option("--fulltext", "with_fulltext", is_flag=True,
              help="Then classify, and fetch the text of core and related papers (see 'fulltext --help').")
@click.option("--offline", is_flag=True,
              help="Do not call the API: merge the snapshot bundled with rlmllm-graph into the database.")
@click.option("--offline-fallback", is_flag=True,
              help="Crawl, but if the API cannot be reached at all, say so and merge the bundled snapshot instead "
                   "(other API errors still fail); with --fulltext, an unreachable arXiv only skips the full text.")
def refresh(
    seeds: tuple[str, ...], depth: int, db_path: str, api_url: str, max_papers: int, expand: str, as_json: bool,
    pace: float | None, backoff: float, timeout: float, queries: tuple[str, ...], no_default_queries: bool,
    queries_file: str | None, query_year: str | None, query_pages: int, show_queries: bool, with_fulltext: bool,
    offline: bool, offline_fallback: bool,
) -> None:
    """Crawl the citation neighbourhood of the seeds from Semantic Scholar into the database.

    Depth 1 stores the seeds, every paper they cite, every paper citing them,
    and every citation edge among all of these. It uses the batch endpoint
    (500 papers a request) and pages of 1,000, retries throttled or failed
    requests, and prints the number of requests it made. A crawl that is
    interrupted resumes where it stopped when run again; on a database that
    already holds the crawl, it fetches what may have changed (new citers,
    new edges, updated metadata).

    Field queries find the field beyond the seeds' neighbours: a default set
    for RL-based reasoning in multimodal LLMs (--show-queries prints it) runs
    through Semantic Scholar's bulk search. Each hit is classified from its
    title and abstract: `other` hits are not stored, `related` ones are
    stored, `core` ones are stored and crawled like seeds. Every paper records
    how it was found (see `stats`).

    Set S2_API_KEY (sent as x-api-key, never stored) for the keyed rate limit
    of 1 request/s; without a key requests are spaced 3 s apart.

    \b
    Examples:
      rlmllm-graph refresh                                  # the survey, depth 1, and the default queries
      rlmllm-graph refresh --seed ARXIV:2503.06749 --seed ARXIV:2504.21277
      rlmllm-graph refresh --depth 2 --max-papers 5000 --expand core
      rlmllm-graph refresh --query '(GRPO | "policy optimization") + (audio | speech) + reason*'
      rlmllm-graph refresh --no-default-queries             # the seeds' neighbourhood only
      rlmllm-graph refresh --show-queries > my.txt && rlmllm-graph refresh --queries-file my.txt
      S2_API_KEY=... rlmllm-graph refresh --json | jq .requests
      rlmllm-graph refresh --fulltext                       # then classify and read core/related papers
      rlmllm-graph refresh --offline                        # no network: the bundled snapshot
      rlmllm-graph refresh --offline-fallback               # the snapshot only if the API is unreachable

    --offline loads the snapshot of the field bundled with rlmllm-graph (its date
    and counts: `rlmllm-graph refresh --offline --json`); a later refresh from
    the API merges into it (same paper, one row, matched by arXiv id or DOI).
    """
    if offline:
        _refuse_crawl_options_offline(offline_fallback)
        _load_snapshot(db_path, as_json)
        return
    seeds = tuple(normalise_paper_id(s) for s in seeds)  # a bad id is a usage error before anything opens
    if with_fulltext:  # a bad RLMLLM_ARXIV_URL or pace is a usage error before the crawl, not after it
        from .fulltext import arxiv_env
        from ..sources.arxiv import check_arxiv_url

        arxiv_pace, arxiv_timeout, arxiv_backoff = arxiv_env()
        arxiv_url = check_arxiv_url(os.environ.get("RLMLLM_ARXIV_URL") or None)
    # a bad query, query file or filter is a usage error before anything opens, too
    field_queries = query_set(queries, defaults=not no_default_queries, file=queries_file, year=query_year)
    if show_queries:
        if as_json:
            echo_json([q.as_dict() for q in field_queries])
        elif field_queries == default_queries():  # the shipped file, comments and all
            click.echo(default_queries_text(), nl=False)
        else:
            click.echo(format_queries(field_queries), nl=False)
        return
    # a bad --api-url, S2_API_URL, S2_API_KEY or --pace is a usage error before the database is touched
    settings = resolve_settings(db=db_path, api_url=api_url)
    client = S2Client(
        settings.api_url, api_key=settings.api_key, pace=pace, backoff=backoff, timeout=timeout,
    )
    ctx = click.get_current_context()
    ctx.call_on_close(client.close)
    db = open_database(db_path)
    with progress_bar(1, "Crawling") as bar:
        bar.item_show_func = lambda s: s
        done = [0]

        def show(ev: CrawlProgress) -> None:
            bar.length = max(ev.estimated_requests, ev.requests + (ev.phase != "done"), 1)
            text = f"{ev.requests} requests, {ev.papers} papers, {ev.edges} edges"
            if ev.requests > done[0]:
                bar.update(ev.requests - done[0], text)
            else:  # no new request (e.g. the end): redraw with the new total
                bar.current_item = text
                getattr(bar, "render_progress", lambda: None)()
            done[0] = ev.requests

        try:
            report = crawl(
                client, db, seeds=seeds, depth=depth, max_papers=max_papers, expand=expand,
                api_url=settings.api_url, progress=show if sys.stderr.isatty() else None,
                queries=field_queries, query_pages=query_pages,
            )
        except ApiUnreachable as exc:
            if not offline_fallback:
                raise
            unreachable = exc
        else:
            unreachable = None
    if unreachable is not None:
        from ..snapshot import snapshot_info

        click.echo(
            f"Cannot reach the Semantic Scholar API at {settings.api_url}: building the database from the bundled "
            f"snapshot of {snapshot_info().get('date')} instead" + (" (no full text without the network)."
                                                                     if with_fulltext else "."),
            err=True,
        )
        _load_snapshot(db_path, as_json, db=db, fallback=str(unreachable))
        return
    if with_fulltext:
        from ..classify import classify_database
        from .fulltext import render_report, run_fulltext

        classified = classify_database(db)
        try:
            text = run_fulltext(db, relevance="core,related", max_papers=None, refetch=False, arxiv_url=arxiv_url,
                                pace=arxiv_pace, timeout=arxiv_timeout, backoff=arxiv_backoff,
                                api_url=settings.api_url)
        except ApiUnreachable as exc:  # the crawl is stored; full text waits for the network
            if not offline_fallback:
                raise
            click.echo(f"No full text this time: {exc}", err=True)
            text = None
        if as_json:
            echo_json({**report.as_dict(), "classify": classified.as_dict(),
                       "fulltext": text.as_dict() if text is not None else None})
            return
        click.echo(report.summary())
        if text is not None:
            render_report(text, False)
        return
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(report.summary())


def _refuse_crawl_options_offline(fallback: bool) -> None:
    """--offline takes no crawl option: one given on the command line is a usage error, not silently ignored."""
    ctx = click.get_current_context()
    if fallback:
        raise BadInput("--offline and --offline-fallback: give one of them")
    given = [
        f"--{name.replace('_', '-')}"
        for name in ("seeds", "depth", "api_url", "max_papers", "expand", "pace", "queries", "no_default_queries",
                     "queries_file", "query_year", "query_pages", "show_queries", "with_fulltext")
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        names = ", ".join({"--seeds": "--seed", "--queries": "--query", "--with-fulltext": "--fulltext"}.get(g, g) for g in given)
        raise BadInput(f"--offline does not crawl, so it takes no {names}")


def _load_snapshot(db_path: str, as_json: bool, db: Any = None, fallback: str | None = None) -> None:
    from ..snapshot import load_snapshot

    report = load_snapshot(db if db is not None else open_database(db_path))
    if as_json:
        echo_json({"offline": True, "unreachable": fallback, **report.as_dict()})
        return
    click.echo(report.summary())
