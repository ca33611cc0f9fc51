"""``fulltext``: fetch and store, by section, the text of the papers that matter."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ..config import DEFAULT_ARXIV_URL, resolve_settings
from ..fulltext import DEFAULT_RELEVANCE, FulltextProgress, FulltextReport, fetch_fulltext, parse_relevance
from ..sources import S2Client
from ..sources.arxiv import ARXIV_BACKOFF, ARXIV_PACE, ArxivClient, check_arxiv_url
from .common import cli, db_option, echo_json, json_option, open_database, progress_bar
from .crawl import _Seconds

__all__ = ["arxiv_env", "fulltext", "render_report", "run_fulltext"]


def arxiv_env() -> tuple[float, float, float]:
    """(pace, timeout, backoff) from RLMLLM_ARXIV_PACE, _TIMEOUT and _BACKOFF, for commands without those options."""
    pace = os.environ.get("RLMLLM_ARXIV_PACE")
    timeout = os.environ.get("RLMLLM_ARXIV_TIMEOUT")
    backoff = os.environ.get("RLMLLM_ARXIV_BACKOFF")
    return (
        _Seconds(0).convert(pace, None, None) if pace else ARXIV_PACE,
        _Seconds(0, open=True).convert(timeout, None, None) if timeout else 30.0,
        _Seconds(0).convert(backoff, None, None) if backoff else ARXIV_BACKOFF,
    )


def run_fulltext(
    db: Any, *, relevance: str | list[str], max_papers: int | None, refetch: bool, arxiv_url: str | None,
    pace: float, timeout: float, backoff: float = ARXIV_BACKOFF, api_url: str | None = None,
) -> FulltextReport:
    """Build the two clients and run :func:`fetch_fulltext` with a progress bar (shared with ``refresh --fulltext``)."""
    wanted = parse_relevance(relevance)  # a bad value is a usage error before anything is fetched
    root = check_arxiv_url(arxiv_url)
    settings = resolve_settings(api_url=api_url)
    ctx = click.get_current_context()
    arxiv = ArxivClient(root, pace=pace, timeout=timeout, backoff=backoff)
    ctx.call_on_close(arxiv.close)
    s2 = S2Client(settings.api_url, api_key=settings.api_key)
    ctx.call_on_close(s2.close)
    with progress_bar(1, "Fetching full text") as bar:
        bar.item_show_func = lambda s: s
        done = [0]

        def show(ev: FulltextProgress) -> None:
            bar.length = max(ev.total, 1)
            bar.update(ev.done - done[0], f"{ev.requests} requests, last {ev.paper_id[:12]}: {ev.status}")
            done[0] = ev.done

        return fetch_fulltext(
            db, arxiv, s2=s2, relevance=wanted, max_papers=max_papers, refetch=refetch,
            progress=show if sys.stderr.isatty() else None,
        )


def render_report(report: FulltextReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.as_dict())
        return
    for p in report.problems:  # one line each for what went wrong with a paper (missing papers are counted only)
        if p["status"] == "error":
            click.echo(f"warning: {p['error']}", err=True)
    if report.labelled == 0:
        click.echo(f"note: no paper is labelled relevance={','.join(report.relevance)}; "
                   "run 'rlmllm-graph classify' first", err=True)
    click.echo(report.summary())


@cli.command()
@db_option
@click.option("--relevance", default=",".join(DEFAULT_RELEVANCE), show_default=True, metavar="VALUES",
              help="Read the papers labelled with these relevance values (comma-separated: core, related, other).")
@click.option("--max-papers", type=click.IntRange(min=1), default=None,
              help="Fetch at most this many papers in this run (the rest wait for the next).")
@click.option("--refetch", is_flag=True, help="Fetch again papers already stored.")
@click.option("--arxiv-url", envvar="RLMLLM_ARXIV_URL", default=None, metavar="URL",
              help=f"arXiv root mirroring /html/<id> and /e-print/<id> (env RLMLLM_ARXIV_URL; default {DEFAULT_ARXIV_URL}).")
@json_option
@click.option("--pace", type=_Seconds(0), envvar="RLMLLM_ARXIV_PACE", default=ARXIV_PACE, show_default=True,
              help="Seconds between requests to arXiv (env RLMLLM_ARXIV_PACE); arXiv asks for 3.")
@click.option("--timeout", type=_Seconds(0, open=True), envvar="RLMLLM_ARXIV_TIMEOUT", default=30.0, hidden=True)
@click.option("--backoff", type=_Seconds(0), envvar="RLMLLM_ARXIV_BACKOFF", default=ARXIV_BACKOFF, hidden=True)
def fulltext(
    db_path: str, relevance: str, max_papers: int | None, refetch: bool, arxiv_url: str | None, as_json: bool,
    pace: float, timeout: float, backoff: float,
) -> None:
    """Fetch the text of the papers that matter and store it by section.

    For every paper labelled core or related (run classify first) that has no
    text yet: arXiv's HTML rendering, else its LaTeX source (the e-print), and
    for papers without an arXiv id, Semantic Scholar's snippet search. Text
    that is not the paper's (navigation, bibliography, captions, footnotes) is
    left out; one paper stores at most 300 KB of text.

    arXiv asks automated clients for one request at a time, about 3 s apart:
    100 papers take about 5 minutes. A run that is stopped resumes where it
    left off; a later run fetches only new papers (and retries failed ones).

    \b
    Examples:
      rlmllm-graph fulltext                          # core and related papers
      rlmllm-graph fulltext --relevance core --max-papers 50
      rlmllm-graph fulltext --refetch --json | jq .fetched
      RLMLLM_ARXIV_URL=http://127.0.0.1:8000 rlmllm-graph fulltext   # a mirror
    """
    parse_relevance(relevance)
    check_arxiv_url(arxiv_url)
    db = open_database(db_path)
    report = run_fulltext(db, relevance=relevance, max_papers=max_papers, refetch=refetch, arxiv_url=arxiv_url,
                          pace=pace, timeout=timeout, backoff=backoff)
    render_report(report, as_json)
